"""The indicator store: the raw projections kept in a DuckDB file between runs (ADR 0008).

The first run (or any run after the database, a projection or the store's layout changed) extracts
every raw projection (:data:`jiayi.indicators.facts.RAW`) into a table ``raw_<name>`` of the file.
Later runs read the change log (:mod:`jiayi.core.change_capture`) from the watermark the store
recorded, and for each projection delete the rows that name a changed row id (its own id, or the id
of a joined row: :attr:`RawSpec.keys`) and insert those rows re-read from the database. Inserts,
updates, deletes and back-dated corrections all come down to "these ids changed": the result is what
a full extraction gives, which the tests check.

The store is valid only while the database still has the cursor the store registered with the mark
the store recorded: a restored or flushed database, or a test's rolled-back transaction, makes the next
run extract everything again. The data and the new watermark are committed in one DuckDB
transaction; the cursor is registered after it (a crash in between costs one full extraction).

One run at a time per file (an exclusive file lock held from opening until the backend is closed).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import ibis
import pyarrow as pa

from jiayi.core import change_capture
from jiayi.indicators.backends import DjangoDB, DuckDB
from jiayi.indicators.facts import RawSpec, _django_getter, _model, available_raw

__all__ = ["Store", "StoreBackend", "store_path"]

#: Bump when the layout of the store changes (every store is then extracted afresh).
VERSION = 1
#: When the changed ids of a projection exceed this share of its rows, it is re-read whole (one
#: ``COPY`` is cheaper than a filter with that many ids).
WHOLE_TABLE_SHARE = 0.2

Progress = Callable[[str], None] | None


def store_path() -> Path | None:
    """Where the store lives (``settings.JIAYI["INDICATOR_STORE"]``); None when it is off."""
    from django.conf import settings

    value = settings.JIAYI.get("INDICATOR_STORE")
    return Path(value) if value else None


def _identity(db: DjangoDB) -> str:
    settings = db._django.settings_dict
    parts = [db.vendor, str(settings.get("HOST") or ""), str(settings.get("PORT") or ""), str(settings["NAME"])]
    if db.vendor == "postgresql":
        with db._django.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            parts.append(str(cursor.fetchone()[0]))
    return "|".join(parts)


class StoreBackend(DuckDB):
    """DuckDB on the store's file; closing it releases the store's lock."""

    #: What opening the store did (set by the engine: tables read, seconds per step).
    sync_report: dict | None = None

    def __init__(self, path: Path, lock: IO) -> None:
        super().__init__(path=str(path))
        self._lock = lock
        self.fingerprint_cache: FingerprintCache | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


_FINGERPRINTS = ("CREATE TABLE IF NOT EXISTS _store_fingerprints "
                 "(key VARCHAR PRIMARY KEY, version VARCHAR, parts VARCHAR)")


class FingerprintCache:
    """Each raw table's fingerprint digests per as-of day, kept in the store under the table's version
    (a new version whenever the store changes the table), so an unchanged table is not scanned again."""

    def __init__(self, duck, versions: dict[str, str], native: bool) -> None:
        self._duck = duck
        self._versions = versions
        self._native = native
        self._version_of: dict[str, str] = {}
        duck.execute(_FINGERPRINTS)

    def key(self, name: str, days: list[int]) -> str | None:
        version = self._versions.get(name)
        if version is None:
            return None
        key = hashlib.sha256(json.dumps([name, version, days, self._native]).encode()).hexdigest()
        self._version_of[key] = f"{name}|{version}"
        return key

    def get(self, key: str) -> list | None:
        rows = self._duck.execute("SELECT parts FROM _store_fingerprints WHERE key = ?", [key]).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def put(self, key: str, parts: list) -> None:
        self._duck.execute("INSERT OR REPLACE INTO _store_fingerprints VALUES (?, ?, ?)",
                           [key, self._version_of[key], json.dumps(parts)])


class Store:
    def __init__(self, path: Path, *, whole_table_share: float = WHOLE_TABLE_SHARE) -> None:
        self.path = Path(path)
        self.whole_table_share = whole_table_share
        #: What the last synchronisation did, per projection: mode (full / changes / unchanged), rows read.
        self.report: dict[str, dict] = {}
        self.seconds: dict[str, float] = {}

    @property
    def consumer(self) -> str:
        return f"indicator-store:{socket.gethostname()}:{self.path.resolve()}"

    def open(self, db: DjangoDB, progress: Progress = None) -> tuple[StoreBackend, dict[str, ibis.Table]]:
        """Bring the store up to date with the database; returns the DuckDB backend on it (close it to
        release the lock) and the raw projections as its tables."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115 - closed by the backend
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            backend = StoreBackend(self.path, lock)
        except Exception:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
            raise
        try:
            names = self._sync(backend, db, progress)
        except Exception:
            backend.close()
            raise
        duck = backend.con.con
        versions = {k.removeprefix("version:"): v for k, v in duck.execute(
            "SELECT key, value FROM _store_meta WHERE key LIKE 'version:%'").fetchall()}
        backend.fingerprint_cache = FingerprintCache(duck, versions, backend.native_hash)
        return backend, {name: backend.table(f"raw_{name}") for name in names}

    # -- synchronisation -----------------------------------------------------------------------

    def _sync(self, backend: StoreBackend, db: DjangoDB, progress: Progress) -> list[str]:
        duck = backend.con.con
        connection = db._django
        self.report, self.seconds = {}, {}
        t0 = time.perf_counter()
        duck.execute("CREATE TABLE IF NOT EXISTS _store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        meta = dict(duck.execute("SELECT key, value FROM _store_meta").fetchall())
        identity = _identity(db)
        # Taken before anything is read: whatever commits from now on is read again next time.
        mark = change_capture.watermark(connection)
        previous = meta.get("mark")
        valid = (
            meta.get("version") == str(VERSION) and meta.get("identity") == identity and previous is not None
            and change_capture.registered(self.consumer) == previous
        )
        specs = available_raw()
        captured = {label for spec in specs.values() for label in (*spec.models, *spec.keys)}
        table_of = {label: _model(label)._meta.db_table for label in captured}
        changes = {}
        if valid:
            since = change_capture.Watermark.parse(previous)
            changes = change_capture.changes_since(connection, since, sorted(set(table_of.values())))
        self.seconds["changes"] = round(time.perf_counter() - t0, 3)
        existing = {row[0] for row in duck.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        getter = _django_getter(db)
        t0 = time.perf_counter()
        duck.execute("BEGIN TRANSACTION")
        try:
            for name, spec in specs.items():
                expr = spec.build(getter)
                signature = hashlib.sha256(
                    json.dumps([VERSION, dict(spec.schema), str(db.con.compile(expr))]).encode()
                ).hexdigest()
                table = f"raw_{name}"
                if not valid or meta.get(f"signature:{name}") != signature or table not in existing:
                    self._replace(duck, db, spec, expr, table)
                else:
                    self._apply(duck, db, spec, expr, table, changes, table_of)
                if self.report[name]["mode"] != "unchanged" or f"version:{name}" not in meta:
                    self._meta(duck, f"version:{name}", f"{mark.token()}|{signature}")
                self._meta(duck, f"signature:{name}", signature)
                if progress is not None:
                    progress(name)
            self._meta(duck, "version", str(VERSION))
            self._meta(duck, "identity", identity)
            self._meta(duck, "mark", mark.token())
            # Digests of table versions that no longer exist are never asked for again.
            duck.execute(_FINGERPRINTS)
            duck.execute(
                "DELETE FROM _store_fingerprints WHERE version NOT IN (SELECT substr(key, 9) || '|' || value "
                "FROM _store_meta WHERE key LIKE 'version:%')"
            )
            duck.execute("COMMIT")
        except Exception:
            duck.execute("ROLLBACK")
            raise
        self.seconds["apply"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        change_capture.register(self.consumer, mark)
        change_capture.prune(connection)
        self.seconds["register"] = round(time.perf_counter() - t0, 3)
        return list(specs)

    @staticmethod
    def _meta(duck, key: str, value: str) -> None:
        duck.execute("INSERT OR REPLACE INTO _store_meta VALUES (?, ?)", [key, value])

    def _replace(self, duck, db: DjangoDB, spec: RawSpec, expr: ibis.Table, table: str) -> None:
        data = db.extract(expr, spec.schema)
        duck.register("_jiayi_fresh", data)
        try:
            duck.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM _jiayi_fresh')
        finally:
            duck.unregister("_jiayi_fresh")
        self.report[spec.name] = {"mode": "full", "rows_read": data.num_rows}

    def _apply(self, duck, db: DjangoDB, spec: RawSpec, expr: ibis.Table, table: str,
               changes: dict[str, set[int]], table_of: dict[str, str]) -> None:
        keys = {spec.models[0]: (spec.id_column,), **spec.keys}
        unkeyed = [m for m in (*spec.models, *spec.keys) if m not in keys and changes.get(table_of[m])]
        wanted = [(col, sorted(ids)) for model, cols in keys.items() for col in cols
                  if (ids := changes.get(table_of[model]))]
        if not unkeyed and not wanted:
            self.report[spec.name] = {"mode": "unchanged", "rows_read": 0}
            return
        rows = duck.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
        if unkeyed or sum(len(ids) for _c, ids in wanted) > self.whole_table_share * max(rows, 1):
            self._replace(duck, db, spec, expr, table)
            return
        cond = None
        for col, ids in wanted:
            part = expr[col].isin(ids)
            cond = part if cond is None else cond | part
        fresh = db.extract(expr.filter(cond), spec.schema)
        for col, ids in wanted:
            duck.register("_jiayi_ids", pa.table({"id": pa.array(ids, pa.int64())}))
            try:
                duck.execute(f'DELETE FROM "{table}" WHERE "{col}" IN (SELECT id FROM _jiayi_ids)')
            finally:
                duck.unregister("_jiayi_ids")
        duck.register("_jiayi_fresh", fresh)
        try:
            duck.execute(f'INSERT INTO "{table}" SELECT * FROM _jiayi_fresh')
        finally:
            duck.unregister("_jiayi_fresh")
        self.report[spec.name] = {"mode": "changes", "rows_read": fresh.num_rows,
                                  "ids": sum(len(ids) for _c, ids in wanted)}


@contextlib.contextmanager
def opened(db: DjangoDB, progress: Progress = None):
    """The store at :func:`store_path` opened and synchronised (for scripts and tests)."""
    path = store_path()
    if path is None:
        raise RuntimeError("the indicator store is off (JIAYI_INDICATOR_STORE is empty)")
    backend, raw = Store(path).open(db, progress)
    try:
        yield backend, raw
    finally:
        backend.close()

"""A local columnar copy of the raw projections, refreshed block by block from PostgreSQL.

DuckDB and Spark read the raw projections (:data:`jiayi.indicators.facts.RAW`) as Arrow, streamed out
of the database on every run. When the database is on another host, most of a nightly run is spent
moving rows that did not change since yesterday. The snapshot keeps the last extraction on disk (one
Arrow IPC file per table and block of 65,536 row ids) with a checksum of every block; a run asks the
database for the checksums only (one aggregate query per table: a few hundred rows cross the network),
re-extracts the blocks whose checksum changed and deletes the blocks that disappeared.

PostgreSQL only, and off unless ``JIAYI_INDICATOR_SNAPSHOT_DIR`` is set (ADR 0007): the checksum
query costs about as much as a local ``COPY`` of the same rows, so on one machine it saves little,
and SQLite (always local, with no hash function) is read directly.

Checksums: row count, sum of row ids and a sum of per-row hashes per block; PostgreSQL hashes the
whole projected row (``hash_record``; ``hashtext`` of its text before version 14). The checksum
method, the compiled projection and the database identity are part of the manifest: changing any of
them starts afresh.

A refresh holds an exclusive file lock (one writer at a time); files are written to a temporary
name and renamed, and the manifest is written last, so an interrupted run leaves a consistent copy
(at worst blocks that the next run re-extracts).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from jiayi.indicators.backends import DjangoDB, arrow_schema
from jiayi.indicators.facts import RawSpec, _django_getter, available_raw

__all__ = ["BLOCK", "Snapshot", "snapshot_dir"]

#: Row ids per block.
BLOCK = 1 << 16
#: Bump when the file layout or the checksum changes (every snapshot is rebuilt).
VERSION = 1


def snapshot_dir() -> Path | None:
    """Where the snapshot lives (``settings.JIAYI["INDICATOR_SNAPSHOT_DIR"]``); None when it is off."""
    from django.conf import settings

    value = settings.JIAYI.get("INDICATOR_SNAPSHOT_DIR")
    return Path(value) if value else None


# ---------------------------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------------------------


def _checksums(db: DjangoDB, spec: RawSpec, expr: ibis.Table) -> dict[int, list[int]]:
    """Block -> [rows, sum of ids, sum of row hashes], computed in the database."""
    id_col = spec.id_column
    sql = str(db.con.compile(expr))
    query = (
        f'SELECT ("{id_col}" / {BLOCK})::bigint AS b, count(*), sum("{id_col}"), '
        f"sum({_row_hash(db)}::bigint) FROM ({sql}) AS t GROUP BY 1"
    )
    with db._django.connection.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
    return {int(b): [int(n), int(ids or 0), int(mix or 0)] for b, n, ids, mix in rows}


def _row_hash(db: DjangoDB) -> str:
    # hash_record (PostgreSQL 14+) hashes the row without printing it; older servers hash its text.
    return "hash_record(t)" if db._django.pg_version >= 140000 else "hashtext(t::text)"


def _database_identity(db: DjangoDB) -> str:
    settings = db._django.settings_dict
    parts = [db.vendor, str(settings.get("HOST") or ""), str(settings.get("PORT") or ""), str(settings["NAME"])]
    with db._django.connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        parts.append(str(cursor.fetchone()[0]))
    return "|".join(parts)


# ---------------------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------------------


class Snapshot:
    """The on-disk copy under ``root``: ``<database>/<table>/<block>.arrow`` and a ``manifest.json`` per
    table (``<database>`` is a digest of the database's identity, so several databases share a root)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        #: What the last refresh did, per table: blocks kept, re-extracted, deleted; rows read.
        self.report: dict[str, dict[str, int]] = {}

    @staticmethod
    def supports(db: DjangoDB) -> bool:
        return db.vendor == "postgresql"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def refresh(self, db: DjangoDB, progress: Callable[[str], None] | None = None) -> dict[str, pa.Table]:
        """Bring the copy up to date with the database and return every raw table as Arrow."""
        if not self.supports(db):
            raise ValueError(f"the indicator snapshot needs PostgreSQL, not {db.vendor}")
        getter = _django_getter(db)
        identity = _database_identity(db)
        base = self.root / hashlib.sha256(identity.encode()).hexdigest()[:16]
        out: dict[str, pa.Table] = {}
        self.report = {}
        with self._lock():
            for name, spec in available_raw().items():
                out[name] = self._refresh_table(db, base / name, spec, spec.build(getter), identity)
                if progress is not None:
                    progress(name)
        return out

    def _refresh_table(self, db: DjangoDB, folder: Path, spec: RawSpec, expr: ibis.Table, identity: str) -> pa.Table:
        folder.mkdir(parents=True, exist_ok=True)
        signature = hashlib.sha256(json.dumps(
            [VERSION, _row_hash(db), identity, dict(spec.schema), str(db.con.compile(expr))]
        ).encode()).hexdigest()
        manifest_path = folder / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        if manifest.get("signature") != signature:
            manifest = {"signature": signature, "blocks": {}}
        known: dict[str, list[int]] = manifest["blocks"]
        current = {str(b): c for b, c in _checksums(db, spec, expr).items()}
        changed = sorted(
            int(b) for b, c in current.items() if known.get(b) != c or not (folder / f"{b}.arrow").exists()
        )
        gone = [b for b in known if b not in current]
        rows_read = 0
        if changed:
            fresh = db.extract(self._blocks_filter(spec, expr, changed, len(current)), spec.schema)
            rows_read = fresh.num_rows
            self._write_blocks(folder, spec, fresh, changed)
        for b in gone:
            (folder / f"{b}.arrow").unlink(missing_ok=True)
        manifest["blocks"] = current
        tmp = folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, manifest_path)
        self.report[spec.name] = {"blocks": len(current), "extracted": len(changed), "deleted": len(gone),
                             "rows_read": rows_read}
        return self._read(folder, spec, sorted(int(b) for b in current))

    @staticmethod
    def _blocks_filter(spec: RawSpec, expr: ibis.Table, blocks: list[int], total: int) -> ibis.Table:
        if len(blocks) * 2 > total:
            return expr  # most of the table changed (or the first run): read it whole
        id_col = expr[spec.id_column]
        ranges: list[list[int]] = []
        for b in blocks:
            if ranges and ranges[-1][1] == b:
                ranges[-1][1] = b + 1
            else:
                ranges.append([b, b + 1])
        cond = None
        for lo, hi in ranges:
            part = (id_col >= lo * BLOCK) & (id_col < hi * BLOCK)
            cond = part if cond is None else cond | part
        return expr.filter(cond)

    @staticmethod
    def _write_blocks(folder: Path, spec: RawSpec, table: pa.Table, blocks: list[int]) -> None:
        id_col = spec.id_column
        block_of = pc.divide(table.column(id_col), pa.scalar(BLOCK, pa.int64())) if table.num_rows else None
        for b in blocks:
            part = table.filter(pc.equal(block_of, b)) if block_of is not None else table.slice(0, 0)
            tmp = folder / f"{b}.arrow.tmp"
            feather.write_feather(part, tmp, compression="lz4")
            os.replace(tmp, folder / f"{b}.arrow")

    @staticmethod
    def _read(folder: Path, spec: RawSpec, blocks: list[int]) -> pa.Table:
        schema = arrow_schema(spec.schema)
        parts = [feather.read_table(folder / f"{b}.arrow") for b in blocks]
        if not parts:
            return schema.empty_table()
        return pa.concat_tables(parts).cast(schema)

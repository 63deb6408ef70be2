"""Bulk loading of column arrays into the Django database, bypassing model ``save()``.

PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` through psycopg 3, the CSV written by pyarrow
(C++, fast). SQLite: multi-row ``INSERT`` statements through ``executemany`` in the caller's
transaction. Writes run on a background thread so that the next stage's arrays are computed while
the database works (two cores: numpy on one, the database on the other); ``flush()`` waits for the
writer and re-raises its error, and every stage calls it before touching the database through the
ORM. The whole load is one transaction, so a failure leaves the database as it was.

Rows get explicit primary keys allocated here (``max(id) + 1`` onwards), so that foreign keys can
be computed in numpy without a round trip; PostgreSQL identity sequences are moved past them at the
end. Column values are numpy arrays or lists; ``None`` / ``NaN`` / ``NaT`` are NULL.

Callers are responsible for the content satisfying every model constraint: the loader does not
validate (the database still enforces NOT NULL, UNIQUE, CHECK and foreign keys).
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from itertools import chain, islice
from typing import Any

import numpy as np
from django.db import connection as default_connection

CHUNK_ROWS = 200_000
#: Rows per SQLite INSERT statement (fewer statements, same parameters).
SQLITE_ROWS_PER_STATEMENT = 20
#: Tables receiving at least this many rows in one call have their secondary indexes (and, on
#: PostgreSQL, foreign-key constraints) dropped for the load and rebuilt in ``finish()``; rebuilding
#: from sorted data is several times faster than maintaining them row by row. Everything happens in
#: the load transaction, so a failure leaves the schema as it was.
DEFER_INDEXES_ROWS = 20_000


def nullable(values: Any, valid: np.ndarray) -> np.ndarray:
    """An object column of Python scalars with None where ``valid`` is False (nullable FKs, booleans)."""
    out = np.asarray(values).astype(object)
    out[~np.asarray(valid, dtype=bool)] = None
    return out


def _is_datetime64(a: Any) -> bool:
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.datetime64)


class Loader:
    """Writes tables for one synth run on one connection (inside the caller's transaction)."""

    def __init__(self, connection=None, *, progress=None, background: bool = True) -> None:
        self.connection = connection or default_connection
        self.vendor = self.connection.vendor
        self.progress = progress  # callable(table, rows) or None
        self.loaded: dict[str, int] = {}
        self.seconds: dict[str, float] = {}  # time spent writing each table (and rebuilding indexes)
        self._next: dict[str, int] = {}
        self._deferred: dict[str, list[str]] = {}  # table -> DDL to run in finish()
        self.connection.ensure_connection()
        self._raw = self.connection.connection
        self._background = background
        self._queue: queue.Queue = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        self._aborted = False
        self._thread: threading.Thread | None = None

    # -- ids ---------------------------------------------------------------------------------

    def next_id(self, table: str) -> int:
        """The first free primary key of ``table`` (kept across calls in this run)."""
        if table not in self._next:
            self.flush()
            with self.connection.cursor() as cur:
                cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                self._next[table] = int(cur.fetchone()[0]) + 1
        return self._next[table]

    def prefetch_ids(self, tables: Sequence[str]) -> None:
        """Read the first free id of every table up front (so allocating never waits for the writer)."""
        for table in tables:
            self.next_id(table)

    def allocate(self, table: str, n: int) -> np.ndarray:
        start = self.next_id(table)
        self._next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)

    # -- value conversion --------------------------------------------------------------------

    def timestamps(self, utc_seconds: np.ndarray) -> np.ndarray:
        """UTC instants (datetime64) as the text each backend stores for a DateTimeField."""
        s = np.datetime_as_string(utc_seconds.astype("datetime64[s]"), unit="s")
        s = np.char.replace(s, "T", " ").astype(object)
        if self.vendor == "postgresql":
            s = s + "+00"
        return s

    @staticmethod
    def _sqlite_values(col: Any) -> list:
        if isinstance(col, list):
            if col and isinstance(col[0], np.generic):  # numpy scalars cannot be bound
                return np.asarray(col).tolist()
            return col
        a = np.asarray(col)
        if _is_datetime64(a):
            s = np.datetime_as_string(a.astype("datetime64[D]"), unit="D").astype(object)
            s[np.isnat(a)] = None
            return s.tolist()
        if a.dtype == bool:
            return a.astype(np.int8).tolist()
        if np.issubdtype(a.dtype, np.floating):
            out = a.astype(object)
            out[np.isnan(a)] = None
            return out.tolist()
        return a.tolist()

    @staticmethod
    def _arrow(col: Any):
        import pyarrow as pa

        if isinstance(col, list):
            return pa.array(col)
        a = np.asarray(col)
        if _is_datetime64(a):
            return pa.array(a.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(a))
        if a.dtype == object:
            return pa.array(a, from_pandas=True)
        if np.issubdtype(a.dtype, np.floating):
            return pa.array(a, from_pandas=True)
        return pa.array(a)

    # -- writing -----------------------------------------------------------------------------

    def insert(self, table: str, columns: Mapping[str, Sequence | np.ndarray]) -> int:
        """Queue ``columns`` (name -> values) for insertion into ``table``; returns the row count."""
        n = len(next(iter(columns.values()))) if columns else 0
        for k, v in columns.items():
            if len(v) != n:
                raise ValueError(f"{table}.{k}: {len(v)} values, expected {n}")
        if n == 0:
            return 0
        self.loaded[table] = self.loaded.get(table, 0) + n
        job = (table, dict(columns), n)
        if not self._background:
            self._write(*job)
            return n
        self._raise_pending()
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name="synth-writer", daemon=True)
            self._thread.start()
        self._queue.put(job)
        return n

    def flush(self) -> None:
        """Wait until every queued write is done; re-raise a writer error."""
        if self._thread is not None:
            self._queue.join()
        self._raise_pending()

    def abort(self) -> None:
        """Stop the writer after its current job, dropping the queued ones (the caller rolls back)."""
        self._aborted = True
        self.close()
        self._error = None

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._aborted:  # after a failure, drain without writing
                    self._write(*job)
            except BaseException as exc:  # re-raised in the main thread by flush()
                self._error = exc
            finally:
                self._queue.task_done()

    def _write(self, table: str, columns: dict, n: int) -> None:
        t0 = time.perf_counter()
        if n >= DEFER_INDEXES_ROWS and table not in self._deferred:
            self._defer_indexes(table)
        names = list(columns)
        for start in range(0, n, CHUNK_ROWS):
            stop = min(n, start + CHUNK_ROWS)
            chunk = {k: v[start:stop] for k, v in columns.items()}
            if self.vendor == "postgresql":
                self._copy(table, names, chunk)
            else:
                self._executemany(table, names, chunk, stop - start)
            if self.progress:
                self.progress(table, stop - start)
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - t0

    def _executemany(self, table: str, names: list[str], chunk: Mapping[str, Any], n: int) -> None:
        cols = [self._sqlite_values(chunk[k]) for k in names]
        head = 'INSERT INTO "{}" ({}) VALUES '.format(table, ", ".join(f'"{c}"' for c in names))
        row = "({})".format(", ".join("?" * len(names)))
        per = SQLITE_ROWS_PER_STATEMENT
        rows = zip(*cols, strict=True)
        full = n // per
        if full:
            batches = (tuple(chain.from_iterable(islice(rows, per))) for _ in range(full))
            self._raw.executemany(head + ", ".join([row] * per), batches)
        rest = n - full * per
        if rest:
            self._raw.executemany(head + row, islice(rows, rest))

    def _copy(self, table: str, names: list[str], chunk: Mapping[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        t = pa.table({k: self._arrow(chunk[k]) for k in names})
        buf = io.BytesIO()
        pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, batch_size=65536))
        cols = ", ".join(f'"{c}"' for c in names)
        with self._raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN (FORMAT csv)') as copy:
            copy.write(buf.getbuffer())

    def _execute(self, sql: str, params: Sequence | None = None) -> list:
        """Run one statement on the raw connection (usable from the writer thread)."""
        if self.vendor == "sqlite":
            cur = self._raw.execute(sql.replace("%s", "?"), params or ())
            rows = cur.fetchall()
            cur.close()
            return rows
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    # -- deferred indexes --------------------------------------------------------------------

    def _defer_indexes(self, table: str) -> None:
        restore: list[str] = []
        if self.vendor == "sqlite":
            for name, sql in self._execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            ):
                self._execute(f'DROP INDEX "{name}"')
                restore.append(sql)
        elif self.vendor == "postgresql":
            # Pending deferred FK checks would block ALTER TABLE: run them now.
            self._execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._execute("SET CONSTRAINTS ALL DEFERRED")
            for name, definition in self._execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [f'"{table}"'],
            ):
                self._execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            # Unique constraints are rebuilt in bulk too (re-adding them checks uniqueness again).
            for name, definition in self._execute(
                "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)",
                [f'"{table}"'],
            ):
                self._execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                restore.insert(0, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for name, definition in self._execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [f'"{table}"'],
            ):
                self._execute(f'DROP INDEX "{name}"')
                restore.insert(0, definition)
        self._deferred[table] = restore

    def restore_indexes(self) -> None:
        self.flush()
        if self.vendor == "postgresql" and self._deferred:
            self._execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._execute("SET CONSTRAINTS ALL DEFERRED")
        for table, statements in self._deferred.items():
            t0 = time.perf_counter()
            for sql in statements:
                self._execute(sql)
            self.seconds[f"{table} (indexes)"] = time.perf_counter() - t0
            if self.progress:
                self.progress(f"{table} indexes", 0)
        self._deferred.clear()

    # -- before / after ----------------------------------------------------------------------

    def begin(self) -> None:
        """Session settings for a fast load (call inside the transaction)."""
        if self.vendor == "sqlite":
            self._execute("PRAGMA cache_size=-400000")
            self._execute("PRAGMA temp_store=MEMORY")
            self._execute("PRAGMA threads=2")  # multi-threaded sorter for the index rebuilds
        elif self.vendor == "postgresql":
            self._execute("SET LOCAL synchronous_commit = off")
            self._execute("SET LOCAL maintenance_work_mem = '256MB'")

    def finish(self) -> None:
        """Rebuild deferred indexes and constraints; move identity sequences past the loaded ids."""
        self.restore_indexes()
        self.close()
        if self.vendor == "postgresql":
            for table in self.loaded:
                self._execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )

    def analyze(self) -> None:
        """Planner statistics for the loaded tables (after the load transaction)."""
        if self.vendor == "postgresql":
            for table in self.loaded:
                self._execute(f'ANALYZE "{table}"')
        elif self.vendor == "sqlite":
            self._execute("PRAGMA analysis_limit=2000")
            for table in self.loaded:
                self._execute(f'ANALYZE "{table}"')

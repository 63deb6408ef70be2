"""Where the indicator expressions run: the Django database itself, DuckDB, or Apache Spark.

Every backend exposes the same three things to :mod:`jiayi.indicators.facts`: the raw source tables
as ibis tables, a way to load a small Arrow table (org dimensions, evaluation windows), and a way to
run an expression into Arrow. The indicator definitions never know which backend they run on.

- ``db`` runs on the Django connection (SQLite or PostgreSQL) through ibis, inside the caller's
  transaction, so it sees exactly what Django sees (tests included).
- ``duckdb`` and ``spark`` receive the raw tables as Arrow: the raw projections are compiled by ibis
  for the Django database and streamed out (``COPY ... TO STDOUT`` on PostgreSQL, the sqlite3 cursor
  on SQLite). DuckDB's own sqlite/postgres scanners are not used: they are extensions downloaded at
  run time, and health networks have no internet.
- ``spark`` (:mod:`jiayi.indicators.spark`) writes those Arrow tables as Parquet by month for its
  executors; its master and resources come from the settings.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import io
import itertools
from collections.abc import Mapping
from typing import Any

import ibis
import pyarrow as pa

__all__ = ["ArrowBackend", "Backend", "DjangoDB", "DuckDB", "connect"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
}

_names = itertools.count(1)


def _tmp_name(prefix: str) -> str:
    return f"_jiayi_{prefix}_{next(_names)}"


def arrow_schema(schema: Mapping[str, str]) -> pa.Schema:
    return pa.schema([(name, _ARROW_TYPES[dtype]) for name, dtype in schema.items()])


class Backend(abc.ABC):
    """Common interface; see the module docstring."""

    name: str = ""
    #: Whether fingerprints may use the engine's own row hash (fast, but only comparable with itself).
    native_hash: bool = False
    con: Any
    _cached: list[ibis.Table]

    @abc.abstractmethod
    def table(self, name: str) -> ibis.Table:
        """A table of this backend by name."""

    @abc.abstractmethod
    def load(self, name: str, data: pa.Table) -> ibis.Table:
        """Make ``data`` available as a table on this backend."""

    def to_arrow(self, expr: ibis.Table) -> pa.Table:
        return expr.to_pyarrow()

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialise an expression that several indicators read (released in ``close``)."""
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def close(self) -> None:
        for cached in reversed(getattr(self, "_cached", [])):
            # A temporary table that cannot be dropped is gone with the session anyway.
            with contextlib.suppress(Exception):
                cached.release()
        self._cached = []


# ---------------------------------------------------------------------------------------------
# The Django database
# ---------------------------------------------------------------------------------------------


@functools.cache
def _sqlite_backend_class():
    # Built on first use: ibis' SQLite backend imports pandas, too slow for every process start.
    from ibis.backends.sqlite import Backend as SQLiteBackend

    class DjangoSQLite(SQLiteBackend):
        """ibis' SQLite backend on Django's connection, without ibis' own commits (they would end the
        caller's transaction: a test's, or a request's atomic block)."""

        @contextlib.contextmanager
        def begin(self):
            cur = self.con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    return DjangoSQLite



class DjangoDB(Backend):
    """ibis on Django's own connection (SQLite or PostgreSQL), inside the current transaction."""

    name = "db"

    def __init__(self, alias: str = "default") -> None:
        from django.db import connections

        self._django = connections[alias]
        self._django.ensure_connection()
        raw = self._django.connection
        self.vendor = self._django.vendor
        if self.vendor == "sqlite":
            self.con = _sqlite_backend_class().from_connection(raw)
            # ibis turns on case-sensitive LIKE; Django's icontains on this connection needs it off.
            raw.execute("PRAGMA case_sensitive_like = OFF")
        elif self.vendor == "postgresql":
            self.con = ibis.postgres.from_connection(raw)
        else:
            raise RuntimeError(f"the indicator engine does not support the {self.vendor} database")
        self._temp: list[str] = []

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    # Temporary tables are created through Django's cursor: ibis' own create_table commits on SQLite,
    # which would end the caller's transaction (a test's, or a request's atomic block).

    def _sql_type(self, dtype) -> str:
        if dtype.is_integer():
            return "BIGINT"
        if dtype.is_floating() or dtype.is_decimal():
            return "DOUBLE PRECISION" if self.vendor == "postgresql" else "DOUBLE"
        if dtype.is_boolean():
            return "BOOLEAN"
        return "TEXT"

    def _create_temp(self, name: str, schema) -> None:
        cols = ", ".join(f'"{col}" {self._sql_type(dtype)}' for col, dtype in schema.items())
        with self._django.cursor() as cursor:
            cursor.execute(f'CREATE TEMPORARY TABLE "{name}" ({cols})')
        self._temp.append(name)

    def load(self, name: str, data: pa.Table) -> ibis.Table:
        tmp = _tmp_name(name)
        self._create_temp(tmp, ibis.Schema.from_pyarrow(data.schema))
        if data.num_rows:
            marks = ", ".join(["%s"] * data.num_columns)
            rows = list(zip(*[col.to_pylist() for col in data.columns], strict=True))
            with self._django.cursor() as cursor:
                cursor.executemany(f'INSERT INTO "{tmp}" VALUES ({marks})', rows)
        return self.con.table(tmp)

    def cache(self, expr: ibis.Table) -> ibis.Table:
        tmp = _tmp_name("cache")
        schema = expr.schema()
        self._create_temp(tmp, schema)
        cols = ", ".join(f'"{c}"' for c in schema.names)
        with self._django.cursor() as cursor:
            cursor.execute(f'INSERT INTO "{tmp}" ({cols}) {self.con.compile(expr)}')
            if self.vendor == "postgresql":
                # Temporary tables get no statistics by themselves; without them the planner guesses.
                cursor.execute(f'ANALYZE "{tmp}"')
        return self.con.table(tmp)

    def to_arrow(self, expr: ibis.Table) -> pa.Table:
        return self.con.to_pyarrow(expr)

    def close(self) -> None:
        with self._django.cursor() as cursor:
            for tmp in reversed(self._temp):
                cursor.execute(f'DROP TABLE IF EXISTS "{tmp}"')
        self._temp = []

    # -- extraction to Arrow (for DuckDB and Spark) ------------------------------------------

    def extract(self, expr: ibis.Table, schema: Mapping[str, str]) -> pa.Table:
        """Run ``expr`` (a raw projection) on the database and return it as Arrow with ``schema``."""
        sql = str(self.con.compile(expr))
        target = arrow_schema(schema)
        if self.vendor == "postgresql":
            return self._extract_copy(sql, target)
        return self._extract_cursor(sql, target)

    def _extract_cursor(self, sql: str, target: pa.Schema) -> pa.Table:
        cursor = self._django.connection.cursor()
        try:
            cursor.execute(sql)
            batches = []
            while rows := cursor.fetchmany(200_000):
                columns = list(zip(*rows, strict=True))
                batches.append(
                    pa.record_batch(
                        [_column(col, field.type) for col, field in zip(columns, target, strict=True)],
                        schema=target,
                    )
                )
        finally:
            cursor.close()
        return pa.Table.from_batches(batches, schema=target)

    def _extract_copy(self, sql: str, target: pa.Schema) -> pa.Table:
        from pyarrow import csv

        buf = io.BytesIO()
        with self._django.connection.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
        if buf.tell() == 0:
            return target.empty_table()
        buf.seek(0)
        return csv.read_csv(
            buf,
            read_options=csv.ReadOptions(column_names=target.names),
            convert_options=csv.ConvertOptions(
                column_types=target, true_values=["t"], false_values=["f"], strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )


def _column(values, type_: pa.DataType) -> pa.Array:
    if type_ == pa.bool_():
        # SQLite hands booleans back as 0/1.
        return pa.array(values, type=pa.int64()).cast(pa.bool_())
    if type_ == pa.float64():
        return pa.array([None if v is None else float(v) for v in values], type=type_)
    return pa.array(values, type=type_)


# ---------------------------------------------------------------------------------------------
# Arrow-fed engines
# ---------------------------------------------------------------------------------------------


class ArrowBackend(Backend):
    """A backend that receives its raw tables as Arrow."""


class DuckDB(ArrowBackend):
    name = "duckdb"
    native_hash = True

    def __init__(self, threads: int | None = None, path: str | None = None) -> None:
        # In memory, or a file (the indicator store, jiayi.indicators.store).
        self.con = ibis.duckdb.connect(path) if path else ibis.duckdb.connect()
        if threads:
            self.con.raw_sql(f"SET threads = {int(threads)}")
        self._cached: list[ibis.Table] = []

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def load(self, name: str, data: pa.Table) -> ibis.Table:
        tmp = _tmp_name(name)
        self.con.create_table(tmp, data, temp=True)
        return self.con.table(tmp)

    def close(self) -> None:
        super().close()
        self.con.disconnect()


def connect(name: str) -> Backend:
    """A backend by name: ``db`` (the Django database), ``duckdb`` or ``spark``."""
    if name == "db":
        return DjangoDB()
    if name == "duckdb":
        return DuckDB()
    if name == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installed extra
            raise RuntimeError("the spark backend needs the 'spark' extra: pip install -e '.[spark]'") from exc
        from jiayi.indicators.spark import Spark

        return Spark()
    raise ValueError(f"unknown backend {name!r}: use db, duckdb or spark")

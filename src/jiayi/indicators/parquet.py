"""The raw tables as Parquet datasets partitioned by month, for Spark (ADR 0011).

Spark never receives the raw tables through its driver: each table is written here as a Hive-style
dataset, ``<root>/<table>/month=YYYYMM/part-N.parquet``, and the executors read the files. The month
(the year, ``YYYY00``, before :data:`MONTHLY_FROM_YEAR`) is that of the table's relevance day
(:attr:`jiayi.indicators.facts.RawSpec.relevance`: the first day a row can influence a value), so a
change to old data rewrites only the months it touches (:meth:`ParquetTables.replace`); a row without
a day goes to Spark's null partition. A table without a relevance column (every row can change every
window, e.g. residents) is one unpartitioned dataset.

Files hold at most :data:`ROWS_PER_FILE` rows in row groups of :data:`ROWS_PER_GROUP`, so that Spark
splits a large table into several tasks. Writes are atomic per dataset or month: the files go to a
hidden sibling folder first and are swapped in with a rename.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

__all__ = [
    "MONTH", "MONTHLY_FROM_YEAR", "NULL_MONTH", "ROWS_PER_FILE", "ROWS_PER_GROUP", "ParquetTables", "month_of_days",
]

#: The partition column (in the folder names only, never in the files).
MONTH = "month"
#: Spark's and Hive's folder name for a null partition value.
NULL_MONTH = "__HIVE_DEFAULT_PARTITION__"
ROWS_PER_FILE = 1_000_000
ROWS_PER_GROUP = 250_000
#: Rows dated before this year are partitioned by year: key-population tags date from birthdays a century
#: back, and a folder per month of the 20th century would be a thousand folders of a few rows each.
MONTHLY_FROM_YEAR = 2000
#: More folders than one dataset can have (pyarrow refuses to write more at once).
MAX_PARTITIONS = 4096
_PARTITIONING = ds.HivePartitioning(pa.schema([(MONTH, pa.int32())]), null_fallback=NULL_MONTH)


def month_of_days(days: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Day numbers (days since 1970-01-01, as the raw tables hold them) -> the partition: ``YYYYMM``, and
    ``YYYY00`` (the whole year) before :data:`MONTHLY_FROM_YEAR`; int32, null stays null."""
    dates = pc.cast(pc.cast(days, pa.int32()), pa.date32())
    years = pc.year(dates)
    months = pc.if_else(pc.less(years, MONTHLY_FROM_YEAR), 0, pc.month(dates))
    return pc.add(pc.multiply(years, 100), months).cast(pa.int32())


@dataclass(frozen=True)
class ParquetTables:
    """A folder of Parquet datasets, one per raw table. ``partition_days`` maps a table to the column whose
    month partitions it (tables not in it are written unpartitioned)."""

    root: Path
    partition_days: Mapping[str, str]

    def path(self, name: str) -> Path:
        return self.root / name

    def month_column(self, name: str) -> str | None:
        return self.partition_days.get(name)

    def write(self, name: str, table: pa.Table) -> Path:
        """Write the whole of ``table`` as dataset ``name`` (replacing what was there)."""
        target = self.path(name)
        staging = self._staging(target)
        try:
            self._write_files(name, table, staging)
            _swap(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def replace(self, name: str, table: pa.Table, months: Iterable[int | None]) -> Path:
        """Replace the given months of a partitioned dataset by the rows of ``table`` (which must all lie in
        those months); a listed month without rows is removed. The other months are left alone."""
        column = self.month_column(name)
        if column is None:
            raise ValueError(f"{name} is not partitioned by month: write it whole")
        months = set(months)
        month = month_of_days(table.column(column))
        found = set(pc.unique(month).to_pylist())
        if stray := found - months:
            raise ValueError(f"{name}: rows of months {sorted(stray, key=str)} outside the months replaced")
        target = self.path(name)
        target.mkdir(parents=True, exist_ok=True)
        for value in months:
            rows = table.filter(pc.is_null(month)) if value is None else table.filter(pc.equal(month, value))
            folder = target / f"{MONTH}={NULL_MONTH if value is None else value}"
            staging = self._staging(target)
            try:
                if rows.num_rows:
                    self._write_files(name, rows, staging)
                    _swap(staging / folder.name, folder)
                else:
                    shutil.rmtree(folder, ignore_errors=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def months(self, name: str) -> list[int | None]:
        """The months a partitioned dataset holds (None: rows without a day)."""
        out: list[int | None] = []
        path = self.path(name)
        if not path.is_dir():
            return out
        for child in sorted(path.iterdir()):
            key, _, value = child.name.partition("=")
            if key == MONTH and child.is_dir():
                out.append(None if value == NULL_MONTH else int(value))
        return out

    # ---------------------------------------------------------------------------------------

    def _staging(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A hidden name: Spark and pyarrow skip files and folders starting with "." or "_".
        return target.parent / f".{target.name}.{uuid.uuid4().hex}"

    def _write_files(self, name: str, table: pa.Table, folder: Path) -> None:
        column = self.month_column(name)
        folder.mkdir(parents=True)
        if not table.num_rows:
            return
        partitioning = None
        if column is not None:
            if MONTH in table.column_names:
                raise ValueError(f"{name} has a column named {MONTH!r}, the partition column")
            table = table.append_column(MONTH, month_of_days(table.column(column)))
            partitioning = _PARTITIONING
        ds.write_dataset(
            table, folder, format="parquet", partitioning=partitioning, basename_template="part-{i}.parquet",
            max_rows_per_file=ROWS_PER_FILE, max_rows_per_group=ROWS_PER_GROUP,
            min_rows_per_group=min(ROWS_PER_GROUP, table.num_rows), existing_data_behavior="overwrite_or_ignore",
            max_partitions=MAX_PARTITIONS,
        )


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is, in two renames (the old copy is removed afterwards)."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old.{uuid.uuid4().hex}"
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

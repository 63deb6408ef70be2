"""The raw tables as Parquet by month (jiayi.indicators.parquet): layout, round trip, month replacement."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from jiayi.indicators.parquet import MONTH, NULL_MONTH, ParquetTables, month_of_days


def _day(y: int, m: int, d: int) -> int:
    return (date(y, m, d) - date(1970, 1, 1)).days


VISITS = pa.table({
    "visit_id": pa.array([1, 2, 3, 4, 5], pa.int64()),
    "day": pa.array([_day(2025, 1, 31), _day(2025, 2, 1), _day(2025, 2, 28), None, _day(1999, 12, 31)], pa.int64()),
    "programme": pa.array(["a", "b", "a", "b", "a"], pa.string()),
    "fasting_glucose": pa.array([7.5, None, 6.1, 5.0, 8.0], pa.float64()),
    "is_deleted": pa.array([False, False, True, False, False], pa.bool_()),
})


def _read(path) -> pa.Table:
    """A dataset read back without its partition column, in id order."""
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    if MONTH in table.column_names:
        table = table.drop_columns([MONTH])
    return table.sort_by(table.column_names[0])


def test_month_of_a_day_number():
    days = pa.array([_day(2000, 1, 1), _day(2025, 12, 31), _day(2026, 1, 1), None], pa.int64())
    assert month_of_days(days).to_pylist() == [200001, 202512, 202601, None]
    # Before 2000 a partition holds a whole year (month 00).
    old = pa.array([0, _day(1932, 5, 17), _day(1999, 12, 31)], pa.int64())
    assert month_of_days(old).to_pylist() == [197000, 193200, 199900]


def test_a_table_is_written_one_folder_per_month_of_its_day_column(tmp_path):
    files = ParquetTables(tmp_path, {"visits": "day"})
    path = files.write("visits", VISITS)
    assert sorted(p.name for p in path.iterdir()) == [
        "month=199900", "month=202501", "month=202502", f"month={NULL_MONTH}",
    ]
    assert files.months("visits") == [199900, 202501, 202502, None]
    assert _read(path).equals(VISITS)
    # The month lives in the folder names only: the files hold exactly the table's columns.
    one = ds.dataset(path / "month=202502", format="parquet").to_table()
    assert one.schema == VISITS.schema and one.column("visit_id").to_pylist() == [2, 3]


def test_a_table_without_a_day_column_is_one_dataset(tmp_path):
    residents = pa.table({"resident_id": pa.array([3, 1, 2], pa.int64()), "sex": ["M", "F", "M"]})
    files = ParquetTables(tmp_path, {})
    path = files.write("residents", residents)
    assert [p.name for p in path.iterdir()] == ["part-0.parquet"]
    assert _read(path).equals(residents.sort_by("resident_id"))
    assert files.months("residents") == []


def test_an_empty_table_leaves_an_empty_folder(tmp_path):
    path = ParquetTables(tmp_path, {"visits": "day"}).write("visits", VISITS.slice(0, 0))
    assert path.is_dir() and list(path.iterdir()) == []


def test_writing_again_replaces_the_whole_dataset(tmp_path):
    files = ParquetTables(tmp_path, {"visits": "day"})
    files.write("visits", VISITS)
    files.write("visits", VISITS.slice(0, 2))
    assert files.months("visits") == [202501, 202502]
    assert _read(files.path("visits")).equals(VISITS.slice(0, 2))
    # Nothing is left of the staging folders.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visits"]


def test_replacing_months_rewrites_only_those_months(tmp_path):
    files = ParquetTables(tmp_path, {"visits": "day"})
    files.write("visits", VISITS)
    before_1999 = sorted(p.stat().st_mtime_ns for p in (files.path("visits") / "month=199900").iterdir())
    corrected = pa.table({
        "visit_id": pa.array([3, 6], pa.int64()),
        "day": pa.array([_day(2025, 2, 28), _day(2025, 2, 2)], pa.int64()),
        "programme": pa.array(["a", "a"], pa.string()),
        "fasting_glucose": pa.array([6.2, 7.0], pa.float64()),
        "is_deleted": pa.array([False, False], pa.bool_()),
    })
    # February gets visit 3 (corrected) and a new visit 6; visit 2 was deleted; January is emptied.
    files.replace("visits", corrected, months=[202502, 202501])
    assert files.months("visits") == [199900, 202502, None]
    got = _read(files.path("visits"))
    assert got.column("visit_id").to_pylist() == [3, 4, 5, 6]
    assert got.column("fasting_glucose").to_pylist() == [6.2, 5.0, 8.0, 7.0]
    after_1999 = sorted(p.stat().st_mtime_ns for p in (files.path("visits") / "month=199900").iterdir())
    assert after_1999 == before_1999
    # Rows without a day are a month of their own.
    files.replace("visits", VISITS.slice(3, 1).slice(0, 0), months=[None])
    assert files.months("visits") == [199900, 202502]


def test_replacing_refuses_rows_outside_the_months_given(tmp_path):
    files = ParquetTables(tmp_path, {"visits": "day"})
    files.write("visits", VISITS)
    with pytest.raises(ValueError, match="outside the months replaced"):
        files.replace("visits", VISITS, months=[202501, 202502])
    assert _read(files.path("visits")).equals(VISITS)
    with pytest.raises(ValueError, match="not partitioned"):
        ParquetTables(tmp_path, {}).replace("visits", VISITS, months=[202501])


def test_a_column_named_like_the_partition_is_refused(tmp_path):
    table = VISITS.append_column(MONTH, pa.array([1] * 5, pa.int64()))
    with pytest.raises(ValueError, match="partition column"):
        ParquetTables(tmp_path, {"visits": "day"}).write("visits", table)


def test_large_tables_are_split_into_files_and_row_groups(tmp_path, monkeypatch):
    from jiayi.indicators import parquet

    monkeypatch.setattr(parquet, "ROWS_PER_FILE", 40)
    monkeypatch.setattr(parquet, "ROWS_PER_GROUP", 10)
    table = pa.table({"resident_id": pa.array(range(100), pa.int64())})
    path = ParquetTables(tmp_path, {}).write("residents", table)
    parts = sorted(path.iterdir())
    assert [p.name for p in parts] == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    import pyarrow.parquet as pq

    assert pq.ParquetFile(parts[0]).metadata.num_row_groups == 4
    assert _read(path).equals(table)

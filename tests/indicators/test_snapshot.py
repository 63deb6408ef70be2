"""The on-disk snapshot of the raw tables (PostgreSQL): only changed blocks leave the database, and what
it returns is always what a full extraction returns. SQLite is always read directly: there the tests
check that the snapshot is refused and that the engine does not use it."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from django.db import connection

from jiayi.indicators import snapshot as S
from jiayi.indicators.backends import DjangoDB
from jiayi.indicators.facts import extract_arrow

pytestmark = pytest.mark.django_db


def _sorted(table: pa.Table) -> list[dict]:
    key = table.column_names[0]
    return table.sort_by(key).to_pylist()


def _refresh(root) -> tuple[dict[str, pa.Table], dict, dict[str, pa.Table]]:
    db = DjangoDB()
    try:
        snap = S.Snapshot(root)
        tables = snap.refresh(db)
        fresh = extract_arrow(db)
    finally:
        db.close()
    return tables, snap.report, fresh


def _assert_same(tables: dict[str, pa.Table], fresh: dict[str, pa.Table]) -> None:
    assert set(tables) == set(fresh)
    for name in fresh:
        assert tables[name].schema == fresh[name].schema, name
        assert _sorted(tables[name]) == _sorted(fresh[name]), name


@pytest.fixture
def postgresql(small) -> bool:
    """True on PostgreSQL; on SQLite, first checks that the snapshot is refused there."""
    if connection.vendor == "postgresql":
        return True
    db = DjangoDB()
    try:
        assert not S.Snapshot.supports(db)
        with pytest.raises(ValueError, match="PostgreSQL"):
            S.Snapshot("unused").refresh(db)
    finally:
        db.close()
    return False


def test_first_refresh_reads_everything_and_equals_a_full_extraction(postgresql, tmp_path):
    if not postgresql:
        return
    tables, report, fresh = _refresh(tmp_path)
    _assert_same(tables, fresh)
    assert report["residents"]["rows_read"] == fresh["residents"].num_rows > 0
    assert all(r["extracted"] == r["blocks"] for r in report.values())


def test_an_unchanged_database_reads_no_rows(postgresql, tmp_path):
    if not postgresql:
        return
    _refresh(tmp_path)
    tables, report, fresh = _refresh(tmp_path)
    _assert_same(tables, fresh)
    assert {r["rows_read"] for r in report.values()} == {0}
    assert {r["extracted"] for r in report.values()} == {0}


def test_edits_inserts_and_deletes_re_extract_only_their_blocks(postgresql, tmp_path, monkeypatch):
    if not postgresql:
        return
    from jiayi.programmes.models import Visit
    from jiayi.residents.models import Measurement, Resident

    monkeypatch.setattr(S, "BLOCK", 2)  # a handful of rows per block: the test touches a few of many
    _refresh(tmp_path)

    visit = Visit.objects.order_by("pk").first()
    Visit.objects.filter(pk=visit.pk).update(sbp=(visit.sbp or 120) + 1)
    Measurement.objects.order_by("-pk").first().delete()
    someone = Resident.objects.filter(residence_status="registered").order_by("pk").first()
    Resident.objects.filter(pk=someone.pk).update(residence_status="non_registered")

    tables, report, fresh = _refresh(tmp_path)
    _assert_same(tables, fresh)
    assert report["visits"]["extracted"] == 1 and report["visits"]["rows_read"] <= 2
    assert report["residents"]["extracted"] == 1
    assert report["measurements"]["extracted"] + report["measurements"]["deleted"] == 1
    untouched = [name for name in report if name not in ("visits", "residents", "measurements")]
    assert untouched and all(report[name]["extracted"] == 0 for name in untouched)


def test_a_new_block_is_added_and_an_emptied_block_removed(postgresql, tmp_path, monkeypatch):
    if not postgresql:
        return
    from jiayi.residents.models import Measurement

    monkeypatch.setattr(S, "BLOCK", 2)
    _refresh(tmp_path)
    last = Measurement.objects.order_by("-pk").first()
    Measurement.objects.filter(pk=last.pk).delete()
    Measurement.objects.create(resident=last.resident, measured_at=last.measured_at, source=last.source, sbp=131)
    tables, report, fresh = _refresh(tmp_path)
    _assert_same(tables, fresh)
    assert report["measurements"]["rows_read"] >= 1


def test_compute_on_duckdb_follows_the_database(postgresql, tmp_path, settings):
    """With a snapshot folder configured: on PostgreSQL the run goes through it, on SQLite it is ignored;
    either way DuckDB's values follow the database's."""
    from jiayi.indicators.engine import compute
    from jiayi.indicators.models import IndicatorValue
    from jiayi.programmes.models import Visit

    # The snapshot serves DuckDB when the indicator store (ADR 0008) is off.
    settings.JIAYI = {**settings.JIAYI, "INDICATOR_SNAPSHOT_DIR": str(tmp_path), "INDICATOR_STORE": ""}
    periods, today = ["2025", "2025-12"], date(2026, 1, 15)

    def values(backend: str) -> dict:
        compute(backend=backend, periods=periods, today=today, incremental=False)
        return {(v.indicator, v.period, v.level, v.unit_id): (v.numerator, v.denominator)
                for v in IndicatorValue.objects.all()}

    before = values("duckdb")
    assert before == values("db")
    # Every hypertension patient's blood pressure becomes uncontrolled: the control rate must follow.
    Visit.objects.filter(programme="hypertension", sbp__isnull=False).update(sbp=185, dbp=115)
    after = values("duckdb")
    assert after == values("db")
    assert after != before
    assert {n for (code, period, level, _u), (n, _d) in after.items()
            if code == "ht.control_rate" and period == "2025" and level == "district"} == {0}
    assert any(tmp_path.iterdir()) is postgresql

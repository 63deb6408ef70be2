"""Change capture and the indicator store (ADR 0008): the triggers log every write, the store applies
them, and a store kept up to date change by change holds what a fresh extraction gives — so the
incremental run stores the values a fresh full run computes. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from django.db import connection
from django.test import override_settings

from jiayi.core import change_capture
from jiayi.indicators.backends import DjangoDB
from jiayi.indicators.facts import extract_arrow
from jiayi.indicators.store import Store
from tests.indicators.conftest import TODAY, _at, _contract, _visit

pytestmark = pytest.mark.django_db

PERIODS = ["2025", "2025-03", "2025-06", "2025-09", "2025-12", "2026-01"]


def _sorted(table: pa.Table) -> list[dict]:
    return table.sort_by(table.column_names[0]).to_pylist()


def _sync(path, share: float = 1.0) -> tuple[dict[str, list[dict]], dict]:
    """Open the store at ``path``: its raw tables (sorted rows) and what the synchronisation did
    (``share``: above this share of changed rows a table is re-read whole; 1.0 = only when all changed)."""
    db = DjangoDB()
    store = Store(path, whole_table_share=share)
    try:
        backend, raw = store.open(db)
        try:
            tables = {name: _sorted(backend.to_arrow(t)) for name, t in raw.items()}
        finally:
            backend.close()
    finally:
        db.close()
    return tables, store.report


def _fresh() -> dict[str, list[dict]]:
    db = DjangoDB()
    try:
        return {name: _sorted(t) for name, t in extract_arrow(db).items()}
    finally:
        db.close()


def _logged(model) -> set[int]:
    table = model._meta.db_table
    return set(change_capture.Change.objects.filter(tbl=table).values_list("row_id", flat=True))


def _changes(small) -> dict:
    """The next day's kind of changes: new visits, a new contract, a back-dated correction of an old
    visit, deletes (through the ORM and raw SQL) and a bulk update."""
    from jiayi.programmes.models import Visit
    from jiayi.residents.models import Measurement, Problem

    d = small.d
    new_visit = _visit(small.enrolments["R2"], date(2025, 9, 2), fpg=6.9)
    _visit(small.enrolments["R7"], date(2026, 1, 10), sbp=135, dbp=85)
    contract, _items = _contract("C3", small.r["R3"], d.team_a, d.doctor_a, date(2026, 1, 1), date(2026, 12, 31),
                                 signed=date(2025, 12, 28))
    # A back-dated correction: R1's May follow-up was measured 165/100 (uncontrolled), through update().
    old = Visit.objects.filter(enrolment=small.enrolments["R1"]).order_by("visit_date").first()
    Visit.objects.filter(pk=old.pk).update(sbp=165, dbp=100)
    gone = Measurement.objects.filter(resident=small.r["R10"]).first()
    gone_id = gone.pk
    gone.delete()
    problem = Problem.objects.filter(resident=small.r["R3"]).first()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Problem._meta.db_table} WHERE id = %s", [problem.pk])
    # The renewed contract's predecessor ends earlier: the successor's projected row changes with it.
    from jiayi.contracts.models import Contract

    Contract.objects.filter(pk=small.contracts["R2a"].pk).update(end_date=date(2025, 6, 29),
                                                                 signed_at=_at(date(2024, 6, 24)))
    return {"visit": new_visit, "old_visit": old, "contract": contract, "measurement": gone_id,
            "problem": problem.pk}


def test_triggers_log_inserts_updates_bulk_updates_and_deletes(small):
    from jiayi.contracts.models import Contract
    from jiayi.programmes.models import Visit
    from jiayi.residents.models import Measurement, Problem

    change_capture.Change.objects.all().delete()
    made = _changes(small)
    assert {made["visit"].pk, made["old_visit"].pk} <= _logged(Visit)
    assert {made["contract"].pk, small.contracts["R2a"].pk} <= _logged(Contract)
    assert made["measurement"] in _logged(Measurement)
    assert made["problem"] in _logged(Problem)
    if connection.vendor == "postgresql":
        marks = set(change_capture.Change.objects.values_list("mark", flat=True))
        assert None not in marks and marks
    assert change_capture.watermark(connection).seq >= max(change_capture.Change.objects.values_list("seq", flat=True))


def test_the_store_follows_the_database_change_by_change(small, tmp_path):
    path = tmp_path / "store.duckdb"
    tables, report = _sync(path)
    assert tables == _fresh()
    assert {r["mode"] for r in report.values()} == {"full"}

    tables, report = _sync(path)
    assert tables == _fresh()
    assert {r["mode"] for r in report.values()} == {"unchanged"}

    _changes(small)
    tables, report = _sync(path)
    assert tables == _fresh()
    assert report["visits"]["mode"] == "changes" and report["visits"]["rows_read"] == 3
    assert report["problems"]["mode"] == "changes" and report["problems"]["rows_read"] == 0
    assert report["contracts"]["mode"] == "changes"
    # The predecessor and its successor (whose projected row reads the predecessor's end) are re-read.
    assert report["contracts"]["rows_read"] == 3
    assert report["residents"]["mode"] == "unchanged"


def test_a_table_with_many_changed_rows_is_read_whole(small, tmp_path):
    path = tmp_path / "store.duckdb"
    _sync(path)
    _changes(small)
    tables, report = _sync(path, share=0.0)
    assert tables == _fresh()
    assert report["visits"]["mode"] == "full" and report["residents"]["mode"] == "unchanged"


def test_a_store_whose_cursor_is_gone_is_extracted_again(small, tmp_path):
    path = tmp_path / "store.duckdb"
    _sync(path)
    change_capture.ChangeCursor.objects.all().delete()  # a restored or flushed database
    _visit(small.enrolments["R2"], date(2025, 9, 2), fpg=6.9)
    tables, report = _sync(path)
    assert tables == _fresh()
    assert {r["mode"] for r in report.values()} == {"full"}


def test_applied_changes_are_pruned_from_the_log(small, tmp_path):
    path = tmp_path / "store.duckdb"
    _sync(path)
    _changes(small)
    _sync(path)
    cursor = change_capture.ChangeCursor.objects.get()
    if connection.vendor == "sqlite":
        assert not change_capture.Change.objects.filter(seq__lte=cursor.seq).exists()
    else:  # the test's own transaction is still running: its changes stay until it has ended
        assert not change_capture.Change.objects.filter(seq__lte=cursor.seq, mark__lt=cursor.oldest_xid).exists()
        assert cursor.oldest_xid is not None


def _stored() -> dict:
    from jiayi.indicators.models import IndicatorValue

    return {
        (v.indicator, v.period, v.level, v.unit_id): (v.numerator, v.denominator, v.value)
        for v in IndicatorValue.objects.all()
    }


def test_full_then_incremental_equals_a_fresh_full_run(small, tmp_path):
    from jiayi.indicators import engine

    store = tmp_path / "store.duckdb"
    with override_settings(JIAYI={**_jiayi(), "INDICATOR_STORE": str(store)}):
        full = engine.compute(backend="duckdb", periods=PERIODS, today=TODAY, incremental=False)
        assert full.timings["store_sync"]["tables"]["visits"]["mode"] == "full"
        before = _stored()
        _changes(small)
        daily = engine.compute(backend="duckdb", periods=PERIODS, today=TODAY + timedelta(days=1))
        synced = daily.timings["store_sync"]["tables"]
        assert synced["residents"]["mode"] == "unchanged" and synced["visits"]["mode"] != "unchanged"
        assert daily.periods_computed  # the back-dated correction reaches past periods
        incremental = _stored()
        assert incremental != before
    # A fresh full run without the store (every row read from the database) stores the same values.
    with override_settings(JIAYI={**_jiayi(), "INDICATOR_STORE": ""}):
        engine.compute(backend="duckdb", periods=PERIODS, today=TODAY + timedelta(days=1), incremental=False)
    assert _stored() == incremental


def _jiayi() -> dict:
    from django.conf import settings

    return dict(settings.JIAYI)


def test_an_unchanged_table_is_not_fingerprinted_again(small, tmp_path, monkeypatch):
    from jiayi.indicators import engine

    scanned: list[str] = []
    real = engine.fingerprint_query

    def counting(name, table, **kw):
        scanned.append(name)
        return real(name, table, **kw)

    monkeypatch.setattr(engine, "fingerprint_query", counting)
    with override_settings(JIAYI={**_jiayi(), "INDICATOR_STORE": str(tmp_path / "store.duckdb")}):
        engine.compute(backend="duckdb", periods=PERIODS, today=TODAY, incremental=False)
        assert "visits" in scanned and "residents" in scanned
        scanned.clear()
        rerun = engine.compute(backend="duckdb", periods=PERIODS, today=TODAY)
        assert rerun.periods_computed == [] and scanned == []
        _visit(small.enrolments["R2"], date(2025, 9, 2), fpg=6.9)
        daily = engine.compute(backend="duckdb", periods=PERIODS, today=TODAY)
        assert scanned == ["visits"]
        assert set(daily.periods_computed) == {"2025", "2025-09", "2025-12", "2026-01"}

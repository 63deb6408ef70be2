"""The whole pipeline: compute and store, incremental runs, the command and the background task."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.indicators.conftest import TODAY, _visit

PERIODS = ["2025", "2025-03", "2025-06", "2025-12"]


def _compute(**kw):
    from jiayi.indicators.engine import compute

    return compute(backend=kw.pop("backend", "db"), periods=kw.pop("periods", PERIODS), today=TODAY, **kw)


def test_it_stores_every_value_with_its_unit_and_scope(small):
    from jiayi.indicators.models import IndicatorValue

    run = _compute()
    assert run.status == "done" and run.values_written > 0 and set(run.periods_computed) == set(PERIODS)
    v = IndicatorValue.objects.get(indicator="ht.standardised_rate", period="2025", level="district")
    assert (v.numerator, v.denominator, v.value) == (2, 2, 100.0)
    assert v.institution_id == small.d.commission.pk and v.unit_name == "徐汇区卫生健康委员会"
    assert v.rulesets == {"hypertension": "nbphs-2017", "programme-engine": "nbphs-2017"}
    doctor = IndicatorValue.objects.get(indicator="ht.control_rate", period="2025", level="doctor",
                                        unit_id=small.d.station_doctor.pk)
    assert doctor.institution_id == small.d.station_a1.pk and (doctor.numerator, doctor.denominator) == (0, 1)


def test_a_second_run_recomputes_nothing(small):
    _compute()
    again = _compute()
    assert again.periods_computed == []


def test_a_back_dated_visit_recomputes_the_periods_it_reaches(small):
    from jiayi.indicators.models import IndicatorValue

    _compute()
    # R2 gets the missing face-to-face diabetes follow-up in September: standardised for the year.
    _visit(small.enrolments["R2"], date(2025, 9, 2), fpg=6.9)
    run = _compute()
    assert set(run.periods_computed) == {"2025", "2025-12"}
    v = IndicatorValue.objects.get(indicator="dm.standardised_rate", period="2025", level="district")
    assert (v.numerator, v.denominator) == (1, 1)
    june = IndicatorValue.objects.get(indicator="dm.standardised_rate", period="2025-06", level="district")
    assert (june.numerator, june.denominator) == (1, 1)


def test_employment_dates_recompute_the_periods_from_the_day_they_change(small):
    from jiayi.indicators.models import IndicatorValue
    from jiayi.org.models import Staff

    def gps(period):
        v = IndicatorValue.objects.get(indicator="workforce.gp_per_10k", period=period, level="district")
        return v.numerator

    _compute()
    assert [gps(p) for p in PERIODS] == [4, 4, 4, 4]  # 03-31 and 06-30: 何, not 林; 12-31: 林, not 何
    # doctor_b's leaving date is recorded as 2025-12-01: the periods before it are left alone.
    Staff.objects.filter(pk=small.d.doctor_b.pk).update(employed_until=date(2025, 12, 1), active=False)
    assert set(_compute().periods_computed) == {"2025", "2025-12"}
    assert [gps(p) for p in PERIODS] == [3, 4, 4, 3]
    # 林's hiring date is corrected to 2025-05-01: June and later change, March does not.
    Staff.objects.filter(name="林医生").update(employed_from=date(2025, 5, 1))
    assert set(_compute().periods_computed) == {"2025", "2025-06", "2025-12"}
    assert [gps(p) for p in PERIODS] == [3, 4, 5, 3]
    # A GP no longer in post without a leaving date counts nowhere: from the hiring day (none: always).
    Staff.objects.filter(name="马医生").update(active=True)
    assert set(_compute().periods_computed) == set(PERIODS)
    assert _compute().periods_computed == []


def test_a_full_run_recomputes_every_period(small):
    _compute()
    assert set(_compute(incremental=False).periods_computed) == set(PERIODS)


def test_duckdb_runs_store_the_same_values(small):
    from jiayi.indicators.models import IndicatorValue

    _compute()
    before = {(v.indicator, v.period, v.level, v.unit_id): (v.numerator, v.denominator, v.value)
              for v in IndicatorValue.objects.all()}
    _compute(backend="duckdb", incremental=False)
    after = {(v.indicator, v.period, v.level, v.unit_id): (v.numerator, v.denominator, v.value)
             for v in IndicatorValue.objects.all()}
    assert before == after
    assert set(IndicatorValue.objects.values_list("backend", flat=True)) == {"duckdb"}


def test_the_command_prints_the_run_as_json(small):
    out = StringIO()
    call_command("indicators", "compute", "--period", "2025-06", "--today", TODAY.isoformat(), "--json",
                 "--no-progress", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["status"] == "done" and summary["periods_computed"] == ["2025-06"]
    assert summary["rulesets"]["programme-engine"] == "nbphs-2017" and summary["blocked"] == {}


def test_the_command_computes_a_whole_year(small):
    out = StringIO()
    call_command("indicators", "compute", "--period", "2025", "--today", TODAY.isoformat(), "--backend", "duckdb",
                 "--no-progress", stdout=out)
    assert "done: 29/29 periods recomputed" in out.getvalue()


def test_the_command_refuses_a_bad_period(small):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("indicators", "compute", "--period", "2025-13", "--no-progress")


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}})
def test_the_background_task_runs_the_engine(small):
    from jiayi.indicators.models import ComputationRun
    from jiayi.indicators.services import compute_enqueue

    result = compute_enqueue(actor=small.d.district_admin.user, backend="db", year=None)
    from django_tasks import TaskResultStatus

    assert result.status == TaskResultStatus.SUCCESSFUL
    run = ComputationRun.objects.get()
    assert run.status == "done" and run.triggered_by == small.d.district_admin.user


def test_only_the_district_starts_a_run(small):
    from django.core.exceptions import PermissionDenied

    from jiayi.indicators.services import compute_enqueue

    with pytest.raises(PermissionDenied):
        compute_enqueue(actor=small.d.manager_a.user)


def test_an_edited_code_is_noticed(small):
    from jiayi.residents.models import Problem

    _compute()
    # Same length, same first character: still a change the fingerprint must see.
    Problem.objects.filter(resident=small.r["R3"]).update(icd10="I15")
    assert set(_compute().periods_computed) == {"2025", "2025-03", "2025-06", "2025-12"}
    assert _compute().periods_computed == []


def test_duckdb_fingerprints_are_compared_with_duckdb_runs_only(small):
    _compute(backend="duckdb")
    assert _compute(backend="duckdb").periods_computed == []
    assert set(_compute(backend="db").periods_computed) == set(PERIODS)

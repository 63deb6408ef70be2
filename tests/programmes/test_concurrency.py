"""Two writers at once: medication plans and screening cases stay one per enrolment / resident.

The first writer keeps its transaction open until the second has started (on PostgreSQL: until the
second waits for a lock); then both finish. On SQLite, IMMEDIATE transactions make the second wait
for the first from its start, which gives the same outcome.
"""

from __future__ import annotations

import pytest
from django.db import connection

from jiayi.core.errors import ConflictError
from jiayi.programmes import services
from jiayi.programmes.hypertension import screening as ht_screening
from jiayi.programmes.models import MedicationPlan, PlanStatus, ScreeningCase, ScreeningStatus
from tests import factories as f
from tests.concurrency import race
from tests.programmes.conftest import days_ago

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {
    "drug": "氨氯地平片", "drug_class": "ccb", "dose": 5, "dose_unit": "mg", "times_per_day": 1, "duration_days": 28,
}


def _plan(district, enrolment, drug: str):
    def save():
        return services.medication_plan_set(
            actor=district.doctor_a.user, enrolment=enrolment, lines=[{**LINE, "drug": drug}], start_date=days_ago(1)
        )

    return save


def test_two_plans_saved_at_once_leave_one_active_plan(district, ht_enrolment):
    results, errors = race(_plan(district, ht_enrolment, "氨氯地平片"), _plan(district, ht_enrolment, "缬沙坦胶囊"))
    assert errors == {}
    active = MedicationPlan.objects.filter(enrolment=ht_enrolment, status=PlanStatus.ACTIVE)
    assert [p.pk for p in active] == [results["second"].pk]  # the later save replaced the earlier
    assert active.get().lines.get().drug == "缬沙坦胶囊"
    assert MedicationPlan.objects.get(pk=results["first"].pk).status == PlanStatus.SUPERSEDED


def test_a_plan_colliding_with_a_writer_that_bypassed_the_lock_is_a_conflict(district, ht_enrolment):
    """A plan written straight to the table (no enrolment lock) at the same moment: the service answers
    with a conflict (409), not a database error. SQLite serialises the two, so the service's plan wins."""

    def direct_insert():
        return MedicationPlan.objects.create(
            resident=ht_enrolment.resident, enrolment=ht_enrolment, programme=ht_enrolment.programme,
            start_date=days_ago(2), institution=ht_enrolment.institution,
        )

    results, errors = race(direct_insert, _plan(district, ht_enrolment, "缬沙坦胶囊"))
    assert "first" not in errors
    active = MedicationPlan.objects.filter(enrolment=ht_enrolment, status=PlanStatus.ACTIVE)
    if connection.vendor == "postgresql":
        assert isinstance(errors.get("second"), ConflictError) and errors["second"].code == "conflict"
        assert [p.pk for p in active] == [results["first"].pk]
    else:
        assert errors == {} and [p.pk for p in active] == [results["second"].pk]


def _screen(district, resident, sbp: int, dbp: int):
    def record():
        return ht_screening.screening_record(actor=district.doctor_a.user, resident=resident, sbp=sbp, dbp=dbp)

    return record


def test_two_first_raised_readings_at_once_open_one_case(district):
    # No health record: nothing else in screening_record happens to serialise the two writers.
    r = f.resident(inst=district.centre_a, area_=district.community_a, name="筛查甲", create_record=False)
    results, errors = race(_screen(district, r, 150, 95), _screen(district, r, 152, 96))
    assert errors == {}
    case = ScreeningCase.objects.get(resident=r)
    assert case.status == ScreeningStatus.RECHECKING
    assert [(x["sbp"], x["dbp"]) for x in case.readings] == [(150, 95), (152, 96)]
    assert results["first"].case.pk == results["second"].case.pk == case.pk


def test_a_case_colliding_with_a_writer_that_bypassed_the_lock_is_a_conflict(district):
    r = f.resident(inst=district.centre_a, area_=district.community_a, name="筛查乙", create_record=False)

    def direct_insert():
        return ScreeningCase.objects.create(
            resident=r, programme="hypertension", opened_on=days_ago(0), raised_days=[days_ago(0).isoformat()],
            readings=[], institution=r.institution,
        )

    results, errors = race(direct_insert, _screen(district, r, 150, 95))
    assert "first" not in errors
    case = ScreeningCase.objects.get(resident=r)
    assert case.pk == results["first"].pk
    if connection.vendor == "postgresql":
        assert isinstance(errors.get("second"), ConflictError)
        assert case.readings == []  # the second writer stored nothing, its reading included
        assert not r.measurements.exists()
    else:
        assert errors == {} and [(x["sbp"], x["dbp"]) for x in case.readings] == [(150, 95)]

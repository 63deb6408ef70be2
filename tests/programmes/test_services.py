"""The programme engine's services: enrolment, visits and what the rules make of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jiayi.core.errors import DomainValidationError
from jiayi.programmes import services
from jiayi.programmes.models import Referral, Task, TaskKind, Visit
from jiayi.residents.models import KeyPopulationTag, Measurement
from tests.programmes.conftest import days_ago, dm_form, ht_form

pytestmark = pytest.mark.django_db


def _record(district, enrolment, days, form, **kw):
    return services.visit_record(
        actor=district.doctor_a.user, enrolment=enrolment, visit_date=days_ago(days), form=form, **kw
    )


def test_enrolment_adds_the_diagnosis_and_the_first_tasks(district, ht_enrolment):
    resident = district.resident_a
    assert resident.problems.filter(icd10="I10").exists()
    assert KeyPopulationTag.objects.filter(resident=resident, code="hypertension").exists()
    kinds = set(Task.objects.filter(enrolment=ht_enrolment, status="due").values_list("kind", flat=True))
    assert kinds == {TaskKind.FOLLOW_UP, TaskKind.ANNUAL_CHECK}
    assert ht_enrolment.ruleset == "nbphs-2017"


def test_it_refuses_a_second_open_enrolment(district, ht_enrolment):
    with pytest.raises(DomainValidationError) as exc:
        services.enrolment_create(
            actor=None, resident=district.resident_a, programme="hypertension", start_date=days_ago(1)
        )
    assert "resident_id" in exc.value.errors


def test_first_uncontrolled_visit_is_followed_up_in_two_weeks(district, ht_enrolment):
    v = _record(district, ht_enrolment, 30, ht_form(sbp=152, dbp=94))
    assert v.classification == "uncontrolled"
    assert v.next_due == v.visit_date + timedelta(days=14)
    assert v.referral_reasons == [] and not v.referred
    task = Task.objects.get(enrolment=ht_enrolment, status="due", kind__in=["follow_up", "referral_follow_up"])
    assert task.kind == "follow_up" and task.due_date == v.next_due and task.source_visit == v
    first = Task.objects.get(enrolment=ht_enrolment, status="done", kind="follow_up")
    assert first.done_by_visit == v


def test_second_consecutive_uncontrolled_visit_refers(district, ht_enrolment):
    _record(district, ht_enrolment, 30, ht_form(sbp=152, dbp=94))
    v2 = _record(district, ht_enrolment, 16, ht_form(sbp=150, dbp=92))
    assert v2.referral_reasons == ["two_uncontrolled"]
    assert v2.next_due == v2.visit_date + timedelta(days=14)
    ref = Referral.objects.get(visit=v2)
    assert ref.reasons == ["two_uncontrolled"] and ref.returned_on is None
    task = Task.objects.get(enrolment=ht_enrolment, status="due", kind__in=["follow_up", "referral_follow_up"])
    assert task.kind == "referral_follow_up" and task.priority == 0


def test_controlled_visit_comes_back_in_about_three_months(district, ht_enrolment):
    v = _record(district, ht_enrolment, 10, ht_form(sbp=128, dbp=80))
    assert v.classification == "controlled" and v.at_target is True
    assert v.next_due == v.visit_date + timedelta(days=90)


def test_any_urgent_criterion_refers_urgently(district, ht_enrolment):
    v = _record(district, ht_enrolment, 5, ht_form(sbp=186, dbp=96))
    assert v.urgent and "HTN-U1" in v.referral_reasons
    v2 = _record(district, ht_enrolment, 1, ht_form(sbp=128, dbp=80, danger_signs=["chest_tightness"]))
    assert v2.urgent and v2.referral_reasons == ["HTN-U3"]


def test_elderly_target_applies(district, ht_enrolment):
    # resident_a was born in 1955: 65+, target < 150/90 under nbphs-2017
    v = _record(district, ht_enrolment, 3, ht_form(sbp=145, dbp=85))
    assert v.classification == "controlled"


def test_visit_records_measurement_on_the_resident(district, ht_enrolment):
    v = _record(district, ht_enrolment, 3, ht_form(sbp=138, dbp=84))
    m = Measurement.objects.get(resident=district.resident_a, source="follow_up")
    assert (m.sbp, m.dbp) == (138, 84)
    assert v.bmi is not None


@pytest.mark.parametrize(
    ("days", "form", "field"),
    [
        (-1, ht_form(), "visit_date"),
        (200, ht_form(), "visit_date"),
        (3, ht_form(sbp=400), "form.sbp"),
        (3, ht_form(sbp=120, dbp=118), "form.dbp"),
        (3, {"adherence": "regular"}, "form.sbp"),
        (3, ht_form(bogus=1), "form.bogus"),
        (
            3,
            ht_form(
                medications=[
                    {
                        "drug": "氨氯地平",
                        "dose": 5,
                        "dose_unit": "mg",
                        "times_per_day": 1,
                        "duration_days": 56,
                    }
                ]
            ),
            "form.medications.0.duration_days",
        ),
    ],
)
def test_bad_visits_are_refused_and_nothing_is_stored(district, ht_enrolment, days, form, field):
    with pytest.raises(DomainValidationError) as exc:
        _record(district, ht_enrolment, days, form)
    assert field in exc.value.errors, exc.value.errors
    assert not Visit.objects.exists()
    assert not Measurement.objects.filter(source="follow_up").exists()


def test_it_refuses_a_visit_after_the_enrolment_ended(district, ht_enrolment):
    services.enrolment_end(
        actor=None,
        enrolment=ht_enrolment,
        version=ht_enrolment.version,
        end_date=days_ago(2),
        reason="moved_out",
    )
    with pytest.raises(DomainValidationError) as exc:
        _record(district, ht_enrolment, 1, ht_form())
    assert "resident_id" in exc.value.errors
    assert not Task.objects.filter(enrolment=ht_enrolment, status="due").exists()


def test_diabetes_visit_classifies_on_fasting_glucose(district, dm_enrolment):
    v = _record(district, dm_enrolment, 20, dm_form(fpg=8.2))
    assert v.classification == "uncontrolled" and v.next_due == v.visit_date + timedelta(days=14)
    v2 = _record(district, dm_enrolment, 5, dm_form(fpg=3.5))
    assert v2.urgent and "DM-U1" in v2.referral_reasons


def test_medication_from_the_visit_becomes_the_plan(district, ht_enrolment):
    line = {
        "drug": "氨氯地平片",
        "drug_class": "ccb",
        "dose": 5,
        "dose_unit": "mg",
        "times_per_day": 1,
        "duration_days": 28,
    }
    _record(district, ht_enrolment, 20, ht_form(medications=[line]))
    plan = ht_enrolment.medication_plans.get(status="active")
    assert plan.lines.get().drug == "氨氯地平片"
    _record(district, ht_enrolment, 10, ht_form(medications=[line]))
    assert ht_enrolment.medication_plans.count() == 1  # unchanged medication keeps the plan


def test_long_prescription_needs_stability_assessment_and_confirmation(district, ht_enrolment):
    line = {
        "drug": "缬沙坦胶囊",
        "drug_class": "arb",
        "dose": 80,
        "dose_unit": "mg",
        "times_per_day": 1,
        "duration_days": 84,
    }
    _record(district, ht_enrolment, 40, ht_form())
    with pytest.raises(DomainValidationError) as exc:
        _record(
            district,
            ht_enrolment,
            20,
            ht_form(medications=[line]),
            plan=services.PlanOptions(long_prescription=True),
        )
    assert {"assessment_note", "patient_confirmed"} <= set(exc.value.errors)
    _record(
        district,
        ht_enrolment,
        20,
        ht_form(medications=[line]),
        plan=services.PlanOptions(long_prescription=True, assessment_note="血压稳定3个月", patient_confirmed=True),
    )
    plan = ht_enrolment.medication_plans.get(status="active")
    assert plan.long_prescription and plan.lines.get().duration_days == 84


_LINE = {
    "drug": "氨氯地平片", "drug_class": "ccb", "dose": 5, "dose_unit": "mg", "times_per_day": 1, "duration_days": 28,
}


@pytest.mark.parametrize(
    "start", [lambda e: e.start_date - timedelta(days=1), lambda e: date(1, 1, 1)],
    ids=["day-before-enrolment", "year-1"],
)
def test_a_plan_cannot_start_before_the_enrolment(district, ht_enrolment, start):
    with pytest.raises(DomainValidationError) as exc:
        services.medication_plan_set(
            actor=district.doctor_a.user, enrolment=ht_enrolment, lines=[_LINE], start_date=start(ht_enrolment)
        )
    assert set(exc.value.errors) == {"start_date"}
    assert not ht_enrolment.medication_plans.exists()
    plan = services.medication_plan_set(
        actor=district.doctor_a.user, enrolment=ht_enrolment, lines=[_LINE], start_date=ht_enrolment.start_date
    )
    assert plan.start_date == ht_enrolment.start_date


def test_visit_form_messages_translate_their_templates_before_the_values(district, ht_enrolment):
    """Plausibility and schema messages carry values ({min}, {label}): the catalogue has the template,
    so the template must be translated first (it was formatted first, and stayed Chinese)."""
    from django.utils import translation

    with translation.override("en"), pytest.raises(DomainValidationError) as exc:
        _record(district, ht_enrolment, 3, ht_form(sbp=100, dbp=95, weight="heavy"))
    errors = exc.value.errors
    assert errors["form.dbp"][0].startswith("Pulse pressure (systolic minus diastolic) below")
    assert errors["form.weight"] == ["Weight must be a number."]
    with translation.override("en"), pytest.raises(DomainValidationError) as exc:
        services.medication_plan_set(
            actor=district.doctor_a.user, enrolment=ht_enrolment, lines=[{**_LINE, "duration_days": 40}],
            start_date=days_ago(1),
        )
    assert "must be a long prescription" in exc.value.errors["medications.0.duration_days"][0]
    with pytest.raises(DomainValidationError) as exc:  # Chinese, the default language
        _record(district, ht_enrolment, 3, ht_form(sbp=100, dbp=95))
    assert exc.value.errors["form.dbp"][0].startswith("脉压")


def test_annual_check_visit_closes_the_annual_task_and_schedules_next_year(district, ht_enrolment):
    v = _record(district, ht_enrolment, 3, ht_form(), visit_type="annual_check")
    done = Task.objects.get(enrolment=ht_enrolment, kind="annual_check", status="done")
    assert done.done_by_visit == v
    nxt = Task.objects.get(enrolment=ht_enrolment, kind="annual_check", status="due")
    assert nxt.due_date.year == v.visit_date.year + 1 and (nxt.due_date.month, nxt.due_date.day) == (12, 31)


def test_a_back_dated_visit_does_not_reschedule(district, ht_enrolment):
    latest = _record(district, ht_enrolment, 10, ht_form(sbp=128, dbp=80))
    older = _record(district, ht_enrolment, 40, ht_form(sbp=150, dbp=95))
    task = Task.objects.get(enrolment=ht_enrolment, status="due", kind__in=["follow_up", "referral_follow_up"])
    assert task.source_visit == latest
    assert older.classification == "uncontrolled"


def test_a_second_visit_on_the_same_day_is_refused(district, ht_enrolment):
    _record(district, ht_enrolment, 2, ht_form())
    with pytest.raises(DomainValidationError) as exc:
        _record(district, ht_enrolment, 2, ht_form())
    assert "visit_date" in exc.value.errors


def _sign_ht_contract(district):
    from jiayi.contracts import services as contract_services

    packs = {p.code: p for p in contract_services.packages_install_defaults()}
    contract_services.contract_sign(
        actor=district.doctor_a.user,
        resident=district.resident_a,
        team=district.team_a,
        doctor=district.doctor_a,
        packages=[packs["basic"], packs["hypertension"]],
        consent_method="handwritten",
    )


def test_visit_counts_toward_the_contract(district, ht_enrolment, django_capture_on_commit_callbacks):
    from jiayi.contracts.models import ServiceDelivery

    _sign_ht_contract(district)
    with django_capture_on_commit_callbacks(execute=True):
        v = _record(district, ht_enrolment, 0, ht_form())
        # The contracts app counts the visit when the visit's transaction commits (core.events).
        assert not ServiceDelivery.objects.filter(source="programmes.visit", source_id=v.pk).exists()
    delivered = ServiceDelivery.objects.filter(source="programmes.visit", source_id=v.pk)
    assert list(delivered.values_list("service_code", flat=True)) == ["ht_follow_up"]
    assert delivered.get().item.delivered == 1


def test_a_visit_rolled_back_delivers_nothing(district, ht_enrolment, django_capture_on_commit_callbacks):
    from django.db import transaction

    from jiayi.contracts.models import ServiceDelivery

    _sign_ht_contract(district)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        _record(district, ht_enrolment, 0, ht_form())
        raise RuntimeError("the caller's transaction fails after the visit")
    assert callbacks == []
    assert not Visit.objects.filter(enrolment=ht_enrolment).exists()
    assert not ServiceDelivery.objects.exists()


def test_enrolment_update_moves_open_tasks(district, ht_enrolment):
    e = services.enrolment_update(
        actor=None, enrolment=ht_enrolment, version=ht_enrolment.version, doctor=district.nurse_a
    )
    assert set(Task.objects.filter(enrolment=e, status="due").values_list("doctor_id", flat=True)) == {
        district.nurse_a.pk
    }
    with pytest.raises(DomainValidationError):
        services.enrolment_update(actor=None, enrolment=e, version=1, doctor=district.doctor_a)


# ---------------------------------------------------------------------------------------------
# Concurrent edits: the version (or state) read is checked where the row is written
# ---------------------------------------------------------------------------------------------


def test_a_referral_returned_twice_at_once_keeps_the_first_outcome(district, ht_enrolment):
    """Two doctors record the return from the same page: the second must not overwrite the first."""
    _record(district, ht_enrolment, 3, ht_form(sbp=190, dbp=100))
    referral = Referral.objects.get(enrolment=ht_enrolment)
    stale = Referral.objects.get(pk=referral.pk)
    services.referral_return(actor=district.doctor_a.user, referral=referral, returned_on=days_ago(1), outcome="甲")
    with pytest.raises(DomainValidationError):
        services.referral_return(actor=district.nurse_a.user, referral=stale, returned_on=days_ago(0), outcome="乙")
    referral.refresh_from_db()
    assert (referral.returned_on, referral.outcome) == (days_ago(1), "甲")

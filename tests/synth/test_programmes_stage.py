"""Generated HT/DM management replays exactly through the programme engine's rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from jiayi.programmes import engine
from jiayi.programmes.models import Enrolment, MedicationPlan, Referral, Task, Visit
from jiayi.programmes.rules import annual_check_due
from jiayi.residents import rules
from jiayi.residents.models import Measurement
from jiayi.synth import reference
from tests.synth.conftest import AS_OF, DISTRICT

pytestmark = pytest.mark.django_db

COUNTY = reference.get_district(DISTRICT).county_code


def chronic() -> tuple[str, ...]:
    """The programmes of the chronic stage (the registered follow-up programmes; the test settings
    install test-only programmes too, whose own stages are tested with them)."""
    from jiayi.indicators.facts import chronic_programmes

    return tuple(chronic_programmes())


def chronic_visits():
    return Visit.objects.filter(resident__area__code__startswith=COUNTY, programme__in=chronic())


def enrolments():
    return Enrolment.objects.filter(resident__area__code__startswith=COUNTY, programme__in=chronic()).select_related(
        "resident"
    )


def test_every_living_diagnosed_resident_is_enrolled(small_district):
    for e in enrolments():
        code = engine.get(e.programme).icd10
        assert e.resident.problems.filter(icd10=code).exists()
        assert e.start_date >= e.resident.health_record.established_on
        if e.end_date:
            assert e.end_reason == "deceased" and e.end_date == e.resident.death_date


def test_visits_replay_through_the_rules(small_district):
    visits = defaultdict(list)
    for v in chronic_visits().select_related("resident", "enrolment"):
        visits[v.enrolment_id].append(v)
    assert visits
    for rows in visits.values():
        rows.sort(key=lambda v: v.visit_date)
        previous = None
        for v in rows:
            prog = engine.get(v.programme)
            form = dict(v.form)
            bmi = form.pop("bmi")
            clean, errors = prog.schema.validate(form)
            assert errors == {} and clean == form
            ev = prog.rules.evaluate(
                form=form, visit_date=v.visit_date, previous_classification=previous,
                birth_date=v.resident.birth_date, sex=v.resident.sex, ruleset_code=v.ruleset,
            )
            assert (v.classification, v.at_target, v.next_due, v.urgent) == (
                ev.classification, ev.at_target, ev.next_due, ev.urgent)
            assert list(v.referral_reasons) == list(ev.referral or [])
            assert v.referred == bool(ev.referral)
            assert float(v.bmi) == bmi == rules.bmi(form["height"], form["weight"])
            assert v.enrolment.start_date <= v.visit_date <= AS_OF
            previous = v.classification


def test_open_tasks_follow_the_last_visit(small_district):
    for e in enrolments().filter(end_date__isnull=True):
        last = e.visits.order_by("-visit_date").first()
        open_tasks = {t.kind: t for t in Task.objects.filter(enrolment=e, status="due")}
        follow = [t for k, t in open_tasks.items() if k in ("follow_up", "referral_follow_up")]
        assert len(follow) == 1
        if last is not None:
            assert follow[0].due_date == last.next_due and follow[0].source_visit_id == last.pk
            assert follow[0].kind == ("referral_follow_up" if last.referred else "follow_up")
        annual = open_tasks["annual_check"]
        checks = e.visits.filter(visit_type="annual_check").order_by("-visit_date").first()
        assert annual.due_date == annual_check_due(checks.visit_date if checks else None, e.start_date)


def test_adherence_and_control_are_realistic(small_district):
    open_e = enrolments().filter(end_date__isnull=True, programme="hypertension")
    latest = []
    lost = 0
    for e in open_e:
        last = e.visits.order_by("-visit_date").first()
        if last is None or last.visit_date < AS_OF - timedelta(days=180):
            lost += 1
        else:
            latest.append(last.classification == "controlled")
    assert 0.45 <= sum(latest) / len(latest) <= 0.85
    assert 0.03 <= lost / open_e.count() <= 0.25


def test_referrals_medication_plans_and_measurements(small_district):
    referred = chronic_visits().filter(referred=True)
    assert Referral.objects.filter(visit__in=referred).count() == referred.count() > 0
    treated = MedicationPlan.objects.filter(enrolment__in=enrolments(), status="active").count()
    assert treated >= 0.7 * enrolments().filter(end_date__isnull=True).count()
    follow_ups = Measurement.objects.filter(resident__area__code__startswith=COUNTY, source="follow_up")
    assert follow_ups.count() == chronic_visits().count()
    assert Counter(Task.objects.filter(enrolment__in=enrolments()).values_list("status", flat=True))["done"] > 0

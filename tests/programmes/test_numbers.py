"""Programme numbers against a hand count on a small fixture (year 2025, rule set nbphs-2017:
>= 4 face-to-face visits, no gap over 100 days including 1 January and 31 December)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiayi.core import rulesets
from jiayi.programmes import numbers, services
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.chronic_rules import is_standardised
from jiayi.residents.services import problem_add
from tests import factories as f
from tests.programmes.conftest import ht_form

pytestmark = pytest.mark.django_db

CONTROLLED = ht_form(sbp=130, dbp=80)
UNCONTROLLED = ht_form(sbp=150, dbp=95)


def _patient(district, name, *, start=date(2024, 6, 1), visits=(), team=None, doctor=None, inst=None, mode="clinic"):
    inst = inst or district.centre_a
    area = district.community_a if inst == district.centre_a else district.community_b
    r = f.resident(inst=inst, area_=area, name=name, birth=date(1970, 3, 3))
    e = services.enrolment_create(
        actor=None,
        resident=r,
        programme="hypertension",
        start_date=start,
        doctor=doctor or district.doctor_a,
        team=team or district.team_a,
    )
    for day, form in visits:
        services.visit_record(
            actor=None, enrolment=e, visit_date=day, form=form, mode=mode, doctor=doctor or district.doctor_a
        )
    return r, e


@pytest.fixture
def cohort(district):
    d = date
    _patient(
        district,
        "甲",
        visits=[
            (d(2025, 2, 10), CONTROLLED),
            (d(2025, 5, 10), CONTROLLED),
            (d(2025, 8, 10), CONTROLLED),
            (d(2025, 11, 10), CONTROLLED),
        ],
    )
    _patient(
        district, "乙", visits=[(d(2025, 3, 1), CONTROLLED), (d(2025, 6, 1), CONTROLLED), (d(2025, 9, 1), UNCONTROLLED)]
    )
    _patient(
        district,
        "丙",
        visits=[
            (d(2025, 1, 15), CONTROLLED),
            (d(2025, 2, 15), CONTROLLED),
            (d(2025, 3, 15), CONTROLLED),
            (d(2025, 4, 15), CONTROLLED),
            (d(2025, 12, 1), CONTROLLED),
        ],
    )
    _patient(district, "丁")  # lost to follow-up
    _patient(district, "戊", start=d(2025, 10, 1), visits=[(d(2025, 10, 1), CONTROLLED), (d(2025, 12, 1), CONTROLLED)])
    _patient(district, "己", mode="phone", visits=[(d(2025, m, 5), CONTROLLED) for m in (2, 5, 8, 11)])
    _patient(
        district,
        "庚",
        team=district.team_b,
        doctor=district.doctor_b,
        inst=district.centre_b,
        visits=[(d(2025, m, 5), CONTROLLED) for m in (1, 4, 7, 10)],
    )
    # Registered with hypertension, not in management: counts in the management-rate denominator.
    other = f.resident(inst=district.centre_a, area_=district.community_a, name="辛", birth=date(1960, 1, 1))
    problem_add(actor=None, resident=other, name="原发性高血压", icd10="I10", diagnosed_on=date(2020, 1, 1))


def test_standardised_and_control_rates_match_the_hand_count(district, cohort):
    # Team A: 甲 standardised; 乙 3 visits; 丙 gap 15 Apr -> 1 Dec; 丁 no visit; 戊 enrolled 1 Oct, 2 visits
    # over 92 days (minimum ceil(4 x 92/365) = 2) standardised; 己 phone visits only.
    report = numbers.programme_numbers(
        district.district_admin.user, programme="hypertension", year=2025, group_by="team"
    )
    rows = {r.label: r for r in report.rows}
    a = rows["天平1队"]
    assert (a.managed, a.standardised, a.controlled, a.lost_to_follow_up) == (6, 2, 4, 1)
    assert a.standardised_rate == 33.3 and a.control_rate == 66.7
    b = rows["湖南1队"]
    assert (b.managed, b.standardised, b.controlled) == (1, 1, 1)
    assert report.total.managed == 7 and report.total.standardised == 3
    assert a.management_rate is None  # a team has no population of its own


def test_scope_limits_the_numbers(district, cohort):
    report = numbers.programme_numbers(district.manager_a.user, programme="hypertension", year=2025, group_by="team")
    assert [r.label for r in report.rows] == ["天平1队"]


def test_management_rate_by_institution(district, cohort):
    report = numbers.programme_numbers(
        district.manager_a.user, programme="hypertension", year=2025, group_by="institution"
    )
    row = next(r for r in report.rows if r.key == district.centre_a.pk)
    assert (row.managed, row.expected) == (6, 7)
    assert row.management_rate == 85.7
    assert any(u["param"] == "management_denominator" for u in report.unverified)


def test_plan_share_among_signed_patients(district, cohort):
    from jiayi.contracts.models import Contract
    from jiayi.programmes.models import Enrolment

    enrolments = list(Enrolment.objects.filter(team=district.team_a).select_related("resident")[:2])
    for i, e in enumerate(enrolments):
        Contract.objects.create(
            number=f"T{i}",
            resident=e.resident,
            team=district.team_a,
            doctor=district.doctor_a,
            institution=district.centre_a,
            start_date=date(2025, 1, 1),
            end_date=date(2099, 12, 31),
            signed_at=timezone.make_aware(datetime(2025, 1, 1, 9)),
            consent_method="handwritten",
            consent_signatory=e.resident.name,
        )
    services.medication_plan_set(
        actor=None,
        enrolment=enrolments[0],
        start_date=date(2025, 12, 1),
        lines=[{"drug": "氨氯地平片", "dose": 5, "dose_unit": "mg", "times_per_day": 1, "duration_days": 28}],
    )
    report = numbers.programme_numbers(district.manager_a.user, programme="hypertension", year=2025, group_by="team")
    row = report.rows[0]
    assert (row.signed, row.signed_with_plan, row.plan_rate) == (2, 1, 50.0)


def test_numbers_page_matches(client, district, cohort):
    from django.urls import reverse

    client.force_login(district.district_admin.user)
    html = client.get(reverse("programmes:numbers") + "?year=2025&group_by=team").content.decode()
    assert "33.3%" in html and "66.7%" in html


RS = rulesets.get("hypertension", "nbphs-2017")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)), max_size=12))
def test_period_definition_equals_the_rule_on_a_whole_year(days):
    assert engine_rules.standardised_in_period(days, date(2025, 1, 1), date(2025, 12, 31), RS) == is_standardised(
        days, 2025, RS
    )


@settings(max_examples=50, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)))
def test_a_patient_seen_on_every_due_date_is_standardised(start):
    """Follow the engine's schedule (next visit on the next due date) from any start: every later
    calendar year has at least 4 visits and meets the definition."""
    from jiayi.programmes.chronic import ChronicRulesAdapter

    adapter = ChronicRulesAdapter("hypertension")
    day, previous, visits = start, None, []
    while day.year <= 2026:
        ev = adapter.evaluate(
            form=CONTROLLED,
            visit_date=day,
            previous_classification=previous,
            birth_date=date(1970, 1, 1),
            sex="M",
            ruleset_code="nbphs-2017",
        )
        visits.append(day)
        previous, day = ev.classification, ev.next_due
    for year in (2025, 2026):
        assert len([v for v in visits if v.year == year]) >= 4
        assert is_standardised(visits, year, RS)


def test_estimated_denominator_counts_adults_by_their_birthday_on_the_last_day(district, monkeypatch):
    """'18岁及以上常住人口 × prevalence' (RULES.md §1.2, local): aged 18 on 31 December counts, including
    birthdays on 29-31 December (the cut-off date is not clipped to the 28th)."""
    from jiayi.core.rulesets import Param
    from jiayi.residents.models import Resident
    from jiayi.residents.rules import age_on

    estimated = engine_rules.ENGINE_2017.derive(
        code="test-estimated",
        title="test",
        effective_from=date(2017, 3, 28),
        overrides={
            "management_denominator": Param("estimated", "L", "test", verified=False, note="test"),
            "estimated_prevalence": Param({"hypertension": 1.0}, "L", "test", verified=False, note="test"),
        },
    )
    monkeypatch.setattr(engine_rules, "ENGINE_2017", estimated)
    for name, born in (("满十八", date(2007, 12, 31)), ("差一天", date(2008, 1, 1)), ("月末生", date(2007, 12, 29))):
        f.resident(inst=district.centre_a, area_=district.community_a, name=name, birth=born)
    user = district.district_admin.user
    end = date(2025, 12, 31)
    population = Resident.objects.visible_to(user).in_resident_population()
    adults = sum(1 for born in population.values_list("birth_date", flat=True) if age_on(born, end) >= 18)
    report = numbers.programme_numbers(
        user, programme="hypertension", year=2025, group_by="total", as_of=date(2026, 1, 5)
    )
    assert report.total.expected == adults
    names = set(population.values_list("name", flat=True))
    assert {"满十八", "差一天", "月末生"} <= names

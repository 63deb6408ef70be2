"""The chronic-programme definitions the programme numbers page used to count itself, now asserted on
the indicator engine's values (the page shows those): a cohort recorded through the programme services,
counted by hand (year 2025, rule set nbphs-2017: >= 4 face-to-face visits, no gap over 100 days including
1 January and 31 December, fewer visits pro rata for a patient enrolled during the year)."""

from __future__ import annotations

from datetime import date

import pytest

from jiayi.programmes import services
from jiayi.residents.services import problem_add
from tests import factories as f
from tests.indicators.test_engine_values import _at, _evaluate
from tests.programmes.conftest import ht_form

pytestmark = pytest.mark.django_db

CONTROLLED = ht_form(sbp=130, dbp=80)
UNCONTROLLED = ht_form(sbp=150, dbp=95)


def _patient(district, name, *, start=date(2024, 6, 1), visits=(), team=None, doctor=None, inst=None, mode="clinic"):
    inst = inst or district.centre_a
    area = district.community_a if inst == district.centre_a else district.community_b
    r = f.resident(inst=inst, area_=area, name=name, birth=date(1970, 3, 3))
    e = services.enrolment_create(
        actor=None, resident=r, programme="hypertension", start_date=start, doctor=doctor or district.doctor_a,
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
    _patient(district, "甲", visits=[(d(2025, m, 10), CONTROLLED) for m in (2, 5, 8, 11)])
    _patient(
        district, "乙", visits=[(d(2025, 3, 1), CONTROLLED), (d(2025, 6, 1), CONTROLLED), (d(2025, 9, 1), UNCONTROLLED)]
    )
    _patient(
        district, "丙", visits=[*[(d(2025, m, 15), CONTROLLED) for m in (1, 2, 3, 4)], (d(2025, 12, 1), CONTROLLED)]
    )
    _patient(district, "丁")  # lost to follow-up
    _patient(district, "戊", start=d(2025, 10, 1), visits=[(d(2025, 10, 1), CONTROLLED), (d(2025, 12, 1), CONTROLLED)])
    _patient(district, "己", mode="phone", visits=[(d(2025, m, 5), CONTROLLED) for m in (2, 5, 8, 11)])
    _patient(
        district, "庚", team=district.team_b, doctor=district.doctor_b, inst=district.centre_b,
        visits=[(d(2025, m, 5), CONTROLLED) for m in (1, 4, 7, 10)],
    )
    # Registered with hypertension, not in management: counts in the management-rate denominator only.
    other = f.resident(inst=district.centre_a, area_=district.community_a, name="辛", birth=date(1960, 1, 1))
    problem_add(actor=None, resident=other, name="原发性高血压", icd10="I10", diagnosed_on=date(2020, 1, 1))
    return district


def test_standardised_and_control_rates_match_the_hand_count(cohort):
    # Team A: 甲 standardised; 乙 3 visits; 丙 gap 15 Apr -> 1 Dec; 丁 no visit (managed, not at target);
    # 戊 enrolled 1 Oct, 2 visits over 92 days (minimum ceil(4 x 92/365) = 2): standardised; 己 phone only.
    ev = _evaluate("db", periods=("2025",))
    d = cohort
    assert _at(ev, "ht.standardised_rate", "2025", "team", d.team_a.pk)[:2] == (2, 6)
    assert _at(ev, "ht.control_rate", "2025", "team", d.team_a.pk)[:2] == (4, 6)  # 丁 lost, 乙 at 150/95
    assert _at(ev, "ht.standardised_rate", "2025", "team", d.team_b.pk)[:2] == (1, 1)
    assert _at(ev, "ht.control_rate", "2025", "team", d.team_b.pk)[:2] == (1, 1)
    assert _at(ev, "ht.standardised_rate", "2025", "district", d.commission.pk)[:2] == (3, 7)
    # A team has no population of its own: no management rate.
    assert _at(ev, "ht.management_rate", "2025", "team", d.team_a.pk) is None
    # Centre A: six managed of the seven with hypertension on record (辛 is not in management).
    assert _at(ev, "ht.management_rate", "2025", "centre", d.centre_a.pk)[:2] == (6, 7)


def test_the_estimated_denominator_counts_adults_by_their_birthday_on_the_last_day(district):
    """'18岁及以上常住人口 × prevalence' (RULES.md §1.2, local): aged 18 on 31 December counts, including
    birthdays on 29-31 December (the cut-off date is not clipped to the 28th)."""
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.catalogue import CATALOGUE
    from jiayi.indicators.facts import load_org, rule_context
    from jiayi.residents.models import Resident
    from jiayi.residents.rules import age_on
    from tests.indicators.conftest import TODAY

    for name, born in (("满十八", date(2007, 12, 31)), ("差一天", date(2008, 1, 1)), ("月末生", date(2007, 12, 29))):
        f.resident(inst=district.centre_a, area_=district.community_a, name=name, birth=born)
    end = date(2025, 12, 31)
    population = Resident.objects.in_resident_population()
    adults = sum(1 for born in population.values_list("birth_date", flat=True) if age_on(born, end) >= 18)
    assert {"满十八", "月末生"} <= {r.name for r in population if age_on(r.birth_date, end) >= 18}
    ctx = rule_context(TODAY, {"programme-engine": "nbphs-2017-estimated"})
    backend, raw = engine.open_source("db")
    try:
        ev = engine.evaluate(backend, raw, load_org(), [P.parse("2025")], today=TODAY, ctx=ctx,
                             indicators=[CATALOGUE["ht.management_rate"]])
    finally:
        backend.close()
    prevalence = ctx.disease("hypertension").value("estimated_prevalence")
    assert _at(ev, "ht.management_rate", "2025", "district", district.commission.pk)[1] == pytest.approx(
        adults * prevalence)

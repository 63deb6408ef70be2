"""Contract numbers: coverage (overall, key populations), renewal, fulfilment (pro rata), satisfaction."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiayi.contracts import rules
from jiayi.contracts.numbers import DEFINITIONS, contract_numbers, doctor_list_sizes, short_items
from jiayi.contracts.services import contract_renew, satisfaction_record, service_delivered
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _year():
    t = _today()
    return date(t.year, 1, 1), date(t.year, 12, 31)


def _numbers(**kw):
    start, end = _year()
    return contract_numbers(period_start=kw.pop("period_start", start), period_end=kw.pop("period_end", end), **kw)


def test_coverage_moves_when_a_resident_signs(district, packages, hypertensive):
    before = _numbers(institution=district.centre_a)
    # centre A's population: resident_a (born 1955), resident_a1 (station A1, born 1970), hypertensive (1960).
    assert (before.coverage.numerator, before.coverage.denominator) == (0, 3)
    sign(district, hypertensive, [packages["basic"], packages["hypertension"]])
    after = _numbers(institution=district.centre_a)
    assert (after.coverage.numerator, after.coverage.denominator) == (1, 3)
    assert after.by_key_population["hypertension"].numerator == 1
    assert after.by_key_population["hypertension"].denominator == 1
    assert after.by_key_population["elderly"].denominator == 2
    assert after.by_key_population["elderly"].numerator == 1
    assert (after.key_population_coverage.numerator, after.key_population_coverage.denominator) == (1, 2)
    assert after.counts["in_force"] == 1 and after.counts["signed_new"] == 1


def test_team_and_doctor_numbers_count_only_their_contracts(district, basic, hypertensive):
    sign(district, hypertensive, [basic])
    team_a = _numbers(team=district.team_a)
    assert team_a.coverage.numerator == 1 and team_a.coverage.denominator == 3
    team_b = _numbers(team=district.team_b)
    assert (team_b.coverage.numerator, team_b.coverage.denominator) == (0, 1)
    assert _numbers(doctor=district.doctor_a).coverage.numerator == 1
    assert _numbers(area=district.community_b).coverage.denominator == 1
    assert doctor_list_sizes([district.doctor_a.pk, district.doctor_b.pk]) == {
        district.doctor_a.pk: 1,
        district.doctor_b.pk: 0,
    }


def test_a_user_counts_only_what_they_may_see(district, basic):
    sign(district, district.resident_a, [basic])
    assert _numbers(user=district.doctor_b.user).coverage.numerator == 0
    assert _numbers(user=district.district_admin.user).coverage.numerator == 1
    assert _numbers(user=district.resident_user).coverage.denominator == 0


def test_fulfilment_is_pro_rata_to_the_elapsed_period(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=100))
    n = _numbers(team=district.team_a)
    assert (n.fulfilment.numerator, n.fulfilment.denominator) == (0, 1)
    assert n.counts["behind_today"] == 1
    for it in c.items.all():
        for k in range(rules.units_due(c.start_date, c.end_date, it.quantity, _today())):
            service_delivered(
                resident=district.resident_a,
                service_code=it.service_code,
                delivered_on=_today(),
                source="test",
                source_id=100 * it.pk + k,
            )
    n = _numbers(team=district.team_a)
    assert (n.fulfilment.numerator, n.fulfilment.denominator) == (1, 1)
    assert n.counts["behind_today"] == 0


def test_fulfilment_on_a_past_day_counts_deliveries_up_to_that_day(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=200))
    as_of = _today() - timedelta(days=50)  # day 151: 1 consultation, 0 BP measurements… due
    late = _today()
    for it in c.items.all():
        due = rules.units_due(c.start_date, c.end_date, it.quantity, as_of)
        for k in range(due):
            service_delivered(
                resident=district.resident_a,
                service_code=it.service_code,
                delivered_on=late,
                source="test",
                source_id=100 * it.pk + k,
            )
    past = _numbers(team=district.team_a, period_start=as_of - timedelta(days=30), period_end=as_of)
    assert past.as_of == as_of
    assert (past.fulfilment.numerator, past.fulfilment.denominator) == (0, 1)  # delivered only later
    live = short_items(as_of, live_counters=True).filter(contract=c)
    assert not live.exists()  # with today's counters nothing is short at that day


def test_expired_contracts_must_have_delivered_everything(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400))
    n = _numbers(team=district.team_a, period_start=c.end_date - timedelta(days=10), period_end=c.end_date)
    assert (n.fulfilment.numerator, n.fulfilment.denominator) == (0, 1)
    assert n.as_of == c.end_date


def test_renewal_rate(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=380))
    other = sign(district, district.resident_a1, [basic], start_date=_today() - timedelta(days=380))
    period = {"period_start": _today() - timedelta(days=60), "period_end": _today()}
    n = _numbers(team=district.team_a, **period)
    assert (n.renewal.numerator, n.renewal.denominator) == (0, 2)
    contract_renew(actor=district.doctor_a.user, contract=old, consent_method="handwritten")
    n = _numbers(team=district.team_a, **period)
    assert (n.renewal.numerator, n.renewal.denominator) == (1, 2)
    assert n.counts["signed_renewal"] == 1
    assert other.end_date < _today()


def test_satisfaction_rate(district, basic, hypertensive):
    c1 = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=30))
    c2 = sign(district, hypertensive, [basic], start_date=_today() - timedelta(days=30))
    scores = {"attitude_score": 4, "access_score": 4, "skill_score": 4, "fulfilment_score": 4}
    satisfaction_record(actor=None, contract=c1, surveyed_on=_today(), method="phone", overall_score=5, **scores)
    satisfaction_record(actor=None, contract=c2, surveyed_on=_today(), method="phone", overall_score=3, **scores)
    n = _numbers(team=district.team_a)
    assert (n.satisfaction.numerator, n.satisfaction.denominator) == (1, 2)
    assert n.mean_overall_score == 4.0
    assert n.satisfaction.percent == "50.0%"


def test_every_number_has_a_definition_marked_as_convention():
    for code in ("coverage", "key_population_coverage", "renewal", "fulfilment", "satisfaction"):
        d = DEFINITIONS[code]
        assert d.numerator and d.denominator and d.source and d.convention


def test_numbers_take_a_fixed_number_of_queries(district, basic, hypertensive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _numbers(team=district.team_a)
    for r in (district.resident_a, district.resident_a1, hypertensive):
        sign(district, r, [basic], start_date=_today() - timedelta(days=50))
    with CaptureQueriesContext(connection) as many:
        _numbers(team=district.team_a)
    assert len(many.captured_queries) <= len(few.captured_queries) <= 12  # the first also fills the org cache


def test_definition_texts_are_translatable_chinese_message_ids():
    from django.utils.functional import Promise
    from django.utils.translation import override

    for d in DEFINITIONS.values():
        for text in (d.name, d.numerator, d.denominator, d.source):
            assert isinstance(text, Promise), d.code
    with override("zh-hans"):
        assert str(DEFINITIONS["renewal"].name) == "续约率"
    with override("en"):
        assert str(DEFINITIONS["renewal"].name) == "Renewal rate"  # follows the active language

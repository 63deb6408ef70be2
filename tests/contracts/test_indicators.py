"""The contract definitions the team page used to count itself (coverage overall and per key population,
renewal, fulfilment pro rata to the elapsed service period, satisfaction), now asserted on the indicator
engine's values for contracts signed through the services, and the list sizes that stay contract reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiayi.contracts import rules
from jiayi.contracts.selectors import doctor_list_sizes
from jiayi.contracts.services import contract_renew, satisfaction_record, service_delivered
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today() -> date:
    return timezone.localdate()


def _values(*periods: str) -> dict:
    """(indicator, period, level, unit) -> (numerator, denominator, value), evaluated as of today."""
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.facts import load_org, rule_context

    backend, raw = engine.open_source("db")
    try:
        return engine.evaluate(backend, raw, load_org(), [P.parse(p) for p in periods], today=_today(),
                               ctx=rule_context(_today())).as_dict()
    finally:
        backend.close()


def _month(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _month_end(day: date) -> date:
    return rules.add_months(date(day.year, day.month, 1), 1) - timedelta(days=1)


def _rate(values: dict, code: str, period: str, level: str, unit_id: int) -> tuple | None:
    got = values.get((code, period, level, unit_id))
    return None if got is None else got[:2]


def _deliver_due(contract, resident, on: date, delivered_on: date, first_id: int) -> None:
    for it in contract.items.all():
        for k in range(rules.units_due(contract.start_date, contract.end_date, it.quantity, on)):
            service_delivered(resident=resident, service_code=it.service_code, delivered_on=delivered_on,
                              source="test", source_id=first_id + 100 * it.pk + k)


def test_coverage_moves_when_a_resident_signs(district, packages, hypertensive):
    year = str(_today().year)
    centre = district.centre_a.pk
    before = _values(year)
    # centre A's population: resident_a (born 1955), resident_a1 (station A1, born 1970), hypertensive (1960).
    assert _rate(before, "contract.coverage", year, "centre", centre) == (0, 3)
    sign(district, hypertensive, [packages["basic"], packages["hypertension"]])
    after = _values(year)
    assert _rate(after, "contract.coverage", year, "centre", centre) == (1, 3)
    assert _rate(after, "contract.coverage.hypertension", year, "centre", centre) == (1, 1)
    assert _rate(after, "contract.coverage.elderly", year, "centre", centre) == (1, 2)
    assert _rate(after, "contract.coverage.key_populations", year, "centre", centre) == (1, 2)
    # A team has no population of its own: coverage exists for the institution, not for the team.
    assert _rate(after, "contract.coverage", year, "team", district.team_a.pk) is None


def test_fulfilment_is_pro_rata_to_the_elapsed_period(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=100))
    month = _month(_today())
    assert _rate(_values(month), "contract.fulfilment_rate", month, "team", district.team_a.pk) == (0, 1)
    _deliver_due(c, district.resident_a, _today(), _today(), 0)
    assert _rate(_values(month), "contract.fulfilment_rate", month, "team", district.team_a.pk) == (1, 1)


def test_fulfilment_of_a_past_month_counts_deliveries_up_to_its_end(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=200))
    past = _today() - timedelta(days=50)
    month, end = _month(past), _month_end(past)
    assert any(rules.units_due(c.start_date, c.end_date, it.quantity, end) for it in c.items.all())
    _deliver_due(c, district.resident_a, end, _today(), 0)  # delivered only later
    assert _rate(_values(month), "contract.fulfilment_rate", month, "team", district.team_a.pk) == (0, 1)
    _deliver_due(c, district.resident_a, end, end, 10_000)  # delivered by the month's end
    assert _rate(_values(month), "contract.fulfilment_rate", month, "team", district.team_a.pk) == (1, 1)


def test_an_expired_contract_must_have_delivered_everything(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400))
    assert c.end_date < _today()
    month = _month(c.end_date)
    assert _rate(_values(month), "contract.fulfilment_rate", month, "team", district.team_a.pk) == (0, 1)


def test_renewal_rate(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=380))
    other = sign(district, district.resident_a1, [basic], start_date=_today() - timedelta(days=380))
    assert old.end_date < _today() and other.end_date < _today()
    year = str(old.end_date.year)
    assert _rate(_values(year), "contract.renewal_rate", year, "team", district.team_a.pk) == (0, 2)
    contract_renew(actor=district.doctor_a.user, contract=old, consent_method="handwritten")
    assert _rate(_values(year), "contract.renewal_rate", year, "team", district.team_a.pk) == (1, 2)


def test_satisfaction_rate(district, basic, hypertensive):
    c1 = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=30))
    c2 = sign(district, hypertensive, [basic], start_date=_today() - timedelta(days=30))
    scores = {"attitude_score": 4, "access_score": 4, "skill_score": 4, "fulfilment_score": 4}
    satisfaction_record(actor=None, contract=c1, surveyed_on=_today(), method="phone", overall_score=5, **scores)
    satisfaction_record(actor=None, contract=c2, surveyed_on=_today(), method="phone", overall_score=3, **scores)
    year = str(_today().year)
    num, den, value = _values(year)[("contract.satisfaction", year, "team", district.team_a.pk)]
    assert (num, den, value) == (1, 2, 50.0)


def test_every_contract_indicator_says_it_is_a_project_convention():
    from django.utils import translation

    from jiayi.indicators import catalogue as C
    from jiayi.indicators.selectors import indicator_text

    for code in ("contract.coverage", "contract.coverage.key_populations", "contract.renewal_rate",
                 "contract.fulfilment_rate", "contract.satisfaction"):
        with translation.override("zh-hans"):
            ind = indicator_text(C.get(code))
            assert ind.numerator and ind.denominator and "项目约定" in ind.source, code
        with translation.override("en"):
            assert "project convention" in indicator_text(C.get(code)).source, code


def test_doctor_list_sizes_count_contracts_in_force(district, basic, hypertensive):
    sign(district, hypertensive, [basic])
    assert doctor_list_sizes([district.doctor_a.pk, district.doctor_b.pk]) == {
        district.doctor_a.pk: 1,
        district.doctor_b.pk: 0,
    }

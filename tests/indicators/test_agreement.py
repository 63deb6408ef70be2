"""The indicator engine and the apps' own numbers (programmes.numbers, contracts.numbers) agree.

The engine re-expresses the programme and contract definitions as ibis expressions over the fact
tables; these tests run both on the same hand-built district and compare the counts.
"""

from __future__ import annotations

from datetime import date

from tests.indicators.conftest import TODAY
from tests.indicators.test_engine_values import _at, _evaluate


def test_engine_agrees_with_the_programme_numbers(small):
    from jiayi.programmes.numbers import programme_numbers

    user = small.d.district_admin.user
    ev = _evaluate("db", periods=("2025",))
    district = small.d.commission.pk
    signed = signed_with_plan = 0
    for programme, prefix in (("hypertension", "ht"), ("diabetes", "dm")):
        total = programme_numbers(user, programme=programme, year=2025, group_by="total", as_of=TODAY).total
        assert _at(ev, f"{prefix}.standardised_rate", "2025", "district", district)[:2] == (
            total.standardised, total.managed
        )
        assert _at(ev, f"{prefix}.control_rate", "2025", "district", district)[:2] == (total.controlled, total.managed)
        assert _at(ev, f"{prefix}.management_rate", "2025", "district", district)[:2] == (
            total.managed, total.expected
        )
        signed += total.signed or 0
        signed_with_plan += total.signed_with_plan or 0
        by_doctor = programme_numbers(user, programme=programme, year=2025, group_by="doctor", as_of=TODAY)
        for row in by_doctor.rows:
            assert _at(ev, f"{prefix}.standardised_rate", "2025", "doctor", row.key)[:2] == (
                row.standardised, row.managed
            )
    assert _at(ev, "chronic.medication_plan_share", "2025", "district", district)[:2] == (signed_with_plan, signed)


def test_engine_agrees_with_the_programme_numbers_year_to_date(small):
    from jiayi.programmes.numbers import programme_numbers

    user = small.d.district_admin.user
    ev = _evaluate("db", periods=("2025-YTD06",))
    total = programme_numbers(user, programme="hypertension", year=2025, group_by="total",
                              as_of=date(2025, 6, 30)).total
    assert _at(ev, "ht.standardised_rate", "2025-YTD06", "district", small.d.commission.pk)[:2] == (
        total.standardised, total.managed
    )
    assert _at(ev, "ht.control_rate", "2025-YTD06", "district", small.d.commission.pk)[:2] == (
        total.controlled, total.managed
    )


def test_engine_agrees_with_the_contract_numbers(small):
    from jiayi.contracts.numbers import contract_numbers

    numbers = contract_numbers(period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), today=TODAY)
    ev = _evaluate("db", periods=("2025",))
    district = small.d.commission.pk

    def rate(code):
        return _at(ev, code, "2025", "district", district)[:2]

    assert rate("contract.coverage") == (numbers.coverage.numerator, numbers.coverage.denominator)
    assert rate("contract.coverage.key_populations") == (
        numbers.key_population_coverage.numerator, numbers.key_population_coverage.denominator
    )
    for code, r in numbers.by_key_population.items():
        got = _at(ev, f"contract.coverage.{code}", "2025", "district", district)
        assert (got[:2] if got else (0, 0)) == (r.numerator, r.denominator), code
    assert rate("contract.renewal_rate") == (numbers.renewal.numerator, numbers.renewal.denominator)
    assert rate("contract.fulfilment_rate") == (numbers.fulfilment.numerator, numbers.fulfilment.denominator)
    assert rate("contract.satisfaction") == (numbers.satisfaction.numerator, numbers.satisfaction.denominator)

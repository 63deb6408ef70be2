"""contracts.rules (pure): periods, the even fulfilment schedule, fees, eligibility, the rule set."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from jiayi.contracts import rules
from jiayi.core import rulesets


def test_add_months_clamps_to_the_month_end():
    assert rules.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.add_months(date(2025, 3, 15), -12) == date(2024, 3, 15)


def test_a_one_year_contract_ends_the_day_before_the_anniversary():
    assert rules.contract_end(date(2025, 3, 1), 12) == date(2026, 2, 28)
    assert rules.contract_end(date(2024, 2, 29), 12) == date(2025, 2, 27)
    assert rules.period_days(date(2025, 1, 1), date(2025, 12, 31)) == 365


def test_four_follow_ups_a_year_are_due_quarterly():
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    deadlines = [rules.unit_deadline(start, end, 4, k) for k in range(1, 5)]
    # Day 92, 183, 274 and 365 of the year.
    assert deadlines == [date(2025, 4, 2), date(2025, 7, 2), date(2025, 10, 1), date(2025, 12, 31)]
    assert rules.units_due(start, end, 4, date(2025, 4, 1)) == 0
    assert rules.units_due(start, end, 4, date(2025, 4, 2)) == 1
    assert rules.units_due(start, end, 4, date(2026, 6, 1)) == 4
    assert rules.units_due(start, end, 4, date(2024, 6, 1)) == 0


def test_a_single_annual_check_is_due_by_the_end():
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    assert rules.unit_deadline(start, end, 1, 1) == end
    assert rules.units_due(start, end, 1, date(2025, 12, 30)) == 0
    assert rules.units_due(start, end, 1, end) == 1


@given(
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
    quantity=st.integers(min_value=1, max_value=60),
    offset=st.integers(min_value=-10, max_value=900),
    delivered=st.integers(min_value=0, max_value=70),
)
def test_next_deadline_agrees_with_units_due(start, days, quantity, offset, delivered):
    end = start + timedelta(days=days)
    on = start + timedelta(days=offset)
    due = rules.units_due(start, end, quantity, on)
    assert 0 <= due <= quantity
    nxt = rules.next_deadline(start, end, quantity, delivered)
    behind = nxt is not None and nxt < on
    # Behind on `on` <=> fewer delivered than units due by the end of the previous day.
    assert behind == (delivered < rules.units_due(start, end, quantity, on - timedelta(days=1)))
    if nxt is not None:
        assert start <= nxt <= end


def test_item_states():
    on = date(2025, 6, 1)
    assert rules.item_state(next_due=None, on=on) == "done"
    assert rules.item_state(next_due=date(2025, 5, 31), on=on) == "behind"
    assert rules.item_state(next_due=date(2025, 6, 20), on=on) == "due_soon"
    assert rules.item_state(next_due=date(2025, 9, 1), on=on) == "on_track"


def test_fees_add_up_and_a_waiver_moves_the_resident_share():
    shares = [
        (Decimal(120), Decimal(60), Decimal(40), Decimal(20)),
        (Decimal(150), Decimal(90), Decimal(40), Decimal(20)),
    ]
    fees = rules.split_fees(shares, waive_resident_share=False)
    assert (fees.total, fees.resident, fees.waived) == (Decimal(270), Decimal(40), Decimal(0)) and fees.balanced()
    waived = rules.split_fees(shares, waive_resident_share=True)
    assert (waived.resident, waived.waived) == (Decimal(0), Decimal(40)) and waived.balanced()


def test_eligibility():
    assert rules.ineligible_reason([], {"elderly"}) is None
    assert rules.ineligible_reason(["hypertension"], {"elderly", "hypertension"}) is None
    assert rules.ineligible_reason(["maternal"], {"elderly"}) == "maternal"


def test_renewal_window():
    opens, closes = rules.renewal_window(date(2025, 12, 31))
    assert opens == date(2025, 11, 1) and closes == date(2026, 3, 31)


def test_the_rule_set_is_registered_with_unverified_conventions():
    rs = rulesets.get(rules.PROGRAMME, "jiayi-2025")
    assert rs.value("period_months") == 12
    assert {"renewal_opens_days_before_end", "fee_waiver_groups", "satisfied_min_score"} <= set(rs.unverified())
    assert rules.default_ruleset(date(2025, 1, 1)) is rs

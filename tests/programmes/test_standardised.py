"""The standardised-management definition over a period (programmes.rules.standardised_in_period, which
the indicator engine's ``*.standardised_rate`` follows) against the whole-year rule, and the engine's own
schedule keeping a patient standardised. Moved from the programme numbers' tests when they went."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiayi.core import rulesets
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.chronic_rules import is_standardised
from tests.programmes.conftest import ht_form

CONTROLLED = ht_form(sbp=130, dbp=80)
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

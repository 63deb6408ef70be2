"""Reporting periods: codes, bounds, evaluation day, age cut-offs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayi.indicators import periods as P
from jiayi.residents.rules import age_on


@pytest.mark.parametrize(
    ("code", "kind", "start", "end"),
    [
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-YTD05", "ytd", date(2026, 1, 1), date(2026, 5, 31)),
    ],
)
def test_it_parses_period_codes(code, kind, start, end):
    p = P.parse(code)
    assert (p.kind, p.start, p.end, p.code) == (kind, start, end, code)


@pytest.mark.parametrize("bad", ["", "26", "2026-13", "2026-Q5", "2026-YTD00", "2026/03", "x"])
def test_it_refuses_unknown_codes(bad):
    with pytest.raises(ValueError):
        P.parse(bad)


def test_a_running_period_is_evaluated_today():
    today = date(2026, 5, 14)
    assert P.parse("2026").as_of(today) == today
    assert P.parse("2026-04").as_of(today) == date(2026, 4, 30)
    assert not P.parse("2026-06").started(today)


def test_recent_periods_cover_thirteen_months_and_their_rollups():
    codes = [p.code for p in P.recent_periods(date(2026, 11, 28), 13)]
    months = [c for c in codes if len(c) == 7 and "Q" not in c]
    assert months[0] == "2025-11" and months[-1] == "2026-11" and len(months) == 13
    assert {"2025", "2026", "2025-Q4", "2026-Q4", "2026-YTD11"} <= set(codes)


def test_periods_of_a_past_year_include_all_months():
    assert len([p for p in P.periods_for_year(2025, date(2026, 1, 15)) if p.kind == "month"]) == 12


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)), st.integers(min_value=1, max_value=80))
def test_birth_cutoff_agrees_with_age_on(on, years):
    cut = P.birth_cutoff(on, years)
    assert age_on(cut, on) >= years
    nxt = date.fromordinal(cut.toordinal() + 1)
    assert nxt > on or age_on(nxt, on) < years


def test_day_numbers_round_trip():
    assert P.day_number(date(1970, 1, 1)) == 0
    assert P.from_day_number(P.day_number(date(1955, 3, 9))) == date(1955, 3, 9)

"""Reporting periods of the indicator engine: month, quarter, year to date, year.

Pure Python (no Django). A period has a code (``2026-03``, ``2026-Q1``, ``2026-YTD03``, ``2026``), a
first and a last day; it is evaluated *as of* ``min(last day, today)`` so that the current month,
quarter and year show their value so far. Dates cross into the analytical layer as integer day
numbers (days since 1970-01-01), which every backend compares and subtracts the same way.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from jiayi.indicators.texts import Text
from jiayi.indicators.texts import mark as _

__all__ = [
    "EPOCH",
    "KINDS",
    "Period",
    "add_months",
    "birth_cutoff",
    "day_number",
    "from_day_number",
    "month_index",
    "parse",
    "periods_for_year",
    "recent_periods",
]

EPOCH: Final[date] = date(1970, 1, 1)


#: Month names (message ids), January first.
MONTHS: Final[tuple[Text, ...]] = (
    _("1月"), _("2月"), _("3月"), _("4月"), _("5月"), _("6月"),
    _("7月"), _("8月"), _("9月"), _("10月"), _("11月"), _("12月"),
)

#: kind -> Chinese label (message id).
KINDS: Final[dict[str, str]] = {"month": "月", "quarter": "季度", "ytd": "年初至今", "year": "年度"}

_CODE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>0[1-9]|1[0-2])|-Q(?P<q>[1-4])|-YTD(?P<t>0[1-9]|1[0-2]))?$")


def day_number(d: date) -> int:
    """Days since 1970-01-01 (negative before)."""
    return (d - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def month_index(d: date) -> int:
    """A running month number (year * 12 + month - 1): consecutive months differ by one."""
    return d.year * 12 + d.month - 1


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months; the day is clamped to the month's length."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def birth_cutoff(on: date, years: int) -> date:
    """The latest birth date of someone who is at least ``years`` full years old on ``on``.

    Same rule as ``residents.rules.age_on``: the birthday counts from the day itself, and someone born
    on 29 February turns a year older on 1 March in common years.
    """
    year = on.year - years
    day = min(on.day, calendar.monthrange(year, on.month)[1])
    return date(year, on.month, day)


@dataclass(frozen=True, order=True)
class Period:
    kind: str  # one of KINDS
    year: int
    index: int  # month 1-12 (month, ytd), quarter 1-4, 0 for the year

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        limit = {"month": 12, "ytd": 12, "quarter": 4, "year": 0}[self.kind]
        if (self.kind == "year" and self.index != 0) or (self.kind != "year" and not 1 <= self.index <= limit):
            raise ValueError(f"bad index {self.index} for a {self.kind} period")

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        if self.kind == "ytd":
            return f"{self.year}-YTD{self.index:02d}"
        return str(self.year)

    @property
    def start(self) -> date:
        if self.kind == "month":
            return date(self.year, self.index, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        if self.kind in ("month", "ytd"):
            return date(self.year, self.index, calendar.monthrange(self.year, self.index)[1])
        if self.kind == "quarter":
            m = 3 * self.index
            return date(self.year, m, calendar.monthrange(self.year, m)[1])
        return date(self.year, 12, 31)

    def as_of(self, today: date) -> date:
        """The day the period is evaluated on: its last day, or today while it is running."""
        return min(self.end, today)

    def started(self, today: date) -> bool:
        return self.start <= today

    @property
    def label(self) -> Text:
        """Chinese label (a message), e.g. 2026年3月, 2026年第1季度, 2026年1-3月累计, 2026年."""
        if self.kind == "month":
            return _("{year}年{month}", year=self.year, month=MONTHS[self.index - 1])
        if self.kind == "quarter":
            return _("{year}年第{quarter}季度", year=self.year, quarter=self.index)
        if self.kind == "ytd":
            return _("{year}年1-{month}累计", year=self.year, month=MONTHS[self.index - 1])
        return _("{year}年", year=self.year)

    def __str__(self) -> str:
        return self.code


def parse(code: str) -> Period:
    """The period of ``code``; ValueError for anything else."""
    m = _CODE.match((code or "").strip())
    if not m:
        raise ValueError(f"unknown period {code!r}: use 2026, 2026-03, 2026-Q1 or 2026-YTD03")
    y = int(m["y"])
    if m["m"]:
        return Period("month", y, int(m["m"]))
    if m["q"]:
        return Period("quarter", y, int(m["q"]))
    if m["t"]:
        return Period("ytd", y, int(m["t"]))
    return Period("year", y, 0)


def _with_rollups(months: list[tuple[int, int]], today: date) -> list[Period]:
    out: set[Period] = set()
    for y, m in months:
        out.add(Period("month", y, m))
        out.add(Period("ytd", y, m))
        out.add(Period("quarter", y, (m - 1) // 3 + 1))
        out.add(Period("year", y, 0))
    return sorted((p for p in out if p.started(today)), key=lambda p: (p.end, p.start, p.kind))


def periods_for_year(year: int, today: date) -> list[Period]:
    """Every period of ``year`` that has started by ``today``: months, quarters, year-to-date, year."""
    last = 12 if year < today.year else today.month
    return _with_rollups([(year, m) for m in range(1, last + 1)], today)


def recent_periods(today: date, months: int = 13) -> list[Period]:
    """The last ``months`` months up to ``today`` and the quarters, year-to-date and years they touch."""
    first = add_months(today.replace(day=1), -(months - 1))
    span = [add_months(first, i) for i in range(months)]
    return _with_rollups([(d.year, d.month) for d in span], today)

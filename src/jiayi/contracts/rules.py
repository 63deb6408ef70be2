"""Family-doctor contract rules: periods, renewal window, fees, eligibility and the fulfilment schedule.

Pure Python (no Django). What the national texts say is in RULES.md §6; almost everything a system
needs beyond "one doctor at a time, a period of (in principle) at least one year" was NOT FOUND, so the
values below are **project conventions** held as rule-set data (``verified=False`` with a note) in the
rule set ``family-doctor/jiayi-2025``. A local policy becomes a new rule set via ``RuleSet.derive``.

Fulfilment schedule (履约进度, project convention). An item promised ``q`` times over a contract period
of ``P`` days (start and end inclusive) is spread evenly over the period: unit ``k`` (1..q) has the
deadline ``start + ceil(k·P/q) − 1`` days, so the last unit's deadline is the end date. On day ``d`` the
units *due* are those whose deadline is on or before ``d``::

    units_due(d) = floor((min(d, end) − start + 1) · q / P)      (0 before the start)

A contract is *on schedule* on ``d`` when every item has at least ``units_due(d)`` deliveries dated on or
before ``d``; an item is *behind* when its next deadline (the deadline of unit ``delivered + 1``) has
passed. Four BP follow-ups a year are thus due by about day 91, 182, 274 and 365; a single annual check is
due by the end date.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet

__all__ = [
    "DEFAULT",
    "PROGRAMME",
    "Fees",
    "add_months",
    "contract_end",
    "default_ruleset",
    "ineligible_reason",
    "is_satisfied",
    "item_state",
    "next_deadline",
    "period_days",
    "renewal_window",
    "split_fees",
    "unit_deadline",
    "units_due",
]

PROGRAMME: Final[str] = "family-doctor"


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


_CONVENTION = "project convention (RULES.md §6.2: not found in any consulted source)"

DEFAULT: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="jiayi-2025",
        programme=PROGRAMME,
        title=_("家庭医生签约服务（项目默认规则）"),
        effective_from=date(2016, 6, 6),  # 《关于推进家庭医生签约服务的指导意见》 (2016)
        params={
            "period_months": Param(
                12,
                "M",
                "RULES.md §6.1: 签约周期原则上不少于一年 (uianet.net quoting policy); "
                "每次签约的服务周期为1年 (news.hndaily.cn 2017)",
            ),
            "min_period_months": Param(
                12,
                "M",
                "RULES.md §6.1: 签约周期原则上不少于一年",
                note="'in principle' (原则上): a shorter period warns, it is not refused",
            ),
            "renewal_opens_days_before_end": Param(
                60,
                "NOT FOUND",
                _CONVENTION,
                verified=False,
                note="how early a renewal may be signed; matches the 60-day expiry work list",
            ),
            "renewal_grace_days_after_end": Param(
                90,
                "NOT FOUND",
                _CONVENTION,
                verified=False,
                note="a renewal signed later than this after expiry is a new contract, not a renewal",
            ),
            "start_max_days_ahead": Param(
                90,
                "NOT FOUND",
                _CONVENTION,
                verified=False,
                note="how far in the future a new contract may start",
            ),
            "expiring_soon_days": Param(
                (30, 60),
                "NOT FOUND",
                "issue #3 (work list: contracts expiring in 30/60 days)",
                verified=False,
                note="work-list horizons, not a policy rule",
            ),
            "fee_waiver_groups": Param(
                ("poverty_lifted",),
                "NOT FOUND",
                "RULES.md §6.2: fees NOT FOUND; unverified recollection that the fee is shared by insurance, "
                "public-health funds and the resident; TARGETS.md workflows: fees waived for the poor",
                verified=False,
                note="key populations whose resident share is waived automatically (脱贫人口); local policy varies",
            ),
            "satisfied_min_score": Param(
                4,
                "NOT FOUND",
                _CONVENTION,
                verified=False,
                note="a survey counts as satisfied when the overall score is 4 (满意) or 5 (非常满意) of 5",
            ),
            "fulfilment_schedule": Param(
                "even",
                "NOT FOUND",
                _CONVENTION,
                verified=False,
                note="items are due evenly over the period (see contracts.rules docstring)",
            ),
        },
        note="Contract-service values not found in national texts; see RULES.md §6.2 and §11 item 2.",
    )
)


def default_ruleset(on: date | None = None) -> RuleSet:
    """The rule set in effect on ``on``; periods before the first version use the earliest one."""
    try:
        return rulesets.default_for(PROGRAMME, on or date.today())
    except KeyError:
        return rulesets.for_programme(PROGRAMME)[0]


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, the day clamped to the month end (31 Jan + 1 → 28/29 Feb)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def contract_end(start: date, months: int) -> date:
    """The last day of a period of ``months`` starting on ``start`` (1 Mar 2025 + 12 → 28 Feb 2026)."""
    if months < 1:
        raise ValueError("a contract period is at least one month")
    return add_months(start, months) - timedelta(days=1)


def period_days(start: date, end: date) -> int:
    """Days in the period, both ends included."""
    if end < start:
        raise ValueError("end is before start")
    return (end - start).days + 1


def renewal_window(end: date, ruleset: RuleSet = DEFAULT) -> tuple[date, date]:
    """First and last day on which a contract ending on ``end`` may be renewed."""
    return (
        end - timedelta(days=ruleset.value("renewal_opens_days_before_end")),
        end + timedelta(days=ruleset.value("renewal_grace_days_after_end")),
    )


# ---------------------------------------------------------------------------------------------
# Fulfilment schedule
# ---------------------------------------------------------------------------------------------


def unit_deadline(start: date, end: date, quantity: int, k: int) -> date:
    """Deadline of unit ``k`` (1-based) of an item promised ``quantity`` times over [start, end]."""
    if quantity < 1 or not 1 <= k <= quantity:
        raise ValueError("k must be between 1 and quantity")
    p = period_days(start, end)
    return start + timedelta(days=-(-k * p // quantity) - 1)


def units_due(start: date, end: date, quantity: int, on: date) -> int:
    """Units whose deadline is on or before ``on`` (the whole quantity from the end date on)."""
    if on < start or quantity < 1:
        return 0
    p = period_days(start, end)
    elapsed = (min(on, end) - start).days + 1
    return elapsed * quantity // p


def next_deadline(start: date, end: date, quantity: int, delivered: int) -> date | None:
    """Deadline of the next undelivered unit, or None when the item is fully delivered."""
    if delivered >= quantity:
        return None
    return unit_deadline(start, end, quantity, delivered + 1)


class ItemState:
    DONE = "done"  # 已完成
    BEHIND = "behind"  # 滞后
    DUE_SOON = "due_soon"  # 即将到期
    ON_TRACK = "on_track"  # 正常

    LABELS: Final[dict[str, str]] = {
        DONE: _("已完成"),
        BEHIND: _("滞后"),
        DUE_SOON: _("近期应完成"),
        ON_TRACK: _("正常"),
    }


def item_state(*, next_due: date | None, on: date, soon_days: int = 30) -> str:
    if next_due is None:
        return ItemState.DONE
    if next_due < on:
        return ItemState.BEHIND
    if next_due <= on + timedelta(days=soon_days):
        return ItemState.DUE_SOON
    return ItemState.ON_TRACK


# ---------------------------------------------------------------------------------------------
# Eligibility and fees
# ---------------------------------------------------------------------------------------------


def ineligible_reason(target_groups: Iterable[str], resident_groups: Iterable[str]) -> str | None:
    """None when a package with ``target_groups`` (empty: everyone) fits a resident in ``resident_groups``;
    otherwise the codes the package requires, comma-joined (the caller words the message)."""
    targets = set(target_groups)
    if not targets or targets & set(resident_groups):
        return None
    return ",".join(sorted(targets))


@dataclass(frozen=True)
class Fees:
    """A contract's fee in yuan: total = insurance + public_health + resident + waived."""

    total: Decimal
    insurance: Decimal
    public_health: Decimal
    resident: Decimal
    waived: Decimal

    def balanced(self) -> bool:
        return self.total == self.insurance + self.public_health + self.resident + self.waived


def split_fees(shares: Sequence[tuple[Decimal, Decimal, Decimal, Decimal]], *, waive_resident_share: bool) -> Fees:
    """Sum per-package ``(price, insurance, public_health, resident)``; a waiver moves the resident
    share to ``waived`` (the resident pays nothing)."""
    price = sum((s[0] for s in shares), Decimal(0))
    ins = sum((s[1] for s in shares), Decimal(0))
    ph = sum((s[2] for s in shares), Decimal(0))
    res = sum((s[3] for s in shares), Decimal(0))
    if waive_resident_share:
        return Fees(price, ins, ph, Decimal(0), res)
    return Fees(price, ins, ph, res, Decimal(0))


def is_satisfied(overall_score: int, ruleset: RuleSet = DEFAULT) -> bool:
    return overall_score >= ruleset.value("satisfied_min_score")

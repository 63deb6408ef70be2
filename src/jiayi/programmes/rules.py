"""Programme-engine rules that are not specific to one disease. Pure Python (no Django).

Importing this module registers two rule sets:

- ``long-prescription`` / ``nhc-2021`` — 长期处方管理规范（试行） (NHC and NHSA, 2021-08; RULES.md §10.3, H):
  at most 4 weeks normally, up to 12 weeks for stable patients when the doctor documents an
  assessment and the patient confirms; excluded drug classes. What counts as "stable" is not defined
  in the sources reviewed: a project convention (consecutive controlled follow-ups), unverified.
- ``programme-engine`` / ``nbphs-2017`` — definitions the programme numbers and the screening
  workflow need and the sources leave open (RULES.md §1.2, §2.1, §2.5, §2.6): the management-rate
  denominator, the screening re-check interval, the annual-check due date, how the standardised-
  management definition of the disease rule set is applied to a part of a year. The prevalence an
  *estimated* denominator multiplies by is a parameter of each disease's own rule set
  (``estimated_prevalence``; None = no estimate, the registered patients count).

The standardised-management definition itself (minimum visits, longest gap, year edges) lives in the
disease rule sets (``chronic_rules.common_params``); :func:`standardised_in_period` applies exactly
those parameters to any period, and equals :func:`chronic_rules.is_standardised` on a whole year.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet

__all__ = [
    "ENGINE_2017",
    "LONG_RX_2021",
    "ForecastLine",
    "LongPrescriptionCheck",
    "annual_check_due",
    "check_long_prescription",
    "is_stable",
    "monthly_forecast",
    "period_min_visits",
    "standardised_in_period",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


_S103 = "RULES.md §10.3 — 长期处方管理规范（试行）, NHC and NHSA 2021-08"

LONG_RX_2021: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nhc-2021",
        programme="long-prescription",
        title=_("长期处方管理规范（试行）（2021）"),
        effective_from=date(2021, 8, 10),
        note="effective_from approximates the publication in August 2021",
        params={
            "max_days_normal": Param(28, "H", _S103 + " — normally within 4 weeks"),
            "max_days_extended": Param(84, "H", _S103 + " — stable patients, at most 12 weeks"),
            "extended_needs_assessment": Param(True, "H", _S103 + " — over 4 weeks: assess, record"),
            "extended_needs_confirmation": Param(True, "H", _S103 + " — the patient confirms (e.g. signs)"),
            "excluded_classes": Param(
                (
                    "toxic",
                    "radioactive",
                    "precursor",
                    "narcotic",
                    "psychotropic",
                    "antimicrobial",
                    "special_storage",
                ),
                "H",
                _S103 + " — excluded drugs",
                note="antimicrobials for chronic bacterial or fungal infections (e.g. TB) are allowed: "
                "record them as another class",
            ),
            "stable_consecutive_controlled": Param(
                2,
                "NOT FOUND",
                _S103 + " — 'stable medication plan, good adherence, stable control'",
                verified=False,
                note="'病情稳定' is not quantified; project convention: the last 2 follow-ups controlled",
            ),
        },
    )
)

_S12 = "RULES.md §1.2"

ENGINE_2017: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbphs-2017",
        programme="programme-engine",
        title=_("项目管理引擎：管理率口径、筛查复测、年度体检（项目约定）"),
        effective_from=date(2017, 3, 28),
        params={
            "management_denominator": Param(
                "registered",
                "NOT FOUND",
                _S12 + " — '年内辖区内高血压患者总人数' / '2型糖尿病患者总人数'",
                verified=False,
                note="the national text does not say how patients are counted; 'registered' = residents of "
                "the resident population with the diagnosis on record; 'estimated' = adults x prevalence "
                "(a local practice)",
            ),
            "estimated_min_age": Param(18, "L", _S12 + " — local practice '18岁及以上常住人口'"),
            "managed_requires_visit": Param(
                False,
                "NOT FOUND",
                _S12 + " — '年内已管理的患者人数'",
                verified=False,
                note="project convention: every patient in management at some time of the year counts, "
                "with or without a visit (a patient without a visit is lost to follow-up)",
            ),
            "standardised_face_to_face_only": Param(True, "H", "RULES.md §2.2 — 每年至少4次面对面随访"),
            "period_min_visits_rounding": Param(
                "ceil",
                "NOT FOUND",
                "RULES.md §2.6 — project convention",
                verified=False,
                note="for a part of a year (year to date, enrolled during the year) the minimum number "
                "of visits is scaled by the period's share of the year and rounded up",
            ),
            "screening_recheck_days": Param(
                7,
                "NOT FOUND",
                "RULES.md §2.1 — '预约复查' after a first raised BP, interval not stated",
                verified=False,
                note="project convention: re-check a raised screening BP after a week (different days)",
            ),
            "annual_check_due": Param(
                "calendar_year",
                "M",
                "RULES.md §2.5 — 每年1次较全面的健康体检",
                note="due by 31 December of each year; may be combined with a follow-up visit",
            ),
            "forecast_days_per_month": Param(
                30,
                "NOT FOUND",
                "project convention",
                verified=False,
                note="monthly stocking forecast = daily need x 30",
            ),
        },
    )
)


# ---------------------------------------------------------------------------------------------
# Standardised management over a period
# ---------------------------------------------------------------------------------------------


def _year_days(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def period_min_visits(start: date, end: date, disease: RuleSet, engine: RuleSet = ENGINE_2017) -> int:
    """The minimum number of visits for the period ``start``..``end`` (inclusive, one calendar year
    at most): the disease rule set's ``standardised_min_visits`` scaled by the period's share of the
    year, rounded up (a whole year gives the full number)."""
    if end < start:
        raise ValueError("period end before start")
    full = int(disease.value("standardised_min_visits"))
    share = ((end - start).days + 1) / _year_days(start.year)
    if share >= 1:
        return full
    rounding = engine.value("period_min_visits_rounding")
    scaled = full * share
    return max(1, math.ceil(scaled - 1e-9) if rounding == "ceil" else math.floor(scaled + 1e-9))


def standardised_in_period(
    visit_dates: Sequence[date], start: date, end: date, disease: RuleSet, engine: RuleSet = ENGINE_2017
) -> bool:
    """Whether visits on ``visit_dates`` meet the disease rule set's standardised-management definition
    over ``start``..``end`` (e.g. 1 January or the enrolment date .. 31 December or today).

    Same parameters as :func:`chronic_rules.is_standardised`: at least :func:`period_min_visits` visits
    on distinct days inside the period; no interval longer than ``standardised_max_gap_days`` between
    consecutive visits and, when ``standardised_year_edges``, from ``start`` to the first visit and
    from the last visit to ``end``. For a whole calendar year the result equals ``is_standardised``.
    """
    days = sorted({d for d in visit_dates if start <= d <= end})
    if len(days) < period_min_visits(start, end, disease, engine):
        return False
    max_gap = disease.value("standardised_max_gap_days")
    if max_gap is None:
        return True
    points: list[date] = list(days)
    if disease.value("standardised_year_edges"):
        points = [start, *points, end]
    return all((b - a).days <= max_gap for a, b in itertools.pairwise(points))


# ---------------------------------------------------------------------------------------------
# Annual check
# ---------------------------------------------------------------------------------------------


def annual_check_due(last_check: date | None, enrolled_on: date, engine: RuleSet = ENGINE_2017) -> date:
    """When the next annual health check is due: 31 December of the enrolment year while none has
    been done, then 31 December of the year after the last check."""
    rule = engine.value("annual_check_due")
    if rule != "calendar_year":
        raise ValueError(f"unknown annual_check_due rule {rule!r}")
    if last_check is None:
        return date(enrolled_on.year, 12, 31)
    return date(last_check.year + 1, 12, 31)


# ---------------------------------------------------------------------------------------------
# Long prescriptions (RULES.md §10.3)
# ---------------------------------------------------------------------------------------------


def is_stable(recent_classes: Sequence[str], ruleset: RuleSet = LONG_RX_2021) -> bool:
    """Whether the latest follow-ups (newest first) show stable control (project convention)."""
    n = int(ruleset.value("stable_consecutive_controlled"))
    return len(recent_classes) >= n and all(c == "controlled" for c in recent_classes[:n])


@dataclass(frozen=True)
class LongPrescriptionCheck:
    errors: dict[str, str]  # field path -> message

    @property
    def ok(self) -> bool:
        return not self.errors


def check_long_prescription(
    lines: Sequence[Mapping[str, Any]],
    *,
    long_prescription: bool,
    stable: bool,
    assessment_note: str,
    patient_confirmed: bool,
    ruleset: RuleSet = LONG_RX_2021,
    translate: Callable[[str], str] = _,
) -> LongPrescriptionCheck:
    """Check a plan's prescription lengths and drug classes against 长期处方管理规范（试行）.

    - every line: at most ``max_days_extended`` days;
    - a line over ``max_days_normal`` days needs a long prescription for a stable patient with a
      documented assessment and the patient's confirmation;
    - a long prescription cannot contain an excluded drug class, and needs a stable patient.
    Field paths: ``medications.<i>.duration_days``, ``medications.<i>.drug_class``,
    ``long_prescription``, ``assessment_note``, ``patient_confirmed``.
    Messages are Chinese; ``translate`` (e.g. Django's ``gettext``) translates each message template
    before the numbers are filled in.
    """
    tr = translate
    v = ruleset.value
    normal, extended = int(v("max_days_normal")), int(v("max_days_extended"))
    excluded = set(v("excluded_classes"))
    errors: dict[str, str] = {}
    any_extended = False
    for i, line in enumerate(lines):
        days = int(line["duration_days"])
        if days > extended:
            errors[f"medications.{i}.duration_days"] = tr(_("长期处方用量最长不超过{n}天。")).format(n=extended)
        elif days > normal:
            any_extended = True
            if not long_prescription:
                errors[f"medications.{i}.duration_days"] = tr(_("处方用量超过{n}天须开具长期处方。")).format(
                    n=normal
                )
        if long_prescription and line.get("drug_class") in excluded:
            errors[f"medications.{i}.drug_class"] = tr(_("该类药品不得开具长期处方。"))
    if long_prescription and not stable:
        errors["long_prescription"] = tr(_("长期处方仅适用于病情稳定的患者（最近随访控制满意）。"))
    if long_prescription and any_extended:
        if v("extended_needs_assessment") and not (assessment_note or "").strip():
            errors["assessment_note"] = tr(_("处方用量超过{n}天须记录病情评估。")).format(n=normal)
        if v("extended_needs_confirmation") and not patient_confirmed:
            errors["patient_confirmed"] = tr(_("处方用量超过{n}天须经患者确认。")).format(n=normal)
    return LongPrescriptionCheck(errors)


# ---------------------------------------------------------------------------------------------
# Stocking forecast (慢病用药管理: the plans summed by drug)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastLine:
    drug: str
    dose_unit: str
    patients: int
    monthly_quantity: float  # in dose_unit


def monthly_forecast(
    lines: Iterable[tuple[int, str, str, float, int]], engine: RuleSet = ENGINE_2017
) -> list[ForecastLine]:
    """Sum plan lines by drug and unit into a monthly need.

    ``lines``: (plan or patient id, drug, dose unit, dose per administration, times a day). The drug
    name is compared trimmed; the result is sorted by drug then unit.
    """
    days = int(engine.value("forecast_days_per_month"))
    totals: dict[tuple[str, str], float] = {}
    patients: dict[tuple[str, str], set[int]] = {}
    for owner, drug, unit, dose, times in lines:
        key = (drug.strip(), unit)
        totals[key] = totals.get(key, 0.0) + float(dose) * int(times) * days
        patients.setdefault(key, set()).add(owner)
    return [
        ForecastLine(drug=d, dose_unit=u, patients=len(patients[(d, u)]), monthly_quantity=round(q, 2))
        for (d, u), q in sorted(totals.items())
    ]


def next_interval_end(today: date, weekday_end: int = 6) -> date:
    """The last day (Sunday by default) of the week containing ``today``."""
    return today + timedelta(days=(weekday_end - today.weekday()) % 7)

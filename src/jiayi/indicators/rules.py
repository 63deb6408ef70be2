"""Indicator rules: the indicator rule set and the appraisal scoring. Pure Python (no Django).

Importing this module registers:

- ``indicators`` / ``nbphs-2017`` — the definitions RULES.md §1.2 leaves open for the record and
  elderly indicators (what a "dynamic record" is, which denominator the record-use rate takes, what
  counts as elderly health management), each a ``Param`` with ``verified=False`` where the source is
  NOT FOUND or low. The chronic-disease definitions are **not** repeated here: the indicator engine
  reads them from the programme rule sets (``hypertension``/``diabetes`` ``nbphs-2017`` and
  ``programme-engine`` ``nbphs-2017``), and the contract ones from ``family-doctor`` ``jiayi-2025``.
- ``programme-engine`` / ``nbphs-2017-estimated`` — an opt-in variant of the programme engine's rule
  set whose management-rate denominator is the *estimated* patient count (adults x prevalence, a
  local practice) instead of the registered patients. A district that reports against estimated
  prevalence selects it; the dashboard says which variant a value used.

Scoring (RULES.md §1.3, the kato-server appraisal modes): ``egt`` full score at or above the target,
proportional below; ``elt`` full score at or below the target, proportional above; ``Y01``/``N01``
full score for a yes / a no.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet

__all__ = [
    "ESTIMATED_VARIANT",
    "INDICATORS_2017",
    "PROGRAMME",
    "SCORING_MODES",
    "Score",
    "meets",
    "next_daily_run",
    "parse_time_of_day",
    "score",
]

PROGRAMME: Final[str] = "indicators"


def _(s: str) -> str:
    """Mark a message for translation; the page translates it."""
    return s


_S12 = "RULES.md §1.2"

INDICATORS_2017: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbphs-2017",
        programme=PROGRAMME,
        title=_("考核指标口径（国家基本公共卫生服务规范第三版；未明确处为项目约定）"),
        effective_from=date(2017, 3, 28),
        params={
            "record_use_window_months": Param(
                12,
                "NOT FOUND",
                _S12 + " — 健康档案使用率: '有动态记录' is not defined",
                verified=False,
                note="unverified recollection: a record linked within one year to medical or service records; "
                "project default: a measurement, programme visit or contract service in the last 12 months",
            ),
            "record_use_evidence": Param(
                ("measurement", "programme_visit", "service_delivery"),
                "NOT FOUND",
                _S12 + " — 健康档案使用率",
                verified=False,
                note="which records make a health record 'dynamic'; project default: any of the three",
            ),
            "record_use_denominator": Param(
                "records",
                "L",
                _S12 + " — sources disagree: 档案总份数 / 建立电子健康档案人数 / 随机抽查档案数",
                verified=False,
                note="'records' = health records of the resident population (档案总份数); 'electronic' = "
                "electronic records only (the appraisal system's S03)",
            ),
            "elderly_management_evidence": Param(
                ("health_check", "elderly_check", "elderly_programme"),
                "NOT FOUND",
                _S12 + " — 老年人健康管理率 (O00): '年内接受健康管理人数'",
                verified=False,
                note="what counts as health management in the year: a health-check measurement, a delivered "
                "'elderly_check' contract service or a visit of an 'elderly' programme",
            ),
            "gp_categories": Param(
                ("gp",),
                "M",
                "TARGETS.md binhai-2019 — 每万名常住人口全科医生数",
                note="staff categories counted as general practitioners (active staff only)",
            ),
            "personalised_package_kinds": Param(
                ("personalised",),
                "L",
                "TARGETS.md gusu-2021 — 健康管理服务包签约占重点人群比例",
                verified=False,
                note="the health-management service package is read as a personalised package (个性化包)",
            ),
            "renewal_counts_by": Param(
                "period_end",
                "NOT FOUND",
                "RULES.md §6.2 — renewal rate = contracts renewed at expiry / contracts that expired",
                verified=False,
                note="project convention: a contract that expired in the period counts as renewed when its "
                "renewal was signed by the period's evaluation day",
            ),
        },
        note="Open definitions of the record, elderly and contract indicators; chronic-disease definitions "
        "come from the programme rule sets.",
    )
)


def _estimated_variant() -> RuleSet:
    # The programme engine's rule set, registered by the programmes app (loaded before this module).
    ENGINE_2017 = rulesets.get("programme-engine", "nbphs-2017")
    return rulesets.register(
        ENGINE_2017.derive(
            code="nbphs-2017-estimated",
            title=_("项目管理引擎：管理率分母按估算患病人数（地方口径）"),
            effective_from=ENGINE_2017.effective_from,
            opt_in=True,
            note="Registered by the indicator engine: the same rules as nbphs-2017 with the estimated "
            "patient count as the management-rate denominator.",
            overrides={
                "management_denominator": Param(
                    "estimated",
                    "L",
                    _S12 + " — local practice '18岁及以上常住人口 × 25.2%' (renrendoc 110528455)",
                    verified=False,
                    note="estimated patients = residents aged estimated_min_age and over x the disease rule set's "
                    "estimated_prevalence; "
                    "a programme without a prevalence falls back to the registered patients",
                ),
            },
        )
    )


ESTIMATED_VARIANT: Final[RuleSet] = _estimated_variant()

# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

#: mode -> Chinese description (message id).
SCORING_MODES: Final[dict[str, str]] = {
    "egt": _("达到或超过目标得满分，低于目标按比例得分"),
    "elt": _("不超过目标得满分，超过目标按比例得分"),
    "Y01": _("是则得满分"),
    "N01": _("否则得满分"),
}


@dataclass(frozen=True)
class Score:
    points: float
    full: float
    met: bool


def meets(value: float | bool | None, target: float | bool | None, mode: str) -> bool | None:
    """Whether ``value`` meets ``target`` under ``mode``; None when either is unknown."""
    if mode not in SCORING_MODES:
        raise ValueError(f"unknown scoring mode {mode!r}")
    if value is None:
        return None
    if mode == "Y01":
        return bool(value)
    if mode == "N01":
        return not bool(value)
    if target is None:
        return None
    return float(value) >= float(target) if mode == "egt" else float(value) <= float(target)


def score(value: float | bool | None, target: float | bool | None, mode: str, full: float = 100.0) -> Score | None:
    """The appraisal score of ``value`` against ``target``.

    - ``egt``: full × min(1, value / target) — full at or above the target, proportional below;
    - ``elt``: full at or below the target, full × target / value above it;
    - ``Y01`` / ``N01``: full for yes / no, otherwise 0.

    None when the value (or, for egt/elt, the target) is unknown.
    """
    met = meets(value, target, mode)
    if met is None:
        return None
    if mode in ("Y01", "N01"):
        return Score(full if met else 0.0, full, met)
    v, t = float(value), float(target)  # type: ignore[arg-type]
    if met:
        return Score(full, full, True)
    ratio = (0.0 if t <= 0 else max(0.0, v / t)) if mode == "egt" else (0.0 if v <= 0 else t / v)
    return Score(round(full * min(1.0, ratio), 2), full, False)


# ---------------------------------------------------------------------------------------------
# The daily run
# ---------------------------------------------------------------------------------------------


def parse_time_of_day(text: str) -> time:
    """``"HH:MM"`` (24-hour clock) as a time; ValueError otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"not a time of day HH:MM: {text!r}")
    return time(int(hours), int(minutes))  # ValueError beyond 23:59


def next_daily_run(now: datetime, at: time) -> datetime:
    """The first moment after ``now`` at the time of day ``at`` (in ``now``'s time zone): today's run if
    it is still to come, else tomorrow's."""
    today = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    return today if today > now else datetime.combine(now.date() + timedelta(days=1), at, tzinfo=now.tzinfo)

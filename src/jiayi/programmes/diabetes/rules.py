"""Type 2 diabetes programme rules: rule sets and screening (RULES.md §2.1, §2.3, §2.4; ALGORITHMS.md §2, §5.3).

Pure Python (no Django). Importing this module registers the programme's rule sets:

- ``nbphs-2017`` — 国家基本公共卫生服务规范（第三版）: controlled = fasting plasma glucose < 7.0 mmol/L;
  urgent-referral thresholds of DM-U1..U7.
- ``chronic-2025`` — registered for symmetry with hypertension, **opt-in**, values carried over
  unchanged: no 2025 diabetes source was reviewed.

Follow-up evaluation is shared with hypertension: :func:`jiayi.programmes.chronic_rules.evaluate_visit`.
Screening (:func:`screening_result`) classifies fasting glucose, OGTT 2-h glucose, random glucose and
HbA1c with :func:`jiayi.programmes.risk.glucose_status` (2020 CDS guideline / WHO 1999) and flags the
high-risk (:func:`high_risk`): pre-diabetes (IFG / IGT) or a Chinese Diabetes Risk Score >= 25.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes.chronic_rules import (
    ChronicCriteria,
    common_params,
    diabetes_urgent_reasons,
    fpg_controlled,
    register_criteria,
)
from jiayi.programmes.risk import DiabetesRiskScore, GlucoseStatus, glucose_status

__all__ = ["CHRONIC_2025", "HIGH_RISK_CRITERIA", "NBPHS_2017", "PROGRAMME", "high_risk", "screening_result"]

PROGRAMME: Final[str] = "diabetes"

register_criteria(PROGRAMME, ChronicCriteria(urgent=diabetes_urgent_reasons, controlled=fpg_controlled))


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


_S23 = "RULES.md §2.3 — full list in an open-source implementation; wenke99 p-13798564"
_PREG_NOTE = (
    "'妊娠期及哺乳期血糖高于正常' is not quantified; project convention: above the non-pregnant normal "
    "range (FPG >= 6.1, other glucose >= 7.8, WHO 1999)"
)

NBPHS_2017: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbphs-2017",
        programme=PROGRAMME,
        title=_("国家基本公共卫生服务规范（第三版）2型糖尿病患者健康管理"),
        effective_from=date(2017, 3, 28),
        params={
            **common_params(),
            "estimated_prevalence": Param(
                None,
                "L",
                "RULES.md §1.2 — local practice '18岁及以上常住人口 × 25.2%' (renrendoc 110528455)",
                verified=False,
                note="local only; no prevalence for diabetes was found (None = 'estimated' unavailable)",
            ),
            "target_fpg": Param(
                7.0,
                "H",
                "RULES.md §2.4 — dxeyzfevrn; training question bank '血糖控制满意的空腹血糖值应低于7.0'",
                note="a vendor implementation also requires FPG >= 3.9 (not adopted)",
            ),
            "urgent_glucose_high": Param(16.7, "M", _S23 + " (DM-U1)"),
            "urgent_glucose_low": Param(3.9, "M", _S23 + " (DM-U1)"),
            "urgent_sbp": Param(180, "M", _S23 + " (DM-U2)"),
            "urgent_dbp": Param(110, "M", _S23 + " (DM-U2)"),
            "urgent_heart_rate": Param(100, "M", _S23 + " (DM-U4, strictly above)"),
            "urgent_temperature": Param(39.0, "M", _S23 + " (DM-U5, strictly above)"),
            "pregnancy_fpg": Param(6.1, "NOT FOUND", _S23 + " (DM-U6)", verified=False, note=_PREG_NOTE),
            "pregnancy_random": Param(7.8, "NOT FOUND", _S23 + " (DM-U6)", verified=False, note=_PREG_NOTE),
            "screening_fpg_tests_per_year": Param(
                1, "M", "RULES.md §2.1 — Kunming news '建议其每年至少测量1次空腹血糖'"
            ),
            "screening_confirm_days": Param(
                2,
                "M",
                "ALGORITHMS.md §5.3 — without typical symptoms a second test on another day is required",
                verified=False,
                note="中国2型糖尿病防治指南（2020年版）; guideline text not checked",
            ),
        },
    )
)

CHRONIC_2025: Final[RuleSet] = rulesets.register(
    NBPHS_2017.derive(
        code="chronic-2025",
        title=_("慢性病管理 2025（糖尿病：沿用第三版规范取值，待核实）"),
        effective_from=date(2025, 1, 1),
        opt_in=True,
        note="No 2025 diabetes source was reviewed; every value is carried over from nbphs-2017.",
        overrides={
            "target_fpg": Param(
                7.0,
                "L",
                "carried over from nbphs-2017 (RULES.md §2.4)",
                verified=False,
                note="no 2025 diabetes source reviewed; verify against the current guideline",
            ),
        },
    )
)


#: Why a screened resident is high risk for diabetes (the page and the API show the labels).
HIGH_RISK_CRITERIA: Final[dict[str, str]] = {
    "cdrs": _("中国糖尿病风险评分≥25分"),
    "ifg": _("空腹血糖受损"),
    "igt": _("糖耐量减低"),
}


@dataclass(frozen=True)
class ScreeningResult:
    status: GlucoseStatus
    #: a diabetic-range value: the resident is followed as a screening case
    raised: bool
    #: raised readings on this many different days make the case ready to confirm
    confirm_days: int


def screening_result(
    *,
    ruleset: RuleSet,
    fasting_glucose: float | None = None,
    ogtt_2h: float | None = None,
    random_glucose: float | None = None,
    hba1c: float | None = None,
    typical_symptoms: bool = False,
) -> ScreeningResult:
    """A screening glucose reading under the programme's rule set: diabetic range (FPG >= 7.0, 2-h or
    random >= 11.1, HbA1c >= 6.5) raises it; with typical symptoms one day confirms, without them the
    rule set's ``screening_confirm_days`` (a second day)."""
    status = glucose_status(
        fasting_glucose=fasting_glucose,
        ogtt_2h=ogtt_2h,
        random_glucose=random_glucose,
        hba1c=hba1c,
        typical_symptoms=typical_symptoms,
    )
    confirm = 1 if typical_symptoms else int(ruleset.value("screening_confirm_days"))
    return ScreeningResult(status=status, raised=status.diagnostic, confirm_days=confirm)


def high_risk(*, glucose_category: str | None, score: DiabetesRiskScore | None) -> list[str]:
    """High-risk criteria met (keys of :data:`HIGH_RISK_CRITERIA`): pre-diabetes, or CDRS >= 25."""
    out: list[str] = []
    if score is not None and score.high_risk:
        out.append("cdrs")
    if glucose_category in ("ifg", "ifg_igt"):
        out.append("ifg")
    if glucose_category in ("igt", "ifg_igt"):
        out.append("igt")
    return out

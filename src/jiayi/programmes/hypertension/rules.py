"""Hypertension programme rules: rule sets and screening helpers (RULES.md §2.1, §2.4).

Pure Python (no Django). Importing this module registers the programme's rule sets:

- ``nbphs-2017`` — 国家基本公共卫生服务规范（第三版）: control < 140/90; patients aged 65 and over
  < 150/90 (L–M, an unverified recollection of the third-edition text).
- ``chronic-2025`` — targets of the 2025 national primary-care hypertension guideline as quoted in one
  open-source implementation: < 130/80 under 80 years, < 150/90 at 80 and over (confidence L,
  unverified). Registered as **opt-in**: :func:`jiayi.core.rulesets.default_for` never picks it, so it
  cannot silently replace the assessment rules; select it explicitly.

Follow-up evaluation itself is shared with diabetes: :func:`jiayi.programmes.chronic_rules.evaluate_visit`.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes.chronic_rules import (
    ChronicCriteria,
    bp_controlled,
    common_params,
    hypertension_urgent_reasons,
    register_criteria,
)

__all__ = [
    "CHRONIC_2025",
    "HIGH_RISK_CRITERIA",
    "NBPHS_2017",
    "PROGRAMME",
    "hypertension_high_risk",
    "raised_bp",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


PROGRAMME: Final[str] = "hypertension"

register_criteria(PROGRAMME, ChronicCriteria(urgent=hypertension_urgent_reasons, controlled=bp_controlled))

_S24 = "RULES.md §2.4"
_S21 = "RULES.md §2.1 — exam item on the specification"
_S23 = "RULES.md §2.3 — exam item; xinxueguanw.cn; open-source implementations"
_PREG_NOTE = "'血压高于正常' is not quantified; project convention: the hypertension threshold 140/90"

NBPHS_2017: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbphs-2017",
        programme=PROGRAMME,
        title=_("国家基本公共卫生服务规范（第三版）高血压患者健康管理"),
        effective_from=date(2017, 3, 28),
        params={
            **common_params(),
            "estimated_prevalence": Param(
                0.252,
                "L",
                "RULES.md §1.2 — local practice '18岁及以上常住人口 × 25.2%' (renrendoc 110528455)",
                verified=False,
                note="local only; used when the programme engine's management_denominator is 'estimated'",
            ),
            # Control (随访分类 / 血压控制率)
            "target_sbp": Param(140, "H", _S24 + " — not controlled: SBP >= 140 and/or DBP >= 90"),
            "target_dbp": Param(90, "H", _S24 + " — not controlled: SBP >= 140 and/or DBP >= 90"),
            "elderly_age": Param(
                65,
                "L",
                _S24 + " — xinxueguanw.cn '老年患者≥150/90mmHg'",
                verified=False,
                note="L–M. Unverified recollection of the third-edition text: '≥65岁老年高血压患者的血压降至"
                "150/90mmHg以下，如果能耐受，可进一步降至140/90mmHg以下'. A 2017 guideline summary uses ≥80.",
            ),
            "elderly_target_sbp": Param(
                150,
                "L",
                _S24 + " — xinxueguanw.cn",
                verified=False,
                note="L–M; unverified recollection of the third-edition text (see elderly_age)",
            ),
            "elderly_target_dbp": Param(
                90,
                "L",
                _S24 + " — xinxueguanw.cn",
                verified=False,
                note="L–M; unverified recollection of the third-edition text (see elderly_age)",
            ),
            # Urgent referral
            "urgent_sbp": Param(180, "H", _S23 + " (HTN-U1)"),
            "urgent_dbp": Param(110, "H", _S23 + " (HTN-U1; '≥100' in one exam option is a typo)"),
            "pregnancy_sbp": Param(
                140,
                "NOT FOUND",
                _S23 + " (HTN-U4)",
                verified=False,
                note=_PREG_NOTE,
            ),
            "pregnancy_dbp": Param(
                90,
                "NOT FOUND",
                _S23 + " (HTN-U4)",
                verified=False,
                note=_PREG_NOTE,
            ),
            # Screening (RULES.md §2.1)
            "screening_min_age": Param(35, "M", _S21 + " — measure BP of residents aged >= 35"),
            "screening_interval_days": Param(
                365,
                "M",
                "RULES.md §2.1 — 2020 primary-care guideline summary '每年1次'",
                note="third-edition wording NOT FOUND (recollection: '每年为其免费测量一次血压')",
            ),
            "raised_sbp": Param(140, "H", _S21 + " — first finding SBP >= 140 and/or DBP >= 90"),
            "raised_dbp": Param(90, "H", _S21 + " — first finding SBP >= 140 and/or DBP >= 90"),
            "confirm_measurements": Param(3, "M", "RULES.md §2.1 — 非同日3次"),
            "high_risk_interval_days": Param(182, "M", _S21 + " — high-risk: BP at least every 6 months"),
            "high_risk_sbp": Param(130, "M", _S21 + " — SBP 130-139"),
            "high_risk_dbp": Param(85, "M", _S21 + " — DBP 85-89"),
            "high_risk_bmi": Param(24.0, "M", _S21 + " — overweight (24-27.9) or obese (>= 28)"),
            "high_risk_waist_male": Param(90, "M", _S21 + " — waist >= 90 cm (men)"),
            "high_risk_waist_female": Param(85, "M", _S21 + " — waist >= 85 cm (women)"),
            "high_risk_age": Param(55, "M", _S21 + " — age >= 55"),
            "heavy_drinking_spirits_ml": Param(
                200,
                "L",
                _S21 + " — '白酒≥200ml/day (4两)'",
                verified=False,
                note="exact heavy-drinking threshold unverified",
            ),
        },
    )
)

_GUIDE_2025 = (
    "RULES.md §2.4 — 2025 national primary-care hypertension guideline, quoted in an open-source implementation"
)
_GUIDE_2025_NOTE = "confidence L: known second-hand only; verify against the guideline"

CHRONIC_2025: Final[RuleSet] = rulesets.register(
    NBPHS_2017.derive(
        code="chronic-2025",
        title=_("国家基层高血压防治管理指南（2025）控制目标（二手引用，待核实）"),
        effective_from=date(2025, 1, 1),
        opt_in=True,
        note="Only the control targets differ from nbphs-2017. '<140/90 if tolerated' at >= 80 is not "
        "modelled. WS/T 872-2025 (in force 2026-03-01) was not reviewed.",
        overrides={
            "target_sbp": Param(130, "L", _GUIDE_2025, verified=False, note=_GUIDE_2025_NOTE),
            "target_dbp": Param(80, "L", _GUIDE_2025, verified=False, note=_GUIDE_2025_NOTE),
            "elderly_age": Param(80, "L", _GUIDE_2025, verified=False, note=_GUIDE_2025_NOTE),
            "elderly_target_sbp": Param(
                150, "L", _GUIDE_2025, verified=False, note=_GUIDE_2025_NOTE + "; <140/90 if tolerated"
            ),
            "elderly_target_dbp": Param(
                90, "L", _GUIDE_2025, verified=False, note=_GUIDE_2025_NOTE + "; <140/90 if tolerated"
            ),
        },
    )
)

#: Hypertension high-risk criteria (高危人群, RULES.md §2.1; M, exam bank).
HIGH_RISK_CRITERIA: Final[dict[str, str]] = {
    "high_normal_bp": _("收缩压130–139mmHg和/或舒张压85–89mmHg"),
    "overweight_or_obese": _("超重或肥胖（BMI≥24kg/m²）"),
    "central_obesity": _("腰围男性≥90cm、女性≥85cm"),
    "family_history": _("一、二级亲属高血压家族史"),
    "heavy_drinking": _("长期过量饮酒"),
    "age": _("年龄≥55岁"),
}


def raised_bp(sbp: float, dbp: float, ruleset: RuleSet) -> bool:
    """SBP >= 140 and/or DBP >= 90: remove transient causes and book a re-check (first finding)."""
    v = ruleset.value
    return bool(sbp >= v("raised_sbp") or dbp >= v("raised_dbp"))


def hypertension_high_risk(
    *,
    ruleset: RuleSet,
    sbp: float | None = None,
    dbp: float | None = None,
    bmi: float | None = None,
    waist: float | None = None,
    sex: str | None = None,
    family_history: bool = False,
    heavy_drinking: bool = False,
    daily_spirits_ml: float | None = None,
    age: float | None = None,
) -> list[str]:
    """Codes of :data:`HIGH_RISK_CRITERIA` met, in that order; unknown values (None) count as absent.

    'high_normal_bp' is SBP 130-139 and/or DBP 85-89 *with* BP below the raised threshold (140/90):
    a raised BP is a suspected hypertension (:func:`raised_bp`), not a high-risk criterion. The waist
    criterion needs ``sex`` ('M'/'F'). Heavy drinking is the recorded flag, or a daily spirits intake
    at or above the rule set's (unverified) threshold.
    """
    v = ruleset.value
    out: list[str] = []
    if (
        sbp is not None
        and dbp is not None
        and not raised_bp(sbp, dbp, ruleset)
        and (sbp >= v("high_risk_sbp") or dbp >= v("high_risk_dbp"))
    ):
        out.append("high_normal_bp")
    if bmi is not None and bmi >= v("high_risk_bmi"):
        out.append("overweight_or_obese")
    if waist is not None and sex is not None:
        s = sex.upper()
        if s not in ("M", "F"):
            raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
        if waist >= v("high_risk_waist_male" if s == "M" else "high_risk_waist_female"):
            out.append("central_obesity")
    if family_history:
        out.append("family_history")
    if heavy_drinking or (daily_spirits_ml is not None and daily_spirits_ml >= v("heavy_drinking_spirits_ml")):
        out.append("heavy_drinking")
    if age is not None and age >= v("high_risk_age"):
        out.append("age")
    return out

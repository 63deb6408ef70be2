"""Pure clinical scores: China-PAR, Chinese Diabetes Risk Score, BP grade, hypertension risk
stratification, glucose status.

Pure Python (no Django). Sources, decisions and test vectors: ALGORITHMS.md §1, §2, §5.2, §5.3, §8.

- China-PAR 10-year ASCVD risk (§1) uses the published sex-specific Cox equation with the
  **derived** constants of §1.3 (men's unrounded continuous coefficients; women's S10 = 0.9851),
  which reproduce the paper's worked examples and the official calculator far better than the
  printed two-decimal values. These are plain constants (confidence: solid). The lifetime model was
  NOT FOUND and is not implemented. Which area codes count as 'north' (of the Yangtze) is a project
  convention, so rule-set data (``china-par-region`` / ``yangtze-provinces``, unverified).
- Chinese Diabetes Risk Score (§2): the guideline table, half-open bands on the **unrounded** inputs
  (BMI 23.95 is in [22, 24) -> 1 point, as ALGORITHMS.md §2.2 says). Inputs are not rounded to 0.1
  first: the bands are printed with one decimal because measurements are recorded to one decimal, and
  a value between two printed edges belongs to the lower band.
- Blood-pressure grade (§5.2, 2018 guideline): solid constants.
- Hypertension risk stratification (§8): the table is a reconstruction ("verify before release"), so
  it is rule-set data (``hypertension-risk`` / ``hbp-2018``, confidence M, unverified).
- Glucose status (§5.3): cut-offs from guideline knowledge, guideline text not checked, so rule-set
  data (``glucose-status`` / ``cds-2020``); the HbA1c and OGTT-trigger values, confirmed in the 2019
  CVD guideline, are marked verified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.residents.rules import round_half_up

__all__ = [
    "BP_CATEGORIES",
    "CDRS_HIGH_RISK",
    "CDS_2020",
    "CHINA_PAR_MEN",
    "CHINA_PAR_REGION",
    "CHINA_PAR_REGION_PROGRAMME",
    "CHINA_PAR_WOMEN",
    "GLUCOSE_PROGRAMME",
    "GLUCOSE_STATUS_CATEGORIES",
    "HBP_2018",
    "HTN_RISK_FACTORS",
    "HTN_RISK_LEVELS",
    "HTN_RISK_PROGRAMME",
    "MGDL_FACTOR",
    "BpGrade",
    "ChinaParCoefficients",
    "ChinaParResult",
    "DiabetesRiskScore",
    "GlucoseStatus",
    "bp_grade",
    "china_par_10y",
    "china_par_category",
    "china_par_north",
    "diabetes_risk_score",
    "glucose_status",
    "hypertension_risk_factors",
    "hypertension_risk_level",
    "mmol_to_mgdl",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


def _check_sex(sex: str) -> str:
    s = sex.upper()
    if s not in ("M", "F"):
        raise ValueError(_("性别应为 'M' 或 'F'。"))
    return s


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(
            _("{name}应在{low}–{high}之间，实际为{value}。").format(
                name=name, low=f"{low:g}", high=f"{high:g}", value=f"{value:g}"
            )
        )


# =============================================================================================
# 1. China-PAR 10-year ASCVD risk
# =============================================================================================

#: mg/dL = mmol/L ÷ 0.0259 (the paper's and the official site's conversion; not × 38.67).
MGDL_FACTOR: Final[float] = 0.0259


def mmol_to_mgdl(mmol: float) -> float:
    """Cholesterol mmol/L -> mg/dL, the China-PAR way (÷ 0.0259)."""
    return mmol / MGDL_FACTOR


@dataclass(frozen=True)
class ChinaParCoefficients:
    ln_age: float
    ln_sbp_treated: float
    ln_sbp_untreated: float
    ln_tc: float
    ln_hdl: float
    ln_waist: float
    smoker: float
    diabetes: float
    north: float
    urban: float
    family_history: float
    ln_age_x_ln_sbp_treated: float
    ln_age_x_ln_sbp_untreated: float
    ln_age_x_smoker: float
    ln_age_x_family_history: float
    mean: float
    s10: float


#: Men: continuous coefficients unrounded (back-derived from the worked example, ALGORITHMS.md §1.3);
#: treated-SBP terms and flags as printed; S10 0.9707 as in the worked formula.
CHINA_PAR_MEN: Final[ChinaParCoefficients] = ChinaParCoefficients(
    ln_age=31.96604,
    ln_sbp_treated=27.39,
    ln_sbp_untreated=26.14876,
    ln_tc=0.62090,
    ln_hdl=-0.69373,
    ln_waist=-0.71200,
    smoker=3.96,
    diabetes=0.36,
    north=0.48,
    urban=-0.16,
    family_history=6.22,
    ln_age_x_ln_sbp_treated=-6.02,
    ln_age_x_ln_sbp_untreated=-5.73074,
    ln_age_x_smoker=-0.94,
    ln_age_x_family_history=-1.53,
    mean=140.68,
    s10=0.9707,
)

#: Women: printed coefficients (no urban / family-history terms); S10 0.9851 back-derived from the
#: worked example (the printed 0.99 gives 6.9 % instead of 10.1 %).
CHINA_PAR_WOMEN: Final[ChinaParCoefficients] = ChinaParCoefficients(
    ln_age=24.87,
    ln_sbp_treated=20.71,
    ln_sbp_untreated=19.98,
    ln_tc=0.06,
    ln_hdl=-0.22,
    ln_waist=1.48,
    smoker=0.49,
    diabetes=0.57,
    north=0.54,
    urban=0.0,
    family_history=0.0,
    ln_age_x_ln_sbp_treated=-4.53,
    ln_age_x_ln_sbp_untreated=-4.36,
    ln_age_x_smoker=0.0,
    ln_age_x_family_history=0.0,
    mean=117.26,
    s10=0.9851,
)

#: Input ranges accepted by the official calculator (ALGORITHMS.md §1.4).
CHINA_PAR_AGE_RANGE: Final[tuple[float, float]] = (20, 85)
CHINA_PAR_SBP_RANGE: Final[tuple[float, float]] = (70, 200)
CHINA_PAR_WAIST_RANGE: Final[tuple[float, float]] = (50, 130)
CHINA_PAR_TC_RANGE: Final[dict[str, tuple[float, float]]] = {"mmol/L": (2, 11), "mg/dL": (80, 400)}
CHINA_PAR_HDL_RANGE: Final[dict[str, tuple[float, float]]] = {"mmol/L": (0.5, 4), "mg/dL": (20, 130)}
#: Age range of the derivation cohort; outside it the result is an extrapolation.
CHINA_PAR_COHORT_AGES: Final[tuple[float, float]] = (35, 74)

CHINA_PAR_CATEGORIES: Final[dict[str, str]] = {"low": _("低危"), "medium": _("中危"), "high": _("高危")}

#: Where the China-PAR 'north' flag comes from when the resident's region is taken from the area code.
CHINA_PAR_REGION_PROGRAMME: Final[str] = "china-par-region"

CHINA_PAR_REGION: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="yangtze-provinces",
        programme=CHINA_PAR_REGION_PROGRAMME,
        title="China-PAR 南北方（长江以北）：按区划代码前缀",
        effective_from=date(2016, 11, 8),
        note="effective_from approximates the publication of China-PAR (Circulation 2016)",
        params={
            "north_area_prefixes": Param(
                value=("11", "12", "13", "14", "15", "21", "22", "23", "37", "41", "61", "62", "63", "64", "65"),
                confidence="NOT FOUND",
                source="ALGORITHMS.md §1.2 — north = north of the Yangtze; the mapping to area codes is a "
                "project convention",
                verified=False,
                note="provinces wholly north of the Yangtze (GB/T 2260 province codes). Jiangsu, Anhui and "
                "Hubei straddle the river and count as south, as do Sichuan and Chongqing; a local rule set "
                "may list prefecture prefixes (4 digits, e.g. 3203 徐州) instead",
            ),
        },
    )
)


def china_par_north(area_code: str, ruleset: RuleSet | None = None) -> bool:
    """Whether an area code lies in the China-PAR 'north' (a prefix of the rule set's list)."""
    prefixes = (ruleset or CHINA_PAR_REGION).value("north_area_prefixes")
    return any(area_code.startswith(p) for p in prefixes)


@dataclass(frozen=True)
class ChinaParResult:
    """10-year ASCVD risk in percent (unrounded) and its category (on the value rounded to 0.1)."""

    risk: float
    category: str  # 'low' (<5.0 %), 'medium' (5.0-9.9 %), 'high' (>=10.0 %)
    linear_predictor: float  # Σ βX, comparable with the paper's worked example
    ideal_risk: float  # same age / sex / region / urban, ideal risk factors
    ideal_category: str
    extrapolated: bool  # age outside the derivation cohort (35-74)

    @property
    def risk_display(self) -> float:
        """Risk rounded half-up to one decimal, as the official site shows it."""
        return round_half_up(self.risk, 1)


def china_par_category(risk_percent: float) -> str:
    """2019 guideline bands on the value rounded to 0.1 %: <5.0 low, 5.0-9.9 medium, >=10.0 high."""
    r = round_half_up(risk_percent, 1)
    if r < 5.0:
        return "low"
    if r < 10.0:
        return "medium"
    return "high"


def _china_par_sum(
    c: ChinaParCoefficients,
    *,
    age: float,
    sbp: float,
    treated: bool,
    tc_mgdl: float,
    hdl_mgdl: float,
    waist: float,
    smoker: bool,
    diabetes: bool,
    north: bool,
    urban: bool,
    family_history: bool,
) -> float:
    la, ls = math.log(age), math.log(sbp)
    if treated:
        sbp_term = c.ln_sbp_treated * ls + c.ln_age_x_ln_sbp_treated * la * ls
    else:
        sbp_term = c.ln_sbp_untreated * ls + c.ln_age_x_ln_sbp_untreated * la * ls
    return (
        c.ln_age * la
        + sbp_term
        + c.ln_tc * math.log(tc_mgdl)
        + c.ln_hdl * math.log(hdl_mgdl)
        + c.ln_waist * math.log(waist)
        + c.smoker * smoker
        + c.diabetes * diabetes
        + c.north * north
        + c.urban * urban
        + c.family_history * family_history
        + c.ln_age_x_smoker * la * smoker
        + c.ln_age_x_family_history * la * family_history
    )


def _china_par_risk(c: ChinaParCoefficients, total: float) -> float:
    return 100.0 * (1.0 - float(c.s10 ** math.exp(total - c.mean)))


def china_par_10y(
    *,
    sex: str,
    age: float,
    sbp: float,
    treated: bool,
    total_cholesterol: float,
    hdl_c: float,
    waist: float,
    smoker: bool,
    diabetes: bool,
    north: bool,
    urban: bool = False,
    family_history: bool = False,
    unit: str = "mmol/L",
) -> ChinaParResult:
    """China-PAR 10-year ASCVD risk (Yang et al., Circulation 2016), in percent.

    ``sex`` 'M'/'F'; ``age`` 20-85 years; ``sbp`` 70-200 mmHg (``treated`` = currently on
    antihypertensive drugs); cholesterol in ``unit`` 'mmol/L' (TC 2-11, HDL-C 0.5-4) or 'mg/dL'
    (TC 80-400, HDL-C 20-130); ``waist`` 50-130 cm; ``north`` = lives north of the Yangtze;
    ``family_history`` = ASCVD in parents / siblings. ``urban`` and ``family_history`` have no effect
    for women (not in the women's model). Out-of-range inputs raise ValueError.

    The ideal risk keeps age, sex, region and urban, and substitutes TC 200 mg/dL, HDL-C 40 mg/dL,
    untreated SBP 120, waist 90 (men) / 85 (women), no smoking, diabetes or family history.
    """
    s = _check_sex(sex)
    if unit not in CHINA_PAR_TC_RANGE:
        raise ValueError(_("胆固醇单位应为 'mmol/L' 或 'mg/dL'。"))
    _check_range(_("年龄"), age, *CHINA_PAR_AGE_RANGE)
    _check_range(_("收缩压"), sbp, *CHINA_PAR_SBP_RANGE)
    _check_range(_("腰围"), waist, *CHINA_PAR_WAIST_RANGE)
    _check_range(_("总胆固醇"), total_cholesterol, *CHINA_PAR_TC_RANGE[unit])
    _check_range(_("高密度脂蛋白胆固醇"), hdl_c, *CHINA_PAR_HDL_RANGE[unit])
    tc_mgdl = mmol_to_mgdl(total_cholesterol) if unit == "mmol/L" else total_cholesterol
    hdl_mgdl = mmol_to_mgdl(hdl_c) if unit == "mmol/L" else hdl_c

    c = CHINA_PAR_MEN if s == "M" else CHINA_PAR_WOMEN
    total = _china_par_sum(
        c,
        age=age,
        sbp=sbp,
        treated=treated,
        tc_mgdl=tc_mgdl,
        hdl_mgdl=hdl_mgdl,
        waist=waist,
        smoker=smoker,
        diabetes=diabetes,
        north=north,
        urban=urban,
        family_history=family_history,
    )
    ideal_total = _china_par_sum(
        c,
        age=age,
        sbp=120,
        treated=False,
        tc_mgdl=200,
        hdl_mgdl=40,
        waist=90 if s == "M" else 85,
        smoker=False,
        diabetes=False,
        north=north,
        urban=urban,
        family_history=False,
    )
    risk = _china_par_risk(c, total)
    ideal = _china_par_risk(c, ideal_total)
    low, high = CHINA_PAR_COHORT_AGES
    return ChinaParResult(
        risk=risk,
        category=china_par_category(risk),
        linear_predictor=total,
        ideal_risk=ideal,
        ideal_category=china_par_category(ideal),
        extrapolated=not low <= age <= high,
    )


# =============================================================================================
# 2. Chinese Diabetes Risk Score (中国糖尿病风险评分表)
# =============================================================================================

#: Total at or above which OGTT is recommended.
CDRS_HIGH_RISK: Final[int] = 25
CDRS_AGE_RANGE: Final[tuple[int, int]] = (20, 74)  # applicable ages, inclusive (full years)

# (lower edge, points), ascending; a value scores the points of the last edge <= value.
_CDRS_AGE: Final[tuple[tuple[float, int], ...]] = (
    (20, 0), (25, 4), (35, 8), (40, 11), (45, 12), (50, 13), (55, 15), (60, 16), (65, 18),
)  # fmt: skip
_CDRS_BMI: Final[tuple[tuple[float, int], ...]] = ((0, 0), (22.0, 1), (24.0, 3), (30.0, 5))
_CDRS_WAIST: Final[dict[str, tuple[tuple[float, int], ...]]] = {
    "M": ((0, 0), (75.0, 3), (80.0, 5), (85.0, 7), (90.0, 8), (95.0, 10)),
    "F": ((0, 0), (70.0, 3), (75.0, 5), (80.0, 7), (85.0, 8), (90.0, 10)),
}
_CDRS_SBP: Final[tuple[tuple[float, int], ...]] = (
    (0, 0), (110, 1), (120, 3), (130, 6), (140, 7), (150, 8), (160, 10),
)  # fmt: skip
_CDRS_FAMILY_HISTORY: Final[int] = 6
_CDRS_MALE: Final[int] = 2


def _band_points(value: float, bands: tuple[tuple[float, int], ...]) -> int:
    points = bands[0][1]
    for edge, pts in bands:
        if value >= edge:
            points = pts
    return points


@dataclass(frozen=True)
class DiabetesRiskScore:
    age_points: int
    bmi_points: int
    waist_points: int
    sbp_points: int
    family_history_points: int
    sex_points: int
    total: int
    high_risk: bool  # total >= 25 -> OGTT recommended


def diabetes_risk_score(
    *, age: float, sex: str, bmi: float, waist: float, sbp: float, family_history: bool
) -> DiabetesRiskScore:
    """Chinese Diabetes Risk Score (CDS guideline table, 0-51; applicable age 20-74).

    Half-open bands on the unrounded inputs (e.g. BMI 23.95 -> [22, 24) -> 1 point). ``family_history``
    = diabetes in parents, siblings or children. Age outside 20-74 (i.e. ``age >= 75``) or non-positive
    measurements raise ValueError.
    """
    s = _check_sex(sex)
    low, high = CDRS_AGE_RANGE
    if not (math.isfinite(age) and low <= age < high + 1):
        raise ValueError(_("中国糖尿病风险评分适用于20–74岁。"))
    for name, v in ((_("体质指数"), bmi), (_("腰围"), waist), (_("收缩压"), sbp)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(_("{name}应为正数。").format(name=name))
    age_p = _band_points(age, _CDRS_AGE)
    bmi_p = _band_points(bmi, _CDRS_BMI)
    waist_p = _band_points(waist, _CDRS_WAIST[s])
    sbp_p = _band_points(sbp, _CDRS_SBP)
    fh_p = _CDRS_FAMILY_HISTORY if family_history else 0
    sex_p = _CDRS_MALE if s == "M" else 0
    total = age_p + bmi_p + waist_p + sbp_p + fh_p + sex_p
    return DiabetesRiskScore(
        age_points=age_p,
        bmi_points=bmi_p,
        waist_points=waist_p,
        sbp_points=sbp_p,
        family_history_points=fh_p,
        sex_points=sex_p,
        total=total,
        high_risk=total >= CDRS_HIGH_RISK,
    )


# =============================================================================================
# 5.2 Blood-pressure classification (中国高血压防治指南 2018)
# =============================================================================================

BP_CATEGORIES: Final[dict[str, str]] = {
    "normal": _("正常血压"),
    "high_normal": _("正常高值"),
    "grade1": _("1级高血压（轻度）"),
    "grade2": _("2级高血压（中度）"),
    "grade3": _("3级高血压（重度）"),
}

# (category, SBP lower edge, DBP lower edge), ascending.
_BP_GRADES: Final[tuple[tuple[str, float, float], ...]] = (
    ("normal", 0, 0),
    ("high_normal", 120, 80),
    ("grade1", 140, 90),
    ("grade2", 160, 100),
    ("grade3", 180, 110),
)


@dataclass(frozen=True)
class BpGrade:
    """Office-BP category; the higher of the SBP and DBP grades."""

    category: str  # 'normal' | 'high_normal' | 'grade1' | 'grade2' | 'grade3'
    isolated_systolic: bool  # 单纯收缩期高血压: SBP >= 140 and DBP < 90 (graded by SBP)
    # SBP < 140 and DBP >= 90. Informational pattern flag: whether the 2018 table prints
    # 单纯舒张期高血压 as a category is unverified (ALGORITHMS.md §5.2), so do not label it as one.
    isolated_diastolic: bool

    @property
    def hypertensive(self) -> bool:
        return self.category in ("grade1", "grade2", "grade3")


def _grade_index(sbp: float, dbp: float) -> tuple[int, int]:
    si = di = 0
    for i, (_cat, s_edge, d_edge) in enumerate(_BP_GRADES):
        if sbp >= s_edge:
            si = i
        if dbp >= d_edge:
            di = i
    return si, di


def bp_grade(sbp: float, dbp: float) -> BpGrade:
    """Classify office BP (mmHg) per the 2018 Chinese guideline; half-open bands (139.5 < 140)."""
    if not (math.isfinite(sbp) and math.isfinite(dbp) and sbp > 0 and dbp > 0):
        raise ValueError(_("血压值应为正数。"))
    si, di = _grade_index(sbp, dbp)
    category = _BP_GRADES[max(si, di)][0]
    return BpGrade(
        category=category,
        isolated_systolic=sbp >= 140 and dbp < 90,
        isolated_diastolic=sbp < 140 and dbp >= 90,
    )


# =============================================================================================
# 8. Hypertension cardiovascular risk stratification (2018)
# =============================================================================================

HTN_RISK_PROGRAMME: Final[str] = "hypertension-risk"

HTN_RISK_LEVELS: Final[dict[str, str]] = {
    "low": _("低危"),
    "medium": _("中危"),
    "medium_high": _("中/高危"),
    "high": _("高危"),
    "very_high": _("很高危"),
    "high_very_high": _("高/很高危"),
}

HTN_RISK_FACTORS: Final[dict[str, str]] = {
    "age": _("年龄（男性>55岁，女性>65岁）"),
    "smoking": _("吸烟或被动吸烟"),
    "impaired_glucose": _("糖耐量受损和/或空腹血糖异常"),
    "dyslipidaemia": _("血脂异常"),
    "family_history_premature_cvd": _("早发心血管病家族史"),
    "obesity": _("腹型肥胖或肥胖"),
    "hyperhomocysteinaemia": _("高同型半胱氨酸血症"),
}

_HBP_2018_SOURCE = (
    "ALGORITHMS.md §8.1 — 中国高血压防治指南2018 血压升高患者心血管风险水平分层 (reconstructed)"
)
_HBP_2018_VERIFY = "reconstructed table, one independent implementation agrees; verify against the guideline"

HBP_2018: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="hbp-2018",
        programme=HTN_RISK_PROGRAMME,
        title="中国高血压防治指南（2018年修订版）心血管风险分层",
        effective_from=date(2019, 1, 1),
        note="effective_from approximates the publication of the 2018 revision (early 2019)",
        params={
            # Column lower edges (SBP, DBP): 130-139/85-89, grade 1, grade 2, grade 3.
            "columns": Param(
                value=((130, 85), (140, 90), (160, 100), (180, 110)),
                confidence="M",
                source=_HBP_2018_SOURCE,
                verified=False,
                note=_HBP_2018_VERIFY + "; first column 130-139/85-89 (narrower than high-normal)",
            ),
            # Rows: 0 none; 1 one or two risk factors; 2 >=3 RF / TOD / CKD 3 / diabetes without
            # complications; 3 clinical complications / CKD >=4 / diabetes with complications.
            # None = not stratified.
            "table": Param(
                value=(
                    (None, "low", "medium", "high"),
                    ("low", "medium", "medium_high", "very_high"),
                    ("medium_high", "high", "high", "very_high"),
                    ("high_very_high", "very_high", "very_high", "very_high"),
                ),
                confidence="M",
                source=_HBP_2018_SOURCE,
                verified=False,
                note=_HBP_2018_VERIFY,
            ),
            "many_risk_factors": Param(
                value=3, confidence="M", source=_HBP_2018_SOURCE, verified=False, note=_HBP_2018_VERIFY
            ),
            "rf_age_male": Param(value=55, confidence="M", source=_HBP_2018_SOURCE, note="male > 55 y"),
            "rf_age_female": Param(value=65, confidence="M", source=_HBP_2018_SOURCE, note="female > 65 y"),
            "rf_ifg_fpg": Param(value=6.1, confidence="M", source=_HBP_2018_SOURCE, note="IFG 6.1-6.9"),
            "rf_diabetes_fpg": Param(value=7.0, confidence="M", source=_HBP_2018_SOURCE),
            "rf_igt_2h": Param(value=7.8, confidence="M", source=_HBP_2018_SOURCE, note="IGT 2-h 7.8-11.0"),
            "rf_diabetes_2h": Param(value=11.1, confidence="M", source=_HBP_2018_SOURCE),
            "rf_tc": Param(value=5.2, confidence="M", source=_HBP_2018_SOURCE, note="TC >= 5.2 mmol/L"),
            "rf_ldl": Param(value=3.4, confidence="M", source=_HBP_2018_SOURCE, note="LDL-C >= 3.4"),
            "rf_hdl": Param(value=1.0, confidence="M", source=_HBP_2018_SOURCE, note="HDL-C < 1.0"),
            "rf_waist_male": Param(value=90, confidence="M", source=_HBP_2018_SOURCE),
            "rf_waist_female": Param(value=85, confidence="M", source=_HBP_2018_SOURCE),
            "rf_bmi": Param(value=28, confidence="M", source=_HBP_2018_SOURCE),
            "rf_homocysteine": Param(
                value=15,
                confidence="M",
                source=_HBP_2018_SOURCE,
                verified=False,
                note=">= 15 μmol/L in 2018; the 2024 revision changed it — check the edition",
            ),
        },
    )
)


def hypertension_risk_factors(
    *,
    sex: str,
    age: float,
    smoker: bool = False,
    fasting_glucose: float | None = None,
    ogtt_2h: float | None = None,
    total_cholesterol: float | None = None,
    ldl_c: float | None = None,
    hdl_c: float | None = None,
    premature_cvd_family_history: bool = False,
    waist: float | None = None,
    bmi: float | None = None,
    homocysteine: float | None = None,
    ruleset: RuleSet | None = None,
) -> list[str]:
    """Codes of :data:`HTN_RISK_FACTORS` present (2018 list; the BP grade itself is not one).

    Glucose values in the diabetic range do not count here (diabetes is its own row of the table).
    Lipids in mmol/L, homocysteine in μmol/L. Unmeasured values (None) count as absent.
    """
    rs = ruleset or HBP_2018
    s = _check_sex(sex)
    v = rs.value
    out: list[str] = []
    if age > (v("rf_age_male") if s == "M" else v("rf_age_female")):
        out.append("age")
    if smoker:
        out.append("smoking")
    ifg = fasting_glucose is not None and v("rf_ifg_fpg") <= fasting_glucose < v("rf_diabetes_fpg")
    igt = ogtt_2h is not None and v("rf_igt_2h") <= ogtt_2h < v("rf_diabetes_2h")
    if ifg or igt:
        out.append("impaired_glucose")
    if (
        (total_cholesterol is not None and total_cholesterol >= v("rf_tc"))
        or (ldl_c is not None and ldl_c >= v("rf_ldl"))
        or (hdl_c is not None and hdl_c < v("rf_hdl"))
    ):
        out.append("dyslipidaemia")
    if premature_cvd_family_history:
        out.append("family_history_premature_cvd")
    waist_limit = v("rf_waist_male") if s == "M" else v("rf_waist_female")
    if (waist is not None and waist >= waist_limit) or (bmi is not None and bmi >= v("rf_bmi")):
        out.append("obesity")
    if homocysteine is not None and homocysteine >= v("rf_homocysteine"):
        out.append("hyperhomocysteinaemia")
    return out


def hypertension_risk_level(
    sbp: float,
    dbp: float,
    *,
    risk_factors: int = 0,
    target_organ_damage: bool = False,
    ckd_stage: int | None = None,
    diabetes: bool = False,
    diabetes_complications: bool = False,
    clinical_complications: bool = False,
    ruleset: RuleSet | None = None,
) -> str | None:
    """Cardiovascular risk level of a patient with raised BP (rule set ``hbp-2018`` by default).

    Returns a key of :data:`HTN_RISK_LEVELS`, or None when the patient is not stratified (BP below
    130/85, or 130-139/85-89 without other risk factors). The column is the higher of the SBP and DBP
    columns. ``risk_factors`` counts the other risk factors (see :func:`hypertension_risk_factors`);
    ``clinical_complications`` = established cardiovascular, cerebrovascular, renal or peripheral
    arterial disease or retinopathy; ``diabetes_complications`` implies diabetes.
    """
    rs = ruleset or HBP_2018
    if not (math.isfinite(sbp) and math.isfinite(dbp) and sbp > 0 and dbp > 0):
        raise ValueError(_("血压值应为正数。"))
    if risk_factors < 0:
        raise ValueError(_("危险因素个数不能为负数。"))
    if ckd_stage is not None and ckd_stage not in (1, 2, 3, 4, 5):
        raise ValueError(_("慢性肾脏病分期应为1–5期。"))
    column: int | None = None
    for i, (s_edge, d_edge) in enumerate(rs.value("columns")):
        if sbp >= s_edge or dbp >= d_edge:
            column = i
    if column is None:
        return None
    if clinical_complications or diabetes_complications or (ckd_stage is not None and ckd_stage >= 4):
        row = 3
    elif risk_factors >= rs.value("many_risk_factors") or target_organ_damage or ckd_stage == 3 or diabetes:
        row = 2
    elif risk_factors >= 1:
        row = 1
    else:
        row = 0
    level = rs.value("table")[row][column]
    return None if level is None else str(level)


# =============================================================================================
# 5.3 Glucose status (中国2型糖尿病防治指南 2020; WHO 1999)
# =============================================================================================

GLUCOSE_PROGRAMME: Final[str] = "glucose-status"

GLUCOSE_STATUS_CATEGORIES: Final[dict[str, str]] = {
    "diabetic_range": _("达到糖尿病诊断切点"),
    "ifg_igt": _("空腹血糖受损合并糖耐量减低"),
    "ifg": _("空腹血糖受损"),
    "igt": _("糖耐量减低"),
    "normal": _("正常血糖"),
    "unknown": _("无法判断"),
}

_CDS_SOURCE = "ALGORITHMS.md §5.3 — 中国2型糖尿病防治指南（2020年版）; WHO 1999"
_CDS_UNCHECKED = "guideline text not checked; cut-off from guideline knowledge"
_CVD_2019 = "ALGORITHMS.md §5.3 — confirmed in 中国心血管病风险评估和管理指南 2019, pp. 17-18"

CDS_2020: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="cds-2020",
        programme=GLUCOSE_PROGRAMME,
        title="中国2型糖尿病防治指南（2020年版）糖代谢状态",
        effective_from=date(2021, 4, 1),
        note="effective_from approximates the publication (中华糖尿病杂志 2021;13(4))",
        params={
            "diabetes_fpg": Param(7.0, "M", _CDS_SOURCE, verified=False, note=_CDS_UNCHECKED),
            "diabetes_ogtt_2h": Param(11.1, "M", _CDS_SOURCE, verified=False, note=_CDS_UNCHECKED),
            "diabetes_random": Param(11.1, "M", _CDS_SOURCE, verified=False, note=_CDS_UNCHECKED),
            "diabetes_hba1c": Param(6.5, "H", _CVD_2019, note="WHO cut-off; standardised laboratory"),
            "ifg_fpg": Param(6.1, "M", _CDS_SOURCE, verified=False, note=_CDS_UNCHECKED),
            "igt_ogtt_2h": Param(7.8, "M", _CDS_SOURCE, verified=False, note=_CDS_UNCHECKED),
            "ogtt_trigger_fpg": Param(6.1, "H", _CVD_2019, note="FPG >= 6.1 -> OGTT"),
            "ogtt_trigger_glucose": Param(7.8, "H", _CVD_2019, note="any glucose >= 7.8 -> OGTT"),
        },
    )
)


@dataclass(frozen=True)
class GlucoseStatus:
    """Glucose-metabolism state from the values available."""

    category: str  # key of GLUCOSE_STATUS_CATEGORIES
    criteria: tuple[str, ...]  # diabetic-range criteria met: 'fpg', 'ogtt_2h', 'random', 'hba1c'
    needs_confirmation: bool  # diabetic range without typical symptoms: repeat on another day
    ogtt_recommended: bool

    @property
    def diagnostic(self) -> bool:
        """A diabetic-range value was found (a diagnosis still needs confirmation if asymptomatic)."""
        return self.category == "diabetic_range"


def glucose_status(
    *,
    fasting_glucose: float | None = None,
    ogtt_2h: float | None = None,
    random_glucose: float | None = None,
    hba1c: float | None = None,
    typical_symptoms: bool = False,
    ruleset: RuleSet | None = None,
) -> GlucoseStatus:
    """Classify glucose values (mmol/L; HbA1c in %) per the 2020 CDS guideline / WHO 1999.

    - 'diabetic_range' if FPG >= 7.0, OGTT 2-h >= 11.1, random >= 11.1 or HbA1c >= 6.5; without typical
      symptoms (多饮、多尿、多食、不明原因体重下降) ``needs_confirmation`` is set.
    - otherwise 'ifg' (6.1 <= FPG < 7.0), 'igt' (7.8 <= 2-h < 11.1), 'ifg_igt' (both), 'normal' (FPG
      and/or 2-h given and below both), or 'unknown' (no FPG or 2-h value, e.g. HbA1c 6.4 alone).
      IFG is reported on FPG alone when no OGTT was done.
    - ``ogtt_recommended`` when not in the diabetic range, no OGTT yet, and FPG >= 6.1 or any glucose
      >= 7.8.
    """
    v = (ruleset or CDS_2020).value
    criteria: list[str] = []
    if fasting_glucose is not None and fasting_glucose >= v("diabetes_fpg"):
        criteria.append("fpg")
    if ogtt_2h is not None and ogtt_2h >= v("diabetes_ogtt_2h"):
        criteria.append("ogtt_2h")
    if random_glucose is not None and random_glucose >= v("diabetes_random"):
        criteria.append("random")
    if hba1c is not None and hba1c >= v("diabetes_hba1c"):
        criteria.append("hba1c")
    if criteria:
        return GlucoseStatus("diabetic_range", tuple(criteria), not typical_symptoms, False)

    ifg = fasting_glucose is not None and fasting_glucose >= v("ifg_fpg")
    igt = ogtt_2h is not None and ogtt_2h >= v("igt_ogtt_2h")
    if ifg and igt:
        category = "ifg_igt"
    elif ifg:
        category = "ifg"
    elif igt:
        category = "igt"
    elif fasting_glucose is not None or ogtt_2h is not None:
        category = "normal"
    else:
        category = "unknown"
    trigger = (fasting_glucose is not None and fasting_glucose >= v("ogtt_trigger_fpg")) or any(
        g is not None and g >= v("ogtt_trigger_glucose") for g in (fasting_glucose, random_glucose)
    )
    return GlucoseStatus(category, (), False, trigger and ogtt_2h is None)

"""Clinical scores: ALGORITHMS.md §1.5 (China-PAR), §2.3 (CDRS), §5.2 (BP grade), §8.2 (risk
stratification), §5.3 (glucose status)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayi.core.rulesets import Param
from jiayi.programmes import risk
from jiayi.programmes.risk import (
    bp_grade,
    china_par_10y,
    china_par_category,
    diabetes_risk_score,
    glucose_status,
    hypertension_risk_factors,
    hypertension_risk_level,
)

# =============================================================================================
# China-PAR (§1.5). Tolerance: ±0.5 pp men, ±1.5 pp women; exact category unless the expected value
# is within 0.3 pp of 5.0 or 10.0.
# =============================================================================================

MEN_TOL = 0.5
WOMEN_TOL = 1.5

# The paper's worked profile: SBP 130 untreated, TC 210, HDL 55 mg/dL, waist 80, non-smoker,
# diabetes, north, urban, no family history.
PAPER_PROFILE: dict[str, Any] = {
    "sbp": 130,
    "treated": False,
    "total_cholesterol": 210,
    "hdl_c": 55,
    "waist": 80,
    "smoker": False,
    "diabetes": True,
    "north": True,
    "urban": True,
    "family_history": False,
    "unit": "mg/dL",
}


def _category_checked(expected: float) -> bool:
    return abs(expected - 5.0) > 0.3 and abs(expected - 10.0) > 0.3


def _expected_category(expected: float) -> str:
    return "low" if expected < 5 else "medium" if expected < 10 else "high"


def test_vector1_men_60_paper_worked_example() -> None:
    r = china_par_10y(sex="M", age=60, **PAPER_PROFILE)
    assert r.linear_predictor == pytest.approx(142.04, abs=0.02)  # printed Σ 142.04, computed 142.05
    assert r.risk == pytest.approx(11.0, abs=MEN_TOL)
    assert r.risk == pytest.approx(11.04, abs=0.01)  # regression value
    assert r.category == "high"
    assert r.risk_display == 11.0


def test_vector1_men_term_by_term() -> None:
    """The worked example's 'coefficient × value' column (Suppl. Table 2)."""
    c = risk.CHINA_PAR_MEN
    la, ls = math.log(60), math.log(130)
    assert c.ln_age * la == pytest.approx(130.88, abs=0.01)
    assert c.ln_sbp_untreated * ls == pytest.approx(127.28, abs=0.01)
    assert c.ln_tc * math.log(210) == pytest.approx(3.32, abs=0.01)
    assert c.ln_hdl * math.log(55) == pytest.approx(-2.78, abs=0.01)
    assert c.ln_waist * math.log(80) == pytest.approx(-3.12, abs=0.01)
    assert c.ln_age_x_ln_sbp_untreated * la * ls == pytest.approx(-114.21, abs=0.01)
    assert (c.diabetes, c.north, c.urban) == (0.36, 0.48, -0.16)


@pytest.mark.parametrize(
    ("age", "expected", "computed"), [(40, 2.2, 2.22), (50, 5.4, 5.42), (70, 19.6, 19.68)]
)
def test_vector2_men_by_age(age: int, expected: float, computed: float) -> None:
    r = china_par_10y(sex="M", age=age, **PAPER_PROFILE)
    assert r.risk == pytest.approx(expected, abs=MEN_TOL)
    assert r.risk == pytest.approx(computed, abs=0.01)
    if _category_checked(expected):
        assert r.category == _expected_category(expected)


def test_vector3_women_60() -> None:
    r = china_par_10y(sex="F", age=60, **PAPER_PROFILE)
    assert r.linear_predictor == pytest.approx(119.22, abs=0.01)
    assert r.risk == pytest.approx(10.1, abs=WOMEN_TOL)
    assert r.risk == pytest.approx(10.13, abs=0.01)
    # 10.1 is within 0.3 pp of 10.0: category not asserted against the paper; regression value:
    assert r.category == "high"


@pytest.mark.parametrize(
    ("age", "expected", "computed"), [(40, 2.4, 2.40), (50, 5.4, 5.35), (70, 17.1, 17.09)]
)
def test_vector4_women_by_age(age: int, expected: float, computed: float) -> None:
    r = china_par_10y(sex="F", age=age, **PAPER_PROFILE)
    assert r.risk == pytest.approx(expected, abs=WOMEN_TOL)
    assert r.risk == pytest.approx(computed, abs=0.01)
    if _category_checked(expected):
        assert r.category == _expected_category(expected)


def test_vector5_guideline_appendix_mmol() -> None:
    r = china_par_10y(
        sex="M",
        age=40,
        sbp=145,
        treated=False,
        total_cholesterol=5.2,
        hdl_c=1.3,
        waist=80,
        smoker=False,
        diabetes=False,
        north=True,
        urban=True,
        family_history=True,
        unit="mmol/L",
    )
    assert r.risk == pytest.approx(4.7, abs=MEN_TOL)
    assert r.risk == pytest.approx(4.87, abs=0.01)
    assert r.category == "low"
    assert r.ideal_risk == pytest.approx(1.1, abs=MEN_TOL)
    assert r.ideal_risk == pytest.approx(1.16, abs=0.01)
    assert r.ideal_category == "low"


def test_mmol_and_mgdl_agree() -> None:
    kw: dict[str, Any] = dict(PAPER_PROFILE)
    kw.update(unit="mmol/L", total_cholesterol=210 * 0.0259, hdl_c=55 * 0.0259)
    assert china_par_10y(sex="M", age=60, **kw).risk == pytest.approx(
        china_par_10y(sex="M", age=60, **PAPER_PROFILE).risk, rel=1e-9
    )
    assert risk.mmol_to_mgdl(5.18) == pytest.approx(200.0)


def test_women_ignore_urban_and_family_history() -> None:
    base = dict(PAPER_PROFILE)
    a = china_par_10y(sex="F", age=55, **{**base, "urban": False, "family_history": False})
    b = china_par_10y(sex="F", age=55, **{**base, "urban": True, "family_history": True})
    assert a.risk == b.risk


def test_treated_sbp_uses_treated_coefficients() -> None:
    untreated = china_par_10y(sex="M", age=60, **PAPER_PROFILE)
    treated = china_par_10y(sex="M", age=60, **{**PAPER_PROFILE, "treated": True})
    assert treated.risk != untreated.risk


def test_extrapolation_flag() -> None:
    assert china_par_10y(sex="M", age=30, **PAPER_PROFILE).extrapolated
    assert not china_par_10y(sex="M", age=35, **PAPER_PROFILE).extrapolated
    assert not china_par_10y(sex="M", age=74, **PAPER_PROFILE).extrapolated
    assert china_par_10y(sex="M", age=80, **PAPER_PROFILE).extrapolated


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 19}, "age"),
        ({"age": 86}, "age"),
        ({"sbp": 69}, "sbp"),
        ({"sbp": 201}, "sbp"),
        ({"waist": 49}, "waist"),
        ({"waist": 131}, "waist"),
        ({"total_cholesterol": 79}, "tc"),
        ({"total_cholesterol": 401}, "tc"),
        ({"hdl_c": 19}, "hdl"),
        ({"hdl_c": 131}, "hdl"),
        ({"unit": "g/L"}, "unit"),
        ({"sex": "X"}, "sex"),
        ({"age": math.nan}, "age"),
    ],
)
def test_china_par_input_ranges(change: dict[str, Any], field: str) -> None:
    kw: dict[str, Any] = {"sex": "M", "age": 60, **PAPER_PROFILE, **change}
    with pytest.raises(ValueError):
        china_par_10y(**kw)


def test_china_par_mmol_ranges() -> None:
    kw: dict[str, Any] = {**PAPER_PROFILE, "unit": "mmol/L", "total_cholesterol": 5.0, "hdl_c": 1.2}
    china_par_10y(sex="M", age=60, **kw)
    with pytest.raises(ValueError):
        china_par_10y(sex="M", age=60, **{**kw, "total_cholesterol": 11.5})
    with pytest.raises(ValueError):
        china_par_10y(sex="M", age=60, **{**kw, "hdl_c": 0.4})
    # mg/dL numbers given as mmol/L are refused, not silently computed.
    with pytest.raises(ValueError):
        china_par_10y(sex="M", age=60, **{**kw, "total_cholesterol": 210})


@pytest.mark.parametrize(
    ("value", "category"),
    [(4.94, "low"), (4.95, "medium"), (9.94, "medium"), (9.95, "high"), (0.0, "low"), (5.0, "medium")],
)
def test_category_on_value_rounded_to_one_decimal(value: float, category: str) -> None:
    assert china_par_category(value) == category


@given(
    sex=st.sampled_from(["M", "F"]),
    age=st.integers(20, 85),
    sbp=st.integers(70, 200),
    treated=st.booleans(),
    tc=st.floats(80, 400),
    hdl=st.floats(20, 130),
    waist=st.floats(50, 130),
    flags=st.tuples(*[st.booleans()] * 5),
)
def test_china_par_is_a_probability(
    sex: str, age: int, sbp: int, treated: bool, tc: float, hdl: float, waist: float, flags: tuple[bool, ...]
) -> None:
    smoker, diabetes, north, urban, fh = flags
    r = china_par_10y(
        sex=sex,
        age=age,
        sbp=sbp,
        treated=treated,
        total_cholesterol=tc,
        hdl_c=hdl,
        waist=waist,
        smoker=smoker,
        diabetes=diabetes,
        north=north,
        urban=urban,
        family_history=fh,
        unit="mg/dL",
    )
    assert 0.0 <= r.risk <= 100.0
    assert 0.0 <= r.ideal_risk <= 100.0
    assert r.category == china_par_category(r.risk)


@given(age=st.integers(20, 84), sex=st.sampled_from(["M", "F"]))
def test_china_par_risk_rises_with_age(age: int, sex: str) -> None:
    a = china_par_10y(sex=sex, age=age, **PAPER_PROFILE).risk
    b = china_par_10y(sex=sex, age=age + 1, **PAPER_PROFILE).risk
    assert b > a


# =============================================================================================
# Chinese Diabetes Risk Score (§2.3)
# =============================================================================================

CDRS_VECTORS = [
    # (age, sex, BMI, waist, SBP, FH), (age, BMI, waist, SBP, FH, sex points), total, high risk
    ((31, "M", 30.5, 96, 145, False), (4, 5, 10, 7, 0, 2), 28, True),
    ((45, "F", 23.0, 78, 125, True), (12, 1, 5, 3, 6, 0), 27, True),
    ((24, "F", 21.9, 69.9, 109, False), (0, 0, 0, 0, 0, 0), 0, False),
    ((40, "M", 24.0, 85.0, 130, False), (11, 3, 7, 6, 0, 2), 29, True),
    ((35, "F", 22.5, 72, 125, True), (8, 1, 3, 3, 6, 0), 21, False),
    ((35, "F", 24.5, 76, 125, True), (8, 3, 5, 3, 6, 0), 25, True),
    ((70, "M", 31, 100, 165, True), (18, 5, 10, 10, 6, 2), 51, True),
    ((60, "F", 26.0, 88, 142, False), (16, 3, 8, 7, 0, 0), 34, True),
]


@pytest.mark.parametrize(("inputs", "points", "total", "high"), CDRS_VECTORS)
def test_cdrs_vectors(
    inputs: tuple[int, str, float, float, float, bool], points: tuple[int, ...], total: int, high: bool
) -> None:
    age, sex, bmi, waist, sbp, fh = inputs
    s = diabetes_risk_score(age=age, sex=sex, bmi=bmi, waist=waist, sbp=sbp, family_history=fh)
    got = (s.age_points, s.bmi_points, s.waist_points, s.sbp_points, s.family_history_points, s.sex_points)
    assert got == points
    assert s.total == total
    assert s.high_risk is high


def test_cdrs_half_open_bands_without_rounding() -> None:
    # Documented choice: inputs are not rounded to 0.1 first, so 23.95 stays in [22, 24).
    s = diabetes_risk_score(age=30, sex="F", bmi=23.95, waist=74.99, sbp=119.9, family_history=False)
    assert (s.bmi_points, s.waist_points, s.sbp_points) == (1, 3, 1)


@pytest.mark.parametrize(
    ("age", "points"),
    [(20, 0), (24, 0), (25, 4), (34, 4), (35, 8), (39, 8), (40, 11), (44, 11), (45, 12), (49, 12),
     (50, 13), (54, 13), (55, 15), (59, 15), (60, 16), (64, 16), (65, 18), (74, 18)],
)  # fmt: skip
def test_cdrs_age_band_edges(age: int, points: int) -> None:
    assert (
        diabetes_risk_score(age=age, sex="F", bmi=20, waist=60, sbp=100, family_history=False).age_points
        == points
    )


@pytest.mark.parametrize(
    ("sex", "waist", "points"),
    [("M", 74.9, 0), ("M", 75, 3), ("M", 80, 5), ("M", 85, 7), ("M", 90, 8), ("M", 95, 10),
     ("F", 69.9, 0), ("F", 70, 3), ("F", 75, 5), ("F", 80, 7), ("F", 85, 8), ("F", 90, 10)],
)  # fmt: skip
def test_cdrs_waist_edges(sex: str, waist: float, points: int) -> None:
    s = diabetes_risk_score(age=30, sex=sex, bmi=20, waist=waist, sbp=100, family_history=False)
    assert s.waist_points == points


@pytest.mark.parametrize(
    ("sbp", "points"), [(109, 0), (110, 1), (120, 3), (130, 6), (140, 7), (150, 8), (159, 8), (160, 10)]
)
def test_cdrs_sbp_edges(sbp: float, points: int) -> None:
    assert (
        diabetes_risk_score(age=30, sex="F", bmi=20, waist=60, sbp=sbp, family_history=False).sbp_points
        == points
    )


@pytest.mark.parametrize("age", [19, 75, 80])
def test_cdrs_age_outside_20_74(age: int) -> None:
    with pytest.raises(ValueError):
        diabetes_risk_score(age=age, sex="M", bmi=22, waist=80, sbp=120, family_history=False)


def test_cdrs_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        diabetes_risk_score(age=40, sex="M", bmi=0, waist=80, sbp=120, family_history=False)
    with pytest.raises(ValueError):
        diabetes_risk_score(age=40, sex="U", bmi=22, waist=80, sbp=120, family_history=False)


@given(
    age=st.integers(20, 74),
    sex=st.sampled_from(["M", "F"]),
    bmi=st.floats(10, 60),
    waist=st.floats(40, 160),
    sbp=st.floats(70, 260),
    fh=st.booleans(),
)
def test_cdrs_total_property(age: int, sex: str, bmi: float, waist: float, sbp: float, fh: bool) -> None:
    s = diabetes_risk_score(age=age, sex=sex, bmi=bmi, waist=waist, sbp=sbp, family_history=fh)
    parts = (s.age_points, s.bmi_points, s.waist_points, s.sbp_points, s.family_history_points, s.sex_points)
    assert s.total == sum(parts)
    assert 0 <= s.total <= 51
    assert s.high_risk == (s.total >= risk.CDRS_HIGH_RISK)


# =============================================================================================
# BP grade (§5.2)
# =============================================================================================


@pytest.mark.parametrize(
    ("sbp", "dbp", "category", "ish", "isdh"),
    [
        (118, 78, "normal", False, False),
        (125, 82, "high_normal", False, False),
        (135, 86, "high_normal", False, False),
        (150, 85, "grade1", True, False),
        (150, 95, "grade1", False, False),
        (165, 95, "grade2", False, False),
        (138, 102, "grade2", False, True),
        (185, 100, "grade3", False, False),
        (130, 92, "grade1", False, True),
    ],
)
def test_bp_grade_vectors(sbp: int, dbp: int, category: str, ish: bool, isdh: bool) -> None:
    g = bp_grade(sbp, dbp)
    assert (g.category, g.isolated_systolic, g.isolated_diastolic) == (category, ish, isdh)
    assert g.hypertensive == category.startswith("grade")
    assert category in risk.BP_CATEGORIES


@pytest.mark.parametrize(
    ("sbp", "dbp", "category"),
    [
        (119, 79, "normal"),
        (120, 70, "high_normal"),
        (110, 80, "high_normal"),
        (139, 89, "high_normal"),
        (140, 60, "grade1"),
        (159, 99, "grade1"),
        (160, 70, "grade2"),
        (179, 109, "grade2"),
        (180, 70, "grade3"),
        (120, 110, "grade3"),
        (139.5, 70, "high_normal"),
    ],
)
def test_bp_grade_edges(sbp: float, dbp: float, category: str) -> None:
    assert bp_grade(sbp, dbp).category == category


def test_isolated_systolic_is_graded_by_sbp() -> None:
    assert bp_grade(185, 85).category == "grade3"
    assert bp_grade(185, 85).isolated_systolic


def test_bp_grade_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        bp_grade(0, 80)
    with pytest.raises(ValueError):
        bp_grade(120, math.nan)


@given(st.integers(60, 280), st.integers(30, 160), st.integers(60, 280), st.integers(30, 160))
def test_bp_grade_is_monotone(s1: int, d1: int, s2: int, d2: int) -> None:
    order = list(risk.BP_CATEGORIES)
    lo = bp_grade(min(s1, s2), min(d1, d2)).category
    hi = bp_grade(max(s1, s2), max(d1, d2)).category
    assert order.index(lo) <= order.index(hi)


# =============================================================================================
# Hypertension risk stratification (§8.2)
# =============================================================================================


@pytest.mark.parametrize(
    ("sbp", "dbp", "kwargs", "expected"),
    [
        (150, 95, {}, "low"),
        (150, 95, {"risk_factors": 2}, "medium"),
        (170, 105, {"risk_factors": 1}, "medium_high"),
        (135, 86, {"diabetes": True}, "medium_high"),
        (185, 100, {}, "high"),
        (145, 80, {"clinical_complications": True}, "very_high"),
        (135, 80, {"risk_factors": 2}, "low"),
        (125, 87, {"risk_factors": 3}, "medium_high"),
        (125, 82, {"risk_factors": 3}, None),
        (135, 86, {}, None),
        (162, 96, {"risk_factors": 4}, "high"),
    ],
)
def test_stratification_vectors(sbp: int, dbp: int, kwargs: dict[str, Any], expected: str | None) -> None:
    assert hypertension_risk_level(sbp, dbp, **kwargs) == expected


def test_vector_male_60_smoker_counts_two_factors() -> None:
    factors = hypertension_risk_factors(sex="M", age=60, smoker=True)
    assert factors == ["age", "smoking"]
    assert hypertension_risk_level(150, 95, risk_factors=len(factors)) == "medium"


def test_stratification_rows() -> None:
    assert hypertension_risk_level(135, 80, risk_factors=0) is None
    assert hypertension_risk_level(135, 80, target_organ_damage=True) == "medium_high"
    assert hypertension_risk_level(135, 80, ckd_stage=3) == "medium_high"
    assert hypertension_risk_level(135, 80, ckd_stage=4) == "high_very_high"
    assert hypertension_risk_level(135, 80, ckd_stage=2) is None
    assert hypertension_risk_level(135, 80, diabetes=True, diabetes_complications=True) == "high_very_high"
    assert hypertension_risk_level(135, 80, diabetes_complications=True) == "high_very_high"
    assert hypertension_risk_level(185, 115, risk_factors=1) == "very_high"
    assert hypertension_risk_level(129, 84, clinical_complications=True) is None


def test_stratification_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        hypertension_risk_level(150, 95, risk_factors=-1)
    with pytest.raises(ValueError):
        hypertension_risk_level(150, 95, ckd_stage=6)


def test_stratification_table_is_unverified_rule_set_data() -> None:
    rs = risk.HBP_2018
    assert (rs.programme, rs.code) == ("hypertension-risk", "hbp-2018")
    assert rs.param("table").confidence == "M"
    assert {"table", "columns"} <= set(rs.unverified())
    assert all(level is None or level in risk.HTN_RISK_LEVELS for row in rs.value("table") for level in row)
    # A corrected table is a new rule-set version, no code change.
    corrected = rs.derive(
        code="hbp-test",
        title="test",
        effective_from=date(2024, 1, 1),
        overrides={
            "table": Param(
                value=(("low", "low", "medium", "high"), *rs.value("table")[1:]),
                confidence="H",
                source="test",
            )
        },
    )
    assert hypertension_risk_level(135, 86, ruleset=corrected) == "low"


def test_risk_factor_list() -> None:
    assert hypertension_risk_factors(sex="F", age=65) == []
    assert hypertension_risk_factors(sex="F", age=66) == ["age"]
    assert hypertension_risk_factors(sex="M", age=55) == []
    assert hypertension_risk_factors(sex="M", age=40, fasting_glucose=6.1) == ["impaired_glucose"]
    assert hypertension_risk_factors(sex="M", age=40, fasting_glucose=7.0) == []  # diabetic range: own row
    assert hypertension_risk_factors(sex="M", age=40, ogtt_2h=7.8) == ["impaired_glucose"]
    assert hypertension_risk_factors(sex="M", age=40, ogtt_2h=11.1) == []
    assert hypertension_risk_factors(sex="M", age=40, total_cholesterol=5.2) == ["dyslipidaemia"]
    assert hypertension_risk_factors(sex="M", age=40, ldl_c=3.4) == ["dyslipidaemia"]
    assert hypertension_risk_factors(sex="M", age=40, hdl_c=0.99) == ["dyslipidaemia"]
    assert hypertension_risk_factors(sex="M", age=40, hdl_c=1.0) == []
    assert hypertension_risk_factors(sex="M", age=40, waist=90) == ["obesity"]
    assert hypertension_risk_factors(sex="F", age=40, waist=85) == ["obesity"]
    assert hypertension_risk_factors(sex="F", age=40, waist=84.9, bmi=28) == ["obesity"]
    assert hypertension_risk_factors(sex="F", age=40, homocysteine=15) == ["hyperhomocysteinaemia"]
    assert hypertension_risk_factors(sex="F", age=40, premature_cvd_family_history=True) == [
        "family_history_premature_cvd"
    ]
    assert set(
        hypertension_risk_factors(
            sex="M",
            age=70,
            smoker=True,
            fasting_glucose=6.5,
            total_cholesterol=6,
            premature_cvd_family_history=True,
            bmi=30,
            homocysteine=20,
        )
    ) == set(risk.HTN_RISK_FACTORS)


@given(
    sbp=st.integers(60, 280),
    dbp=st.integers(30, 160),
    rf=st.integers(0, 7),
    tod=st.booleans(),
    dm=st.booleans(),
    cc=st.booleans(),
)
def test_stratification_never_decreases_with_more_risk(
    sbp: int, dbp: int, rf: int, tod: bool, dm: bool, cc: bool
) -> None:
    order = [None, "low", "medium", "medium_high", "high", "high_very_high", "very_high"]
    base = hypertension_risk_level(sbp, dbp, risk_factors=rf, target_organ_damage=tod, diabetes=dm)
    worse = hypertension_risk_level(
        sbp, dbp, risk_factors=rf + 1, target_organ_damage=tod, diabetes=dm, clinical_complications=cc
    )
    assert order.index(base) <= order.index(worse)
    if sbp < 130 and dbp < 85:
        assert base is None and worse is None


# =============================================================================================
# Glucose status (§5.3)
# =============================================================================================


def test_glucose_vectors() -> None:
    assert glucose_status(fasting_glucose=6.9, ogtt_2h=7.7).category == "ifg"
    assert glucose_status(fasting_glucose=6.0, ogtt_2h=9.0).category == "igt"
    s = glucose_status(fasting_glucose=7.0)
    assert (s.category, s.diagnostic, s.criteria) == ("diabetic_range", True, ("fpg",))
    s = glucose_status(ogtt_2h=11.1)
    assert (s.category, s.criteria) == ("diabetic_range", ("ogtt_2h",))
    s = glucose_status(hba1c=6.4)
    assert not s.diagnostic
    s = glucose_status(hba1c=6.5)
    assert s.diagnostic
    assert s.needs_confirmation  # asymptomatic: repeat on another day
    assert not glucose_status(hba1c=6.5, typical_symptoms=True).needs_confirmation


def test_glucose_more_states() -> None:
    assert glucose_status(fasting_glucose=5.0, ogtt_2h=6.0).category == "normal"
    assert glucose_status(fasting_glucose=6.5, ogtt_2h=9.0).category == "ifg_igt"
    assert glucose_status(fasting_glucose=6.1).category == "ifg"
    assert glucose_status(fasting_glucose=6.09).category == "normal"
    assert glucose_status(random_glucose=11.1, typical_symptoms=True).criteria == ("random",)
    assert glucose_status().category == "unknown"


def test_ogtt_recommendation() -> None:
    assert glucose_status(fasting_glucose=6.1).ogtt_recommended
    assert not glucose_status(fasting_glucose=6.0).ogtt_recommended
    assert glucose_status(random_glucose=7.8).ogtt_recommended
    assert not glucose_status(random_glucose=7.7).ogtt_recommended
    assert not glucose_status(fasting_glucose=6.5, ogtt_2h=7.0).ogtt_recommended  # OGTT already done
    assert not glucose_status(fasting_glucose=7.2).ogtt_recommended  # already diabetic range


def test_glucose_cut_offs_are_rule_set_data() -> None:
    rs = risk.CDS_2020
    assert "diabetes_fpg" in rs.unverified()
    assert rs.param("diabetes_hba1c").verified


@given(
    fpg=st.one_of(st.none(), st.floats(2, 30)),
    ogtt=st.one_of(st.none(), st.floats(2, 30)),
    rnd=st.one_of(st.none(), st.floats(2, 30)),
    a1c=st.one_of(st.none(), st.floats(3, 15)),
    symptoms=st.booleans(),
)
def test_glucose_property(
    fpg: float | None, ogtt: float | None, rnd: float | None, a1c: float | None, symptoms: bool
) -> None:
    s = glucose_status(
        fasting_glucose=fpg, ogtt_2h=ogtt, random_glucose=rnd, hba1c=a1c, typical_symptoms=symptoms
    )
    assert s.category in risk.GLUCOSE_STATUS_CATEGORIES
    assert s.diagnostic == bool(s.criteria)
    assert s.needs_confirmation == (s.diagnostic and not symptoms)
    assert not (s.diagnostic and s.ogtt_recommended)
    if fpg is not None and fpg >= 7.0:
        assert s.diagnostic

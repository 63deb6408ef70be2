"""Resident rules: plausibility, BMI / waist (ALGORITHMS.md §5.1), age, key populations (RULES.md §6)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jiayi.residents import rules
from jiayi.residents.rules import (
    KEY_POPULATIONS,
    MEASUREMENT_RANGES,
    age_on,
    bmi,
    bmi_class,
    check_measurements,
    derive_key_populations,
    latest_birth_date,
    waist_class,
)

# ---------------------------------------------------------------------------------------------
# Plausibility
# ---------------------------------------------------------------------------------------------

EXPECTED_KINDS = {
    "sbp": "mmHg",
    "dbp": "mmHg",
    "heart_rate": "次/分",
    "height": "cm",
    "weight": "kg",
    "waist": "cm",
    "fasting_glucose": "mmol/L",
    "random_glucose": "mmol/L",
    "hba1c": "%",
    "total_cholesterol": "mmol/L",
    "triglycerides": "mmol/L",
    "ldl_c": "mmol/L",
    "hdl_c": "mmol/L",
}


def test_ranges_cover_every_kind_with_units() -> None:
    assert {k: r.unit for k, r in MEASUREMENT_RANGES.items()} == EXPECTED_KINDS
    for kind, (low, high, unit) in MEASUREMENT_RANGES.items():
        assert 0 < low < high, kind
        assert unit
        assert kind in rules.MEASUREMENT_LABELS


def test_documented_bp_bounds() -> None:
    assert MEASUREMENT_RANGES["sbp"][:2] == (60, 280)
    assert MEASUREMENT_RANGES["dbp"][:2] == (30, 160)


def test_typical_values_pass() -> None:
    assert (
        check_measurements(
            {
                "sbp": 135,
                "dbp": 85,
                "heart_rate": 72,
                "height": 168.5,
                "weight": 65.2,
                "waist": 82,
                "fasting_glucose": 6.1,
                "random_glucose": 9.4,
                "hba1c": 6.8,
                "total_cholesterol": 5.2,
                "triglycerides": 1.7,
                "ldl_c": 3.1,
                "hdl_c": 1.2,
            }
        )
        == {}
    )


def test_sbp_400_is_refused() -> None:
    problems = check_measurements({"sbp": 400, "dbp": 90})
    assert set(problems) == {"sbp"}
    assert "收缩压" in problems["sbp"]
    assert "400" in problems["sbp"]


def test_dbp_above_sbp_is_refused() -> None:
    problems = check_measurements({"sbp": 120, "dbp": 130})
    assert set(problems) == {"dbp"}
    assert "舒张压必须低于收缩压" in problems["dbp"]


def test_dbp_equal_to_sbp_is_refused() -> None:
    assert set(check_measurements({"sbp": 120, "dbp": 120})) == {"dbp"}


def test_pulse_pressure_boundary() -> None:
    assert check_measurements({"sbp": 100, "dbp": 90}) == {}  # pulse pressure 10: accepted
    problems = check_measurements({"sbp": 100, "dbp": 91})
    assert set(problems) == {"dbp"}
    assert "脉压" in problems["dbp"]


@pytest.mark.parametrize("kind", sorted(MEASUREMENT_RANGES))
def test_bounds_are_inclusive(kind: str) -> None:
    low, high, _unit = MEASUREMENT_RANGES[kind]
    assert check_measurements({kind: low}) == {}
    assert check_measurements({kind: high}) == {}
    assert set(check_measurements({kind: low - 0.01})) == {kind}
    assert set(check_measurements({kind: high + 0.01})) == {kind}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, -5.0])
def test_non_finite_and_non_positive_are_refused(bad: float) -> None:
    assert set(check_measurements({"weight": bad})) == {"weight"}


def test_none_and_unknown_keys_are_skipped() -> None:
    assert check_measurements({"sbp": None, "dbp": 80, "bmi": 99.0, "foo": 1e9}) == {}


def test_cross_rule_skipped_when_one_value_is_out_of_range() -> None:
    assert set(check_measurements({"sbp": 400, "dbp": 150})) == {"sbp"}


def test_typical_unit_mistakes_are_caught() -> None:
    assert "height" in check_measurements({"height": 1.70})  # metres
    assert "fasting_glucose" in check_measurements({"fasting_glucose": 126})  # mg/dL
    assert "total_cholesterol" in check_measurements({"total_cholesterol": 200})  # mg/dL


def test_lipid_cross_rules() -> None:
    problems = check_measurements({"total_cholesterol": 4.0, "hdl_c": 4.2, "ldl_c": 4.0})
    assert set(problems) == {"hdl_c", "ldl_c"}
    assert check_measurements({"total_cholesterol": 4.0, "hdl_c": 1.0, "ldl_c": 2.5}) == {}


def test_messages_are_chinese_and_name_the_range() -> None:
    msg = check_measurements({"hba1c": 25})["hba1c"]
    assert msg.startswith("糖化血红蛋白25%")
    assert "3–20%" in msg


@given(
    sbp=st.integers(60, 280),
    dbp=st.integers(30, 160),
)
def test_bp_property(sbp: int, dbp: int) -> None:
    problems = check_measurements({"sbp": sbp, "dbp": dbp})
    assert ("dbp" in problems) == (sbp - dbp < rules.MIN_PULSE_PRESSURE)
    assert "sbp" not in problems


@given(st.sampled_from(sorted(MEASUREMENT_RANGES)), st.floats(allow_nan=True, allow_infinity=True))
def test_single_value_property(kind: str, value: float) -> None:
    low, high, _unit = MEASUREMENT_RANGES[kind]
    plausible = math.isfinite(value) and low <= value <= high
    assert (kind in check_measurements({kind: value})) is not plausible


# ---------------------------------------------------------------------------------------------
# BMI and waist — WS/T 428 (ALGORITHMS.md §5.1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "klass"),
    [
        (18.4, "underweight"),
        (18.5, "normal"),
        (23.99, "normal"),
        (24.0, "overweight"),
        (27.9, "overweight"),
        (28.0, "obese"),
        (40.0, "obese"),
        (12.0, "underweight"),
    ],
)
def test_bmi_class_vectors(value: float, klass: str) -> None:
    assert bmi_class(value) == klass
    assert klass in rules.BMI_CLASSES


def test_bmi_from_height_and_weight() -> None:
    assert bmi(170, 70) == 24.2  # 24.22 -> 超重
    assert bmi_class(bmi(170, 70)) == "overweight"
    assert bmi(160, 50) == 19.5  # 19.53
    assert bmi(100, 24.25) == 24.3  # half-up, not banker's rounding


@pytest.mark.parametrize(("h", "w"), [(0, 70), (-170, 70), (170, 0), (170, math.nan), (math.inf, 70)])
def test_bmi_rejects_bad_input(h: float, w: float) -> None:
    with pytest.raises(ValueError):
        bmi(h, w)


@pytest.mark.parametrize(
    ("sex", "waist", "klass"),
    [
        ("M", 84.9, "normal"),
        ("M", 85, "pre_central_obesity"),
        ("M", 89.9, "pre_central_obesity"),
        ("M", 90, "central_obesity"),
        ("F", 79.9, "normal"),
        ("F", 80, "pre_central_obesity"),
        ("F", 84.9, "pre_central_obesity"),
        ("F", 85, "central_obesity"),
        ("f", 85, "central_obesity"),
    ],
)
def test_waist_class_vectors(sex: str, waist: float, klass: str) -> None:
    assert waist_class(sex, waist) == klass


def test_waist_class_needs_a_sex() -> None:
    with pytest.raises(ValueError):
        waist_class("U", 90)


@given(st.floats(10, 60), st.floats(10, 60))
def test_bmi_class_is_monotone(a: float, b: float) -> None:
    order = list(rules.BMI_CLASSES)
    lo, hi = sorted((a, b))
    assert order.index(bmi_class(lo)) <= order.index(bmi_class(hi))


@given(st.floats(100, 220), st.floats(20, 200))
def test_bmi_has_one_decimal(h: float, w: float) -> None:
    value = bmi(h, w)
    assert value == round(value, 1)
    assert abs(value - w / (h / 100) ** 2) <= 0.05 + 1e-9


# ---------------------------------------------------------------------------------------------
# Age
# ---------------------------------------------------------------------------------------------


def test_age_on_birthday_and_day_before() -> None:
    born = date(1960, 6, 15)
    assert age_on(born, date(2025, 6, 15)) == 65
    assert age_on(born, date(2025, 6, 14)) == 64
    assert age_on(born, born) == 0


def test_age_of_leap_day_birth() -> None:
    born = date(2000, 2, 29)
    assert age_on(born, date(2001, 2, 28)) == 0
    assert age_on(born, date(2001, 3, 1)) == 1
    assert age_on(born, date(2004, 2, 29)) == 4


def test_age_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError):
        age_on(date(2020, 1, 2), date(2020, 1, 1))


@given(st.dates(max_value=date(2100, 1, 1)), st.integers(0, 40_000))
def test_age_property(born: date, days: int) -> None:
    on = born + timedelta(days=days)
    assume(on.year < 9999)
    age = age_on(born, on)
    assert 0 <= age <= days // 365
    assert age_on(born, on + timedelta(days=1)) in (age, age + 1)


def test_latest_birth_date_of_a_leap_day() -> None:
    assert latest_birth_date(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert latest_birth_date(date(2024, 2, 29), 4) == date(2020, 2, 29)
    assert latest_birth_date(date(2025, 6, 15), 65) == date(1960, 6, 15)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 120))
def test_latest_birth_date_agrees_with_age_on(on: date, years: int) -> None:
    latest = latest_birth_date(on, years)
    assert age_on(latest, on) >= years
    if years == 0:
        assert latest == on
    else:  # a day later is too young
        assert age_on(latest + timedelta(days=1), on) < years


# ---------------------------------------------------------------------------------------------
# Key populations (RULES.md §6)
# ---------------------------------------------------------------------------------------------


def test_ten_key_populations() -> None:
    assert list(KEY_POPULATIONS) == [
        "elderly",
        "maternal",
        "child",
        "disabled",
        "poverty_lifted",
        "special_fp_family",
        "hypertension",
        "diabetes",
        "tuberculosis",
        "severe_mental",
    ]
    assert KEY_POPULATIONS["elderly"][0] == "老年人"
    assert KEY_POPULATIONS["severe_mental"][0] == "严重精神障碍患者"
    assert all(zh and en for zh, en in KEY_POPULATIONS.values())


def _derive(
    born: date | None,
    on: date,
    *,
    pregnant: bool = False,
    diagnoses: frozenset[str] = frozenset(),
    recorded: frozenset[str] = frozenset(),
) -> set[str]:
    return derive_key_populations(
        birth_date=born, on=on, pregnant_or_postpartum=pregnant, diagnoses=diagnoses, recorded=recorded
    )


def test_elderly_from_65th_birthday() -> None:
    born = date(1960, 3, 1)
    assert _derive(born, date(2025, 2, 28)) == set()
    assert _derive(born, date(2025, 3, 1)) == {"elderly"}


def test_child_is_0_to_6() -> None:
    born = date(2018, 5, 10)
    assert _derive(born, born) == {"child"}  # newborn
    assert _derive(born, date(2025, 5, 9)) == {"child"}  # age 6
    assert _derive(born, date(2025, 5, 10)) == set()  # age 7


def test_other_populations() -> None:
    got = _derive(
        date(1980, 1, 1),
        date(2025, 1, 1),
        pregnant=True,
        diagnoses=frozenset({"hypertension", "diabetes", "tuberculosis", "severe_mental"}),
        recorded=frozenset({"disabled", "poverty_lifted", "special_fp_family"}),
    )
    assert got == set(KEY_POPULATIONS) - {"elderly", "child"}


def test_unknown_birth_date_skips_age_groups() -> None:
    assert _derive(None, date(2025, 1, 1), recorded=frozenset({"elderly"})) == {"elderly"}


def test_unknown_codes_raise() -> None:
    with pytest.raises(ValueError):
        _derive(date(1980, 1, 1), date(2025, 1, 1), diagnoses=frozenset({"asthma"}))
    with pytest.raises(ValueError):
        _derive(date(1980, 1, 1), date(2025, 1, 1), recorded=frozenset({"vip"}))
    with pytest.raises(ValueError):
        _derive(date(1980, 1, 1), date(2025, 1, 1), diagnoses=frozenset({"disabled"}))


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 1, 1)),
    days=st.integers(0, 45_000),
    pregnant=st.booleans(),
    diagnoses=st.frozensets(st.sampled_from(sorted(rules.DIAGNOSIS_POPULATIONS))),
    recorded=st.frozensets(st.sampled_from(sorted(rules.RECORDED_POPULATIONS))),
)
def test_key_population_property(
    born: date, days: int, pregnant: bool, diagnoses: frozenset[str], recorded: frozenset[str]
) -> None:
    on = born + timedelta(days=days)
    got = _derive(born, on, pregnant=pregnant, diagnoses=diagnoses, recorded=recorded)
    age = age_on(born, on)
    assert got <= set(KEY_POPULATIONS)
    assert ("elderly" in got) == (age >= 65)
    assert ("child" in got) == (age < 7)
    assert not {"elderly", "child"} <= got
    assert ("maternal" in got) == pregnant
    assert diagnoses | recorded <= got


# ---------------------------------------------------------------------------------------------
# BMI plausibility of a height and weight pair (each plausible on its own)
# ---------------------------------------------------------------------------------------------


def test_an_impossible_height_and_weight_pair_is_refused_on_weight() -> None:
    problems = check_measurements({"height": 30, "weight": 300})  # BMI 3333: more than any record can hold
    assert set(problems) == {"weight"}
    assert "3333.3" in problems["weight"] and "5–200" in problems["weight"]
    assert set(check_measurements({"height": 230, "weight": 0.5})) == {"weight"}  # BMI 0.1


@pytest.mark.parametrize(("h", "w"), [(30, 0.5), (170, 70), (150, 300), (45, 2.5)])
def test_real_bodies_pass_the_bmi_rule(h: float, w: float) -> None:
    assert check_measurements({"height": h, "weight": w}) == {}


@given(st.floats(30, 230), st.floats(0.5, 300))
def test_bmi_rule_property(h: float, w: float) -> None:
    plausible = rules.BMI_RANGE.low <= bmi(h, w) <= rules.BMI_RANGE.high
    assert ("weight" in check_measurements({"height": h, "weight": w})) is not plausible

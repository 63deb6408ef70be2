"""Resident rules: measurement plausibility, BMI and waist classes, age, key populations.

Pure Python (no Django). Messages are Chinese source strings marked with the local no-op ``_``;
the caller translates them.

- Plausibility bounds (:data:`MEASUREMENT_RANGES`) are a **project convention**: wide enough for any
  value a community clinic can really measure (newborns to adults, crises included), narrow enough to
  catch unit mix-ups and typos (SBP 400, height in metres, glucose in mg/dL). They are not clinical
  reference ranges.
- BMI and waist classes: WS/T 428-2013 (ALGORITHMS.md §5.1, confidence H).
- Key populations: the ten groups of RULES.md §6 (2022 guidance, H). Elderly = 65 and over (the
  elderly programme, RULES.md §3); children = 0-6 years, i.e. under 7 (the 0-6 child programme, §4.1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, NamedTuple

__all__ = [
    "BMI_CLASSES",
    "BMI_RANGE",
    "CHILD_MAX_AGE",
    "DIAGNOSIS_POPULATIONS",
    "ELDERLY_MIN_AGE",
    "KEY_POPULATIONS",
    "MEASUREMENT_LABELS",
    "MEASUREMENT_RANGES",
    "MIN_PULSE_PRESSURE",
    "RECORDED_POPULATIONS",
    "WAIST_CLASSES",
    "MeasurementRange",
    "age_on",
    "bmi",
    "bmi_class",
    "check_measurements",
    "derive_key_populations",
    "latest_birth_date",
    "register_key_population",
    "round_half_up",
    "waist_class",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


def _identity(s: str) -> str:
    return s


def round_half_up(value: float, ndigits: int = 1) -> float:
    """Round like a person does (0.05 -> 0.1), on the decimal representation of ``value``."""
    q = Decimal(1).scaleb(-ndigits)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------
# Measurement plausibility
# ---------------------------------------------------------------------------------------------


class MeasurementRange(NamedTuple):
    low: float
    high: float
    unit: str


#: kind -> (low, high, unit); a value is plausible when low <= value <= high. Project convention.
MEASUREMENT_RANGES: Final[dict[str, MeasurementRange]] = {
    # Office BP: below 60/30 the patient is in shock and not measured at a follow-up; 280/160 is
    # beyond any hypertensive crisis recorded in primary care. Refuses SBP 400.
    "sbp": MeasurementRange(60, 280, "mmHg"),
    "dbp": MeasurementRange(30, 160, "mmHg"),
    # Complete heart block (~30) to SVT in infants (~220).
    "heart_rate": MeasurementRange(30, 220, "次/分"),
    # Preterm newborn (~30 cm) to the tallest adults; catches metres (1.70) typed for centimetres.
    "height": MeasurementRange(30, 230, "cm"),
    # Preterm newborn (0.5 kg) to morbid obesity; catches jin (斤) typed for kg only partly.
    "weight": MeasurementRange(0.5, 300, "kg"),
    "waist": MeasurementRange(30, 200, "cm"),
    # Lab analysers read hyperosmolar states above 33.3 (glucometer "HI"); 50 allows for them.
    # Catches mg/dL (e.g. 126) typed for mmol/L.
    "fasting_glucose": MeasurementRange(1.0, 50.0, "mmol/L"),
    "random_glucose": MeasurementRange(1.0, 50.0, "mmol/L"),
    "hba1c": MeasurementRange(3.0, 20.0, "%"),
    # Lipids: homozygous familial hypercholesterolaemia (TC ~20) and chylomicronaemia (TG far above
    # 20) included; mg/dL values (TC 200) refused.
    "total_cholesterol": MeasurementRange(1.0, 20.0, "mmol/L"),
    "triglycerides": MeasurementRange(0.1, 60.0, "mmol/L"),
    "ldl_c": MeasurementRange(0.1, 15.0, "mmol/L"),
    "hdl_c": MeasurementRange(0.1, 5.0, "mmol/L"),
}

MEASUREMENT_LABELS: Final[dict[str, str]] = {
    "sbp": _("收缩压"),
    "dbp": _("舒张压"),
    "heart_rate": _("心率"),
    "height": _("身高"),
    "weight": _("体重"),
    "waist": _("腰围"),
    "fasting_glucose": _("空腹血糖"),
    "random_glucose": _("随机血糖"),
    "hba1c": _("糖化血红蛋白"),
    "total_cholesterol": _("总胆固醇"),
    "triglycerides": _("甘油三酯"),
    "ldl_c": _("低密度脂蛋白胆固醇"),
    "hdl_c": _("高密度脂蛋白胆固醇"),
}

#: Smallest plausible pulse pressure (SBP - DBP), mmHg. Project convention.
MIN_PULSE_PRESSURE: Final[float] = 10

#: Plausible BMI computed from a measured height and weight, kg/m². Project convention: wide enough for
#: a preterm newborn (0.5 kg at 30 cm -> 5.6) and the heaviest adults on record; refuses impossible
#: pairs that each pass their own range (30 cm with 300 kg -> 3333, which no record can hold).
BMI_RANGE: Final[MeasurementRange] = MeasurementRange(5, 200, "kg/m²")


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_measurements(
    values: Mapping[str, float | None], *, translate: Callable[[str], str] = _identity
) -> dict[str, str]:
    """Field -> message for every implausible value; empty dict when all are plausible.

    Messages are Chinese; pass ``translate`` (e.g. Django's ``gettext``) to translate each message
    template before the values are filled in, so the catalogue entry matches.

    ``None`` values are skipped; keys not in :data:`MEASUREMENT_RANGES` are ignored. Cross-field rules,
    applied only when both values are individually plausible:

    - DBP must be below SBP, and the pulse pressure SBP - DBP at least :data:`MIN_PULSE_PRESSURE`
      (reported on ``dbp``);
    - HDL-C and LDL-C must each be below total cholesterol (reported on ``hdl_c`` / ``ldl_c``);
    - the BMI of height and weight must lie within :data:`BMI_RANGE` (reported on ``weight``).
    """
    problems: dict[str, str] = {}
    plausible: dict[str, float] = {}
    for kind, raw in values.items():
        if raw is None or kind not in MEASUREMENT_RANGES:
            continue
        value = float(raw)
        low, high, unit = MEASUREMENT_RANGES[kind]
        if math.isfinite(value) and low <= value <= high:
            plausible[kind] = value
            continue
        problems[kind] = translate(_("{label}{value}{unit}不合理，合理范围为{low}–{high}{unit}，请核实。")).format(
            label=translate(MEASUREMENT_LABELS[kind]), value=_fmt(value), unit=unit, low=_fmt(low), high=_fmt(high)
        )

    sbp, dbp = plausible.get("sbp"), plausible.get("dbp")
    if sbp is not None and dbp is not None:
        if dbp >= sbp:
            problems["dbp"] = translate(_("舒张压必须低于收缩压，请核实。"))
        elif sbp - dbp < MIN_PULSE_PRESSURE:
            problems["dbp"] = translate(_("脉压（收缩压减舒张压）小于{min}mmHg，不合理，请核实。")).format(
                min=_fmt(MIN_PULSE_PRESSURE)
            )
    tc = plausible.get("total_cholesterol")
    if tc is not None:
        for kind in ("hdl_c", "ldl_c"):
            part = plausible.get(kind)
            if part is not None and part >= tc:
                problems[kind] = translate(_("{label}必须低于总胆固醇，请核实。")).format(
                    label=translate(MEASUREMENT_LABELS[kind])
                )
    height, weight = plausible.get("height"), plausible.get("weight")
    if height is not None and weight is not None:
        value = bmi(height, weight)
        if not BMI_RANGE.low <= value <= BMI_RANGE.high:
            problems["weight"] = translate(
                _("身高{height}cm、体重{weight}kg算得体质指数{bmi}kg/m²，不合理（合理范围为{low}–{high}kg/m²），请核实。")
            ).format(
                height=_fmt(height), weight=_fmt(weight), bmi=_fmt(value), low=_fmt(BMI_RANGE.low),
                high=_fmt(BMI_RANGE.high),
            )
    return problems


# ---------------------------------------------------------------------------------------------
# BMI and waist (WS/T 428-2013)
# ---------------------------------------------------------------------------------------------

BMI_CLASSES: Final[dict[str, str]] = {
    "underweight": _("体重过低"),
    "normal": _("正常"),
    "overweight": _("超重"),
    "obese": _("肥胖"),
}

WAIST_CLASSES: Final[dict[str, str]] = {
    "normal": _("正常"),
    "pre_central_obesity": _("中心型肥胖前期"),
    "central_obesity": _("中心型肥胖"),
}


def bmi(height_cm: float, weight_kg: float) -> float:
    """Body-mass index kg/m², rounded half-up to one decimal (as recorded on the forms).

    The class of a computed BMI is therefore taken on the one-decimal value, e.g. 1.70 m / 70 kg ->
    24.2 -> overweight.
    """
    if not (math.isfinite(height_cm) and height_cm > 0):
        raise ValueError("height_cm must be a positive number")
    if not (math.isfinite(weight_kg) and weight_kg > 0):
        raise ValueError("weight_kg must be a positive number")
    return round_half_up(weight_kg / (height_cm / 100) ** 2, 1)


def bmi_class(value: float) -> str:
    """WS/T 428: <18.5 'underweight'; [18.5, 24.0) 'normal'; [24.0, 28.0) 'overweight'; >=28.0 'obese'.

    Half-open on the value as given (23.99 is normal).
    """
    if value < 18.5:
        return "underweight"
    if value < 24.0:
        return "normal"
    if value < 28.0:
        return "overweight"
    return "obese"


def waist_class(sex: str, waist: float) -> str:
    """WS/T 428 waist (cm): men <85 / women <80 'normal'; men [85, 90) / women [80, 85)
    'pre_central_obesity'; men >=90 / women >=85 'central_obesity'."""
    s = sex.upper()
    if s == "M":
        pre, central = 85.0, 90.0
    elif s == "F":
        pre, central = 80.0, 85.0
    else:
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    if waist < pre:
        return "normal"
    if waist < central:
        return "pre_central_obesity"
    return "central_obesity"


# ---------------------------------------------------------------------------------------------
# Age and key populations (重点人群, RULES.md §6)
# ---------------------------------------------------------------------------------------------


def age_on(birth_date: date, on: date) -> int:
    """Age in full years (周岁) on ``on``.

    The birthday counts from the day itself; someone born on 29 February turns a year older on
    1 March in common years. ValueError if ``on`` is before ``birth_date``.
    """
    if on < birth_date:
        raise ValueError(f"date {on.isoformat()} is before the birth date {birth_date.isoformat()}")
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def latest_birth_date(on: date, years: int) -> date:
    """The latest birth date of someone aged ``years`` or more on ``on`` (as :func:`age_on`: a 29 February
    birth counts from 1 March in common years, so 29 February becomes 28 February)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


#: code -> (Chinese name, English name), in the order of RULES.md §6 — a registry: the populations that
#: are not a disease are registered below, a disease's by the folder of the programme that owns it (its
#: ``diagnoses.py``, with its diagnosis group) through :func:`register_key_population`.
KEY_POPULATIONS: Final[dict[str, tuple[str, str]]] = {}

#: Key populations that follow from a confirmed diagnosis (registered with ``diagnosis=True``).
DIAGNOSIS_POPULATIONS: Final[set[str]] = set()

_RANKS: dict[str, int] = {}


def register_key_population(code: str, name: str, name_en: str, *, rank: int, diagnosis: bool = False) -> None:
    """Register (or replace) key population ``code``; ``rank`` is its place in the list of RULES.md §6,
    which orders :data:`KEY_POPULATIONS` whatever order the registrations come in."""
    _RANKS[code] = rank
    entries = {**KEY_POPULATIONS, code: (name, name_en)}
    KEY_POPULATIONS.clear()
    KEY_POPULATIONS.update(sorted(entries.items(), key=lambda item: _RANKS[item[0]]))
    if diagnosis:
        DIAGNOSIS_POPULATIONS.add(code)
    else:
        DIAGNOSIS_POPULATIONS.discard(code)


register_key_population("elderly", _("老年人"), "Elderly people (65+)", rank=1)
register_key_population("maternal", _("孕产妇"), "Pregnant and postpartum women", rank=2)
register_key_population("child", _("儿童"), "Children (0-6)", rank=3)
register_key_population("disabled", _("残疾人"), "Disabled people", rank=4)
register_key_population("poverty_lifted", _("脱贫人口"), "People lifted out of poverty", rank=5)
register_key_population("special_fp_family", _("计划生育特殊家庭成员"), "Members of special family-planning families",
                        rank=6)
# Ranks 7 and 8 are the two chronic follow-up programmes' (their folders register them). The diseases whose
# programmes are not built yet (their groups are in residents.diagnoses); their folders take them over.
register_key_population("tuberculosis", _("结核病患者"), "Tuberculosis patients", rank=9, diagnosis=True)
register_key_population("severe_mental", _("严重精神障碍患者"), "Severe mental disorder patients", rank=10,
                        diagnosis=True)

#: Key populations that are recorded facts, not derivable from the record.
RECORDED_POPULATIONS: Final[frozenset[str]] = frozenset({"disabled", "poverty_lifted", "special_fp_family"})

ELDERLY_MIN_AGE: Final[int] = 65
CHILD_MAX_AGE: Final[int] = 6  # inclusive: 0-6 years, i.e. under 7


def derive_key_populations(
    *,
    birth_date: date | None,
    on: date,
    pregnant_or_postpartum: bool,
    diagnoses: set[str] | frozenset[str],
    recorded: set[str] | frozenset[str],
) -> set[str]:
    """The key-population codes a resident belongs to on ``on``.

    - 'elderly': age >= 65; 'child': age 0-6 (under 7), in full years (:func:`age_on`); skipped when
      the birth date is unknown;
    - 'maternal': pregnant or postpartum;
    - the disease populations (:data:`DIAGNOSIS_POPULATIONS`): from ``diagnoses``;
    - ``recorded`` flags are kept as they are (any key-population code may be recorded, typically
      'disabled', 'poverty_lifted', 'special_fp_family').

    Unknown codes in ``diagnoses`` or ``recorded`` raise ValueError.
    """
    bad_dx = set(diagnoses) - DIAGNOSIS_POPULATIONS
    if bad_dx:
        raise ValueError(f"unknown diagnosis group(s): {', '.join(sorted(bad_dx))}")
    bad_rec = set(recorded) - set(KEY_POPULATIONS)
    if bad_rec:
        raise ValueError(f"unknown key-population code(s): {', '.join(sorted(bad_rec))}")
    out = set(diagnoses) | set(recorded)
    if birth_date is not None:
        age = age_on(birth_date, on)
        if age >= ELDERLY_MIN_AGE:
            out.add("elderly")
        if age <= CHILD_MAX_AGE:
            out.add("child")
    if pregnant_or_postpartum:
        out.add("maternal")
    return out

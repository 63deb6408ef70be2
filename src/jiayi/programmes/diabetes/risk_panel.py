"""The diabetes programme's part of the resident risk panel (programmes.selectors): whether the resident
has diagnosed diabetes (an input of China-PAR and of the hypertension risk stratification), and the
Chinese diabetes risk score of a resident without diabetes, with the inputs it misses."""

from __future__ import annotations

from typing import Any

from jiayi.programmes import risk
from jiayi.programmes.diabetes.rules import PROGRAMME
from jiayi.programmes.selectors import RiskSubject, register_risk_fact, register_risk_section


def diagnosed(subject: RiskSubject) -> bool:
    return PROGRAMME in subject.groups


def risk_score(subject: RiskSubject) -> tuple[dict[str, Any] | None, list[str]]:
    """(score, missing inputs); (None, []) for a patient with diabetes."""
    if diagnosed(subject):
        return None, []
    missing = [key for key in ("bmi", "waist", "sbp") if key not in subject.latest]
    lo, hi = risk.CDRS_AGE_RANGE
    if not lo <= subject.age <= hi:
        missing.append("age")
    if missing:
        return None, missing
    s = risk.diabetes_risk_score(
        age=subject.age,
        sex=subject.resident.sex,
        bmi=subject.latest["bmi"][0],
        waist=subject.latest["waist"][0],
        sbp=subject.latest["sbp"][0],
        family_history=subject.family_history(("糖尿病",)),
    )
    return {
        "total": s.total,
        "high_risk": s.high_risk,
        "points": {
            "age": s.age_points,
            "bmi": s.bmi_points,
            "waist": s.waist_points,
            "sbp": s.sbp_points,
            "family_history": s.family_history_points,
            "sex": s.sex_points,
        },
    }, missing


def section(subject: RiskSubject) -> dict[str, Any]:
    score, missing = risk_score(subject)
    return {"diabetes_score": score, "diabetes_missing": missing}


register_risk_fact("diagnosed_diabetes", diagnosed)
register_risk_section(PROGRAMME, section)

"""The hypertension programme's part of the resident risk panel (programmes.selectors): whether the
resident is on BP treatment (a China-PAR input), the risk stratification of the 2018 guideline, and
the programme's high-risk criteria for residents without hypertension."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from jiayi.core import rulesets
from jiayi.programmes import risk
from jiayi.programmes.hypertension.rules import PROGRAMME, hypertension_high_risk
from jiayi.programmes.models import Enrolment, MedicationPlan, PlanStatus
from jiayi.programmes.selectors import RiskSubject, register_risk_fact, register_risk_section


def on_bp_treatment(subject: RiskSubject) -> bool:
    """An active medication plan of the programme or an open enrolment in it."""
    resident = subject.resident
    return (
        MedicationPlan.objects.filter(resident=resident, status=PlanStatus.ACTIVE, programme=PROGRAMME).exists()
        or Enrolment.objects.filter(resident=resident, programme=PROGRAMME, end_date__isnull=True).exists()
    )


def stratification(subject: RiskSubject) -> dict[str, Any] | None:
    """Risk stratification (BP grade, risk factors, level) from the latest SBP and DBP; None without both."""
    if "sbp" not in subject.latest or "dbp" not in subject.latest:
        return None
    sbp, dbp = subject.latest["sbp"][0], subject.latest["dbp"][0]
    factors = risk.hypertension_risk_factors(
        sex=subject.resident.sex,
        age=subject.age,
        smoker=bool(subject.smoker),
        fasting_glucose=subject.value("fasting_glucose"),
        total_cholesterol=subject.value("total_cholesterol"),
        ldl_c=subject.value("ldl_c"),
        hdl_c=subject.value("hdl_c"),
        premature_cvd_family_history=subject.cvd_family_history,
        waist=subject.value("waist"),
        bmi=subject.value("bmi"),
    )
    grade = risk.bp_grade(sbp, dbp)
    level = risk.hypertension_risk_level(
        sbp, dbp, risk_factors=len(factors), diabetes=subject.facts.get("diagnosed_diabetes", False)
    )
    return {
        "sbp": sbp,
        "dbp": dbp,
        "bp_grade": grade.category,
        "bp_grade_label": _(risk.BP_CATEGORIES[grade.category]),
        "risk_factors": factors,
        "risk_factor_labels": [_(risk.HTN_RISK_FACTORS[f]) for f in factors],
        "level": level,
        "level_label": _(risk.HTN_RISK_LEVELS[level]) if level else None,
        "ruleset": risk.HBP_2018.code,
        "unverified": list(risk.HBP_2018.unverified()),
    }


def high_risk(subject: RiskSubject) -> list[str]:
    """The programme's high-risk criteria met by a resident without hypertension (empty for a patient)."""
    if PROGRAMME in subject.groups:
        return []
    return hypertension_high_risk(
        ruleset=rulesets.default_for(PROGRAMME, subject.today),
        sbp=subject.value("sbp"),
        dbp=subject.value("dbp"),
        bmi=subject.value("bmi"),
        waist=subject.value("waist"),
        sex=subject.resident.sex,
        family_history=subject.family_history(("高血压",)),
        age=subject.age,
    )


def section(subject: RiskSubject) -> dict[str, Any]:
    return {"htn_risk": stratification(subject), "high_risk": high_risk(subject)}


register_risk_fact("bp_treated", on_bp_treatment)
register_risk_section(PROGRAMME, section)

"""The resident risk panel: China-PAR in programmes.selectors, the rest contributed by the programme
folders (risk_panel.py) through facts and sections; and the key-population registry they fill."""

from __future__ import annotations

from datetime import date

import pytest

from jiayi.programmes import risk, selectors
from jiayi.residents import rules as resident_rules

TODAY = date(2025, 6, 1)


def _measure(resident) -> None:
    from jiayi.residents.services import measurement_record

    measurement_record(actor=None, resident=resident, sbp=150, dbp=95, total_cholesterol=5.4, hdl_c=1.2, waist=92,
                       height=170, weight=75)


@pytest.mark.django_db
def test_a_diagnosed_diabetes_feeds_china_par_and_the_stratification_and_skips_the_score(district):
    from jiayi.residents.models import Problem
    from jiayi.residents.services import measurement_record

    r = district.resident_a
    measurement_record(actor=None, resident=r, sbp=145, dbp=92)
    before = selectors.resident_risk(r, today=TODAY)
    assert before.china_par_inputs["diabetes"] is False
    assert before.diabetes_score is None and {"bmi", "waist"} <= set(before.diabetes_missing)
    Problem.objects.create(resident=r, icd10="E11", name="2型糖尿病", diagnosed_on=TODAY)
    after = selectors.resident_risk(r, today=TODAY)
    assert after.china_par_inputs["diabetes"] is True
    assert after.diabetes_score is None and after.diabetes_missing == []  # no score for a patient
    n = len(after.htn_risk["risk_factors"])
    assert after.htn_risk["level"] == risk.hypertension_risk_level(145, 92, risk_factors=n, diabetes=True)
    assert before.htn_risk["level"] == risk.hypertension_risk_level(145, 92, risk_factors=n, diabetes=False)
    assert after.htn_risk["level"] != before.htn_risk["level"]


@pytest.mark.django_db
def test_a_hypertension_patient_gets_no_high_risk_criteria(district):
    from jiayi.residents.models import Problem

    r = district.resident_a
    _measure(r)
    assert "central_obesity" in selectors.resident_risk(r, today=TODAY).high_risk  # male, waist 92
    Problem.objects.create(resident=r, icd10="I10", name="原发性高血压", diagnosed_on=TODAY)
    assert selectors.resident_risk(r, today=TODAY).high_risk == []


def test_unknown_risk_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown risk fact"):
        selectors.register_risk_fact("smokes_a_pipe", lambda subject: True)


def test_key_populations_keep_the_order_of_rules_md_whatever_the_registration_order() -> None:
    saved = dict(resident_rules.KEY_POPULATIONS)
    try:
        resident_rules.register_key_population("zz_late", "甲", "A", rank=0)
        assert next(iter(resident_rules.KEY_POPULATIONS)) == "zz_late"
        assert list(resident_rules.KEY_POPULATIONS)[1:] == list(saved)
        assert "zz_late" not in resident_rules.DIAGNOSIS_POPULATIONS
    finally:
        resident_rules.KEY_POPULATIONS.clear()
        resident_rules.KEY_POPULATIONS.update(saved)
        resident_rules._RANKS.pop("zz_late", None)

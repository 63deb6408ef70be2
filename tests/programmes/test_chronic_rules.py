"""Hypertension / diabetes follow-up rules (RULES.md §2) and the rule-set registry."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes import chronic_rules as cr
from jiayi.programmes.chronic_rules import PatientFacts, VisitFacts, VisitOutcome, evaluate_visit
from jiayi.programmes.diabetes import rules as dm
from jiayi.programmes.hypertension import rules as htn

D0 = date(2025, 3, 10)
ADULT = PatientFacts(birth_date=date(1970, 5, 1), sex="M")  # 54 on D0
AGED_70 = PatientFacts(birth_date=date(1955, 1, 1), sex="F")
AGED_85 = PatientFacts(birth_date=date(1940, 1, 1), sex="F")

HT = htn.NBPHS_2017
HT25 = htn.CHRONIC_2025
DM = dm.NBPHS_2017
DM25 = dm.CHRONIC_2025


def ht_visit(sbp: float = 130, dbp: float = 80, **kw: Any) -> VisitFacts:
    return VisitFacts(visit_date=kw.pop("visit_date", D0), sbp=sbp, dbp=dbp, **kw)


def dm_visit(fpg: float = 6.0, **kw: Any) -> VisitFacts:
    kw.setdefault("sbp", 125)
    kw.setdefault("dbp", 78)
    return VisitFacts(visit_date=kw.pop("visit_date", D0), fasting_glucose=fpg, **kw)


CONTROLLED = VisitOutcome("controlled", D0, None, False)
UNCONTROLLED = VisitOutcome("uncontrolled", D0, None, False)
ADVERSE = VisitOutcome("adverse_reaction", D0, None, False)
COMPLICATION = VisitOutcome("complication", D0, ("complication",), False)


# =============================================================================================
# Urgent referral: every criterion alone is enough (OR, never AND)
# =============================================================================================

HTN_SINGLE_CRITERIA: list[tuple[str, dict[str, Any]]] = [
    ("HTN-U1", {"sbp": 180, "dbp": 80}),
    ("HTN-U1", {"sbp": 150, "dbp": 110}),
    *[("HTN-U2", {"symptoms": frozenset({s})}) for s in sorted(cr.HTN_U2_SYMPTOMS)],
    *[("HTN-U3", {"symptoms": frozenset({s})}) for s in sorted(cr.HTN_U3_SYMPTOMS)],
    ("HTN-U4", {"sbp": 140, "dbp": 80, "pregnant_or_breastfeeding": True}),
    ("HTN-U4", {"sbp": 120, "dbp": 90, "pregnant_or_breastfeeding": True}),
    ("HTN-U5", {"other_unmanageable": True}),
]


@pytest.mark.parametrize(("code", "change"), HTN_SINGLE_CRITERIA)
def test_each_hypertension_criterion_alone_refers(code: str, change: dict[str, Any]) -> None:
    visit = ht_visit(**change)
    assert code in cr.hypertension_urgent_reasons(visit, HT)
    out = evaluate_visit(visit, None, ADULT, HT)
    assert out.urgent
    assert out.referral is not None and code in out.referral
    assert out.next_due == D0 + timedelta(days=14)


def test_hypertension_just_below_thresholds_is_not_urgent() -> None:
    assert cr.hypertension_urgent_reasons(ht_visit(179, 109), HT) == ()
    # Pregnant with normal BP: no HTN-U4.
    assert cr.hypertension_urgent_reasons(ht_visit(120, 80, pregnant_or_breastfeeding=True), HT) == ()
    # Raised BP, not pregnant: no HTN-U4.
    assert "HTN-U4" not in cr.hypertension_urgent_reasons(ht_visit(150, 95), HT)
    # Symptoms of the other programme do not count.
    assert cr.hypertension_urgent_reasons(ht_visit(symptoms=frozenset({"polyuria"})), HT) == ()


def test_hypertension_all_criteria_together() -> None:
    visit = ht_visit(
        190,
        115,
        symptoms=frozenset({"eye_pain", "orthopnoea"}),
        pregnant_or_breastfeeding=True,
        other_unmanageable=True,
    )
    assert cr.hypertension_urgent_reasons(visit, HT) == ("HTN-U1", "HTN-U2", "HTN-U3", "HTN-U4", "HTN-U5")


DM_SINGLE_CRITERIA: list[tuple[str, dict[str, Any]]] = [
    ("DM-U1", {"fpg": 16.7}),
    ("DM-U1", {"fpg": 3.9}),
    ("DM-U1", {"fpg": 6.0, "random_glucose": 16.7}),
    ("DM-U1", {"fpg": 6.0, "random_glucose": 3.5}),
    ("DM-U2", {"sbp": 180, "dbp": 80}),
    ("DM-U2", {"sbp": 140, "dbp": 110}),
    *[("DM-U3", {"symptoms": frozenset({s})}) for s in sorted(cr.DM_U3_SYMPTOMS)],
    ("DM-U4", {"heart_rate": 101}),
    ("DM-U5", {"temperature": 39.1}),
    ("DM-U6", {"symptoms": frozenset({"sudden_vision_loss"})}),
    ("DM-U6", {"fpg": 6.1, "pregnant_or_breastfeeding": True}),
    ("DM-U6", {"fpg": 5.0, "random_glucose": 7.8, "pregnant_or_breastfeeding": True}),
    ("DM-U7", {"other_unmanageable": True}),
]


@pytest.mark.parametrize(("code", "change"), DM_SINGLE_CRITERIA)
def test_each_diabetes_criterion_alone_refers(code: str, change: dict[str, Any]) -> None:
    visit = dm_visit(**change)
    assert code in cr.diabetes_urgent_reasons(visit, DM)
    out = evaluate_visit(visit, None, ADULT, DM)
    assert out.urgent
    assert out.referral is not None and code in out.referral
    assert out.next_due == D0 + timedelta(days=14)


def test_diabetes_just_inside_thresholds_is_not_urgent() -> None:
    visit = dm_visit(16.6, random_glucose=4.0, heart_rate=100, temperature=39.0, sbp=179, dbp=109)
    assert cr.diabetes_urgent_reasons(visit, DM) == ()
    assert cr.diabetes_urgent_reasons(dm_visit(6.0, pregnant_or_breastfeeding=True), DM) == ()


def test_vendor_and_bug_would_never_fire_but_or_does() -> None:
    """RULES.md §2.3 warning: 'bp>=180 && dbp>=110 && glu>16.7 && glu<3.9' can never be true."""
    only_glucose = dm_visit(20.0)
    assert cr.diabetes_urgent_reasons(only_glucose, DM) == ("DM-U1",)


def test_urgent_reasons_dispatch_on_programme() -> None:
    visit = VisitFacts(visit_date=D0, sbp=185, dbp=90, fasting_glucose=5.0)
    assert cr.urgent_reasons(visit, HT) == ("HTN-U1",)
    assert cr.urgent_reasons(visit, DM) == ("DM-U2",)
    with pytest.raises(ValueError):
        cr.urgent_reasons(visit, risk_ruleset())


def risk_ruleset() -> RuleSet:
    from jiayi.programmes.risk import HBP_2018

    return HBP_2018


def test_every_symptom_has_a_label_and_every_code_a_text() -> None:
    used = cr.HTN_U2_SYMPTOMS | cr.HTN_U3_SYMPTOMS | cr.DM_U3_SYMPTOMS | cr.DM_U6_SYMPTOMS
    assert used == set(cr.SYMPTOMS)
    assert {f"HTN-U{i}" for i in range(1, 6)} | {f"DM-U{i}" for i in range(1, 8)} == set(cr.URGENT_CRITERIA)
    assert {"two_uncontrolled", "adverse_uncontrollable", "complication"} < set(cr.REFERRAL_REASONS)


# =============================================================================================
# Classification: the most severe wins
# =============================================================================================


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, "controlled"),
        ({"sbp": 140}, "uncontrolled"),
        ({"dbp": 90}, "uncontrolled"),
        ({"sbp": 150, "adverse_reaction": True}, "adverse_reaction"),
        ({"adverse_uncontrollable": True}, "adverse_reaction"),
        ({"sbp": 150, "adverse_reaction": True, "complication_new_or_worse": True}, "complication"),
        ({"complication_new_or_worse": True}, "complication"),
    ],
)
def test_classification_precedence(change: dict[str, Any], expected: str) -> None:
    assert cr.classify_visit(ht_visit(**change), ADULT, HT) == expected


def test_most_severe() -> None:
    assert cr.most_severe(["controlled", "complication", "uncontrolled"]) == "complication"
    assert cr.most_severe(["uncontrolled", "adverse_reaction"]) == "adverse_reaction"
    assert list(cr.CLASSIFICATIONS) == ["controlled", "uncontrolled", "adverse_reaction", "complication"]


def test_missing_control_measurement() -> None:
    with pytest.raises(ValueError):
        cr.classify_visit(VisitFacts(visit_date=D0), ADULT, HT)
    with pytest.raises(ValueError):
        cr.classify_visit(VisitFacts(visit_date=D0, sbp=130, dbp=80), ADULT, DM)
    # A more severe class does not need the measurement.
    assert (
        cr.classify_visit(VisitFacts(visit_date=D0, adverse_reaction=True), ADULT, HT) == "adverse_reaction"
    )
    assert cr.is_controlled(VisitFacts(visit_date=D0, sbp=130), ADULT, HT) is None


def test_diabetes_control_threshold() -> None:
    assert cr.classify_visit(dm_visit(6.9), ADULT, DM) == "controlled"
    assert cr.classify_visit(dm_visit(7.0), ADULT, DM) == "uncontrolled"


# =============================================================================================
# State machine and next-due vectors (RULES.md §2.4)
# =============================================================================================


def test_controlled_visit_books_routine_interval() -> None:
    out = evaluate_visit(ht_visit(), None, ADULT, HT)
    assert out == VisitOutcome("controlled", D0 + timedelta(days=90), None, False)


def test_first_uncontrolled_is_seen_within_two_weeks() -> None:
    out = evaluate_visit(ht_visit(150, 85), CONTROLLED, ADULT, HT)
    assert out == VisitOutcome("uncontrolled", D0 + timedelta(days=14), None, False)
    assert evaluate_visit(ht_visit(150, 85), None, ADULT, HT).referral is None


def test_second_consecutive_uncontrolled_is_referred() -> None:
    first = evaluate_visit(ht_visit(150, 85), CONTROLLED, ADULT, HT)
    second = evaluate_visit(ht_visit(152, 88, visit_date=first.next_due), first, ADULT, HT)
    assert second.classification == "uncontrolled"
    assert second.referral == ("two_uncontrolled",)
    assert not second.urgent
    assert second.next_due == first.next_due + timedelta(days=14)


def test_adverse_reaction_counts_like_uncontrolled_for_two_in_a_row() -> None:
    assert evaluate_visit(ht_visit(adverse_reaction=True), None, ADULT, HT).referral is None
    assert evaluate_visit(ht_visit(adverse_reaction=True), None, ADULT, HT).next_due == D0 + timedelta(
        days=14
    )
    assert evaluate_visit(ht_visit(150, 85), ADVERSE, ADULT, HT).referral == ("two_uncontrolled",)
    assert evaluate_visit(ht_visit(adverse_reaction=True), UNCONTROLLED, ADULT, HT).referral == (
        "two_uncontrolled",
    )


def test_uncontrollable_adverse_reaction_is_referred_at_once() -> None:
    out = evaluate_visit(ht_visit(adverse_reaction=True, adverse_uncontrollable=True), None, ADULT, HT)
    assert out.classification == "adverse_reaction"
    assert out.referral == ("adverse_uncontrollable",)
    assert out.next_due == D0 + timedelta(days=14)


def test_complication_is_referred() -> None:
    out = evaluate_visit(ht_visit(complication_new_or_worse=True), CONTROLLED, ADULT, HT)
    assert out == VisitOutcome("complication", D0 + timedelta(days=14), ("complication",), False)


def test_controlled_after_uncontrolled_goes_back_to_routine() -> None:
    out = evaluate_visit(ht_visit(), UNCONTROLLED, ADULT, HT)
    assert out == VisitOutcome("controlled", D0 + timedelta(days=90), None, False)


def test_after_complication_a_single_uncontrolled_visit_is_not_a_second_in_a_row() -> None:
    assert evaluate_visit(ht_visit(150, 85), COMPLICATION, ADULT, HT).referral is None


def test_urgent_and_follow_up_reasons_are_combined() -> None:
    out = evaluate_visit(ht_visit(185, 95, complication_new_or_worse=True), UNCONTROLLED, ADULT, HT)
    assert out.classification == "complication"
    assert out.referral == ("HTN-U1", "complication")
    assert out.urgent


def test_diabetes_state_machine() -> None:
    first = evaluate_visit(dm_visit(8.0), None, ADULT, DM)
    assert (first.classification, first.next_due, first.referral) == (
        "uncontrolled",
        D0 + timedelta(14),
        None,
    )
    second = evaluate_visit(dm_visit(8.5, visit_date=first.next_due), first, ADULT, DM)
    assert second.referral == ("two_uncontrolled",)
    third = evaluate_visit(dm_visit(6.5, visit_date=second.next_due), second, ADULT, DM)
    assert (third.classification, third.referral) == ("controlled", None)
    assert third.next_due == second.next_due + timedelta(days=90)


def test_intervals_come_from_the_rule_set() -> None:
    local = HT.derive(
        code="local-test-2025",
        title="test",
        effective_from=date(2025, 1, 1),
        overrides={
            "routine_interval_days": Param(60, "H", "test"),
            "short_interval_days": Param(7, "H", "test"),
        },
    )
    assert evaluate_visit(ht_visit(), None, ADULT, local).next_due == D0 + timedelta(days=60)
    assert evaluate_visit(ht_visit(150, 80), None, ADULT, local).next_due == D0 + timedelta(days=7)


# =============================================================================================
# Age-dependent targets per rule set
# =============================================================================================


@pytest.mark.parametrize(
    ("ruleset", "patient", "sbp", "dbp", "controlled"),
    [
        # nbphs-2017: < 140/90; >= 65: < 150/90
        (HT, ADULT, 139, 89, True),
        (HT, ADULT, 140, 80, False),
        (HT, ADULT, 130, 90, False),
        (HT, AGED_70, 149, 89, True),
        (HT, AGED_70, 150, 80, False),
        (HT, AGED_70, 140, 90, False),
        (HT, AGED_85, 149, 89, True),
        # chronic-2025: < 130/80 under 80; < 150/90 at >= 80
        (HT25, ADULT, 129, 79, True),
        (HT25, ADULT, 130, 70, False),
        (HT25, ADULT, 120, 80, False),
        (HT25, AGED_70, 135, 78, False),
        (HT25, AGED_85, 149, 89, True),
        (HT25, AGED_85, 150, 80, False),
    ],
)
def test_age_dependent_targets(
    ruleset: RuleSet, patient: PatientFacts, sbp: int, dbp: int, controlled: bool
) -> None:
    assert cr.is_controlled(ht_visit(sbp, dbp), patient, ruleset) is controlled


def test_elderly_target_from_the_65th_birthday() -> None:
    patient = PatientFacts(birth_date=date(1960, 3, 10), sex="M")
    assert cr.bp_target(patient, date(2025, 3, 9), HT) == (140.0, 90.0)
    assert cr.bp_target(patient, date(2025, 3, 10), HT) == (150.0, 90.0)
    assert cr.is_controlled(ht_visit(145, 85, visit_date=date(2025, 3, 9)), patient, HT) is False
    assert cr.is_controlled(ht_visit(145, 85, visit_date=date(2025, 3, 10)), patient, HT) is True


def test_diabetes_target_is_the_same_in_both_rule_sets() -> None:
    for rs in (DM, DM25):
        assert cr.is_controlled(dm_visit(6.99), AGED_85, rs) is True
        assert cr.is_controlled(dm_visit(7.0), AGED_85, rs) is False


# =============================================================================================
# Rule sets: registration, confidence flags
# =============================================================================================


def test_rule_sets_are_registered() -> None:
    assert rulesets.get("hypertension", "nbphs-2017") is HT
    assert rulesets.get("hypertension", "chronic-2025") is HT25
    assert rulesets.get("diabetes", "nbphs-2017") is DM
    assert rulesets.get("diabetes", "chronic-2025") is DM25
    assert [rs.code for rs in rulesets.for_programme("hypertension")][:2] == ["nbphs-2017", "chronic-2025"]


def test_shared_parameters() -> None:
    for rs in (HT, HT25, DM, DM25):
        assert rs.value("routine_interval_days") == 90
        assert rs.param("routine_interval_days").confidence == "M"
        assert rs.value("short_interval_days") == 14
        assert rs.param("short_interval_days").confidence == "H"
        assert rs.value("referral_followup_days") == 14
        assert rs.value("min_visits_per_year") == 4
        assert rs.param("min_visits_per_year").confidence == "H"
        assert rs.value("standardised_min_visits") == 4
        assert rs.value("standardised_max_gap_days") == 100
        assert rs.param("standardised_max_gap_days").confidence == "NOT FOUND"
        assert rs.value("annual_checks_per_year") == 1
        assert {"standardised_min_visits", "standardised_max_gap_days"} <= set(rs.unverified())


def test_unverified_flags_and_notes() -> None:
    assert HT.value("target_sbp") == 140 and HT.param("target_sbp").verified
    for key in ("elderly_age", "elderly_target_sbp", "elderly_target_dbp"):
        p = HT.param(key)
        assert not p.verified and p.confidence == "L" and "recollection" in p.note
    for key in ("target_sbp", "target_dbp", "elderly_age", "elderly_target_sbp", "elderly_target_dbp"):
        p = HT25.param(key)
        assert p.confidence == "L" and not p.verified and p.note
    assert "heavy_drinking_spirits_ml" in HT.unverified()
    assert DM.param("target_fpg").verified and DM.value("target_fpg") == 7.0
    assert not DM25.param("target_fpg").verified


def test_default_rule_set_by_date_never_picks_opt_in() -> None:
    assert rulesets.default_for("hypertension", date(2025, 6, 1)) is HT
    assert rulesets.default_for("diabetes", date(2030, 1, 1)) is DM
    assert rulesets.default_for("hypertension", date(2017, 3, 28)) is HT
    with pytest.raises(KeyError, match="no rule set"):
        rulesets.default_for("hypertension", date(2017, 3, 27))


def test_registry_api() -> None:
    later = HT.derive(
        code="test-2030",
        title="test",
        effective_from=date(2030, 1, 1),
        overrides={"target_sbp": Param(135, "H", "test")},
    )
    try:
        assert rulesets.register(later) is later
        assert rulesets.register(later) is later  # equal again: no-op
        assert rulesets.default_for("hypertension", date(2029, 12, 31)) is HT
        assert rulesets.default_for("hypertension", date(2030, 1, 1)) is later
        assert later in rulesets.all_rulesets()
        assert later.value("target_dbp") == 90  # inherited
        clash = replace(later, title="other")
        with pytest.raises(ValueError):
            rulesets.register(replace(clash, params={**later.params, "target_sbp": Param(120, "H", "x")}))
        rulesets.register(clash, replace=True)
    finally:
        rulesets.unregister("hypertension", "test-2030")
    with pytest.raises(KeyError):
        rulesets.unregister("hypertension", "test-2030")
    with pytest.raises(KeyError, match="registered: "):
        rulesets.get("hypertension", "nope")


def test_ruleset_and_param_validation() -> None:
    with pytest.raises(ValueError):
        Param(1, "maybe", "x")
    with pytest.raises(ValueError):
        Param(1, "L", "x", verified=False)  # unverified needs a note
    with pytest.raises(ValueError):
        Param(1, "H", " ")
    with pytest.raises(TypeError):
        RuleSet("c", "p", "t", D0, {"k": 1})  # type: ignore[dict-item]
    with pytest.raises(KeyError, match="no parameter"):
        HT.value("nope")
    with pytest.raises(KeyError):
        HT.derive(code="x", title="x", effective_from=D0, overrides={"nope": Param(1, "H", "x")})
    with pytest.raises(TypeError):
        HT.params["target_sbp"] = Param(1, "H", "x")  # type: ignore[index]
    assert hash(HT) == hash(("hypertension", "nbphs-2017"))
    assert HT.label == "hypertension/nbphs-2017"


def test_every_param_of_these_rule_sets_is_well_formed() -> None:
    for rs in (HT, HT25, DM, DM25):
        for key, p in rs.params.items():
            assert p.confidence in rulesets.CONFIDENCE_LEVELS, (rs.label, key)
            if p.confidence in ("L", "NOT FOUND"):
                assert p.note, (rs.label, key)


def test_routine_interval_keeps_four_visits_a_year() -> None:
    # With gaps of at most g days, a 365-day year holds >= 4 visits iff 4g - 1 <= 364.
    for rs in (HT, HT25, DM, DM25):
        assert 4 * rs.value("routine_interval_days") <= 365
        assert rs.value("routine_interval_days") >= rs.value("short_interval_days")


# =============================================================================================
# Programme numbers
# =============================================================================================


def _quarterly(year: int) -> list[date]:
    return [date(year, 2, 15), date(year, 5, 15), date(year, 8, 15), date(year, 11, 15)]


def test_is_standardised() -> None:
    assert cr.is_standardised(_quarterly(2024), 2024, HT)
    assert not cr.is_standardised(_quarterly(2024)[:3], 2024, HT)
    # Duplicated day counts once.
    assert not cr.is_standardised([*_quarterly(2024)[:3], date(2024, 2, 15)], 2024, HT)
    # Visits of other years are ignored.
    assert not cr.is_standardised(_quarterly(2023), 2024, HT)
    # Four visits crowded into the autumn leave a long gap.
    assert not cr.is_standardised(
        [date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)], 2024, HT
    )
    # A gap of 101 days between visits fails, 100 passes.
    base = [date(2024, 1, 10), date(2024, 4, 19), date(2024, 7, 28), date(2024, 10, 1), date(2024, 12, 20)]
    assert cr.is_standardised(base, 2024, HT)
    assert not cr.is_standardised([base[0], base[1] + timedelta(days=1), *base[2:]], 2024, HT)


def test_is_standardised_year_edges() -> None:
    late_start = [date(2024, 4, 11), date(2024, 6, 1), date(2024, 9, 1), date(2024, 12, 1)]
    assert not cr.is_standardised(late_start, 2024, HT)  # 1 Jan -> 11 Apr is 101 days
    no_edges = HT.derive(
        code="x",
        title="x",
        effective_from=D0,
        overrides={"standardised_year_edges": Param(False, "NOT FOUND", "test", verified=False, note="test")},
    )
    assert cr.is_standardised(late_start, 2024, no_edges)
    no_gap = HT.derive(
        code="y",
        title="y",
        effective_from=D0,
        overrides={
            "standardised_max_gap_days": Param(None, "NOT FOUND", "test", verified=False, note="test")
        },
    )
    assert cr.is_standardised([date(2024, 12, d) for d in (1, 2, 3, 4)], 2024, no_gap)


def test_is_controlled_latest() -> None:
    visits = [
        ht_visit(150, 95, visit_date=date(2024, 3, 1)),
        ht_visit(130, 80, visit_date=date(2024, 11, 20)),
        ht_visit(160, 95, visit_date=date(2024, 6, 1)),
    ]
    assert cr.is_controlled_latest(visits, 2024, ADULT, HT)
    assert not cr.is_controlled_latest(visits, 2024, ADULT, HT, as_of=date(2024, 10, 1))
    # Lost to follow-up: no visit in the year counts as not at target.
    assert not cr.is_controlled_latest(visits, 2025, ADULT, HT)
    assert not cr.is_controlled_latest([], 2024, ADULT, HT)
    # A latest visit without BP is not at target.
    no_bp = VisitFacts(visit_date=date(2024, 12, 1), adverse_reaction=True)
    assert not cr.is_controlled_latest([*visits, no_bp], 2024, ADULT, HT)
    # Elderly target applies at the visit date.
    assert cr.is_controlled_latest([ht_visit(145, 85, visit_date=date(2024, 5, 1))], 2024, AGED_70, HT)
    assert not cr.is_controlled_latest([ht_visit(145, 85, visit_date=date(2024, 5, 1))], 2024, AGED_70, HT25)
    # Diabetes: latest fasting glucose.
    dm_visits = [dm_visit(8.0, visit_date=date(2024, 2, 1)), dm_visit(6.5, visit_date=date(2024, 9, 1))]
    assert cr.is_controlled_latest(dm_visits, 2024, ADULT, DM)


# =============================================================================================
# Screening (RULES.md §2.1)
# =============================================================================================


def test_raised_bp() -> None:
    assert htn.raised_bp(140, 80, HT)
    assert htn.raised_bp(120, 90, HT)
    assert not htn.raised_bp(139, 89, HT)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"sbp": 130, "dbp": 80}, ["high_normal_bp"]),
        ({"sbp": 139, "dbp": 80}, ["high_normal_bp"]),
        ({"sbp": 120, "dbp": 85}, ["high_normal_bp"]),
        ({"sbp": 120, "dbp": 89}, ["high_normal_bp"]),
        ({"sbp": 129, "dbp": 84}, []),
        ({"sbp": 140, "dbp": 85}, []),  # raised: suspected hypertension, not "high risk"
        ({"bmi": 24.0}, ["overweight_or_obese"]),
        ({"bmi": 23.9}, []),
        ({"bmi": 30}, ["overweight_or_obese"]),
        ({"waist": 90, "sex": "M"}, ["central_obesity"]),
        ({"waist": 89.9, "sex": "M"}, []),
        ({"waist": 85, "sex": "F"}, ["central_obesity"]),
        ({"waist": 84.9, "sex": "F"}, []),
        ({"waist": 95}, []),  # sex unknown: not judged
        ({"family_history": True}, ["family_history"]),
        ({"heavy_drinking": True}, ["heavy_drinking"]),
        ({"daily_spirits_ml": 200}, ["heavy_drinking"]),
        ({"daily_spirits_ml": 150}, []),
        ({"age": 55}, ["age"]),
        ({"age": 54}, []),
    ],
)
def test_each_high_risk_criterion(kwargs: dict[str, Any], expected: list[str]) -> None:
    assert htn.hypertension_high_risk(ruleset=HT, **kwargs) == expected


def test_all_high_risk_criteria() -> None:
    got = htn.hypertension_high_risk(
        ruleset=HT,
        sbp=135,
        dbp=86,
        bmi=29,
        waist=92,
        sex="m",
        family_history=True,
        heavy_drinking=True,
        age=60,
    )
    assert got == list(htn.HIGH_RISK_CRITERIA)
    with pytest.raises(ValueError):
        htn.hypertension_high_risk(ruleset=HT, waist=90, sex="X")


def test_screening_parameters() -> None:
    assert HT.value("screening_min_age") == 35
    assert HT.value("confirm_measurements") == 3
    assert DM.value("screening_fpg_tests_per_year") == 1


# =============================================================================================
# Property: a compliant patient gets >= 4 visits in every calendar year of follow-up
# =============================================================================================

ht_facts = st.fixed_dictionaries(
    {
        "sbp": st.integers(90, 220),
        "dbp": st.integers(50, 130),
        "heart_rate": st.one_of(st.none(), st.integers(40, 140)),
        "symptoms": st.frozensets(st.sampled_from(sorted(cr.SYMPTOMS)), max_size=2),
        "adverse_reaction": st.booleans(),
        "adverse_uncontrollable": st.booleans(),
        "complication_new_or_worse": st.booleans(),
        "pregnant_or_breastfeeding": st.booleans(),
        "temperature": st.one_of(st.none(), st.floats(35, 41)),
        "other_unmanageable": st.booleans(),
        "fasting_glucose": st.floats(2.5, 25),
        "random_glucose": st.one_of(st.none(), st.floats(2.5, 30)),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(2017, 4, 1), max_value=date(2030, 12, 31)),
    birth_year=st.integers(1930, 1990),
    ruleset=st.sampled_from([HT, HT25, DM, DM25]),
    facts=st.lists(ht_facts, min_size=1, max_size=8),
)
def test_compliant_patient_has_four_visits_every_calendar_year(
    start: date, birth_year: int, ruleset: RuleSet, facts: list[dict[str, Any]]
) -> None:
    patient = PatientFacts(birth_date=date(birth_year, 6, 15), sex="F")
    end = date(start.year + 3, 12, 31)
    visit_dates: list[date] = []
    previous: VisitOutcome | None = None
    day = start
    i = 0
    while day <= end:
        visit = VisitFacts(visit_date=day, **facts[i % len(facts)])
        out = evaluate_visit(visit, previous, patient, ruleset)
        assert day < out.next_due <= day + timedelta(days=ruleset.value("routine_interval_days"))
        visit_dates.append(day)
        previous, day, i = out, out.next_due, i + 1
    per_year = Counter(d.year for d in visit_dates)
    for year in range(start.year + 1, end.year + 1):  # full calendar years of follow-up
        assert per_year[year] >= ruleset.value("min_visits_per_year"), (year, per_year)
        assert per_year[year] >= 4


@settings(max_examples=40, deadline=None)
@given(start=st.dates(min_value=date(2017, 4, 1), max_value=date(2030, 12, 31)))
def test_controlled_patient_is_standardised_every_full_year(start: date) -> None:
    visit_dates: list[date] = []
    previous: VisitOutcome | None = None
    day = start
    while day.year <= start.year + 2:
        out = evaluate_visit(ht_visit(visit_date=day), previous, ADULT, HT)
        visit_dates.append(day)
        previous, day = out, out.next_due
    for year in (start.year + 1, start.year + 2):
        assert cr.is_standardised(visit_dates, year, HT)


@given(
    sbp=st.integers(60, 280),
    dbp=st.integers(30, 160),
    adverse=st.booleans(),
    uncontrollable=st.booleans(),
    complication=st.booleans(),
    prev=st.sampled_from([None, CONTROLLED, UNCONTROLLED, ADVERSE, COMPLICATION]),
)
def test_outcome_invariants(
    sbp: int, dbp: int, adverse: bool, uncontrollable: bool, complication: bool, prev: VisitOutcome | None
) -> None:
    visit = ht_visit(
        sbp,
        dbp,
        adverse_reaction=adverse,
        adverse_uncontrollable=uncontrollable,
        complication_new_or_worse=complication,
    )
    out = evaluate_visit(visit, prev, ADULT, HT)
    assert out.classification in cr.CLASSIFICATIONS
    assert out.urgent == bool(cr.urgent_reasons(visit, HT))
    if out.referral is not None:
        assert out.referral and set(out.referral) <= set(cr.REFERRAL_REASONS)
    if out.urgent or complication or uncontrollable:
        assert out.referral is not None
    if out.classification == "controlled" and out.referral is None:
        assert out.next_due == D0 + timedelta(days=90)
    else:
        assert out.next_due == D0 + timedelta(days=14)
    if complication:
        assert out.classification == "complication"


# =============================================================================================
# Properties: classification is monotone in the measurement; the next due date is never in the past
# =============================================================================================

ALL_RULESETS = [HT, HT25, DM, DM25]
PATIENTS = [ADULT, AGED_70, AGED_85, PatientFacts(birth_date=date(1960, 3, 10), sex="M")]  # 65 on D0
PREVIOUS = [None, CONTROLLED, UNCONTROLLED, ADVERSE, COMPLICATION]


@given(
    bp=st.tuples(st.integers(60, 280), st.integers(30, 160), st.integers(0, 80), st.integers(0, 60)),
    ruleset=st.sampled_from([HT, HT25]),
    patient=st.sampled_from(PATIENTS),
)
def test_hypertension_classification_is_monotone_in_bp(
    bp: tuple[int, int, int, int], ruleset: RuleSet, patient: PatientFacts
) -> None:
    sbp, dbp, d_sbp, d_dbp = bp
    lower = cr.classify_visit(ht_visit(sbp, dbp), patient, ruleset)
    higher = cr.classify_visit(ht_visit(sbp + d_sbp, dbp + d_dbp), patient, ruleset)
    order = list(cr.CLASSIFICATIONS)
    assert order.index(lower) <= order.index(higher)
    # Urgent BP criteria (HTN-U1 / DM-U2) never switch off when BP rises.
    lo_urgent = "HTN-U1" in cr.hypertension_urgent_reasons(ht_visit(sbp, dbp), ruleset)
    hi_urgent = "HTN-U1" in cr.hypertension_urgent_reasons(ht_visit(sbp + d_sbp, dbp + d_dbp), ruleset)
    assert hi_urgent or not lo_urgent
    dm_lo = "DM-U2" in cr.diabetes_urgent_reasons(dm_visit(sbp=sbp, dbp=dbp), DM)
    dm_hi = "DM-U2" in cr.diabetes_urgent_reasons(dm_visit(sbp=sbp + d_sbp, dbp=dbp + d_dbp), DM)
    assert dm_hi or not dm_lo


@given(
    sbp=st.integers(60, 280),
    dbp=st.integers(30, 160),
    ruleset=st.sampled_from([HT, HT25]),
    day=st.dates(min_value=date(2017, 4, 1), max_value=date(2035, 12, 31)),
)
def test_controlled_matches_the_targets_and_the_elderly_target_is_never_stricter(
    sbp: int, dbp: int, ruleset: RuleSet, day: date
) -> None:
    young = PatientFacts(birth_date=date(day.year - 40, 1, 1), sex="M")
    old = PatientFacts(birth_date=date(day.year - 90, 1, 1), sex="F")
    v = ruleset.value
    got_young = cr.is_controlled(ht_visit(sbp, dbp, visit_date=day), young, ruleset)
    assert got_young is (sbp < v("target_sbp") and dbp < v("target_dbp"))
    got_old = cr.is_controlled(ht_visit(sbp, dbp, visit_date=day), old, ruleset)
    assert got_old is (sbp < v("elderly_target_sbp") and dbp < v("elderly_target_dbp"))
    assert got_old or not got_young


@given(fpg=st.floats(1.0, 50.0), delta=st.floats(0.0, 20.0), ruleset=st.sampled_from([DM, DM25]))
def test_diabetes_classification_is_monotone_in_fasting_glucose(fpg: float, delta: float, ruleset: RuleSet) -> None:
    lower = cr.classify_visit(dm_visit(fpg), ADULT, ruleset)
    higher = cr.classify_visit(dm_visit(fpg + delta), ADULT, ruleset)
    order = list(cr.CLASSIFICATIONS)
    assert order.index(lower) <= order.index(higher)
    assert (lower == "controlled") is (fpg < ruleset.value("target_fpg"))


@given(
    facts=ht_facts,
    ruleset=st.sampled_from(ALL_RULESETS),
    patient=st.sampled_from(PATIENTS),
    previous=st.sampled_from(PREVIOUS),
    day=st.dates(min_value=date(2017, 4, 1), max_value=date(2035, 12, 31)),
)
def test_next_due_is_never_in_the_past_and_is_one_of_the_rule_set_intervals(
    facts: dict[str, Any], ruleset: RuleSet, patient: PatientFacts, previous: VisitOutcome | None, day: date
) -> None:
    if day < patient.birth_date:
        return
    out = evaluate_visit(VisitFacts(visit_date=day, **facts), previous, patient, ruleset)
    v = ruleset.value
    assert out.next_due > day
    gap = (out.next_due - day).days
    if out.referral is not None:
        assert gap == v("referral_followup_days")
    elif out.classification != "controlled":
        assert gap == v("short_interval_days")
    else:
        assert gap == v("routine_interval_days")
    assert gap <= v("routine_interval_days")
    # A referral always comes with a reason, and urgency only from an urgent criterion.
    assert out.urgent == bool(cr.urgent_reasons(VisitFacts(visit_date=day, **facts), ruleset))
    assert out.referral is None or len(out.referral) == len(set(out.referral)) > 0


@given(
    first=ht_facts,
    second=ht_facts,
    ruleset=st.sampled_from(ALL_RULESETS),
)
def test_two_consecutive_not_ok_visits_always_refer(
    first: dict[str, Any], second: dict[str, Any], ruleset: RuleSet
) -> None:
    a = evaluate_visit(VisitFacts(visit_date=D0, **first), None, ADULT, ruleset)
    b = evaluate_visit(VisitFacts(visit_date=a.next_due, **second), a, ADULT, ruleset)
    not_ok = {"uncontrolled", "adverse_reaction"}
    expected = a.classification in not_ok and b.classification in not_ok
    assert (b.referral is not None and "two_uncontrolled" in b.referral) is expected

"""Follow-up rules shared by the hypertension and type 2 diabetes programmes (RULES.md §2).

Pure Python (no Django). Every threshold and interval is read from a rule set
(:mod:`jiayi.core.rulesets`); the programme modules :mod:`jiayi.programmes.hypertension.rules` and
:mod:`jiayi.programmes.diabetes.rules` register theirs (``nbphs-2017``, ``chronic-2025``) on import.
The rule set's ``programme`` selects the criteria its folder registered with
:func:`register_criteria` (the urgent-referral criteria and the control measurement), so one
:func:`evaluate_visit` serves both.

At each visit (RULES.md §2.3, §2.4):

1. Urgent-referral criteria (HTN-U1..U5, DM-U1..U7): **any one** criterion refers the patient
   (never all of them together — one vendor system joins them with AND, a bug).
2. Classification, most severe wins: complication > adverse reaction > uncontrolled > controlled.
3. Referral when: urgent; or uncontrolled / adverse reaction after an uncontrolled / adverse-reaction
   visit ('two_uncontrolled'); or an adverse reaction that cannot be controlled; or a new or worse
   complication. A referral is followed up within 14 days.
4. Otherwise the first uncontrolled / adverse-reaction visit is followed up within 14 days, and a
   controlled visit after the routine interval (90 days by default).

A patient who always comes on the due date therefore has at most ``routine_interval_days`` between
visits, which gives at least 4 visits in every calendar year (90 x 4 < 365).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Final

from jiayi.core.rulesets import Param, RuleSet
from jiayi.residents.rules import age_on

__all__ = [
    "CLASSIFICATIONS",
    "DM_U3_SYMPTOMS",
    "DM_U6_SYMPTOMS",
    "HTN_U2_SYMPTOMS",
    "HTN_U3_SYMPTOMS",
    "REFERRAL_REASONS",
    "SYMPTOMS",
    "URGENT_CRITERIA",
    "ChronicCriteria",
    "PatientFacts",
    "VisitFacts",
    "VisitOutcome",
    "bp_controlled",
    "bp_target",
    "classify_visit",
    "common_params",
    "diabetes_urgent_reasons",
    "evaluate_visit",
    "fpg_controlled",
    "hypertension_urgent_reasons",
    "is_controlled",
    "is_controlled_latest",
    "is_standardised",
    "most_severe",
    "register_criteria",
    "urgent_reasons",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s



# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

#: Follow-up classes (随访分类), least severe first.
CLASSIFICATIONS: Final[dict[str, str]] = {
    "controlled": _("控制满意"),
    "uncontrolled": _("控制不满意"),
    "adverse_reaction": _("不良反应"),
    "complication": _("并发症"),
}
_SEVERITY: Final[dict[str, int]] = {code: i for i, code in enumerate(CLASSIFICATIONS)}
_NOT_OK: Final[frozenset[str]] = frozenset({"uncontrolled", "adverse_reaction"})

#: Symptom codes that can trigger an urgent referral, with their Chinese labels.
SYMPTOMS: Final[dict[str, str]] = {
    "altered_consciousness": _("意识改变"),
    "altered_behaviour": _("行为改变"),
    "severe_headache": _("剧烈头痛"),
    "severe_dizziness": _("剧烈头晕"),
    "nausea_vomiting": _("恶心、呕吐"),
    "blurred_vision": _("视力模糊"),
    "eye_pain": _("眼痛"),
    "palpitations": _("心悸"),
    "chest_tightness": _("胸闷"),
    "orthopnoea": _("喘憋不能平卧"),
    "acetone_breath": _("呼气有烂苹果样丙酮味"),
    "sweating": _("出汗"),
    "poor_appetite": _("食欲减退"),
    "polydipsia": _("多饮"),
    "polyuria": _("多尿"),
    "abdominal_pain": _("腹痛"),
    "deep_breathing": _("深大呼吸"),
    "flushed_skin": _("皮肤潮红"),
    "sudden_vision_loss": _("视力突然骤降"),
}

HTN_U2_SYMPTOMS: Final[frozenset[str]] = frozenset(
    {"altered_consciousness", "severe_headache", "severe_dizziness", "nausea_vomiting", "blurred_vision",
     "eye_pain"}
)  # fmt: skip
HTN_U3_SYMPTOMS: Final[frozenset[str]] = frozenset({"palpitations", "chest_tightness", "orthopnoea"})
DM_U3_SYMPTOMS: Final[frozenset[str]] = frozenset(
    {"altered_consciousness", "altered_behaviour", "acetone_breath", "palpitations", "sweating",
     "poor_appetite", "nausea_vomiting", "polydipsia", "polyuria", "abdominal_pain", "deep_breathing",
     "flushed_skin"}
)  # fmt: skip
#: "Other sudden abnormalities" named in DM-U6.
DM_U6_SYMPTOMS: Final[frozenset[str]] = frozenset({"sudden_vision_loss"})

#: Urgent-referral criteria (RULES.md §2.3).
URGENT_CRITERIA: Final[dict[str, str]] = {
    "HTN-U1": _("收缩压≥180mmHg和/或舒张压≥110mmHg"),
    "HTN-U2": _("意识改变、剧烈头痛或头晕、恶心呕吐、视力模糊、眼痛"),
    "HTN-U3": _("心悸、胸闷、喘憋不能平卧"),
    "HTN-U4": _("处于妊娠期或哺乳期同时血压高于正常"),
    "HTN-U5": _("存在不能处理的其他疾病"),
    "DM-U1": _("血糖≥16.7mmol/L或≤3.9mmol/L"),
    "DM-U2": _("收缩压≥180mmHg和/或舒张压≥110mmHg"),
    "DM-U3": _(
        "意识或行为改变、呼气有烂苹果样丙酮味、心悸、出汗、食欲减退、恶心、呕吐、多饮、多尿、腹痛、"
        "有深大呼吸、皮肤潮红"
    ),
    "DM-U4": _("持续性心动过速（心率超过100次/分钟）"),
    "DM-U5": _("体温超过39摄氏度"),
    "DM-U6": _("有其他的突发异常情况，如视力突然骤降、妊娠期及哺乳期血糖高于正常等"),
    "DM-U7": _("存在不能处理的其他疾病"),
}

#: Every referral reason code: the urgent criteria plus the follow-up referral reasons.
REFERRAL_REASONS: Final[dict[str, str]] = {
    **URGENT_CRITERIA,
    "two_uncontrolled": _("连续两次出现控制不满意或药物不良反应"),
    "adverse_uncontrollable": _("药物不良反应难以控制"),
    "complication": _("出现新的并发症或原有并发症加重"),
}


# ---------------------------------------------------------------------------------------------
# Facts and outcome
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFacts:
    """What was found at one follow-up visit; None = not measured. Units: mmHg, /min, mmol/L, °C."""

    visit_date: date
    sbp: float | None = None
    dbp: float | None = None
    heart_rate: float | None = None
    fasting_glucose: float | None = None
    random_glucose: float | None = None
    symptoms: frozenset[str] = frozenset()
    adverse_reaction: bool = False
    adverse_uncontrollable: bool = False  # implies adverse_reaction
    complication_new_or_worse: bool = False
    pregnant_or_breastfeeding: bool = False
    temperature: float | None = None
    other_unmanageable: bool = False  # another disease the facility cannot handle


@dataclass(frozen=True)
class PatientFacts:
    birth_date: date
    sex: str  # 'M' | 'F'


@dataclass(frozen=True)
class VisitOutcome:
    classification: str  # key of CLASSIFICATIONS
    next_due: date
    referral: tuple[str, ...] | None  # reason codes (keys of REFERRAL_REASONS); None = no referral
    urgent: bool  # an urgent-referral criterion was met


# ---------------------------------------------------------------------------------------------
# Rule-set parameters shared by both programmes
# ---------------------------------------------------------------------------------------------


def common_params() -> dict[str, Param]:
    """Follow-up intervals and the standardised-management definition, common to both programmes."""
    return {
        "routine_interval_days": Param(
            90,
            "M",
            "RULES.md §2.4 — quarterly implied by '每年至少4次'; Kunming news '按季度'; vendor +3 months",
            note="90 days keeps >= 4 visits in every calendar year for a patient seen on the due date",
        ),
        "short_interval_days": Param(14, "H", "RULES.md §2.4 — 2周内随访"),
        "referral_followup_days": Param(14, "H", "RULES.md §2.3/§2.4 — 2周内主动随访转诊情况"),
        "min_visits_per_year": Param(4, "H", "RULES.md §2.2 — 每年至少4次面对面随访"),
        "standardised_min_visits": Param(
            4,
            "NOT FOUND",
            "RULES.md §2.6 — common practice: >= 4 follow-ups a year at the required intervals",
            verified=False,
            note="'按照规范要求' is NOT FOUND nationally; project convention, replace with the local rule",
        ),
        "standardised_max_gap_days": Param(
            100,
            "NOT FOUND",
            "RULES.md §2.6 — project convention",
            verified=False,
            note="longest allowed interval without a visit: a quarter (<= 92 days) plus about a week; "
            "None disables the check",
        ),
        "standardised_year_edges": Param(
            True,
            "NOT FOUND",
            "RULES.md §2.6 — project convention",
            verified=False,
            note="also count 1 January -> first visit and last visit -> 31 December as gaps",
        ),
        "annual_checks_per_year": Param(1, "M", "RULES.md §2.5 — 每年1次较全面的健康体检"),
    }


# ---------------------------------------------------------------------------------------------
# Urgent-referral criteria — any one criterion suffices
# ---------------------------------------------------------------------------------------------


def _ge(value: float | None, limit: float) -> bool:
    return value is not None and value >= limit


def hypertension_urgent_reasons(visit: VisitFacts, ruleset: RuleSet) -> tuple[str, ...]:
    """Codes HTN-U1..U5 met by the visit (RULES.md §2.3)."""
    v = ruleset.value
    out: list[str] = []
    if _ge(visit.sbp, v("urgent_sbp")) or _ge(visit.dbp, v("urgent_dbp")):
        out.append("HTN-U1")
    if visit.symptoms & HTN_U2_SYMPTOMS:
        out.append("HTN-U2")
    if visit.symptoms & HTN_U3_SYMPTOMS:
        out.append("HTN-U3")
    if visit.pregnant_or_breastfeeding and (
        _ge(visit.sbp, v("pregnancy_sbp")) or _ge(visit.dbp, v("pregnancy_dbp"))
    ):
        out.append("HTN-U4")
    if visit.other_unmanageable:
        out.append("HTN-U5")
    return tuple(out)


def diabetes_urgent_reasons(visit: VisitFacts, ruleset: RuleSet) -> tuple[str, ...]:
    """Codes DM-U1..U7 met by the visit (RULES.md §2.3). Glucose criteria apply to fasting and
    random glucose alike."""
    v = ruleset.value
    glucoses = [g for g in (visit.fasting_glucose, visit.random_glucose) if g is not None]
    out: list[str] = []
    if any(g >= v("urgent_glucose_high") or g <= v("urgent_glucose_low") for g in glucoses):
        out.append("DM-U1")
    if _ge(visit.sbp, v("urgent_sbp")) or _ge(visit.dbp, v("urgent_dbp")):
        out.append("DM-U2")
    if visit.symptoms & DM_U3_SYMPTOMS:
        out.append("DM-U3")
    if visit.heart_rate is not None and visit.heart_rate > v("urgent_heart_rate"):
        out.append("DM-U4")
    if visit.temperature is not None and visit.temperature > v("urgent_temperature"):
        out.append("DM-U5")
    if visit.symptoms & DM_U6_SYMPTOMS or (
        visit.pregnant_or_breastfeeding
        and (
            _ge(visit.fasting_glucose, v("pregnancy_fpg")) or _ge(visit.random_glucose, v("pregnancy_random"))
        )
    ):
        out.append("DM-U6")
    if visit.other_unmanageable:
        out.append("DM-U7")
    return tuple(out)


@dataclass(frozen=True)
class ChronicCriteria:
    """What differs between the chronic follow-up programmes: the urgent-referral criteria and whether
    the control measurement is at target (None: not measured)."""

    urgent: Callable[[VisitFacts, RuleSet], tuple[str, ...]]
    controlled: Callable[[VisitFacts, PatientFacts, RuleSet], bool | None]


_CRITERIA: dict[str, ChronicCriteria] = {}


def register_criteria(programme: str, criteria: ChronicCriteria) -> ChronicCriteria:
    """Register the criteria of the rule sets of ``programme`` (its rules module does, on import)."""
    _CRITERIA[programme] = criteria
    return criteria


def _criteria(ruleset: RuleSet) -> ChronicCriteria:
    try:
        return _CRITERIA[ruleset.programme]
    except KeyError:
        raise ValueError(f"rule set {ruleset.label} is not a chronic follow-up rule set") from None


def urgent_reasons(visit: VisitFacts, ruleset: RuleSet) -> tuple[str, ...]:
    """The urgent-referral codes of the rule set's programme met by the visit."""
    return _criteria(ruleset).urgent(visit, ruleset)


# ---------------------------------------------------------------------------------------------
# Control and classification
# ---------------------------------------------------------------------------------------------


def bp_target(patient: PatientFacts, on: date, ruleset: RuleSet) -> tuple[float, float]:
    """(SBP, DBP) that a hypertension patient must stay *below* on ``on`` (age-dependent)."""
    v = ruleset.value
    if age_on(patient.birth_date, on) >= v("elderly_age"):
        return float(v("elderly_target_sbp")), float(v("elderly_target_dbp"))
    return float(v("target_sbp")), float(v("target_dbp"))


def bp_controlled(visit: VisitFacts, patient: PatientFacts, ruleset: RuleSet) -> bool | None:
    """SBP < target **and** DBP < target (both needed); None when BP was not measured."""
    if visit.sbp is None or visit.dbp is None:
        return None
    sbp_t, dbp_t = bp_target(patient, visit.visit_date, ruleset)
    return visit.sbp < sbp_t and visit.dbp < dbp_t


def fpg_controlled(visit: VisitFacts, patient: PatientFacts, ruleset: RuleSet) -> bool | None:
    """Fasting glucose < target; None when it was not measured."""
    if visit.fasting_glucose is None:
        return None
    return bool(visit.fasting_glucose < ruleset.value("target_fpg"))


def is_controlled(visit: VisitFacts, patient: PatientFacts, ruleset: RuleSet) -> bool | None:
    """Whether the visit's control measurement is at target (the programme's criteria); None when it
    was not measured."""
    return _criteria(ruleset).controlled(visit, patient, ruleset)


def classify_visit(visit: VisitFacts, patient: PatientFacts, ruleset: RuleSet) -> str:
    """The visit's class; the most severe applicable class wins.

    Raises ValueError when neither a complication nor an adverse reaction is recorded and the control
    measurement (BP, or fasting glucose for diabetes) is missing: the visit cannot be classified.
    """
    if visit.complication_new_or_worse:
        return "complication"
    if visit.adverse_reaction or visit.adverse_uncontrollable:
        return "adverse_reaction"
    controlled = is_controlled(visit, patient, ruleset)
    if controlled is None:
        raise ValueError(_("无法判断控制情况：高血压随访需测量血压，糖尿病随访需测量空腹血糖。"))
    return "controlled" if controlled else "uncontrolled"


def evaluate_visit(
    visit: VisitFacts, previous: VisitOutcome | None, patient: PatientFacts, ruleset: RuleSet
) -> VisitOutcome:
    """Classify a follow-up visit, decide on referral and the next due date (RULES.md §2.4).

    ``previous`` is the outcome of the patient's previous follow-up in the same programme (None for
    the first one).
    """
    urgent = urgent_reasons(visit, ruleset)
    classification = classify_visit(visit, patient, ruleset)
    reasons = list(urgent)
    if classification in _NOT_OK and previous is not None and previous.classification in _NOT_OK:
        reasons.append("two_uncontrolled")
    if visit.adverse_uncontrollable:
        reasons.append("adverse_uncontrollable")
    if visit.complication_new_or_worse:
        reasons.append("complication")

    v = ruleset.value
    if reasons:
        days = v("referral_followup_days")
    elif classification != "controlled":
        days = v("short_interval_days")
    else:
        days = v("routine_interval_days")
    return VisitOutcome(
        classification=classification,
        next_due=visit.visit_date + timedelta(days=int(days)),
        referral=tuple(reasons) if reasons else None,
        urgent=bool(urgent),
    )


def most_severe(classifications: Iterable[str]) -> str:
    """The most severe of several classes (the form records only one)."""
    return max(classifications, key=lambda c: _SEVERITY[c])


# ---------------------------------------------------------------------------------------------
# Programme numbers
# ---------------------------------------------------------------------------------------------


def is_standardised(visit_dates: Sequence[date], year: int, ruleset: RuleSet) -> bool:
    """Whether the patient was managed 'per the specification' in ``year`` (rule-set definition).

    Default definition (project convention, the national one was NOT FOUND): at least
    ``standardised_min_visits`` visits on distinct days in the year, and no interval without a visit
    longer than ``standardised_max_gap_days`` — between consecutive visits and, when
    ``standardised_year_edges``, from 1 January to the first visit and from the last visit to
    31 December. Visits in other years are ignored. Evaluate after the year has ended; patients
    enrolled during the year are the caller's decision.
    """
    v = ruleset.value
    days = sorted({d for d in visit_dates if d.year == year})
    if len(days) < int(v("standardised_min_visits")):
        return False
    max_gap = v("standardised_max_gap_days")
    if max_gap is None:
        return True
    points = list(days)
    if v("standardised_year_edges"):
        points = [date(year, 1, 1), *points, date(year, 12, 31)]
    return all((b - a).days <= max_gap for a, b in pairwise(points))


def is_controlled_latest(
    visits: Sequence[VisitFacts],
    year: int,
    patient: PatientFacts,
    ruleset: RuleSet,
    *,
    as_of: date | None = None,
) -> bool:
    """'At target at the latest follow-up of the year' for the control-rate numerator.

    Looks at the latest visit in ``year`` (up to ``as_of`` if given). A patient with no visit in the
    period (lost to follow-up) counts as not at target, as does a latest visit without the control
    measurement.
    """
    end = date(year, 12, 31) if as_of is None else min(as_of, date(year, 12, 31))
    in_period = [vf for vf in visits if vf.visit_date.year == year and vf.visit_date <= end]
    if not in_period:
        return False
    latest = max(in_period, key=lambda vf: vf.visit_date)
    return bool(is_controlled(latest, patient, ruleset))

"""The rules adapter shared by the chronic follow-up programmes (hypertension, diabetes).

Turns a validated visit form into :class:`chronic_rules.VisitFacts` and evaluates it under the
enrolment's rule set with :func:`chronic_rules.evaluate_visit`. Pure Python (no Django).

Form field names the adapter reads (both schemas use them): ``sbp``, ``dbp``, ``heart_rate``,
``fasting_glucose``, ``random_glucose``, ``temperature``, ``danger_signs`` (the urgent-referral
symptom codes of :data:`chronic_rules.SYMPTOMS` — kept apart from the national form's symptom list,
whose milder items such as 头痛头晕 must not trigger an urgent referral), ``adverse_reaction``,
``adverse_uncontrollable``, ``complication_new_or_worse``, ``pregnant_or_breastfeeding``,
``other_unmanageable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from jiayi.core import rulesets
from jiayi.programmes import chronic_rules
from jiayi.programmes.chronic_rules import PatientFacts, VisitFacts, VisitOutcome
from jiayi.programmes.spec import Evaluation, Outcome


def _(s: str) -> str:
    return s


#: Every class but "controlled" is followed up within 2 weeks (RULES.md §2.4).
_SHORT_INTERVAL = _("控制不满意或不良反应，2周内随访")

#: The four classes of a chronic follow-up visit (此次随访分类), the programmes' declared outcomes.
CHRONIC_OUTCOMES: tuple[Outcome, ...] = tuple(
    Outcome(c, lbl, attention="" if c == "controlled" else _SHORT_INTERVAL)
    for c, lbl in chronic_rules.CLASSIFICATIONS.items()
)


def _f(form: Mapping[str, Any], key: str) -> float | None:
    v = form.get(key)
    return None if v is None or v == "" else float(v)


def visit_facts(form: Mapping[str, Any], visit_date: date) -> VisitFacts:
    adverse_uncontrollable = bool(form.get("adverse_uncontrollable"))
    return VisitFacts(
        visit_date=visit_date,
        sbp=_f(form, "sbp"),
        dbp=_f(form, "dbp"),
        heart_rate=_f(form, "heart_rate"),
        fasting_glucose=_f(form, "fasting_glucose"),
        random_glucose=_f(form, "random_glucose"),
        symptoms=frozenset(form.get("danger_signs") or ()),
        adverse_reaction=bool(form.get("adverse_reaction")) or adverse_uncontrollable,
        adverse_uncontrollable=adverse_uncontrollable,
        complication_new_or_worse=bool(form.get("complication_new_or_worse")),
        pregnant_or_breastfeeding=bool(form.get("pregnant_or_breastfeeding")),
        temperature=_f(form, "temperature"),
        other_unmanageable=bool(form.get("other_unmanageable")),
    )


@dataclass(frozen=True)
class ChronicRulesAdapter:
    """Hypertension / diabetes follow-up rules (RULES.md §2.3-2.4) behind the engine's interface."""

    programme: str  # the rule-set programme (its folder registered its chronic criteria)
    #: the form field a visit that cannot be classified is reported on (its control measurement)
    error_field: str = "sbp"

    def ruleset(self, code: str) -> rulesets.RuleSet:
        return rulesets.get(self.programme, code)

    def evaluate(
        self,
        *,
        form: Mapping[str, Any],
        visit_date: date,
        previous_classification: str | None,
        birth_date: date,
        sex: str,
        ruleset_code: str,
    ) -> Evaluation:
        """Raises ValueError (Chinese message) when the visit cannot be classified."""
        rs = self.ruleset(ruleset_code)
        facts = visit_facts(form, visit_date)
        patient = PatientFacts(birth_date=birth_date, sex=sex)
        previous = None
        if previous_classification:
            # Only the previous class matters to the rules (two consecutive uncontrolled visits).
            previous = VisitOutcome(
                classification=previous_classification, next_due=visit_date, referral=None, urgent=False
            )
        outcome = chronic_rules.evaluate_visit(facts, previous, patient, rs)
        return Evaluation(
            classification=outcome.classification,
            at_target=chronic_rules.is_controlled(facts, patient, rs),
            next_due=outcome.next_due,
            referral=outcome.referral,
            urgent=outcome.urgent,
        )

    def reason_labels(self) -> Mapping[str, str]:
        return chronic_rules.REFERRAL_REASONS

"""Registers the episode demo programme (阶段性演示项目): women, a 6-week episode with three contacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes import engine
from jiayi.programmes.schema import CHOICE, TEXT, FieldSpec, FormSchema
from jiayi.programmes.spec import (
    Anchor,
    Eligibility,
    EpisodePlan,
    Evaluation,
    Kind,
    Outcome,
    RuleVector,
    ScheduleItem,
    VisitTypeSpec,
    WorklistEntry,
)

CODE = "episode_demo"
_SRC = "tests/plugin_programmes (test-only programme)"


def _(s: str) -> str:
    return s


PLAN = EpisodePlan(
    contacts=(
        ScheduleItem("c1", _("首次接触"), Anchor.START, days=0, window_after=3),
        ScheduleItem("c2", _("第2周接触"), Anchor.START, days=14, window_before=3, window_after=3, catch_up=7),
        ScheduleItem("c3", _("第4周接触"), Anchor.START, days=28, window_before=3, window_after=3, catch_up=7),
    ),
    expected_days=42,
)

RULESET = rulesets.register(
    RuleSet(
        code="demo-2025",
        programme=CODE,
        title="阶段性演示规则",
        effective_from=date(2000, 1, 1),
        params={"plan": Param(value=PLAN, confidence="H", source=_SRC)},
    )
)

FORM = FormSchema(
    programme=CODE,
    title=_("阶段性接触演示记录表"),
    sections=(("main", _("接触内容")),),
    fields=(
        FieldSpec(
            "status", _("情况"), CHOICE, "main", required=True, choices=(("ok", _("正常")), ("concern", _("需关注")))
        ),
        FieldSpec("note", _("备注"), TEXT, "main"),
    ),
)

#: A second visit type with its own form: the assessment at the end of the episode.
CLOSING_FORM = FormSchema(
    programme=CODE,
    title=_("结案评估记录表"),
    sections=(("main", _("评估内容")),),
    fields=(
        FieldSpec(
            "status", _("情况"), CHOICE, "main", required=True, choices=(("ok", _("正常")), ("concern", _("需关注")))
        ),
        FieldSpec("summary", _("总结"), TEXT, "main", required=True),
    ),
)


@dataclass(frozen=True)
class StatusRules:
    """The contact's outcome is the status recorded; the plan decides the next contact."""

    error_field: str = "status"

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
        return Evaluation(classification=form["status"], at_target=None, next_due=None, referral=None, urgent=False)

    def reason_labels(self) -> Mapping[str, str]:
        return {}


PROGRAMME = engine.register(
    engine.Programme(
        code=CODE,
        name=_("阶段性演示项目"),
        short_name=_("阶段演示"),
        kind=Kind.EPISODE,
        visit_types=(
            VisitTypeSpec("contact", _("接触"), FORM, example={"status": "ok"}),
            VisitTypeSpec("closing", _("结案评估"), CLOSING_FORM, example={"status": "ok", "summary": "顺利结束"}),
        ),
        outcomes=(Outcome("ok", _("正常")), Outcome("concern", _("需关注"))),
        eligibility=Eligibility(sexes=frozenset({"F"})),
        rules=StatusRules(),
        schedule_param="plan",
        worklist=(WorklistEntry("scheduled", _("计划接触")),),
        rule_vectors=(
            RuleVector(
                "episode opened: the first contact is next",
                "demo-2025",
                birth_date=date(1995, 5, 1),
                sex="F",
                start=date(2025, 3, 1),
                today=date(2025, 3, 1),
                next_key="c1",
            ),
            RuleVector(
                "first contact done: week 2 next",
                "demo-2025",
                birth_date=date(1995, 5, 1),
                sex="F",
                start=date(2025, 3, 1),
                visits=(date(2025, 3, 2),),
                today=date(2025, 3, 2),
                next_key="c2",
            ),
            RuleVector(
                "all contacts done",
                "demo-2025",
                birth_date=date(1995, 5, 1),
                sex="F",
                start=date(2025, 3, 1),
                visits=(date(2025, 3, 1), date(2025, 3, 15), date(2025, 3, 29)),
                today=date(2025, 3, 29),
                next_key="",
            ),
        ),
        order=920,
    )
)

"""Registers the schedule demo programme (按时间表演示项目): children to 3 years, checks at set ages."""

from __future__ import annotations

from datetime import date

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes import engine
from jiayi.programmes.schema import DECIMAL, TEXT, FieldSpec, FormSchema
from jiayi.programmes.spec import Anchor, Eligibility, Kind, RuleVector, ScheduleItem, VisitTypeSpec, WorklistEntry

CODE = "schedule_demo"
_SRC = "tests/plugin_programmes (test-only programme)"


def _(s: str) -> str:
    return s


SCHEDULE = (
    ScheduleItem("m1", _("满月检查"), Anchor.BIRTH, months=1, window_before=3, window_after=7, catch_up=14),
    ScheduleItem("m6", _("6月龄检查"), Anchor.BIRTH, months=6, window_before=14, window_after=14, catch_up=30),
    ScheduleItem("m12", _("12月龄检查"), Anchor.BIRTH, months=12, window_before=14, window_after=14, catch_up=60),
)

RULESET = rulesets.register(
    RuleSet(
        code="demo-2025",
        programme=CODE,
        title="按时间表演示规则",
        effective_from=date(2000, 1, 1),
        params={"schedule": Param(value=SCHEDULE, confidence="H", source=_SRC)},
    )
)

FORM = FormSchema(
    programme=CODE,
    title=_("儿童检查演示记录表"),
    sections=(("main", _("检查内容")),),
    fields=(
        FieldSpec("weight", _("体重"), DECIMAL, "main", required=True, min=1, max=30, unit="kg"),
        FieldSpec("note", _("备注"), TEXT, "main"),
    ),
)

PROGRAMME = engine.register(
    engine.Programme(
        code=CODE,
        name=_("按时间表演示项目"),
        short_name=_("时间表演示"),
        kind=Kind.SCHEDULE,
        visit_types=(VisitTypeSpec("check", _("检查"), FORM, example={"weight": 4.5}),),
        eligibility=Eligibility(max_age_months=36),
        schedule_param="schedule",
        measurement_fields={"weight": "weight"},
        worklist=(WorklistEntry("scheduled", _("计划检查")),),
        panels=("schedule_demo/_panel.html",),
        rule_vectors=(
            RuleVector(
                "newborn: the one-month check is next",
                "demo-2025",
                birth_date=date(2025, 1, 10),
                start=date(2025, 1, 20),
                today=date(2025, 1, 20),
                next_key="m1",
            ),
            RuleVector(
                "one-month check done in catch-up: six months next",
                "demo-2025",
                birth_date=date(2025, 1, 10),
                start=date(2025, 1, 20),
                visits=(date(2025, 2, 25),),
                today=date(2025, 2, 25),
                next_key="m6",
            ),
            RuleVector(
                "one-month check missed",
                "demo-2025",
                birth_date=date(2025, 1, 10),
                start=date(2025, 1, 20),
                today=date(2025, 3, 10),
                next_key="m6",
            ),
            RuleVector(
                "all done",
                "demo-2025",
                birth_date=date(2025, 1, 10),
                start=date(2025, 1, 20),
                visits=(date(2025, 2, 10), date(2025, 7, 10), date(2026, 1, 12)),
                today=date(2026, 1, 12),
                next_key="",
            ),
        ),
        order=910,
    )
)

"""Registers the follow-up demo programme (随访演示项目): adults, a score classifies each visit."""

from __future__ import annotations

from datetime import date

from jiayi.programmes import engine
from jiayi.programmes.schema import INT, TEXT, FieldSpec, FormSchema
from jiayi.programmes.spec import Eligibility, Kind, Outcome, RuleVector, VisitTypeSpec, WorklistEntry
from tests.plugin_programmes.followup_demo.rules import CODE, ScoreRules


def _(s: str) -> str:
    return s


FORM = FormSchema(
    programme=CODE,
    title=_("随访演示记录表"),
    sections=(("main", _("随访内容")),),
    fields=(
        FieldSpec("score", _("症状评分"), INT, "main", required=True, min=0, max=10, rules=True),
        FieldSpec("note", _("备注"), TEXT, "main"),
    ),
)

PROGRAMME = engine.register(
    engine.Programme(
        code=CODE,
        name=_("随访演示项目"),
        short_name=_("随访演示"),
        kind=Kind.FOLLOW_UP,
        visit_types=(VisitTypeSpec("follow_up", _("随访"), FORM, example={"score": 3}),),
        outcomes=(Outcome("well", _("状况良好")), Outcome("unwell", _("状况欠佳"), attention=_("状况欠佳，2周内随访"))),
        eligibility=Eligibility(min_age_months=18 * 12),
        rules=ScoreRules(),
        worklist=(WorklistEntry("follow_up", _("随访")),),
        rule_vectors=(
            RuleVector(
                "low score: routine interval",
                "demo-2025",
                birth_date=date(1970, 1, 1),
                form={"score": 2},
                visit_date=date(2025, 3, 1),
                classification="well",
                next_due=date(2025, 5, 30),
                referral=False,
            ),
            RuleVector(
                "score 5: short interval",
                "demo-2025",
                birth_date=date(1970, 1, 1),
                form={"score": 5},
                visit_date=date(2025, 3, 1),
                classification="unwell",
                next_due=date(2025, 3, 15),
                referral=False,
            ),
            RuleVector(
                "score 9: referral",
                "demo-2025",
                birth_date=date(1970, 1, 1),
                form={"score": 9},
                visit_date=date(2025, 3, 1),
                classification="unwell",
                next_due=date(2025, 3, 15),
                referral=True,
            ),
        ),
        order=900,
    )
)

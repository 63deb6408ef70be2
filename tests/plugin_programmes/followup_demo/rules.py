"""Pure rules of the follow-up demo: a 0-10 symptom score classifies the visit and sets the next one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes.spec import Evaluation

CODE = "followup_demo"
_SRC = "tests/plugin_programmes (test-only programme)"


def _(s: str) -> str:
    return s


RULESET = rulesets.register(
    RuleSet(
        code="demo-2025",
        programme=CODE,
        title="随访演示规则",
        effective_from=date(2000, 1, 1),
        params={
            "unwell_from": Param(value=5, confidence="H", source=_SRC),
            "refer_from": Param(value=9, confidence="H", source=_SRC),
            "routine_days": Param(value=90, confidence="H", source=_SRC),
            "short_days": Param(value=14, confidence="H", source=_SRC),
        },
    )
)

REASONS = {"high_score": _("评分过高，需转诊")}


@dataclass(frozen=True)
class ScoreRules:
    error_field: str = "score"

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
        rs = rulesets.get(CODE, ruleset_code)
        score = form.get("score")
        if score is None:
            raise ValueError(_("缺少评分，无法判断本次随访结果。"))
        unwell = score >= rs.value("unwell_from")
        refer = score >= rs.value("refer_from")
        days = rs.value("short_days") if unwell else rs.value("routine_days")
        return Evaluation(
            classification="unwell" if unwell else "well",
            at_target=not unwell,
            next_due=visit_date + timedelta(days=days),
            referral=("high_score",) if refer else None,
            urgent=False,
        )

    def reason_labels(self) -> Mapping[str, str]:
        return REASONS

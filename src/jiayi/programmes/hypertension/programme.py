"""Registers the hypertension programme with the engine (高血压患者健康管理)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from jiayi.programmes import engine
from jiayi.programmes.chronic import CHRONIC_OUTCOMES, ChronicRulesAdapter
from jiayi.programmes.hypertension import rules  # noqa: F401  (registers the rule sets)
from jiayi.programmes.hypertension.schema import SCHEMA
from jiayi.programmes.hypertension.vectors import VECTORS
from jiayi.programmes.spec import Kind, Link, ProblemSpec, VisitTypeSpec

EXAMPLE = {"sbp": 132, "dbp": 82, "adherence": "regular", "heart_rate": 72}

PROGRAMME = engine.register(
    engine.Programme(
        code="hypertension",
        name=gettext_noop("高血压患者健康管理"),
        short_name=gettext_noop("高血压"),
        kind=Kind.FOLLOW_UP,
        visit_types=(
            VisitTypeSpec("follow_up", gettext_noop("随访"), SCHEMA, service_items=("ht_follow_up",), example=EXAMPLE),
            VisitTypeSpec(
                "annual_check",
                gettext_noop("年度健康检查"),
                SCHEMA,
                service_items=("ht_follow_up", "annual_check"),
                example=EXAMPLE,
            ),
        ),
        outcomes=CHRONIC_OUTCOMES,
        rules=ChronicRulesAdapter("hypertension", error_field="sbp"),
        diagnosis_groups=("hypertension",),
        problem=ProblemSpec(icd10="I10", name=gettext_noop("原发性高血压")),
        key_population="hypertension",
        measurement_fields={
            "sbp": "sbp",
            "dbp": "dbp",
            "heart_rate": "heart_rate",
            "height": "height",
            "weight": "weight",
        },
        hint_fields=("sbp", "dbp", "heart_rate"),
        rule_vectors=VECTORS,
        urls="jiayi.programmes.hypertension.urls",
        api="jiayi.programmes.hypertension.api.router",
        screening_page="programmes:hypertension:screening_measure",
        links=(Link("programmes:hypertension:screening", gettext_noop("高血压筛查")),),
        order=10,
    )
)

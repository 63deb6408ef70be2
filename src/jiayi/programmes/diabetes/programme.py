"""Registers the type 2 diabetes programme with the engine (2型糖尿病患者健康管理)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from jiayi.programmes import engine
from jiayi.programmes.chronic import CHRONIC_OUTCOMES, ChronicRulesAdapter
from jiayi.programmes.diabetes import rules  # noqa: F401  (registers the rule sets)
from jiayi.programmes.diabetes.schema import SCHEMA
from jiayi.programmes.diabetes.vectors import VECTORS
from jiayi.programmes.spec import Kind, Link, ProblemSpec, VisitTypeSpec

EXAMPLE = {"fasting_glucose": 6.1, "sbp": 128, "dbp": 78, "adherence": "regular"}

PROGRAMME = engine.register(
    engine.Programme(
        code="diabetes",
        name=gettext_noop("2型糖尿病患者健康管理"),
        short_name=gettext_noop("糖尿病"),
        kind=Kind.FOLLOW_UP,
        visit_types=(
            VisitTypeSpec("follow_up", gettext_noop("随访"), SCHEMA, service_items=("dm_follow_up",), example=EXAMPLE),
            VisitTypeSpec(
                "annual_check",
                gettext_noop("年度健康检查"),
                SCHEMA,
                service_items=("dm_follow_up", "annual_check"),
                example=EXAMPLE,
            ),
        ),
        outcomes=CHRONIC_OUTCOMES,
        rules=ChronicRulesAdapter("diabetes", error_field="fasting_glucose"),
        diagnosis_groups=("diabetes",),
        problem=ProblemSpec(icd10="E11", name=gettext_noop("2型糖尿病")),
        key_population="diabetes",
        measurement_fields={
            "sbp": "sbp",
            "dbp": "dbp",
            "heart_rate": "heart_rate",
            "height": "height",
            "weight": "weight",
            "fasting_glucose": "fasting_glucose",
            "random_glucose": "random_glucose",
            "hba1c": "hba1c",
        },
        hint_fields=("fasting_glucose", "sbp", "dbp"),
        rule_vectors=VECTORS,
        urls="jiayi.programmes.diabetes.urls",
        api="jiayi.programmes.diabetes.api.router",
        screening_page="programmes:diabetes:screening_measure",
        links=(Link("programmes:diabetes:screening", gettext_noop("糖尿病筛查")),),
        order=20,
    )
)

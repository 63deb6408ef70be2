"""Registers the type 2 diabetes programme with the engine (2型糖尿病患者健康管理)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from jiayi.programmes import engine
from jiayi.programmes.chronic import ChronicRulesAdapter
from jiayi.programmes.diabetes import rules  # noqa: F401  (registers the rule sets)
from jiayi.programmes.diabetes.schema import SCHEMA

PROGRAMME = engine.register(
    engine.Programme(
        code="diabetes",
        name=gettext_noop("2型糖尿病患者健康管理"),
        short_name=gettext_noop("糖尿病"),
        icd10="E11",
        problem_name=gettext_noop("2型糖尿病"),
        schema=SCHEMA,
        rules=ChronicRulesAdapter("diabetes"),
        service_codes={"follow_up": "dm_follow_up", "annual_check": "annual_check"},
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
        control_measure="fasting_glucose",
        hint_fields=("fasting_glucose", "sbp", "dbp"),
        order=20,
    )
)

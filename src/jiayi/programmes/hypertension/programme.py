"""Registers the hypertension programme with the engine (高血压患者健康管理)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from jiayi.programmes import engine
from jiayi.programmes.chronic import ChronicRulesAdapter
from jiayi.programmes.hypertension import rules  # noqa: F401  (registers the rule sets)
from jiayi.programmes.hypertension.schema import SCHEMA

PROGRAMME = engine.register(
    engine.Programme(
        code="hypertension",
        name=gettext_noop("高血压患者健康管理"),
        short_name=gettext_noop("高血压"),
        icd10="I10",
        problem_name=gettext_noop("原发性高血压"),
        schema=SCHEMA,
        rules=ChronicRulesAdapter("hypertension"),
        service_codes={"follow_up": "ht_follow_up", "annual_check": "annual_check"},
        measurement_fields={
            "sbp": "sbp",
            "dbp": "dbp",
            "heart_rate": "heart_rate",
            "height": "height",
            "weight": "weight",
        },
        control_measure="bp",
        hint_fields=("sbp", "dbp", "heart_rate"),
        order=10,
    )
)

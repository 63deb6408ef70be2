"""The key population and the type 2 diabetes diagnosis group (residents.rules and residents.diagnoses registries)."""

from __future__ import annotations

from jiayi.residents.diagnoses import register_group
from jiayi.residents.rules import register_key_population


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


# Type 2 diabetes (E11); E14 (unspecified) is commonly coded for type 2 in primary care.
GROUP = register_group("diabetes", ("E11", "E14"), ("E11", "2型糖尿病"))

# RULES.md §6: the key population of the programme's patients (place 8 of the ten).
register_key_population(GROUP.code, _("糖尿病患者"), "Diabetes patients", rank=8, diagnosis=True)

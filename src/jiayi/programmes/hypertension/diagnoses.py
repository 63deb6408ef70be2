"""The key population and the hypertension diagnosis group (residents.rules and residents.diagnoses registries)."""

from __future__ import annotations

from jiayi.residents.diagnoses import register_group
from jiayi.residents.rules import register_key_population


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


# Essential and secondary hypertension (I10–I15); the programme enrols essential (I10) only.
GROUP = register_group("hypertension", ("I10", "I11", "I12", "I13", "I15"), ("I10", "原发性高血压"))

# RULES.md §6: the key population of the programme's patients (place 7 of the ten).
register_key_population(GROUP.code, _("高血压患者"), "Hypertension patients", rank=7, diagnosis=True)

"""The hypertension diagnosis group (residents.diagnoses registry)."""

from __future__ import annotations

from jiayi.residents.diagnoses import register_group

# Essential and secondary hypertension (I10–I15); the programme enrols essential (I10) only.
GROUP = register_group("hypertension", ("I10", "I11", "I12", "I13", "I15"), ("I10", "原发性高血压"))

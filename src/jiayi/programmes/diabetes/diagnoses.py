"""The type 2 diabetes diagnosis group (residents.diagnoses registry)."""

from __future__ import annotations

from jiayi.residents.diagnoses import register_group

# Type 2 diabetes (E11); E14 (unspecified) is commonly coded for type 2 in primary care.
GROUP = register_group("diabetes", ("E11", "E14"), ("E11", "2型糖尿病"))

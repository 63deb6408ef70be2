"""ICD-10 code ranges that make a resident a member of a disease key population (RULES.md §6).

Pure data: the programme registers (hypertension, diabetes, TB, severe mental disorder) add the
matching Problem when a patient is confirmed, so this mapping is the one place that reads codes.
"""

from __future__ import annotations

# Prefix match on the ICD-10 code.
DIAGNOSIS_PREFIXES: dict[str, tuple[str, ...]] = {
    # Essential and secondary hypertension (I10–I15); the programme enrols essential (I10) only.
    "hypertension": ("I10", "I11", "I12", "I13", "I15"),
    # Type 2 diabetes (E11); E14 (unspecified) is commonly coded for type 2 in primary care.
    "diabetes": ("E11", "E14"),
    # Tuberculosis, respiratory (A15, A16) and other sites (A17–A19).
    "tuberculosis": ("A15", "A16", "A17", "A18", "A19"),
    # The six national severe mental disorders: schizophrenia F20, persistent delusional F22,
    # schizoaffective F25, bipolar F31, mental disorders due to epilepsy F06, intellectual
    # disability with mental disorder F70–F79.
    "severe_mental": ("F20", "F22", "F25", "F31", "F06", "F70", "F71", "F72", "F73", "F78", "F79"),
}

CANONICAL_CODES: dict[str, tuple[str, str]] = {
    "hypertension": ("I10", "原发性高血压"),
    "diabetes": ("E11", "2型糖尿病"),
    "tuberculosis": ("A15", "肺结核"),
    "severe_mental": ("F20", "精神分裂症"),
}


def diagnosis_groups(icd10_codes: list[str] | set[str] | tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for code in icd10_codes:
        c = (code or "").upper().replace(".", "")
        for group, prefixes in DIAGNOSIS_PREFIXES.items():
            if c.startswith(prefixes):
                out.add(group)
    return out

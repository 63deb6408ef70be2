"""Diagnosis groups: ICD-10 code ranges that make a resident a member of a disease key population
(RULES.md §6), a registry filled by the apps that own the diseases.

Pure data: a programme's ``diagnoses.py`` registers its group (code prefixes and the canonical code
added as a Problem when a patient is confirmed) with :func:`register_group`; the groups of programmes
that are not built yet (tuberculosis, severe mental disorders) are registered here. This registry is
the one place that reads codes. ``residents``' app config fills it (:func:`jiayi.core.discovery.autodiscover`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CANONICAL_CODES", "DIAGNOSIS_PREFIXES", "DiagnosisGroup", "diagnosis_groups", "get", "register_group"]


@dataclass(frozen=True)
class DiagnosisGroup:
    code: str  # the key-population / diagnosis-group code
    prefixes: tuple[str, ...]  # prefix match on the ICD-10 code (upper case, no dot)
    canonical: tuple[str, str]  # (ICD-10 code, Chinese name) recorded when the diagnosis is confirmed


#: group -> ICD-10 prefixes; group -> (canonical code, name). Filled by :func:`register_group`.
DIAGNOSIS_PREFIXES: dict[str, tuple[str, ...]] = {}
CANONICAL_CODES: dict[str, tuple[str, str]] = {}
_GROUPS: dict[str, DiagnosisGroup] = {}


def register_group(code: str, prefixes: tuple[str, ...], canonical: tuple[str, str]) -> DiagnosisGroup:
    """Register (or replace) diagnosis group ``code``."""
    if not prefixes:
        raise ValueError(f"diagnosis group {code!r} needs at least one ICD-10 prefix")
    group = DiagnosisGroup(code, tuple(p.upper().replace(".", "") for p in prefixes), canonical)
    _GROUPS[code] = group
    DIAGNOSIS_PREFIXES[code] = group.prefixes
    CANONICAL_CODES[code] = canonical
    return group


def get(code: str) -> DiagnosisGroup:
    """Diagnosis group ``code``; KeyError if no app registered it."""
    try:
        return _GROUPS[code]
    except KeyError:
        raise KeyError(f"no diagnosis group {code!r} is registered (known: {', '.join(sorted(_GROUPS))})") from None


def diagnosis_groups(icd10_codes: list[str] | set[str] | tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for code in icd10_codes:
        c = (code or "").upper().replace(".", "")
        for group, prefixes in DIAGNOSIS_PREFIXES.items():
            if c.startswith(prefixes):
                out.add(group)
    return out


# Groups of programmes that do not exist yet; their programme folders take them over when they land.
# Tuberculosis, respiratory (A15, A16) and other sites (A17–A19).
register_group("tuberculosis", ("A15", "A16", "A17", "A18", "A19"), ("A15", "肺结核"))
# The six national severe mental disorders: schizophrenia F20, persistent delusional F22,
# schizoaffective F25, bipolar F31, mental disorders due to epilepsy F06, intellectual
# disability with mental disorder F70–F79.
register_group("severe_mental", ("F20", "F22", "F25", "F31", "F06", "F70", "F71", "F72", "F73", "F78", "F79"),
               ("F20", "精神分裂症"))

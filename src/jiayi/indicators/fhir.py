"""Indicators as FHIR R4B resources: each catalogue entry a ``Measure``, each stored value a
``MeasureReport`` (summary). Built with fhir.resources' R4B models (never the package's default R5).

Subjects: a district, centre or station is an ``Organization``, a team a ``CareTeam``, a family doctor a
``Practitioner`` and a street a ``Location`` (all by database id).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport

from jiayi.indicators import catalogue as C

SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
IMPROVEMENT = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
UCUM = "http://unitsofmeasure.org"

SUBJECT_TYPES = {
    "district": "Organization", "centre": "Organization", "station": "Organization", "team": "CareTeam",
    "doctor": "Practitioner", "street": "Location",
}


def measure_id(code: str) -> str:
    """FHIR ids allow letters, digits, '-' and '.': underscores become '-'."""
    return code.replace("_", "-")


def code_of(measure: str) -> str | None:
    """The indicator code of a Measure id or canonical URL, or None."""
    ident = measure.rstrip("/").rsplit("/", 1)[-1]
    for code in C.CATALOGUE:
        if measure_id(code) == ident or code == ident:
            return code
    return None


def subject_reference(level: str, unit_id: int) -> str:
    return f"{SUBJECT_TYPES[level]}/{unit_id}"


def parse_subject(reference: str) -> tuple[set[str], int] | None:
    """'Organization/12' -> ({'district', 'centre', 'station'}, 12); None when malformed."""
    try:
        kind, raw_id = reference.split("/", 1)
        unit_id = int(raw_id)
    except ValueError:
        return None
    levels = {level for level, k in SUBJECT_TYPES.items() if k == kind}
    return (levels, unit_id) if levels and 0 < unit_id < 2**63 else None


def _population(code: str, description: str, count: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": {"coding": [{"system": POPULATION, "code": code}]}}
    if description:
        out["description"] = description
    if count is not None and float(count).is_integer():
        out["count"] = int(count)
    return out


def measure(ind: C.Indicator, base: str) -> dict[str, Any]:
    resource = Measure(
        id=measure_id(ind.code),
        url=f"{base}/Measure/{measure_id(ind.code)}",
        name=ind.code.replace(".", "_"),
        title=ind.name,
        subtitle=ind.name_en,
        status="active",
        language="zh-CN",
        description=f"{ind.numerator} / {ind.denominator}",
        usage=f"{ind.source}; {ind.period_type}; {ind.unit}",
        scoring={"coding": [{"system": SCORING, "code": "proportion" if ind.unit == "%" else "ratio"}]},
        improvementNotation={
            "coding": [{"system": IMPROVEMENT, "code": "increase" if ind.direction == "higher" else "decrease"}]
        },
        group=[{
            "population": [
                {**_population("numerator", ind.numerator),
                 "criteria": {"language": "text/plain", "expression": ind.numerator}},
                {**_population("denominator", ind.denominator),
                 "criteria": {"language": "text/plain", "expression": ind.denominator}},
            ]
        }],
    )
    return resource.model_dump(mode="json", exclude_none=True)


def measure_report(value, base: str) -> dict[str, Any]:
    ind = C.CATALOGUE.get(value.indicator)
    unit = ind.unit if ind else "%"
    group: dict[str, Any] = {
        "population": [
            {k: v for k, v in _population("numerator", "", value.numerator).items() if k != "description"},
            {k: v for k, v in _population("denominator", "", value.denominator).items() if k != "description"},
        ]
    }
    if value.value is not None:
        group["measureScore"] = (
            {"value": value.value, "unit": "%", "system": UCUM, "code": "%"}
            if unit == "%" else {"value": value.value, "unit": "每万人", "system": UCUM, "code": "/10*4"}
        )
    resource = MeasureReport(
        id=f"{measure_id(value.indicator)}.{value.period}.{value.level}.{value.unit_id}"[:64],
        status="complete",
        type="summary",
        measure=f"{base}/Measure/{measure_id(value.indicator)}",
        subject={"reference": subject_reference(value.level, value.unit_id), "display": value.unit_name},
        date=value.computed_at.isoformat(),
        period={"start": value.period_start.isoformat(), "end": value.as_of.isoformat()},
        group=[group],
    )
    return resource.model_dump(mode="json", exclude_none=True)


def searchset(resources: list[dict[str, Any]], self_url: str, total: int) -> dict[str, Any]:
    bundle = Bundle(
        type="searchset",
        total=total,
        link=[{"relation": "self", "url": self_url}],
        entry=[{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
               for r in resources],
    )
    return bundle.model_dump(mode="json", exclude_none=True)

"""Indicators as FHIR R4B resources: each catalogue entry a ``Measure``, each stored value a
``MeasureReport`` (summary). Built with fhir.resources' R4B models (never the package's default R5).

Subjects: a district, centre or station is an ``Organization``, a team a ``CareTeam``, a family doctor a
``Practitioner`` and a street a ``Location`` (all by database id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
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


# ---------------------------------------------------------------------------------------------
# Date search on MeasureReport.period (FHIR R4B search, "date" parameters)
# ---------------------------------------------------------------------------------------------

#: The prefixes understood (``ap``, approximately, is not supported).
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")

_DATE_SEARCH = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$",
    re.ASCII,
)


@dataclass(frozen=True)
class DateSearch:
    """One value of a date search parameter: a prefix and the range its precision implies,
    [``lo``, ``hi``) as aware datetimes (``2026-03`` is [1 March 00:00, 1 April 00:00))."""

    prefix: str
    lo: datetime
    hi: datetime

    def day_bounds(self) -> tuple[date, date, date, date]:
        """(first day starting at or after lo, day of lo, first day starting at or after hi, day of hi),
        local dates in the range's time zone: what the comparisons with whole-day periods need."""
        return (_ceil_day(self.lo), self.lo.date(), _ceil_day(self.hi), self.hi.date())


def _ceil_day(moment: datetime) -> date:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.date() if moment == midnight else moment.date() + timedelta(days=1)


def parse_date_search(value: str, tz: tzinfo) -> DateSearch:
    """A FHIR date search value (``ge2026-01-01``, ``2026``, ``lt2026-03``, ``eq2026-03-31T10:00:00+08:00``)
    -> DateSearch; ``tz`` is the time zone of a value without one. ValueError when malformed."""
    m = _DATE_SEARCH.fullmatch(value)
    if not m:
        raise ValueError(value)
    prefix = m["prefix"] or "eq"
    if prefix not in DATE_PREFIXES:
        raise ValueError(value)
    if m["tz"] and m["H"] is None:
        raise ValueError(value)
    zone = tz
    if m["tz"] == "Z":
        zone = UTC
    elif m["tz"]:
        sign = 1 if m["tz"][0] == "+" else -1
        hours, minutes = int(m["tz"][1:3]), int(m["tz"][4:6])
        if hours > 14 or minutes > 59:
            raise ValueError(value)
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year, month, day = int(m["y"]), int(m["m"] or 1), int(m["d"] or 1)
    hour, minute, second = int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
    frac = m["f"] or ""
    micro = int((frac + "000000")[:6])
    lo = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)  # ValueError when out of range
    if m["f"]:
        hi = lo + timedelta(microseconds=10 ** max(0, 6 - len(frac)))
    elif m["S"]:
        hi = lo + timedelta(seconds=1)
    elif m["H"]:
        hi = lo + timedelta(minutes=1)
    elif m["d"]:
        hi = lo + timedelta(days=1)
    elif m["m"]:
        hi = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    else:
        hi = datetime(year + 1, 1, 1, tzinfo=zone)
    return DateSearch(prefix, lo.astimezone(tz), hi.astimezone(tz))


def period_matches(search: DateSearch, start: date, end: date) -> bool:
    """Whether the period of whole days [start, end] matches ``search`` (FHIR R4B date search
    semantics: eq = the search range contains the period, gt/lt = the range above/below the search
    value overlaps it, ge/le = either, sa/eb = the period starts after / ends before it, ne = not eq).
    The API filters stored values with the same comparisons (``api._period_q``)."""
    lo_ceil, lo_day, hi_ceil, hi_day = search.day_bounds()
    eq = start >= lo_ceil and end < hi_day
    return {
        "eq": eq, "ne": not eq, "gt": end >= hi_day, "lt": start < lo_ceil, "ge": end >= hi_day or eq,
        "le": start < lo_ceil or eq, "sa": start >= hi_ceil, "eb": end < lo_day,
    }[search.prefix]

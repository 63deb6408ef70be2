"""The analytical fact tables the indicator catalogue is written against.

Three layers, each an ibis expression, so that one definition runs on every backend:

1. **Raw projections** (:data:`RAW`): the few columns of each Django table the indicators read, with
   dates turned into integer day numbers (days since 1970-01-01, local time for timestamps). They are
   the only place that knows the Django tables. On the ``db`` backend they are views over the live
   tables; DuckDB and Spark receive them as Arrow (see :mod:`jiayi.indicators.backends`).
2. **Dimensions and windows** (small Arrow tables): the org tree flattened to one row per institution
   and per area, and one row per evaluation window (as-of day, start of the assessment year, the
   cut-off birth days for elderly / children / adults...). Calendar arithmetic happens here, in
   Python, so that the SQL only compares integers.
3. **Facts** (:class:`Facts`): ``person_period`` (one row per resident in the resident population per
   window, with the org attribution and every flag the person-based indicators count),
   ``programme_period`` (patients under hypertension / diabetes management per window: managed,
   standardised, controlled, medication plan), ``contract_expiry``, ``contract_fulfilment``,
   ``surveys`` and ``staff``. The catalogue (:mod:`jiayi.indicators.catalogue`) turns them into
   numerators and denominators.

Definitions that the sources leave open are rule-set parameters, never literals: the programme rule
sets (standardised management, control targets, management-rate denominator), the family-doctor rule
set (satisfaction, renewal window) and the indicator rule set (:mod:`jiayi.indicators.rules`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from jiayi.core import rulesets
from jiayi.core.rulesets import RuleSet
from jiayi.indicators import periods as P  # noqa: N812
from jiayi.indicators.backends import Backend, DjangoDB, arrow_schema

__all__ = [
    "KEY_POPULATION_CODES",
    "ORG_COLUMNS",
    "RAW",
    "Facts",
    "OrgDims",
    "RawSpec",
    "RuleContext",
    "Windows",
    "available_raw",
    "load_org",
    "raw_from_django",
    "rule_context",
]

#: Level -> column of the fact tables that holds the unit id at that level.
ORG_COLUMNS: dict[str, str] = {
    "doctor": "doctor_id",
    "team": "team_id",
    "station": "station_id",
    "centre": "centre_id",
    "street": "street_id",
    "district": "district_id",
}
LEVELS: tuple[str, ...] = tuple(ORG_COLUMNS)


def _key_population_codes() -> tuple[str, ...]:
    from jiayi.residents.rules import KEY_POPULATIONS

    return tuple(KEY_POPULATIONS)


KEY_POPULATION_CODES: tuple[str, ...] = _key_population_codes()
CHRONIC_PROGRAMMES: tuple[str, ...] = ("hypertension", "diabetes")

# ---------------------------------------------------------------------------------------------
# Rule context: which rule sets a run uses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleContext:
    """The rule sets one run of the engine applies (one per rule domain)."""

    indicators: RuleSet
    hypertension: RuleSet
    diabetes: RuleSet
    engine: RuleSet  # programme-engine: management denominator, period scaling
    family_doctor: RuleSet

    def disease(self, programme: str) -> RuleSet:
        return self.hypertension if programme == "hypertension" else self.diabetes

    def labels(self) -> dict[str, str]:
        return {rs.programme: rs.code for rs in self.all()}

    def all(self) -> tuple[RuleSet, ...]:
        return (self.indicators, self.hypertension, self.diabetes, self.engine, self.family_doctor)

    def signature(self) -> str:
        """A digest of every parameter value in force (a change recomputes every period)."""
        payload = {
            rs.label: {k: repr(p.value) for k, p in sorted(rs.params.items())} for rs in self.all()
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _import_rule_modules() -> None:
    # Importing a rules module registers its rule sets.
    import jiayi.contracts.rules  # noqa: F401
    import jiayi.indicators.rules  # noqa: F401
    import jiayi.programmes.diabetes.rules  # noqa: F401
    import jiayi.programmes.hypertension.rules  # noqa: F401
    import jiayi.programmes.rules  # noqa: F401


def rule_context(on: date | None = None, choices: Mapping[str, str] | None = None) -> RuleContext:
    """The rule sets in force on ``on`` (default today), with explicit ``choices`` {programme: code}
    overriding the default (e.g. ``{"programme-engine": "nbphs-2017-estimated"}``)."""
    from django.conf import settings

    _import_rule_modules()
    on = on or date.today()
    wanted = {**settings.JIAYI.get("INDICATOR_RULESETS", {}), **(choices or {})}

    def pick(programme: str) -> RuleSet:
        code = wanted.get(programme)
        return rulesets.get(programme, code) if code else rulesets.default_for(programme, on)

    return RuleContext(
        indicators=pick("indicators"),
        hypertension=pick("hypertension"),
        diabetes=pick("diabetes"),
        engine=pick("programme-engine"),
        family_doctor=pick("family-doctor"),
    )


# ---------------------------------------------------------------------------------------------
# Raw projections
# ---------------------------------------------------------------------------------------------

TableGetter = Callable[[str], ibis.Table]


def _utc_offset_seconds() -> int:
    """Local time = UTC + this (the district's time zone; Asia/Shanghai has no daylight saving)."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    offset = datetime(2000, 1, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _day(col: ibis.Value) -> ibis.Value:
    return col.epoch_days().cast("int64")


def _local_day(col: ibis.Value) -> ibis.Value:
    return ((col.epoch_seconds() + _utc_offset_seconds()) // 86400).cast("int64")


def _least(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    return (a <= b).ifelse(a, b)


@dataclass(frozen=True)
class RawSpec:
    """One raw projection: its columns, the models it reads and its fingerprint relevance.

    ``relevance`` names the column holding the first day the row can influence a value (rows dated
    after a window's as-of day cannot change it); None means every window.
    """

    name: str
    models: tuple[str, ...]
    schema: Mapping[str, str]
    project: Callable[[TableGetter], ibis.Table]
    relevance: str | None = None

    def build(self, table: TableGetter) -> ibis.Table:
        expr = self.project(table)
        return expr.select(*[expr[c].cast(t).name(c) for c, t in self.schema.items()])


def _residents(t: TableGetter) -> ibis.Table:
    r = t("residents.Resident")
    return r.select(
        resident_id=r.id, sex=r.sex, birth_day=_day(r.birth_date), birth_y=r.birth_date.year(),
        birth_md=r.birth_date.month() * 100 + r.birth_date.day(), death_day=_day(r.death_date),
        status=r.residence_status, institution_id=r.institution_id, area_id=r.area_id, is_deleted=r.is_deleted,
        pregnant=r.pregnant, disabled=r.disabled, poverty_lifted=r.poverty_lifted,
        special_fp_family=r.special_fp_family,
    )


def _records(t: TableGetter) -> ibis.Table:
    h = t("residents.HealthRecord")
    return h.select(
        record_id=h.id, resident_id=h.resident_id, established_day=_day(h.established_on), electronic=h.electronic,
        status=h.status, open_to_resident=h.open_to_resident,
    )


def _measurements(t: TableGetter) -> ibis.Table:
    m = t("residents.Measurement")
    return m.select(measurement_id=m.id, resident_id=m.resident_id, day=_local_day(m.measured_at), source=m.source)


def _problems(t: TableGetter) -> ibis.Table:
    p = t("residents.Problem")
    return p.filter(p.kind == "disease").select(
        problem_id=p.id, resident_id=p.resident_id, icd10=p.icd10.upper(), diagnosed_day=_day(p.diagnosed_on),
        resolved_day=_day(p.resolved_on),
    )


def _recorded_tags(t: TableGetter) -> ibis.Table:
    k = t("residents.KeyPopulationTag")
    # Derived tags are recomputed here from the record (as of each window); only recorded ones are read.
    return k.filter(~k.derived).select(tag_id=k.id, resident_id=k.resident_id, code=k.code)


def _staff(t: TableGetter) -> ibis.Table:
    s = t("org.Staff")
    return s.select(staff_id=s.id, institution_id=s.institution_id, category=s.category, active=s.active)


def _contracts(t: TableGetter) -> ibis.Table:
    c = t("contracts.Contract")
    signed = _local_day(c.signed_at)
    start = _day(c.start_date)
    return c.select(
        contract_id=c.id, resident_id=c.resident_id, team_id=c.team_id, doctor_id=c.doctor_id, start_day=start,
        end_day=_day(c.end_date), terminated_day=_day(c.terminated_on), renewal_of_id=c.renewal_of_id,
        signed_day=signed, rel_day=_least(signed, start),
    )


def _contract_packages(t: TableGetter) -> ibis.Table:
    cp, sp, c = t("contracts.ContractPackage"), t("contracts.ServicePackage"), t("contracts.Contract")
    j = cp.join(sp, cp.package_id == sp.id).join(c, cp.contract_id == c.id)
    return j.select(
        contract_package_id=cp.id, contract_id=cp.contract_id, kind=sp.kind,
        rel_day=_least(_local_day(c.signed_at), _day(c.start_date)),
    )


def _contract_items(t: TableGetter) -> ibis.Table:
    i, c = t("contracts.ContractItem"), t("contracts.Contract")
    j = i.join(c, i.contract_id == c.id)
    return j.select(
        item_id=i.id, contract_id=i.contract_id, quantity=i.quantity,
        rel_day=_least(_local_day(c.signed_at), _day(c.start_date)),
    )


def _deliveries(t: TableGetter) -> ibis.Table:
    d = t("contracts.ServiceDelivery")
    return d.select(
        delivery_id=d.id, contract_id=d.contract_id, item_id=d.item_id, resident_id=d.resident_id,
        service_code=d.service_code, day=_day(d.delivered_on), revoked_day=_local_day(d.revoked_at),
    )


def _surveys(t: TableGetter) -> ibis.Table:
    s = t("contracts.SatisfactionSurvey")
    return s.select(survey_id=s.id, contract_id=s.contract_id, day=_day(s.surveyed_on), overall_score=s.overall_score)


def _enrolments(t: TableGetter) -> ibis.Table:
    e = t("programmes.Enrolment")
    return e.select(
        enrolment_id=e.id, resident_id=e.resident_id, programme=e.programme, start_day=_day(e.start_date),
        end_day=_day(e.end_date), team_id=e.team_id, doctor_id=e.doctor_id,
    )


def _visits(t: TableGetter) -> ibis.Table:
    v = t("programmes.Visit")
    return v.select(
        visit_id=v.id, resident_id=v.resident_id, enrolment_id=v.enrolment_id, programme=v.programme,
        day=_day(v.visit_date), y=v.visit_date.year(), md=v.visit_date.month() * 100 + v.visit_date.day(),
        visit_type=v.visit_type, face_to_face=v.face_to_face, sbp=v.sbp, dbp=v.dbp,
        fasting_glucose=v.fasting_glucose, is_deleted=v.is_deleted,
    )


def _medication_plans(t: TableGetter) -> ibis.Table:
    m = t("programmes.MedicationPlan")
    return m.select(
        plan_id=m.id, resident_id=m.resident_id, enrolment_id=m.enrolment_id, programme=m.programme,
        start_day=_day(m.start_date), status=m.status,
    )


I, S, B, F = "int64", "string", "boolean", "float64"

RAW: dict[str, RawSpec] = {
    spec.name: spec
    for spec in (
        RawSpec("residents", ("residents.Resident",), {
            "resident_id": I, "sex": S, "birth_day": I, "birth_y": I, "birth_md": I, "death_day": I, "status": S,
            "institution_id": I, "area_id": I, "is_deleted": B, "pregnant": B, "disabled": B, "poverty_lifted": B,
            "special_fp_family": B,
        }, _residents),
        RawSpec("records", ("residents.HealthRecord",), {
            "record_id": I, "resident_id": I, "established_day": I, "electronic": B, "status": S,
            "open_to_resident": B,
        }, _records, "established_day"),
        RawSpec("measurements", ("residents.Measurement",), {
            "measurement_id": I, "resident_id": I, "day": I, "source": S,
        }, _measurements, "day"),
        RawSpec("problems", ("residents.Problem",), {
            "problem_id": I, "resident_id": I, "icd10": S, "diagnosed_day": I, "resolved_day": I,
        }, _problems, "diagnosed_day"),
        RawSpec("tags", ("residents.KeyPopulationTag",), {"tag_id": I, "resident_id": I, "code": S}, _recorded_tags),
        RawSpec("staff", ("org.Staff",), {"staff_id": I, "institution_id": I, "category": S, "active": B}, _staff),
        RawSpec("contracts", ("contracts.Contract",), {
            "contract_id": I, "resident_id": I, "team_id": I, "doctor_id": I, "start_day": I, "end_day": I,
            "terminated_day": I, "renewal_of_id": I, "signed_day": I, "rel_day": I,
        }, _contracts, "rel_day"),
        RawSpec("contract_packages", ("contracts.ContractPackage", "contracts.ServicePackage"), {
            "contract_package_id": I, "contract_id": I, "kind": S, "rel_day": I,
        }, _contract_packages, "rel_day"),
        RawSpec("contract_items", ("contracts.ContractItem",), {
            "item_id": I, "contract_id": I, "quantity": I, "rel_day": I,
        }, _contract_items, "rel_day"),
        RawSpec("deliveries", ("contracts.ServiceDelivery",), {
            "delivery_id": I, "contract_id": I, "item_id": I, "resident_id": I, "service_code": S, "day": I,
            "revoked_day": I,
        }, _deliveries, "day"),
        RawSpec("surveys", ("contracts.SatisfactionSurvey",), {
            "survey_id": I, "contract_id": I, "day": I, "overall_score": I,
        }, _surveys, "day"),
        RawSpec("enrolments", ("programmes.Enrolment",), {
            "enrolment_id": I, "resident_id": I, "programme": S, "start_day": I, "end_day": I, "team_id": I,
            "doctor_id": I,
        }, _enrolments, "start_day"),
        RawSpec("visits", ("programmes.Visit",), {
            "visit_id": I, "resident_id": I, "enrolment_id": I, "programme": S, "day": I, "y": I, "md": I,
            "visit_type": S, "face_to_face": B, "sbp": I, "dbp": I, "fasting_glucose": F, "is_deleted": B,
        }, _visits, "day"),
        RawSpec("medication_plans", ("programmes.MedicationPlan",), {
            "plan_id": I, "resident_id": I, "enrolment_id": I, "programme": S, "start_day": I, "status": S,
        }, _medication_plans, "start_day"),
    )
}

#: The first column of each raw table is its row id (used by the fingerprints).


def _model(label: str):
    from django.apps import apps

    try:
        return apps.get_model(label)
    except LookupError:
        return None


def available_raw() -> dict[str, RawSpec]:
    """The raw projections whose Django models exist (a programme not installed yet is absent)."""
    return {name: spec for name, spec in RAW.items() if all(_model(m) is not None for m in spec.models)}


def _django_getter(db: DjangoDB) -> TableGetter:
    def table(label: str) -> ibis.Table:
        return db.table(_model(label)._meta.db_table)

    return table


def raw_from_django(db: DjangoDB, names: Iterable[str] | None = None) -> dict[str, ibis.Table]:
    """The raw projections as lazy ibis expressions over the Django tables."""
    specs = available_raw()
    getter = _django_getter(db)
    return {name: specs[name].build(getter) for name in (names or specs) if name in specs}


def extract_arrow(db: DjangoDB, names: Iterable[str] | None = None, progress=None) -> dict[str, pa.Table]:
    """The raw projections read out of the Django database into Arrow."""
    specs = available_raw()
    getter = _django_getter(db)
    out: dict[str, pa.Table] = {}
    for name in names or specs:
        if name not in specs:
            continue
        out[name] = db.extract(specs[name].build(getter), specs[name].schema)
        if progress is not None:
            progress(name)
    return out


def empty_raw(name: str) -> pa.Table:
    return arrow_schema(RAW[name].schema).empty_table()


# ---------------------------------------------------------------------------------------------
# Org dimensions
# ---------------------------------------------------------------------------------------------


@dataclass
class OrgDims:
    """The org tree flattened: each institution and area mapped to its units at every level."""

    institutions: pa.Table  # institution_id, station_id, centre_id, district_id, inst_street_id
    areas: pa.Table  # area_id, street_id
    names: dict[tuple[str, int], str] = field(default_factory=dict)  # (level, unit id) -> name
    scope_institution: dict[tuple[str, int], int | None] = field(default_factory=dict)

    def signature(self) -> str:
        digest = hashlib.sha256()
        for table in (self.institutions, self.areas):
            digest.update(json.dumps(table.to_pylist(), sort_keys=True).encode())
        return digest.hexdigest()[:16]


def flatten_org(
    institutions: Sequence[Mapping[str, Any]], areas: Sequence[Mapping[str, Any]]
) -> tuple[pa.Table, pa.Table]:
    """Pure helper: rows {id, parent_id, type, area_id} and {id, parent_id, level} -> dimension tables."""
    from jiayi.org.models import AreaLevel, InstitutionType, PRIMARY_CARE_CENTRE_TYPES, PRIMARY_CARE_POINT_TYPES

    inst = {row["id"]: row for row in institutions}
    area = {row["id"]: row for row in areas}

    def street_of(area_id: int | None) -> int | None:
        seen = set()
        while area_id is not None and area_id not in seen:
            seen.add(area_id)
            row = area.get(area_id)
            if row is None:
                return None
            if row["level"] == AreaLevel.STREET:
                return area_id
            area_id = row["parent_id"]
        return None

    def chain(iid: int) -> list[dict]:
        out, seen = [], set()
        while iid is not None and iid not in seen and iid in inst:
            seen.add(iid)
            out.append(inst[iid])
            iid = inst[iid]["parent_id"]
        return out

    rows = {"institution_id": [], "station_id": [], "centre_id": [], "district_id": [], "inst_street_id": []}
    for iid in sorted(inst):
        ch = chain(iid)
        station = next((r["id"] for r in ch[:1] if r["type"] in PRIMARY_CARE_POINT_TYPES), None)
        centre = next((r["id"] for r in ch if r["type"] in PRIMARY_CARE_CENTRE_TYPES), None)
        district = next((r["id"] for r in ch if r["type"] == InstitutionType.HEALTH_COMMISSION), ch[-1]["id"])
        rows["institution_id"].append(iid)
        rows["station_id"].append(station)
        rows["centre_id"].append(centre)
        rows["district_id"].append(district)
        rows["inst_street_id"].append(street_of(inst[iid]["area_id"]))
    inst_table = pa.table(rows, schema=pa.schema([(k, pa.int64()) for k in rows]))
    area_rows = {"area_id": sorted(area), "street_id": [street_of(a) for a in sorted(area)]}
    area_table = pa.table(area_rows, schema=pa.schema([(k, pa.int64()) for k in area_rows]))
    return inst_table, area_table


def load_org() -> OrgDims:
    """The org dimensions from the Django database, with unit names and the institution that scopes
    each unit (who may see a unit's values)."""
    from jiayi.org.models import Area, Institution, Staff, Team

    inst_rows = list(Institution.objects.values("id", "parent_id", "type", "area_id", "name"))
    area_rows = list(Area.objects.values("id", "parent_id", "level", "name"))
    inst_table, area_table = flatten_org(inst_rows, area_rows)
    dims = OrgDims(inst_table, area_table)
    district_of = dict(zip(inst_table["institution_id"].to_pylist(), inst_table["district_id"].to_pylist(), strict=True))
    for row in inst_rows:
        for level in ("station", "centre", "district"):
            dims.names[(level, row["id"])] = row["name"]
            dims.scope_institution[(level, row["id"])] = row["id"]
    area_names = {row["id"]: row["name"] for row in area_rows}
    districts = {d for d in district_of.values() if d is not None}
    street_scope = next(iter(districts)) if len(districts) == 1 else None
    for street_id in {s for s in area_table["street_id"].to_pylist() if s is not None}:
        dims.names[("street", street_id)] = area_names.get(street_id, str(street_id))
        dims.scope_institution[("street", street_id)] = street_scope
    for team in Team.objects.values("id", "name", "institution_id"):
        dims.names[("team", team["id"])] = team["name"]
        dims.scope_institution[("team", team["id"])] = team["institution_id"]
    for staff in Staff.objects.values("id", "name", "institution_id"):
        dims.names[("doctor", staff["id"])] = staff["name"]
        dims.scope_institution[("doctor", staff["id"])] = staff["institution_id"]
    return dims


# ---------------------------------------------------------------------------------------------
# Evaluation windows
# ---------------------------------------------------------------------------------------------

#: Width of the activity bins (days) used for the record-use lookback; any width shorter than the
#: lookback gives exact results (see Facts.record_use).
ACTIVITY_BIN_DAYS = 30


@dataclass(frozen=True)
class Windows:
    """The as-of days (point-in-time and year-to-date indicators) and the [start, end] ranges
    (indicators over a period, e.g. renewals) a run evaluates. Each gets an integer id."""

    as_of: tuple[date, ...]
    ranges: tuple[tuple[date, date], ...]

    @classmethod
    def for_periods(cls, periods: Iterable[P.Period], today: date) -> Windows:
        as_of: set[date] = set()
        ranges: set[tuple[date, date]] = set()
        for p in periods:
            if not p.started(today):
                continue
            as_of.add(p.as_of(today))
            ranges.add((p.start, p.as_of(today)))
        return cls(tuple(sorted(as_of)), tuple(sorted(ranges)))

    def asof_id(self, day: date) -> int:
        return self.as_of.index(day) + 1

    def range_id(self, start: date, end: date) -> int:
        return self.ranges.index((start, end)) + 1

    def asof_table(self, ctx: RuleContext) -> pa.Table:
        from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE

        months = int(ctx.indicators.value("record_use_window_months"))
        adult_age = int(ctx.engine.value("estimated_min_age"))
        cols: dict[str, list[int]] = {k: [] for k in (
            "wid", "as_of", "year", "year_start", "year_days", "use_from", "use_bin_lo", "use_bin_hi",
            "elderly_cut", "child_cut", "adult_cut",
        )}
        for i, d in enumerate(self.as_of, start=1):
            year_start = date(d.year, 1, 1)
            use_from = P.day_number(P.add_months(d, -months)) + 1
            cols["wid"].append(i)
            cols["as_of"].append(P.day_number(d))
            cols["year"].append(d.year)
            cols["year_start"].append(P.day_number(year_start))
            cols["year_days"].append((date(d.year + 1, 1, 1) - year_start).days)
            cols["use_from"].append(use_from)
            cols["use_bin_lo"].append(use_from // ACTIVITY_BIN_DAYS)
            cols["use_bin_hi"].append(P.day_number(d) // ACTIVITY_BIN_DAYS)
            cols["elderly_cut"].append(P.day_number(P.birth_cutoff(d, ELDERLY_MIN_AGE)))
            cols["child_cut"].append(P.day_number(P.birth_cutoff(d, CHILD_MAX_AGE + 1)))
            cols["adult_cut"].append(P.day_number(P.birth_cutoff(d, adult_age)))
        return pa.table(cols, schema=pa.schema([(k, pa.int64()) for k in cols]))

    def years_table(self) -> pa.Table:
        years = sorted({d.year for d in self.as_of})
        return pa.table(
            {
                "year": years,
                "y_start": [P.day_number(date(y, 1, 1)) for y in years],
                "y_end": [P.day_number(date(y, 12, 31)) for y in years],
            },
            schema=pa.schema([("year", pa.int64()), ("y_start", pa.int64()), ("y_end", pa.int64())]),
        )

    def range_table(self) -> pa.Table:
        return pa.table(
            {
                "wid": list(range(1, len(self.ranges) + 1)),
                "start": [P.day_number(s) for s, _e in self.ranges],
                "as_of": [P.day_number(e) for _s, e in self.ranges],
            },
            schema=pa.schema([("wid", pa.int64()), ("start", pa.int64()), ("as_of", pa.int64())]),
        )


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


def _flag(cond: ibis.Value) -> ibis.Value:
    return cond.ifelse(1, 0).cast("int64")


def _attach(base: ibis.Table, other: ibis.Table, keys: Sequence[str], fill: Mapping[str, Any] | None = None):
    """``base`` left-joined with ``other`` on ``keys``: base's columns plus other's, nulls filled."""
    joined = base.left_join(other, list(keys))
    extra = [c for c in other.columns if c not in keys]
    out = joined.select(*[joined[c] for c in base.columns], *[joined[c] for c in extra])
    if fill:
        out = out.mutate(**{c: out[c].fill_null(v) for c, v in fill.items() if c in extra})
    return out


class Facts:
    """The fact tables of one run, on one backend, for one set of windows.

    ``raw`` maps raw names to ibis tables on the backend; a raw table whose model does not exist is
    replaced by an empty table (its indicators then count zero and the engine reports them blocked).
    ``restrict`` (a table with ``resident_id``) limits everything to those residents (line lists).
    """

    def __init__(
        self,
        backend: Backend,
        raw: Mapping[str, ibis.Table],
        org: OrgDims,
        windows: Windows,
        ctx: RuleContext,
        today: date,
        *,
        restrict: ibis.Table | None = None,
    ) -> None:
        self.backend = backend
        self.ctx = ctx
        self.today = today
        self.today_day = P.day_number(today)
        self.windows = windows
        self.missing = sorted(set(RAW) - set(raw))
        tables = dict(raw)
        for name in self.missing:
            tables[name] = backend.load(f"empty_{name}", empty_raw(name))
        if restrict is not None:
            keep = restrict.select("resident_id").distinct()
            for name, t in list(tables.items()):
                if "resident_id" in t.columns:
                    tables[name] = t.semi_join(keep, "resident_id")
        self.raw = tables
        self.org_inst = backend.load("org_inst", org.institutions)
        self.org_area = backend.load("org_area", org.areas)
        self.asof = backend.load("asof", windows.asof_table(ctx))
        self.years = backend.load("years", windows.years_table())
        self.ranges = backend.load("ranges", windows.range_table())

    def _cache(self, expr: ibis.Table) -> ibis.Table:
        return self.backend.cache(expr)

    # -- residents and their org attribution --------------------------------------------------

    @cached_property
    def population(self) -> ibis.Table:
        """Residents in the resident population (常住居民) on each as-of day, with their units."""
        from jiayi.residents.models import RESIDENT_POPULATION_STATUSES, ResidenceStatus

        r, w = self.raw["residents"], self.asof
        statuses = [str(s) for s in RESIDENT_POPULATION_STATUSES]
        alive = r.status.isin(statuses) | (
            (r.status == str(ResidenceStatus.DECEASED)) & r.death_day.notnull() & (r.death_day > w.as_of)
        )
        pop = r.cross_join(w).filter(r.birth_day <= w.as_of, ~r.is_deleted, alive)
        pop = pop.select(
            "wid", "as_of", "resident_id", "sex", "birth_day", "institution_id", "area_id", "pregnant", "disabled",
            "poverty_lifted", "special_fp_family",
            elderly=_flag(pop.birth_day <= pop.elderly_cut),
            child=_flag(pop.birth_day > pop.child_cut),
            adult=_flag(pop.birth_day <= pop.adult_cut),
        )
        pop = _attach(pop, self.org_inst.select("institution_id", "station_id", "centre_id", "district_id"),
                      ["institution_id"])
        return self._cache(_attach(pop, self.org_area.select("area_id", "street_id"), ["area_id"]))

    @cached_property
    def contract_in_force(self) -> ibis.Table:
        """The contract in force for each resident on each as-of day (the latest if several)."""
        c, w = self.raw["contracts"], self.asof
        inforce = c.cross_join(w).filter(
            c.start_day <= w.as_of, c.end_day >= w.as_of, c.terminated_day.isnull() | (c.terminated_day > w.as_of)
        )
        pick = inforce.group_by(["wid", "resident_id"]).aggregate(contract_id=inforce.contract_id.max())
        details = c.select("contract_id", "team_id", "doctor_id")
        pick = pick.join(details, "contract_id")
        kinds = [str(k) for k in self.ctx.indicators.value("personalised_package_kinds")]
        cp = self.raw["contract_packages"]
        personal = cp.filter(cp.kind.isin(kinds)).select("contract_id").distinct().mutate(personalised=1)
        return self._cache(_attach(pick, personal, ["contract_id"], {"personalised": 0}))

    @cached_property
    def diagnoses(self) -> ibis.Table:
        """Diagnosis groups on record (problem list, ICD-10 prefixes of residents.diagnoses) per window."""
        from jiayi.residents.diagnoses import DIAGNOSIS_PREFIXES

        p, w = self.raw["problems"], self.asof
        j = p.cross_join(w).filter(
            p.diagnosed_day.isnull() | (p.diagnosed_day <= w.as_of),
            p.resolved_day.isnull() | (p.resolved_day > w.as_of),
        )
        aggs = {}
        for group, prefixes in DIAGNOSIS_PREFIXES.items():
            cond = ibis.or_(*[j.icd10.startswith(pre) for pre in prefixes])
            aggs[f"dx_{group}"] = _flag(cond).max()
        return self._cache(j.group_by(["wid", "resident_id"]).aggregate(**aggs))

    @cached_property
    def recorded_tags(self) -> ibis.Table:
        t = self.raw["tags"]
        return t.group_by("resident_id").aggregate(
            **{f"tag_{code}": _flag(t.code == code).max() for code in KEY_POPULATION_CODES}
        )

    @cached_property
    def record_use(self) -> ibis.Table:
        """Residents with a 'dynamic record' on each as-of day: evidence in the lookback window.

        Evidence days are grouped in bins of ACTIVITY_BIN_DAYS; a bin witnesses the window
        [use_from, as_of] when it lies in the window's bin range, its last day is on or after use_from
        and its first day on or before as_of. Inner bins satisfy both trivially, the two edge bins need
        exactly one of them, so the result equals a day-by-day check.
        """
        evidence = set(self.ctx.indicators.value("record_use_evidence"))
        parts = []
        if "measurement" in evidence:
            parts.append(self.raw["measurements"].select("resident_id", "day"))
        if "programme_visit" in evidence:
            v = self.raw["visits"]
            parts.append(v.filter(~v.is_deleted).select("resident_id", "day"))
        if "service_delivery" in evidence:
            d = self.raw["deliveries"]
            parts.append(d.filter(d.revoked_day.isnull()).select("resident_id", "day"))
        if not parts:
            return self.asof.select("wid").mutate(resident_id=ibis.null("int64")).filter(_.wid < 0)
        act = ibis.union(*parts).filter(_.day <= self.today_day)
        bins = act.mutate(bin=act.day // ACTIVITY_BIN_DAYS).group_by(["resident_id", "bin"]).aggregate(
            lo=_.day.min(), hi=_.day.max()
        )
        w = self.asof
        j = bins.join(w, [bins.bin >= w.use_bin_lo, bins.bin <= w.use_bin_hi, bins.hi >= w.use_from,
                          bins.lo <= w.as_of])
        return self._cache(j.select("wid", "resident_id").distinct().mutate(record_used=1))

    @cached_property
    def elderly_managed(self) -> ibis.Table:
        """Residents with elderly health management (rule-set evidence) in the assessment year."""
        evidence = set(self.ctx.indicators.value("elderly_management_evidence"))
        parts = []
        if "health_check" in evidence:
            m = self.raw["measurements"]
            parts.append(m.filter(m.source == "health_check").select("resident_id", "day"))
        if "elderly_check" in evidence:
            d = self.raw["deliveries"]
            parts.append(d.filter(d.service_code == "elderly_check", d.revoked_day.isnull()).select("resident_id", "day"))
        if "elderly_programme" in evidence:
            v = self.raw["visits"]
            parts.append(v.filter(v.programme == "elderly", ~v.is_deleted).select("resident_id", "day"))
        if not parts:
            return self.asof.select("wid").mutate(resident_id=ibis.null("int64")).filter(_.wid < 0)
        ev = ibis.union(*parts).distinct()
        w = self.asof
        j = ev.join(w, [ev.day >= w.year_start, ev.day <= w.as_of])
        return self._cache(j.select("wid", "resident_id").distinct().mutate(elderly_managed=1))

    # -- chronic-disease programmes --------------------------------------------------------------

    @cached_property
    def programme_year(self) -> ibis.Table:
        """Per patient, programme and assessment year: the first enrolment day overlapping the year and
        the period start max(1 January, first enrolment) (programmes.rules.standardised_in_period)."""
        e, y = self.raw["enrolments"], self.years
        e = e.filter(e.programme.isin(list(CHRONIC_PROGRAMMES)))
        j = e.cross_join(y).filter(e.start_day <= y.y_end, e.end_day.isnull() | (e.end_day >= y.y_start))
        g = j.group_by(["resident_id", "programme", "year", "y_start"]).aggregate(first_start=j.start_day.min())
        return self._cache(g.mutate(pstart=(g.first_start > g.y_start).ifelse(g.first_start, g.y_start)))

    def _counted_visits(self) -> ibis.Table:
        v = self.raw["visits"]
        v = v.filter(~v.is_deleted, v.programme.isin(list(CHRONIC_PROGRAMMES)), v.day <= self.today_day)
        return v.filter(v.visit_type == "follow_up")

    @cached_property
    def visit_gaps(self) -> ibis.Table:
        """Counted follow-ups inside each patient's period of the year with the gap to the previous one
        (or to the period start for the first), as standardised management measures them."""
        v = self._counted_visits()
        if self.ctx.engine.value("standardised_face_to_face_only"):
            v = v.filter(v.face_to_face)
        py = self.programme_year
        j = v.join(py, [v.resident_id == py.resident_id, v.programme == py.programme, v.y == py.year])
        j = j.filter(j.day >= j.pstart).select("resident_id", "programme", "year", "pstart", "day")
        prev = j.day.lag().over(ibis.window(group_by=[j.resident_id, j.programme, j.year], order_by=j.day))
        j = j.mutate(prev=prev)
        return self._cache(j.mutate(
            gap_inner=(j.day - j.prev),
            gap_start=j.prev.isnull().ifelse(j.day - j.pstart, ibis.null("int64")),
        ))

    def _controlled_expr(self, v: ibis.Table, programme: str) -> ibis.Value:
        """At target at this visit (chronic_rules.is_controlled with the programme's rule set):
        hypertension SBP < target and DBP < target (elderly targets from ``elderly_age``); diabetes
        fasting glucose < ``target_fpg``; not measured = not at target."""
        rs = self.ctx.disease(programme)
        if programme == "hypertension":
            age = v.y - v.birth_y - _flag(v.md < v.birth_md)
            elderly = age >= int(rs.value("elderly_age"))
            sbp_t = elderly.ifelse(float(rs.value("elderly_target_sbp")), float(rs.value("target_sbp")))
            dbp_t = elderly.ifelse(float(rs.value("elderly_target_dbp")), float(rs.value("target_dbp")))
            return v.sbp.notnull() & v.dbp.notnull() & (v.sbp < sbp_t) & (v.dbp < dbp_t)
        return v.fasting_glucose.notnull() & (v.fasting_glucose < float(rs.value("target_fpg")))

    @cached_property
    def latest_visit(self) -> ibis.Table:
        """Whether the latest counted follow-up of the year (up to the as-of day) was at target.

        The latest visit is the one with the highest (day, id); the key packs day, id and the at-target
        bit into one integer so that a single max() finds it on every backend.
        """
        r = self.raw["residents"].select("resident_id", "birth_y", "birth_md")
        v = self._counted_visits().join(r, "resident_id")
        ctl = (v.programme == "hypertension").ifelse(
            _flag(self._controlled_expr(v, "hypertension")), _flag(self._controlled_expr(v, "diabetes"))
        )
        v = v.mutate(key=(v.day * 10_000_000_000 + v.visit_id) * 2 + ctl)
        w = self.asof
        j = v.join(w, [v.y == w.year, v.day <= w.as_of])
        g = j.group_by(["wid", "resident_id", "programme"]).aggregate(key=j.key.max())
        return self._cache(g.mutate(controlled=(g.key % 2).cast("int64")).drop("key"))

    @cached_property
    def programme_period(self) -> ibis.Table:
        """Patients under management in each window's assessment year (up to the as-of day).

        managed: an enrolment overlapping [1 January, as-of] (``managed_requires_visit`` adds a visit);
        standardised: programmes.rules.standardised_in_period over [max(1 January, enrolment), as-of];
        controlled: the latest follow-up of the year at target; open: still enrolled on the as-of day;
        plan: a medication plan (active, or since superseded) started by the as-of day.
        """
        e, w = self.raw["enrolments"], self.asof
        e = e.filter(e.programme.isin(list(CHRONIC_PROGRAMMES)))
        j = e.cross_join(w).filter(e.start_day <= w.as_of, e.end_day.isnull() | (e.end_day >= w.year_start))
        g = j.group_by(["wid", "resident_id", "programme"]).aggregate(
            enrolment_id=j.enrolment_id.max(),
            open=_flag(j.end_day.isnull() | (j.end_day >= j.as_of)).max(),
        )
        g = g.join(self.raw["enrolments"].select("enrolment_id", "team_id", "doctor_id"), "enrolment_id")
        g = g.join(w.select("wid", "as_of", "year", "year_days"), "wid")
        py = self.programme_year.select("resident_id", "programme", "year", "pstart")
        g = g.join(py, ["resident_id", "programme", "year"])

        # Standardised management over [pstart, as_of].
        vg = self.visit_gaps
        edges = bool(self.ctx.hypertension.value("standardised_year_edges"))
        jv = vg.join(w.select("wid", "as_of", "year"), [vg.year == w.year, vg.day <= w.as_of])
        gap_col = jv.gap_inner.fill_null(jv.gap_start) if edges else jv.gap_inner
        stats = jv.group_by(["wid", "resident_id", "programme"]).aggregate(
            n_days=jv.day.nunique(), max_gap=gap_col.max(), last_day=jv.day.max()
        )
        g = self._cache(_attach(g, stats, ["wid", "resident_id", "programme"], {"n_days": 0}))
        std_ht = self._standardised_expr(g, "hypertension", edges)
        std_dm = self._standardised_expr(g, "diabetes", edges)
        g = g.mutate(standardised=(g.programme == "hypertension").ifelse(std_ht, std_dm))
        if self.ctx.engine.value("managed_requires_visit"):
            g = g.filter(g.last_day.notnull())

        g = _attach(g, self.latest_visit, ["wid", "resident_id", "programme"], {"controlled": 0})
        mp = self.raw["medication_plans"]
        plans = mp.filter(mp.status.isin(["active", "superseded"])).cross_join(w.select("wid", "as_of"))
        plans = plans.filter(plans.start_day <= plans.as_of).select("wid", "resident_id", "programme").distinct()
        plans = plans.mutate(plan=ibis.literal(1).cast("int64"))
        g = _attach(g, plans, ["wid", "resident_id", "programme"], {"plan": 0})
        return self._cache(g.select(
            "wid", "resident_id", "programme", "team_id", "doctor_id", "open", "standardised", "controlled", "plan",
            managed=ibis.literal(1).cast("int64"),
        ))

    def _standardised_expr(self, g: ibis.Table, programme: str, edges: bool) -> ibis.Value:
        rs = self.ctx.disease(programme)
        full = int(rs.value("standardised_min_visits"))
        max_gap = rs.value("standardised_max_gap_days")
        length = g.as_of - g.pstart + 1
        if self.ctx.engine.value("period_min_visits_rounding") == "ceil":
            scaled = (full * length + g.year_days - 1) // g.year_days
        else:
            scaled = (full * length) // g.year_days
        scaled = (scaled < 1).ifelse(1, scaled)
        required = (length >= g.year_days).ifelse(full, scaled)
        ok = g.n_days >= required
        if max_gap is not None:
            inner = g.max_gap.fill_null(0)
            if edges:
                end_gap = g.as_of - g.last_day.fill_null(g.pstart)
                # With no visit at all the single gap is pstart -> as_of.
                biggest = (end_gap > inner).ifelse(end_gap, inner)
            else:
                biggest = inner
            ok = ok & (biggest <= int(max_gap))
        return _flag(ok)

    # -- the person-period table -------------------------------------------------------------------

    @cached_property
    def person_period(self) -> ibis.Table:
        """One row per resident of the resident population per as-of window, with the org attribution
        (doctor and team of the contract in force) and every flag the person-based indicators count."""
        pp = self.population
        pp = _attach(pp, self.contract_in_force.mutate(signed=1), ["wid", "resident_id"],
                     {"signed": 0, "personalised": 0})
        rec = self.raw["records"].select(
            "resident_id", "established_day", electronic_flag=_flag(_.electronic),
            open_flag=_flag(_.open_to_resident), closed=_flag(_.status == "closed"),
        )
        pp = _attach(pp, rec, ["resident_id"])
        has_record = pp.established_day.notnull() & (pp.established_day <= pp.as_of) & (pp.closed == 0)
        pp = pp.mutate(has_record=_flag(has_record))
        pp = pp.mutate(
            electronic=_flag((pp.has_record == 1) & (pp.electronic_flag == 1)),
            record_open=_flag((pp.has_record == 1) & (pp.electronic_flag == 1) & (pp.open_flag == 1)),
        ).drop("established_day", "electronic_flag", "open_flag", "closed")
        pp = self._cache(pp)
        pp = _attach(pp, self.record_use, ["wid", "resident_id"], {"record_used": 0})
        pp = pp.mutate(record_used=_flag((pp.record_used == 1) & (pp.has_record == 1)))
        pp = _attach(pp, self.diagnoses, ["wid", "resident_id"],
                     {f"dx_{g}": 0 for g in ("hypertension", "diabetes", "tuberculosis", "severe_mental")})
        pp = _attach(pp, self.recorded_tags, ["resident_id"], {f"tag_{c}": 0 for c in KEY_POPULATION_CODES})
        prog = self.programme_period
        per = prog.group_by(["wid", "resident_id"]).aggregate(
            ht_managed=_flag(prog.programme == "hypertension").max(),
            dm_managed=_flag(prog.programme == "diabetes").max(),
            ht_open=_flag((prog.programme == "hypertension") & (prog.open == 1)).max(),
            dm_open=_flag((prog.programme == "diabetes") & (prog.open == 1)).max(),
            chronic_plan=_flag((prog.open == 1) & (prog.plan == 1)).max(),
        )
        pp = _attach(pp, per, ["wid", "resident_id"],
                     {"ht_managed": 0, "dm_managed": 0, "ht_open": 0, "dm_open": 0, "chronic_plan": 0})
        pp = _attach(pp, self.elderly_managed, ["wid", "resident_id"], {"elderly_managed": 0})
        pp = self._cache(pp)
        kp = {
            "elderly": (pp.elderly == 1) | (pp.tag_elderly == 1),
            "maternal": pp.pregnant | (pp.tag_maternal == 1),
            "child": (pp.child == 1) | (pp.tag_child == 1),
            "disabled": pp.disabled | (pp.tag_disabled == 1),
            "poverty_lifted": pp.poverty_lifted | (pp.tag_poverty_lifted == 1),
            "special_fp_family": pp.special_fp_family | (pp.tag_special_fp_family == 1),
            "hypertension": (pp.dx_hypertension == 1) | (pp.tag_hypertension == 1) | (pp.ht_open == 1),
            "diabetes": (pp.dx_diabetes == 1) | (pp.tag_diabetes == 1) | (pp.dm_open == 1),
            "tuberculosis": (pp.dx_tuberculosis == 1) | (pp.tag_tuberculosis == 1),
            "severe_mental": (pp.dx_severe_mental == 1) | (pp.tag_severe_mental == 1),
        }
        pp = pp.mutate(**{f"kp_{c}": _flag(cond) for c, cond in kp.items()})
        pp = pp.mutate(kp_any=_flag(ibis.or_(*[pp[f"kp_{c}"] == 1 for c in KEY_POPULATION_CODES])))
        pp = pp.mutate(
            ht_registered=_flag((pp.dx_hypertension == 1) | (pp.ht_managed == 1)),
            dm_registered=_flag((pp.dx_diabetes == 1) | (pp.dm_managed == 1)),
        )
        keep = [c for c in pp.columns if not c.startswith(("tag_", "dx_")) and c not in (
            "pregnant", "disabled", "poverty_lifted", "special_fp_family", "birth_day", "area_id", "as_of")]
        return self._cache(pp.select(*keep))

    @cached_property
    def programme_patients(self) -> ibis.Table:
        """``programme_period`` restricted to the resident population, with the org attribution: the
        enrolment's responsible doctor and team, else those of the contract in force."""
        pp = self.person_period.select(
            "wid", "resident_id", "station_id", "centre_id", "street_id", "district_id",
            c_team=_.team_id, c_doctor=_.doctor_id, signed=_.signed,
        )
        prog = self.programme_period.join(pp, ["wid", "resident_id"])
        return self._cache(prog.select(
            "wid", "resident_id", "programme", "station_id", "centre_id", "street_id", "district_id", "signed",
            "open", "standardised", "controlled", "plan", "managed",
            team_id=prog.team_id.fill_null(prog.c_team), doctor_id=prog.doctor_id.fill_null(prog.c_doctor),
        ))

    # -- contracts ---------------------------------------------------------------------------------

    def _resident_units(self) -> ibis.Table:
        r = self.raw["residents"].filter(~_.is_deleted).select("resident_id", "institution_id", "area_id")
        r = _attach(r, self.org_inst.select("institution_id", "station_id", "centre_id", "district_id"),
                    ["institution_id"])
        return _attach(r, self.org_area.select("area_id", "street_id"), ["area_id"]).drop("institution_id", "area_id")

    @cached_property
    def contract_expiry(self) -> ibis.Table:
        """Contracts that expired in each range window (end day inside, not terminated before), and
        whether a renewal (not voided) was signed by the window's end."""
        c, w = self.raw["contracts"], self.ranges
        ended = c.filter(c.terminated_day.isnull() | (c.terminated_day > c.end_day))
        j = ended.cross_join(w).filter(ended.end_day >= w.start, ended.end_day <= w.as_of)
        ren = c.filter(c.renewal_of_id.notnull(), c.terminated_day.isnull() | (c.terminated_day > c.start_day))
        ren = ren.select(renewed_id=ren.renewal_of_id, renewal_signed=ren.signed_day)
        j = j.left_join(ren, j.contract_id == ren.renewed_id)
        j = j.mutate(renewed=_flag(j.renewal_signed.notnull() & (j.renewal_signed <= j.as_of)))
        j = j.select("wid", "contract_id", "resident_id", "team_id", "doctor_id", "renewed")
        j = j.group_by(["wid", "contract_id", "resident_id", "team_id", "doctor_id"]).aggregate(renewed=_.renewed.max())
        return j.join(self._resident_units(), "resident_id")

    @cached_property
    def contract_fulfilment(self) -> ibis.Table:
        """Contracts in force on each as-of day and whether they are on schedule (contracts.rules): every
        item has at least units_due = floor((min(d, end) - start + 1) * quantity / period days)
        deliveries dated on or before d and not revoked by then."""
        c, w = self.raw["contracts"], self.asof.select("wid", "as_of")
        inforce = c.cross_join(w).filter(
            c.start_day <= w.as_of, c.end_day >= w.as_of, c.terminated_day.isnull() | (c.terminated_day > w.as_of)
        ).select("wid", "as_of", "contract_id", "resident_id", "team_id", "doctor_id", "start_day", "end_day")
        items = self.raw["contract_items"].select("item_id", "contract_id", "quantity")
        iw = inforce.join(items, "contract_id")
        days = iw.end_day - iw.start_day + 1
        upto = (iw.as_of < iw.end_day).ifelse(iw.as_of, iw.end_day)
        iw = iw.mutate(due=((upto - iw.start_day + 1) * iw.quantity) // days)
        d = self.raw["deliveries"].select("item_id", "day", "revoked_day")
        dw = d.join(w, [d.day <= w.as_of]).filter(_.revoked_day.isnull() | (_.revoked_day > _.as_of))
        done = dw.group_by(["wid", "item_id"]).aggregate(delivered=_.item_id.count())
        iw = _attach(iw, done, ["wid", "item_id"], {"delivered": 0})
        per = iw.group_by(["wid", "contract_id"]).aggregate(behind=_flag(iw.delivered < iw.due).max())
        out = _attach(inforce, per, ["wid", "contract_id"], {"behind": 0})
        out = out.mutate(on_schedule=_flag(out.behind == 0))
        out = out.select("wid", "contract_id", "resident_id", "team_id", "doctor_id", "on_schedule")
        return out.join(self._resident_units(), "resident_id")

    @cached_property
    def surveys(self) -> ibis.Table:
        """Satisfaction surveys dated in each range window; satisfied = overall score at or above the
        family-doctor rule set's ``satisfied_min_score``."""
        s, w = self.raw["surveys"], self.ranges
        j = s.cross_join(w).filter(s.day >= w.start, s.day <= w.as_of)
        threshold = int(self.ctx.family_doctor.value("satisfied_min_score"))
        j = j.mutate(satisfied=_flag(j.overall_score >= threshold))
        c = self.raw["contracts"].select("contract_id", "resident_id", "team_id", "doctor_id")
        j = j.join(c, "contract_id").select("wid", "survey_id", "contract_id", "resident_id", "team_id", "doctor_id",
                                            "satisfied")
        return j.join(self._resident_units(), "resident_id")

    # -- workforce --------------------------------------------------------------------------------------

    @cached_property
    def staff(self) -> ibis.Table:
        """Active general practitioners (rule-set categories) per institution, for every as-of window."""
        s = self.raw["staff"]
        cats = [str(c) for c in self.ctx.indicators.value("gp_categories")]
        s = s.filter(s.active, s.category.isin(cats))
        s = s.join(self.org_inst.select("institution_id", "station_id", "centre_id", "district_id",
                                        street_id=_.inst_street_id), "institution_id")
        return s.cross_join(self.asof.select("wid")).select(
            "wid", "staff_id", "station_id", "centre_id", "street_id", "district_id"
        )


# ---------------------------------------------------------------------------------------------
# Fingerprints (incremental runs)
# ---------------------------------------------------------------------------------------------


def fingerprint_query(name: str, table: ibis.Table) -> ibis.Table:
    """Per relevance day: row count and id-weighted sums of every column of raw table ``name``.

    A change detector, not a cryptographic hash: any insert, delete or edit of a column the
    indicators read changes at least one of the sums of the days on or after the row's relevance day.
    """
    spec = RAW[name]
    id_col = next(iter(spec.schema))
    weight = (table[id_col] % 997) + 1
    aggs: dict[str, ibis.Value] = {"n": table[id_col].count(), "ids": table[id_col].sum()}
    for col, dtype in spec.schema.items():
        value = table[col]
        if dtype == "string":
            value = value.length()
        elif dtype == "boolean":
            value = _flag(value)
        elif dtype == "float64":
            value = (value * 10).round().cast("int64")
        aggs[f"s_{col}"] = (value.fill_null(-7) * weight).sum()
    rel = table[spec.relevance].fill_null(-1_000_000) if spec.relevance else ibis.literal(-1_000_000)
    return table.mutate(_rel=rel).group_by("_rel").aggregate(**aggs)

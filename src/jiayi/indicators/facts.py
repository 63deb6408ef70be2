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
   ``programme_period`` (patients under management of each registered follow-up programme per window:
   managed, standardised, controlled, medication plan), ``contract_expiry``, ``contract_fulfilment``,
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
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cached_property
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from jiayi.core import rulesets
from jiayi.core.rulesets import RuleSet
from jiayi.indicators import periods as P
from jiayi.indicators.backends import Backend, DjangoDB, arrow_schema

__all__ = [
    "KEY_POPULATION_CODES",
    "ORG_COLUMNS",
    "RAW",
    "Facts",
    "FollowUpFacts",
    "OrgDims",
    "RawSpec",
    "RuleContext",
    "Windows",
    "available_raw",
    "load_org",
    "raw_from_django",
    "register_programme",
    "rule_context",
    "rule_programmes",
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
#: Key populations defined by age on the evaluation day (residents.rules), never read from tags.
AGE_GROUPS: tuple[str, ...] = ("elderly", "child")
#: Stands for "no limit" where a rule-set parameter is None (e.g. standardised_max_gap_days).
NO_LIMIT = 1_000_000
#: Key populations read from the residents app's tags.
TAG_CODES: tuple[str, ...] = tuple(c for c in KEY_POPULATION_CODES if c not in AGE_GROUPS)

# ---------------------------------------------------------------------------------------------
# Follow-up programmes: what a programme declares to the fact tables
# ---------------------------------------------------------------------------------------------

#: Parameter ``key`` of the rule set a visit is managed under, as an ibis value (see Facts._disease_param).
ParamOf = Callable[[str], ibis.Value]


@dataclass(frozen=True)
class FollowUpFacts:
    """A follow-up programme as the fact tables count it (registered from the programme's
    ``indicators.py`` with :func:`register_programme`).

    ``code`` is the programme of its enrolments and visits and the rule domain of its rule sets;
    ``prefix`` names its person flags (``{prefix}_registered``: diagnosis group on the problem list,
    ``{prefix}_managed``, ``{prefix}_open``); ``diagnosis_group`` is a group of residents.diagnoses.
    ``visit_types`` are the visit types that count (standardised management, control) and
    ``face_to_face_modes`` the visit modes that are face to face (the programme engine's
    ``standardised_face_to_face_only``).
    The control measure: ``measured(visits)`` says a visit row measured it (columns of the raw
    ``visits`` table plus ``age`` on the visit day), ``at_target(visits, param)`` whether it was at
    target, reading parameters of the visit's rule set through ``param(key)``; ``control_params``
    lists those parameters.
    """

    code: str
    prefix: str
    diagnosis_group: str
    visit_types: tuple[str, ...]
    face_to_face_modes: tuple[str, ...]
    measured: Callable[[ibis.Table], ibis.Value]
    at_target: Callable[[ibis.Table, ParamOf], ibis.Value]
    control_params: tuple[str, ...] = ()
    order: int = 100


_PROGRAMMES: dict[str, FollowUpFacts] = {}


def register_programme(spec: FollowUpFacts) -> FollowUpFacts:
    """Register (or replace) the fact declaration of a follow-up programme."""
    clash = [p.code for p in _PROGRAMMES.values() if p.prefix == spec.prefix and p.code != spec.code]
    if clash:
        raise ValueError(f"flag prefix {spec.prefix!r} of {spec.code!r} is already used by {clash[0]!r}")
    _PROGRAMMES[spec.code] = spec
    return spec


def unregister_programme(code: str) -> None:
    _PROGRAMMES.pop(code, None)


def follow_up_programmes() -> tuple[FollowUpFacts, ...]:
    """The registered follow-up programmes, in order."""
    from jiayi.indicators.catalogue import discover

    discover()
    return tuple(sorted(_PROGRAMMES.values(), key=lambda p: (p.order, p.code)))


def chronic_programmes() -> tuple[str, ...]:
    """The codes of the registered follow-up programmes (their enrolments are the programme facts)."""
    return tuple(p.code for p in follow_up_programmes())


# ---------------------------------------------------------------------------------------------
# Rule context: which rule sets a run uses
# ---------------------------------------------------------------------------------------------


def rule_programmes() -> tuple[str, ...]:
    """The rule domains (rule-set programmes) a run of the engine applies, one rule set each: the
    indicator definitions, the registered follow-up programmes, the programme engine (management
    denominator, period scaling) and the family-doctor contracts."""
    return ("indicators", *chronic_programmes(), "programme-engine", "family-doctor")


@dataclass(frozen=True)
class RuleContext(Mapping):
    """The rule sets one run of the engine applies, as a mapping rule domain -> RuleSet
    (``rule_programmes()``): the shared domains are fields (``indicators``, ``engine`` for the
    programme engine, ``family_doctor``), the follow-up programmes' rule sets are in ``programmes``
    (programme code -> RuleSet, filled from the registered programmes)."""

    indicators: RuleSet
    engine: RuleSet  # programme-engine: management denominator, period scaling
    family_doctor: RuleSet
    programmes: Mapping[str, RuleSet] = field(default_factory=dict)

    def _domains(self) -> dict[str, RuleSet]:
        return {"indicators": self.indicators, **self.programmes, "programme-engine": self.engine,
                "family-doctor": self.family_doctor}

    def __getitem__(self, programme: str) -> RuleSet:
        return self._domains()[programme]

    def __iter__(self):
        return iter(self._domains())

    def __len__(self) -> int:
        return len(self.programmes) + 3

    def disease(self, programme: str) -> RuleSet:
        """The rule set of follow-up programme ``programme``; KeyError for anything else."""
        try:
            return self.programmes[programme]
        except KeyError:
            raise KeyError(f"the run applies no rule set of programme {programme!r}") from None

    def labels(self) -> dict[str, str]:
        return {rs.programme: rs.code for rs in self.all()}

    def all(self) -> tuple[RuleSet, ...]:
        return tuple(self._domains().values())

    def signature(self) -> str:
        """A digest of every parameter value in force (a change recomputes every period)."""
        payload = {
            rs.label: {k: repr(p.value) for k, p in sorted(rs.params.items())} for rs in self.all()
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _import_rule_modules() -> None:
    # Importing a rules module registers its rule sets; the programme engine's are registered by its app,
    # a programme's by its indicators module.
    import jiayi.contracts.rules
    import jiayi.indicators.rules  # noqa: F401

    follow_up_programmes()


def rule_context(on: date | None = None, choices: Mapping[str, str] | None = None) -> RuleContext:
    """The rule sets in force on ``on`` (default today), with explicit ``choices`` {programme: code}
    overriding the default (e.g. ``{"programme-engine": "nbphs-2017-estimated"}``); the setting
    ``JIAYI["INDICATOR_RULESETS"]`` chooses them for every run (``choices`` win)."""
    from django.conf import settings

    _import_rule_modules()
    on = on or date.today()
    wanted = {**settings.JIAYI.get("INDICATOR_RULESETS", {}), **(choices or {})}

    def pick(programme: str) -> RuleSet:
        code = wanted.get(programme)
        return rulesets.get(programme, code) if code else rulesets.default_for(programme, on)

    return RuleContext(
        indicators=pick("indicators"), engine=pick("programme-engine"), family_doctor=pick("family-doctor"),
        programmes={programme: pick(programme) for programme in chronic_programmes()},
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


#: A relevance day: a column of the raw table or an expression over it.
Relevance = str | Callable[[ibis.Table], ibis.Value]


@dataclass(frozen=True)
class RawSpec:
    """One raw projection: its columns, the models it reads and its fingerprint relevance.

    ``relevance`` names the column holding the first day the row can influence a value (rows dated
    after a window's as-of day cannot change it); None means every window. ``later`` lists columns
    that can only change values from a later day — (relevance day, columns) pairs, a null day meaning
    no window: a member of staff's leaving date matters from that date, so setting it leaves the
    periods before it alone. Those columns are digested at their own day only.

    ``keys`` (change capture, :mod:`jiayi.indicators.store`): source model -> the projected columns that
    hold that model's row ids, so that a captured change of such a row re-reads the projected rows that
    name it. The first model defaults to the row id column; a source model without keys re-reads the
    whole projection when any of its rows changes.
    """

    name: str
    models: tuple[str, ...]
    schema: Mapping[str, str]
    project: Callable[[TableGetter], ibis.Table]
    relevance: Relevance | None = None
    later: tuple[tuple[Relevance, tuple[str, ...]], ...] = ()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def id_column(self) -> str:
        """The row id: the first column of the schema."""
        return next(iter(self.schema))

    def build(self, table: TableGetter) -> ibis.Table:
        expr = self.project(table)
        return expr.select(*[expr[c].cast(t).name(c) for c, t in self.schema.items()])


def _residents(t: TableGetter) -> ibis.Table:
    r = t("residents.Resident")
    return r.select(
        resident_id=r.id, sex=r.sex, birth_day=_day(r.birth_date), birth_y=r.birth_date.year(),
        birth_md=r.birth_date.month() * 100 + r.birth_date.day(), death_day=_day(r.death_date),
        status=r.residence_status, institution_id=r.institution_id, area_id=r.area_id, is_deleted=r.is_deleted,
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
    return p.filter((p.kind == "disease") & p.removed_at.isnull()).select(  # removed: entered in error
        problem_id=p.id, resident_id=p.resident_id, icd10=p.icd10.upper(), diagnosed_day=_day(p.diagnosed_on),
        resolved_day=_day(p.resolved_on),
    )


def _tags(t: TableGetter) -> ibis.Table:
    k = t("residents.KeyPopulationTag")
    return k.select(tag_id=k.id, resident_id=k.resident_id, code=k.code, since_day=_day(k.since))


def _staff(t: TableGetter) -> ibis.Table:
    s = t("org.Staff")
    return s.select(
        staff_id=s.id, institution_id=s.institution_id, category=s.category, active=s.active,
        from_day=_day(s.employed_from), until_day=_day(s.employed_until),
    )


def staff_leaves(s: ibis.Table) -> ibis.Value:
    """The day a member of staff stops being in post (null: still in post): the leaving date, else —
    for staff no longer in post (``active`` false) whose leaving date was never recorded — the hiring
    day (or long before), so that they count in no period, since when they left is unknown."""
    unknown = (~s.active).ifelse(s.from_day.fill_null(-NO_LIMIT), ibis.null("int64"))
    return s.until_day.isnull().ifelse(unknown, s.until_day)


def _contracts(t: TableGetter) -> ibis.Table:
    c, prev = t("contracts.Contract"), t("contracts.Contract")
    prev = prev.select(prev_id=prev.id, prev_end=prev.end_date)
    j = c.left_join(prev, c.renewal_of_id == prev.prev_id)
    signed = _local_day(j.signed_at)
    first = _least(signed, _day(j.start_date))
    # A renewal changes its predecessor's renewal status: it is relevant from the predecessor's end.
    prev_end = _day(j.prev_end)
    return j.select(
        contract_id=j.id, resident_id=j.resident_id, team_id=j.team_id, doctor_id=j.doctor_id, status=j.status,
        start_day=_day(j.start_date), end_day=_day(j.end_date), terminated_day=_day(j.terminated_on),
        renewal_of_id=j.renewal_of_id, signed_day=signed,
        rel_day=prev_end.isnull().ifelse(first, _least(first, prev_end)),
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
        enrolment_id=e.id, resident_id=e.resident_id, programme=e.programme, ruleset=e.ruleset,
        start_day=_day(e.start_date), end_day=_day(e.end_date), team_id=e.team_id, doctor_id=e.doctor_id,
    )


def _visits(t: TableGetter) -> ibis.Table:
    v = t("programmes.Visit")
    return v.select(
        visit_id=v.id, resident_id=v.resident_id, enrolment_id=v.enrolment_id, programme=v.programme,
        ruleset=v.ruleset, day=_day(v.visit_date), y=v.visit_date.year(),
        md=v.visit_date.month() * 100 + v.visit_date.day(), visit_type=v.visit_type, mode=v.mode, sbp=v.sbp,
        dbp=v.dbp, fasting_glucose=v.fasting_glucose, is_deleted=v.is_deleted,
    )


def _medication_plans(t: TableGetter) -> ibis.Table:
    m = t("programmes.MedicationPlan")
    return m.select(
        plan_id=m.id, resident_id=m.resident_id, enrolment_id=m.enrolment_id, programme=m.programme,
        start_day=_day(m.start_date), status=m.status,
    )


I, S, B, F = "int64", "string", "boolean", "float64"  # noqa: E741 - column types, read as a table

RAW: dict[str, RawSpec] = {
    spec.name: spec
    for spec in (
        RawSpec("residents", ("residents.Resident",), {
            "resident_id": I, "sex": S, "birth_day": I, "birth_y": I, "birth_md": I, "death_day": I, "status": S,
            "institution_id": I, "area_id": I, "is_deleted": B,
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
        RawSpec("tags", ("residents.KeyPopulationTag",), {
            "tag_id": I, "resident_id": I, "code": S, "since_day": I,
        }, _tags, "since_day"),
        RawSpec("staff", ("org.Staff",), {
            "staff_id": I, "institution_id": I, "category": S, "active": B, "from_day": I, "until_day": I,
        }, _staff, "from_day", later=((staff_leaves, ("until_day", "active")),)),
        RawSpec("contracts", ("contracts.Contract",), {
            "contract_id": I, "resident_id": I, "team_id": I, "doctor_id": I, "status": S, "start_day": I,
            "end_day": I, "terminated_day": I, "renewal_of_id": I, "signed_day": I, "rel_day": I,
        }, _contracts, "rel_day", keys={"contracts.Contract": ("contract_id", "renewal_of_id")}),
        RawSpec("contract_packages", ("contracts.ContractPackage", "contracts.ServicePackage"), {
            "contract_package_id": I, "contract_id": I, "kind": S, "rel_day": I,
        }, _contract_packages, "rel_day", keys={"contracts.Contract": ("contract_id",)}),
        RawSpec("contract_items", ("contracts.ContractItem",), {
            "item_id": I, "contract_id": I, "quantity": I, "rel_day": I,
        }, _contract_items, "rel_day", keys={"contracts.Contract": ("contract_id",)}),
        RawSpec("deliveries", ("contracts.ServiceDelivery",), {
            "delivery_id": I, "contract_id": I, "item_id": I, "resident_id": I, "service_code": S, "day": I,
            "revoked_day": I,
        }, _deliveries, "day"),
        RawSpec("surveys", ("contracts.SatisfactionSurvey",), {
            "survey_id": I, "contract_id": I, "day": I, "overall_score": I,
        }, _surveys, "day"),
        RawSpec("enrolments", ("programmes.Enrolment",), {
            "enrolment_id": I, "resident_id": I, "programme": S, "ruleset": S, "start_day": I, "end_day": I,
            "team_id": I, "doctor_id": I,
        }, _enrolments, "start_day"),
        RawSpec("visits", ("programmes.Visit",), {
            "visit_id": I, "resident_id": I, "enrolment_id": I, "programme": S, "ruleset": S, "day": I, "y": I,
            "md": I, "visit_type": S, "mode": S, "sbp": I, "dbp": I, "fasting_glucose": F, "is_deleted": B,
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
    from jiayi.org.models import PRIMARY_CARE_CENTRE_TYPES, PRIMARY_CARE_POINT_TYPES, AreaLevel, InstitutionType

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
    district_of = dict(
        zip(inst_table["institution_id"].to_pylist(), inst_table["district_id"].to_pylist(), strict=True)
    )
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

@dataclass(frozen=True)
class AsOfWindow:
    """One as-of window as day numbers (the SQL compares integers only)."""

    wid: int
    as_of: int
    year: int
    year_start: int
    year_days: int
    use_from: int
    elderly_cut: int
    child_cut: int
    adult_cut: int


@dataclass(frozen=True)
class RangeWindow:
    wid: int
    start: int
    as_of: int


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

    def asof_rows(self, ctx: RuleContext) -> list[AsOfWindow]:
        from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE

        months = int(ctx.indicators.value("record_use_window_months"))
        adult_age = int(ctx.engine.value("estimated_min_age"))
        out = []
        for i, d in enumerate(self.as_of, start=1):
            year_start = date(d.year, 1, 1)
            out.append(AsOfWindow(
                wid=i, as_of=P.day_number(d), year=d.year, year_start=P.day_number(year_start),
                year_days=(date(d.year + 1, 1, 1) - year_start).days,
                use_from=P.day_number(P.add_months(d, -months)) + 1,
                elderly_cut=P.day_number(P.birth_cutoff(d, ELDERLY_MIN_AGE)),
                child_cut=P.day_number(P.birth_cutoff(d, CHILD_MAX_AGE + 1)),
                adult_cut=P.day_number(P.birth_cutoff(d, adult_age)),
            ))
        return out

    def asof_table(self, ctx: RuleContext) -> pa.Table:
        rows = self.asof_rows(ctx)
        names = [f.name for f in fields(AsOfWindow)]
        cols = {name: [getattr(r, name) for r in rows] for name in names}
        return pa.table(cols, schema=pa.schema([(k, pa.int64()) for k in names]))

    def range_rows(self) -> list[RangeWindow]:
        return [
            RangeWindow(i, P.day_number(s), P.day_number(e)) for i, (s, e) in enumerate(self.ranges, start=1)
        ]

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



# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------

#: The 0/1 flags of a person in a window that every run has (person_period columns); the follow-up
#: programmes add theirs (:func:`person_flags`).
SHARED_PERSON_FLAGS: tuple[str, ...] = (
    "has_record", "electronic", "record_open", "record_used", "elderly", "child", "adult", "signed",
    "personalised",
)


def programme_flags(prefix: str) -> tuple[str, ...]:
    """The person flags of the follow-up programme with flag prefix ``prefix``."""
    return (f"{prefix}_registered", f"{prefix}_managed", f"{prefix}_open")


def person_flags() -> tuple[str, ...]:
    """The 0/1 flags of a person in a window (person_period columns; bits of person_summary.bits)."""
    return (
        *SHARED_PERSON_FLAGS, *(f for p in follow_up_programmes() for f in programme_flags(p.prefix)),
        "elderly_managed", "kp_any", *(f"kp_{c}" for c in TAG_CODES),
    )


class PersonFlags:
    """Attribute access to the person flags, whether they are columns or packed bits."""

    def __init__(self, t: ibis.Table, *, packed: bool) -> None:
        self._t = t
        self._packed = packed
        self._flags = person_flags() if packed else ()

    def __getattr__(self, name: str) -> ibis.Value:
        if name in ("kp_elderly", "kp_child"):
            name = name[3:]
        if not self._packed:
            return self._t[name]
        k = self._flags.index(name)
        return (self._t.bits // (1 << k)) % 2

    def __getitem__(self, name: str) -> ibis.Value:
        return self.__getattr__(name)



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


class _Restricted(Mapping):
    """The raw tables limited to some residents, each materialised when an indicator first reads it:
    tables with ``resident_id`` directly, tables keyed by contract through the residents' contracts."""

    def __init__(self, backend: Backend, tables: Mapping[str, ibis.Table], restrict: ibis.Table) -> None:
        self._backend = backend
        self._tables = dict(tables)
        self._keep = restrict.select("resident_id").distinct()
        self._done: dict[str, ibis.Table] = {}

    def __getitem__(self, name: str) -> ibis.Table:
        if name not in self._done:
            t = self._tables[name]
            if "resident_id" in t.columns:
                t = self._backend.cache(t.semi_join(self._keep, "resident_id"))
            elif "contract_id" in t.columns:
                t = self._backend.cache(t.semi_join(self["contracts"].select("contract_id"), "contract_id"))
            self._done[name] = t
        return self._done[name]

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


class Facts:
    """The fact tables of one run, on one backend, for one set of windows.

    ``raw`` maps raw names to ibis tables on the backend; a raw table whose model does not exist is
    replaced by an empty table (its indicators are reported blocked). ``restrict`` (a table with
    ``resident_id``) limits everything to those residents and switches the builders to one row per
    subject (line lists); otherwise person-based indicators read ``person_summary``, the person-period
    table already counted per combination of units and flags.

    Per-window facts of a resident (contract in force, dynamic record, diagnosis, elderly health
    management) are computed as one column per window on a per-resident table ("pivot"), which reads
    each source row once however many windows there are, and are unpivoted onto the person-period rows
    with a CASE on the window id.
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
        self.programmes = follow_up_programmes()
        self.detail = restrict is not None
        self.missing = sorted(set(RAW) - set(raw))
        tables = dict(raw)
        for name in self.missing:
            tables[name] = backend.load(f"empty_{name}", empty_raw(name))
        self.raw: Mapping[str, ibis.Table] = tables if restrict is None else _Restricted(backend, tables, restrict)
        self.org_inst = backend.load("org_inst", org.institutions)
        self.org_area = backend.load("org_area", org.areas)
        self.asof_rows = windows.asof_rows(ctx)
        self.range_rows = windows.range_rows()
        self.asof = backend.load("asof", windows.asof_table(ctx))
        self.years = backend.load("years", windows.years_table())

    def _cache(self, expr: ibis.Table) -> ibis.Table:
        return self.backend.cache(expr)

    def _alive(self, t: ibis.Table, as_of: ibis.Value | int) -> ibis.Value:
        """In the resident population (常住: registered or not) on ``as_of``: a resident who died later
        still counts; moved-out and deleted residents never do (RESIDENT_POPULATION_STATUSES)."""
        from jiayi.residents.models import RESIDENT_POPULATION_STATUSES, ResidenceStatus

        statuses = [str(s) for s in RESIDENT_POPULATION_STATUSES]
        died_later = (t.status == str(ResidenceStatus.DECEASED)) & t.death_day.notnull() & (t.death_day > as_of)
        return ~t.is_deleted & (t.status.isin(statuses) | died_later) & (t.birth_day <= as_of)

    def _units(self, t: ibis.Table) -> ibis.Table:
        """``t`` (with institution_id and area_id) plus the station, centre, district and street."""
        t = _attach(t, self.org_inst.select("institution_id", "station_id", "centre_id", "district_id"),
                    ["institution_id"])
        return _attach(t, self.org_area.select("area_id", "street_id"), ["area_id"])

    def _pivot(self, t: ibis.Table, name: str, flag: Callable[[ibis.Table, AsOfWindow], ibis.Value],
               key: str = "resident_id") -> ibis.Table:
        """Per ``key``: column ``{name}_{wid}`` = 1 when any row of ``t`` satisfies ``flag`` in that window."""
        aggs = {f"{name}_{w.wid}": _flag(flag(t, w)).max() for w in self.asof_rows}
        return t.group_by(key).aggregate(**aggs)

    def _unpivot(self, t: ibis.Table, name: str, default: Any = 0) -> ibis.Value:
        return ibis.cases(*[(t.wid == w.wid, t[f"{name}_{w.wid}"]) for w in self.asof_rows], else_=default)

    # -- residents and their org attribution --------------------------------------------------

    @cached_property
    def population(self) -> ibis.Table:
        """Residents in the resident population (常住居民) on each as-of day, with their units and age
        groups (elderly >= 65, children 0-6: residents.rules; adults: the estimated-prevalence age)."""
        r, w = self.raw["residents"], self.asof
        pop = r.cross_join(w).filter(self._alive(r, w.as_of))
        pop = pop.select(
            "wid", "as_of", "resident_id", "sex", "institution_id", "area_id",
            elderly=_flag(pop.birth_day <= pop.elderly_cut),
            child=_flag(pop.birth_day > pop.child_cut),
            adult=_flag(pop.birth_day <= pop.adult_cut),
        )
        return self._units(pop)

    @cached_property
    def contracts_in_force(self) -> ibis.Table:
        """Per resident and window: the contract in force on the as-of day (Contract.objects.active_on:
        from the dates, not the stored status), the latest if several."""
        c = self.raw["contracts"]
        aggs = {
            f"contract_{w.wid}": ((c.start_day <= w.as_of) & (c.end_day >= w.as_of)
                                  & (c.terminated_day.isnull() | (c.terminated_day > w.as_of)))
            .ifelse(c.contract_id, ibis.null("int64")).max()
            for w in self.asof_rows
        }
        return c.group_by("resident_id").aggregate(**aggs)

    @cached_property
    def contract_details(self) -> ibis.Table:
        """Team, doctor and whether a contract has a personalised package (rule-set package kinds)."""
        c = self.raw["contracts"].select("contract_id", "team_id", "doctor_id")
        kinds = [str(k) for k in self.ctx.indicators.value("personalised_package_kinds")]
        cp = self.raw["contract_packages"]
        personal = cp.filter(cp.kind.isin(kinds)).select("contract_id").distinct().mutate(personalised=1)
        return _attach(c, personal, ["contract_id"], {"personalised": 0})

    @cached_property
    def tag_since(self) -> ibis.Table:
        """Per resident and key-population tag (residents.KeyPopulationTag, kept by the residents app
        from the record): the day it was recorded. The age groups are not read from tags: they follow
        from the birth date on the as-of day."""
        t = self.raw["tags"]
        t = t.filter(~t.code.isin(list(AGE_GROUPS)))
        since = t.since_day.fill_null(-NO_LIMIT)
        return t.group_by("resident_id").aggregate(**{
            f"since_{code}": (t.code == code).ifelse(since, ibis.null("int64")).min() for code in TAG_CODES
        })

    @cached_property
    def diagnoses(self) -> ibis.Table:
        """The diagnosis group of each follow-up programme on the problem list on each as-of day
        (ICD-10 prefixes of residents.diagnoses): the registered patients of the management rate."""
        from jiayi.residents import diagnoses

        p = self.raw["problems"]
        if not self.programmes:
            return p.filter(ibis.literal(False)).select("resident_id").distinct()
        p = p.mutate(**{
            f"is_{g.prefix}": ibis.or_(*[p.icd10.startswith(pre) for pre in diagnoses.get(g.diagnosis_group).prefixes])
            for g in self.programmes
        })
        p = p.filter(ibis.or_(*[p[f"is_{g.prefix}"] for g in self.programmes]))

        def on_record(t: ibis.Table, w: AsOfWindow) -> ibis.Value:
            return (t.diagnosed_day.isnull() | (t.diagnosed_day <= w.as_of)) & (
                t.resolved_day.isnull() | (t.resolved_day > w.as_of)
            )

        aggs = {}
        for g in self.programmes:
            for w in self.asof_rows:
                aggs[f"dx_{g.prefix}_{w.wid}"] = _flag(p[f"is_{g.prefix}"] & on_record(p, w)).max()
        return p.group_by("resident_id").aggregate(**aggs)

    @cached_property
    def record_use(self) -> ibis.Table:
        """Per resident and window: evidence of a 'dynamic record' (rule-set sources) in the lookback
        window [as-of - record_use_window_months, as-of]."""
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
            parts.append(self.raw["measurements"].select("resident_id", "day").filter(_.day < -NO_LIMIT))
        lo = min(w.use_from for w in self.asof_rows)
        act = ibis.union(*parts).filter(_.day >= lo, _.day <= self.today_day)
        # One row per resident and day first: the pivot then compares each distinct day once.
        act = act.distinct()
        return self._pivot(act, "used", lambda t, w: (t.day >= w.use_from) & (t.day <= w.as_of))

    @cached_property
    def elderly_managed(self) -> ibis.Table:
        """Per resident and window: elderly health management (rule-set evidence) in the assessment year."""
        evidence = set(self.ctx.indicators.value("elderly_management_evidence"))
        parts = []
        if "health_check" in evidence:
            m = self.raw["measurements"]
            parts.append(m.filter(m.source == "health_check").select("resident_id", "day"))
        if "elderly_check" in evidence:
            d = self.raw["deliveries"]
            checks = d.filter(d.service_code == "elderly_check", d.revoked_day.isnull())
            parts.append(checks.select("resident_id", "day"))
        if "elderly_programme" in evidence:
            v = self.raw["visits"]
            parts.append(v.filter(v.programme == "elderly", ~v.is_deleted).select("resident_id", "day"))
        if not parts:
            parts.append(self.raw["measurements"].select("resident_id", "day").filter(_.day < -NO_LIMIT))
        ev = ibis.union(*parts).distinct()
        return self._pivot(ev, "em", lambda t, w: (t.day >= w.year_start) & (t.day <= w.as_of))

    @cached_property
    def resident_facts(self) -> ibis.Table:
        """One row per resident: the health record and every per-window pivot."""
        r = self.raw["residents"].filter(~_.is_deleted).select("resident_id")
        rec = self.raw["records"].select(
            "resident_id", "established_day", electronic_flag=_flag(_.electronic),
            open_flag=_flag(_.open_to_resident), closed=_flag(_.status == "closed"),
        )
        r = _attach(r, rec, ["resident_id"])
        for part in (self.contracts_in_force, self.tag_since, self.diagnoses, self.record_use, self.elderly_managed,
                     self.programme_flags):
            r = _attach(r, part, ["resident_id"])
        return self._cache(r)

    @cached_property
    def programme_flags(self) -> ibis.Table:
        """Per resident and window: managed in the year / still enrolled on the as-of day, per programme."""
        g = self.programme_period
        if not self.programmes:
            return g.select("resident_id").distinct()
        aggs = {}
        for w in self.asof_rows:
            here = g.wid == w.wid
            for spec in self.programmes:
                mine = here & (g.programme == spec.code)
                aggs[f"{spec.prefix}_managed_{w.wid}"] = _flag(mine).max()
                aggs[f"{spec.prefix}_open_{w.wid}"] = _flag(mine & (g.open == 1)).max()
        return g.group_by("resident_id").aggregate(**aggs)

    # -- chronic-disease programmes (definitions of programmes.rules and the programme rule sets) -----

    def _disease_param(self, col: ibis.Value, programme: str, key: str, none_as: int | None = None) -> ibis.Value:
        """Parameter ``key`` of the disease rule set named in ``col`` (every enrolment and visit records
        the rule set it is managed under); unknown codes fall back to the run's rule set."""

        def lit(value: Any) -> ibis.Value:
            if value is None:
                value = none_as
            if isinstance(value, bool):
                value = int(value)
            return ibis.literal(value)

        cases = [
            (col == rs.code, lit(rs.value(key)))
            for rs in rulesets.for_programme(programme)
            if key in rs.params
        ]
        default = lit(self.ctx.disease(programme).value(key))
        return ibis.cases(*cases, else_=default) if cases else default

    def _by_programme(self, t: ibis.Table, key: str, none_as: int | None = None) -> ibis.Value:
        """Parameter ``key`` of the rule set of each row's programme (``t`` has programme and ruleset)."""
        cases = [(t.programme == g.code, self._disease_param(t.ruleset, g.code, key, none_as)) for g in self.programmes]
        return ibis.cases(*cases, else_=ibis.null("int64")) if cases else ibis.null("int64")

    @cached_property
    def chronic_enrolments(self) -> ibis.Table:
        """Enrolments of the follow-up programmes with their rule set's standardised-management parameters:
        ``standardised_min_visits``, ``standardised_max_gap_days`` (None = no limit) and
        ``standardised_year_edges``."""
        e = self.raw["enrolments"]
        e = e.filter(e.programme.isin([g.code for g in self.programmes]))
        return self._cache(e.mutate(
            std_min=self._by_programme(e, "standardised_min_visits").cast("int64"),
            std_gap=self._by_programme(e, "standardised_max_gap_days", none_as=NO_LIMIT).cast("int64"),
            std_edges=self._by_programme(e, "standardised_year_edges").cast("int64"),
        ))

    def _follow_ups(self) -> ibis.Table:
        """The visits of each programme's counted visit types (FollowUpFacts.visit_types) up to today."""
        v = self.raw["visits"]
        counted = ibis.or_(
            *[(v.programme == g.code) & v.visit_type.isin(list(g.visit_types)) for g in self.programmes],
            ibis.literal(False),
        )
        return v.filter(~v.is_deleted, counted, v.day <= self.today_day)

    @cached_property
    def visit_gaps(self) -> ibis.Table:
        """The visits that count for standardised management (face to face when the programme engine's
        ``standardised_face_to_face_only``), per enrolment and calendar year, inside the enrolment, with
        the gap to the previous visit — or, for the first, to the period start max(1 January, enrolment
        start) when the rule set counts the year edges."""
        v = self._follow_ups()
        if self.ctx.engine.value("standardised_face_to_face_only"):
            v = v.filter(ibis.or_(
                *[(v.programme == g.code) & v.mode.isin(list(g.face_to_face_modes)) for g in self.programmes],
                ibis.literal(False),
            ))
        e = self.chronic_enrolments.select("enrolment_id", "start_day", "end_day", "std_edges")
        y = self.years
        j = v.select("enrolment_id", "day", "y").distinct().join(e, "enrolment_id").join(y, _.y == y.year)
        j = j.mutate(pstart=(j.start_day > j.y_start).ifelse(j.start_day, j.y_start))
        j = j.filter(j.day >= j.pstart, j.end_day.isnull() | (j.day <= j.end_day))
        prev = j.day.lag().over(ibis.window(group_by=[j.enrolment_id, j.y], order_by=j.day))
        j = j.mutate(prev=prev)
        first_gap = (j.std_edges == 1).ifelse(j.day - j.pstart, ibis.null("int64"))
        j = j.mutate(gap=j.prev.isnull().ifelse(first_gap, j.day - j.prev))
        return self._cache(j.select("enrolment_id", "y", "day", "gap"))

    @cached_property
    def measured_visits(self) -> ibis.Table:
        """Visits that measured the control value of their programme and whether it was at target under
        the visit's rule set (each programme declares both: FollowUpFacts.measured / at_target, with
        ``age`` on the visit day). ``key`` packs (day, id, at target) into one integer, so that max(key) is
        the latest visit."""
        r = self.raw["residents"].select("resident_id", "birth_y", "birth_md")
        v = self._follow_ups().join(r, "resident_id")
        v = v.mutate(age=v.y - v.birth_y - _flag(v.md < v.birth_md))
        if not self.programmes:
            return self._cache(v.select("enrolment_id", "day", key=v.visit_id).filter(ibis.literal(False)))
        mine = [(v.programme == g.code, g) for g in self.programmes]
        measured = ibis.cases(*[(is_g, g.measured(v)) for is_g, g in mine], else_=False)
        v = v.filter(measured)

        def param_of(programme: str) -> ParamOf:
            return lambda key: self._disease_param(v.ruleset, programme, key)

        at_target = _flag(ibis.cases(
            *[(v.programme == g.code, g.at_target(v, param_of(g.code))) for g in self.programmes], else_=False
        ))
        return self._cache(v.select(
            "enrolment_id", "day", key=(v.day * 10_000_000_000 + v.visit_id) * 2 + at_target,
        ))

    @cached_property
    def programme_period(self) -> ibis.Table:
        """Patients under management in each window's assessment year (RULES.md §1.2, programmes.rules).

        managed: a resident with an enrolment overlapping [1 January, as-of], once, under the latest
        enrolment (``managed_requires_visit`` also asks for a counted visit); their period is
        [max(1 January, enrolment start), min(as-of, enrolment end)].
        standardised: programmes.rules.standardised_in_period over that period — at least
        ``standardised_min_visits`` scaled by the period's share of the year (``period_min_visits_rounding``,
        at least 1) visits on distinct days, no gap longer than ``standardised_max_gap_days``.
        controlled: the latest visit of the period that measured the control value was at target.
        open: still enrolled on the as-of day; plan: an active medication plan of the enrolment.
        """
        e, w = self.chronic_enrolments, self.asof
        j = e.cross_join(w).filter(e.start_day <= w.as_of, e.end_day.isnull() | (e.end_day >= w.year_start))
        j = j.mutate(key=j.start_day * 10_000_000_000 + j.enrolment_id)
        g = j.group_by(["wid", "resident_id", "programme"]).aggregate(key=j.key.max())
        g = g.mutate(enrolment_id=g.key % 10_000_000_000).drop("key")
        g = g.join(e.select("enrolment_id", "start_day", "end_day", "team_id", "doctor_id", "std_min", "std_gap",
                            "std_edges"), "enrolment_id")
        g = g.join(w.select("wid", "as_of", "year", "year_start", "year_days"), "wid")
        g = g.mutate(
            pstart=(g.start_day > g.year_start).ifelse(g.start_day, g.year_start),
            pend=(g.end_day.notnull() & (g.end_day < g.as_of)).ifelse(g.end_day, g.as_of),
            open=_flag(g.end_day.isnull() | (g.end_day >= g.as_of)),
        )
        g = self._cache(g)

        vg = self.visit_gaps
        jv = vg.join(g.select("wid", "enrolment_id", "year", "pend"),
                     [vg.enrolment_id == g.enrolment_id, vg.y == g.year, vg.day <= g.pend])
        stats = jv.group_by(["wid", "enrolment_id"]).aggregate(
            n_days=jv.day.count(), max_gap=jv.gap.max(), last_day=jv.day.max()
        )
        g = _attach(g, stats, ["wid", "enrolment_id"], {"n_days": 0})
        if self.ctx.engine.value("managed_requires_visit"):
            g = g.filter(g.n_days > 0)

        mv = self.measured_visits
        jm = mv.join(g.select("wid", "enrolment_id", "pstart", "pend"),
                     [mv.enrolment_id == g.enrolment_id, mv.day >= g.pstart, mv.day <= g.pend])
        latest = jm.group_by(["wid", "enrolment_id"]).aggregate(key=jm.key.max())
        latest = latest.mutate(controlled=(latest.key % 2).cast("int64")).drop("key")
        g = _attach(g, latest, ["wid", "enrolment_id"], {"controlled": 0})

        mp = self.raw["medication_plans"]
        plans = mp.filter(mp.status == "active").select("enrolment_id", "start_day")
        jp = plans.join(g.select("wid", "enrolment_id", "as_of"),
                        [plans.enrolment_id == g.enrolment_id, plans.start_day <= g.as_of])
        jp = jp.select("wid", "enrolment_id").distinct().mutate(plan=ibis.literal(1).cast("int64"))
        g = _attach(g, jp, ["wid", "enrolment_id"], {"plan": 0})
        g = g.mutate(standardised=self._standardised(g))
        return self._cache(g.select(
            "wid", "resident_id", "programme", "enrolment_id", "team_id", "doctor_id", "open", "standardised",
            "controlled", "plan", managed=ibis.literal(1).cast("int64"),
        ))

    def _standardised(self, g: ibis.Table) -> ibis.Value:
        """programmes.rules.standardised_in_period in integer arithmetic (see programme_period)."""
        length = g.pend - g.pstart + 1
        if self.ctx.engine.value("period_min_visits_rounding") == "ceil":
            scaled = (g.std_min * length + g.year_days - 1) // g.year_days
        else:
            scaled = (g.std_min * length) // g.year_days
        required = (length >= g.year_days).ifelse(g.std_min, (scaled < 1).ifelse(1, scaled))
        end_gap = (g.std_edges == 1).ifelse(g.pend - g.last_day.fill_null(g.pstart), 0)
        inner = g.max_gap.fill_null(0)
        biggest = (end_gap > inner).ifelse(end_gap, inner)
        return _flag((g.n_days >= required) & (biggest <= g.std_gap))

    # -- the person-period table -------------------------------------------------------------------

    @cached_property
    def person_period(self) -> ibis.Table:
        """One row per resident of the resident population per as-of window, with the org attribution
        (doctor and team of the contract in force) and every flag the person-based indicators count."""
        pp = self.population.join(self.resident_facts, "resident_id")
        has_record = pp.established_day.notnull() & (pp.established_day <= pp.as_of) & (pp.closed == 0)
        flags = {
            "contract_id": self._unpivot(pp, "contract", ibis.null("int64")),
            "has_record": _flag(has_record),
            "electronic": _flag(has_record & (pp.electronic_flag == 1)),
            "record_open": _flag(has_record & (pp.electronic_flag == 1) & (pp.open_flag == 1)),
            "record_used": _flag(has_record & (self._unpivot(pp, "used") == 1)),
            **{f"{g.prefix}_registered": self._unpivot(pp, f"dx_{g.prefix}").fill_null(0) for g in self.programmes},
            "elderly_managed": self._unpivot(pp, "em").fill_null(0),
            **{f"{g.prefix}_{y}": self._unpivot(pp, f"{g.prefix}_{y}").fill_null(0)
               for g in self.programmes for y in ("managed", "open")},
            **{f"kp_{code}": _flag(pp[f"since_{code}"].notnull() & (pp[f"since_{code}"] <= pp.as_of))
               for code in TAG_CODES},
        }
        base = [c for c in self.population.columns if c not in ("as_of", "institution_id", "area_id", "sex")]
        pp = pp.select(*base, **flags)
        pp = pp.mutate(
            kp_any=_flag(ibis.or_(pp.elderly == 1, pp.child == 1, *[pp[f"kp_{c}"] == 1 for c in TAG_CODES])),
            record_used=pp.record_used.fill_null(0),
        )
        pp = _attach(pp, self.contract_details, ["contract_id"], {"personalised": 0})
        pp = pp.mutate(signed=_flag(pp.contract_id.notnull()))
        pp = pp.drop("contract_id")
        return self._cache(pp) if self.detail else pp

    @cached_property
    def person_summary(self) -> ibis.Table:
        """The person-period table counted per window, units and combination of flags (``n``): every
        person-based indicator sums it, so the big table is scanned once per run. The flags are packed
        into one integer (``bits``, see person_flags) to keep the grouping key narrow."""
        pp = self.person_period
        bits = sum((pp[name].cast("int64") * (1 << k) for k, name in enumerate(person_flags())), ibis.literal(0))
        pp = pp.mutate(bits=bits)
        keys = ["wid", *ORG_COLUMNS.values(), "bits"]
        return self._cache(pp.group_by(keys).aggregate(n=pp.resident_id.count()))

    def flags(self, t: ibis.Table) -> PersonFlags:
        """The person flags of ``t`` (a person_period or person_summary table) by name."""
        return PersonFlags(t, packed=not self.detail)

    @cached_property
    def programme_patients(self) -> ibis.Table:
        """``programme_period`` with the org units: the enrolment's responsible doctor and team (else
        those of the contract in force), the resident's managing institution, and whether the resident
        has a contract in force (not restricted to the resident population)."""
        prog = self.programme_period
        r = self.raw["residents"].filter(~_.is_deleted).select("resident_id", "institution_id", "area_id")
        prog = self._units(prog.join(r, "resident_id"))
        prog = prog.join(self.resident_facts.select("resident_id", *[f"contract_{w.wid}" for w in self.asof_rows]),
                         "resident_id")
        prog = prog.mutate(contract_id=self._unpivot(prog, "contract", ibis.null("int64")))
        prog = _attach(prog, self.contract_details.select("contract_id", c_team=_.team_id, c_doctor=_.doctor_id),
                       ["contract_id"])
        return self._cache(prog.select(
            "wid", "resident_id", "programme", "station_id", "centre_id", "street_id", "district_id",
            "open", "standardised", "controlled", "plan", "managed",
            signed=_flag(prog.contract_id.notnull()),
            team_id=prog.team_id.fill_null(prog.c_team), doctor_id=prog.doctor_id.fill_null(prog.c_doctor),
        ))

    # -- contracts (definitions of contracts.rules, RULES.md §6.2) -----------------------------------

    def _contract_units(self) -> ibis.Table:
        """Contracts with their resident's population facts (``status`` is the resident's) and units."""
        c = self.raw["contracts"].drop("status")
        r = self.raw["residents"].select("resident_id", "status", "death_day", "birth_day", "is_deleted",
                                         "institution_id", "area_id")
        return self._units(c.join(r, "resident_id"))

    def _per_range(self, t: ibis.Table, window: Callable[[ibis.Table, RangeWindow], tuple[ibis.Value, ibis.Value]],
                   subject: str) -> ibis.Table:
        """Long rows (wid, subject, units, num, den) from ``t``: for each range window, the rows where
        ``window`` gives (in denominator, in numerator), restricted to residents in the resident
        population on the window's as-of day."""
        parts = []
        for w in self.range_rows:
            den, num = window(t, w)
            part = t.filter(den & self._alive(t, w.as_of)).select(
                wid=ibis.literal(w.wid).cast("int64"), subject_id=t[subject], resident_id=t.resident_id,
                doctor_id=t.doctor_id, team_id=t.team_id, station_id=t.station_id, centre_id=t.centre_id,
                street_id=t.street_id, district_id=t.district_id, num=_flag(num), den=ibis.literal(1).cast("int64"),
            )
            parts.append(part)
        return ibis.union(*parts) if len(parts) > 1 else parts[0]

    @cached_property
    def contract_expiry(self) -> ibis.Table:
        """Contracts that expired in each range window (end day inside, not terminated on or before it)
        and whether they were renewed (a renewal that was not voided: terminated on or before its start)."""
        c = self._contract_units()
        raw = self.raw["contracts"]
        void = (raw.status == "terminated") & raw.terminated_day.notnull() & (raw.terminated_day <= raw.start_day)
        ren = raw.filter(raw.renewal_of_id.notnull(), ~void).select(contract_id=_.renewal_of_id).distinct()
        c = _attach(c, ren.mutate(renewed=ibis.literal(1).cast("int64")), ["contract_id"], {"renewed": 0})
        c = c.filter(c.terminated_day.isnull() | (c.terminated_day > c.end_day))
        return self._per_range(
            c, lambda t, w: ((t.end_day >= w.start) & (t.end_day <= w.as_of), t.renewed == 1), "contract_id"
        )

    @cached_property
    def contract_fulfilment(self) -> ibis.Table:
        """Contracts in service during each range window (start on or before its as-of day, end on or
        after its start, not terminated by the as-of day) and whether every item was on schedule on
        min(as-of, end): deliveries (not revoked) by the as-of day >= floor(elapsed x quantity / days)."""
        c = self.raw["contracts"]
        items = self.raw["contract_items"].select("item_id", "contract_id", "quantity")
        d = self.raw["deliveries"]
        d = d.filter(d.revoked_day.isnull())
        delivered = d.group_by("item_id").aggregate(**{
            f"done_{w.wid}": _flag(d.day <= w.as_of).sum() for w in self.range_rows
        })
        it = items.join(c.select("contract_id", "start_day", "end_day"), "contract_id")
        it = _attach(it, delivered, ["item_id"], {f"done_{w.wid}": 0 for w in self.range_rows})
        days = it.end_day - it.start_day + 1
        short = {}
        for w in self.range_rows:
            upto = (it.end_day > w.as_of).ifelse(w.as_of, it.end_day)
            due = ((upto - it.start_day + 1) * it.quantity) // days
            short[f"short_{w.wid}"] = _flag(it[f"done_{w.wid}"] < due).max()
        behind = it.group_by("contract_id").aggregate(**short)
        cu = _attach(self._contract_units(), behind, ["contract_id"], {f"short_{w.wid}": 0 for w in self.range_rows})
        cu = self._cache(cu)

        def window(t: ibis.Table, w: RangeWindow) -> tuple[ibis.Value, ibis.Value]:
            in_service = (t.start_day <= w.as_of) & (t.end_day >= w.start) & (
                t.terminated_day.isnull() | (t.terminated_day > w.as_of)
            )
            return in_service, t[f"short_{w.wid}"] == 0

        return self._per_range(cu, window, "contract_id")

    @cached_property
    def surveys(self) -> ibis.Table:
        """Satisfaction surveys dated in each range window; satisfied = overall score at or above the
        family-doctor rule set's ``satisfied_min_score``."""
        s = self.raw["surveys"]
        threshold = int(self.ctx.family_doctor.value("satisfied_min_score"))
        s = s.join(self._contract_units(), "contract_id")
        return self._per_range(
            s, lambda t, w: ((t.day >= w.start) & (t.day <= w.as_of), t.overall_score >= threshold), "survey_id"
        )

    # -- workforce --------------------------------------------------------------------------------------

    @cached_property
    def staff(self) -> ibis.Table:
        """General practitioners (rule-set categories) in post on each window's as-of day, per
        institution: hired on or before it (no hiring date: long before) and not left by it — a
        leaving date after it, or none and still in post (``active``). Staff no longer in post whose
        leaving date was not recorded count in no window (see :func:`staff_leaves`)."""
        s = self.raw["staff"]
        cats = [str(c) for c in self.ctx.indicators.value("gp_categories")]
        s = s.filter(s.category.isin(cats))
        s = s.select("staff_id", "institution_id", hired=s.from_day.fill_null(-NO_LIMIT), leaves=staff_leaves(s))
        s = s.join(self.org_inst.select("institution_id", "station_id", "centre_id", "district_id",
                                        street_id=_.inst_street_id), "institution_id")
        j = s.cross_join(self.asof.select("wid", "as_of"))
        j = j.filter(j.hired <= j.as_of, j.leaves.isnull() | (j.leaves > j.as_of))
        return j.select("wid", "staff_id", "station_id", "centre_id", "street_id", "district_id")


# ---------------------------------------------------------------------------------------------
# Fingerprints (incremental runs)
# ---------------------------------------------------------------------------------------------


def fingerprint_query(name: str, table: ibis.Table, *, native_hash: bool = False) -> ibis.Table:
    """Per relevance day: row count, sum of ids and an id-weighted checksum of every column of raw
    table ``name``.

    A change detector, not a cryptographic hash: any insert, delete or edit of a column the indicators
    read changes one of the three sums of the days on or after the row's relevance day (abs and modulo
    keep every backend's integer arithmetic identical and far from overflow). The columns of
    ``RawSpec.later`` are digested separately, at their own relevance day (none when it is null).
    """
    spec = RAW[name]
    id_col = spec.id_column
    later_cols = {c for _rel, cols in spec.later for c in cols}
    parts: list[tuple[ibis.Value, list[str]]] = [(
        _relevance(table, spec.relevance, -1_000_000), [c for c in spec.schema if c not in later_cols]
    )]
    for rel, cols in spec.later:
        parts.append((_relevance(table, rel, NO_LIMIT), [id_col, *[c for c in cols if c != id_col]]))
    out = [_fingerprint_part(spec, table, id_col, rel, cols, native_hash) for rel, cols in parts]
    return out[0] if len(out) == 1 else ibis.union(*out)


def _relevance(table: ibis.Table, rel: Relevance | None, default: int) -> ibis.Value:
    if rel is None:
        return ibis.literal(default).cast("int64")
    value = table[rel] if isinstance(rel, str) else rel(table)
    return value.fill_null(default).cast("int64")


def _fingerprint_part(spec: RawSpec, table: ibis.Table, id_col: str, rel: ibis.Value, columns: list[str],
                      native_hash: bool) -> ibis.Table:
    if native_hash:
        # DuckDB hashes a whole row in one call (the digest then only compares with DuckDB runs).
        row = ibis.struct({col: table[col] for col in columns}).hash()
        return table.mutate(_rel=rel, _h=row % 1_000_000_007).group_by("_rel").aggregate(
            n=table[id_col].count(), ids=table[id_col].sum(), mix=_["_h"].sum()
        )
    weight = (table[id_col] % 997) + 1
    mix = ibis.literal(0)
    for k, col in enumerate(spec.schema):
        if col not in columns:
            continue
        dtype = spec.schema[col]
        value = table[col]
        if dtype == "string":
            value = _string_code(value)
        elif dtype == "boolean":
            value = _flag(value)
        elif dtype == "float64":
            value = (value * 10).round().cast("int64")
        mix = mix + (value.fill_null(-7).abs() % 1_000_003 + 1) * _PRIMES[k % len(_PRIMES)]
    return table.mutate(_rel=rel).group_by("_rel").aggregate(
        n=table[id_col].count(), ids=table[id_col].sum(), mix=((mix % 1_000_003) * weight).sum()
    )


_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.-"


def _string_code(value: ibis.Value) -> ibis.Value:
    """An integer that changes with the length and the first characters of a (code-like) string; the
    position of each character in an alphabet is computed the same way by every backend."""
    code = value.length() * 4099
    for i in range(6):
        code = code + (ibis.literal(_ALPHABET).find(value.substr(i, 1)) + 2) * (67 * i + 1)
    return code

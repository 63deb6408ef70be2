"""Programme numbers (RULES.md §1.2): management rate, standardised-management rate, control rate at
the latest visit, share of signed patients with a medication plan — by doctor, team, institution or
area, for a calendar year or year to date.

Definitions (one place; every open choice is a rule-set parameter, shown with its ``verified`` flag):

- **managed** (年内已管理的患者人数): residents with an enrolment in the programme that overlaps the
  period (``programme-engine.managed_requires_visit`` = False: a visit is not required). A resident
  with two enrolments in the period counts once, under the latest.
- **management rate** = managed / patients in the area (``management_denominator``: 'registered' =
  residents of the resident population with the diagnosis on record; 'estimated' = adults x
  prevalence). Only meaningful for institution and area groups (and the total); None for teams and
  doctors, who have no population of their own.
- **standardised** (规范管理): the disease rule set's definition (``standardised_min_visits``,
  ``standardised_max_gap_days``, ``standardised_year_edges``) applied to the face-to-face visits of the
  period from 1 January (or the enrolment date if later) to 31 December (or today, or the end of
  management): :func:`programmes.rules.standardised_in_period`, equal to
  ``chronic_rules.is_standardised`` for a whole year.
- **controlled at the latest visit** (最近一次随访达标): the latest visit of the period that measured
  the control value (BP or fasting glucose) was at target (the stored ``Visit.at_target``, computed by
  ``chronic_rules.is_controlled`` with the patient's age-dependent target). A managed patient without
  such a visit is lost to follow-up and counts as **not** at target.
- **signed with a plan**: managed patients in management at the end of the period with an active
  family-doctor contract, and among them those with an active medication plan.

The queries are set-based: one query for the enrolments, one streamed query for the visits, one
grouped count for each denominator; nothing runs per patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core import rulesets
from jiayi.core.scoping import institution_ids_visible_to
from jiayi.org.models import Area, Institution, Staff, Team
from jiayi.programmes import engine
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.models import (
    FACE_TO_FACE_MODES,
    Enrolment,
    MedicationPlan,
    PlanStatus,
    Visit,
    VisitType,
)
from jiayi.residents.diagnoses import DIAGNOSIS_PREFIXES
from jiayi.residents.models import Problem, Resident
from jiayi.residents.rules import latest_birth_date

GROUPS = ("institution", "team", "doctor", "area", "total")
_GROUP_FIELD = {
    "institution": "institution_id",
    "team": "team_id",
    "doctor": "doctor_id",
    "area": "resident__area_id",
    "total": None,
}


def _rate(num: int, den: int | None) -> float | None:
    if not den:
        return None
    return round(100.0 * num / den, 1)


@dataclass
class NumbersRow:
    key: Any
    label: str
    managed: int = 0
    expected: int | None = None
    standardised: int = 0
    controlled: int = 0
    lost_to_follow_up: int = 0
    signed: int | None = None
    signed_with_plan: int | None = None

    @property
    def management_rate(self) -> float | None:
        return _rate(self.managed, self.expected)

    @property
    def standardised_rate(self) -> float | None:
        return _rate(self.standardised, self.managed)

    @property
    def control_rate(self) -> float | None:
        return _rate(self.controlled, self.managed)

    @property
    def plan_rate(self) -> float | None:
        return _rate(self.signed_with_plan or 0, self.signed) if self.signed is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "managed": self.managed,
            "expected": self.expected,
            "management_rate": self.management_rate,
            "standardised": self.standardised,
            "standardised_rate": self.standardised_rate,
            "controlled": self.controlled,
            "control_rate": self.control_rate,
            "lost_to_follow_up": self.lost_to_follow_up,
            "signed": self.signed,
            "signed_with_plan": self.signed_with_plan,
            "plan_rate": self.plan_rate,
        }


@dataclass
class NumbersReport:
    programme: str
    year: int
    period_start: date
    period_end: date
    group_by: str
    rows: list[NumbersRow]
    total: NumbersRow
    unverified: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Patient:
    enrolment_id: int
    group: Any
    start: date
    end: date
    ruleset: str
    open_at_end: bool
    dates: list[date] = field(default_factory=list)
    latest_measured: tuple[date, int, bool] | None = None  # (visit_date, pk, at_target)


def period_for(year: int, as_of: date | None = None) -> tuple[date, date]:
    today = as_of or timezone.localdate()
    start, end = date(year, 1, 1), date(year, 12, 31)
    if today < start:
        raise ValueError("the year has not started")
    return start, min(end, today)


def managed_enrolments(user, *, programme: str, start: date, end: date):
    """Enrolments of the programme visible to the user that overlap ``start``..``end``."""
    return (
        Enrolment.objects.visible_to(user)
        .filter(programme=programme, start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    )


def _collect(user, programme: str, start: date, end: date, group_by: str) -> dict[int, _Patient]:
    group_field = _GROUP_FIELD[group_by]
    fields = ["pk", "resident_id", "start_date", "end_date", "ruleset"]
    if group_field:
        fields.append(group_field)
    latest_per_resident: dict[int, _Patient] = {}
    rows = managed_enrolments(user, programme=programme, start=start, end=end).order_by("resident_id", "start_date")
    for row in rows.values(*fields).iterator(chunk_size=5000):
        latest_per_resident[row["resident_id"]] = _Patient(
            enrolment_id=row["pk"],
            group=row[group_field] if group_field else None,
            start=max(start, row["start_date"]),
            end=min(end, row["end_date"] or end),
            ruleset=row["ruleset"],
            open_at_end=row["end_date"] is None or row["end_date"] >= end,
        )
    return {p.enrolment_id: p for p in latest_per_resident.values()}


def _visits(
    user, patients: dict[int, _Patient], programme: str, start: date, end: date, face_to_face_only: bool
) -> None:
    if not patients:
        return
    qs = Visit.objects.filter(
        enrolment__in=managed_enrolments(user, programme=programme, start=start, end=end),
        is_deleted=False,
        visit_date__gte=start,
        visit_date__lte=end,
        visit_type__in=[VisitType.FOLLOW_UP, VisitType.ANNUAL_CHECK],
    ).values_list("enrolment_id", "visit_date", "pk", "at_target", "mode")
    for enrolment_id, visit_date, pk, at_target, mode in qs.iterator(chunk_size=10000):
        p = patients.get(enrolment_id)
        if p is None or not p.start <= visit_date <= p.end:
            continue
        if not face_to_face_only or mode in FACE_TO_FACE_MODES:
            p.dates.append(visit_date)
        if at_target is not None and (p.latest_measured is None or (visit_date, pk) > p.latest_measured[:2]):
            p.latest_measured = (visit_date, pk, bool(at_target))


def _labels(group_by: str, keys: set[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    model = {"institution": Institution, "team": Team, "doctor": Staff, "area": Area}.get(group_by)
    labels: dict[Any, str] = {None: _("未分配") if group_by != "total" else _("合计")}
    if model is not None and ids:
        labels.update({pk: name for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")})
    return labels


def _diagnosis_q(programme: str) -> Q:
    prefixes = DIAGNOSIS_PREFIXES.get(programme, (engine.get(programme).icd10,))
    q = Q()
    for p in prefixes:
        q |= Q(icd10__startswith=p)
    return q


def _expected(user, programme: str, group_by: str, end: date) -> dict[Any, int] | None:
    """The management-rate denominator per group (institution / area / total), or None."""
    if group_by not in ("institution", "area", "total"):
        return None
    params = engine_rules.ENGINE_2017
    how = params.value("management_denominator")
    residents = Resident.objects.visible_to(user).in_resident_population()
    key = {"institution": "institution_id", "area": "area_id", "total": None}[group_by]
    if how == "registered":
        has_dx = Problem.objects.filter(_diagnosis_q(programme), resident=OuterRef("pk"), resolved_on__isnull=True)
        qs = residents.filter(Exists(has_dx))
        if key is None:
            return {None: qs.count()}
        return dict(qs.values(key).annotate(n=Count("pk")).values_list(key, "n"))
    if how == "estimated":
        prevalence = (params.value("estimated_prevalence") or {}).get(programme)
        if prevalence is None:
            return None
        min_age = int(params.value("estimated_min_age"))
        qs = residents.filter(birth_date__lte=latest_birth_date(end, min_age))  # aged min_age or more on end
        counts = (
            {None: qs.count()} if key is None else dict(qs.values(key).annotate(n=Count("pk")).values_list(key, "n"))
        )
        return {k: round(v * prevalence) for k, v in counts.items()}
    raise ValueError(f"unknown management_denominator {how!r}")


def _signed(user, patients: dict[int, _Patient]) -> tuple[set[int], set[int]]:
    """(enrolments whose resident has an active contract, those of them with an active plan)."""
    open_ids = [eid for eid, p in patients.items() if p.open_at_end]
    if not open_ids:
        return set(), set()
    try:
        Resident._meta.get_field("contracts")
    except Exception:  # the contracts app is not installed
        return set(), set()
    signed: set[int] = set()
    planned: set[int] = set()
    chunk = 900  # stays below SQLite's bound-parameter limit
    for i in range(0, len(open_ids), chunk):
        part = open_ids[i : i + chunk]
        rows = (
            Enrolment.objects.filter(pk__in=part)
            .filter(Exists(Resident.objects.filter(pk=OuterRef("resident_id"), contracts__status="active")))
            .annotate(
                has_plan=Exists(MedicationPlan.objects.filter(enrolment=OuterRef("pk"), status=PlanStatus.ACTIVE))
            )
            .values_list("pk", "has_plan")
        )
        for pk, has_plan in rows:
            signed.add(pk)
            if has_plan:
                planned.add(pk)
    return signed, planned


def unverified_definitions(programme: str, ruleset_code: str | None = None) -> list[dict[str, str]]:
    """The unverified parameters the numbers depend on (shown next to the numbers)."""
    out: list[dict[str, str]] = []
    disease = (
        rulesets.get(programme, ruleset_code) if ruleset_code else rulesets.default_for(programme, timezone.localdate())
    )
    for rs, keys in (
        (
            disease,
            (
                "standardised_min_visits",
                "standardised_max_gap_days",
                "standardised_year_edges",
                "elderly_age",
                "elderly_target_sbp",
            ),
        ),
        (
            engine_rules.ENGINE_2017,
            (
                "management_denominator",
                "managed_requires_visit",
                "period_min_visits_rounding",
                "estimated_prevalence",
            ),
        ),
    ):
        for k in keys:
            if k in rs.params and not rs.params[k].verified:
                out.append(
                    {
                        "ruleset": rs.label,
                        "param": k,
                        "value": str(rs.params[k].value),
                        "note": rs.params[k].note,
                    }
                )
    return out


def programme_numbers(
    user,
    *,
    programme: str,
    year: int,
    group_by: str = "institution",
    as_of: date | None = None,
) -> NumbersReport:
    """The programme numbers for ``year`` (to ``as_of``/today if the year is not over), by group."""
    engine.get(programme)
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {GROUPS}")
    start, end = period_for(year, as_of)
    params = engine_rules.ENGINE_2017
    patients = _collect(user, programme, start, end, group_by)
    _visits(user, patients, programme, start, end, bool(params.value("standardised_face_to_face_only")))
    if params.value("managed_requires_visit"):
        patients = {k: p for k, p in patients.items() if p.dates}
    signed, planned = _signed(user, patients)
    expected = _expected(user, programme, group_by, end)
    rows: dict[Any, NumbersRow] = {}
    total = NumbersRow(key=None, label=_("合计"), signed=0, signed_with_plan=0)
    rs_cache: dict[str, rulesets.RuleSet] = {}
    for eid, p in patients.items():
        row = rows.get(p.group)
        if row is None:
            row = rows[p.group] = NumbersRow(key=p.group, label="", signed=0, signed_with_plan=0)
        rs = rs_cache.get(p.ruleset)
        if rs is None:
            rs = rs_cache[p.ruleset] = rulesets.get(programme, p.ruleset)
        standardised = engine_rules.standardised_in_period(p.dates, p.start, p.end, rs)
        controlled = p.latest_measured is not None and p.latest_measured[2]
        for r in (row, total):
            r.managed += 1
            r.standardised += standardised
            r.controlled += controlled
            r.lost_to_follow_up += p.latest_measured is None
            if eid in signed:
                r.signed = (r.signed or 0) + 1
                r.signed_with_plan = (r.signed_with_plan or 0) + (eid in planned)
    if expected is not None:
        for key, n in expected.items():
            if group_by == "total":
                continue
            rows.setdefault(key, NumbersRow(key=key, label="", signed=0, signed_with_plan=0)).expected = n
        total.expected = sum(expected.values())
    labels = _labels(group_by, set(rows))
    for key, row in rows.items():
        row.label = labels.get(key, str(key))
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.label))
    if group_by == "total":
        ordered = []
    return NumbersReport(
        programme=programme,
        year=year,
        period_start=start,
        period_end=end,
        group_by=group_by,
        rows=ordered,
        total=total,
        unverified=unverified_definitions(programme),
    )


def visible_years(user) -> list[int]:
    """Years with enrolments visible to the user (for the year picker), newest first."""
    ids = institution_ids_visible_to(user)
    this_year = timezone.localdate().year
    if not ids:
        return [this_year]
    first = Enrolment.objects.visible_to(user).order_by("start_date").values_list("start_date", flat=True).first()
    start_year = first.year if first else this_year
    return list(range(this_year, max(start_year, this_year - 10) - 1, -1))

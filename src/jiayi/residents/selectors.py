"""Every read of residents and their records, scoped to the user (`visible_to`) and audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from jiayi.core.audit import audit_search, audit_view, audit_views
from jiayi.core.ids import IdNumberError, upgrade_15_to_18
from jiayi.core.scoping import get_visible_or_404
from jiayi.org.models import PRIMARY_CARE_CENTRE_TYPES, PRIMARY_CARE_POINT_TYPES, Area, AreaLevel, Institution
from jiayi.residents.models import HealthRecord, Household, IdType, Measurement, Problem, Resident

_ID18 = re.compile(r"^\d{17}[\dXx]$")
_RECORD17 = re.compile(r"^\d{17}$")
_PHONE = re.compile(r"^1\d{10}$|^0\d{9,11}$")


@dataclass(frozen=True)
class SearchPage:
    items: list[Resident]
    page: int
    page_size: int
    has_next: bool
    kind: str  # how the query was read: id_number, record_number, phone, name, all

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def classify_query(q: str) -> str:
    q = q.strip()
    if not q:
        return "all"
    if _ID18.match(q) or (len(q) == 15 and q.isdigit()):
        return "id_number"
    if _RECORD17.match(q):
        return "record_number"
    if _PHONE.match(q):
        return "phone"
    return "name"


def resident_search_queryset(user, q: str) -> tuple[QuerySet[Resident], str]:
    q = (q or "").strip()
    kind = classify_query(q)
    qs = Resident.objects.visible_to(user)
    if kind == "id_number":
        # With the type, the unique (id_type, id_number) index answers directly.
        number = q.upper()
        if len(number) == 15:
            try:
                number = upgrade_15_to_18(number)
            except IdNumberError:
                return qs.none(), kind
        qs = qs.filter(id_type=IdType.RESIDENT_ID, id_number=number)
    elif kind == "record_number":
        qs = qs.filter(health_record__record_number=q)
    elif kind == "phone":
        qs = qs.filter(phone=q)
    elif kind == "name":
        if connection.vendor == "sqlite":
            # SQLite cannot use an index for LIKE 'x%' ESCAPE; a range on the name index can.
            qs = qs.filter(name__gte=q, name__lt=q + "\U0010ffff")
        else:
            qs = qs.filter(name__startswith=q)
    return qs, kind


def resident_search(user, q: str, *, page: int = 1, page_size: int = 20) -> SearchPage:
    """Paginated search by name (prefix), ID number, record number or phone.

    Pages are fetched with one extra row instead of a COUNT, which stays fast at a million rows."""
    page = max(1, page)
    qs, kind = resident_search_queryset(user, q)
    offset = (page - 1) * page_size
    rows = list(
        qs.select_related("health_record", "area").order_by("name", "pk")[offset : offset + page_size + 1]
    )
    audit_search(user, object_type="residents.resident", query=q, count=min(len(rows), page_size))
    return SearchPage(rows[:page_size], page, page_size, len(rows) > page_size, kind)


def resident_get(user, pk: int, *, audit_read: bool = True) -> Resident:
    """One resident the user may see (404 otherwise); the read is audited."""
    resident = get_visible_or_404(
        Resident.objects.visible_to(user).select_related("area", "institution", "household"), pk=pk
    )
    if audit_read:
        audit_view(user, resident)
    return resident


def health_record_for(resident: Resident) -> HealthRecord | None:
    try:
        return resident.health_record
    except HealthRecord.DoesNotExist:
        return None


def measurements_for(resident: Resident, *, limit: int = 200) -> list[Measurement]:
    return list(resident.measurements.order_by("-measured_at")[:limit])


def problems_for(resident: Resident) -> list[Problem]:
    """The resident's problems (removed ones excluded): unresolved first, then by diagnosis date.
    The caller has read ``resident`` through ``resident_get`` (scoped and audited)."""
    rows = list(resident.problems.select_related("recorded_by"))
    rows.sort(key=lambda p: (p.resolved_on is not None, p.diagnosed_on or date.min, p.pk))
    return rows


def problem_get(resident: Resident, pk: int) -> Problem:
    """One of the resident's problems (404 for another resident's, or a removed one)."""
    return get_object_or_404(resident.problems.all(), pk=pk)


def bp_series(resident: Resident, *, limit: int = 60) -> list[dict]:
    """Blood-pressure points, oldest first, for the trend chart."""
    rows = (
        resident.measurements.filter(sbp__isnull=False)
        .order_by("-measured_at")
        .values("measured_at", "sbp", "dbp")[:limit]
    )
    return [
        {"date": r["measured_at"].date().isoformat(), "sbp": r["sbp"], "dbp": r["dbp"]} for r in reversed(rows)
    ]


def household_get(user, pk: int) -> Household:
    hh = get_visible_or_404(Household.objects.visible_to(user).select_related("area", "institution"), pk=pk)
    audit_view(user, hh)
    return hh


def household_members(user, household: Household, *, audit_read: bool = True) -> list[Resident]:
    """The household's members the user may see; each one's read is audited (with the household as
    context), so the audit log filtered by resident shows that the household page showed them."""
    members = list(
        Resident.objects.visible_to(user).filter(household=household).select_related("health_record")
        .order_by("relation_to_head", "birth_date")
    )
    if audit_read:
        audit_views(user, members, detail={"household_id": household.pk})
    return members


# ---------------------------------------------------------------------------------------------
# Home-page counts and the resident form's choices
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeCounts:
    residents: int
    records: int


def scope_counts(user) -> ScopeCounts:
    """Residents (in the resident population, not moved out or deceased) and their health records."""
    residents = Resident.objects.visible_to(user).in_resident_population()
    return ScopeCounts(
        residents=residents.count(),
        records=HealthRecord.objects.filter(resident__in=residents).count(),
    )


def staff_county_code(user) -> str | None:
    staff = getattr(user, "staff", None)
    if staff is None:
        return None
    return staff.institution.area.code[:6]


def community_choices(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """Communities of the user's county, grouped by street (for a grouped <select>)."""
    county = staff_county_code(user)
    qs = Area.objects.filter(level=AreaLevel.COMMUNITY).select_related("parent").order_by("code")
    if county is not None:
        qs = qs.filter(code__startswith=county)
    elif not getattr(user, "is_superuser", False):
        return []
    groups: dict[str, list[tuple[str, str]]] = {}
    for area in qs:
        street = area.parent.name if area.parent is not None else ""
        groups.setdefault(street, []).append((str(area.pk), area.name))
    return list(groups.items())


def community_for(user, pk: int | str) -> Area | None:
    """The community with `pk` if it is one the user may choose, else None."""
    qs = Area.objects.filter(level=AreaLevel.COMMUNITY)
    county = staff_county_code(user)
    if county is not None:
        qs = qs.filter(code__startswith=county)
    elif not getattr(user, "is_superuser", False):
        return None
    try:
        return qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def managing_institutions(user) -> QuerySet[Institution]:
    """Primary-care institutions in the user's scope that can manage a resident's record."""
    return Institution.objects.visible_to(user).filter(
        type__in=(*PRIMARY_CARE_CENTRE_TYPES, *PRIMARY_CARE_POINT_TYPES)
    ).order_by("code")

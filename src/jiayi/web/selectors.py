"""Reads that only the staff pages need: home-page counts, form choices and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from jiayi.core.audit import audit_search
from jiayi.core.models import AccessEvent
from jiayi.core.scoping import institution_ids_visible_to
from jiayi.org.models import Area, AreaLevel, Institution
from jiayi.residents.models import HealthRecord, Resident


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
    from jiayi.org.models import PRIMARY_CARE_CENTRE_TYPES, PRIMARY_CARE_POINT_TYPES

    ids = institution_ids_visible_to(user) or []
    return Institution.objects.filter(
        pk__in=ids, type__in=(*PRIMARY_CARE_CENTRE_TYPES, *PRIMARY_CARE_POINT_TYPES)
    ).order_by("code")


# ---------------------------------------------------------------------------------------------
# Audit log (auditors only; the caller checks can_audit)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    username: str = ""
    resident_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_query(self) -> str:
        parts = [
            f"user={self.username}" if self.username else "",
            f"resident={self.resident_id}" if self.resident_id is not None else "",
            f"from={self.date_from.isoformat()}" if self.date_from else "",
            f"to={self.date_to.isoformat()}" if self.date_to else "",
        ]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _slice(qs: QuerySet, page: int, page_size: int) -> Page:
    """One page plus one extra row instead of a COUNT (the log grows without bound)."""
    page = max(1, page)
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return Page(rows[:page_size], page, page_size, len(rows) > page_size)


def access_events(user, filters: AuditFilters, *, page: int = 1, page_size: int = 50) -> Page:
    qs = AccessEvent.objects.all().order_by("-at", "-pk")
    if filters.username:
        qs = qs.filter(username=filters.username)
    if filters.resident_id is not None:
        qs = qs.filter(resident_id=filters.resident_id)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    result = _slice(qs, page, page_size)
    # Reading the log is itself a read of personal data (queries, resident ids): it is logged too.
    audit_search(user, object_type="core.accessevent", query=filters.as_query(), count=len(result.items))
    return result


def change_entries(user, filters: AuditFilters, *, page: int = 1, page_size: int = 50) -> Page:
    qs = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    if filters.username:
        qs = qs.filter(actor__username=filters.username)
    if filters.resident_id is not None:
        qs = qs.filter(
            content_type=ContentType.objects.get_for_model(Resident), object_pk=str(filters.resident_id)
        )
    if filters.date_from:
        qs = qs.filter(timestamp__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(timestamp__lt=_day_start(filters.date_to + timedelta(days=1)))
    result = _slice(qs, page, page_size)
    audit_search(user, object_type="auditlog.logentry", query=filters.as_query(), count=len(result.items))
    return result

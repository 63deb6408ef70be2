"""Reads of the shell's pages: the audit log (auditors only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from jiayi.core.audit import audit_search
from jiayi.core.models import AccessEvent

# ---------------------------------------------------------------------------------------------
# Audit log (auditors only; the caller checks can_audit)
# ---------------------------------------------------------------------------------------------

#: The changes of a resident are django-auditlog entries of this model (app label, model name).
RESIDENT_MODEL = ("residents", "resident")


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
            content_type=ContentType.objects.get_by_natural_key(*RESIDENT_MODEL), object_pk=str(filters.resident_id)
        )
    if filters.date_from:
        qs = qs.filter(timestamp__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(timestamp__lt=_day_start(filters.date_to + timedelta(days=1)))
    result = _slice(qs, page, page_size)
    audit_search(user, object_type="auditlog.logentry", query=filters.as_query(), count=len(result.items))
    return result

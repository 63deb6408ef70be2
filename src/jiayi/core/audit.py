"""Audit helpers: every read or change of a resident's personal data writes an AccessEvent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict, Unpack

from jiayi.core.middleware import client_addr, current_request
from jiayi.core.models import AccessAction, AccessEvent


class EventContext(TypedDict, total=False):
    """The keywords of ``audit`` (and ``_event``) besides the user, action and object."""

    resident_id: int | None
    object_type: str | None
    object_id: str | int | None
    detail: dict | None
    request: Any


def audit(user, action: str, obj: Any = None, **context: Unpack[EventContext]) -> AccessEvent:
    event = _event(user, action, obj, **context)
    event.save()
    return event


def _event(
    user,
    action: str,
    obj: Any = None,
    *,
    resident_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict | None = None,
    request=None,
) -> AccessEvent:
    """The unsaved event ``audit`` writes."""
    request = request or current_request()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        if resident_id is None:
            resident_id = getattr(obj, "resident_id", None)
            if resident_id is None and obj._meta.label_lower == "residents.resident":
                resident_id = obj.pk
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AccessEvent(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        resident_id=resident_id,
        remote_addr=client_addr(request),
        path=(request.get_full_path()[:300] if request is not None else ""),
        detail=detail or {},
    )


def audit_view(user, obj, **kw) -> AccessEvent:
    return audit(user, AccessAction.VIEW, obj, **kw)


def audit_views(user, objs: Iterable[Any], *, detail: dict | None = None, request=None) -> list[AccessEvent]:
    """One view event per object (e.g. each member a household page shows), written in one insert, so
    that filtering the log by resident finds every read; ``detail`` gives the context they were read in."""
    events = [_event(user, AccessAction.VIEW, obj, detail=detail, request=request) for obj in objs]
    return AccessEvent.objects.bulk_create(events) if events else []


def audit_search(user, *, object_type: str, query: str, count: int, **kw) -> AccessEvent:
    return audit(user, AccessAction.SEARCH, object_type=object_type, detail={"q": query, "count": count}, **kw)

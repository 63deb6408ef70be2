"""Cross-app reactions as events published after commit (ARCHITECTURE.md, "Programmes and services
as plug-ins").

An app that wants to react to something another app does subscribes in its ``AppConfig.ready()``::

    from jiayi.core import events

    events.subscribe(events.SERVICE_DELIVERED, on_service_delivered)

and the app where it happens publishes, inside its write's transaction::

    events.publish(events.SERVICE_DELIVERED, resident_id=..., service_code=..., delivered_on=..., ...)

The subscribers run when the publishing transaction commits (``transaction.on_commit``), never when it
rolls back, each in its own transaction: a failing subscriber is logged and rolled back alone; it
neither undoes the committed write nor stops the other subscribers. Without an open transaction they
run at once. The publisher does not know who listens, so neither app imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

Subscriber = Callable[..., Any]

#: A service of a contract's packages was delivered to a resident (a programme visit, later a home
#: visit or a booking). Payload: ``resident_id``, ``service_code``, ``delivered_on`` (date),
#: ``source`` (e.g. "programmes.visit"), ``source_id`` (the row that delivered it), ``actor`` (user).
SERVICE_DELIVERED = "service.delivered"

_subscribers: dict[str, dict[str, Subscriber]] = {}


def _key(fn: Subscriber) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def subscribe(name: str, fn: Subscriber) -> Subscriber:
    """Call ``fn(**payload)`` after each commit that published ``name``. Subscribing the same function
    again replaces it (``ready()`` may run twice)."""
    _subscribers.setdefault(name, {})[_key(fn)] = fn
    return fn


def unsubscribe(name: str, fn: Subscriber) -> None:
    _subscribers.get(name, {}).pop(_key(fn), None)


def subscribers(name: str) -> list[Subscriber]:
    return list(_subscribers.get(name, {}).values())


def publish(name: str, /, *, using: str | None = None, **payload: Any) -> None:
    """Schedule the subscribers of ``name`` for when the current transaction commits."""
    transaction.on_commit(lambda: _dispatch(name, payload, using), using=using)


def _dispatch(name: str, payload: dict[str, Any], using: str | None) -> None:
    for fn in subscribers(name):
        try:
            with transaction.atomic(using=using):
                fn(**payload)
        except Exception:
            log.exception("subscriber %s of event %s failed", _key(fn), name)

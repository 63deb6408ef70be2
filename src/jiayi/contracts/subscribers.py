"""The contracts app's reactions to other apps' events (registered in ``ContractsConfig.ready()``)."""

from __future__ import annotations

from datetime import date

from jiayi.contracts.services import service_delivered


def on_service_delivered(
    *, resident_id: int, service_code: str, delivered_on: date, source: str, source_id: int | None = None,
    actor=None,
) -> None:
    """A delivered service counts toward the resident's contract in force that day (fulfilment)."""
    service_delivered(
        resident=resident_id,
        service_code=service_code,
        delivered_on=delivered_on,
        source=source,
        source_id=source_id,
        actor=actor,
    )

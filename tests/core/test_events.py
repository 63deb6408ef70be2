"""core.events: subscribers run after the publishing transaction commits, never on rollback."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from jiayi.core import events

pytestmark = pytest.mark.django_db

EVENT = "test.happened"


@pytest.fixture
def calls():
    seen: list[dict] = []

    def listener(**payload):
        seen.append(payload)

    events.subscribe(EVENT, listener)
    yield seen
    events.unsubscribe(EVENT, listener)


def test_a_subscriber_runs_when_the_transaction_commits(calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        events.publish(EVENT, resident_id=7, code="x")
        assert calls == []  # not yet: the transaction is still open
    assert len(callbacks) == 1
    assert calls == [{"resident_id": 7, "code": "x"}]


def test_a_rolled_back_transaction_publishes_nothing(calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        events.publish(EVENT, resident_id=7)
        raise RuntimeError("refused")
    assert callbacks == []
    assert calls == []


def test_a_failing_subscriber_is_logged_and_does_not_stop_the_others(calls, django_capture_on_commit_callbacks, caplog):
    def broken(**payload):
        raise ValueError("boom")

    events.subscribe(EVENT, broken)
    try:
        with caplog.at_level(logging.ERROR, logger="jiayi.core.events"), django_capture_on_commit_callbacks(
            execute=True
        ):
            events.publish(EVENT, resident_id=1)
    finally:
        events.unsubscribe(EVENT, broken)
    assert calls == [{"resident_id": 1}]
    assert any("broken" in r.getMessage() for r in caplog.records)


def test_subscribing_twice_registers_once(calls, django_capture_on_commit_callbacks):
    listener = events.subscribers(EVENT)[0]
    events.subscribe(EVENT, listener)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(EVENT, n=1)
    assert calls == [{"n": 1}]


def test_the_contracts_app_subscribes_to_delivered_services():
    assert any(fn.__module__ == "jiayi.contracts.subscribers" for fn in events.subscribers(events.SERVICE_DELIVERED))

"""Two writers at once, for the concurrency tests of every app.

:func:`race` runs ``first`` in a transaction held open until ``second`` (another thread) has started
and, on PostgreSQL, is waiting for a lock; then both finish. On SQLite, IMMEDIATE transactions make the
second wait for the first from its start, which gives the same outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction


def a_backend_waits_for_a_lock(timeout: float = 30.0) -> bool:
    """PostgreSQL: whether another session of this test database is waiting for a lock (polled)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cur.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def race(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[dict[str, Any], dict[str, Exception]]:
    """Run ``first`` and ``second`` as two concurrent writers; returns (results, errors) by name."""
    results: dict[str, Any] = {}
    errors: dict[str, Exception] = {}
    first_done, release = threading.Event(), threading.Event()

    def run_first() -> None:
        try:
            with transaction.atomic():
                results["first"] = first()
                first_done.set()
                release.wait(60)
        except Exception as exc:  # collected and asserted by the caller
            errors["first"] = exc
        finally:
            first_done.set()
            connection.close()

    def run_second() -> None:
        try:
            results["second"] = second()
        except Exception as exc:  # collected and asserted by the caller
            errors["second"] = exc
        finally:
            connection.close()

    t1 = threading.Thread(target=run_first)
    t1.start()
    assert first_done.wait(60)
    t2 = threading.Thread(target=run_second)
    t2.start()
    try:
        if connection.vendor == "postgresql":
            assert a_backend_waits_for_a_lock(), "the second writer never waited for the first"
    finally:
        release.set()
        t1.join(60)
        t2.join(60)
    return results, errors

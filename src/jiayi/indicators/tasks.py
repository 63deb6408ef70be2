"""Background runs of the indicator engine (django-tasks, database backend: no broker needed).

A worker (``manage.py db_worker``) picks the task up; the district page enqueues it, and a nightly
scheduler can call ``compute_indicators.enqueue()`` for the incremental daily run.
"""

from __future__ import annotations

from django_tasks import task


@task()
def compute_indicators(backend: str = "db", year: int | None = None, incremental: bool = True,
                       user_id: int | None = None) -> dict:
    """Compute and store the catalogue; returns a summary of the ComputationRun."""
    from django.contrib.auth import get_user_model

    from jiayi.indicators.engine import compute

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = compute(backend=backend, year=year, incremental=incremental, triggered_by=user)
    return {
        "run": run.pk, "status": run.status, "periods_computed": run.periods_computed,
        "values_written": run.values_written, "seconds": run.seconds, "blocked": run.blocked,
    }

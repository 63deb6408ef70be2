"""Background tasks (django-tasks): the daily contract status job."""

from __future__ import annotations

from django_tasks import task

from jiayi.contracts.services import contracts_refresh_status


@task()
def contracts_expire_task() -> dict[str, int]:
    """Enqueue daily (e.g. from cron: ``contracts_expire_task.enqueue()``); same as ``manage.py contracts_expire``."""
    return contracts_refresh_status()

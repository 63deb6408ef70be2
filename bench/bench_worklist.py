"""Team work-list latency on a big database (target: p95 < 100 ms at 1,000,000 residents).

Runs the real selector (`programmes.selectors.worklist`, scoped with ``visible_to``) the way the work
-list page does: the overdue bucket, first page of 50 rows, most urgent first, for the teams with the
most open tasks (the worst case), round robin, as a member of each team. Reads only.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiayi_big .venv/bin/python bench/bench_worklist.py
    .venv/bin/python bench/bench_worklist.py --database-url sqlite:///var/big.sqlite3 -n 300

Prints one JSON object: ``{"name", "median_ms", "p95_ms", "n", ...}`` with the due-this-week page and
the home-page counts as ``details``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import p95 as _p95
from _common import setup as _setup


def _summary(name: str, samples: list[float], **extra) -> dict:
    return {
        "name": name,
        "median_ms": round(statistics.median(samples), 2) if samples else None,
        "p95_ms": round(_p95(samples), 2) if samples else None,
        "n": len(samples),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("-n", type=int, default=200, help="timed calls per measurement")
    parser.add_argument("--teams", type=int, default=20, help="how many of the busiest teams to rotate over")
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    _setup(args.database_url)

    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from jiayi.org.models import TeamMember
    from jiayi.programmes import selectors
    from jiayi.programmes.models import Task, TaskStatus
    from jiayi.residents.models import Resident

    today = timezone.localdate()
    busiest = list(
        Task.objects.filter(status=TaskStatus.DUE, team__isnull=False, due_date__lt=today)
        .values("team_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("team_id", "n")[: args.teams]
    )
    users = []
    for team_id, _n in busiest:
        member = (
            TeamMember.objects.filter(team_id=team_id, staff__active=True)
            .select_related("staff", "staff__institution", "team")
            .first()
        )
        if member is None:
            continue
        # A stand-in for the member's login (no write: the bench does not audit its reads).
        user = SimpleNamespace(is_authenticated=True, is_superuser=False, staff=member.staff, pk=None)
        users.append((user, selectors.WorklistScope("team", team=member.team)))
    if not users:
        print(
            json.dumps(
                {
                    "name": "worklist_team",
                    "median_ms": None,
                    "p95_ms": None,
                    "n": 0,
                    "error": "no team with overdue tasks in this database",
                }
            )
        )
        return 2

    def timed(fn, count: int) -> list[float]:
        out = []
        for i in range(args.warmup + count):
            user, scope = users[i % len(users)]
            t0 = time.perf_counter()
            fn(user, scope)
            ms = (time.perf_counter() - t0) * 1000
            if i >= args.warmup:
                out.append(ms)
        return out

    def page(bucket: str):
        def run(user, scope):
            rows, _more = selectors.worklist(user, scope=scope, bucket=bucket, today=today, audit_read=False)
            return rows

        return run

    overdue = timed(page("overdue"), args.n)
    due_week = timed(page("due_week"), args.n)
    counts = timed(lambda user, scope: selectors.worklist_counts(user, scope=scope, today=today), args.n)
    result = _summary(
        "worklist_team",
        overdue,
        vendor=connection.vendor,
        residents=Resident.objects.count(),
        open_tasks=Task.objects.filter(status=TaskStatus.DUE).count(),
        teams=len(users),
        busiest_team_overdue=busiest[0][1],
        details=[_summary("worklist_team_due_week", due_week), _summary("worklist_team_counts", counts)],
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

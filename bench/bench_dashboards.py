"""Indicator pages and the stored-values pipeline on a big district (targets: pages < 300 ms).

On a district loaded in a Django database (``jiayi synth``; ``bench/run.py`` passes the 1,000,000
-resident databases that ``bench_foundation`` builds):

1. ``jiayi indicators compute --backend duckdb`` end to end, from the database: a full recompute
   (extraction, fingerprints, evaluation, storing every value) and the next day's incremental run
   (the as-of day moves, so the running month / quarter / year are recomputed; nothing else is);
2. the indicator pages as the district administrator, through the Django test client, reading the
   stored values: the district dashboard with the ``gusu-2021`` preset, the centre, team and doctor
   pages of the drill-down, the line list of one doctor's patients behind the hypertension
   standardised-management rate (computed live, narrowed to that doctor's residents), and its Excel
   export. Median and p95 in milliseconds.

Usage::

    .venv/bin/python bench/bench_dashboards.py --database-url postgres://postgres@127.0.0.1:5432/jiayi_bench
    .venv/bin/python bench/bench_dashboards.py --database-url sqlite:///var/bench/big.sqlite3 --skip-compute

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup as _setup
from _common import stats as _stats

INDICATOR = "ht.standardised_rate"
PRESET = "gusu-2021"


def _run_summary(run) -> dict:
    timings = {k: v for k, v in (run.timings or {}).items() if k != "indicators"}
    return {"seconds": round(run.seconds, 2), "status": run.status, "values_written": run.values_written,
            "periods_computed": run.periods_computed, "timings": timings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--quick", action="store_true", help="fewer timed requests (smoke run)")
    parser.add_argument("-n", type=int, default=30, help="timed requests per page kind")
    parser.add_argument("--skip-compute", action="store_true", help="use the values already stored")
    args = parser.parse_args(argv)
    _setup(args.database_url)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from jiayi.indicators import engine
    from jiayi.indicators.models import IndicatorValue
    from jiayi.residents.models import Resident
    from jiayi.synth.accounts import create_demo_accounts

    n = 5 if args.quick else args.n
    today = timezone.localdate()
    out: dict = {"name": "dashboards", "database": connection.vendor,
                 "residents": Resident.objects.count(), "targets": {"page_ms": 300}}

    if not args.skip_compute:
        full = engine.compute(backend="duckdb", incremental=False, today=today)
        out["compute_full"] = _run_summary(full)
        daily = engine.compute(backend="duckdb", incremental=True, today=today + timedelta(days=1))
        out["compute_next_day_incremental"] = _run_summary(daily)

    setup_test_environment()
    create_demo_accounts()
    admin = get_user_model().objects.get(username="demo_district")
    client = Client()
    client.force_login(admin)

    period = (IndicatorValue.objects.filter(indicator=INDICATOR, period__regex=r"^\d{4}-\d{2}$")
              .order_by("-period_end").values_list("period", flat=True).first())
    if period is None:
        print(json.dumps({**out, "error": "no stored indicator values (run without --skip-compute)"}))
        return 1
    out["period"] = period
    stored = IndicatorValue.objects.filter(indicator=INDICATOR, period=period)

    def units(level: str) -> list[int]:
        return list(stored.filter(level=level).order_by("-denominator").values_list("unit_id", flat=True)[:n])

    def timed(url: str, params: dict) -> float:
        t = time.perf_counter()
        response = client.get(url, params)
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")
        return elapsed

    params = {"period": period, "preset": PRESET, "indicator": INDICATOR}
    district_id = units("district")[0]
    for _ in range(3):  # warm-up: connection, templates, caches
        timed(reverse("indicators:unit", args=["district", district_id]), params)
    pages: dict = {
        "district": _stats([timed(reverse("indicators:unit", args=["district", district_id]), params)
                            for _ in range(n)]),
    }
    for level in ("centre", "team", "doctor"):
        ids = units(level)
        pages[level] = _stats([timed(reverse("indicators:unit", args=[level, u]), params) for u in ids])
    doctors = units("doctor")[: max(3, n // 5)]
    line_list_url = [reverse("indicators:residents", args=["doctor", d, INDICATOR]) for d in doctors]
    pages["doctor_line_list"] = _stats([timed(url, {"period": period}) for url in line_list_url])
    pages["doctor_line_list_xlsx"] = _stats([timed(url, {"period": period, "export": "xlsx"})
                                             for url in line_list_url[:3]])
    out["pages"] = pages
    out["doctor_patients_in_line_list"] = [
        int(v) for v in stored.filter(level="doctor", unit_id__in=doctors).values_list("denominator", flat=True)
    ]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

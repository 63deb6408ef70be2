"""Indicator engine benchmark: full recompute, incremental daily run, distance from a plain scan.

Two sources:

- ``--synthetic N`` (default 1,000,000 residents): the engine's raw tables generated directly in Arrow
  (``jiayi.indicators.synthetic``, about ten million visit and measurement rows at a million
  residents), so the bench runs without loading a database;
- ``--database-url URL``: a district loaded in a Django database (``jiayi synth``); the raw tables are
  extracted to Arrow (timed separately) and the same measurements follow.

Measured on DuckDB: the full recompute of the whole catalogue for every org unit and the periods of
the last 13 months (months, quarters, years-to-date, years); the incremental daily run (the next day's
visits and measurements arrive; fingerprint every period, recompute those whose data or as-of day
changed); and one plain scan of the visit table (count and sums of its columns) — the ratio of the full
recompute to that scan says how far the engine is from reading the data once. Each measurement runs
``--repeat`` times (default 3); the medians are reported with every run.

Usage::

    .venv/bin/python bench/bench_indicators.py --synthetic 1000000
    .venv/bin/python bench/bench_indicators.py --database-url postgres://postgres@127.0.0.1:5432/jiayi_big

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup as _setup


def _load(backend, raw: dict) -> dict:
    return {name: backend.load(name, table) for name, table in raw.items()}


def _run(raw_arrow: dict, org, today: date, months: int, threads: int | None) -> tuple[float, int, int, dict]:
    """One full evaluation on a fresh DuckDB: (seconds, values, periods, per-step timings)."""
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.backends import DuckDB
    from jiayi.indicators.facts import rule_context

    ctx = rule_context(today)
    periods = P.recent_periods(today, months)
    backend = DuckDB(threads=threads)
    t0 = time.perf_counter()
    raw = _load(backend, raw_arrow)
    result = engine.evaluate(backend, raw, org, periods, today=today, ctx=ctx)
    seconds = time.perf_counter() - t0
    backend.close()
    return seconds, len(result.rows), len(periods), result.timings


def _incremental(before: dict, after: dict, org, today_before: date, today_after: date, months: int,
                 threads: int | None) -> dict:
    """The nightly run: fingerprint every period on the new data, compare with yesterday's, recompute
    the changed ones."""
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.backends import DuckDB
    from jiayi.indicators.facts import rule_context

    ctx_b, ctx_a = rule_context(today_before), rule_context(today_after)
    backend = DuckDB(threads=threads)
    raw = _load(backend, before)
    prints_before = engine.fingerprints(backend, raw, P.recent_periods(today_before, months), today=today_before,
                                        ctx=ctx_b, org=org)
    backend.close()

    t0 = time.perf_counter()
    backend = DuckDB(threads=threads)
    raw = _load(backend, after)
    wanted = P.recent_periods(today_after, months)
    prints = engine.fingerprints(backend, raw, wanted, today=today_after, ctx=ctx_a, org=org)
    t_fp = time.perf_counter() - t0
    todo = [p for p in wanted if prints_before.get(p.code) != prints[p.code]]
    result = engine.evaluate(backend, raw, org, todo, today=today_after, ctx=ctx_a)
    seconds = time.perf_counter() - t0
    backend.close()
    return {
        "seconds": round(seconds, 2), "fingerprint_seconds": round(t_fp, 2),
        "periods_recomputed": [p.code for p in todo],
        "periods_total": len(wanted), "values": len(result.rows),
    }


def _scan(raw_arrow: dict, threads: int | None) -> float:
    from jiayi.indicators.backends import DuckDB

    backend = DuckDB(threads=threads)
    visits = backend.load("visits", raw_arrow["visits"])
    expr = visits.aggregate(
        n=visits.count(), sbp=visits.sbp.sum(), dbp=visits.dbp.sum(), fpg=visits.fasting_glucose.sum(),
        days=visits.day.sum(), residents=visits.resident_id.sum(),
    )
    t0 = time.perf_counter()
    backend.to_arrow(expr)
    seconds = time.perf_counter() - t0
    backend.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=None, metavar="N",
                        help="generate N residents directly in Arrow (default when no database URL: 1000000)")
    parser.add_argument("--database-url", default=None, help="read a district from this database instead")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 synthetic residents")
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--today", default=None, help="evaluation day, ISO (default: today)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians are reported")
    args = parser.parse_args(argv)
    _setup(args.database_url)

    from django.utils import timezone

    from jiayi.indicators import periods as P
    from jiayi.indicators import synthetic

    today = date.fromisoformat(args.today) if args.today else timezone.localdate()
    out: dict = {"name": "indicators", "months": args.months}
    if args.database_url:
        from jiayi.indicators.backends import DjangoDB
        from jiayi.indicators.facts import extract_arrow, load_org

        t0 = time.perf_counter()
        db = DjangoDB()
        raw_arrow = extract_arrow(db)
        db.close()
        org = load_org()
        out["source"] = "database"
        out["extract_seconds"] = round(time.perf_counter() - t0, 2)
        district = synthetic.SyntheticDistrict(raw_arrow, org, today)
    else:
        n = args.synthetic or (20_000 if args.quick else 1_000_000)
        t0 = time.perf_counter()
        district = synthetic.generate(n, today=today)
        out["source"] = "synthetic-arrow"
        out["generate_seconds"] = round(time.perf_counter() - t0, 2)
    out["residents"] = district.raw["residents"].num_rows
    out["rows"] = {name: table.num_rows for name, table in district.raw.items()}
    out["visit_and_measurement_rows"] = district.raw["visits"].num_rows + district.raw["measurements"].num_rows

    repeat = max(1, args.repeat)
    fulls = [_run(district.raw, district.org, district.today, args.months, args.threads) for _ in range(repeat)]
    seconds = statistics.median(f[0] for f in fulls)
    _s, values, n_periods, timings = fulls[0]
    out["full_recompute_seconds"] = round(seconds, 2)
    out["full_recompute_runs"] = [round(f[0], 2) for f in fulls]
    out["values"] = values
    out["periods"] = n_periods
    out["slowest_indicators"] = dict(sorted(timings.items(), key=lambda kv: -kv[1])[:5])
    later = synthetic.next_day(district)
    incs = [
        _incremental(district.raw, later.raw, district.org, district.today, later.today, args.months, args.threads)
        for _ in range(repeat)
    ]
    out["incremental_daily"] = incs[0]
    out["incremental_daily_seconds"] = round(statistics.median(i["seconds"] for i in incs), 2)
    out["incremental_daily_runs"] = [i["seconds"] for i in incs]
    scan = statistics.median(_scan(district.raw, args.threads) for _ in range(max(repeat, 5)))
    out["visit_scan_seconds"] = round(scan, 4)
    out["full_to_scan_ratio"] = round(seconds / scan, 1) if scan else None
    out["targets"] = {"full_recompute_seconds": 60, "incremental_daily_seconds": 10}
    out["today"] = district.today.isoformat()
    out["period_codes"] = [p.code for p in P.recent_periods(district.today, args.months)]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

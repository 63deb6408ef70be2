"""Change capture and the indicator store (ADR 0008): full recompute, next day's run, rerun unchanged.

On a district loaded in a Django database (``bench/run.py`` passes the 1,000,000-resident databases
that ``bench_foundation`` builds), ``jiayi indicators compute --backend duckdb`` through the store:

1. **full**: the store file removed, every raw projection extracted, every period evaluated and stored;
2. **next day**: the day's writes are made first — 2,000 follow-up visits, 200 contracts (with their
   packages and items) and 50 back-dated corrections of old visits (one ``UPDATE`` each), bulk-written
   through the ORM the way imports and the services write them; the triggers log them — then the run
   of the following day (the store applies the logged changes; the running periods and the back-dated
   ones are recomputed);
3. **rerun**: the same day again with nothing changed;
4. **trigger cost**: inserting, updating and deleting 20,000 visits with and without the capture
   triggers (in transactions that are rolled back).

Each phase runs ``--repeat`` times (default 3) in a fresh process (peak memory is the process's
``ru_maxrss``); medians are reported with every run's phases (store sync: changes read / rows applied;
fingerprint, evaluate, store). The machine is shared: single figures are noisy, read the medians.
The next-day phase writes to the database it measures (each repeat adds its visits and contracts).

Usage::

    .venv/bin/python bench/bench_capture.py --database-url postgres://postgres@127.0.0.1:5432/jiayi_bench

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT
from _common import setup as _setup

TARGETS = {"full_s": 25, "next_day_s": 3, "rerun_s": 1, "full_peak_gib": 3}
DAY = {"visits": 2_000, "contracts": 200, "corrections": 50}


def _summary(run, seconds: float) -> dict:
    timings = run.timings or {}
    sync = timings.get("store_sync") or {}
    return {
        "seconds": round(seconds, 3), "status": run.status, "periods_computed": len(run.periods_computed or []),
        "values_written": run.values_written,
        "phases": {k: v for k, v in timings.items() if isinstance(v, int | float)},
        "stored_rows": timings.get("stored_rows"),
        "store_sync": {"seconds": sync.get("seconds"),
                       "tables": {n: t for n, t in (sync.get("tables") or {}).items() if t.get("mode") != "unchanged"}},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _next_day_writes(day: date, seed: int) -> dict:
    """The writes of one working day, bulk through the ORM (the triggers capture them)."""
    from django.db import transaction
    from django.db.models import Max, Min
    from django.utils import timezone

    from jiayi.contracts.models import Contract, ContractItem, ContractPackage
    from jiayi.programmes.models import Visit
    from jiayi.residents.models import Resident

    rng = random.Random(seed)
    t0 = time.perf_counter()
    signed_at = timezone.now()
    bounds = Visit.objects.aggregate(lo=Min("id"), hi=Max("id"))
    span = range(bounds["lo"], bounds["hi"] + 1)
    ids = rng.sample(span, min(len(span), DAY["visits"] * 2))
    templates = list(Visit.objects.filter(pk__in=ids, is_deleted=False)[: DAY["visits"]])
    for v in templates:
        v.pk = None
        v.visit_date = day
    old = rng.sample(span, min(len(span), DAY["corrections"] * 4))
    old_visits = list(Visit.objects.filter(pk__in=old, visit_date__lt=day - timedelta(days=90))
                      .values_list("pk", "sbp", "dbp")[: DAY["corrections"]])
    template = Contract.objects.filter(status="active").order_by("pk").first()
    packages = list(ContractPackage.objects.filter(contract=template))
    items = list(ContractItem.objects.filter(contract=template))
    free = list(Resident.objects.filter(is_deleted=False).exclude(contracts__status__in=["active", "pending"])
                .order_by("pk").values_list("pk", flat=True)[seed % 5000 : seed % 5000 + DAY["contracts"] * 5])
    residents = rng.sample(free, min(len(free), DAY["contracts"]))
    with transaction.atomic():
        Visit.objects.bulk_create(templates)
        contracts = []
        for k, rid in enumerate(residents):
            c = Contract.objects.get(pk=template.pk)
            c.pk = None
            c.resident_id = rid
            c.number = f"B{day:%y%m%d}{seed % 100:02d}{k:04d}"
            c.start_date, c.end_date, c.renewal_of_id = day, day.replace(year=day.year + 1) - timedelta(days=1), None
            c.signed_at, c.terminated_on = signed_at, None
            contracts.append(c)
        Contract.objects.bulk_create(contracts)
        new_packages, new_items = [], []
        for c in contracts:
            for p in packages:
                p.pk, p.contract_id = None, c.pk
                new_packages.append(ContractPackage(**{f.attname: getattr(p, f.attname)
                                                       for f in p._meta.concrete_fields}))
            for i in items:
                i.pk, i.contract_id = None, c.pk
                new_items.append(ContractItem(**{f.attname: getattr(i, f.attname) for f in i._meta.concrete_fields}))
        ContractPackage.objects.bulk_create(new_packages)
        ContractItem.objects.bulk_create(new_items)
        for pk, sbp, dbp in old_visits:  # back-dated corrections, one statement each
            Visit.objects.filter(pk=pk).update(sbp=(sbp or 130) + 12, dbp=(dbp or 80) + 6)
    return {"visits": len(templates), "contracts": len(contracts), "corrections": len(old_visits),
            "seconds": round(time.perf_counter() - t0, 2)}


TRIGGER_ROWS = 20_000


class _Rollback(Exception):
    pass


def _trigger_cost(repeat: int) -> dict:
    """Seconds to insert, update and delete TRIGGER_ROWS visits with and without the capture triggers
    (each in a transaction that is rolled back; the triggers disabled inside it on PostgreSQL, dropped
    and re-created inside it on SQLite)."""
    from django.db import connection, transaction

    from jiayi.core import change_capture
    from jiayi.programmes.models import Visit

    table = Visit._meta.db_table
    sample = list(Visit.objects.order_by("pk")[:TRIGGER_ROWS])

    def once(op: str, triggers: bool) -> float:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if not triggers:
                    if connection.vendor == "postgresql":
                        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
                    else:
                        for suffix in ("ins", "upd", "del"):
                            cursor.execute(f"DROP TRIGGER jiayi_capture_{table}_{suffix}")
                ids = [v.pk for v in sample]
                t0 = time.perf_counter()
                if op == "insert":
                    clones = []
                    for v in sample:
                        c = Visit(**{f.attname: getattr(v, f.attname) for f in v._meta.concrete_fields})
                        c.pk = None
                        clones.append(c)
                    Visit.objects.bulk_create(clones, batch_size=2_000)
                elif op == "update":
                    Visit.objects.filter(pk__lte=ids[-1]).update(sbp=140)
                else:  # raw SQL, as a purge would (the rows' dependants are not the point here)
                    cursor.execute(f'DELETE FROM "{table}" WHERE id <= %s', [ids[-1]])
                elapsed = time.perf_counter() - t0
                raise _Rollback(elapsed)
        except _Rollback as done:
            return float(done.args[0])

    out: dict = {"rows": len(sample)}
    for op in ("insert", "update", "delete"):
        with_t = statistics.median(once(op, True) for _ in range(repeat))
        without = statistics.median(once(op, False) for _ in range(repeat))
        out[op] = {"with_triggers_s": round(with_t, 3), "without_s": round(without, 3),
                   "overhead_pct": round(100 * (with_t - without) / without, 1) if without else None}
    assert change_capture.LOG  # the log the triggers write
    return out


def worker(args) -> dict:
    _setup(args.database_url)
    os.environ["JIAYI_INDICATOR_STORE"] = args.store
    from django.conf import settings

    from jiayi.indicators import engine

    settings.JIAYI["INDICATOR_STORE"] = args.store
    today = date.fromisoformat(args.today)
    out: dict = {}
    if args.worker == "full":
        for suffix in ("", ".lock", ".wal"):
            Path(args.store + suffix).unlink(missing_ok=True)
    if args.worker == "triggers":
        return _trigger_cost(3)
    if args.worker == "day":
        out["writes"] = _next_day_writes(today, args.seed)
    t0 = time.perf_counter()
    run = engine.compute(backend="duckdb", incremental=args.worker != "full", today=today)
    out.update(_summary(run, time.perf_counter() - t0))
    return out


def _spawn(args, kind: str, today: date, seed: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--database-url", args.database_url, "--store", args.store,
           "--today", today.isoformat(), "--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    phases = sorted({k for r in runs for k in r["phases"]})
    return {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "phases": {k: round(statistics.median(r["phases"].get(k, 0) for r in runs), 3) for k in phases},
        "peak_rss_mib": round(statistics.median(r["peak_rss_mib"] for r in runs), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--quick", action="store_true", help="one run per phase (smoke run)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", default="", help="store file (default: a temporary one)")
    parser.add_argument("--worker", choices=["full", "day", "rerun", "triggers"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-triggers", action="store_true", help="do not measure the triggers' write cost")
    parser.add_argument("--today", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args), ensure_ascii=False))
        return 0
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory(prefix="jiayi-bench-store-") as tmp:
        if not args.store:
            args.store = str(Path(tmp) / "store.duckdb")
        _setup(args.database_url)
        from django.db import connection
        from django.utils import timezone

        from jiayi.residents.models import Resident

        today = timezone.localdate()
        out: dict = {"name": "capture", "database": connection.vendor, "residents": Resident.objects.count(),
                     "targets": TARGETS, "day_writes": DAY, "runs": {"full": [], "next_day": [], "rerun": []}}
        connection.close()
        runs = out["runs"]
        for _ in range(repeat):
            runs["full"].append(_spawn(args, "full", today))
        day = today
        for k in range(repeat):
            day = today + timedelta(days=k + 1)
            runs["next_day"].append(_spawn(args, "day", day, seed=int(time.time()) + k))
        for _ in range(repeat):
            runs["rerun"].append(_spawn(args, "rerun", day))
        if not args.skip_triggers:
            out["trigger_cost"] = _spawn(args, "triggers", today)
        out["median"] = {phase: _median(r) for phase, r in runs.items()}
        med = out["median"]
        out["met"] = {
            "full_s": med["full"]["seconds"] <= TARGETS["full_s"],
            "next_day_s": med["next_day"]["seconds"] <= TARGETS["next_day_s"],
            "rerun_s": med["rerun"]["seconds"] <= TARGETS["rerun_s"],
            "full_peak_gib": med["full"]["peak_rss_mib"] / 1024 <= TARGETS["full_peak_gib"],
        }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

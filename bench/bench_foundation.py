"""Foundation benchmarks: synthetic-district build time, resident search and resident-page latency.

1. Synth time: ``jiayi synth`` of 100,000 residents into a fresh SQLite file and a fresh PostgreSQL
   database (migrations not counted).
2. On a 1,000,000-resident district (built once and cached: ``var/bench/*.sqlite3`` and the PostgreSQL
   database ``jiayi_bench``, reused while the seed, size, generator version and migrations match):
   resident search through the search page (by ID number, name prefix, record number, phone) and the
   resident page, each with the Django test client as the district's demo family doctor, over >= 200
   requests with different residents: median and p95 in milliseconds, plus the query plans of the
   search queries (``EXPLAIN``) to see why a p95 misses the 100 ms target.

Usage::

    .venv/bin/python bench/bench_foundation.py            # full (builds the 1M databases once)
    .venv/bin/python bench/bench_foundation.py --quick    # 20,000 residents everywhere (smoke run)
    .venv/bin/python bench/bench_foundation.py --backend sqlite -n 300

Prints one JSON object. ``databases`` names the big databases so that ``bench/run.py`` can run the
other benchmarks on them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT
from _common import setup as _setup
from _common import stats as _stats

PG_BASE = os.environ.get("JIAYI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DISTRICT = "xuhui"
SEED = 1


# ---------------------------------------------------------------------------------------------
# Workers (run in a subprocess with their own DATABASE_URL)
# ---------------------------------------------------------------------------------------------


def _pending_migrations() -> int:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def worker_check(args) -> dict:
    """Is the cached big database usable (migrated, and generated with the same parameters)?"""
    _setup(args.database_url)
    from django.db import connection

    from jiayi.synth.models import SynthRun
    from jiayi.synth.params import GENERATOR_VERSION

    if "synth_synthrun" not in connection.introspection.table_names():
        return {"valid": False, "why": "not migrated"}
    pending = _pending_migrations()
    run = SynthRun.objects.filter(district=args.district, seed=args.seed, residents=args.residents,
                                  generator_version=GENERATOR_VERSION).first()
    if pending or run is None:
        return {"valid": False, "why": f"{pending} pending migrations" if pending else "no matching synth run"}
    return {"valid": True, "build_seconds": run.seconds, "as_of": run.as_of.isoformat()}


def worker_synth(args) -> dict:
    _setup(args.database_url)
    from jiayi.synth.pipeline import generate

    started = time.perf_counter()
    result = generate(district=args.district, residents=args.residents, seed=args.seed, progress=False)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "stage_seconds": result.stage_seconds,
        "rows": result.counts,
        "skipped_stages": result.skipped,
    }


def worker_latency(args) -> dict:
    _setup(args.database_url)
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from jiayi.residents.models import HealthRecord, Resident
    from jiayi.residents.selectors import resident_search_queryset
    from jiayi.synth.accounts import create_demo_accounts

    setup_test_environment()
    create_demo_accounts(district=args.district)
    from django.contrib.auth import get_user_model

    doctor = get_user_model().objects.get(username="demo_doctor")
    client = Client()
    client.force_login(doctor)
    visible = list(Resident.objects.visible_to(doctor).values_list("id", flat=True))
    rng = random.Random(args.seed)
    sample = rng.sample(visible, min(args.n, len(visible)))
    people = {r.pk: r for r in Resident.objects.filter(pk__in=sample)}
    records = dict(HealthRecord.objects.filter(resident_id__in=sample).values_list("resident_id", "record_number"))
    queries = {
        "id_number": [people[pk].id_number for pk in sample],
        "name_prefix": [people[pk].name[:2] for pk in sample],
        "record_number": [records[pk] for pk in sample if pk in records],
        "phone": [people[pk].phone for pk in sample if people[pk].phone],
    }
    search_url = reverse("resident_search")

    def timed(url: str, params: dict | None = None) -> float:
        t = time.perf_counter()
        response = client.get(url, params or {})
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")
        return elapsed

    for pk in sample[:20]:  # warm-up: connection, templates, caches
        timed(search_url, {"q": people[pk].id_number})
        timed(reverse("resident_detail", args=[pk]))
    out: dict = {"residents_visible_to_doctor": len(visible), "search": {}, "explain": {}}
    for kind, qs in queries.items():
        out["search"][kind] = _stats([timed(search_url, {"q": q}) for q in qs])
        queryset, _kind = resident_search_queryset(doctor, qs[0])
        plan = queryset.select_related("health_record", "area").order_by("name", "pk")[:21].explain()
        out["explain"][kind] = plan.splitlines()[:12]
    out["resident_page"] = _stats([timed(reverse("resident_detail", args=[pk])) for pk in sample])
    return out


WORKERS = {"check": worker_check, "synth": worker_synth, "latency": worker_latency}


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------


def _run_worker(name: str, database_url: str, *extra: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--database-url", database_url, *extra]
    env = {**os.environ, "JIAYI_ALLOW_DEV_KEY": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed on {database_url}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _manage(database_url: str, *args: str) -> None:
    env = {**os.environ, "JIAYI_ALLOW_DEV_KEY": "1", "DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _fresh(backend: str, name: str, tmp: Path) -> str:
    if backend == "sqlite":
        path = tmp / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(f'CREATE DATABASE "{name}"')
        url = f"{PG_BASE}/{name}"
    _manage(url, "migrate", "--skip-checks", "-v", "0")
    return url


def _drop(backend: str, url: str) -> None:
    if backend == "sqlite":
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        _psql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _big_database(backend: str, residents: int, seed: int) -> tuple[str, dict]:
    """The cached big database (built when missing or stale): (url, info)."""
    if backend == "sqlite":
        cache = ROOT / "var" / "bench"
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / f"foundation-{DISTRICT}-{residents}-s{seed}.sqlite3"
        url = f"sqlite:///{path}"
        exists = path.exists()
    else:
        name = "jiayi_bench" if residents >= 1_000_000 else f"jiayi_bench_{residents}"
        url = f"{PG_BASE}/{name}"
        exists = _pg_exists(name)
    params = ["--district", DISTRICT, "--seed", str(seed), "--residents", str(residents)]
    if exists:
        check = _run_worker("check", url, *params)
        if check["valid"]:
            return url, {"cached": True, "build_seconds": check["build_seconds"], "as_of": check["as_of"]}
    url = _fresh("sqlite", path.stem, path.parent) if backend == "sqlite" else _fresh("postgresql", name, Path())
    built = _run_worker("synth", url, *params)
    return url, {"cached": False, "build_seconds": built["seconds"], "stage_seconds": built["stage_seconds"],
                 "rows": built["rows"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 residents instead of 100k / 1M")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("-n", type=int, default=200, help="requests per latency measurement (>= 200)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-synth", action="store_true", help="skip the fresh 100k synth timing")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--district", default=DISTRICT, help=argparse.SUPPRESS)
    parser.add_argument("--residents", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args), ensure_ascii=False))
        return 0

    synth_n = 20_000 if args.quick else 100_000
    big_n = 20_000 if args.quick else 1_000_000
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out: dict = {
        "name": "foundation",
        "district": DISTRICT,
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "synth": {},
        "big": {"residents": big_n},
        "databases": {},
        "target_p95_ms": 100,
    }
    with tempfile.TemporaryDirectory(prefix="jiayi-bench-") as tmp:
        for backend in backends:
            if not args.no_synth:
                url = _fresh(backend, "jiayi_bench_synth", Path(tmp))
                try:
                    r = _run_worker("synth", url, "--district", DISTRICT, "--seed", str(args.seed),
                                    "--residents", str(synth_n))
                finally:
                    _drop(backend, url)
                out["synth"][f"{backend}_{synth_n}"] = {"seconds": r["seconds"], "stage_seconds": r["stage_seconds"],
                                                        "skipped_stages": r["skipped_stages"]}
            url, info = _big_database(backend, big_n, args.seed)
            out["databases"][backend] = url
            t = time.perf_counter()
            latency = _run_worker("latency", url, "--district", DISTRICT, "--seed", str(args.seed),
                                  "--residents", str(big_n), *(["-n", str(args.n)]))
            out["big"][backend] = {**info, **latency, "measured_in_seconds": round(time.perf_counter() - t, 1)}
    p95s = [s["p95_ms"] for b in backends for s in [*out["big"][b]["search"].values(), out["big"][b]["resident_page"]]]
    out["all_p95_under_target"] = all(p <= 100 for p in p95s)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

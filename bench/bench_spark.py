"""Spark benchmark: full recompute of the catalogue on a standalone Spark cluster, per phase and per task.

The source is the Arrow synthetic district (``jiayi.indicators.synthetic``, as bench_indicators.py; no
database). Phases: generating the district, starting the Spark session, writing the raw tables as Parquet
by month and registering them (``load``), evaluating every indicator for every unit and the periods of
the last ``--months`` months (``evaluate``). The full recompute is load + evaluate.

Per-partition costs come from Spark's event log: every finished task (one partition of one stage) with
its run time, peak execution memory, rows read from Parquet and shuffle bytes, summarised for the scan
tasks (those reading Parquet) and for all tasks; ADR 0011 extrapolates them to a province.

The cluster is ``--master`` (default ``JIAYI_SPARK_MASTER``); without either, the bench starts one on
127.0.0.1 with ``.ci/spark-cluster`` and stops it afterwards.

Usage::

    .venv/bin/python bench/bench_spark.py --synthetic 1000000
    .venv/bin/python bench/bench_spark.py --quick                 # 20,000 residents

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT
from _common import setup as _setup


@contextlib.contextmanager
def _cluster(master: str | None):
    """The master URL to use: the given one, or a cluster started here for the bench."""
    if master:
        yield master, False
        return
    folder = tempfile.mkdtemp(prefix="jiayi-bench-spark-")
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run([str(ROOT / ".ci" / "spark-cluster"), "start", folder], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    try:
        yield f"spark://127.0.0.1:{os.environ.get('SPARK_MASTER_PORT', '7077')}", True
    finally:
        subprocess.run([str(ROOT / ".ci" / "spark-cluster"), "stop", folder], check=False, env=env)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def _summary(tasks: list[dict]) -> dict:
    if not tasks:
        return {"tasks": 0}
    run = [t["run_ms"] for t in tasks]
    mem = [t["peak_memory"] for t in tasks]
    return {
        "tasks": len(tasks),
        "run_ms": {"median": statistics.median(run), "p95": _pct(run, 0.95), "max": max(run), "sum": sum(run)},
        "peak_execution_memory_mib": {"median": round(statistics.median(mem) / 2**20, 1),
                                      "max": round(max(mem) / 2**20, 1)},
        "rows_read": {"median": statistics.median(t["rows_read"] for t in tasks),
                      "max": max(t["rows_read"] for t in tasks), "sum": sum(t["rows_read"] for t in tasks)},
        "bytes_read_mib": round(sum(t["bytes_read"] for t in tasks) / 2**20, 1),
        "shuffle_write_mib": round(sum(t["shuffle_write"] for t in tasks) / 2**20, 1),
        "gc_ms": sum(t["gc_ms"] for t in tasks),
    }


def _lines(log: Path):
    """The lines of one event log file (Spark 4 compresses them with zstd by default)."""
    import io

    import pyarrow as pa

    raw = pa.CompressedInputStream(str(log), "zstd") if log.suffix == ".zstd" else pa.OSFile(str(log))
    with raw, io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8") as fh:
        yield from fh


def _tasks(event_dir: Path) -> list[dict]:
    """Every finished task of the event logs under ``event_dir`` (one folder per application)."""
    out = []
    for log in sorted(event_dir.rglob("events_*")):
        if log.is_file():
            for line in _lines(log):
                if '"SparkListenerTaskEnd"' not in line:
                    continue
                event = json.loads(line)
                m = event.get("Task Metrics") or {}
                out.append({
                    "stage": event.get("Stage ID"),
                    "run_ms": m.get("Executor Run Time", 0),
                    "gc_ms": m.get("JVM GC Time", 0),
                    "peak_memory": m.get("Peak Execution Memory", 0),
                    "rows_read": (m.get("Input Metrics") or {}).get("Records Read", 0),
                    "bytes_read": (m.get("Input Metrics") or {}).get("Bytes Read", 0),
                    "shuffle_write": (m.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0),
                })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=None, metavar="N", help="residents (default 1000000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 residents")
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--today", default=None, help="evaluation day, ISO (default: today)")
    parser.add_argument("--master", default=os.environ.get("JIAYI_SPARK_MASTER"),
                        help="Spark master URL (default: JIAYI_SPARK_MASTER, else a cluster started here)")
    parser.add_argument("--partitions", type=int, default=None, help="shuffle partitions (default: the setting)")
    args = parser.parse_args(argv)
    _setup(None)

    from django.conf import settings
    from django.utils import timezone

    from jiayi.indicators import engine, synthetic
    from jiayi.indicators import periods as P
    from jiayi.indicators.facts import rule_context
    from jiayi.indicators.spark import Spark, spark_stop

    today = date.fromisoformat(args.today) if args.today else timezone.localdate()
    n = args.synthetic or (20_000 if args.quick else 1_000_000)
    out: dict = {"name": "spark", "source": "synthetic-arrow", "months": args.months}

    class Phases(dict):
        """Phase timings, each also reported on stderr as it ends (a run cut short still tells)."""

        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            print(f"bench_spark: {key} {value} s", file=sys.stderr, flush=True)

    phases: dict[str, float] = Phases()
    t0 = time.perf_counter()
    district = synthetic.generate(n, today=today)
    phases["generate"] = round(time.perf_counter() - t0, 2)
    out["residents"] = district.raw["residents"].num_rows
    out["rows"] = {name: table.num_rows for name, table in district.raw.items()}

    events = Path(tempfile.mkdtemp(prefix="jiayi-spark-events-"))
    with _cluster(args.master) as (master, started_here):
        options = dict(settings.JIAYI["SPARK"])
        options["MASTER"] = master
        if args.partitions:
            options["PARTITIONS"] = args.partitions
        options["CONF"] = {**options["CONF"], "spark.eventLog.enabled": "true", "spark.eventLog.dir": str(events),
                          "spark.eventLog.compress": "false"}  # readable while the run goes on
        settings.JIAYI = {**settings.JIAYI, "SPARK": options}
        out["master"] = master
        out["cluster_started_by_bench"] = started_here
        out["spark"] = {k: options[k] for k in ("DRIVER_MEMORY", "EXECUTOR_MEMORY", "EXECUTOR_CORES", "PARTITIONS")}
        t0 = time.perf_counter()
        backend = Spark()
        phases["session"] = round(time.perf_counter() - t0, 2)
        try:
            ctx = rule_context(today)
            periods = P.recent_periods(today, args.months)
            t0 = time.perf_counter()
            raw = {name: backend.load(name, table) for name, table in district.raw.items()}
            phases["load"] = round(time.perf_counter() - t0, 2)
            out["parquet_mib"] = round(
                sum(f.stat().st_size for f in backend.folder.rglob("*.parquet")) / 2**20, 1
            )
            out["parquet_files"] = sum(1 for _ in backend.folder.rglob("*.parquet"))
            t0 = time.perf_counter()
            result = engine.evaluate(
                backend, raw, district.org, periods, today=today, ctx=ctx,
                progress=lambda code: print(f"bench_spark: {code} at {time.perf_counter() - t0:.1f} s",
                                            file=sys.stderr, flush=True),
            )
            phases["evaluate"] = round(time.perf_counter() - t0, 2)
        finally:
            backend.close()
            spark_stop()
    phases["full_recompute"] = round(phases["load"] + phases["evaluate"], 2)
    out["phases_seconds"] = phases
    out["values"] = len(result.rows)
    out["periods"] = len(result.periods)
    out["slowest_indicators"] = dict(sorted(result.timings.items(), key=lambda kv: -kv[1])[:5])
    tasks = _tasks(events)
    out["tasks_scan"] = _summary([t for t in tasks if t["rows_read"] > 0])
    out["tasks_all"] = _summary(tasks)
    out["targets"] = {"full_recompute_seconds": 300}
    out["today"] = today.isoformat()
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

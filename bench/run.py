"""Run every benchmark (``bench/bench_*.py``) and merge their JSON into one document.

``bench_foundation.py`` runs first: it builds (or reuses) the big SQLite and PostgreSQL districts and
names them in its output; every other benchmark that takes ``--database-url`` is then run once per
database, the others once. ``--quick`` is passed to the benchmarks that accept it (a 20,000-resident
smoke run for the foundation benchmark). The merged document is printed and written to
``bench/results/latest.json``.

Usage::

    .venv/bin/python bench/run.py            # what `make bench` runs
    .venv/bin/python bench/run.py --quick    # smoke run
    .venv/bin/python bench/run.py --only foundation worklist
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FIRST = "bench_foundation.py"


def _help(script: Path) -> str:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                          check=False, env={**os.environ, "JIAYI_ALLOW_DEV_KEY": "1"})
    return done.stdout


def _run(script: Path, args: list[str]) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), *args], cwd=ROOT, capture_output=True, text=True,
                          check=False, env={**os.environ, "JIAYI_ALLOW_DEV_KEY": "1"})
    seconds = round(time.perf_counter() - started, 1)
    lines = [ln for ln in done.stdout.strip().splitlines() if ln.strip()]
    if done.returncode == 0 and lines:
        try:
            result = json.loads(lines[-1])
            if isinstance(result, dict):
                result.setdefault("wall_seconds", seconds)
            return result
        except json.JSONDecodeError:
            pass
    return {"error": f"exit status {done.returncode}", "stderr": done.stderr[-3000:], "stdout": done.stdout[-1000:],
            "wall_seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (20,000 residents)")
    parser.add_argument("--only", nargs="*", help="benchmark names to run (e.g. foundation worklist)")
    args = parser.parse_args(argv)
    scripts = sorted(BENCH.glob("bench_*.py"), key=lambda p: (p.name != FIRST, p.name))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    merged: dict = {
        "started_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "results": {},
    }
    databases: dict[str, str] = {}
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        usage = _help(script)
        base = ["--quick"] if args.quick and "--quick" in usage else []
        if "--database-url" in usage and script.name != FIRST:
            if not databases:
                merged["results"][name] = {"skipped": "no big database (bench_foundation did not run)"}
                continue
            merged["results"][name] = {
                backend: _run(script, [*base, "--database-url", url]) for backend, url in databases.items()
            }
        else:
            merged["results"][name] = _run(script, base)
        if script.name == FIRST:
            databases = merged["results"][name].get("databases", {}) or {}
    merged["finished_at"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    text = json.dumps(merged, ensure_ascii=False, indent=2)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if all("error" not in r for r in merged["results"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``jiayi indicators compute [--backend duckdb|db|spark] [--period 2026] [--json]``: run the engine.

Without ``--period`` the last 13 months are computed (with their quarters, years to date and years);
``--period 2026`` computes every period of 2026 so far, ``--period 2026-03`` (or 2026-Q1, 2026-YTD03)
just that one. Incremental by default: only periods whose data changed are recomputed (``--full``
recomputes everything). A progress bar goes to stderr; ``--json`` prints the run as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from jiayi.indicators import periods as P


class Command(BaseCommand):
    help = "Compute the indicator catalogue (subcommand: compute)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        compute = sub.add_parser("compute", help="compute and store the indicators")
        compute.add_argument("--backend", choices=["db", "duckdb", "spark"], default="db")
        compute.add_argument("--period", default=None,
                             help="a year (2026) or one period (2026-03, 2026-Q1, 2026-YTD03)")
        compute.add_argument("--months", type=int, default=13, help="months back when no --period is given")
        compute.add_argument("--full", action="store_true", help="recompute every period, not only changed ones")
        compute.add_argument("--today", default=None, help="evaluation day, ISO date (default: today)")
        compute.add_argument("--ruleset", action="append", default=[], metavar="PROGRAMME=CODE",
                             help="rule set to use, e.g. programme-engine=nbphs-2017-estimated")
        compute.add_argument("--json", action="store_true", help="print the run as JSON")
        compute.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        from tqdm import tqdm

        from jiayi.indicators.engine import compute

        year, codes = None, None
        if opts["period"]:
            try:
                p = P.parse(opts["period"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if p.kind == "year" and len(opts["period"].strip()) == 4:
                year = p.year
            else:
                codes = [p.code]
        try:
            today = date.fromisoformat(opts["today"]) if opts["today"] else None
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from exc
        rulesets = {}
        for item in opts["ruleset"]:
            programme, sep, code = item.partition("=")
            if not sep:
                raise CommandError("--ruleset takes PROGRAMME=CODE")
            rulesets[programme] = code

        bar = None if opts["no_progress"] else tqdm(total=1, desc="indicators", unit="step", file=sys.stderr)

        def on_total(n: int) -> None:
            if bar is not None:
                bar.total = n
                bar.refresh()

        def progress(step: str) -> None:
            if bar is not None:
                bar.set_postfix_str(step[:40])
                bar.update(1)

        try:
            run = compute(backend=opts["backend"], year=year, periods=codes, months=opts["months"], today=today,
                          incremental=not opts["full"], rulesets=rulesets or None, progress=progress,
                          on_total=on_total)
        except KeyError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        summary = {
            "run": run.pk, "status": run.status, "backend": run.backend, "incremental": run.incremental,
            "periods_requested": run.periods_requested, "periods_computed": run.periods_computed,
            "values_written": run.values_written, "seconds": run.seconds, "rulesets": run.rulesets,
            "blocked": run.blocked, "timings": run.timings,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{run.status}: {len(run.periods_computed)}/{len(run.periods_requested)} periods recomputed, "
                f"{run.values_written} values in {run.seconds}s on {run.backend}"
            )
            for code, missing in run.blocked.items():
                self.stdout.write(f"  blocked {code}: no data source {', '.join(missing)}")

"""Helpers shared by the bench scripts: Django set-up and latency statistics."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(database_url: str | None) -> None:
    """Configure Django for the project under ``ROOT`` (on ``database_url`` when given) and set it up."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JIAYI_ALLOW_DEV_KEY", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]


def stats(samples: list[float]) -> dict:
    """Median, 95th percentile and maximum of timings in milliseconds, and their number."""
    return {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(p95(samples), 1),
            "max_ms": round(max(samples), 1), "n": len(samples)}

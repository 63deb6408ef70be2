"""Date helpers over numpy ``datetime64[D]`` arrays that reuse the pure rule functions exactly.

Rules such as ``contracts.rules.contract_end`` or ``programmes.rules.annual_check_due`` are applied
to each distinct date once (a few hundred per year) and mapped back, so the vectorised stages give
the same dates as the services without reimplementing the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np

NAT = np.datetime64("NaT", "D")


def map_dates(fn: Callable[[date], date | None], days: np.ndarray) -> np.ndarray:
    """Apply ``fn`` to every distinct non-NaT date of ``days``; NaT (and None results) stay NaT."""
    days = days.astype("datetime64[D]")
    out = np.full(days.shape, NAT)
    ok = ~np.isnat(days)
    if not ok.any():
        return out
    uniq, inv = np.unique(days[ok], return_inverse=True)
    mapped = np.array([fn(d) for d in uniq.astype(object)], dtype=object)
    values = np.array([NAT if m is None else np.datetime64(m, "D") for m in mapped], dtype="datetime64[D]")
    out[ok] = values[inv]
    return out


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    from jiayi.contracts.rules import add_months as one

    return map_dates(lambda d: one(d, months), days)


def random_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uniform random date in [lo, hi] (inclusive) for each pair; lo > hi gives lo."""
    lo = lo.astype("datetime64[D]")
    span = np.maximum((hi.astype("datetime64[D]") - lo).astype(np.int64), 0)
    return lo + (rng.random(lo.shape) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def years_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def age_on(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Completed years on ``on`` (the birthday counts from the day; 29 Feb births on 1 Mar)."""
    b = birth.astype("datetime64[D]")
    o = on.astype("datetime64[D]")
    years = years_of(o) - years_of(b)
    # Compare (month, day) through the calendar, not day-of-year (leap years shift day numbers).
    bm = b.astype("datetime64[M]").astype(np.int64) % 12
    om = o.astype("datetime64[M]").astype(np.int64) % 12
    bd = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    od = (o - o.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    before = (om < bm) | ((om == bm) & (od < bd))
    return years - before.astype(np.int64)

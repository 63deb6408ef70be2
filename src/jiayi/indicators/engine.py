"""The indicator engine: every indicator, every org unit, every period, into ``IndicatorValue``.

Entry points:

- :func:`compute` — the whole pipeline (what ``jiayi indicators compute`` and the background task
  call): open a backend, fingerprint the source data per period, evaluate the periods whose data
  changed (all of them when ``incremental=False``), store the values, record a ``ComputationRun``.
- :func:`evaluate` — the same numbers in memory, without writing (tests compare backends with it).
- :func:`line_list` — the subjects behind one number: every resident (or contract) in the denominator
  of an indicator for one unit and period, and whether it is in the numerator.

Incremental runs: a period's fingerprint digests, for every raw table, the row count and id-weighted
column sums of the rows that can influence the period (rows whose relevance day is on or before the
period's as-of day), plus the rule sets, the org tree and the catalogue. A daily run therefore
recomputes the running month / quarter / year (their as-of day moved) and any past period whose data
were back-dated or corrected, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from jiayi.indicators import catalogue as C
from jiayi.indicators import periods as P
from jiayi.indicators.backends import Backend, DjangoDB, connect
from jiayi.indicators.facts import (
    LEVELS,
    ORG_COLUMNS,
    RAW,
    Facts,
    OrgDims,
    RuleContext,
    Windows,
    available_raw,
    extract_arrow,
    fingerprint_query,
    load_org,
    raw_from_django,
    rule_context,
)

__all__ = ["LEVELS", "Evaluation", "Row", "compute", "evaluate", "fingerprints", "line_list", "open_source", "store"]

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class Row:
    indicator: str
    period: str
    level: str
    unit_id: int
    numerator: float
    denominator: float
    value: float | None


@dataclass
class Evaluation:
    rows: list[Row]
    periods: list[P.Period]
    blocked: dict[str, list[str]]
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[tuple[str, str, str, int], tuple[float, float, float | None]]:
        return {(r.indicator, r.period, r.level, r.unit_id): (r.numerator, r.denominator, r.value) for r in self.rows}


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def open_source(backend_name: str, progress: Progress = None) -> tuple[Backend, dict]:
    """The backend and its raw tables, read from the Django database: DuckDB through the indicator store
    when one is configured (only the captured changes leave the database, ADR 0008); DuckDB without a
    store and Spark on PostgreSQL through the on-disk snapshot when one is configured (ADR 0007)."""
    from jiayi.indicators.snapshot import Snapshot, snapshot_dir
    from jiayi.indicators.store import Store, store_path

    db = DjangoDB()
    if backend_name == "db":
        return db, raw_from_django(db)
    if backend_name == "duckdb" and (path := store_path()):
        store = Store(path)
        try:
            backend, raw = store.open(db, progress)
        finally:
            db.close()
        backend.sync_report = {"tables": store.report, "seconds": store.seconds}
        return backend, raw
    root = snapshot_dir()
    if root and Snapshot.supports(db):
        arrow = Snapshot(root).refresh(db, progress)
    else:
        arrow = extract_arrow(db, progress=progress)
    db.close()
    backend = connect(backend_name)
    return backend, {name: backend.load(name, table) for name, table in arrow.items()}


def blocked_indicators(raw_names: Iterable[str], indicators: Sequence[C.Indicator]) -> dict[str, list[str]]:
    """Indicator code -> the raw tables it needs that do not exist (their app is not installed)."""
    have = set(raw_names)
    return {i.code: missing for i in indicators if (missing := [r for r in i.requires if r not in have])}


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _window_of(ind: C.Indicator, period: P.Period, windows: Windows, today: date) -> int:
    as_of = period.as_of(today)
    if ind.period_type == "range":
        return windows.range_id(period.start, as_of)
    return windows.asof_id(as_of)


def evaluate(
    backend: Backend,
    raw: dict,
    org: OrgDims,
    periods: Sequence[P.Period],
    *,
    today: date,
    ctx: RuleContext,
    indicators: Sequence[C.Indicator] | None = None,
    progress: Progress = None,
) -> Evaluation:
    """Every indicator for every unit and period, in memory."""
    indicators = list(indicators or C.indicators())
    periods = [p for p in periods if p.started(today)]
    blocked = blocked_indicators(raw, indicators)
    out: list[Row] = []
    timings: dict[str, float] = {}
    if not periods:
        return Evaluation(out, periods, blocked, timings)
    windows = Windows.for_periods(periods, today)
    facts = Facts(backend, raw, org, windows, ctx, today)
    group_cols = ["wid", *ORG_COLUMNS.values()]
    todo = [ind for ind in indicators if ind.code not in blocked]
    if progress:
        for code in blocked:
            progress(code)

    def aggregated(ind: C.Indicator):
        expr = ind.build(facts)
        return expr.group_by(group_cols).aggregate(num=expr.num.sum(), den=expr.den.sum())

    for ind in todo:
        t0 = time.perf_counter()
        table = backend.to_arrow(aggregated(ind))
        out.extend(_rollup(ind, table, periods, windows, today, ind.den_divisor(ctx)))
        timings[ind.code] = round(time.perf_counter() - t0, 4)
        if progress:
            progress(ind.code)
    return Evaluation(out, periods, blocked, timings)


def _rollup(
    ind: C.Indicator, table: pa.Table, periods: Sequence[P.Period], windows: Windows, today: date, divisor: int
) -> list[Row]:
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    wid = cols["wid"].astype(np.int64)
    num = np.nan_to_num(cols["num"].astype(np.float64))
    den = np.nan_to_num(cols["den"].astype(np.float64))
    by_window: dict[int, list[P.Period]] = defaultdict(list)
    for p in periods:
        by_window[_window_of(ind, p, windows, today)].append(p)
    rows: list[Row] = []
    for level in ind.levels:
        unit = cols[ORG_COLUMNS[level]]
        mask = ~_isnull(unit)
        sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for w, u, n, d in zip(wid[mask], unit[mask].astype(np.int64), num[mask], den[mask], strict=True):
            acc = sums[(int(w), int(u))]
            acc[0] += n
            acc[1] += d
        for (w, u), (n, d) in sums.items():
            n, d_units = float(n), float(d / divisor)
            value = ind.value(n, d_units)
            for p in by_window.get(w, ()):
                rows.append(Row(ind.code, p.code, level, u, n, d_units, value))
    return rows


def _isnull(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


# ---------------------------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------------------------


def fingerprints(
    backend: Backend, raw: dict, periods: Sequence[P.Period], *, today: date, ctx: RuleContext, org: OrgDims
) -> dict[str, tuple[date, str]]:
    """Period code -> (as-of day, digest of everything the period's values depend on)."""
    as_of_days = sorted({p.as_of(today) for p in periods if p.started(today)})
    day_numbers = np.array([P.day_number(d) for d in as_of_days], dtype=np.int64)
    per_day: list[list] = [[] for _d in as_of_days]
    # A backend that knows which tables changed since the last run (the indicator store) keeps each
    # table's digests per as-of day: an unchanged table is not scanned again.
    cache = getattr(backend, "fingerprint_cache", None)
    for name in sorted(raw):
        if name not in RAW:
            continue
        key = cache.key(name, [int(d) for d in day_numbers]) if cache is not None else None
        if key is not None and (hit := cache.get(key)) is not None:
            for acc, part in zip(per_day, hit, strict=True):
                acc.append((name, part))
            continue
        table = backend.to_arrow(fingerprint_query(name, raw[name], native_hash=backend.native_hash))
        if table.num_rows == 0:
            for acc in per_day:
                acc.append((name, 0))
            if key is not None:
                cache.put(key, [0] * len(per_day))
            continue
        rel = table.column("_rel").to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(rel, kind="stable")
        rel = rel[order]
        columns = [c for c in table.column_names if c != "_rel"]
        sums = np.stack([
            np.array([int(v) if v is not None else 0 for v in table.column(c).to_pylist()], dtype=object)[order]
            for c in columns
        ])
        cum = np.cumsum(sums, axis=1)
        idx = np.searchsorted(rel, day_numbers, side="right")
        parts = [[int(x) for x in cum[:, k - 1]] if k > 0 else 0 for k in idx]
        for acc, part in zip(per_day, parts, strict=True):
            acc.append((name, part))
        if key is not None:
            cache.put(key, parts)
    static = json.dumps(
        {"rules": ctx.signature(), "org": org.signature(), "catalogue": sorted(C.CATALOGUE),
         "hash": "native:" + backend.name if backend.native_hash else "portable"}, sort_keys=True
    )
    by_day = {
        d: hashlib.sha256((static + d.isoformat() + json.dumps(per_day[i])).encode()).hexdigest()
        for i, d in enumerate(as_of_days)
    }
    return {p.code: (p.as_of(today), by_day[p.as_of(today)]) for p in periods if p.started(today)}


# ---------------------------------------------------------------------------------------------
# The whole pipeline
# ---------------------------------------------------------------------------------------------


def _periods(year: int | None, period_codes: Sequence[str] | None, today: date, months: int) -> list[P.Period]:
    if period_codes:
        return sorted({P.parse(c) for c in period_codes}, key=lambda p: (p.end, p.start, p.kind))
    if year is not None:
        return P.periods_for_year(year, today)
    return P.recent_periods(today, months)


def compute(
    *,
    backend: str = "db",
    year: int | None = None,
    periods: Sequence[str] | None = None,
    months: int = 13,
    today: date | None = None,
    incremental: bool = True,
    rulesets: dict[str, str] | None = None,
    triggered_by=None,
    progress: Progress = None,
    on_total: Callable[[int], None] | None = None,
):
    """Compute and store the catalogue; returns the ``ComputationRun``.

    ``periods`` (codes) or ``year`` choose the periods, otherwise the last ``months`` months with their
    quarters, years-to-date and years. ``progress`` is called after each step (for a progress bar);
    ``on_total`` first receives the number of steps.
    """
    from django.utils import timezone

    from jiayi.indicators.models import ComputationRun

    today = today or timezone.localdate()
    wanted = _periods(year, periods, today, months)
    ctx = rule_context(today, rulesets)
    run = ComputationRun.objects.create(
        backend=backend, incremental=incremental, periods_requested=[p.code for p in wanted],
        rulesets=ctx.labels(), triggered_by=triggered_by,
    )
    started = time.perf_counter()
    timings: dict[str, float] = {}
    engine = None
    try:
        indicators = C.indicators()
        if on_total:
            on_total(len(available_raw()) * (backend != "db") + 1 + len(indicators) + 1)
        t0 = time.perf_counter()
        engine, raw = open_source(backend, progress)
        org = load_org()
        timings["load"] = round(time.perf_counter() - t0, 3)
        if (synced := getattr(engine, "sync_report", None)) is not None:
            timings["store_sync"] = synced  # type: ignore[assignment]
        t0 = time.perf_counter()
        prints = fingerprints(engine, raw, wanted, today=today, ctx=ctx, org=org)
        timings["fingerprint"] = round(time.perf_counter() - t0, 3)
        if progress:
            progress("fingerprint")
        todo = _changed(wanted, prints) if incremental else wanted
        t0 = time.perf_counter()
        result = evaluate(engine, raw, org, todo, today=today, ctx=ctx, indicators=indicators, progress=progress)
        timings["evaluate"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        counts: dict[str, int] = {}
        written = store(result, org, run=run, ctx=ctx, today=today, backend=backend, prints=prints, counts=counts)
        timings["store"] = round(time.perf_counter() - t0, 3)
        timings["stored_rows"] = counts  # type: ignore[assignment]
        if progress:
            progress("store")
        run.periods_computed = [p.code for p in result.periods]
        run.values_written = written
        run.blocked = result.blocked
        run.status = ComputationRun.Status.DONE
        timings["indicators"] = result.timings  # type: ignore[assignment]
    except Exception as exc:
        run.status = ComputationRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if engine is not None:
            engine.close()
        run.seconds = round(time.perf_counter() - started, 3)
        run.timings = timings
        run.finished_at = timezone.now()
        run.save()
    return run


def _changed(wanted: Sequence[P.Period], prints: dict[str, tuple[date, str]]) -> list[P.Period]:
    from jiayi.indicators.models import PeriodFingerprint

    stored = {
        fp.period: (fp.as_of, fp.fingerprint)
        for fp in PeriodFingerprint.objects.filter(period__in=[p.code for p in wanted])
    }
    return [p for p in wanted if p.code in prints and stored.get(p.code) != prints[p.code]]


def store(
    result: Evaluation, org: OrgDims, *, run, ctx: RuleContext, today: date, backend: str,
    prints: dict[str, tuple[date, str]] | None = None, counts: dict[str, int] | None = None,
) -> int:
    """Make the stored values of the evaluated periods equal ``result``; returns the rows written.

    Only what changed is written: the stored rows of those periods are read back and compared, new
    values inserted, changed ones updated (numbers, as-of day, unit name, scope, rule sets, backend;
    ``computed_at`` and ``run`` then say when the value last changed), vanished ones deleted. A daily
    run recomputes the running periods, whose values mostly stay the same. Inserts and updates go
    through COPY on PostgreSQL and one prepared statement (executemany) on SQLite, in one transaction.
    ``counts`` (when given) receives the numbers of rows inserted, updated, deleted and unchanged.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from jiayi.indicators.models import IndicatorValue, PeriodFingerprint

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    by_code = {p.code: p for p in result.periods}
    bounds = {
        code: (p.kind, ops.adapt_datefield_value(p.start), ops.adapt_datefield_value(p.end),
               ops.adapt_datefield_value(p.as_of(today)), p.as_of(today).isoformat())
        for code, p in by_code.items()
    }
    labels = ctx.labels()
    rulesets_of = {
        ind.code: json.dumps({p: labels[p] for p in ind.programmes if p in labels}, ensure_ascii=False)
        for ind in C.indicators()
    }
    table = ops.quote_name(IndicatorValue._meta.db_table)
    pg = connection.vendor == "postgresql"
    parsed: dict[str, object] = {}

    def rulesets(text: str | None) -> object:
        if text not in parsed:
            parsed[text] = json.loads(text) if text else {}
        return parsed[text]

    with transaction.atomic():
        stored: dict[tuple, tuple] = {}
        if by_code:
            marks = ", ".join(["%s"] * len(by_code))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, indicator, period, level, unit_id, numerator, denominator, value, as_of, unit_name, "
                    f"institution_id, {'rulesets::text' if pg else 'rulesets'}, backend FROM {table} "
                    f"WHERE period IN ({marks})", list(by_code),
                )
                for pk, ind, period, level, unit, num, den, value, as_of, name, inst, rs, be in cursor.fetchall():
                    stored[(ind, period, level, unit)] = (pk, (num, den, value, str(as_of)[:10], name, inst,
                                                              rulesets(rs), be))
        inserts, updates = [], []
        unchanged = 0
        for r in result.rows:
            kind, start, end, as_of, as_of_iso = bounds[r.period]
            unit = (r.level, r.unit_id)
            name, inst = org.names.get(unit, str(r.unit_id))[:200], org.scope_institution.get(unit)
            rs = rulesets_of.get(r.indicator, "{}")
            old = stored.pop((r.indicator, r.period, r.level, r.unit_id), None)
            if old is None:
                inserts.append((r.indicator, r.period, kind, start, end, as_of, r.level, r.unit_id, name, inst,
                                r.numerator, r.denominator, r.value, rs, backend, now,
                                run.pk if run is not None else None))
            elif old[1] != (r.numerator, r.denominator, r.value, as_of_iso, name, inst, rulesets(rs), backend):
                updates.append((old[0], as_of, name, inst, r.numerator, r.denominator, r.value, rs, backend, now,
                                run.pk if run is not None else None))
            else:
                unchanged += 1
        gone = [pk for pk, _values in stored.values()]
        with connection.cursor() as cursor:
            for k in range(0, len(gone), 900):
                part = gone[k : k + 900]
                cursor.execute(f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(part))})", part)
            _insert_values(cursor, table, inserts, pg)
            _update_values(cursor, table, updates, pg)
        for code in by_code:
            if prints and code in prints:
                as_of, digest = prints[code]
                PeriodFingerprint.objects.update_or_create(
                    period=code, defaults={"as_of": as_of, "fingerprint": digest, "run": run}
                )
    if counts is not None:
        counts.update(inserted=len(inserts), updated=len(updates), deleted=len(gone), unchanged=unchanged)
    return len(inserts) + len(updates)


_INSERT_COLUMNS = ("indicator", "period", "period_kind", "period_start", "period_end", "as_of", "level", "unit_id",
                   "unit_name", "institution_id", "numerator", "denominator", "value", "rulesets", "backend",
                   "computed_at", "run_id")
_UPDATE_COLUMNS = ("as_of", "unit_name", "institution_id", "numerator", "denominator", "value", "rulesets",
                   "backend", "computed_at", "run_id")


def _insert_values(cursor, table: str, rows: list[tuple], pg: bool) -> None:
    if not rows:
        return
    columns = ", ".join(f'"{c}"' for c in _INSERT_COLUMNS)
    if pg:
        # COPY is an order of magnitude faster than batched INSERTs for a few hundred thousand rows.
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))})"
    for k in range(0, len(rows), 10_000):
        cursor.executemany(sql, rows[k : k + 10_000])


def _update_values(cursor, table: str, rows: list[tuple], pg: bool) -> None:
    if not rows:
        return
    if pg:
        types = ("date", "varchar(200)", "bigint", "double precision", "double precision", "double precision",
                 "jsonb", "varchar(10)", "timestamptz", "bigint")
        cols = ", ".join(f'"{c}" {t}' for c, t in zip(_UPDATE_COLUMNS, types, strict=True))
        cursor.execute(f'CREATE TEMPORARY TABLE "_jiayi_value_updates" (id bigint, {cols}) ON COMMIT DROP')
        with cursor.cursor.copy('COPY "_jiayi_value_updates" FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        assign = ", ".join(f'"{c}" = u."{c}"' for c in _UPDATE_COLUMNS)
        cursor.execute(f'UPDATE {table} AS t SET {assign} FROM "_jiayi_value_updates" AS u WHERE t.id = u.id')
        cursor.execute('DROP TABLE "_jiayi_value_updates"')
        return
    assign = ", ".join(f'"{c}" = %s' for c in _UPDATE_COLUMNS)
    sql = f"UPDATE {table} SET {assign} WHERE id = %s"
    reordered = [(*row[1:], row[0]) for row in rows]
    for k in range(0, len(reordered), 10_000):
        cursor.executemany(sql, reordered[k : k + 10_000])


# ---------------------------------------------------------------------------------------------
# Line lists
# ---------------------------------------------------------------------------------------------


def _restriction(level: str, unit_id: int) -> list[int] | None:
    """Resident ids that can belong to the unit (narrows the computation), or None for everyone."""

    from jiayi.org.models import Area
    from jiayi.org.selectors import institution_subtree_ids
    from jiayi.residents.models import Resident

    if level == "district":
        return None
    if level in ("station", "centre"):
        ids = Resident.objects.filter(institution_id__in=institution_subtree_ids(unit_id))
    elif level == "street":
        street = Area.objects.get(pk=unit_id)
        ids = Resident.objects.filter(area__code__startswith=street.code)
    else:
        # Two index lookups united, not one OR across two joins (seconds at a million residents).
        from jiayi.contracts.models import Contract

        field_name = "team_id" if level == "team" else "doctor_id"
        ids = Contract.objects.filter(**{field_name: unit_id}).order_by().values_list("resident_id", flat=True)
        if _has_model("programmes.Enrolment"):
            from django.apps import apps

            # By label: the programme engine's models are read, not imported (programmes import indicators).
            enrolled = apps.get_model("programmes.Enrolment").objects.filter(**{field_name: unit_id}).order_by()
            ids = ids.union(enrolled.values_list("resident_id", flat=True))
        return sorted(set(ids))
    return list(ids.values_list("pk", flat=True).distinct())


def _has_model(label: str) -> bool:
    from django.apps import apps

    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def line_list(
    indicator: str, period: str, level: str, unit_id: int, *, backend: str = "db", today: date | None = None,
    rulesets: dict[str, str] | None = None,
) -> list[dict]:
    """The subjects in the denominator of ``indicator`` for one unit and period, with ``in_numerator``.

    Computed live with the same expression as the stored value (on the Django database by default),
    narrowed to the residents that can belong to the unit.
    """
    from django.utils import timezone

    ind = C.get(indicator)
    if level not in ind.levels:
        raise ValueError(f"{indicator} has no values at the {level} level")
    p = P.parse(period)
    today = today or timezone.localdate()
    ctx = rule_context(today, rulesets)
    engine, raw = open_source(backend)
    try:
        if blocked_indicators(raw, [ind]):
            return []
        org = load_org()
        windows = Windows.for_periods([p], today)
        restrict_ids = _restriction(level, unit_id)
        restrict = None
        if restrict_ids is not None:
            restrict = engine.load("restrict", pa.table({"resident_id": pa.array(restrict_ids, pa.int64())}))
        facts = Facts(engine, raw, org, windows, ctx, today, restrict=restrict)
        expr = ind.build(facts)
        col = ORG_COLUMNS[level]
        wid = _window_of(ind, p, windows, today)
        expr = expr.filter(expr.wid == wid, expr[col] == unit_id, expr.den > 0)
        table = engine.to_arrow(expr.select("subject_id", "resident_id", "num", "den"))
    finally:
        engine.close()
    rows = [
        {"subject_id": s, "resident_id": r, "in_numerator": bool(n)}
        for s, r, n in zip(
            table.column("subject_id").to_pylist(), table.column("resident_id").to_pylist(),
            table.column("num").to_pylist(), strict=True,
        )
    ]
    return sorted(rows, key=lambda x: (x["in_numerator"], x["resident_id"] or 0, x["subject_id"] or 0))


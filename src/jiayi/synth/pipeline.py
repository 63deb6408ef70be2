"""The generator: ordered stages run in one transaction, with progress.

Stages: ``org`` → ``residents`` → ``records`` → ``measurements`` → ``contracts`` → ``programmes`` →
``finalise``. Each stage draws from its own random stream (seed + stage name), so the same seed,
size, district and reference date give the same content (checked by ``content_digest``). Stages
whose app is not installed are skipped and listed in the result.

The stages are a registry (:func:`register_stage`, ordered by ``order``): the generator's own are
registered here, and an app adds its stage from its ``synth_stages.py`` (found by
:func:`jiayi.core.discovery.autodiscover` when a run starts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.synth import params, reference
from jiayi.synth.context import SynthContext
from jiayi.synth.loader import Loader

MAX_RESIDENTS = 5_000_000


class SynthError(Exception):
    """A run that cannot start (bad arguments, district not empty); the message is for the user."""


@dataclass
class SynthResult:
    district: str
    seed: int
    residents: int
    as_of: date
    seconds: float
    counts: dict[str, int]
    stage_seconds: dict[str, float]
    skipped: list[str] = field(default_factory=list)
    replaced: dict[str, int] = field(default_factory=dict)


def _stage_org(ctx: SynthContext) -> None:
    from jiayi.synth.org import build_org

    ctx.frames["org"] = build_org(ctx)
    if ctx.frames.get("contracts_available"):
        from jiayi.synth.contracts import install_packages

        install_packages(ctx)


def _stage_residents(ctx: SynthContext) -> None:
    from jiayi.synth.residents import build_residents

    ctx.frames["residents"] = build_residents(ctx)


def _stage_records(ctx: SynthContext) -> None:
    from jiayi.synth.records import build_records

    ctx.frames["records"] = build_records(ctx)


def _stage_measurements(ctx: SynthContext) -> None:
    from jiayi.synth.measurements import build_measurements

    build_measurements(ctx)


def _stage_contracts(ctx: SynthContext) -> None:
    from jiayi.synth.contracts import build_contracts

    build_contracts(ctx)


def _stage_finalise(ctx: SynthContext) -> None:
    from jiayi.synth.records import write_records

    if "contracts" in ctx.frames:
        from jiayi.synth.contracts import write_items

        write_items(ctx)
    write_records(ctx)


def _contracts_available() -> bool:
    from jiayi.synth.contracts import available

    return available()


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Stage:
    """One stage: ``run(ctx)`` writes ``tables`` (their first free ids are read before the writer
    starts); ``available()`` says whether its apps and tables exist (else the stage is skipped)."""

    name: str
    run: Callable[[SynthContext], None]
    tables: tuple[str, ...] = ()
    available: Callable[[], bool] = _always
    order: int = 100


_STAGES: dict[str, Stage] = {}


def register_stage(stage: Stage) -> Stage:
    """Add (or replace) a stage; stages run by ``order``."""
    _STAGES[stage.name] = stage
    return stage


def stages() -> list[Stage]:
    """The registered stages in running order (every app's ``synth_stages`` module imported first)."""
    from jiayi.core.discovery import autodiscover

    autodiscover("synth_stages")
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


register_stage(Stage("org", _stage_org, ("org_area", "org_institution", "org_staff", "org_team", "org_teammember"),
                     order=10))
register_stage(Stage("residents", _stage_residents, ("residents_household", "residents_resident"), order=20))
register_stage(Stage("records", _stage_records, (
    "residents_problem", "residents_keypopulationtag", "residents_recordserialcounter", "residents_healthrecord",
), order=30))
register_stage(Stage("measurements", _stage_measurements, ("residents_measurement",), order=40))
register_stage(Stage("contracts", _stage_contracts, (
    "contracts_servicepackage", "contracts_packageitem", "contracts_contract", "contracts_contractpackage",
    "contracts_householdsigning", "contracts_satisfactionsurvey", "contracts_contractitem",
    "contracts_servicedelivery",
), available=_contracts_available, order=50))
#: The programmes stage (jiayi.synth.synth_stages) runs at 60.
register_stage(Stage("finalise", _stage_finalise, order=1000))


def _tables(todo: list[Stage]) -> list[str]:
    return [t for stage in todo for t in stage.tables]


def district_population(county_code: str, *, using: str = DEFAULT_DB_ALIAS) -> tuple[bool, int]:
    """(the county area exists, residents living in it)."""
    from jiayi.org.models import Area
    from jiayi.residents.models import Resident

    exists = Area.objects.using(using).filter(code__startswith=county_code).exists()
    n = Resident.objects.using(using).filter(area__code__startswith=county_code).count() if exists else 0
    return exists, n


def generate(
    *,
    district: str,
    residents: int,
    seed: int,
    as_of: date | None = None,
    replace: bool = False,
    progress: bool = True,
    using: str = DEFAULT_DB_ALIAS,
    log: Callable[[str], None] | None = None,
) -> SynthResult:
    """Build the district into the database ``using``; see the module docstring."""
    if district not in reference.DISTRICTS:
        raise SynthError(
            _("未知的区县“%(name)s”，可选：%(choices)s。")
            % {"name": district, "choices": "、".join(reference.DISTRICTS)}
        )
    if not 1 <= residents <= MAX_RESIDENTS:
        raise SynthError(_("居民数应在1到%(max)s之间。") % {"max": f"{MAX_RESIDENTS:,}"})
    d = reference.get_district(district)
    as_of = as_of or timezone.localdate()
    connection = connections[using]
    exists, n_existing = district_population(d.county_code, using=using)
    if exists and not replace:
        raise SynthError(
            _("%(county)s（%(code)s）已有数据（%(n)s 名居民），未做任何修改。如需重新生成，请加 --replace。")
            % {"county": d.county_name, "code": d.county_code, "n": f"{n_existing:,}"}
        )
    stage_seconds: dict[str, float] = {}
    todo = stages()
    skipped = [stage.name for stage in todo if not stage.available()]
    todo = [stage for stage in todo if stage.name not in skipped]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=residents, unit="人", desc=f"synth {district}", unit_scale=True, leave=True)

    def on_rows(table: str, rows: int) -> None:
        if bar is not None:
            if table == "residents_resident":
                bar.update(rows)
            bar.set_postfix_str(f"{table} +{rows:,}", refresh=True)

    started = time.perf_counter()
    started_at = timezone.now()
    loader = Loader(connection, progress=on_rows)
    ctx = SynthContext(district=d, residents=residents, seed=seed, as_of=as_of, loader=loader)
    ctx.frames["programmes_available"] = "programmes" not in skipped
    ctx.frames["contracts_available"] = "contracts" not in skipped
    replaced: dict[str, int] = {}
    # Relaxed durability for the load (one transaction: a crash loses the run, never half of it);
    # SQLite only allows the change outside a transaction.
    sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
    journal = None
    if sqlite:
        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous=OFF")
            # A rollback journal writes new pages once; WAL would write the whole load twice (WAL, then
            # checkpoint). Only possible when no other connection has the file open; else stay in WAL.
            cur.execute("PRAGMA journal_mode")
            journal = cur.fetchone()[0]
            if journal == "wal":
                cur.execute("PRAGMA journal_mode=DELETE")
    try:
        with transaction.atomic(using=using):
            try:
                if exists:
                    from jiayi.synth.purge import purge_district

                    t = time.perf_counter()
                    replaced = purge_district(d.county_code, district, connection=connection)
                    stage_seconds["replace"] = round(time.perf_counter() - t, 2)
                loader.begin()
                from jiayi.synth.records import serial_counters

                ctx.frames["serial_counters"] = serial_counters(d.county_code)
                loader.prefetch_ids(_tables(todo))
                for stage in todo:
                    name = stage.name
                    if bar is not None:
                        bar.set_description(f"synth {district} · {name}")
                    t = time.perf_counter()
                    stage.run(ctx)
                    stage_seconds[name] = round(time.perf_counter() - t, 2)
                    if log:
                        log(f"{name}: {stage_seconds[name]:.1f}s")
                t = time.perf_counter()
                loader.finish()
                stage_seconds["indexes"] = round(time.perf_counter() - t, 2)
            except BaseException:
                loader.abort()  # stop the writer before the transaction rolls back
                raise
            from jiayi.synth.models import SynthRun

            seconds = time.perf_counter() - started
            SynthRun.objects.using(using).create(
                district=district, county_code=d.county_code, seed=seed, residents=residents, as_of=as_of,
                generator_version=params.GENERATOR_VERSION, started_at=started_at, seconds=round(seconds, 2),
                counts=dict(ctx.counts), stage_seconds=stage_seconds,
            )
    finally:
        if sqlite:
            with connection.cursor() as cur:
                cur.execute("PRAGMA synchronous=NORMAL")
                if journal == "wal":
                    cur.execute("PRAGMA journal_mode=WAL")
        if bar is not None:
            bar.close()
    t = time.perf_counter()
    loader.analyze()
    stage_seconds["analyze"] = round(time.perf_counter() - t, 2)
    from jiayi.org.selectors import clear_org_cache

    clear_org_cache()
    return SynthResult(
        district=district, seed=seed, residents=residents, as_of=as_of, seconds=round(time.perf_counter() - started, 2),
        counts=dict(ctx.counts), stage_seconds=stage_seconds, skipped=skipped, replaced=replaced,
    )

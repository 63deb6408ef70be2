"""Regression: every value the indicator engine gives on a fixed generated district stays the same.

A district of 2,000 residents (Gusu, seed 7, as of 2025-06-30) is generated with the real synth pipeline;
every indicator of the catalogue is evaluated with the DuckDB backend for every org unit and for the last
13 months with their quarters, years-to-date and years, and compared with the golden file
``tests/indicators/golden/gusu-2000-seed7.json.gz`` (rows [indicator, level, unit key, period, numerator,
denominator], sorted). The generator makes no tuberculosis tags and no poverty-lifted residents, so
``contract.coverage.tuberculosis`` and ``contract.coverage.poverty_lifted`` have no rows; every other
indicator of the catalogue has.

Indicators of the test-only programmes (tests/plugin_programmes, installed by the test settings: their
builders live under ``tests.``) are left out; their synth stages run after the real ones with random
streams of their own, so the real values do not move.

Unit keys do not depend on database ids: institutions by code, streets by area code, teams by their
institution's code and name, doctors by institution code and practising certificate.

To regenerate the golden file deliberately (after a change that is meant to change values), run::

    JIAYI_REGEN_GOLDEN=1 python -m pytest tests/indicators/test_golden.py

and commit the new file with the reason in the message. The run then fails on purpose ("regenerated")
so that a regeneration never passes silently.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from django.db import transaction

from jiayi.synth import reference
from jiayi.synth.pipeline import generate
from jiayi.synth.purge import purge_district

DISTRICT = "gusu"
RESIDENTS = 2_000
SEED = 7
AS_OF = date(2025, 6, 30)
GOLDEN = Path(__file__).parent / "golden" / f"{DISTRICT}-{RESIDENTS}-seed{SEED}.json.gz"
REGENERATE = os.environ.get("JIAYI_REGEN_GOLDEN") == "1"
PRECISION = 9  # decimals kept for numerators and denominators (denominators of rates per 10,000 are fractions)


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        generate(district=DISTRICT, residents=RESIDENTS, seed=SEED, as_of=AS_OF, progress=False)
        try:
            yield
        finally:
            with transaction.atomic():
                purge_district(reference.get_district(DISTRICT).county_code, DISTRICT)


def _unit_keys() -> dict[tuple[str, int], str]:
    """(level, unit id) -> a key made of codes and names that every database gives alike."""
    from jiayi.org.models import Area, Institution, Staff, Team

    inst_code = dict(Institution.objects.values_list("id", "code"))
    keys: dict[tuple[str, int], str] = {}
    for pk, code in inst_code.items():
        for level in ("station", "centre", "district"):
            keys[(level, pk)] = code
    for pk, code in Area.objects.values_list("id", "code"):
        keys[("street", pk)] = code
    for pk, inst, name in Team.objects.values_list("id", "institution_id", "name"):
        keys[("team", pk)] = f"{inst_code[inst]}/{name}"
    for pk, inst, cert, name in Staff.objects.values_list("id", "institution_id", "practising_certificate", "name"):
        keys[("doctor", pk)] = f"{inst_code[inst]}/{cert or name}"
    for level in ("team", "doctor"):
        seen = defaultdict(list)
        for (lv, pk), key in keys.items():
            if lv == level:
                seen[key].append(pk)
        dupes = {k: v for k, v in seen.items() if len(v) > 1}
        assert not dupes, f"unit keys of {level} are not unique: {dupes}"
    return keys


def ignored_indicators() -> set[str]:
    """Codes of the indicators contributed by test-only programmes (their builder is defined under ``tests.``)."""
    from jiayi.indicators import catalogue

    return {i.code for i in catalogue.indicators() if getattr(i.build, "__module__", "").startswith("tests.")}


def _rows() -> list[list]:
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.facts import load_org, rule_context

    backend, raw = engine.open_source("duckdb")
    try:
        evaluation = engine.evaluate(
            backend, raw, load_org(), P.recent_periods(AS_OF, 13), today=AS_OF, ctx=rule_context(AS_OF)
        )
    finally:
        backend.close()
    assert evaluation.blocked == {}
    keys = _unit_keys()
    skip = ignored_indicators()
    rows = [
        [r.indicator, r.level, keys[(r.level, r.unit_id)], r.period,
         round(r.numerator, PRECISION), round(r.denominator, PRECISION)]
        for r in evaluation.rows
        if r.indicator not in skip
    ]
    rows.sort(key=lambda row: tuple(row[:4]))
    return rows


def _differences(golden: list[list], now: list[list]) -> dict[str, list[str]]:
    """Indicator code -> the first few differing (level, unit, period) rows."""
    old = {tuple(r[:4]): tuple(r[4:]) for r in golden}
    new = {tuple(r[:4]): tuple(r[4:]) for r in now}
    out: dict[str, list[str]] = defaultdict(list)
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        same = a is not None and b is not None and all(
            abs(x - y) <= 10 ** -PRECISION for x, y in zip(a, b, strict=True)
        )
        if not same and len(out[key[0]]) < 5:
            out[key[0]].append(f"{key[1]} {key[2]} {key[3]}: golden {a}, now {b}")
    return dict(out)


@pytest.mark.django_db
def test_indicator_values_on_the_generated_district_match_the_golden_file(generated):
    rows = _rows()
    assert len({r[0] for r in rows}) > 30 and len(rows) > 1000  # the district gives values for the catalogue
    if REGENERATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"
        with GOLDEN.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:  # same bytes each time
            gz.write(text.encode())
        pytest.fail(f"regenerated {GOLDEN.name} with {len(rows)} rows: unset JIAYI_REGEN_GOLDEN and rerun")
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        golden = json.load(fh)
    differences = _differences(golden, rows)
    assert not differences, (
        f"{len(differences)} indicators differ from {GOLDEN.name}: {sorted(differences)}\n"
        + "\n".join(f"{code}: " + "; ".join(lines) for code, lines in sorted(differences.items()))
    )

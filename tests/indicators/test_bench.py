"""The benchmark stays runnable: a small synthetic district through bench/bench_indicators.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_indicators.py"


def test_the_bench_prints_its_measurements(capsys, db):
    spec = importlib.util.spec_from_file_location("bench_indicators", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--synthetic", "2000", "--today", "2026-11-28", "--threads", "1", "--repeat", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "synthetic-arrow" and out["residents"] == 2000 and out["periods"] == 33
    assert out["full_recompute_seconds"] > 0 and out["values"] > 0
    assert len(out["full_recompute_runs"]) == 2 and len(out["incremental_daily_runs"]) == 2
    assert out["incremental_daily"]["periods_recomputed"] == ["2026-YTD11", "2026-11", "2026", "2026-Q4"]


def test_synthetic_tables_have_the_raw_schemas():
    from jiayi.indicators.backends import arrow_schema
    from jiayi.indicators.facts import RAW
    from jiayi.indicators.synthetic import generate

    district = generate(500, seed=1)
    assert set(district.raw) == set(RAW)
    for name, table in district.raw.items():
        assert table.schema == arrow_schema(RAW[name].schema), name

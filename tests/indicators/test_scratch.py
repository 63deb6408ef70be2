import time
from tests.indicators.conftest import TODAY


def test_scratch(small):
    from jiayi.indicators import engine, periods as P, catalogue as C
    from jiayi.indicators.facts import load_org, rule_context, Facts, Windows
    ctx = rule_context(TODAY)
    org = load_org()
    t0 = time.time()
    b, raw = engine.open_source("spark")
    print("open", time.time() - t0); t0 = time.time()
    ev = engine.evaluate(b, raw, org, P.periods_for_year(2025, TODAY), today=TODAY, ctx=ctx)
    print("eval", time.time() - t0, ev.timings); t0 = time.time()
    b.close()
    assert 0

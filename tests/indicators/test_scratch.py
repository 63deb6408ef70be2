import time
from tests.indicators.conftest import TODAY


def test_scratch(small):
    from jiayi.indicators import engine, periods as P
    from jiayi.indicators.facts import load_org, rule_context
    ctx = rule_context(TODAY)
    org = load_org()
    res = {}
    for name in ("db", "duckdb"):
        t0 = time.time()
        b, raw = engine.open_source(name)
        ev = engine.evaluate(b, raw, org, P.periods_for_year(2025, TODAY) + [P.parse("2026-01")], today=TODAY, ctx=ctx)
        b.close()
        res[name] = ev.as_dict()
        print(name, len(ev.rows), time.time() - t0)
    for k in res["db"]:
        if res["db"][k] != res["duckdb"].get(k):
            print("DIFF", k, res["db"][k], res["duckdb"].get(k))
    for k, v in sorted(res["db"].items()):
        if k[1] in ("2025", "2025-06") and k[2] == "district":
            print("V", k[0], k[1], v)
    assert set(res["db"]) == set(res["duckdb"])
    assert 0

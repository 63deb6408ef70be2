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
    periods = P.periods_for_year(2025, TODAY)
    w = Windows.for_periods(periods, TODAY)
    f = Facts(b, raw, org, w, ctx, TODAY)
    for ind in C.indicators():
        e = ind.build(f)
        agg = e.group_by(["wid", "district_id"]).aggregate(n=e.num.sum())
        t1 = time.time(); sql = b.con.compile(agg); tc = time.time() - t1
        t1 = time.time(); df = b.con._session.sql(sql); tp = time.time() - t1
        t1 = time.time(); df.toPandas(); tx = time.time() - t1
        print("IND", ind.code, round(tc, 2), round(tp, 2), round(tx, 2), len(sql))
    b.close()
    assert 0

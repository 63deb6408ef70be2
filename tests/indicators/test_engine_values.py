"""Every indicator of the catalogue on the hand-built district (tests/indicators/conftest.py), counted by
hand, and the same numbers on every backend.

The suite runs on SQLite and on PostgreSQL (DATABASE_URL); each run checks the Django-database backend
against the hand counts and DuckDB (fed through Arrow) against it; Spark in test_spark.py.
"""

from __future__ import annotations

import pytest

from tests.indicators.conftest import TODAY

# District values as (numerator, denominator); the comment under each names who is counted.
YEAR_2025 = {  # as of 2025-12-31. Population: R1 R2 R3 R4 R6 R7 R8 R10 (R5 died in July, R9 moved out)
    "record.rate": (7, 8),  # all but R6
    "record.electronic_rate": (6, 8),  # R4's record is on paper
    "record.use_rate": (5, 7),  # of the 7 records: R1 R2 R7 R8 R10 have a measurement, visit or service in 2025
    "record.open_rate": (3, 6),  # R1 R7 R8 of the electronic R1 R2 R3 R7 R8 R10
    "record.elderly_rate": (3, 3),  # R1 R2 (65 since July) R7
    "record.child_rate": (1, 1),  # R4
    "contract.coverage": (5, 8),  # in force on 12-31: C1 C2B C4 C7 C8 (C6 terminated, C10 expired)
    "contract.coverage.elderly": (3, 3),
    "contract.coverage.maternal": (0, 1),  # R10's contract expired in September
    "contract.coverage.child": (1, 1),
    "contract.coverage.disabled": (1, 1),  # R7
    "contract.coverage.poverty_lifted": (1, 1),  # R8
    "contract.coverage.special_fp_family": (0, 0),
    "contract.coverage.hypertension": (2, 3),  # tags R1 R3 R7; R3 has no contract
    "contract.coverage.diabetes": (1, 1),  # R2
    "contract.coverage.tuberculosis": (0, 0),
    "contract.coverage.severe_mental": (0, 0),
    "contract.coverage.key_populations": (5, 7),  # R1 R2 R3 R4 R7 R8 R10; unsigned R3 R10
    "contract.coverage.elderly_managed": (2, 2),  # R1 (health check), R7 (elderly_check service)
    "contract.coverage.ht_managed": (2, 2),  # R1 R7
    "contract.coverage.dm_managed": (1, 1),  # R2
    "contract.personalised_share": (1, 7),  # R7's contract has the personalised package
    "contract.renewal_rate": (1, 4),  # expired in 2025: C1 C2A C8 C10 (C9: moved out; C6: terminated); C2A renewed
    "contract.fulfilment_rate": (6, 7),  # in service: C1 C2A C2B C4 C7 C8 C10; C8 is 5 of 12 consultations
    "contract.satisfaction": (2, 3),  # scores 4, 3, 5
    "ht.management_rate": (2, 3),  # managed R1 R7 of the registered R1 R3 R7
    "ht.standardised_rate": (2, 2),  # R1 four visits; R7 three in Jul-Dec (needs ceil(4 x 184/365) = 3)
    "ht.control_rate": (1, 2),  # R1 145/85 at 70 (< 150/90); R7 160/95
    "dm.management_rate": (1, 1),
    "dm.standardised_rate": (0, 1),  # R2: the September visit was by phone, 3 face-to-face visits
    "dm.control_rate": (0, 1),  # R2 last FPG 7.2
    "chronic.medication_plan_share": (2, 3),  # signed and enrolled R1 R2 R7; R2 has no plan
    "elderly.management_rate": (2, 3),  # R1 R7 of R1 R2 R7
    # doctor_a, station_doctor, doctor_b and 林 (joined 07-01); 何 left 11-01, 马 left on no recorded day; 8 residents
    "workforce.gp_per_10k": (4, 0.0008),
}

JUNE_2025 = {  # as of 2025-06-30. Population adds R5; R2 is 64
    "record.rate": (8, 9),
    "record.electronic_rate": (7, 9),
    "record.use_rate": (4, 8),  # R1 R2 R8 (Nov 2024 measurement) R10; R7's first visit is in July
    "record.elderly_rate": (3, 3),  # R1 R5 R7
    "contract.coverage": (6, 9),  # C1 C2A C4 C6 C8 C10
    "contract.coverage.elderly": (1, 3),  # R1 of R1 R5 R7
    "contract.coverage.maternal": (1, 1),
    "contract.coverage.hypertension": (1, 3),  # R7's tag dates from 06-20, R3's from 03-01
    "contract.coverage.key_populations": (5, 8),
    "contract.renewal_rate": (1, 1),  # C2A ended 06-30, renewed
    "contract.fulfilment_rate": (6, 6),  # C8 had 5 of the 5 consultations due by 06-30
    "contract.satisfaction": (1, 1),  # R10's survey of 06-01
    "ht.management_rate": (1, 3),
    "ht.standardised_rate": (1, 1),  # R1: 2 visits needed by 06-30, gaps 40, 89, 51 days
    "ht.control_rate": (1, 1),  # R1 142/88 on 05-10
    "dm.standardised_rate": (1, 1),  # R2: 03-01 and 06-01 face to face
    "dm.control_rate": (1, 1),  # 6.8 on 06-01
    "chronic.medication_plan_share": (1, 2),  # R1 (plan), R2 (none); R7 not enrolled yet
    "elderly.management_rate": (1, 3),
    "workforce.gp_per_10k": (4, 0.0009),  # doctor_a, station_doctor, doctor_b and 何 (until 11-01); 林 joins in July
}


def _evaluate(backend_name: str, periods=("2025", "2025-06")):
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.facts import load_org, rule_context

    backend, raw = engine.open_source(backend_name)
    try:
        return engine.evaluate(
            backend, raw, load_org(), [P.parse(p) for p in periods], today=TODAY, ctx=rule_context(TODAY)
        )
    finally:
        backend.close()


def _at(evaluation, code: str, period: str, level: str, unit_id: int):
    return evaluation.as_dict().get((code, period, level, unit_id))


def _district(small) -> int:
    return small.d.commission.pk


def _check(evaluation, expected: dict, period: str, level: str, unit_id: int) -> None:
    problems = []
    for code, (num, den) in expected.items():
        got = _at(evaluation, code, period, level, unit_id)
        if den == 0:
            if got is not None and got[1] != 0:
                problems.append((code, (num, den), got))
            continue
        if got is None or got[0] != num or abs(got[1] - den) > 1e-9:
            problems.append((code, (num, den), got))
    assert not problems, problems


def test_every_indicator_of_the_catalogue_is_counted_by_hand(small):
    from jiayi.indicators.catalogue import CATALOGUE
    from tests.indicators.test_golden import ignored_indicators

    # The test-only programmes' indicators (tests/plugin_programmes) are tested with them.
    assert set(YEAR_2025) == set(CATALOGUE) - ignored_indicators()
    evaluation = _evaluate("db")
    assert evaluation.blocked == {}
    _check(evaluation, YEAR_2025, "2025", "district", _district(small))


def test_june_values_are_taken_as_of_the_month_end(small):
    evaluation = _evaluate("db")
    _check(evaluation, JUNE_2025, "2025-06", "district", _district(small))


def test_values_below_the_district_follow_the_org_tree(small):
    d = small.d
    ev = _evaluate("db")
    # Centre A counts its station's residents; the station only its own.
    assert _at(ev, "record.rate", "2025", "centre", d.centre_a.pk)[:2] == (5, 6)
    assert _at(ev, "record.rate", "2025", "station", d.station_a1.pk)[:2] == (1, 2)
    assert _at(ev, "record.rate", "2025", "centre", d.centre_b.pk)[:2] == (2, 2)
    assert _at(ev, "record.rate", "2025", "street", d.street_a.pk)[:2] == (5, 6)
    assert _at(ev, "record.rate", "2025", "street", d.street_b.pk)[:2] == (2, 2)
    # Teams and doctors count the residents signed with them on the as-of day.
    assert _at(ev, "record.rate", "2025", "team", d.team_a.pk)[:2] == (3, 3)  # R1 R2 R4
    assert _at(ev, "record.rate", "2025", "doctor", d.doctor_a.pk)[:2] == (3, 3)
    assert _at(ev, "record.rate", "2025", "team", small.team_s.pk)[:2] == (1, 1)  # R7
    # Programme indicators follow the enrolment's responsible doctor.
    assert _at(ev, "ht.standardised_rate", "2025", "doctor", d.doctor_a.pk)[:2] == (1, 1)
    assert _at(ev, "ht.control_rate", "2025", "doctor", d.station_doctor.pk)[:2] == (0, 1)
    # Contract indicators follow the contract's team.
    assert _at(ev, "contract.renewal_rate", "2025", "team", d.team_a.pk)[:2] == (1, 2)  # C1, C2A
    assert _at(ev, "contract.fulfilment_rate", "2025", "team", d.team_b.pk)[:2] == (1, 2)  # C8 behind, C10
    assert _at(ev, "contract.satisfaction", "2025", "team", d.team_b.pk)[:2] == (1, 2)
    # GPs per 10,000: centre A has doctor_a and its station's doctor for six residents (何 has left the
    # station, 马 is no longer in post); centre B doctor_b and 林 for R8 and R10.
    assert _at(ev, "workforce.gp_per_10k", "2025", "centre", d.centre_a.pk)[2] == pytest.approx(3333.3333)
    assert _at(ev, "workforce.gp_per_10k", "2025", "station", d.station_a1.pk)[2] == pytest.approx(5000.0)
    assert _at(ev, "workforce.gp_per_10k", "2025", "centre", d.centre_b.pk)[:3] == (2, 0.0002, 10000.0)


def test_gps_are_counted_in_post_on_the_as_of_day(small):
    d = small.d
    ev = _evaluate("db", periods=("2025-06", "2025-Q3", "2025-10", "2025-11", "2026-01"))

    def gps(period, level="district", unit=None):
        return _at(ev, "workforce.gp_per_10k", period, level, unit or _district(small))[:2]

    # 06-30: 何 still at the station, 林 not yet at centre B. Population R1-R8 and R10.
    assert gps("2025-06") == (4, 0.0009)
    assert gps("2025-06", "station", d.station_a1.pk) == (2, 0.0002)  # station_doctor, 何; R6 R7
    assert gps("2025-06", "centre", d.centre_b.pk) == (1, 0.0002)  # doctor_b; R8 R10
    # 09-30 and 10-31: both in post (R5 died in July).
    assert gps("2025-Q3") == (5, 0.0008)
    assert gps("2025-10") == (5, 0.0008)
    # 11-30: 何 left on 11-01; and still so in the running month (as of 2026-01-15).
    assert gps("2025-11") == (4, 0.0008)
    assert gps("2025-11", "station", d.station_a1.pk) == (1, 0.0002)
    assert gps("2026-01") == (4, 0.0008)


def test_population_rates_have_no_team_or_doctor_values(small):
    ev = _evaluate("db")
    assert _at(ev, "contract.coverage", "2025", "team", small.d.team_a.pk) is None
    assert _at(ev, "ht.management_rate", "2025", "doctor", small.d.doctor_a.pk) is None


def test_a_quarter_and_the_year_to_date_share_the_month_end(small):
    ev = _evaluate("db", periods=("2025-Q2", "2025-YTD06", "2025-06"))
    for code in ("record.rate", "ht.standardised_rate"):
        values = {p: _at(ev, code, p, "district", _district(small)) for p in ("2025-Q2", "2025-YTD06", "2025-06")}
        assert len(set(values.values())) == 1, values
    # A range indicator counts the quarter's events: C2A expired in the quarter, nothing else did.
    assert _at(ev, "contract.renewal_rate", "2025-Q2", "district", _district(small))[:2] == (1, 1)


def test_the_estimated_denominator_variant_uses_adults_times_prevalence(small):
    from jiayi.indicators import engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.catalogue import CATALOGUE
    from jiayi.indicators.facts import load_org, rule_context

    ctx = rule_context(TODAY, {"programme-engine": "nbphs-2017-estimated"})
    backend, raw = engine.open_source("db")
    try:
        ev = engine.evaluate(backend, raw, load_org(), [P.parse("2025")], today=TODAY, ctx=ctx,
                             indicators=[CATALOGUE["ht.management_rate"], CATALOGUE["dm.management_rate"]])
    finally:
        backend.close()
    # Adults (18+) in the population on 2025-12-31: all but R4 -> 7 x 25.2% = 1.764 estimated patients.
    num, den, value = _at(ev, "ht.management_rate", "2025", "district", _district(small))
    assert (num, den) == (2, pytest.approx(7 * 0.252))
    assert value == pytest.approx(2 / 1.764 * 100, abs=1e-3)
    # No diabetes prevalence in the rule set: the registered patients stay the denominator.
    assert _at(ev, "dm.management_rate", "2025", "district", _district(small))[:2] == (1, 1)
    assert "估算" in CATALOGUE["ht.management_rate"].variant_text(ctx)


def test_duckdb_gives_identical_values(small):
    assert _evaluate("duckdb").as_dict() == _evaluate("db").as_dict()

"""A synthetic district generated directly as the engine's raw Arrow tables (no Django database).

For the benchmark (``bench/bench_indicators.py --synthetic``) and scale tests: the tables have exactly
the columns of :data:`jiayi.indicators.facts.RAW`, with plausible volumes at a million residents (about
ten million visit and measurement rows), so the engine runs the same expressions as on a real
district. The figures are shaped for load, not for epidemiology (the real synthetic district is
``jiayi synth``). Each registered follow-up programme with a :class:`SyntheticShape` (registered from
its ``indicators.py`` with :func:`register_shape`) gets patients, enrolments and visits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from jiayi.indicators import periods as P
from jiayi.indicators.backends import arrow_schema
from jiayi.indicators.facts import RAW, FollowUpFacts, OrgDims, follow_up_programmes

__all__ = ["SyntheticDistrict", "SyntheticShape", "generate", "next_day", "register_shape"]

#: Share of a programme's patients that are enrolled.
ENROLLED = 0.7
#: The visit columns a programme's ``observe`` may fill (the others stay null).
OBSERVED_COLUMNS = ("sbp", "dbp", "fasting_glucose")


@dataclass(frozen=True)
class SyntheticShape:
    """How the synthetic district draws one follow-up programme: ``prevalence`` of its diagnosis among
    adults (scaled by age / 60, clipped to 0.2-1.5), and ``observe(rng, n)`` the measured values of ``n``
    visits (columns of OBSERVED_COLUMNS; draws for every visit, used on the programme's)."""

    prevalence: float
    observe: Callable[[np.random.Generator, int], Mapping[str, np.ndarray]]


_SHAPES: dict[str, SyntheticShape] = {}


def register_shape(programme: str, shape: SyntheticShape) -> SyntheticShape:
    _SHAPES[programme] = shape
    return shape


def _shaped() -> list[tuple[FollowUpFacts, SyntheticShape]]:
    """The follow-up programmes that declared a shape, in order."""
    return [(g, _SHAPES[g.code]) for g in follow_up_programmes() if g.code in _SHAPES]


def _observations(rng: np.random.Generator, programme: np.ndarray,
                  shaped: list[tuple[FollowUpFacts, SyntheticShape]]) -> dict[str, pa.Array]:
    """The measured columns of visits of the given programmes: each programme draws for every visit, in
    order, and keeps its own rows."""
    n = len(programme)
    values = {c: np.full(n, np.nan) for c in OBSERVED_COLUMNS}
    for g, shape in shaped:
        mine = programme == g.code
        for col, drawn in shape.observe(rng, n).items():
            values[col] = np.where(mine, drawn, values[col])
    return {
        "sbp": _nullable(np.nan_to_num(values["sbp"]), np.isnan(values["sbp"])),
        "dbp": _nullable(np.nan_to_num(values["dbp"]), np.isnan(values["dbp"])),
        "fasting_glucose": pa.array(values["fasting_glucose"], pa.float64(), from_pandas=True),
    }

@dataclass
class SyntheticDistrict:
    raw: dict[str, pa.Table]
    org: OrgDims
    today: date


def _table(name: str, cols: dict[str, np.ndarray]) -> pa.Table:
    schema = arrow_schema(RAW[name].schema)
    arrays = []
    for field in schema:
        values = cols[field.name]
        if isinstance(values, pa.Array):
            arrays.append(values.cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _nullable(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    """int64 values with nulls where ``mask`` is True."""
    return pa.array(values.astype(np.int64), mask=mask, type=pa.int64())


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m * 100 + dd


def _staff(team_inst: np.ndarray, t: int, seed: int) -> pa.Table:
    """Two staff per team (ids 2k-1 and 2k: team k's doctor is 2k), hired over the last 25 years (8% in
    the last 18 months), and 5% as many again who left in the last two years (not in post, ids after
    them). A stream of its own, so the other tables do not depend on it."""
    rng = np.random.default_rng([seed, 1])
    n = 2 * len(team_inst)
    recent = rng.random(n) < 0.08
    hired = t - np.where(recent, rng.integers(1, 548, n), rng.integers(2 * 365, 25 * 365, n))
    k = max(1, round(n * 0.05))
    until = t - rng.integers(30, 730, k)
    return _table("staff", {
        "staff_id": np.arange(1, n + k + 1),
        "institution_id": np.concatenate([np.repeat(team_inst, 2), rng.choice(team_inst, k)]),
        "category": np.concatenate([np.where(rng.random(n) < 0.6, "gp", "nurse"), np.full(k, "gp")]),
        "active": np.concatenate([np.ones(n, bool), np.zeros(k, bool)]),
        "from_day": np.concatenate([hired, until - rng.integers(2 * 365, 15 * 365, k)]),
        "until_day": _nullable(np.concatenate([np.zeros(n), until]), np.arange(n + k) < n),
    })


def generate(residents: int = 1_000_000, *, today: date | None = None, seed: int = 20260501) -> SyntheticDistrict:
    rng = np.random.default_rng(seed)
    today = today or date.today()
    t = P.day_number(today)
    n = residents

    # Org: 1 district, 10 streets, 20 centres with 5 stations each, 2 teams per institution, 2 GPs a team.
    n_streets, n_centres, per_centre = 10, 20, 5
    district_id = 1
    centres = np.arange(100, 100 + n_centres)
    stations = np.arange(1000, 1000 + n_centres * per_centre)
    station_centre = np.repeat(centres, per_centre)
    centre_street = 10 + (np.arange(n_centres) % n_streets)
    inst_ids = np.concatenate([[district_id], centres, stations])
    inst_station = np.concatenate([[None], [None] * n_centres, stations]).tolist()
    inst_centre = np.concatenate([[None], centres, station_centre]).tolist()
    inst_street = [None, *centre_street.tolist(), *np.repeat(centre_street, per_centre).tolist()]
    institutions = pa.table({
        "institution_id": pa.array(inst_ids, pa.int64()),
        "station_id": pa.array(inst_station, pa.int64()),
        "centre_id": pa.array(inst_centre, pa.int64()),
        "district_id": pa.array([district_id] * len(inst_ids), pa.int64()),
        "inst_street_id": pa.array(inst_street, pa.int64()),
    })
    # One community area per institution below the district, each in its institution's street.
    area_ids = np.arange(5000, 5000 + len(inst_ids) - 1)
    areas = pa.table({
        "area_id": pa.array(area_ids, pa.int64()),
        "street_id": pa.array(inst_street[1:], pa.int64()),
    })
    primary = inst_ids[1:]
    inst_area = dict(zip(primary.tolist(), area_ids.tolist(), strict=True))
    teams_per_inst = 2
    team_inst = np.repeat(primary, teams_per_inst)
    team_ids = np.arange(1, len(team_inst) + 1)
    org = OrgDims(institutions, areas)

    # Residents.
    rid = np.arange(1, n + 1, dtype=np.int64)
    inst = rng.choice(primary, size=n, p=np.where(np.isin(primary, stations), 0.8 / len(stations), 0.2 / n_centres))
    area = np.array([inst_area[i] for i in primary])[np.searchsorted(primary, inst)]
    age_days = rng.integers(0, 95 * 365, size=n)
    birth = t - age_days
    status = rng.choice(["registered", "non_registered", "deceased", "moved_out"], size=n, p=[0.85, 0.12, 0.01, 0.02])
    dead = status == "deceased"
    death = np.where(dead, t - rng.integers(0, 730, size=n), 0)
    by, bmd = _ymd(birth)
    residents_t = _table("residents", {
        "resident_id": rid, "sex": rng.choice(["M", "F"], size=n), "birth_day": birth, "birth_y": by,
        "birth_md": bmd, "death_day": _nullable(death, ~dead), "status": status, "institution_id": inst,
        "area_id": area, "is_deleted": np.zeros(n, bool),
    })
    age = age_days // 365
    adult = age >= 18

    has_record = rng.random(n) < 0.92
    rec_ids = rid[has_record]
    records_t = _table("records", {
        "record_id": np.arange(1, len(rec_ids) + 1), "resident_id": rec_ids,
        "established_day": t - rng.integers(0, 15 * 365, size=len(rec_ids)),
        "electronic": rng.random(len(rec_ids)) < 0.9, "status": np.full(len(rec_ids), "active"),
        "open_to_resident": rng.random(len(rec_ids)) < 0.6,
    })

    # Measurements: about 8 per resident over two years; an annual health check for 60% of the elderly.
    per = rng.poisson(8.2, size=n)
    m_res = np.repeat(rid, per)
    m_day = t - rng.integers(0, 730, size=len(m_res))
    elderly_ids = rid[age >= 65]
    checked = elderly_ids[rng.random(len(elderly_ids)) < 0.6]
    m_res = np.concatenate([m_res, checked])
    m_day = np.concatenate([m_day, t - rng.integers(0, 330, size=len(checked))])
    m_src = np.concatenate([np.full(len(m_res) - len(checked), "manual"), np.full(len(checked), "health_check")])
    measurements_t = _table("measurements", {
        "measurement_id": np.arange(1, len(m_res) + 1), "resident_id": m_res, "day": m_day, "source": m_src,
    })

    # Conditions (one per shaped follow-up programme, its diagnosis group's canonical code) and tags.
    from jiayi.residents import diagnoses

    shaped = _shaped()
    sick = [adult & (rng.random(n) < shape.prevalence * np.clip(age / 60, 0.2, 1.5)) for _g, shape in shaped]
    since = [t - rng.integers(30, 3650, size=n) for _s in shaped]
    groups = [diagnoses.get(g.diagnosis_group) for g, _shape in shaped]
    p_res = np.concatenate([rid[c] for c in sick] or [np.zeros(0, np.int64)])
    problems_t = _table("problems", {
        "problem_id": np.arange(1, len(p_res) + 1), "resident_id": p_res,
        "icd10": np.concatenate([np.full(c.sum(), dx.canonical[0]) for c, dx in zip(sick, groups, strict=True)]
                                or [np.zeros(0, object)]),
        "diagnosed_day": np.concatenate([d[c] for c, d in zip(sick, since, strict=True)] or [np.zeros(0, np.int64)]),
        "resolved_day": pa.array([None] * len(p_res), pa.int64()),
    })
    disabled = rng.random(n) < 0.03
    poor = rng.random(n) < 0.02
    maternal = (age >= 20) & (age <= 40) & (rng.random(n) < 0.03)
    tag_res = np.concatenate([*[rid[c] for c in sick], rid[disabled], rid[poor], rid[maternal]])
    tag_code = np.concatenate([
        *[np.full(c.sum(), dx.code) for c, dx in zip(sick, groups, strict=True)], np.full(disabled.sum(), "disabled"),
        np.full(poor.sum(), "poverty_lifted"), np.full(maternal.sum(), "maternal"),
    ])
    tag_since = np.concatenate([*[d[c] for c, d in zip(sick, since, strict=True)], birth[disabled],
                                birth[poor] + 6000, t - rng.integers(0, 250, size=maternal.sum())])
    tags_t = _table("tags", {
        "tag_id": np.arange(1, len(tag_res) + 1), "resident_id": tag_res, "code": tag_code, "since_day": tag_since,
    })

    inst_pos = np.searchsorted(primary, inst)
    res_team = team_ids[inst_pos * teams_per_inst + rng.integers(0, teams_per_inst, size=n)]
    staff_t = _staff(team_inst, t, seed)

    # Contracts: 40% of residents (70% of key populations), yearly, renewed 85% of the time.
    kp = (age >= 65) | (age <= 6) | np.logical_or.reduce([np.zeros(n, bool), *sick]) | disabled | poor | maternal
    signs = rng.random(n) < np.where(kp, 0.7, 0.35)
    first_start = t - rng.integers(0, 900, size=n)
    c_rows: dict[str, list[np.ndarray]] = {k: [] for k in (
        "resident_id", "team_id", "doctor_id", "start_day", "end_day", "renewal_of_id", "contract_id")}
    next_id = 1
    current = rid[signs]
    starts = first_start[signs]
    prev_ids = np.full(len(current), -1)
    while len(current):
        ids = np.arange(next_id, next_id + len(current))
        next_id += len(current)
        team = res_team[current - 1]
        c_rows["contract_id"].append(ids)
        c_rows["resident_id"].append(current)
        c_rows["team_id"].append(team)
        c_rows["doctor_id"].append(team * 2)
        c_rows["start_day"].append(starts)
        c_rows["end_day"].append(starts + 364)
        c_rows["renewal_of_id"].append(prev_ids)
        again = (starts + 365 <= t) & (rng.random(len(current)) < 0.85)
        current, starts, prev_ids = current[again], starts[again] + 365, ids[again]
    cc = {k: np.concatenate(v) for k, v in c_rows.items()}
    nc = len(cc["contract_id"])
    terminated = rng.random(nc) < 0.03
    term_day = cc["start_day"] + rng.integers(30, 300, size=nc)
    signed_day = cc["start_day"] - rng.integers(0, 20, size=nc)
    prev_end = np.where(cc["renewal_of_id"] > 0, cc["start_day"] - 1, 10**9)
    contracts_t = _table("contracts", {
        "contract_id": cc["contract_id"], "resident_id": cc["resident_id"], "team_id": cc["team_id"],
        "doctor_id": cc["doctor_id"], "status": np.where(terminated, "terminated", "active"),
        "start_day": cc["start_day"], "end_day": cc["end_day"],
        "terminated_day": _nullable(term_day, ~terminated),
        "renewal_of_id": _nullable(cc["renewal_of_id"], cc["renewal_of_id"] < 0), "signed_day": signed_day,
        "rel_day": np.minimum(signed_day, prev_end),
    })
    personal = rng.random(nc) < 0.1
    packages_t = _table("contract_packages", {
        "contract_package_id": np.arange(1, nc + 1 + personal.sum()),
        "contract_id": np.concatenate([cc["contract_id"], cc["contract_id"][personal]]),
        "kind": np.concatenate([np.full(nc, "basic"), np.full(personal.sum(), "personalised")]),
        "rel_day": np.concatenate([signed_day, signed_day[personal]]),
    })
    # Two items per contract (4 follow-ups, 1 check); deliveries mostly on schedule.
    item_contract = np.repeat(cc["contract_id"], 2)
    qty = np.tile([4, 1], nc)
    items_t = _table("contract_items", {
        "item_id": np.arange(1, 2 * nc + 1), "contract_id": item_contract, "quantity": qty,
        "rel_day": np.repeat(signed_day, 2),
    })
    delivered = np.minimum(qty, rng.binomial(qty, 0.85))
    d_item = np.repeat(np.arange(1, 2 * nc + 1), delivered)
    d_contract = item_contract[d_item - 1]
    d_start = cc["start_day"][d_contract - 1]
    d_day = np.minimum(d_start + rng.integers(0, 365, size=len(d_item)), t)
    deliveries_t = _table("deliveries", {
        "delivery_id": np.arange(1, len(d_item) + 1), "contract_id": d_contract, "item_id": d_item,
        "resident_id": cc["resident_id"][d_contract - 1],
        "service_code": np.where(qty[d_item - 1] == 1, "elderly_check", "ht_follow_up"), "day": d_day,
        "revoked_day": pa.array([None] * len(d_item), pa.int64()),
    })
    surveyed = rng.random(nc) < 0.3
    surveys_t = _table("surveys", {
        "survey_id": np.arange(1, surveyed.sum() + 1), "contract_id": cc["contract_id"][surveyed],
        "day": np.minimum(cc["start_day"][surveyed] + rng.integers(100, 360, size=surveyed.sum()), t),
        "overall_score": rng.choice([2, 3, 4, 5], size=surveyed.sum(), p=[0.05, 0.15, 0.5, 0.3]),
    })

    # Enrolments (70% of patients) and quarterly follow-ups over two years, 90% attended.
    enrolled = [rid[c & (rng.random(n) < ENROLLED)] for c in sick]
    e_res = np.concatenate(enrolled or [np.zeros(0, np.int64)])
    e_prog = np.concatenate([np.full(len(e), g.code) for e, (g, _shape) in zip(enrolled, shaped, strict=True)]
                            or [np.zeros(0, object)])
    ne = len(e_res)
    e_start = t - rng.integers(60, 2500, size=ne)
    e_team = res_team[e_res - 1]
    enrolments_t = _table("enrolments", {
        "enrolment_id": np.arange(1, ne + 1), "resident_id": e_res, "programme": e_prog,
        "ruleset": np.full(ne, "nbphs-2017"), "start_day": e_start,
        "end_day": pa.array([None] * ne, pa.int64()), "team_id": e_team, "doctor_id": e_team * 2,
    })
    per_e = 9
    v_enrol = np.repeat(np.arange(1, ne + 1), per_e)
    k = np.tile(np.arange(per_e), ne)
    v_day = t - k * 91 - rng.integers(0, 30, size=len(v_enrol))
    keep = (rng.random(len(v_enrol)) < 0.9) & (v_day >= e_start[v_enrol - 1])
    v_enrol, v_day = v_enrol[keep], v_day[keep]
    nv = len(v_enrol)
    vy, vmd = _ymd(v_day)
    mode = np.where(rng.random(nv) < 0.9, "clinic", "phone")
    visits_t = _table("visits", {
        "visit_id": np.arange(1, nv + 1), "resident_id": e_res[v_enrol - 1], "enrolment_id": v_enrol,
        "programme": e_prog[v_enrol - 1], "ruleset": np.full(nv, "nbphs-2017"), "day": v_day, "y": vy, "md": vmd,
        "visit_type": np.full(nv, "follow_up"), "mode": mode, **_observations(rng, e_prog[v_enrol - 1], shaped),
        "is_deleted": np.zeros(nv, bool),
    })
    planned = rng.random(ne) < 0.8
    plans_t = _table("medication_plans", {
        "plan_id": np.arange(1, planned.sum() + 1), "resident_id": e_res[planned],
        "enrolment_id": np.arange(1, ne + 1)[planned], "programme": e_prog[planned], "start_day": e_start[planned],
        "status": np.full(planned.sum(), "active"),
    })
    raw = {
        "residents": residents_t, "records": records_t, "measurements": measurements_t, "problems": problems_t,
        "tags": tags_t, "staff": staff_t, "contracts": contracts_t, "contract_packages": packages_t,
        "contract_items": items_t, "deliveries": deliveries_t, "surveys": surveys_t, "enrolments": enrolments_t,
        "visits": visits_t, "medication_plans": plans_t,
    }
    return SyntheticDistrict(raw, org, today)


def next_day(district: SyntheticDistrict, *, seed: int = 7) -> SyntheticDistrict:
    """The same district one day later: that day's measurements and follow-up visits appended (what a
    nightly incremental run sees)."""
    rng = np.random.default_rng(seed)
    today = P.from_day_number(P.day_number(district.today) + 1)
    t = P.day_number(today)
    raw = dict(district.raw)
    m = raw["measurements"]
    n_new = max(1, m.num_rows // 700)
    res = rng.integers(1, raw["residents"].num_rows + 1, size=n_new)
    start = m.num_rows + 1
    raw["measurements"] = pa.concat_tables([m, _table("measurements", {
        "measurement_id": np.arange(start, start + n_new), "resident_id": res, "day": np.full(n_new, t),
        "source": np.full(n_new, "manual"),
    })])
    v = raw["visits"]
    e = raw["enrolments"]
    n_v = max(1, v.num_rows // 90)
    enrol = rng.integers(1, e.num_rows + 1, size=n_v)
    prog = np.array(e.column("programme").to_pylist(), dtype=object)[enrol - 1]
    vy, vmd = _ymd(np.full(n_v, t))
    start = v.num_rows + 1
    raw["visits"] = pa.concat_tables([v, _table("visits", {
        "visit_id": np.arange(start, start + n_v), "resident_id": e.column("resident_id").to_numpy()[enrol - 1],
        "enrolment_id": enrol, "programme": prog, "ruleset": np.full(n_v, "nbphs-2017"), "day": np.full(n_v, t),
        "y": vy, "md": vmd, "visit_type": np.full(n_v, "follow_up"), "mode": np.full(n_v, "clinic"),
        **_observations(rng, prog, _shaped()), "is_deleted": np.zeros(n_v, bool),
    })])
    return SyntheticDistrict(raw, district.org, today)

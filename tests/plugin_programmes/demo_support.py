"""What the three test-only programmes share for the indicator catalogue and synth: an indicator
builder over the raw enrolments and visits (which carry the programme code of any programme) and a
synth stage writer. Test support only; each demo folder registers its own group, indicator and stage."""

from __future__ import annotations

import json
from collections.abc import Callable

import ibis
import numpy as np

from jiayi.indicators import catalogue as C
from jiayi.indicators.facts import Facts
from jiayi.synth.context import SynthContext
from jiayi.synth.loader import nullable
from jiayi.synth.pipeline import Stage

REQUIRES = ("residents", "enrolments", "visits")
NAT = np.datetime64("NaT")


def _with_units(f: Facts, t: ibis.Table) -> ibis.Table:
    """``t`` (resident_id, wid, team_id, doctor_id, ...) with the resident's managing units; one chain of
    joins with distinct key names, so that the SQL stays flat (SQLite limits nesting)."""
    r = f.raw["residents"]
    r = r.filter(~r.is_deleted).select(r_res=r.resident_id, institution_id=r.institution_id, area_id=r.area_id)
    inst = f.org_inst.select(i_inst=f.org_inst.institution_id, station_id=f.org_inst.station_id,
                             centre_id=f.org_inst.centre_id, district_id=f.org_inst.district_id)
    area = f.org_area.select(a_area=f.org_area.area_id, street_id=f.org_area.street_id)
    j = t.join(r, t.resident_id == r.r_res)
    j = j.left_join(inst, j.institution_id == inst.i_inst)
    return j.left_join(area, j.area_id == area.a_area)


def visited_enrolments(code: str) -> Callable[[Facts], ibis.Table]:
    """Enrolments of ``code`` overlapping [1 January, as-of] of each window (den) that have a visit of
    the programme in that period (num); one row per enrolment."""

    def build(f: Facts) -> ibis.Table:
        e, w, v = f.raw["enrolments"], f.asof, f.raw["visits"]
        e = e.filter(e.programme == code).select("enrolment_id", "resident_id", "team_id", "doctor_id",
                                                 "start_day", "end_day")
        w = w.select("wid", "as_of", "year_start")
        j = e.cross_join(w).filter(e.start_day <= w.as_of, e.end_day.isnull() | (e.end_day >= w.year_start))
        vs = v.filter(v.programme == code, ~v.is_deleted).select(v_enrol=v.enrolment_id, v_day=v.day)
        hit = j.join(vs, [j.enrolment_id == vs.v_enrol, vs.v_day >= j.year_start, vs.v_day <= j.as_of])
        hit = hit.select(h_wid=hit.wid, h_enrol=hit.enrolment_id).distinct()
        j = j.left_join(hit, [j.wid == hit.h_wid, j.enrolment_id == hit.h_enrol])
        j = j.select("wid", "enrolment_id", "resident_id", "team_id", "doctor_id",
                     seen=j.h_enrol.notnull().ifelse(1, 0))
        t = _with_units(f, j)
        return C._out(t, t.enrolment_id, t.resident_id, t.seen, ibis.literal(1))

    return build


def closed_episodes(code: str) -> Callable[[Facts], ibis.Table]:
    """Episodes of ``code`` opened in [1 January, as-of] (den) that were closed by the as-of day (num)."""

    def build(f: Facts) -> ibis.Table:
        e, w = f.raw["enrolments"], f.asof
        e = e.filter(e.programme == code).select("enrolment_id", "resident_id", "team_id", "doctor_id",
                                                 "start_day", "end_day")
        w = w.select("wid", "as_of", "year_start")
        j = e.cross_join(w).filter(e.start_day >= w.year_start, e.start_day <= w.as_of)
        closed = (j.end_day.notnull() & (j.end_day <= j.as_of)).ifelse(1, 0)
        t = _with_units(f, j.select("wid", "enrolment_id", "resident_id", "team_id", "doctor_id", closed=closed))
        return C._out(t, t.enrolment_id, t.resident_id, t.closed, ibis.literal(1))

    return build


def last_evidence(ctx: SynthContext) -> np.ndarray:
    """Per resident (row of the residents frame): the latest day with a measurement or a contract service
    delivery generated so far — days the real indicators already count as a dynamic record — or NaT."""
    n = ctx.frames["residents"].id.size
    last = ctx.frames.get("last_activity")
    out = np.full(n, NAT, "datetime64[D]") if last is None else last.astype("datetime64[D]").copy()
    contracts = ctx.frames.get("contracts")
    if contracts is not None and contracts.deliveries:
        parts = list(zip(*contracts.deliveries, strict=True))
        item = np.concatenate(parts[0]).astype(np.int64)
        day = np.concatenate(parts[1]).astype("datetime64[D]")
        who = contracts.resident[contracts.item_contract[item]]
        best = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(best, who, day.view(np.int64))
        seen = best != np.iinfo(np.int64).min
        cur = out.view(np.int64)
        upd = seen & (np.isnat(out) | (best > cur))
        out[upd] = best[upd].view("datetime64[D]")
    return out


def _first_outcome(prog) -> str:
    return prog.outcomes[0].code if prog.outcomes else ""


def _valid(field: str, value: str) -> str:
    """``value`` if it is one of programmes.Visit's ``field`` choices, else ""."""
    from jiayi.programmes.models import Visit

    return value if value in {c for c, _label in Visit._meta.get_field(field).choices} else ""


def enrol_stage(
    code: str, eligible: Callable[[SynthContext], np.ndarray], *, share: float, close: bool, stream: str = ""
) -> Stage:
    """A synth stage that enrols ``share`` of the ``eligible`` residents who have a measurement or a
    service delivery and records one visit each on the last such day (:func:`last_evidence`, so the
    dynamic-record evidence of the real indicators is unchanged); ``close`` ends the enrolment on that
    day (an episode). It runs after the real stages, with its own random stream (``stream``, default
    the programme code), so their draws and ids are untouched."""

    def run(ctx: SynthContext) -> None:
        from jiayi.core import rulesets
        from jiayi.programmes import engine

        prog = engine.get(code)
        rs = rulesets.default_for(code, ctx.as_of)
        rng = ctx.rng(stream or code)
        res = ctx.frames["residents"]
        last = last_evidence(ctx)
        cand = np.flatnonzero(eligible(ctx) & res.living & ~np.isnat(last))
        rows = cand[rng.random(cand.size) < share]
        n = rows.size
        if n == 0:
            return
        org = ctx.frames["org"]
        day = last[rows]
        start = day - rng.integers(0, 60, n).astype("timedelta64[D]")
        end = day if close else np.full(n, NAT, "datetime64[D]")
        inst = res.institution[rows]
        teams = {int(i): org.institution_teams.get(int(i), ()) for i in np.unique(inst)}
        team = np.array([teams[int(i)][0] if len(teams[int(i)]) else -1 for i in inst], dtype=np.int64)
        leader = dict(zip(org.team_id.tolist(), org.team_leader.tolist(), strict=True))
        doctor = np.array([leader.get(int(t), -1) for t in team], dtype=np.int64)
        stamp, load = ctx.created_stamp, ctx.loader
        e_id = load.allocate("programmes_enrolment", n)
        load.insert("programmes_enrolment", {
            "id": e_id, "version": np.ones(n, dtype=np.int64), "created_at": [stamp] * n, "updated_at": [stamp] * n,
            "resident_id": res.id[rows], "programme": np.full(n, code, dtype=object),
            "ruleset": np.full(n, rs.code, dtype=object), "start_date": start, "end_date": end,
            "end_reason": np.full(n, "completed" if close else "", dtype=object), "end_note": [""] * n,
            "source": np.full(n, "clinic", dtype=object), "diagnosed_on": np.full(n, NAT, "datetime64[D]"),
            "institution_id": inst, "doctor_id": nullable(doctor, doctor >= 0), "team_id": nullable(team, team >= 0),
            "enrolled_by_id": nullable(doctor, doctor >= 0),
        })
        # programmes.Visit's visit_type / classification choices are still the chronic ones (issue #9):
        # a code of the programme that is not a model choice is written as the generic follow-up type
        # and a blank classification, so that the generated rows pass full_clean like every synth row.
        vt, cls = _valid("visit_type", prog.visit_types[0].code), _valid("classification", _first_outcome(prog))
        none = np.zeros(n, dtype=np.int64)
        no = np.zeros(n, dtype=bool)
        load.insert("programmes_visit", {
            "id": load.allocate("programmes_visit", n), "version": np.ones(n, dtype=np.int64),
            "created_at": [stamp] * n, "updated_at": [stamp] * n, "enrolment_id": e_id, "resident_id": res.id[rows],
            "programme": np.full(n, code, dtype=object), "ruleset": np.full(n, rs.code, dtype=object),
            "visit_date": day, "visit_type": np.full(n, vt or "follow_up", dtype=object),
            "mode": np.full(n, "clinic", dtype=object), "face_to_face": ~no,
            "form": np.full(n, json.dumps(prog.visit_types[0].example or {}), dtype=object),
            "sbp": nullable(none, no), "dbp": nullable(none, no), "heart_rate": nullable(none, no),
            "weight": nullable(none, no), "bmi": nullable(none, no), "fasting_glucose": nullable(none, no),
            "classification": np.full(n, cls, dtype=object),
            "at_target": nullable(no, no),
            "next_due": np.full(n, NAT, "datetime64[D]"),
            "referral_reasons": np.full(n, "[]", dtype=object), "referred": no, "urgent": no,
            "doctor_id": nullable(doctor, doctor >= 0), "institution_id": inst, "team_id": nullable(team, team >= 0),
            "is_deleted": no,
        })
        ctx.counts[f"{code}_enrolments"] = ctx.counts.get(f"{code}_enrolments", 0) + n

    return Stage(stream or code, run, ("programmes_enrolment", "programmes_visit"), order=900)

"""Stage ``programmes``: hypertension and type 2 diabetes management — enrolments, 13 months of
follow-up visits, work-list tasks, referrals, medication plans, follow-up measurements and the
contract fulfilment the visits count for.

Every diagnosed, living hypertensive / diabetic resident with a record is enrolled (deceased ones
with an ended enrolment) under the programme's default rule set (``nbphs-2017``). Visits are
simulated patient by patient in vectorised steps: at each visit BP (or fasting glucose) is drawn
from the patient's control propensity (``params.HT_CONTROLLED`` / ``DM_CONTROLLED``), the outcome
(classification, at-target, referral reasons, next due date) follows exactly
``programmes.chronic_rules.evaluate_visit`` with the rule set's parameters (a test replays a sample
through the engine's rules adapter), and the next visit happens around the due date
(``params.VISIT_ATTENDANCE`` on time, the rest late); ``params.LOST_TO_FOLLOW_UP`` of the patients
stop coming six months or more before the reference date.

The rows mirror what ``programmes.services.visit_record`` writes: the visit (form as the schema
cleans it, denormalised columns), a follow-up measurement at 09:00, a done task per visit and the open
task scheduled by the last one (referral follow-up, 14-day re-check or routine), the annual-check
task per ``programmes.rules.annual_check_due``, a referral for each referred visit, one medication
plan per treated patient, and a ``ServiceDelivery`` toward the contract item in force.
"""

from __future__ import annotations

import json

import numpy as np

from jiayi.synth import params
from jiayi.synth.context import SynthContext
from jiayi.synth.dates import NAT, age_on
from jiayi.synth.loader import nullable
from jiayi.synth.measurements import bmi_exact
from jiayi.synth.org import OrgFrame
from jiayi.synth.residents import DECEASED, ResidentFrame

NOT_OK = ("uncontrolled", "adverse_reaction")
CLASSES = np.array(["controlled", "uncontrolled", "adverse_reaction", "complication"], dtype=object)
CONTROLLED, UNCONTROLLED, ADVERSE, COMPLICATION = range(4)
WINDOW_DAYS = params.HISTORY_WINDOW_DAYS

# Regimens (drug, class, dose, unit, times a day) — common first-line choices in Chinese primary care.
HT_DRUGS = (
    ("苯磺酸氨氯地平片", "ccb", 5, "mg", 1), ("硝苯地平控释片", "ccb", 30, "mg", 1),
    ("缬沙坦胶囊", "arb", 80, "mg", 1), ("厄贝沙坦片", "arb", 150, "mg", 1),
    ("马来酸依那普利片", "acei", 10, "mg", 1), ("氢氯噻嗪片", "diuretic", 12.5, "mg", 1),
    ("酒石酸美托洛尔片", "beta_blocker", 25, "mg", 2), ("氨氯地平缬沙坦片", "fixed_combination", 1, "tablet", 1),
)
DM_DRUGS = (
    ("盐酸二甲双胍片", "biguanide", 500, "mg", 3), ("格列美脲片", "sulfonylurea", 2, "mg", 1),
    ("阿卡波糖片", "alpha_glucosidase_inhibitor", 50, "mg", 3), ("磷酸西格列汀片", "dpp4", 100, "mg", 1),
    ("达格列净片", "sglt2", 10, "mg", 1), ("甘精胰岛素注射液", "insulin", 12, "IU", 1),
)
HT_SYMPTOMS = ("headache_dizziness", "tinnitus", "palpitations_chest", "numbness", "oedema")
DM_SYMPTOMS = ("polydipsia", "polyuria", "blurred_vision", "numbness", "oedema")
HT_DANGER = ("severe_headache", "severe_dizziness", "palpitations", "chest_tightness")
DM_DANGER = ("palpitations", "sweating", "polydipsia", "polyuria")


def available() -> bool:
    from django.apps import apps
    from django.db import connection

    if not apps.is_installed("jiayi.programmes"):
        return False
    try:
        models = [apps.get_model("programmes", m) for m in ("Enrolment", "Visit", "Task", "Referral",
                                                            "MedicationPlan", "MedicationPlanLine")]
        from jiayi.programmes import engine

        engine.get("hypertension")
        engine.get("diabetes")
    except (LookupError, KeyError, ImportError):
        return False
    tables = set(connection.introspection.table_names())
    return all(m._meta.db_table in tables for m in models)


def _outcome(v, rs, age_on_day: np.ndarray, programme: str, prev_class: np.ndarray):
    """Vectorised chronic_rules.evaluate_visit: (class code, at_target, reasons list, urgent, days)."""
    value = rs.value
    k = age_on_day.size
    urgent = np.zeros(k, dtype=bool)
    reasons: list[list[str]] = [[] for _ in range(k)]

    def add_reason(mask: np.ndarray, code: str) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(code)

    bp_urgent = (v["sbp"] >= value("urgent_sbp")) | (v["dbp"] >= value("urgent_dbp"))
    danger = v["danger"] != ""
    if programme == "hypertension":
        add_reason(bp_urgent, "HTN-U1")
        add_reason(danger & np.isin(v["danger"], ["severe_headache", "severe_dizziness"]), "HTN-U2")
        add_reason(danger & np.isin(v["danger"], ["palpitations", "chest_tightness"]), "HTN-U3")
        urgent = bp_urgent | danger
        elderly = age_on_day >= value("elderly_age")
        sbp_t = np.where(elderly, value("elderly_target_sbp"), value("target_sbp"))
        dbp_t = np.where(elderly, value("elderly_target_dbp"), value("target_dbp"))
        at_target = (v["sbp"] < sbp_t) & (v["dbp"] < dbp_t)
    else:
        glucose = (v["fpg"] >= value("urgent_glucose_high")) | (v["fpg"] <= value("urgent_glucose_low"))
        add_reason(glucose, "DM-U1")
        add_reason(bp_urgent, "DM-U2")
        add_reason(danger, "DM-U3")
        fast = v["hr"] > value("urgent_heart_rate")
        add_reason(fast, "DM-U4")
        urgent = glucose | bp_urgent | danger | fast
        at_target = v["fpg"] < value("target_fpg")
    cls = np.where(v["complication"], COMPLICATION, np.where(v["adverse"], ADVERSE,
                   np.where(at_target, CONTROLLED, UNCONTROLLED)))
    not_ok = (cls == UNCONTROLLED) | (cls == ADVERSE)
    prev_not_ok = (prev_class == UNCONTROLLED) | (prev_class == ADVERSE)
    add_reason(not_ok & prev_not_ok, "two_uncontrolled")
    add_reason(v["uncontrollable"], "adverse_uncontrollable")
    add_reason(v["complication"], "complication")
    referred = np.array([bool(r) for r in reasons], dtype=bool)
    days = np.where(referred, value("referral_followup_days"),
                    np.where(cls != CONTROLLED, value("short_interval_days"), value("routine_interval_days")))
    return cls, at_target, reasons, urgent, referred, days.astype(np.int64)


def _simulate(ctx: SynthContext, rng: np.random.Generator, programme: str, e_res: np.ndarray,
              e_start: np.ndarray, e_cutoff: np.ndarray, rs) -> dict:
    """Visits of the enrolments (vectorised over patients, one step per visit)."""
    res: ResidentFrame = ctx.frames["residents"]
    phys = ctx.frames["physiology"]
    today = ctx.today
    window = today - np.timedelta64(WINDOW_DAYS, "D")
    m = e_res.size
    recent = e_start >= window
    first = np.where(recent, e_start + rng.integers(0, 20, m).astype("timedelta64[D]"),
                     window + rng.integers(0, 90, m).astype("timedelta64[D]"))
    nxt = first.astype("datetime64[D]")
    prev = np.full(m, -1, dtype=np.int64)
    annual_target = today - rng.integers(0, 365, m).astype("timedelta64[D]")
    annual_done = rng.random(m) >= 0.75  # a quarter skip the annual check this year
    out: dict[str, list] = {k: [] for k in (
        "enrol", "day", "sbp", "dbp", "hr", "fpg", "hba1c", "weight", "cls", "at_target", "reasons", "urgent",
        "referred", "next_due", "annual", "danger", "adverse", "uncontrollable", "complication", "symptom", "mode")}
    ht = programme == "hypertension"
    ht_p = phys.ht_control[e_res] if ht else None
    dm_p = phys.dm_control[e_res]
    age_now = res.age[e_res].astype(np.int64)
    for _step in range(60):
        active = nxt <= np.minimum(e_cutoff, today)
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        k = idx.size
        day = nxt[idx]
        # Diabetic patients without hypertension mostly have normal BP.
        ctrl_p = ht_p[idx] if ht else np.where(phys.ht_control[e_res[idx]] > 0, phys.ht_control[e_res[idx]], 0.9)
        # After an uncontrolled visit the regimen is adjusted: the re-check is more often at target.
        after_bad = (prev[idx] == UNCONTROLLED) | (prev[idx] == ADVERSE)
        ctrl_p = np.where(after_bad, np.maximum(ctrl_p, 0.5), ctrl_p)
        controlled_bp = rng.random(k) < ctrl_p
        elderly = age_on(res.birth[e_res[idx]], day) >= 65
        sbp_hi = np.where(elderly, 150, 140)
        sbp = np.where(controlled_bp, np.minimum(rng.normal(127, 7, k), sbp_hi - 2),
                       np.maximum(rng.normal(151, 10, k), sbp_hi))
        dbp = np.where(controlled_bp, np.minimum(rng.normal(78, 6, k), 88), rng.normal(89, 8, k))
        crisis = rng.random(k) < 0.004
        sbp = np.where(crisis, rng.integers(180, 200, k), sbp)
        sbp = np.clip(np.rint(sbp), 90, 230).astype(np.int64)
        dbp = np.minimum(np.clip(np.rint(dbp), 50, 125), sbp - 15).astype(np.int64)
        hr = np.clip(np.rint(rng.normal(75, 8, k)), 52, 100).astype(np.int64)
        hr = np.where(rng.random(k) < 0.004, rng.integers(101, 112, k), hr)
        dm_ok = rng.random(k) < np.where(after_bad, np.maximum(dm_p[idx], 0.5), dm_p[idx])
        fpg = np.where(dm_ok, rng.uniform(4.4, 6.9, k), np.clip(rng.normal(8.6, 1.6, k), 7.0, 16.0))
        fpg = np.where(rng.random(k) < 0.003, rng.uniform(16.8, 19.0, k), fpg)
        fpg = np.round(fpg, 1)
        a1c = np.round(np.clip((fpg + 2.59) / 1.59 + rng.normal(0, 0.3, k), 4.5, 13), 1)
        hba1c = np.where(rng.random(k) < 0.25, a1c, np.nan)
        weight = np.round(phys.bmi[e_res[idx]] * (phys.height[e_res[idx]] / 100) ** 2 + rng.normal(0, 1.0, k), 1)
        danger_pool = np.array(HT_DANGER if ht else DM_DANGER, dtype=object)
        danger = np.where(rng.random(k) < 0.003, danger_pool[rng.integers(0, danger_pool.size, k)], "").astype(object)
        adverse = rng.random(k) < np.where(after_bad, 0.004, 0.012)
        uncontrollable = adverse & (rng.random(k) < 0.12)
        complication = rng.random(k) < 0.004
        sym_pool = np.array(HT_SYMPTOMS if ht else DM_SYMPTOMS, dtype=object)
        symptom = np.where(rng.random(k) < 0.18, sym_pool[rng.integers(0, sym_pool.size, k)], "none").astype(object)
        values = {"sbp": sbp, "dbp": dbp, "hr": hr, "fpg": fpg, "danger": danger, "adverse": adverse,
                  "uncontrollable": uncontrollable, "complication": complication}
        cls, at_target, reasons, urgent, referred, days = _outcome(
            values, rs, age_on(res.birth[e_res[idx]], day), programme, prev[idx])
        next_due = day + days.astype("timedelta64[D]")
        annual = ~annual_done[idx] & (day >= annual_target[idx])
        annual_done[idx[annual]] = True
        old = age_now[idx] >= 80
        u = rng.random(k)
        mode = np.select([u < np.where(old, 0.35, 0.08), u < np.where(old, 0.45, 0.24)], ["home", "phone"], "clinic")
        mode = np.where(annual, "clinic", mode).astype(object)  # the annual check is done in the clinic
        for key, val in (("enrol", idx), ("day", day), ("sbp", sbp), ("dbp", dbp), ("hr", hr), ("fpg", fpg),
                         ("hba1c", hba1c), ("weight", weight), ("cls", cls), ("at_target", at_target),
                         ("urgent", urgent), ("referred", referred), ("next_due", next_due), ("annual", annual),
                         ("danger", danger), ("adverse", adverse), ("uncontrollable", uncontrollable),
                         ("complication", complication), ("symptom", symptom), ("mode", mode)):
            out[key].append(val)
        out["reasons"].extend(reasons)
        prev[idx] = cls
        # Two-week re-checks are often missed (patients come back at their usual rhythm).
        short = days <= 14
        on_time = rng.random(k) < np.where(short, params.RECHECK_ATTENDANCE, params.VISIT_ATTENDANCE)
        delay = np.where(on_time, np.where(short, rng.integers(-3, 8, k), rng.integers(-7, 11, k)),
                         np.where(short, rng.integers(15, 80, k), rng.integers(11, 61, k)))
        nxt[idx] = np.maximum(next_due + delay.astype("timedelta64[D]"), day + np.timedelta64(1, "D"))
    flat = {k: (np.concatenate(v) if v and k != "reasons" else v) for k, v in out.items()}
    if not out["enrol"]:
        flat = {k: np.zeros(0) for k in out}
        flat["reasons"] = []
    return flat


def build_programmes(ctx: SynthContext) -> None:
    from jiayi.core import rulesets
    from jiayi.programmes import engine

    org: OrgFrame = ctx.frames["org"]
    res: ResidentFrame = ctx.frames["residents"]
    rec = ctx.frames["records"]
    conds = ctx.frames["conditions"]
    contracts = ctx.frames.get("contracts")
    rng = ctx.rng("programmes")
    load = ctx.loader
    today = ctx.today
    stamp = ctx.created_stamp

    # Team / doctor per resident: the contracted team in force today, else a team of the institution.
    n = res.id.size
    team_of = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    for inst, teams in org.institution_teams.items():
        sel = res.institution == inst
        if teams.size:
            team_of[sel] = teams[(u[sel] * teams.size).astype(np.int64)]
    if contracts is not None:
        now = contracts.in_force(np.arange(n), np.full(n, today))
        has = now >= 0
        team_of[has] = contracts.team[now[has]]
    leader = dict(zip(org.team_id.tolist(), org.team_leader.tolist(), strict=True))
    staff_inst = dict(zip(org.staff_id.tolist(), org.staff_institution.tolist(), strict=True))
    hospital = org.hospital_ids[0]

    all_e: dict[str, list] = {k: [] for k in ("res", "programme", "ruleset", "start", "end", "reason", "source",
                                              "diag", "team", "doctor")}
    visits_all: list[tuple[str, dict, np.ndarray]] = []
    for programme, diag in (("hypertension", conds.hypertension), ("diabetes", conds.diabetes)):
        prog = engine.get(programme)
        rs = rulesets.default_for(prog.code, ctx.as_of)
        eff = np.datetime64(rs.effective_from, "D")
        cand = rec.has_record & ~np.isnat(diag) & (res.living | (res.status == DECEASED))
        rows = np.flatnonzero(cand)
        start = np.maximum(np.maximum(diag[rows], rec.established[rows]), eff)
        start = start + rng.integers(0, 30, rows.size).astype("timedelta64[D]")
        start = np.minimum(start, today)
        dead = res.status[rows] == DECEASED
        end = np.where(dead, res.death[rows], NAT)
        keep = ~dead | (end >= start)
        rows, start, end, dead = rows[keep], start[keep], end[keep], dead[keep]
        m = rows.size
        lost = rng.random(m) < params.LOST_TO_FOLLOW_UP
        cutoff = np.where(lost, today - rng.integers(190, 420, m).astype("timedelta64[D]"), today)
        cutoff = np.where(dead, end, cutoff)
        visits = _simulate(ctx, rng, programme, rows, start, cutoff, rs)
        offset = sum(len(x) for x in all_e["res"])
        visits_all.append((programme, visits, np.arange(offset, offset + m)))
        team = team_of[rows]
        all_e["res"].append(rows)
        all_e["programme"].append(np.full(m, programme, dtype=object))
        all_e["ruleset"].append(np.full(m, rs.code, dtype=object))
        all_e["start"].append(start)
        all_e["end"].append(end)
        all_e["reason"].append(np.where(dead, "deceased", "").astype(object))
        all_e["source"].append(np.array(["clinic", "screening", "hospital", "import"], dtype=object)[
            rng.choice(4, size=m, p=[0.6, 0.25, 0.1, 0.05])])
        all_e["diag"].append(diag[rows])
        all_e["team"].append(team)
        all_e["doctor"].append(np.array([leader[int(t)] for t in team], dtype=np.int64))
    E = {k: np.concatenate(v) for k, v in all_e.items()}
    me = E["res"].size
    e_id = load.allocate("programmes_enrolment", me)
    e_inst = res.institution[E["res"]]
    load.insert("programmes_enrolment", {
        "id": e_id, "version": np.ones(me, dtype=np.int64), "created_at": [stamp] * me, "updated_at": [stamp] * me,
        "resident_id": res.id[E["res"]], "programme": E["programme"], "ruleset": E["ruleset"],
        "start_date": E["start"], "end_date": E["end"], "end_reason": E["reason"], "end_note": [""] * me,
        "source": E["source"], "diagnosed_on": E["diag"], "institution_id": e_inst, "doctor_id": E["doctor"],
        "team_id": E["team"], "enrolled_by_id": E["doctor"],
    })
    ctx.counts["enrolments"] = me

    # -- visits --------------------------------------------------------------------------------
    V: dict[str, list] = {k: [] for k in ("enrol", "day", "programme", "sbp", "dbp", "hr", "fpg", "hba1c",
                                          "weight", "cls", "at_target", "urgent", "referred", "next_due",
                                          "annual", "form", "mode")}
    reasons_all: list[list[str]] = []
    meds = _regimens(rng, E)
    phys = ctx.frames["physiology"]
    for programme, v, enrol_ix in visits_all:
        if len(v["reasons"]) == 0:
            continue
        e = enrol_ix[v["enrol"]]
        forms = _forms(programme, v, phys.height[E["res"][e]], meds[e], rng)
        V["enrol"].append(e)
        V["programme"].append(np.full(e.size, programme, dtype=object))
        V["form"].append(forms)
        for key in ("day", "sbp", "dbp", "hr", "fpg", "hba1c", "weight", "cls", "at_target", "urgent", "referred",
                    "next_due", "annual", "mode"):
            V[key].append(v[key])
        reasons_all.extend(v["reasons"])
    Vc = {k: np.concatenate(v) for k, v in V.items()}
    order = np.lexsort((Vc["day"], Vc["enrol"]))
    Vc = {k: v[order] for k, v in Vc.items()}
    reasons_all = [reasons_all[i] for i in order]
    mv = Vc["enrol"].size
    v_id = load.allocate("programmes_visit", mv)
    v_res = E["res"][Vc["enrol"]]
    v_doctor = E["doctor"][Vc["enrol"]]
    v_inst = np.array([staff_inst[int(d)] for d in v_doctor], dtype=np.int64)
    is_dm = Vc["programme"] == "diabetes"
    height = np.round(phys.height[v_res], 1)
    bmi = bmi_exact(height, Vc["weight"])
    cache: dict[tuple, str] = {}
    reasons_json = np.array([cache.get(tuple(r)) or cache.setdefault(tuple(r), json.dumps(r)) for r in reasons_all],
                            dtype=object)
    load.insert("programmes_visit", {
        "id": v_id, "version": np.ones(mv, dtype=np.int64), "created_at": [stamp] * mv, "updated_at": [stamp] * mv,
        "enrolment_id": e_id[Vc["enrol"]], "resident_id": res.id[v_res], "programme": Vc["programme"],
        "ruleset": E["ruleset"][Vc["enrol"]], "visit_date": Vc["day"],
        "visit_type": np.where(Vc["annual"], "annual_check", "follow_up").astype(object),
        "mode": Vc["mode"], "face_to_face": np.isin(Vc["mode"], ["clinic", "home"]), "form": Vc["form"],
        "sbp": Vc["sbp"].astype(np.int64), "dbp": Vc["dbp"].astype(np.int64), "heart_rate": Vc["hr"].astype(np.int64),
        "weight": Vc["weight"], "bmi": bmi, "fasting_glucose": np.where(is_dm, Vc["fpg"], np.nan),
        "classification": CLASSES[Vc["cls"].astype(np.int64)], "at_target": Vc["at_target"].astype(bool),
        "next_due": Vc["next_due"], "referral_reasons": reasons_json, "referred": Vc["referred"].astype(bool),
        "urgent": Vc["urgent"].astype(bool), "doctor_id": v_doctor, "institution_id": v_inst,
        "team_id": E["team"][Vc["enrol"]], "is_deleted": np.zeros(mv, dtype=bool),
    })
    ctx.counts["visits"] = mv

    # Follow-up measurements (09:00 local on the visit day, as programmes.services._measured_at).
    from jiayi.synth.measurements import ALL_COLUMNS, write_measurements

    values = {c: np.full(mv, np.nan) for c in ALL_COLUMNS}
    values["sbp"], values["dbp"], values["heart_rate"] = (Vc["sbp"].astype(float), Vc["dbp"].astype(float),
                                                          Vc["hr"].astype(float))
    values["height"], values["weight"] = height, Vc["weight"]
    values["bmi"] = bmi
    values["fasting_glucose"] = np.where(is_dm, Vc["fpg"], np.nan)
    values["hba1c"] = np.where(is_dm, Vc["hba1c"], np.nan)
    write_measurements(ctx, v_res, Vc["day"], np.full(mv, "follow_up", dtype=object), values, v_doctor,
                       minutes=np.full(mv, 9 * 60))

    _tasks(ctx, rng, E, e_id, e_inst, Vc, v_id)
    _referrals(ctx, rng, E, e_id, Vc, v_id, v_inst, reasons_json, hospital)
    _plans(ctx, E, e_id, e_inst, Vc, v_id, meds)
    if contracts is not None:
        _deliveries(ctx, contracts, Vc, v_id, v_res, v_doctor)


def _regimens(rng: np.random.Generator, E: dict) -> np.ndarray:
    """Medication lines (JSON text) per enrolment; '' for patients without drugs."""
    m = E["res"].size
    out = np.full(m, "", dtype=object)
    treated = rng.random(m) < params.MEDICATION_PLAN_RATE + 0.04
    for programme, drugs in (("hypertension", HT_DRUGS), ("diabetes", DM_DRUGS)):
        sel = np.flatnonzero(treated & (E["programme"] == programme))
        first = rng.integers(0, len(drugs), sel.size)
        second = rng.integers(0, len(drugs), sel.size)
        two = (rng.random(sel.size) < 0.35) & (second != first)
        days = rng.choice([14, 28], size=sel.size, p=[0.2, 0.8])
        combos: dict[tuple, str] = {}
        for i, (a, b, t, d) in enumerate(zip(first, second, two, days, strict=True)):
            key = (a, b if t else -1, d)
            if key not in combos:
                lines = [drugs[a]] + ([drugs[b]] if t else [])
                combos[key] = json.dumps([
                    {"drug": dr, "drug_class": cl, "dose": float(dose), "dose_unit": unit, "times_per_day": times,
                     "duration_days": int(d)} for dr, cl, dose, unit, times in lines
                ], ensure_ascii=False)
            out[sel[i]] = combos[key]
    return out


def _num(a: np.ndarray) -> np.ndarray:
    return a.astype(str).astype(object)


def _forms(programme: str, v: dict, height: np.ndarray, meds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The visit forms as JSON text, as the schema cleans them plus the BMI the service adds.

    Built by concatenating object arrays (a million forms in a couple of seconds); a test checks a
    sample against the programme's schema."""
    k = v["sbp"].size
    if k == 0:
        return np.zeros(0, dtype=object)
    ht = programme == "hypertension"
    smoke = rng.choice([0, 0, 0, 5, 10, 20], size=k)
    exercise = rng.integers(0, 8, k)
    minutes = rng.choice([20, 30, 40, 60], size=k)
    height = np.round(height, 1)
    bmi = bmi_exact(height, v["weight"])
    adherence = np.where(meds == "", "none", np.where(rng.random(k) < 0.85, "regular", "intermittent"))

    def opt(mask: np.ndarray, text: np.ndarray | str) -> np.ndarray:
        return np.where(mask, text, "").astype(object)

    danger = v["danger"].astype(object)
    adverse = v["adverse"] | v["uncontrollable"]
    parts = [
        opt(danger != "", '"danger_signs": ["' + danger + '"], '),
        '"symptoms": ["' + v["symptom"].astype(object) + '"], ',
        '"sbp": ' + _num(v["sbp"]) + ', "dbp": ' + _num(v["dbp"]),
        ', "height": ' + _num(height) + ', "weight": ' + _num(v["weight"]) + ', "heart_rate": ' + _num(v["hr"]),
        ', "smoking_per_day": ' + _num(smoke) + ', "exercise_per_week": ' + _num(exercise),
        ', "exercise_minutes": ' + _num(minutes),
    ]
    if ht:
        parts.append(np.full(k, ', "salt": "medium", "salt_target": "light"', dtype=object))
    else:
        parts.append(', "foot_pulse": "normal", "staple_food_g": 300, "staple_food_target_g": 250, '
                     '"fasting_glucose": ' + _num(v["fpg"]))
        parts.append(opt(~np.isnan(v["hba1c"]), ', "hba1c": ' + _num(np.nan_to_num(v["hba1c"]))))
    parts += [
        ', "psychology": "good", "compliance": "good", "adherence": "' + adherence.astype(object) + '"',
        ', "adverse_reaction": ' + np.where(adverse, "true", "false").astype(object),
        opt(v["uncontrollable"], ', "adverse_uncontrollable": true'),
        np.full(k, ', "hypoglycaemia": "none"' if not ht else "", dtype=object),
        ', "complication_new_or_worse": ' + np.where(v["complication"], "true", "false").astype(object),
        opt(meds != "", ', "medications": ' + meds.astype(object)),
        opt(v["referred"], ', "referral_institution": "区中心医院", "referral_department": "'
            + ("心内科" if ht else "内分泌科") + '"'),
        ', "bmi": ' + _num(bmi) + "}",
    ]
    out = np.full(k, "{", dtype=object)
    for part in parts:
        out = out + part
    return out


def _tasks(ctx: SynthContext, rng: np.random.Generator, E: dict, e_id: np.ndarray, e_inst: np.ndarray,
           V: dict, v_id: np.ndarray) -> None:
    from jiayi.programmes.rules import annual_check_due

    load = ctx.loader
    today = ctx.today
    stamp = ctx.created_stamp
    me = e_id.size
    mv = v_id.size
    enrol = V["enrol"]
    first_of = np.r_[True, enrol[1:] != enrol[:-1]] if mv else np.zeros(0, bool)
    last_of = np.r_[enrol[1:] != enrol[:-1], True] if mv else np.zeros(0, bool)
    cls = V["cls"].astype(np.int64)
    referred = V["referred"].astype(bool)
    kind = np.where(referred, "referral_follow_up", "follow_up").astype(object)
    priority = np.where(referred, 0, np.where(cls != CONTROLLED, 1, 2))
    reason = np.where(referred, "转诊后2周内随访转诊情况",
                      np.where(cls != CONTROLLED, "控制不满意或不良反应，2周内随访", "")).astype(object)
    nxt_visit = np.r_[np.arange(1, mv), -1] if mv else np.zeros(0, np.int64)
    ended = ~np.isnat(E["end"])
    rows: dict[str, list] = {k: [] for k in ("enrol", "kind", "due", "status", "priority", "reason", "source",
                                              "done_by", "done_on")}

    def add(e, kind_, due, status, prio, why, source, done_by, done_on) -> None:
        for key, val in (("enrol", e), ("kind", kind_), ("due", due), ("status", status), ("priority", prio),
                         ("reason", why), ("source", source), ("done_by", done_by), ("done_on", done_on)):
            rows[key].append(val)

    # Tasks scheduled by each visit and done by the next one.
    done = ~last_of
    ix = np.flatnonzero(done)
    add(enrol[ix], kind[ix], V["next_due"][ix], np.full(ix.size, "done", object), priority[ix], reason[ix],
        ix, nxt_visit[ix], V["day"][nxt_visit[ix]] if ix.size else np.zeros(0, "datetime64[D]"))
    # The first follow-up after an enrolment in the window, done by the first visit.
    window = today - np.timedelta64(WINDOW_DAYS, "D")
    fx = np.flatnonzero(first_of & (E["start"][enrol] >= window))
    add(enrol[fx], np.full(fx.size, "follow_up", object), E["start"][enrol[fx]], np.full(fx.size, "done", object),
        np.full(fx.size, 2), np.full(fx.size, "纳入管理后首次随访", object), np.full(fx.size, -1), fx, V["day"][fx])
    # The open task of each enrolment: from its last visit, or the first follow-up when none.
    lx = np.flatnonzero(last_of)
    status_last = np.where(ended[enrol[lx]], "cancelled", "due").astype(object)
    add(enrol[lx], kind[lx], V["next_due"][lx], status_last, priority[lx], reason[lx], lx, np.full(lx.size, -1),
        np.full(lx.size, NAT))
    visited = np.zeros(me, dtype=bool)
    visited[enrol] = True
    nv = np.flatnonzero(~visited)
    due_nv = np.where(E["start"][nv] >= window, E["start"][nv],
                      window - rng.integers(0, 60, nv.size).astype("timedelta64[D]"))
    add(nv, np.full(nv.size, "follow_up", object), due_nv,
        np.where(ended[nv], "cancelled", "due").astype(object), np.full(nv.size, 2),
        np.where(E["start"][nv] >= window, "纳入管理后首次随访", "").astype(object), np.full(nv.size, -1),
        np.full(nv.size, -1), np.full(nv.size, NAT))
    # Annual checks: a done task per annual-check visit, and the open one per programmes.rules.
    ax = np.flatnonzero(V["annual"].astype(bool))
    next_year = (V["day"][ax].astype("datetime64[Y]") + np.timedelta64(1, "Y")).astype("datetime64[D]")
    year_end = next_year - np.timedelta64(1, "D")
    add(enrol[ax], np.full(ax.size, "annual_check", object), year_end, np.full(ax.size, "done", object),
        np.full(ax.size, 3), np.full(ax.size, "", object), np.full(ax.size, -1), ax, V["day"][ax])
    last_check = np.full(me, NAT)
    if ax.size:
        np.maximum.at(last_check.view(np.int64), enrol[ax], V["day"][ax].astype("datetime64[D]").view(np.int64))
    last_check[last_check.view(np.int64) == np.iinfo(np.int64).min] = NAT
    annual_due = np.array([
        annual_check_due(None if np.isnat(lc) else lc.astype(object), s.astype(object))
        for lc, s in zip(last_check, E["start"], strict=True)
    ], dtype="datetime64[D]") if me else np.zeros(0, "datetime64[D]")
    last_annual_visit = np.full(me, -1, dtype=np.int64)
    if ax.size:
        last_annual_visit[enrol[ax]] = ax  # visits are sorted by date within an enrolment
    add(np.arange(me), np.full(me, "annual_check", object), annual_due,
        np.where(ended, "cancelled", "due").astype(object), np.full(me, 3), np.full(me, "", object),
        last_annual_visit, np.full(me, -1), np.full(me, NAT))

    T = {k: np.concatenate(v) for k, v in rows.items()}
    order = np.lexsort((T["due"], T["enrol"]))
    T = {k: v[order] for k, v in T.items()}
    kt = T["enrol"].size
    src, by = T["source"].astype(np.int64), T["done_by"].astype(np.int64)
    load.insert("programmes_task", {
        "id": load.allocate("programmes_task", kt), "resident_id": ctx.frames["residents"].id[E["res"][T["enrol"]]],
        "enrolment_id": e_id[T["enrol"]], "programme": E["programme"][T["enrol"]], "kind": T["kind"],
        "due_date": T["due"].astype("datetime64[D]"), "status": T["status"], "priority": T["priority"].astype(np.int64),
        "reason": T["reason"], "institution_id": e_inst[T["enrol"]], "team_id": E["team"][T["enrol"]],
        "doctor_id": E["doctor"][T["enrol"]],
        "source_visit_id": nullable(np.where(src >= 0, v_id[np.maximum(src, 0)], 0), src >= 0),
        "done_by_visit_id": nullable(np.where(by >= 0, v_id[np.maximum(by, 0)], 0), by >= 0),
        "done_on": T["done_on"].astype("datetime64[D]"), "created_at": [stamp] * kt,
    })
    ctx.counts["tasks"] = kt


def _referrals(ctx: SynthContext, rng: np.random.Generator, E: dict, e_id: np.ndarray, V: dict, v_id: np.ndarray,
               v_inst: np.ndarray, reasons_json: np.ndarray, hospital: int) -> None:
    today = ctx.today
    ix = np.flatnonzero(V["referred"].astype(bool))
    k = ix.size
    day = V["day"][ix]
    returned = (day <= today - np.timedelta64(14, "D")) & (rng.random(k) < 0.85)
    back = np.where(returned, np.minimum(day + rng.integers(3, 15, k).astype("timedelta64[D]"), today), NAT)
    outcome = np.where(returned, "上级医院已调整治疗方案，转回社区继续管理", "").astype(object)
    dept = np.where(V["programme"][ix] == "hypertension", "心内科", "内分泌科").astype(object)
    ctx.loader.insert("programmes_referral", {
        "id": ctx.loader.allocate("programmes_referral", k),
        "resident_id": ctx.frames["residents"].id[E["res"][V["enrol"][ix]]], "enrolment_id": e_id[V["enrol"][ix]],
        "visit_id": v_id[ix], "programme": V["programme"][ix], "referred_on": day, "reasons": reasons_json[ix],
        "urgent": V["urgent"][ix].astype(bool), "to_institution_id": np.full(k, hospital, dtype=np.int64),
        "to_institution_name": ["区中心医院"] * k, "to_department": dept, "returned_on": back, "outcome": outcome,
        "cancelled": np.zeros(k, dtype=bool), "institution_id": v_inst[ix], "team_id": E["team"][V["enrol"][ix]],
        "doctor_id": E["doctor"][V["enrol"][ix]], "created_at": [ctx.created_stamp] * k,
    })
    ctx.counts["referrals"] = k


def _plans(ctx: SynthContext, E: dict, e_id: np.ndarray, e_inst: np.ndarray, V: dict, v_id: np.ndarray,
           meds: np.ndarray) -> None:
    """One plan per treated enrolment, set at its first visit in the window (or at enrolment)."""
    me = e_id.size
    first_visit = np.full(me, -1, dtype=np.int64)
    enrol = V["enrol"]
    if enrol.size:
        first = np.r_[True, enrol[1:] != enrol[:-1]]
        first_visit[enrol[first]] = np.flatnonzero(first)
    ix = np.flatnonzero(meds != "")
    k = ix.size
    fv = first_visit[ix]
    start = np.where(fv >= 0, V["day"][np.maximum(fv, 0)], E["start"][ix])
    ended = ~np.isnat(E["end"][ix])
    plan_id = ctx.loader.allocate("programmes_medicationplan", k)
    ctx.loader.insert("programmes_medicationplan", {
        "id": plan_id, "resident_id": ctx.frames["residents"].id[E["res"][ix]], "enrolment_id": e_id[ix],
        "programme": E["programme"][ix], "visit_id": nullable(np.where(fv >= 0, v_id[np.maximum(fv, 0)], 0), fv >= 0),
        "start_date": start.astype("datetime64[D]"), "status": np.where(ended, "stopped", "active").astype(object),
        "long_prescription": np.zeros(k, dtype=bool), "assessment_note": [""] * k,
        "patient_confirmed": np.zeros(k, dtype=bool), "institution_id": e_inst[ix], "doctor_id": E["doctor"][ix],
        "created_at": [ctx.created_stamp] * k,
    })
    plan_l, drug, cls, dose, unit, times, days = [], [], [], [], [], [], []
    cache: dict[str, list] = {}
    for p, text in zip(plan_id, meds[ix], strict=True):
        lines = cache.get(text)
        if lines is None:
            lines = cache[text] = json.loads(text)
        for line in lines:
            plan_l.append(p)
            drug.append(line["drug"])
            cls.append(line["drug_class"])
            dose.append(line["dose"])
            unit.append(line["dose_unit"])
            times.append(line["times_per_day"])
            days.append(line["duration_days"])
    kl = len(plan_l)
    ctx.loader.insert("programmes_medicationplanline", {
        "id": ctx.loader.allocate("programmes_medicationplanline", kl), "plan_id": plan_l, "drug": drug,
        "drug_class": cls, "dose": dose, "dose_unit": unit, "times_per_day": times, "duration_days": days,
    })
    ctx.counts["medication_plans"] = k


def _deliveries(ctx: SynthContext, contracts, V: dict, v_id: np.ndarray, v_res: np.ndarray,
                v_doctor: np.ndarray) -> None:
    """Contract fulfilment from visits (programmes.services._service_delivered)."""
    c = contracts.in_force(v_res, V["day"])
    for code_of, mask in (
        ({"hypertension": "ht_follow_up", "diabetes": "dm_follow_up"}, np.ones(v_id.size, dtype=bool)),
        ({"hypertension": "annual_check", "diabetes": "annual_check"}, V["annual"].astype(bool)),
    ):
        for programme, code in code_of.items():
            sel = np.flatnonzero(mask & (V["programme"] == programme) & (c >= 0))
            item = contracts.item_for(c[sel], code)
            ok = item >= 0
            sel, item = sel[ok], item[ok]
            contracts.deliveries.append((item, V["day"][sel], np.full(sel.size, "programmes.visit", dtype=object),
                                         v_id[sel], v_doctor[sel]))

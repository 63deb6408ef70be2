"""Stage ``contracts``: family-doctor contracts, their packages, promised items and fulfilment.

Semantics are those of ``contracts.services`` (read there): one contract per resident at a time; a
12-month period ending on ``rules.contract_end``; exactly one basic package plus personalised
packages that fit the resident's key populations at signing; fees split per package with the
resident share waived for the rule set's waiver groups (脱贫人口); a renewal starts the day after its
predecessor ends and links to it; statuses are what ``contracts_refresh_status`` stores on the
reference date; every item's ``delivered`` / ``next_due_on`` equal what ``_recount`` computes from its
deliveries (``rules.next_deadline``).

Coverage (params): about 27 % of other residents and 76 % of key-population members sign, by
household (family members follow), giving ~40 % of the resident population (xuhui 40-45 %,
gusu >= 35 %) and ~75 % of key populations (gusu >= 65 %, binhai >= 85 %). 62 % of current contracts
renew an earlier one; some contracts expired unrenewed, some were terminated (request, death, moving).

The default packages (``contracts.defaults``, demo values) are installed at the district's health
commission, so that every centre offers them. Deliveries of programme services (HT/DM follow-ups, the
annual check of enrolled patients) are added by the programme stage from its visits; the other items
get manual deliveries (``contracts.manual``) spread over the period with a per-contract propensity
(partial fulfilment). Items and deliveries are written in ``finalise``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from jiayi.synth import params, people
from jiayi.synth.context import SynthContext
from jiayi.synth.dates import NAT, add_months, age_on, map_dates, random_between
from jiayi.synth.loader import nullable
from jiayi.synth.org import OrgFrame
from jiayi.synth.residents import DECEASED, MOVED_OUT, ResidentFrame

#: Service codes whose deliveries come from programme visits when the resident is enrolled.
PROGRAMME_SERVICES = {"ht_follow_up": "hypertension", "dm_follow_up": "diabetes", "annual_check": "*"}

#: Probability of choosing a personalised package the resident is eligible for (project assumption).
PACKAGE_UPTAKE = {"hypertension": 0.8, "diabetes": 0.8, "elderly_home": 0.45, "maternal": 0.7, "child": 0.5,
                  "tcm": 0.04, "home_sickbed": 0.12}
OPTIONAL_ITEM_CHOSEN = 0.3

ACTIVE, EXPIRED, RENEWED, TERMINATED = "active", "expired", "renewed", "terminated"


@dataclass
class ContractFrame:
    id: np.ndarray
    resident: np.ndarray  # row index into residents
    team: np.ndarray
    doctor: np.ndarray
    start: np.ndarray
    end: np.ndarray
    terminated: np.ndarray  # first day without the contract, NaT
    status: np.ndarray  # object
    last_day: np.ndarray
    item_contract: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # contract index
    item_package: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    item_code: np.ndarray = field(default_factory=lambda: np.zeros(0, object))
    item_qty: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    item_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    deliveries: list = field(default_factory=list)  # (item index, date, source, source_id, staff) arrays

    def in_force(self, res_rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Index of the contract of each resident in force on each day, or -1."""
        order = np.lexsort((self.start, self.resident))
        key_r, key_s = self.resident[order], self.start[order].astype(np.int64)
        # Last contract of the resident starting on or before the day.
        big = np.int64(1 << 20)
        keys = key_r.astype(np.int64) * big + key_s
        probe = res_rows.astype(np.int64) * big + days.astype("datetime64[D]").astype(np.int64)
        pos = np.searchsorted(keys, probe, side="right") - 1
        ok = pos >= 0
        cand = np.where(ok, order[np.maximum(pos, 0)], -1)
        ok &= self.resident[np.maximum(cand, 0)] == res_rows
        ok &= days <= self.last_day[np.maximum(cand, 0)]
        return np.where(ok, cand, -1)

    def item_for(self, contract: np.ndarray, code: str) -> np.ndarray:
        """Index of the item with ``code`` in each contract (-1 when the contract has none)."""
        mask = self.item_code == code
        ix = np.flatnonzero(mask)
        by_contract = np.full(self.id.size, -1, dtype=np.int64)
        by_contract[self.item_contract[ix]] = ix  # at most one item per code and contract here
        return np.where(contract >= 0, by_contract[np.maximum(contract, 0)], -1)


def available() -> bool:
    from django.apps import apps
    from django.db import connection

    if not apps.is_installed("jiayi.contracts"):
        return False
    try:
        models = [apps.get_model("contracts", m) for m in (
            "ServicePackage", "PackageItem", "Contract", "ContractPackage", "ContractItem", "ServiceDelivery",
            "HouseholdSigning", "SatisfactionSurvey")]
    except LookupError:
        return False
    tables = set(connection.introspection.table_names())
    return all(m._meta.db_table in tables for m in models)


def install_packages(ctx: SynthContext) -> None:
    """The default packages (``contracts.defaults``, demo values) at the district's commission.

    Written with explicit ids like every other synthetic row (so a regenerated district is identical),
    with exactly the values ``contracts.services.packages_install_defaults`` would store (a test
    compares them).
    """
    from jiayi.contracts.defaults import DEFAULT_PACKAGES

    org: OrgFrame = ctx.frames["org"]
    load = ctx.loader
    specs = list(DEFAULT_PACKAGES)
    ids = load.allocate("contracts_servicepackage", len(specs))
    stamp = ctx.created_stamp
    k = len(specs)
    load.insert("contracts_servicepackage", {
        "id": ids, "version": [1] * k, "created_at": [stamp] * k, "updated_at": [stamp] * k,
        "institution_id": [org.commission_id] * k, "code": [p.code for p in specs],
        "name": [str(p.name) for p in specs],
        "kind": [p.kind for p in specs], "description": [str(p.description) for p in specs],
        "target_groups": [json.dumps(sorted(set(p.target_groups))) for p in specs],
        "price": [float(p.price) for p in specs], "insurance_share": [float(p.insurance_share) for p in specs],
        "public_health_share": [float(p.public_health_share) for p in specs],
        "resident_share": [float(p.resident_share) for p in specs], "period_months": [12] * k,
        "active": [True] * k, "demo_default": [True] * k,
    })
    rows = [(int(pid), code, qty, optional)
            for pid, p in zip(ids, specs, strict=True) for code, qty, optional in p.items]
    load.insert("contracts_packageitem", {
        "id": load.allocate("contracts_packageitem", len(rows)), "package_id": [r[0] for r in rows],
        "service_code": [r[1] for r in rows], "quantity": [r[2] for r in rows], "optional": [r[3] for r in rows],
        "note": [""] * len(rows),
    })
    ctx.frames["packages"] = [
        {"id": int(pid), "code": p.code, "kind": p.kind, "targets": set(p.target_groups),
         "shares": (float(p.price), float(p.insurance_share), float(p.public_health_share), float(p.resident_share)),
         "items": list(p.items)}
        for pid, p in zip(ids, specs, strict=True)
    ]


def _groups_on(ctx: SynthContext, rows: np.ndarray, day: np.ndarray) -> dict[str, np.ndarray]:
    """Key-population membership of residents ``rows`` on ``day`` (contracts.services.resident_groups)."""
    res: ResidentFrame = ctx.frames["residents"]
    conds = ctx.frames["conditions"]
    age = age_on(res.birth[rows], day)
    recent = day >= ctx.today - np.timedelta64(300, "D")

    def diagnosed(arr: np.ndarray) -> np.ndarray:
        d = arr[rows]
        return ~np.isnat(d) & (d <= day)

    return {
        "elderly": age >= 65, "child": age <= 6, "maternal": res.pregnant[rows] & recent,
        "disabled": res.disabled[rows], "poverty_lifted": res.poverty_lifted[rows],
        "special_fp_family": res.special_fp[rows],
        "hypertension": diagnosed(conds.hypertension), "diabetes": diagnosed(conds.diabetes),
        "tuberculosis": diagnosed(conds.tuberculosis), "severe_mental": diagnosed(conds.severe_mental),
    }


def _contract_end(start: np.ndarray) -> np.ndarray:
    from jiayi.contracts.rules import contract_end

    return map_dates(lambda d: contract_end(d, 12), start)


def build_contracts(ctx: SynthContext) -> None:
    org: OrgFrame = ctx.frames["org"]
    res: ResidentFrame = ctx.frames["residents"]
    rec = ctx.frames["records"]
    rng = ctx.rng("contracts")
    load = ctx.loader
    today = ctx.today
    n = res.id.size
    packages = ctx.frames["packages"]
    basic = next(p for p in packages if p["kind"] == "basic")
    personal = [p for p in packages if p["kind"] != "basic"]

    # -- who signs (by household) ------------------------------------------------------------
    living = res.living
    groups_now = _groups_on(ctx, np.arange(n), np.full(n, today))
    key = np.zeros(n, dtype=bool)
    for v in groups_now.values():
        key |= v
    p_sign = np.where(key, params.CONTRACT_RATE_KEY, params.CONTRACT_RATE_GENERAL)
    first = living & (rng.random(n) < p_sign)
    hh_rows = np.searchsorted(res.hh_id, res.household)  # household index per resident
    hh_any = np.zeros(res.hh_id.size, dtype=bool)
    hh_any[hh_rows[first]] = True
    follows = living & ~first & hh_any[hh_rows] & (rng.random(n) < params.CONTRACT_FAMILY_FOLLOWS)
    signer = first | follows

    # Team per household (the team serving the household's institution), leader as doctor.
    hh_team = np.full(res.hh_id.size, -1, dtype=np.int64)
    head_inst = res.institution[res.hh_head]
    u = rng.random(res.hh_id.size)
    for inst, teams in org.institution_teams.items():
        sel = head_inst == inst
        if teams.size:
            hh_team[sel] = teams[(u[sel] * teams.size).astype(np.int64)]
    leader_of = {int(t): int(lead) for t, lead in zip(org.team_id, org.team_leader, strict=True)}
    nurse_of = {int(t): int(nu) for t, nu in zip(org.team_id, org.team_nurse, strict=True)}

    # Current period: one start date per household signing (family members sign together).
    hh_start = today - rng.integers(0, 365, res.hh_id.size).astype("timedelta64[D]")
    start = hh_start[hh_rows]
    start = np.maximum(start, res.birth)  # a newborn signs from birth at the earliest

    rows_l, start_l, end_l, term_l, status_l, reason_l, renewal_l = [], [], [], [], [], [], []

    def add(rows: np.ndarray, s: np.ndarray, e: np.ndarray, term: np.ndarray, status: np.ndarray,
            reason: np.ndarray, renewal_of: np.ndarray) -> None:
        rows_l.append(rows)
        start_l.append(s)
        end_l.append(e)
        term_l.append(term)
        status_l.append(status)
        reason_l.append(reason)
        renewal_l.append(renewal_of)

    cur = np.flatnonzero(signer)
    cur_start = start[cur]
    cur_end = _contract_end(cur_start)
    terminated = rng.random(cur.size) < params.CONTRACT_TERMINATED
    span = (today - cur_start).astype(np.int64)
    terminated &= span > 45
    term_day = np.full(cur.size, NAT)
    term_day[terminated] = cur_start[terminated] + (30 + rng.random(int(terminated.sum()))
                                                    * (span[terminated] - 30)).astype("timedelta64[D]")
    cur_status = np.where(terminated, TERMINATED, ACTIVE).astype(object)
    cur_reason = np.where(terminated, np.where(rng.random(cur.size) < 0.6, "resident_request", "team_change"),
                          "").astype(object)
    # Predecessors: a renewal starts the day after the old contract ends.
    renewed = (rng.random(cur.size) < params.CONTRACT_RENEWED)
    prev_start = add_months(cur_start, -12)
    renewed &= prev_start >= res.birth[cur]
    prev_rows = cur[renewed]
    prev_s = prev_start[renewed]
    prev_e = cur_start[renewed] - np.timedelta64(1, "D")
    k1 = prev_rows.size
    add(prev_rows, prev_s, prev_e, np.full(k1, NAT), np.full(k1, RENEWED, object), np.full(k1, "", object),
        np.full(k1, -1))
    cur_renewal = np.full(cur.size, -1)
    cur_renewal[renewed] = np.arange(k1)  # predecessors come first, so renewal_of points backwards
    add(cur, cur_start, cur_end, term_day, cur_status, cur_reason, cur_renewal)

    # Expired without renewal, among living non-signers.
    lapsed = np.flatnonzero(living & ~signer & (rng.random(n) < np.where(key, 0.1, 0.04)))
    lapsed_end = today - rng.integers(1, 300, lapsed.size).astype("timedelta64[D]")
    lapsed_start = add_months(lapsed_end + np.timedelta64(1, "D"), -12)
    ok = lapsed_start >= res.birth[lapsed]
    lapsed, lapsed_start, lapsed_end = lapsed[ok], lapsed_start[ok], lapsed_end[ok]
    k = lapsed.size
    add(lapsed, lapsed_start, lapsed_end, np.full(k, NAT), np.full(k, EXPIRED, object), np.full(k, "", object),
        np.full(k, -1))
    # Residents who died or moved out while signed: terminated.
    gone = np.flatnonzero(((res.status == DECEASED) & (res.death >= today - np.timedelta64(330, "D")))
                          | (res.status == MOVED_OUT))
    gone = gone[rng.random(gone.size) < 0.5]
    first_day_without = np.where(res.status[gone] == DECEASED, res.death[gone] + np.timedelta64(1, "D"),
                                 today - rng.integers(1, 300, gone.size).astype("timedelta64[D]"))
    g_start = first_day_without - rng.integers(20, 330, gone.size).astype("timedelta64[D]")
    ok = g_start >= res.birth[gone]
    gone, first_day_without, g_start = gone[ok], first_day_without[ok], g_start[ok]
    k = gone.size
    g_end = _contract_end(g_start)
    first_day_without = np.minimum(first_day_without, g_end)  # terminated no later than the end date
    add(gone, g_start, g_end, first_day_without, np.full(k, TERMINATED, object),
        np.where(res.status[gone] == DECEASED, "deceased", "moved_out").astype(object), np.full(k, -1))

    c_res = np.concatenate(rows_l)
    c_start = np.concatenate(start_l).astype("datetime64[D]")
    c_end = np.concatenate(end_l).astype("datetime64[D]")
    c_term = np.concatenate(term_l).astype("datetime64[D]")
    c_status = np.concatenate(status_l)
    c_reason = np.concatenate(reason_l)
    c_renewal = np.concatenate(renewal_l).astype(np.int64)
    m = c_res.size
    c_team = hh_team[hh_rows[c_res]]
    valid = c_team >= 0
    if not valid.all():  # an institution without a team cannot sign (never happens with org.py)
        raise ValueError("a resident's institution has no family-doctor team")
    c_doctor = np.array([leader_of[int(t)] for t in c_team], dtype=np.int64)
    c_inst = np.array([org.team_institution[np.searchsorted(org.team_id, t)] for t in c_team], dtype=np.int64)
    c_last = np.where(np.isnat(c_term), c_end, np.minimum(c_end, c_term - np.timedelta64(1, "D")))
    c_id = load.allocate("contracts_contract", m)
    renewal_id = nullable(np.where(c_renewal >= 0, c_id[np.maximum(c_renewal, 0)], -1), c_renewal >= 0)

    # -- packages ------------------------------------------------------------------------------
    groups = _groups_on(ctx, c_res, c_start)
    chosen = [np.ones(m, dtype=bool)]  # basic
    for p in personal:
        eligible = np.ones(m, dtype=bool) if not p["targets"] else np.zeros(m, dtype=bool)
        for g in p["targets"]:
            if g in groups:
                eligible |= groups[g]
        chosen.append(eligible & (rng.random(m) < PACKAGE_UPTAKE.get(p["code"], 0.05)))
    pk_all = [basic, *personal]
    shares = np.zeros((m, 4))
    cp_contract, cp_package, cp_shares = [], [], []
    for p, mask in zip(pk_all, chosen, strict=True):
        ix = np.flatnonzero(mask)
        shares[ix] += np.array(p["shares"])
        cp_contract.append(ix)
        cp_package.append(np.full(ix.size, p["id"], dtype=np.int64))
        cp_shares.append(np.repeat(np.array([p["shares"]]), ix.size, axis=0))
    from jiayi.contracts.rules import DEFAULT as CONTRACT_RULES

    waive_groups = [g for g in CONTRACT_RULES.value("fee_waiver_groups") if g in groups]
    waived = np.zeros(m, dtype=bool)
    for g in waive_groups:
        waived |= groups[g]
    fee_waived = np.where(waived, shares[:, 3], 0.0)
    fee_resident = np.where(waived, 0.0, shares[:, 3])

    # -- signing details ---------------------------------------------------------------------
    age_at = age_on(res.birth[c_res], c_start)
    minor = age_at < 18
    hh_of = hh_rows[c_res]
    head_row = res.hh_head[hh_of]
    names_col = ctx.frames["resident_names"]
    u = rng.random(m)
    consent = np.select([minor, u < 0.62, u < 0.9], ["proxy", "handwritten", "electronic"], "fingerprint")
    consent = consent.astype(object)
    rel = res.relation[c_res]
    proxy_relation = np.select([rel == people.CHILD, rel == people.GRANDCHILD], ["parent", "grandparent"], "other")
    signatory = np.where(minor, names_col[head_row], names_col[c_res]).astype(object)
    consent_relation = np.where(minor, proxy_relation, "").astype(object)
    u = rng.random(m)
    old = age_at >= 80
    place = np.select([old & (u < 0.45), u < 0.06, u < 0.14], ["home", "elderly_care", "online"], "institution")
    place = np.where((place == "home") & ~old & (u > 0.2), "institution", place).astype(object)
    place_inst = nullable(np.full(m, org.elderly_care_id), place == "elderly_care")
    sign_day = np.maximum(c_start - rng.integers(0, 8, m).astype("timedelta64[D]"), res.birth[c_res])
    sign_day = np.minimum(sign_day, today)
    signed_at = load.timestamps(ctx.local_to_utc(sign_day, rng.integers(8 * 60, 17 * 60, m)))
    signed_by = np.where(rng.random(m) < 0.7, c_doctor,
                         np.array([nurse_of.get(int(t), -1) for t in c_team], dtype=np.int64))
    signed_by = np.where(signed_by < 0, c_doctor, signed_by)
    year = c_start.astype("datetime64[Y]").astype(str)
    number = ("QY" + year.astype(object) + np.char.zfill(c_id.astype(str), 8).astype(object))

    # Household signings: two or more members of a household signing their current contracts together.
    cur_ix = np.flatnonzero((c_status == ACTIVE) | ((c_status == TERMINATED) & (c_reason != "deceased")
                                                    & (c_reason != "moved_out")))
    cur_ix = cur_ix[c_start[cur_ix] == hh_start[hh_of[cur_ix]]]
    hh_count = np.bincount(hh_of[cur_ix], minlength=res.hh_id.size)
    together = cur_ix[hh_count[hh_of[cur_ix]] >= 2]
    sig_hh, sig_first = np.unique(hh_of[together], return_index=True)
    sig_id = load.allocate("contracts_householdsigning", sig_hh.size)
    hs_of_hh = np.full(res.hh_id.size, -1, dtype=np.int64)
    hs_of_hh[sig_hh] = sig_id
    household_signing = np.full(m, -1, dtype=np.int64)
    household_signing[together] = hs_of_hh[hh_of[together]]
    first_rows = together[sig_first]
    load.insert("contracts_householdsigning", {
        "id": sig_id, "household_id": res.hh_id[sig_hh], "team_id": c_team[first_rows],
        "doctor_id": c_doctor[first_rows], "signed_at": signed_at[first_rows], "signed_by_id": signed_by[first_rows],
    })

    stamp = ctx.created_stamp
    terminated_by = nullable(c_doctor, ~np.isnat(c_term))
    note = np.where(c_reason == "team_change", "居民申请改签其他团队", "").astype(object)
    load.insert("contracts_contract", {
        "id": c_id, "version": np.ones(m, dtype=np.int64), "created_at": [stamp] * m, "updated_at": [stamp] * m,
        "number": number, "resident_id": res.id[c_res], "team_id": c_team, "doctor_id": c_doctor,
        "institution_id": c_inst, "status": c_status, "start_date": c_start, "end_date": c_end,
        "renewal_of_id": renewal_id, "household_signing_id": nullable(household_signing, household_signing >= 0),
        "signed_at": signed_at, "signed_by_id": signed_by, "consent_method": consent,
        "consent_signatory": signatory, "consent_relation": consent_relation, "consent_document": [""] * m,
        "place_type": place, "functional_community_id": [None] * m, "place_institution_id": place_inst,
        "place_note": [""] * m, "fee_total": np.round(shares[:, 0], 2), "fee_insurance": np.round(shares[:, 1], 2),
        "fee_public_health": np.round(shares[:, 2], 2), "fee_resident": np.round(fee_resident, 2),
        "fee_waived": np.round(fee_waived, 2),
        "waiver_reason": np.where(waived, waive_groups[0] if waive_groups else "", "").astype(object),
        "waiver_note": [""] * m, "terminated_on": c_term, "termination_reason": c_reason,
        "termination_note": note, "terminated_by_id": terminated_by,
    })
    cpc = np.concatenate(cp_contract)
    cps = np.concatenate(cp_shares)
    order = np.argsort(cpc, kind="stable")
    cpc, cps = cpc[order], cps[order]
    cpp = np.concatenate(cp_package)[order]
    load.insert("contracts_contractpackage", {
        "id": load.allocate("contracts_contractpackage", cpc.size), "contract_id": c_id[cpc], "package_id": cpp,
        "price": cps[:, 0], "insurance_share": cps[:, 1], "public_health_share": cps[:, 2],
        "resident_share": cps[:, 3],
    })
    ctx.counts["contracts"] = m

    # -- promised items and manual deliveries ----------------------------------------------------
    it_c, it_p, it_code, it_q = [], [], [], []
    for p, mask in zip(pk_all, chosen, strict=True):
        ix = np.flatnonzero(mask)
        for code, qty, optional in p["items"]:
            take = ix[rng.random(ix.size) < OPTIONAL_ITEM_CHOSEN] if optional else ix
            it_c.append(take)
            it_p.append(np.full(take.size, p["id"], dtype=np.int64))
            it_code.append(np.full(take.size, code, dtype=object))
            it_q.append(np.full(take.size, qty, dtype=np.int64))
    item_contract = np.concatenate(it_c)
    order = np.argsort(item_contract, kind="stable")
    frame = ContractFrame(
        id=c_id, resident=c_res, team=c_team, doctor=c_doctor, start=c_start, end=c_end, terminated=c_term,
        status=c_status, last_day=c_last, item_contract=item_contract[order],
        item_package=np.concatenate(it_p)[order], item_code=np.concatenate(it_code)[order],
        item_qty=np.concatenate(it_q)[order],
    )
    frame.item_id = load.allocate("contracts_contractitem", frame.item_contract.size)
    _manual_deliveries(ctx, rng, frame, rec)
    _satisfaction(ctx, rng, frame, nurse_of)
    ctx.frames["contracts"] = frame


def _manual_deliveries(ctx: SynthContext, rng: np.random.Generator, f: ContractFrame, rec) -> None:
    """Deliveries of the items no programme records, spread over the period's unit deadlines."""
    res: ResidentFrame = ctx.frames["residents"]
    conds = ctx.frames["conditions"]
    today = ctx.today
    programmes_on = ctx.frames.get("programmes_available", False)
    rows = f.resident[f.item_contract]
    code = f.item_code
    enrolled_ht = ~np.isnat(conds.hypertension[rows]) & res.living[rows] & rec.has_record[rows]
    enrolled_dm = ~np.isnat(conds.diabetes[rows]) & res.living[rows] & rec.has_record[rows]
    by_programme = (code == "ht_follow_up") & enrolled_ht
    by_programme |= (code == "dm_follow_up") & enrolled_dm
    by_programme |= (code == "annual_check") & (enrolled_ht | enrolled_dm)
    manual = ~by_programme if programmes_on else np.ones(code.size, dtype=bool)
    c = f.item_contract
    start, end = f.start[c], f.end[c]
    horizon = np.minimum(f.last_day[c], today)
    period = (end - start).astype(np.int64) + 1
    elapsed = np.clip((horizon - start).astype(np.int64) + 1, 0, None)
    q = f.item_qty
    due = elapsed * q // period
    propensity = rng.beta(3.0, 1.6, f.id.size)[c]  # per contract, mean ~0.65
    n = rng.binomial(due, propensity) + (rng.random(q.size) < 0.15)  # some ahead of schedule
    n = np.minimum(n, q)
    n = np.where(manual & (elapsed > 0), n, 0)
    item = np.repeat(np.arange(q.size), n)
    k = np.arange(item.size) - np.repeat(np.cumsum(n) - n, n) + 1  # unit number 1..n
    p_, q_ = period[item], q[item]
    lo = start[item] + (-(-(k - 1) * p_ // q_)).astype("timedelta64[D]")
    hi = start[item] + (-(-k * p_ // q_) - 1).astype("timedelta64[D]")
    hi = np.minimum(hi, horizon[item])
    lo = np.minimum(lo, hi)
    day = random_between(rng, lo, hi)
    # Services are on record since the platform's history starts (as for programme visits).
    kept = day >= ctx.today - np.timedelta64(params.HISTORY_WINDOW_DAYS, "D")
    item, day = item[kept], day[kept]
    staff = f.doctor[c[item]]
    f.deliveries.append((item, day, np.full(item.size, "contracts.manual", dtype=object),
                         np.full(item.size, -1, dtype=np.int64), staff))


def _satisfaction(ctx: SynthContext, rng: np.random.Generator, f: ContractFrame, nurse_of: dict[int, int]) -> None:
    today = ctx.today
    eligible = np.flatnonzero((f.status == ACTIVE) & (f.start <= today - np.timedelta64(90, "D")))
    take = eligible[rng.random(eligible.size) < 0.25]
    k = take.size
    overall = rng.choice([5, 4, 3, 2, 1], size=k, p=[0.46, 0.41, 0.09, 0.03, 0.01])

    def near() -> np.ndarray:
        return np.clip(overall + rng.choice([-1, 0, 0, 0, 1], size=k), 1, 5)

    surveyed = random_between(rng, f.start[take] + np.timedelta64(60, "D"), np.full(k, today))
    method = rng.choice(["in_person", "phone", "portal"], size=k, p=[0.5, 0.45, 0.05]).astype(object)
    renew = nullable(overall >= 3, rng.random(k) > 0.05)
    entered = np.array([nurse_of.get(int(t), -1) for t in f.team[take]], dtype=np.int64)
    entered = np.where(entered < 0, f.doctor[take], entered)
    comments = np.where((overall <= 2) & (rng.random(k) < 0.6), "希望增加上门服务次数", "").astype(object)
    stamp = ctx.created_stamp
    ctx.loader.insert("contracts_satisfactionsurvey", {
        "id": ctx.loader.allocate("contracts_satisfactionsurvey", k), "version": np.ones(k, dtype=np.int64),
        "created_at": [stamp] * k, "updated_at": [stamp] * k, "contract_id": f.id[take], "surveyed_on": surveyed,
        "method": method, "respondent_relation": [""] * k, "overall_score": overall, "attitude_score": near(),
        "access_score": near(), "skill_score": near(), "fulfilment_score": near(), "would_renew": renew,
        "comments": comments, "entered_by_id": entered,
    })


def write_items(ctx: SynthContext) -> None:
    """Insert the contract items (counters from their deliveries) and the deliveries."""
    from jiayi.contracts.rules import next_deadline

    f: ContractFrame | None = ctx.frames.get("contracts")
    if f is None:
        return
    res: ResidentFrame = ctx.frames["residents"]
    load = ctx.loader
    parts = list(zip(*f.deliveries, strict=True)) if f.deliveries else [[], [], [], [], []]
    item = np.concatenate(parts[0]) if f.deliveries else np.zeros(0, np.int64)
    day = np.concatenate(parts[1]).astype("datetime64[D]") if f.deliveries else np.zeros(0, "datetime64[D]")
    source = np.concatenate(parts[2]) if f.deliveries else np.zeros(0, object)
    source_id = np.concatenate(parts[3]) if f.deliveries else np.zeros(0, np.int64)
    staff = np.concatenate(parts[4]) if f.deliveries else np.zeros(0, np.int64)
    delivered = np.bincount(item, minlength=f.item_id.size)
    c = f.item_contract
    q = f.item_qty
    # next_deadline(start, end, q, delivered) for every distinct (start, end, q, delivered).
    key = np.stack([f.start[c].astype(np.int64), f.end[c].astype(np.int64), q, np.minimum(delivered, q)], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    nd = np.array([
        next_deadline(np.datetime64(int(s), "D").astype(object), np.datetime64(int(e), "D").astype(object),
                      int(qq), int(dd))
        for s, e, qq, dd in uniq
    ], dtype=object)
    next_due = np.array([NAT if x is None else np.datetime64(x, "D") for x in nd], dtype="datetime64[D]")[inv.ravel()]
    load.insert("contracts_contractitem", {
        "id": f.item_id, "contract_id": f.id[c], "package_id": f.item_package, "service_code": f.item_code,
        "quantity": q, "delivered": np.minimum(delivered, 32767), "next_due_on": next_due,
    })
    order = np.lexsort((day, item))
    item, day, source, source_id, staff = item[order], day[order], source[order], source_id[order], staff[order]
    k = item.size
    load.insert("contracts_servicedelivery", {
        "id": load.allocate("contracts_servicedelivery", k), "contract_id": f.id[c[item]],
        "item_id": f.item_id[item], "resident_id": res.id[f.resident[c[item]]], "service_code": f.item_code[item],
        "delivered_on": day, "source": source, "source_id": nullable(source_id, source_id >= 0),
        "recorded_by_id": nullable(staff, staff >= 0), "note": [""] * k, "created_at": [ctx.created_stamp] * k,
        "revoked_at": [None] * k, "revoked_reason": [""] * k,
    })
    ctx.counts["contract_items"] = int(f.item_id.size)
    ctx.counts["service_deliveries"] = k

"""Stage ``residents``: households and residents with names, ID numbers, phones, addresses, residence
status and the recorded key-population facts (disability, poverty-lifted, special family-planning
family, pregnancy).

Rates and their sources: ``reference.PREVALENCE['disability']`` (2006 national disability survey),
``reference.POVERTY_LIFTED`` (per district), ``reference.PREVALENCE['special_fp_family_households']``,
``reference.PREVALENCE['pregnant']`` (derived from the 2020 crude birth rate); residence status and
household formation from :mod:`jiayi.synth.params`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jiayi.synth import names, params, people, reference
from jiayi.synth.context import SynthContext
from jiayi.synth.org import OrgFrame

REGISTERED, NON_REGISTERED, MOVED_OUT, DECEASED = range(4)
STATUS_VALUES = ("registered", "non_registered", "moved_out", "deceased")

# Ethnic minorities by region (small shares; 2020 census: Han 91.1 % nationally, far higher in these
# eastern districts; Manchu and Mongol are notable in Liaoning, Hui in Tianjin). Project assumption.
_ETHNIC_NORTH = (("汉族", 0.93), ("满族", 0.045), ("回族", 0.015), ("蒙古族", 0.01))
_ETHNIC_SOUTH = (("汉族", 0.985), ("回族", 0.006), ("畲族", 0.005), ("满族", 0.004))

# Relative disability risk by age (lower bound, factor); scaled to the reference rate. Project
# assumption following the 2006 survey's steep age gradient.
_DISABILITY_AGE = ((0, 0.25), (15, 0.45), (45, 0.9), (60, 1.8), (70, 3.0), (80, 5.0))
_PREGNANCY_AGE = ((0, 0.0), (20, 0.6), (25, 1.0), (30, 0.9), (35, 0.4), (40, 0.1), (46, 0.0))


@dataclass
class ResidentFrame:
    id: np.ndarray
    age: np.ndarray
    male: np.ndarray
    birth: np.ndarray  # datetime64[D]
    community: np.ndarray  # index into org communities
    institution: np.ndarray  # managing institution id
    household: np.ndarray  # household id
    relation: np.ndarray
    marital: np.ndarray
    status: np.ndarray  # STATUS_VALUES index
    death: np.ndarray  # datetime64[D], NaT when alive
    disabled: np.ndarray
    poverty_lifted: np.ndarray
    special_fp: np.ndarray
    pregnant: np.ndarray
    hh_id: np.ndarray  # per household
    hh_head: np.ndarray  # row index of the head, per household

    @property
    def living(self) -> np.ndarray:
        return self.status <= NON_REGISTERED


def _weighted_labels(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    labels = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table], dtype=float)
    return labels[rng.choice(labels.size, size=n, p=p / p.sum())]


def build_residents(ctx: SynthContext) -> ResidentFrame:
    org: OrgFrame = ctx.frames["org"]
    rng = ctx.rng("residents")
    load = ctx.loader
    d = ctx.district
    pop = people.build_population(rng, ctx.residents, ctx.as_of)
    n, h = pop.n, pop.h

    # Households to communities; then reorder so that a community's households are consecutive.
    hh_comm = rng.choice(org.community_area_id.size, size=h, p=org.community_weight)
    hh_order = np.argsort(hh_comm, kind="stable")
    hh_rank = np.empty(h, dtype=np.int64)
    hh_rank[hh_order] = np.arange(h)
    person_order = np.lexsort((np.arange(n), hh_rank[pop.household]))
    inv = np.empty(n, dtype=np.int64)
    inv[person_order] = np.arange(n)

    def take(a: np.ndarray) -> np.ndarray:
        return a[person_order]

    def remap(ix: np.ndarray) -> np.ndarray:
        out = np.full(ix.shape, -1, dtype=np.int64)
        m = ix >= 0
        out[m] = inv[ix[m]]
        return out

    age, male, birth = take(pop.age), take(pop.male), take(pop.birth)
    relation, marital = take(pop.relation), take(pop.marital).copy()
    spouse, father = remap(take(pop.spouse)), remap(take(pop.father))
    hh_local = hh_rank[pop.household][person_order]  # 0..h-1, non-decreasing
    hh_comm = hh_comm[hh_order]
    hh_head = remap(pop.hh_head[hh_order])
    community = hh_comm[hh_local]
    institution = org.community_institution[community]

    ids = load.allocate("residents_resident", n)
    hh_ids = load.allocate("residents_household", h)

    # Residence status: non-registered households (by the head's age), then moved out / deceased.
    head_age = age[hh_head]
    non_reg_hh = rng.random(h) < people.band_lookup(params.NON_REGISTERED_BY_HEAD_AGE, head_age)
    status = np.where(non_reg_hh[hh_local], NON_REGISTERED, REGISTERED).astype(np.int8)
    u = rng.random(n)
    moved = (relation == people.CHILD) & (age >= 18) & (age <= 40) & (u < params.MOVED_OUT_SHARE)
    dead = (relation != people.HEAD) & (age >= 70) & (u < params.DECEASED_SHARE_70PLUS)
    status[moved] = MOVED_OUT
    status[dead] = DECEASED
    today = ctx.today
    death = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    k = int(dead.sum())
    death[dead] = today - rng.integers(1, 3 * 365, k).astype("timedelta64[D]")
    death[dead] = np.maximum(death[dead], birth[dead] + np.timedelta64(1, "D"))
    widowed = spouse[dead]
    widowed = widowed[widowed >= 0]
    marital[widowed] = people.WIDOWED

    # Names: children and grandchildren take the surname of the father / grandfather at home.
    surname = names.surnames(rng, n)
    has_father = father >= 0
    surname[has_father] = surname[father[has_father]]
    name = surname + names.given_names(rng, male)

    # Phones: own mobile from 14; children and some of the very old give the head's number.
    phone = names.mobile_phones(rng, n)
    head_row = hh_head[hh_local]
    shares = (age < 14) | ((age >= 85) & (rng.random(n) < 0.5))
    phone[shares] = phone[head_row[shares]]

    id_number = names.resident_ids(d.county_code, birth, male, rng)

    # Addresses, one per household.
    road = np.array([org.community_roads[c][rng.integers(0, org.community_roads[c].size)] for c in hh_comm],
                    dtype=object)
    prefix = np.array(org.street_prefix, dtype=object)[org.community_street[hh_comm]]
    hh_address = names.addresses(rng, d, prefix, org.community_village[hh_comm], org.community_name[hh_comm], road)

    # Recorded key-population facts.
    dis_w = people.band_lookup(_DISABILITY_AGE, age)
    dis_p = dis_w * (reference.PREVALENCE["disability"].value * n / dis_w.sum())
    disabled = rng.random(n) < dis_p
    pov_rate = reference.POVERTY_LIFTED.get(d.key, reference.POVERTY_LIFTED["xuhui"]).value
    pov_w = np.where(org.community_village[hh_comm], 4.0, 1.0)
    pov_hh = rng.random(h) < pov_w * (pov_rate * h / pov_w.sum())
    poverty_lifted = pov_hh[hh_local]
    has_child = np.zeros(h, dtype=bool)
    has_child[hh_local[relation == people.CHILD]] = True
    fp_candidates = (head_age >= 50) & ~has_child
    fp_rate = reference.PREVALENCE["special_fp_family_households"].value
    fp_p = fp_rate * h / max(1, int(fp_candidates.sum()))
    fp_hh = fp_candidates & (rng.random(h) < fp_p)
    special_fp = fp_hh[hh_local] & (age >= 49)
    living = status <= NON_REGISTERED
    preg_w = people.band_lookup(_PREGNANCY_AGE, age) * (~male) * (spouse >= 0) * living
    target = reference.PREVALENCE["pregnant"].value * n
    pregnant = rng.random(n) < preg_w * (target / max(preg_w.sum(), 1e-9))

    ethnic_table = _ETHNIC_NORTH if d.north else _ETHNIC_SOUTH
    hh_ethnicity = _weighted_labels(rng, ethnic_table, h)
    ethnicity = hh_ethnicity[hh_local]
    mixed = rng.random(n) < 0.03  # intermarriage: some members differ from the household's
    ethnicity[mixed] = _weighted_labels(rng, ethnic_table, int(mixed.sum()))

    stamp = ctx.created_stamp
    hh_inst = org.community_institution[hh_comm]
    load.insert("residents_household", {
        "id": hh_ids, "version": np.ones(h, dtype=np.int64), "created_at": [stamp] * h, "updated_at": [stamp] * h,
        "number": org.community_code[hh_comm] + np.char.zfill(hh_ids.astype(str), 8).astype(object),
        "area_id": org.community_area_id[hh_comm], "address": hh_address, "institution_id": hh_inst,
    })
    load.insert("residents_resident", {
        "id": ids, "version": np.ones(n, dtype=np.int64), "created_at": [stamp] * n, "updated_at": [stamp] * n,
        "name": name, "sex": np.where(male, "M", "F").astype(object), "birth_date": birth,
        "id_type": ["resident_id"] * n, "id_number": id_number, "phone": phone,
        "area_id": org.community_area_id[community], "address": hh_address[hh_local],
        "household_id": hh_ids[hh_local], "relation_to_head": np.array(people.RELATIONS, dtype=object)[relation],
        "residence_status": np.array(STATUS_VALUES, dtype=object)[status], "death_date": death,
        "institution_id": institution, "ethnicity": ethnicity, "disabled": disabled,
        "poverty_lifted": poverty_lifted, "special_fp_family": special_fp, "pregnant": pregnant,
        "user_id": [None] * n, "is_deleted": np.zeros(n, dtype=bool),
    })
    ctx.frames["resident_names"] = name
    ctx.counts["households"] = h
    ctx.counts["residents"] = n
    return ResidentFrame(
        id=ids, age=age, male=male, birth=birth, community=community, institution=institution,
        household=hh_ids[hh_local], relation=relation, marital=marital, status=status, death=death,
        disabled=disabled, poverty_lifted=poverty_lifted, special_fp=special_fp, pregnant=pregnant,
        hh_id=hh_ids, hh_head=hh_head,
    )

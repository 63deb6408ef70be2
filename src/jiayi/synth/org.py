"""Stage ``org``: areas, institutions, staff and family-doctor teams of the district.

Layout (一中心带多站 / 镇村一体化): the health commission; one community health-service centre per
street (a township health centre for a town in a rural district), which serves about a third of the
street's neighbourhood committees itself and the rest through community health stations (one per
two committees); a village clinic per village committee, run by the centre; two district hospitals,
an elderly-care institution and a day-care centre per street.

Staff follow :mod:`jiayi.synth.params` (about 2.8 GPs per 10,000 residents); every GP leads a team
with a nurse and the centre's public-health physician, TCM doctors join some teams, and the village
doctors of each village clinic join a team of their centre, which then serves the village. Staff have
hiring dates (a few joined in the last 18 months), and a few GPs who left in the last two years remain
on record, no longer in post, with their leaving dates (the GPs per 10,000 of past periods count them).

Institution codes are a project convention (``<county>-<street>``, ``-Snn`` station, ``-Vnnn``
village clinic); real ones are unified social credit codes, not derivable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jiayi.org.models import AreaLevel, InstitutionType, Role, StaffCategory, TeamRole
from jiayi.synth import names, params
from jiayi.synth.context import SynthContext


@dataclass
class OrgFrame:
    """What later stages need to know about the organisation."""

    county_area_id: int
    commission_id: int
    hospital_ids: list[int]
    elderly_care_id: int
    # Communities (arrays of length c).
    community_area_id: np.ndarray
    community_code: np.ndarray  # object, 12 digits
    community_name: np.ndarray  # object
    community_village: np.ndarray  # bool
    community_street: np.ndarray  # index into streets
    community_institution: np.ndarray  # managing institution id
    community_weight: np.ndarray  # share of the population
    community_roads: list[np.ndarray]  # road names per community
    street_prefix: list[str]  # province+city+county+street, for addresses
    street_centre: np.ndarray  # centre id per street
    # Institutions and their teams.
    institution_teams: dict[int, np.ndarray]  # managing institution -> team ids serving it
    team_id: np.ndarray
    team_institution: np.ndarray
    team_leader: np.ndarray  # staff id of the leading GP
    team_nurse: np.ndarray  # staff id of the team's first nurse
    staff_id: np.ndarray
    staff_institution: np.ndarray
    staff_category: np.ndarray  # object
    staff_role: np.ndarray  # object
    staff_name: np.ndarray  # object
    institution_centre: dict[int, int]  # any primary-care institution -> its centre


def _hire_dates(rng: np.random.Generator, today: np.datetime64, n: int) -> np.ndarray:
    """Hiring dates of staff in post: most have years of service, a few joined in the last 18 months."""
    recent = rng.random(n) < params.STAFF_RECENT_HIRE_SHARE
    days = np.where(recent, rng.integers(1, 548, n), rng.integers(2 * 365, 25 * 365, n))
    return today - days.astype("m8[D]")


def _former_gps(ctx: SynthContext, rng: np.random.Generator, sites: np.ndarray, gps: np.ndarray, gp_total: int,
                serial_from: int) -> None:
    """GPs who left in the last two years (no longer in post, with hiring and leaving dates): they
    belong to no team and recorded nothing, but count in the GPs per 10,000 of the periods before."""
    n = max(1, round(gp_total * params.GP_LEFT_SHARE))
    inst = sites[rng.choice(sites.size, size=n, p=gps / gps.sum())].astype(np.int64)
    until = ctx.today - rng.integers(30, 2 * 365, n).astype("m8[D]")
    start = until - rng.integers(2 * 365, 15 * 365, n).astype("m8[D]")
    male = rng.random(n) >= 0.58
    serial = np.char.zfill(np.arange(serial_from + 1, serial_from + n + 1).astype(str), 6).astype(object)
    ctx.loader.insert("org_staff", {
        "id": ctx.loader.allocate("org_staff", n), "user_id": [None] * n,
        "name": names.surnames(rng, n) + names.given_names(rng, male), "sex": np.where(male, "M", "F").astype(object),
        "category": np.full(n, str(StaffCategory.GP), dtype=object),
        "role": np.full(n, str(Role.FAMILY_DOCTOR), dtype=object), "qualifications": ["全科医师"] * n,
        "practising_certificate": "110" + ctx.district.county_code + serial, "institution_id": inst,
        "phone": names.mobile_phones(rng, n), "active": np.zeros(n, dtype=bool),
        "employed_from": start, "employed_until": until,
    })


def _short(name: str) -> str:
    for suffix in ("居委会", "居民委员会", "社区", "村委会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _largest_remainder(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    k = weights.size
    base = np.full(k, minimum, dtype=np.int64)
    rest = total - base.sum()
    if rest <= 0:
        return base
    quota = weights / weights.sum() * rest
    out = np.floor(quota).astype(np.int64)
    short = rest - out.sum()
    out[np.argsort(-(quota - out), kind="stable")[:short]] += 1
    return base + out


def build_org(ctx: SynthContext) -> OrgFrame:
    from jiayi.org.models import Area

    d = ctx.district
    rng = ctx.rng("org")
    load = ctx.loader

    # -- areas -------------------------------------------------------------------------------
    existing = dict(Area.objects.filter(code__in=[d.province_code, d.city_code]).values_list("code", "id"))
    area_rows: list[tuple[int, str, str, int, int | None]] = []

    def area(code: str, name: str, level: int, parent: int | None) -> int:
        if code in existing:
            return existing[code]
        pk = int(load.allocate("org_area", 1)[0])
        area_rows.append((pk, code, name, level, parent))
        return pk

    province = area(d.province_code, d.province_name, AreaLevel.PROVINCE, None)
    city_name = "市辖区" if d.is_municipality else d.city_name
    city = area(d.city_code, city_name, AreaLevel.CITY, province)
    county = area(d.county_code, d.county_name, AreaLevel.COUNTY, city)
    street_ids, comm = [], []
    for si, street in enumerate(d.streets):
        sid = area(d.county_code + street.code3, street.name, AreaLevel.STREET, county)
        street_ids.append(sid)
        for c in street.communities:
            cid = area(d.county_code + street.code3 + c.code3, c.name, AreaLevel.COMMUNITY, sid)
            comm.append((cid, d.county_code + street.code3 + c.code3, c.name, c.kind == "village", si))
    load.insert("org_area", {
        "id": [r[0] for r in area_rows], "code": [r[1] for r in area_rows], "name": [r[2] for r in area_rows],
        "level": [int(r[3]) for r in area_rows], "parent_id": [r[4] for r in area_rows],
    })

    c_area = np.array([c[0] for c in comm], dtype=np.int64)
    c_code = np.array([c[1] for c in comm], dtype=object)
    c_name = np.array([c[2] for c in comm], dtype=object)
    c_village = np.array([c[3] for c in comm], dtype=bool)
    c_street = np.array([c[4] for c in comm], dtype=np.int64)
    # Community sizes vary (lognormal); villages are smaller than urban neighbourhoods.
    weight = rng.lognormal(0.0, 0.35, c_area.size) * np.where(c_village, 0.55 if d.urban else 0.9, 1.0)
    weight /= weight.sum()

    # -- institutions ------------------------------------------------------------------------
    inst: list[dict] = []

    def institution(code: str, name: str, type_: str, area_id: int, parent: int | None, address: str = "") -> int:
        pk = int(load.allocate("org_institution", 1)[0])
        phone = f"0{rng.integers(10, 100)}-{rng.integers(10_000_000, 100_000_000)}" if d.north else \
            f"0{rng.integers(20, 80)}-{rng.integers(10_000_000, 100_000_000)}"
        inst.append({"id": pk, "code": code, "name": name, "type": type_, "parent_id": parent, "area_id": area_id,
                     "phone": phone, "address": address})
        return pk

    province_prefix = "" if d.is_municipality else d.province_name
    county_prefix = province_prefix + d.city_name + d.county_name
    commission = institution(f"{d.county_code}-WJW", f"{d.county_name}卫生健康委员会",
                             InstitutionType.HEALTH_COMMISSION, county, None, county_prefix)
    hospitals = [
        institution(f"{d.county_code}-H01", f"{d.county_name}中心医院", InstitutionType.HOSPITAL, county, commission,
                    county_prefix),
        institution(f"{d.county_code}-H02", f"{d.county_name}中医医院", InstitutionType.HOSPITAL, county, commission,
                    county_prefix),
    ]
    elderly = institution(f"{d.county_code}-YL01", f"{d.county_name}社会福利院", InstitutionType.ELDERLY_CARE,
                          county, commission, county_prefix)
    c_inst = np.zeros(c_area.size, dtype=np.int64)
    street_centre = np.zeros(len(d.streets), dtype=np.int64)
    centre_of: dict[int, int] = {}
    kinds: dict[int, str] = {}
    street_prefix = []
    for si, street in enumerate(d.streets):
        prefix = county_prefix + street.name
        street_prefix.append(prefix)
        rural_town = street.kind == "town" and not d.urban
        name = f"{street.name}卫生院" if rural_town else f"{street.name}社区卫生服务中心"
        ctype = InstitutionType.TOWNSHIP_CENTRE if rural_town else InstitutionType.CENTRE
        centre = institution(f"{d.county_code}-{street.code3}", name, ctype, street_ids[si], commission, prefix)
        street_centre[si] = centre
        centre_of[centre] = centre
        kinds[centre] = "centre"
        institution(f"{d.county_code}-{street.code3}-DC", f"{street.name}日间照料中心", InstitutionType.DAY_CARE,
                    street_ids[si], commission, prefix)
        members = np.flatnonzero(c_street == si)
        hoods = members[~c_village[members]]
        villages = members[c_village[members]]
        n_centre = min(hoods.size, max(1, math.ceil(hoods.size * params.CENTRE_SERVED_SHARE))) if hoods.size else 0
        c_inst[hoods[:n_centre]] = centre
        if hoods.size == 0 and villages.size:  # a centre always serves the committee it stands in
            c_inst[villages[0]] = centre
            villages = villages[1:]
        rest = hoods[n_centre:]
        for k, start in enumerate(range(0, rest.size, params.COMMUNITIES_PER_STATION), start=1):
            group = rest[start : start + params.COMMUNITIES_PER_STATION]
            first = int(group[0])
            sid = institution(f"{d.county_code}-{street.code3}-S{k:02d}", f"{_short(c_name[first])}社区卫生服务站",
                              InstitutionType.STATION, int(c_area[first]), centre, prefix)
            c_inst[group] = sid
            centre_of[sid] = centre
            kinds[sid] = "station"
        for v in villages:
            vid = institution(f"{d.county_code}-{street.code3}-V{c_code[v][-3:]}", f"{_short(c_name[v])}卫生室",
                              InstitutionType.VILLAGE_CLINIC, int(c_area[v]), centre, prefix)
            c_inst[v] = vid
            centre_of[vid] = centre
            kinds[vid] = "village"
    load.insert("org_institution", {k: [r[k] for r in inst] for k in inst[0]})

    # -- staff -------------------------------------------------------------------------------
    managing = np.unique(c_inst)
    served = np.array([weight[c_inst == i].sum() for i in managing]) * ctx.residents
    gp_sites = np.array([kinds[int(i)] in ("centre", "station") for i in managing])
    staff: list[tuple[int, str, str, str]] = []  # (institution, category, role, qualification)
    gp_total = max(round(ctx.residents * params.GP_PER_10K / 10_000), int(gp_sites.sum()))
    gps = np.zeros(managing.size, dtype=np.int64)
    gps[gp_sites] = _largest_remainder(gp_total, served[gp_sites], 1)
    gp_quals = ("全科医师", "全科主治医师", "全科副主任医师")
    nurse_quals = ("护士", "护师", "主管护师")
    for i, inst_id in enumerate(managing):
        inst_id = int(inst_id)
        for _ in range(gps[i]):
            staff.append((inst_id, StaffCategory.GP, Role.FAMILY_DOCTOR, gp_quals[rng.choice(3, p=[0.35, 0.5, 0.15])]))
        for _ in range(max(int(gps[i] > 0), round(gps[i] * params.NURSES_PER_GP))):
            staff.append((inst_id, StaffCategory.NURSE, Role.NURSE, nurse_quals[rng.choice(3, p=[0.3, 0.45, 0.25])]))
        if kinds[inst_id] == "village":
            for _ in range(params.VILLAGE_DOCTORS_PER_CLINIC):
                staff.append((inst_id, StaffCategory.VILLAGE_DOCTOR, Role.FAMILY_DOCTOR, "乡村医生"))
    for si in range(len(d.streets)):
        centre = int(street_centre[si])
        street_pop = weight[c_street == si].sum() * ctx.residents
        for _ in range(max(1, round(street_pop * params.PUBLIC_HEALTH_PER_10K / 10_000))):
            staff.append((centre, StaffCategory.PUBLIC_HEALTH, Role.PUBLIC_HEALTH, "公共卫生医师"))
        for _ in range(params.TCM_PER_CENTRE + round(street_pop * params.TCM_PER_10K / 10_000)):
            staff.append((centre, StaffCategory.TCM, Role.FAMILY_DOCTOR, "中医执业医师"))
        staff.append((centre, StaffCategory.ADMIN, Role.CENTRE_MANAGER, "中心主任"))
    staff.append((commission, StaffCategory.ADMIN, Role.DISTRICT_ADMIN, "基层卫生科科长"))
    staff.append((commission, StaffCategory.ADMIN, Role.DISTRICT_ADMIN, "基层卫生科科员"))
    staff.append((commission, StaffCategory.ADMIN, Role.AUDITOR, "信息安全审计员"))
    for h in hospitals:
        staff.append((h, StaffCategory.NURSE, Role.REFERRAL_DESK, "主管护师"))
        staff.append((h, StaffCategory.CLINICIAN, Role.REFERRAL_DESK, "主治医师"))
    n_staff = len(staff)
    s_inst = np.array([s[0] for s in staff], dtype=np.int64)
    s_cat = np.array([str(s[1]) for s in staff], dtype=object)
    s_role = np.array([str(s[2]) for s in staff], dtype=object)
    female_p = np.select([s_cat == "nurse", s_cat == "gp", s_cat == "village_doctor"], [0.97, 0.58, 0.3], 0.5)
    s_male = rng.random(n_staff) >= female_p
    s_name = names.surnames(rng, n_staff) + names.given_names(rng, s_male)
    s_id = load.allocate("org_staff", n_staff)
    cert_digit = np.select([s_cat == "tcm", s_cat == "public_health"], ["2", "4"], "1")
    serial = np.char.zfill(np.arange(1, n_staff + 1).astype(str), 6).astype(object)
    cert = np.where(
        np.isin(s_cat, ["gp", "tcm", "public_health", "clinician", "village_doctor"]),
        cert_digit.astype(object) + "10" + d.county_code + serial,
        np.where(s_cat == "nurse",
                 "20" + rng.integers(10, 24, n_staff).astype(str).astype(object) + d.county_code + serial, ""),
    )
    # Employment dates come from a stream of their own (the rest of the stage is unchanged by them).
    erng = ctx.rng("org.employment")
    load.insert("org_staff", {
        "id": s_id, "user_id": [None] * n_staff, "name": s_name, "sex": np.where(s_male, "M", "F").astype(object),
        "category": s_cat, "role": s_role, "qualifications": [s[3] for s in staff],
        "practising_certificate": cert.astype(object), "institution_id": s_inst,
        "phone": names.mobile_phones(rng, n_staff), "active": np.ones(n_staff, dtype=bool),
        "employed_from": _hire_dates(erng, ctx.today, n_staff), "employed_until": np.full(n_staff, "NaT", "M8[D]"),
    })
    _former_gps(ctx, erng, managing[gp_sites], gps[gp_sites], gp_total, n_staff)

    # -- teams -------------------------------------------------------------------------------
    team_rows: list[tuple[int, int, str]] = []  # (institution, leader staff id, name)
    members: list[tuple[int, int, str]] = []  # (team index, staff id, role)
    institution_teams: dict[int, list[int]] = {}
    for si in range(len(d.streets)):
        centre = int(street_centre[si])
        street_insts = [int(i) for i in managing if centre_of[int(i)] == centre]
        ph = s_id[(s_inst == centre) & (s_cat == "public_health")]
        tcm = s_id[(s_inst == centre) & (s_cat == "tcm")]
        street_teams: list[int] = []
        for inst_id in street_insts:
            leaders = s_id[(s_inst == inst_id) & (s_cat == "gp")]
            nurses = s_id[(s_inst == inst_id) & (s_cat == "nurse")]
            mine = []
            for k, leader in enumerate(leaders):
                t = len(team_rows)
                leader_name = s_name[np.searchsorted(s_id, leader)]
                team_rows.append((inst_id, int(leader), f"{leader_name}家庭医生团队"))
                members.append((t, int(leader), TeamRole.LEADER))
                for nurse in nurses[k :: max(1, leaders.size)]:
                    members.append((t, int(nurse), TeamRole.NURSE))
                mine.append(t)
            institution_teams[inst_id] = mine
            street_teams.extend(mine)
        for k, t in enumerate(street_teams):
            members.append((t, int(ph[k % ph.size]), TeamRole.PUBLIC_HEALTH))
            if tcm.size and k % 2 == 0:
                members.append((t, int(tcm[(k // 2) % tcm.size]), TeamRole.DOCTOR))
        # Village clinics: their doctors join a centre team, which then serves the village.
        centre_teams = institution_teams.get(centre, [])
        village_insts = [i for i in street_insts if kinds[i] == "village"]
        for k, vid in enumerate(village_insts):
            t = centre_teams[k % len(centre_teams)] if centre_teams else street_teams[k % len(street_teams)]
            for vd in s_id[(s_inst == vid) & (s_cat == "village_doctor")]:
                members.append((t, int(vd), TeamRole.DOCTOR))
            institution_teams[vid] = [t]
    t_id = load.allocate("org_team", len(team_rows))
    load.insert("org_team", {
        "id": t_id, "name": [r[2] for r in team_rows], "institution_id": [r[0] for r in team_rows],
        "active": np.ones(len(team_rows), dtype=bool),
    })
    m_team = np.array([t_id[m[0]] for m in members], dtype=np.int64)
    m_staff = np.array([m[1] for m in members], dtype=np.int64)
    m_role = np.array([str(m[2]) for m in members], dtype=object)
    load.insert("org_teammember", {
        "id": load.allocate("org_teammember", len(members)), "team_id": m_team, "staff_id": m_staff, "role": m_role,
    })
    first_nurse = {}
    for tm, st, role in zip(m_team, m_staff, m_role, strict=True):
        if role == TeamRole.NURSE and tm not in first_nurse:
            first_nurse[int(tm)] = int(st)
    roads_all = names.road_choices(d.key)
    community_roads = [roads_all[rng.choice(roads_all.size, size=min(3, roads_all.size), replace=False)]
                       for _ in range(c_area.size)]
    return OrgFrame(
        county_area_id=county, commission_id=commission, hospital_ids=hospitals, elderly_care_id=elderly,
        community_area_id=c_area, community_code=c_code, community_name=c_name, community_village=c_village,
        community_street=c_street, community_institution=c_inst, community_weight=weight,
        community_roads=community_roads, street_prefix=street_prefix, street_centre=street_centre,
        institution_teams={k: t_id[np.array(v, dtype=np.int64)] for k, v in institution_teams.items()},
        team_id=t_id, team_institution=np.array([r[0] for r in team_rows], dtype=np.int64),
        team_leader=np.array([r[1] for r in team_rows], dtype=np.int64),
        team_nurse=np.array([first_nurse.get(int(t), -1) for t in t_id], dtype=np.int64),
        staff_id=s_id, staff_institution=s_inst, staff_category=s_cat, staff_role=s_role, staff_name=s_name,
        institution_centre=centre_of,
    )

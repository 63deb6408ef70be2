"""Stage ``records``: health records (17-digit numbers, basic-information content), past history
(Problems with ICD-10 codes) and key-population tags.

Diagnosed conditions (rates and sources in :mod:`jiayi.synth.reference`):

- hypertension (I10): ``HYPERTENSION_BY_AGE`` (2010-2012 national surveillance, age bands) scaled to
  the 27.5 % adult prevalence of the 2020 NCD report (``PREVALENCE['hypertension_adult']``), times the
  share known to primary care (``PREVALENCE['hypertension_known_to_primary_care']``);
- type 2 diabetes (E11): ``DIABETES_BY_AGE`` (calibrated to the 11.9 % of the 2020 report) times
  ``PREVALENCE['diabetes_known_to_primary_care']``, about twice as likely with hypertension;
- pulmonary TB (A15/A16) under treatment: ``PREVALENCE['tb_under_management']``, men
  ``PREVALENCE['tb_male_share']`` of cases;
- severe mental disorders (F20, F31, F25, F22, F06, F72): ``PREVALENCE['smd_registered']``.

Key-population tags are exactly what ``residents.services.key_population_refresh`` would derive on
the reference date (``residents.rules.derive_key_populations``): the tests check a sample against it.

Health-record numbers are county + street + community + a 5-digit serial given in order of the
establishment date within each community; ``RecordSerialCounter`` is left at the last serial so that
records created later through the application continue the sequence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE
from jiayi.synth import params, people, reference
from jiayi.synth.context import SynthContext
from jiayi.synth.loader import nullable
from jiayi.synth.org import OrgFrame
from jiayi.synth.residents import NON_REGISTERED, REGISTERED, ResidentFrame

SMD_CODES = (
    ("F20", "精神分裂症", 0.60), ("F31", "双相情感障碍", 0.15), ("F25", "分裂情感性障碍", 0.07),
    ("F22", "持久的妄想性障碍", 0.07), ("F06", "癫痫所致精神障碍", 0.05), ("F72", "精神发育迟滞伴发精神障碍", 0.06),
)
TB_CODES = (("A15", "肺结核（病原学阳性）", 0.55), ("A16", "肺结核（病原学阴性）", 0.45))
DISABILITY_KINDS = (("肢体残疾", 0.29), ("听力残疾", 0.24), ("视力残疾", 0.14), ("多重残疾", 0.17),
                    ("精神残疾", 0.07), ("智力残疾", 0.07), ("言语残疾", 0.02))


@dataclass
class Conditions:
    """Per-resident diagnosis dates (NaT = no such diagnosis) used by the later stages."""

    hypertension: np.ndarray
    diabetes: np.ndarray
    tuberculosis: np.ndarray
    severe_mental: np.ndarray


@dataclass
class RecordFrame:
    has_record: np.ndarray  # per resident
    established: np.ndarray  # datetime64[D], NaT without a record
    columns: dict  # health-record columns, written by write_records() once last_activity is known
    resident_index: np.ndarray  # row index of the resident of each record


def _pick(rng: np.random.Generator, table, n: int) -> np.ndarray:
    p = np.array([t[-1] for t in table], dtype=float)
    return rng.choice(len(table), size=n, p=p / p.sum())


def _json_lists(labels: list[str], mask_bits: np.ndarray) -> np.ndarray:
    """JSON arrays for each bitmask value (bit i = labels[i] present)."""
    table = np.array(
        [json.dumps([lab for i, lab in enumerate(labels) if code >> i & 1], ensure_ascii=False)
         for code in range(1 << len(labels))],
        dtype=object,
    )
    return table[mask_bits]


def _diagnosis_date(rng: np.random.Generator, birth: np.ndarray, age: np.ndarray, today, min_age: int,
                    max_years: int) -> np.ndarray:
    """A diagnosis date between max(min_age, age - max_years) years of age and a week ago."""
    lo_age = np.maximum(min_age, age - max_years)
    diag_age = lo_age + rng.random(age.size) * np.maximum(age - lo_age, 0)
    day = birth + (diag_age * 365.25).astype("timedelta64[D]")
    return np.minimum(day, today - np.timedelta64(7, "D"))


def build_records(ctx: SynthContext) -> RecordFrame:
    org: OrgFrame = ctx.frames["org"]
    res: ResidentFrame = ctx.frames["residents"]
    rng = ctx.rng("records")
    load = ctx.loader
    n = res.id.size
    today = ctx.today
    age = res.age.astype(np.int64)

    # Who has a record, and since when.
    rate = np.select([res.status == REGISTERED, res.status == NON_REGISTERED], [params.RECORD_RATE_REGISTERED,
                     params.RECORD_RATE_NON_REGISTERED], params.RECORD_RATE_GONE)
    has_record = rng.random(n) < rate
    start = np.maximum(res.birth, np.datetime64(f"{params.RECORDS_SINCE_YEAR}-01-01"))
    end = np.where(np.isnat(res.death), today - np.timedelta64(1, "D"), res.death)
    end = np.maximum(end, res.birth)  # babies born on the reference date get their record that day
    newborn = res.birth >= np.datetime64(f"{params.RECORDS_SINCE_YEAR}-01-01")
    span = np.maximum((end - start).astype(np.int64), 0)
    offset = np.where(newborn, np.minimum(rng.integers(0, 120, n), span), (rng.random(n) * (span + 1)).astype(np.int64))
    established = start + offset.astype("timedelta64[D]")
    established = np.minimum(established, end)
    established[~has_record] = np.datetime64("NaT")

    # Conditions (only residents with a record have a documented past history).
    male = res.male
    ht_rate = np.array([reference.HYPERTENSION_BY_AGE.rate_for_age(a) for a in range(130)])
    ht_scale = reference.PREVALENCE["hypertension_adult"].value / reference.HYPERTENSION_BY_AGE.population_weighted()
    known_ht = reference.PREVALENCE["hypertension_known_to_primary_care"].value
    p_ht = ht_rate[age] * ht_scale * known_ht * np.where(male, 1.04, 0.96)
    ht = has_record & (rng.random(n) < p_ht)
    dm_rate = np.array([reference.DIABETES_BY_AGE.rate_for_age(a) for a in range(130)])
    known_dm = reference.PREVALENCE["diabetes_known_to_primary_care"].value
    dm_base = dm_rate[age] * known_dm
    rr = np.where(ht, 1.8, 1.0)
    dm_p = dm_base * rr * (dm_base.sum() / max((dm_base * rr).sum(), 1e-9))
    dm = has_record & (rng.random(n) < dm_p)
    tb_w = np.where(age >= 15, np.where(male, reference.PREVALENCE["tb_male_share"].value,
                                        1 - reference.PREVALENCE["tb_male_share"].value), 0.0)
    tb_w = tb_w * np.where(age >= 60, 1.6, 1.0)
    tb_p = tb_w * (reference.PREVALENCE["tb_under_management"].value * n / max(tb_w.sum(), 1e-9))
    tb = has_record & (res.status <= NON_REGISTERED) & (rng.random(n) < tb_p)
    smd_w = np.where((age >= 15) & (age <= 75), np.where((age >= 25) & (age <= 60), 1.3, 0.8), 0.0)
    smd_p = smd_w * (reference.PREVALENCE["smd_registered"].value * n / max(smd_w.sum(), 1e-9))
    smd = has_record & (rng.random(n) < smd_p)

    nat = np.datetime64("NaT")
    ht_date = np.where(ht, _diagnosis_date(rng, res.birth, age, today, 25, 25), nat)
    dm_date = np.where(dm, _diagnosis_date(rng, res.birth, age, today, 25, 20), nat)
    tb_date = np.where(tb, today - rng.integers(7, 180, n).astype("timedelta64[D]"), nat)
    smd_date = np.where(smd, _diagnosis_date(rng, res.birth, age, today, 15, 30), nat)
    # A diagnosis of a deceased resident precedes the death.
    for arr in (ht_date, dm_date, tb_date, smd_date):
        late = ~np.isnat(res.death) & ~np.isnat(arr) & (arr > res.death)
        arr[late] = res.death[late]

    # Problems.
    rows_res, rows_code, rows_name, rows_date = [], [], [], []

    def add(mask: np.ndarray, codes: np.ndarray, labels: np.ndarray, dates: np.ndarray) -> None:
        ix = np.flatnonzero(mask)
        rows_res.append(ix)
        rows_code.append(codes[ix] if codes.shape == mask.shape else codes)
        rows_name.append(labels[ix] if labels.shape == mask.shape else labels)
        rows_date.append(dates[ix])

    def const(value: str, k: int) -> np.ndarray:
        return np.full(k, value, dtype=object)

    add(ht, const("I10", int(ht.sum())), const("原发性高血压", int(ht.sum())), ht_date)
    add(dm, const("E11", int(dm.sum())), const("2型糖尿病", int(dm.sum())), dm_date)
    tb_kind = _pick(rng, TB_CODES, n)
    add(tb, np.array([c[0] for c in TB_CODES], dtype=object)[tb_kind], np.array([c[1] for c in TB_CODES],
        dtype=object)[tb_kind], tb_date)
    smd_kind = _pick(rng, SMD_CODES, n)
    add(smd, np.array([c[0] for c in SMD_CODES], dtype=object)[smd_kind],
        np.array([c[1] for c in SMD_CODES], dtype=object)[smd_kind], smd_date)
    for code, label, p in params.OTHER_CONDITIONS_60PLUS:
        m = has_record & (age >= 60) & (rng.random(n) < p * np.where(ht, 1.6, 1.0))
        since = _diagnosis_date(rng, res.birth, age, today, 45, 15)
        add(m, const(code, int(m.sum())), const(label, int(m.sum())), since)
    p_res = np.concatenate(rows_res)
    p_code = np.concatenate(rows_code)
    p_name = np.concatenate(rows_name)
    p_date = np.concatenate(rows_date).astype("datetime64[D]")
    order = np.lexsort((p_date, p_res))
    p_res, p_code, p_name, p_date = p_res[order], p_code[order], p_name[order], p_date[order]
    k = p_res.size
    stamp = ctx.created_stamp
    load.insert("residents_problem", {
        "id": load.allocate("residents_problem", k), "resident_id": res.id[p_res], "kind": ["disease"] * k,
        "icd10": p_code, "name": p_name, "diagnosed_on": p_date, "resolved_on": np.full(k, nat, "datetime64[D]"),
        "recorded_at": [stamp] * k,
    })
    ctx.counts["problems"] = k

    # Key-population tags (residents.rules.derive_key_populations on the reference date).
    tags_res, tags_code, tags_derived, tags_since = [], [], [], []

    def tag(mask: np.ndarray, code: str, derived: bool, since: np.ndarray) -> None:
        ix = np.flatnonzero(mask)
        tags_res.append(ix)
        tags_code.append(np.full(ix.size, code, dtype=object))
        tags_derived.append(np.full(ix.size, derived))
        tags_since.append(since[ix].astype("datetime64[D]"))

    def years_after(years: int) -> np.ndarray:
        y = res.birth.astype("datetime64[Y]").astype(np.int64) + 1970 + years
        md = res.birth - res.birth.astype("datetime64[Y]").astype("datetime64[D]")
        out = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]") + md
        return np.minimum(out, today)

    recorded_since = np.where(has_record, established, today)
    tag(age >= ELDERLY_MIN_AGE, "elderly", True, years_after(ELDERLY_MIN_AGE))
    tag(res.pregnant, "maternal", True, today - rng.integers(0, 250, n).astype("timedelta64[D]"))
    tag(age <= CHILD_MAX_AGE, "child", True, res.birth)
    tag(res.disabled, "disabled", False, recorded_since)
    tag(res.poverty_lifted, "poverty_lifted", False, recorded_since)
    tag(res.special_fp, "special_fp_family", False, recorded_since)
    tag(ht, "hypertension", True, ht_date)
    tag(dm, "diabetes", True, dm_date)
    tag(tb, "tuberculosis", True, tb_date)
    tag(smd, "severe_mental", True, smd_date)
    t_res = np.concatenate(tags_res)
    order = np.argsort(t_res, kind="stable")
    t_res = t_res[order]
    kt = t_res.size
    load.insert("residents_keypopulationtag", {
        "id": load.allocate("residents_keypopulationtag", kt), "resident_id": res.id[t_res],
        "code": np.concatenate(tags_code)[order], "derived": np.concatenate(tags_derived)[order],
        "since": np.concatenate(tags_since)[order],
    })
    ctx.counts["key_population_tags"] = kt
    ctx.frames["conditions"] = Conditions(hypertension=ht_date, diabetes=dm_date, tuberculosis=tb_date,
                                          severe_mental=smd_date)
    return _record_columns(ctx, rng, org, res, has_record, established, smd)


def _record_columns(ctx: SynthContext, rng: np.random.Generator, org: OrgFrame, res: ResidentFrame,
                    has_record: np.ndarray, established: np.ndarray, smd: np.ndarray) -> RecordFrame:
    load = ctx.loader
    idx = np.flatnonzero(has_record)
    m = idx.size
    age = res.age[idx].astype(np.int64)
    status = res.status[idx]
    community = res.community[idx]

    # Numbers: serial in order of establishment within each community, after any existing serial.
    prefixes = org.community_code
    existing: dict[str, int] = ctx.frames.get("serial_counters", {})
    base = np.array([existing.get(p, 0) for p in prefixes], dtype=np.int64)
    order = np.lexsort((res.id[idx], established[idx], community))
    sorted_comm = community[order]
    first = np.r_[True, sorted_comm[1:] != sorted_comm[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    serial = np.empty(m, dtype=np.int64)
    serial[order] = np.arange(m) - run_start + 1 + base[sorted_comm]
    if m and serial.max() > 99_999:
        raise ValueError("more than 99,999 health records in one community: use fewer residents")
    number = prefixes[community] + np.char.zfill(serial.astype(str), 5).astype(object)
    last = np.zeros(prefixes.size, dtype=np.int64)
    np.maximum.at(last, community, serial)
    counters = [(p, int(v)) for p, v in zip(prefixes, last, strict=True) if v > 0]
    new = [(p, v) for p, v in counters if p not in existing]
    load.insert("residents_recordserialcounter", {
        "id": load.allocate("residents_recordserialcounter", len(new)), "prefix": [p for p, _ in new],
        "last_serial": [v for _, v in new],
    })
    # Counters that existed before the run are updated in finalise (ORM, after the writer is done).
    ctx.frames["counter_updates"] = [(p, v) for p, v in counters if p in existing]

    # Creator: a clinician of the managing institution.
    inst = res.institution[idx]
    clinical = np.isin(org.staff_category, ["gp", "nurse", "village_doctor"])
    creators_by_inst = {int(i): org.staff_id[clinical & (org.staff_institution == i)] for i in np.unique(inst)}
    creator = np.full(m, -1, dtype=np.int64)
    u = rng.random(m)
    for i, pool in creators_by_inst.items():
        sel = inst == i
        if pool.size:
            creator[sel] = pool[(u[sel] * pool.size).astype(np.int64)]
    created_by = nullable(creator, creator >= 0)

    # Basic-information content.
    bt_labels = np.array([b for b, _ in params.BLOOD_TYPES] + ["unknown", ""], dtype=object)
    bt_p = np.array([p for _, p in params.BLOOD_TYPES]) * params.BLOOD_TYPE_RECORDED
    bt_p = np.r_[bt_p, 0.15 * (1 - params.BLOOD_TYPE_RECORDED), 0.85 * (1 - params.BLOOD_TYPE_RECORDED)]
    blood = bt_labels[rng.choice(bt_labels.size, size=m, p=bt_p / bt_p.sum())]
    typed = np.isin(blood, ["A", "B", "O", "AB"])
    rh = nullable(rng.random(m) < params.RH_NEGATIVE, typed)
    allergy_bits = np.zeros(m, dtype=np.int64)
    for i, (_, p) in enumerate(params.ALLERGENS):
        allergy_bits |= (rng.random(m) < p).astype(np.int64) << i
    allergies = _json_lists([a for a, _ in params.ALLERGENS], allergy_bits)

    fam_labels = ["高血压", "糖尿病", "冠心病", "脑卒中", "恶性肿瘤"]
    fam_p = np.array([0.28, 0.12, 0.08, 0.07, 0.06])
    conds = ctx.frames["conditions"]
    ht = ~np.isnat(conds.hypertension[idx])
    dm = ~np.isnat(conds.diabetes[idx])
    father = np.zeros(m, dtype=np.int64)
    mother = np.zeros(m, dtype=np.int64)
    for i, p in enumerate(fam_p):
        boost = np.where((i == 0) & ht, 1.8, np.where((i == 1) & dm, 2.0, 1.0))
        father |= (rng.random(m) < p * boost).astype(np.int64) << i
        mother |= (rng.random(m) < p * boost * 0.9).astype(np.int64) << i
    fam_father = _json_lists(fam_labels, father)
    fam_mother = _json_lists(fam_labels, mother)
    family = np.where(
        (father == 0) & (mother == 0), "{}",
        np.where(father == 0, '{"mother": ' + fam_mother + "}",
                 np.where(mother == 0, '{"father": ' + fam_father + "}",
                          '{"father": ' + fam_father + ', "mother": ' + fam_mother + "}")),
    ).astype(object)

    disabled = res.disabled[idx]
    dkind = _pick(rng, DISABILITY_KINDS, m)
    dkind = np.where(smd[idx], 4, dkind)
    dis_json = np.array([json.dumps([k], ensure_ascii=False) for k, _ in DISABILITY_KINDS], dtype=object)
    disabilities = np.where(disabled, dis_json[dkind], "[]").astype(object)

    village = org.community_village[community]
    urban_living = json.dumps({"kitchen_exhaust": "油烟机", "fuel": "天然气", "water": "自来水", "toilet": "卫生厕所",
                               "livestock": "无"}, ensure_ascii=False)
    rural_options = np.array([
        json.dumps(v, ensure_ascii=False) for v in (
            {"kitchen_exhaust": "油烟机", "fuel": "液化气", "water": "自来水", "toilet": "卫生厕所", "livestock": "无"},
            {"kitchen_exhaust": "换气扇", "fuel": "液化气", "water": "自来水", "toilet": "一格或二格粪池式",
             "livestock": "单设"},
            {"kitchen_exhaust": "烟囱", "fuel": "柴火", "water": "井水", "toilet": "马桶", "livestock": "室外"},
        )
    ], dtype=object)
    living = np.where(village, rural_options[rng.choice(3, size=m, p=[0.55, 0.3, 0.15])], urban_living)

    ins = params.INSURANCE_LABELS
    u = rng.random(m)
    working = (age >= 18) & (age < 60)
    employee_p = np.select([working & (status == REGISTERED), working, age >= 60], [0.7, 0.5, 0.55], 0.0)
    primary = np.where(u < employee_p, ins["employee"], ins["resident"])
    primary = np.where((status == NON_REGISTERED) & (rng.random(m) < 0.08), ins["self"], primary)
    extra_commercial = rng.random(m) < 0.1
    poverty = res.poverty_lifted[idx]
    insurance = np.where(
        poverty, json.dumps([ins["resident"], ins["poverty"]], ensure_ascii=False),
        np.where(extra_commercial, '["' + primary + '", "' + ins["commercial"] + '"]', '["' + primary + '"]'),
    ).astype(object)

    occ = np.array(params.OCCUPATIONS, dtype=object)
    occ_p = np.array([0.04, 0.16, 0.12, 0.26, 0.04 if ctx.district.urban else 0.2, 0.16, 0.005, 0.1, 0.115])
    occupation = occ[rng.choice(occ.size, size=m, p=occ_p / occ_p.sum())]
    occupation = np.where(village & working & (rng.random(m) < 0.35), occ[4], occupation)
    occupation = np.where(age >= 60, np.where(rng.random(m) < 0.8, "无职业", occupation), occupation)
    occupation = np.where(age < 18, "", occupation).astype(object)

    edu = np.array(params.EDUCATION_LABELS, dtype=object)
    birth_year = ctx.as_of.year - age
    # Attainment by birth cohort (project assumption following the census trend).
    cohort_p = np.select(
        [birth_year < 1950, birth_year < 1965, birth_year < 1980, birth_year < 1995],
        [0, 1, 2, 3], 4,
    )
    table = np.array([
        [0.25, 0.35, 0.25, 0.10, 0.04, 0.01],
        [0.08, 0.25, 0.40, 0.19, 0.07, 0.01],
        [0.02, 0.12, 0.40, 0.26, 0.19, 0.01],
        [0.01, 0.04, 0.25, 0.28, 0.41, 0.01],
        [0.005, 0.02, 0.15, 0.27, 0.55, 0.005],
    ])
    cum = table.cumsum(axis=1)[cohort_p]
    education = edu[(rng.random(m)[:, None] > cum).sum(axis=1).clip(0, edu.size - 1)]
    education = np.select([age < 7, age < 13, age < 16, age < 19], ["", "小学", "初中", "高中/技校/中专"],
                          education).astype(object)
    marital = np.array(people.MARITAL_LABELS, dtype=object)[res.marital[idx]]
    marital = np.where(age < 18, "", marital).astype(object)

    rec_status = np.where(status <= NON_REGISTERED, "active", "closed").astype(object)
    rec_status[(status == NON_REGISTERED) & (rng.random(m) < 0.03)] = "inactive"
    stamp = ctx.created_stamp
    columns = {
        "id": load.allocate("residents_healthrecord", m), "version": np.ones(m, dtype=np.int64),
        "created_at": [stamp] * m, "updated_at": [stamp] * m, "resident_id": res.id[idx],
        "record_number": number, "institution_id": inst, "created_by_id": created_by,
        "established_on": established[idx], "electronic": rng.random(m) < 0.985, "status": rec_status,
        "open_to_resident": (rng.random(m) < params.RECORD_OPEN_TO_RESIDENT) & (status <= NON_REGISTERED),
        "blood_type": blood, "rh_negative": rh, "allergies": allergies,
        "exposures": np.where(rng.random(m) < 0.01, '["化学品"]', "[]").astype(object),
        "family_history": family, "disabilities": disabilities, "living_conditions": living,
        "insurance": insurance, "occupation": occupation, "education": education, "marital_status": marital,
    }
    ctx.counts["health_records"] = m
    return RecordFrame(has_record=has_record, established=established, columns=columns, resident_index=idx)


def serial_counters(county_code: str) -> dict[str, int]:
    """Existing record-serial counters of the district (read before the load starts)."""
    from jiayi.residents.models import RecordSerialCounter

    return dict(RecordSerialCounter.objects.filter(prefix__startswith=county_code).values_list("prefix", "last_serial"))


def write_records(ctx: SynthContext) -> None:
    """Insert the health records, with the last activity date the later stages recorded."""
    from jiayi.residents.models import RecordSerialCounter

    ctx.loader.flush()
    for prefix, last in ctx.frames.get("counter_updates", []):
        RecordSerialCounter.objects.filter(prefix=prefix).update(last_serial=last)
    rec: RecordFrame = ctx.frames["records"]
    last = ctx.frames.get("last_activity")
    cols = dict(rec.columns)
    if last is not None:
        cols["last_activity_on"] = last[rec.resident_index]
    else:
        cols["last_activity_on"] = np.full(rec.resident_index.size, np.datetime64("NaT"), "datetime64[D]")
    ctx.loader.insert("residents_healthrecord", cols)

"""Stage ``measurements``: annual health checks and opportunistic blood-pressure readings.

Each resident has latent physiology (height by sex and birth cohort, a BMI level, BP level from
``reference.BLOOD_PRESSURE_BY_AGE_SEX``, glucose and lipids); a measurement adds visit-to-visit
noise. Diagnosed hypertensive and diabetic patients are treated: at each reading they are controlled
with a personal probability (mean ``params.HT_CONTROLLED`` / ``params.DM_CONTROLLED``). Every value
is inside the plausibility ranges of ``residents.rules.MEASUREMENT_RANGES`` and DBP is at least
15 mmHg below SBP.

Who is measured: residents 65+ and diagnosed HT/DM patients get the annual health check with
probability ``params.ELDERLY_CHECK_RATE`` per year, other adults 35-64 a yearly BP reading with
``params.ADULT_BP_RATE``, over ``params.HISTORY_YEARS`` years. Follow-up readings of HT/DM patients
come from the programme stage (one per visit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jiayi.synth import params, reference
from jiayi.synth.context import SynthContext
from jiayi.synth.loader import nullable
from jiayi.synth.org import OrgFrame
from jiayi.synth.residents import ResidentFrame

ALL_COLUMNS = (
    "sbp", "dbp", "heart_rate", "height", "weight", "waist", "bmi", "fasting_glucose", "random_glucose",
    "hba1c", "total_cholesterol", "triglycerides", "ldl_c", "hdl_c",
)
INT_COLUMNS = ("sbp", "dbp", "heart_rate")


@dataclass
class Physiology:
    height: np.ndarray
    bmi: np.ndarray
    sbp: np.ndarray
    dbp: np.ndarray
    ht_control: np.ndarray  # probability of a controlled reading (HT patients), else 0
    dm_control: np.ndarray
    fpg: np.ndarray
    tc: np.ndarray
    hdl: np.ndarray
    tg: np.ndarray


def bmi_exact(height: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``residents.rules.bmi`` (one decimal, half up) for arrays: numpy, then the rule itself for the
    rare values within rounding noise of a tie."""
    from jiayi.residents.rules import bmi

    raw = weight / (height / 100) ** 2
    out = np.floor(raw * 10 + 0.5) / 10
    frac = raw * 10 - np.floor(raw * 10)
    near = np.flatnonzero(~np.isnan(raw) & (np.abs(frac - 0.5) < 1e-6))
    for i in near:
        out[i] = bmi(float(height[i]), float(weight[i]))
    return out


def physiology(ctx: SynthContext) -> Physiology:
    res: ResidentFrame = ctx.frames["residents"]
    conds = ctx.frames["conditions"]
    rng = ctx.rng("physiology")
    n = res.id.size
    male = res.male
    birth_year = res.birth.astype("datetime64[Y]").astype(np.int64) + 1970
    h_mean = np.where(male, np.select([birth_year >= 1980, birth_year >= 1960], [170.5, 167.5], 164.5),
                      np.select([birth_year >= 1980, birth_year >= 1960], [159.0, 157.0], 153.5))
    height = h_mean + rng.normal(0, 6, n)
    height = np.where(res.age >= 18, height, np.nan)
    ht = ~np.isnat(conds.hypertension)
    dm = ~np.isnat(conds.diabetes)
    bmi = np.clip(rng.normal(24.0, 3.3, n) + 1.3 * ht + 1.2 * dm, 16.5, 42)
    table = reference.BLOOD_PRESSURE_BY_AGE_SEX
    lo = np.array([r.age_lo for r in table])
    hi = np.array([r.age_hi for r in table])
    sx = np.array([r.sex == "M" for r in table])
    cell = np.zeros(n, dtype=np.int64)
    age = np.maximum(res.age, 18)
    for i in range(len(table)):
        cell[(age >= lo[i]) & (age <= hi[i]) & (male == sx[i])] = i
    sm = np.array([r.sbp_mean for r in table])[cell]
    ss = np.array([r.sbp_sd for r in table])[cell]
    dmn = np.array([r.dbp_mean for r in table])[cell]
    dsd = np.array([r.dbp_sd for r in table])[cell]
    z1 = rng.normal(0, 1, n)
    z2 = 0.6 * z1 + 0.8 * rng.normal(0, 1, n)
    # Person level carries ~80 % of the variance; readings add the rest.
    sbp = sm + 0.9 * ss * z1
    dbp = dmn + 0.9 * dsd * z2
    ht_control = np.where(ht, rng.beta(3.1, 1.9, n), 0.0)  # mean ≈ 0.62 before scaling
    ht_control *= params.HT_CONTROLLED / 0.62
    dm_control = np.where(dm, rng.beta(2.75, 2.25, n), 0.0)  # mean ≈ 0.55
    dm_control *= params.DM_CONTROLLED / 0.55
    fpg = np.where(dm, rng.normal(7.4, 1.2, n), rng.normal(5.1, 0.45, n))
    tc = rng.normal(4.75, 0.85, n)
    hdl = np.clip(rng.normal(1.32, 0.3, n) - 0.12 * male, 0.6, 2.6)
    tg = np.exp(rng.normal(0.25, 0.45, n) + 0.02 * (bmi - 24))
    return Physiology(height=height, bmi=bmi, sbp=sbp, dbp=dbp, ht_control=np.clip(ht_control, 0, 0.98),
                      dm_control=np.clip(dm_control, 0, 0.98), fpg=fpg, tc=tc, hdl=hdl, tg=tg)


def readings(ctx: SynthContext, rng: np.random.Generator, who: np.ndarray, full: np.ndarray,
             glucose: np.ndarray) -> dict[str, np.ndarray]:
    """Values for readings of residents ``who`` (row indices; repeats allowed).

    ``full``: the health-check panel (anthropometry, lipids); ``glucose``: fasting glucose measured.
    Returns float arrays with NaN where not measured (int columns are whole numbers).
    """
    phys: Physiology = ctx.frames["physiology"]
    res: ResidentFrame = ctx.frames["residents"]
    conds = ctx.frames["conditions"]
    k = who.size
    age = res.age[who].astype(np.int64)
    ht = ~np.isnat(conds.hypertension[who])
    dm = ~np.isnat(conds.diabetes[who])
    controlled = rng.random(k) < phys.ht_control[who]
    target_sbp = np.where(age >= 65, 150, 140)
    sbp_ok = np.minimum(rng.normal(127, 7, k), target_sbp - 2)
    dbp_ok = np.minimum(rng.normal(78, 6, k), 88)
    sbp_bad = np.maximum(rng.normal(152, 10, k), target_sbp + 1)
    dbp_bad = rng.normal(90, 8, k)
    sbp_free = phys.sbp[who] + rng.normal(0, 7, k)
    dbp_free = phys.dbp[who] + rng.normal(0, 5, k)
    sbp = np.where(ht, np.where(controlled, sbp_ok, sbp_bad), sbp_free)
    dbp = np.where(ht, np.where(controlled, dbp_ok, dbp_bad), dbp_free)
    sbp = np.clip(np.rint(sbp), 85, 230)
    dbp = np.clip(np.rint(dbp), 45, 130)
    dbp = np.minimum(dbp, sbp - 15)
    hr = np.clip(np.rint(rng.normal(76, 9, k)), 50, 115)

    nan = np.full(k, np.nan)
    height = np.where(full, np.round(phys.height[who] + rng.normal(0, 0.4, k), 1), nan)
    weight_true = phys.bmi[who] * (phys.height[who] / 100) ** 2
    weight = np.where(full, np.round(np.clip(weight_true + rng.normal(0, 1.2, k), 30, 200), 1), nan)
    bmi = np.where(full, bmi_exact(height, weight), nan)
    male = res.male[who]
    waist = np.where(full, np.round(np.clip(np.where(male, 2.9, 2.75) * phys.bmi[who] + np.where(male, 14, 12)
                                            + rng.normal(0, 3.5, k), 55, 150), 1), nan)
    dm_ok = rng.random(k) < phys.dm_control[who]
    fpg_dm = np.where(dm_ok, rng.uniform(5.0, 6.9, k), np.maximum(phys.fpg[who] + rng.normal(1.2, 1.2, k), 7.0))
    fpg = np.where(dm, fpg_dm, phys.fpg[who] + rng.normal(0, 0.3, k))
    fpg = np.where(glucose, np.round(np.clip(fpg, 3.6, 22.0), 1), nan)
    hba1c = np.where(full & dm, np.round(np.clip((fpg + 2.59) / 1.59 + rng.normal(0, 0.35, k), 4.5, 14), 1), nan)
    tc = np.clip(phys.tc[who] + rng.normal(0, 0.25, k), 2.6, 9.5)
    hdl = np.clip(phys.hdl[who] + rng.normal(0, 0.08, k), 0.5, tc - 1.0)
    tg = np.clip(phys.tg[who] * np.exp(rng.normal(0, 0.15, k)), 0.3, 12)
    ldl = np.clip(tc - hdl - tg / 2.2, 0.4, tc - hdl - 0.1)
    return {
        "sbp": sbp, "dbp": dbp, "heart_rate": hr, "height": height, "weight": weight, "waist": waist, "bmi": bmi,
        "fasting_glucose": fpg, "random_glucose": nan, "hba1c": hba1c,
        "total_cholesterol": np.where(full, np.round(tc, 2), nan),
        "triglycerides": np.where(full, np.round(tg, 2), nan),
        "ldl_c": np.where(full, np.round(ldl, 2), nan), "hdl_c": np.where(full, np.round(hdl, 2), nan),
    }


def clinician_for(org: OrgFrame, institution: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A clinician (GP, nurse or village doctor) of each institution, or -1."""
    clinical = np.isin(org.staff_category, ["gp", "nurse", "village_doctor"])
    out = np.full(institution.size, -1, dtype=np.int64)
    u = rng.random(institution.size)
    for i in np.unique(institution):
        pool = org.staff_id[clinical & (org.staff_institution == i)]
        if pool.size:
            sel = institution == i
            out[sel] = pool[(u[sel] * pool.size).astype(np.int64)]
    return out


def write_measurements(ctx: SynthContext, who: np.ndarray, day: np.ndarray, source: np.ndarray,
                       values: dict[str, np.ndarray], recorder: np.ndarray,
                       minutes: np.ndarray | None = None) -> np.ndarray:
    """Insert measurement rows (sorted by resident and time) and update the last-activity dates.

    ``minutes``: local time of day in minutes (default: a random time in morning clinic hours)."""
    res: ResidentFrame = ctx.frames["residents"]
    if minutes is None:
        rng = ctx.rng(f"measurement-times-{ctx.counts.get('measurements', 0)}")
        minutes = rng.integers(8 * 60, 11 * 60 + 30, who.size)
    at = ctx.local_to_utc(day, minutes)
    order = np.lexsort((at, who))
    who, day, source, at, recorder = who[order], day[order], source[order], at[order], recorder[order]
    k = who.size
    ids = ctx.loader.allocate("residents_measurement", k)
    cols: dict[str, object] = {
        "id": ids, "resident_id": res.id[who], "measured_at": ctx.loader.timestamps(at), "source": source,
        "institution_id": res.institution[who], "recorded_by_id": nullable(recorder, recorder >= 0),
    }
    for c in ALL_COLUMNS:
        v = values[c][order]
        ok = ~np.isnan(v)
        cols[c] = nullable(np.where(ok, v, 0).astype(np.int64), ok) if c in INT_COLUMNS else v
    ctx.loader.insert("residents_measurement", cols)
    ctx.counts["measurements"] = ctx.counts.get("measurements", 0) + k
    last = ctx.frames.setdefault("last_activity", np.full(res.id.size, np.datetime64("NaT"), "datetime64[D]"))
    upd = np.full(res.id.size, np.datetime64("NaT"), "datetime64[D]")
    np.maximum.at(upd.view(np.int64), who, day.astype("datetime64[D]").view(np.int64))
    upd[upd.view(np.int64) == np.iinfo(np.int64).min] = np.datetime64("NaT")
    both = np.where(np.isnat(last), upd, np.where(np.isnat(upd), last, np.maximum(last, upd)))
    ctx.frames["last_activity"] = both
    return ids


def build_measurements(ctx: SynthContext) -> None:
    org: OrgFrame = ctx.frames["org"]
    res: ResidentFrame = ctx.frames["residents"]
    rec = ctx.frames["records"]
    conds = ctx.frames["conditions"]
    ctx.frames["physiology"] = physiology(ctx)
    rng = ctx.rng("measurements")
    today = ctx.today
    eligible = rec.has_record & res.living & (res.age >= 18)
    chronic = ~np.isnat(conds.hypertension) | ~np.isnat(conds.diabetes)
    whos, days, kinds = [], [], []
    for y in range(params.HISTORY_YEARS):
        age_then = res.age.astype(np.int64) - y
        check = eligible & ((age_then >= 65) | chronic) & (rng.random(res.id.size) < params.ELDERLY_CHECK_RATE)
        bp = eligible & ~check & (age_then >= 35) & (age_then < 65) & (rng.random(res.id.size) < params.ADULT_BP_RATE)
        for mask, kind in ((check, 0), (bp, 1)):
            ix = np.flatnonzero(mask)
            day = today - np.timedelta64(365 * y, "D") - rng.integers(1, 365, ix.size).astype("timedelta64[D]")
            ok = day >= rec.established[ix]
            whos.append(ix[ok])
            days.append(day[ok])
            kinds.append(np.full(int(ok.sum()), kind, dtype=np.int8))
    who = np.concatenate(whos)
    day = np.concatenate(days)
    kind = np.concatenate(kinds)
    full = kind == 0
    values = readings(ctx, rng, who, full, glucose=full)
    source = np.where(full, "health_check", np.where(rng.random(who.size) < 0.3, "screening", "manual")).astype(object)
    recorder = clinician_for(org, res.institution[who], rng)
    write_measurements(ctx, who, day, source, values, recorder)

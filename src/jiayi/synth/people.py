"""People and households, vectorised: ages and sexes from the 2020 census, then families built from
them so that every relationship is consistent with the ages.

The census marginal is sampled first (one multinomial over the age-sex cells), so the age structure
is exact up to sampling noise; households are then assembled from those people:

1. people live with a spouse with an age- and sex-specific probability; married men and women are
   paired by rank of (age + noise), which gives realistic age gaps;
2. children and unmarried young adults are attached to a couple whose wife is about 28 years older
   (couples are bucketed by the wife's age; at most three children per couple);
3. minors left over live with a grandparent couple (留守儿童);
4. some widowed elders and elderly couples move in with a married child (three generations), and
   the head is then either the child or the parent;
5. everyone else heads a one-person household.

Everything is a numpy array indexed by person; persons are finally re-ordered household by
household so that database ids of a family are consecutive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from jiayi.synth import params, reference

# Relationship codes (index into RELATIONS, values of residents.models.Relationship).
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, CHILD_IN_LAW, OTHER = range(7)
RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "child_in_law", "other")

# Marital status codes (labels stored on the health record, WS 364 value set wording).
NEVER_MARRIED, MARRIED, WIDOWED, DIVORCED = range(4)
MARITAL_LABELS = ("未婚", "已婚", "丧偶", "离婚")


@dataclass
class Population:
    """Persons (arrays of length n) and households (arrays of length h)."""

    age: np.ndarray  # int16, completed years on as_of
    male: np.ndarray  # bool
    birth: np.ndarray  # datetime64[D]
    household: np.ndarray  # int32, 0..h-1, non-decreasing
    relation: np.ndarray  # int8, RELATIONS
    marital: np.ndarray  # int8, MARITAL_LABELS
    spouse: np.ndarray  # int32 person index or -1
    father: np.ndarray  # int32 person index of the father living in the household, or -1
    hh_head: np.ndarray  # int32 person index of each household's head
    hh_size: np.ndarray  # int32

    @property
    def n(self) -> int:
        return int(self.age.shape[0])

    @property
    def h(self) -> int:
        return int(self.hh_head.shape[0])


def band_lookup(bands: tuple[tuple[int, float], ...], ages: np.ndarray) -> np.ndarray:
    """Vectorised :func:`params.band_value`."""
    lows = np.array([lo for lo, _ in bands])
    values = np.array([v for _, v in bands] + [0.0])
    idx = np.searchsorted(lows, ages, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0.0)


def sample_age_sex(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ages (completed years) and sexes drawn from reference.AGE_SEX_2020 (exact multinomial)."""
    cells = reference.AGE_SEX_CELLS
    p = np.array([reference.AGE_SEX_2020[c] for c in cells], dtype=float)
    counts = rng.multinomial(n, p / p.sum())
    ages, males = [], []
    for (lo, hi, sex), k in zip(cells, counts, strict=True):
        if k == 0:
            continue
        if hi - lo > 4:  # the open top group: survival falls steeply, weight by a geometric decay
            span = np.arange(lo, hi + 1)
            w = 0.6 ** (span - lo)
            ages.append(rng.choice(span, size=k, p=w / w.sum()))
        else:
            ages.append(rng.integers(lo, hi + 1, size=k))
        males.append(np.full(k, sex == "M"))
    age = np.concatenate(ages).astype(np.int16)
    male = np.concatenate(males)
    order = rng.permutation(n)
    return age[order], male[order]


def birth_dates(rng: np.random.Generator, age: np.ndarray, as_of: date) -> np.ndarray:
    """A birth date for each age so that the completed age on ``as_of`` is exactly ``age``."""
    anchor = as_of if (as_of.month, as_of.day) != (2, 29) else date(as_of.year, 2, 28)
    top = int(age.max()) + 1 if age.size else 1
    # latest[a]: the a-th birthday falls on as_of; earliest[a]: one day after the (a+1)-th anniversary.
    latest = np.array([np.datetime64(anchor.replace(year=anchor.year - a)) for a in range(top)])
    earliest = np.array([np.datetime64(anchor.replace(year=anchor.year - a - 1)) for a in range(top)]) + 1
    span = (latest - earliest).astype(np.int64) + 1
    offset = (rng.random(age.shape[0]) * span[age]).astype(np.int64)
    return (earliest[age] + offset).astype("datetime64[D]")


def _pair_couples(rng: np.random.Generator, age: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.where(male, band_lookup(params.MARRIED_BY_AGE["M"], age), band_lookup(params.MARRIED_BY_AGE["F"], age))
    married = rng.random(age.shape[0]) < p
    men = np.flatnonzero(married & male)
    women = np.flatnonzero(married & ~male)
    k = min(men.size, women.size)
    men = np.sort(rng.permutation(men)[:k])
    women = np.sort(rng.permutation(women)[:k])
    # Rank matching on noisy ages: husbands are ~2 years older on average.
    men = men[np.argsort(age[men] - 2 + rng.normal(0, 2.5, k), kind="stable")]
    women = women[np.argsort(age[women] + rng.normal(0, 2.5, k), kind="stable")]
    return men, women


class _Buckets:
    """Indices of items grouped by an integer key (an age), with nearest-non-empty fallback."""

    def __init__(self, keys: np.ndarray, size: int = 130) -> None:
        self.order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self.order]
        bins = np.arange(size + 1)
        self.start = np.searchsorted(sorted_keys, bins[:-1], side="left")
        self.count = np.searchsorted(sorted_keys, bins[:-1], side="right") - self.start
        nonempty = np.flatnonzero(self.count > 0)
        self.nearest = np.full(size, -1)
        if nonempty.size:
            pos = np.clip(np.searchsorted(nonempty, np.arange(size)), 1, nonempty.size - 1)
            lo, hi = nonempty[pos - 1], nonempty[pos]
            ar = np.arange(size)
            self.nearest = np.where(np.abs(ar - lo) <= np.abs(hi - ar), lo, hi)
            if nonempty.size == 1:
                self.nearest[:] = nonempty[0]

    def pick(self, rng: np.random.Generator, target: np.ndarray, tolerance: int) -> np.ndarray:
        """An item for each target key (its bucket or the nearest within tolerance), or -1."""
        target = np.clip(target, 0, self.nearest.size - 1)
        key = self.nearest[target]
        ok = (key >= 0) & (np.abs(key - target) <= tolerance)
        key = np.where(ok, key, 0)
        slot = self.start[key] + (rng.random(target.size) * self.count[key]).astype(np.int64)
        slot = np.minimum(slot, self.order.size - 1) if self.order.size else slot
        out = np.where(ok, self.order[slot] if self.order.size else -1, -1)
        return out


def build_population(rng: np.random.Generator, n: int, as_of: date) -> Population:
    age, male = sample_age_sex(rng, n)
    husband, wife = _pair_couples(rng, age, male)
    n_couples = husband.size
    couple_of = np.full(n, -1, dtype=np.int64)
    couple_of[husband] = np.arange(n_couples)
    couple_of[wife] = np.arange(n_couples)
    wife_age = age[wife].astype(np.int64)
    husband_age = age[husband].astype(np.int64)

    # 2. Children and unmarried young adults living with their parents.
    single = couple_of < 0
    stay = (age < 18) | (single & (rng.random(n) < band_lookup(params.LIVE_WITH_PARENTS, age)))
    dependants = np.flatnonzero(single & stay)
    gap = np.clip(rng.normal(params.MOTHER_GAP_MEAN, params.MOTHER_GAP_SD, dependants.size), 20, 42)
    by_wife = _Buckets(wife_age)
    parents = by_wife.pick(rng, (age[dependants] + np.rint(gap)).astype(np.int64), tolerance=4)
    ok = parents >= 0
    gap_w = wife_age[parents[ok]] - age[dependants[ok]]
    gap_h = husband_age[parents[ok]] - age[dependants[ok]]
    ok[ok] &= (gap_w >= 19) & (gap_h >= 19)
    parents = np.where(ok, parents, -1)
    # At most MAX_CHILDREN_PER_COUPLE per couple: later-drawn extras are released.
    assigned = np.flatnonzero(parents >= 0)
    order = assigned[np.argsort(parents[assigned], kind="stable")]
    grp = parents[order]
    first = np.r_[True, grp[1:] != grp[:-1]] if grp.size else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(first, np.arange(grp.size), 0)) if grp.size else grp
    rank = np.arange(grp.size) - run_start
    parents[order[rank >= params.MAX_CHILDREN_PER_COUPLE]] = -1
    child_couple = np.full(n, -1, dtype=np.int64)
    child_couple[dependants] = parents

    # 3. Minors still without parents live with grandparents (a couple ~55 years older).
    orphans = np.flatnonzero((age < 18) & single & (child_couple < 0))
    grand_couple = np.full(n, -1, dtype=np.int64)
    if orphans.size and n_couples:
        target = age[orphans] + np.rint(np.clip(rng.normal(55, 6, orphans.size), 42, 80)).astype(np.int64)
        picked = by_wife.pick(rng, target, tolerance=8)
        both = np.maximum(picked, 0)
        picked[np.minimum(wife_age[both], husband_age[both]) - age[orphans] < 36] = -1
        grand_couple[orphans] = picked
        lost = orphans[picked < 0]
        if lost.size:  # tiny districts: the oldest couples take them in
            oldest = np.argsort(-np.minimum(wife_age, husband_age), kind="stable")[: max(1, n_couples // 5)]
            choice = oldest[rng.integers(0, oldest.size, lost.size)]
            fits = np.minimum(wife_age[choice], husband_age[choice]) - age[lost] >= 36
            grand_couple[lost[fits]] = choice[fits]

    # 4. Elders moving in with a married child.
    has_dependants = np.zeros(n_couples, dtype=bool)
    has_dependants[child_couple[child_couple >= 0]] = True
    has_dependants[grand_couple[grand_couple >= 0]] = True
    lone_elders = np.flatnonzero(single & ~stay & (age >= 60))
    p_join = band_lookup(params.SINGLE_ELDER_JOINS_CHILD, age[lone_elders])
    join_single = lone_elders[rng.random(lone_elders.size) < p_join]
    elder_couples = np.flatnonzero((husband_age >= 65) & (wife_age >= 60) & ~has_dependants)
    join_couple = elder_couples[rng.random(elder_couples.size) < params.ELDER_COUPLE_JOINS_CHILD]
    joiner_age = np.r_[age[join_single], np.minimum(husband_age[join_couple], wife_age[join_couple])]
    joiner_kind = np.r_[np.zeros(join_single.size, np.int8), np.ones(join_couple.size, np.int8)]
    joiner_ref = np.r_[join_single, join_couple]
    side_husband = rng.random(joiner_ref.size) < 0.55
    gen_gap = np.clip(rng.normal(params.MOTHER_GAP_MEAN + 1, 4.5, joiner_ref.size), 20, 42)
    target = joiner_age - np.rint(gen_gap).astype(np.int64)
    joining = np.zeros(n_couples, dtype=bool)
    joining[join_couple] = True
    by_husband = _Buckets(husband_age)
    host = np.where(side_husband, by_husband.pick(rng, target, 3), by_wife.pick(rng, target, 3))
    valid = host >= 0
    valid[valid] &= ~joining[host[valid]]
    side_age = np.where(side_husband, husband_age[np.maximum(host, 0)], wife_age[np.maximum(host, 0)])
    valid &= joiner_age - side_age >= 18
    # One joining unit per host couple, first come first served.
    cand = np.flatnonzero(valid)
    _, first_idx = np.unique(host[cand], return_index=True)
    keep = np.zeros(joiner_ref.size, dtype=bool)
    keep[cand[first_idx]] = True
    host_of_couple = np.full(n_couples, -1, dtype=np.int64)  # joining couple -> host couple
    host_side_husband = np.zeros(n_couples, dtype=bool)
    hosted_by = np.full(n_couples, -1, dtype=np.int64)  # host couple -> joiner index
    for_keep = np.flatnonzero(keep)
    hosted_by[host[for_keep]] = for_keep
    host_side_husband[host[for_keep]] = side_husband[for_keep]
    jc = for_keep[joiner_kind[for_keep] == 1]
    host_of_couple[joiner_ref[jc]] = host[jc]
    single_host = np.full(n, -1, dtype=np.int64)
    js = for_keep[joiner_kind[for_keep] == 0]
    single_host[joiner_ref[js]] = host[js]
    # A host couple that has a joining couple was never itself joining (checked above).

    # 5. Households: one per couple that stays on its own, one per remaining single.
    couple_is_household = host_of_couple < 0
    couple_hh = np.full(n_couples, -1, dtype=np.int64)
    couple_hh[couple_is_household] = np.arange(int(couple_is_household.sum()))
    couple_hh[~couple_is_household] = couple_hh[host_of_couple[~couple_is_household]]
    n_hh = int(couple_is_household.sum())
    lone = np.flatnonzero(single & (child_couple < 0) & (grand_couple < 0) & (single_host < 0))
    household = np.full(n, -1, dtype=np.int64)
    household[husband] = couple_hh
    household[wife] = couple_hh
    household[lone] = n_hh + np.arange(lone.size)
    n_hh += lone.size
    dep = child_couple >= 0
    household[dep] = couple_hh[child_couple[dep]]
    gdep = grand_couple >= 0
    household[gdep] = couple_hh[grand_couple[gdep]]
    sj = single_host >= 0
    household[sj] = couple_hh[single_host[sj]]
    assert (household >= 0).all()

    # Relationships and heads.
    relation = np.full(n, OTHER, dtype=np.int8)
    relation[lone] = HEAD
    parent_head = rng.random(n_couples) < params.PARENT_IS_HEAD
    husband_head = rng.random(n_couples) < params.HUSBAND_IS_HEAD
    # Couples hosting parents: the head is the side whose parents moved in (or the parent).
    hosts = np.flatnonzero(hosted_by >= 0)
    husband_head[hosts] = host_side_husband[hosts]
    own = couple_is_household  # couples heading (or sharing with the parent) their own household
    hosting = hosted_by >= 0
    parent_heads = own & hosting & parent_head
    # Parent-headed: the joined parent (the man of a joining couple, or the single elder) is head.
    h_child = own & ~parent_heads
    relation[np.where(husband_head, husband, wife)[h_child]] = HEAD
    relation[np.where(husband_head, wife, husband)[h_child]] = SPOUSE
    relation[np.where(husband_head, husband, wife)[parent_heads]] = CHILD
    relation[np.where(husband_head, wife, husband)[parent_heads]] = CHILD_IN_LAW
    # Joined elders.
    jcouples = np.flatnonzero(~couple_is_household)
    host_parent_head = parent_heads[host_of_couple[jcouples]]
    relation[husband[jcouples]] = np.where(host_parent_head, HEAD, PARENT)
    relation[wife[jcouples]] = np.where(host_parent_head, SPOUSE, PARENT)
    js_people = np.flatnonzero(sj)
    relation[js_people] = np.where(parent_heads[single_host[js_people]], HEAD, PARENT)
    # Children of a couple, grandchildren of a couple.
    dep_people = np.flatnonzero(dep)
    relation[dep_people] = np.where(parent_heads[child_couple[dep_people]], GRANDCHILD, CHILD)
    g_people = np.flatnonzero(gdep)
    relation[g_people] = np.where(parent_heads[grand_couple[g_people]], OTHER, GRANDCHILD)

    # Fathers living in the household (for surnames).
    father = np.full(n, -1, dtype=np.int64)
    father[dep_people] = husband[child_couple[dep_people]]
    father[g_people] = husband[grand_couple[g_people]]  # grandfather: the paternal line keeps the name

    spouse = np.full(n, -1, dtype=np.int64)
    spouse[husband] = wife
    spouse[wife] = husband

    marital = np.full(n, NEVER_MARRIED, dtype=np.int8)
    marital[husband] = MARRIED
    marital[wife] = MARRIED
    unpaired_adult = (couple_of < 0) & (age >= 22)
    u = rng.random(n)
    widow_p = np.where(age >= 80, 0.9, np.where(age >= 70, 0.75, np.where(age >= 60, 0.5, 0.04)))
    divorce_p = np.where(age >= 35, 0.18, 0.04)
    marital[unpaired_adult & (u < widow_p)] = WIDOWED
    marital[unpaired_adult & (u >= widow_p) & (u < widow_p + divorce_p)] = DIVORCED

    # Order persons household by household, head first, then by relation and age (descending).
    order = np.lexsort((-age.astype(np.int64), relation, household))
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)

    def remap(ix: np.ndarray) -> np.ndarray:
        out = np.full(ix.shape, -1, dtype=np.int64)
        m = ix >= 0
        out[m] = inv[ix[m]]
        return out

    age, male, household, relation, marital = age[order], male[order], household[order], relation[order], marital[order]
    spouse, father = remap(spouse[order]), remap(father[order])
    # Household ids in order of first appearance are already 0..h-1 ascending after the sort? Not
    # necessarily (lone households were numbered after couples): renumber densely in row order.
    first = np.r_[True, household[1:] != household[:-1]]
    household = np.cumsum(first) - 1
    hh_start = np.flatnonzero(first)
    hh_size = np.diff(np.r_[hh_start, n])
    head_rows = np.flatnonzero(relation == HEAD)
    assert head_rows.size == hh_start.size and (household[head_rows] == np.arange(hh_start.size)).all()
    birth = birth_dates(rng, age, as_of)
    return Population(
        age=age, male=male, birth=birth, household=household.astype(np.int32), relation=relation,
        marital=marital, spouse=spouse.astype(np.int32), father=father.astype(np.int32),
        hh_head=head_rows.astype(np.int32), hh_size=hh_size.astype(np.int32),
    )

"""Vectorised names, phone numbers, addresses and ID numbers for a million people.

The vocabularies and formats are those of :mod:`jiayi.synth.reference` (surname shares, given-name
characters, mobile prefixes, road names, the address layout of ``reference.make_address``); this
module only draws them with numpy so that a million residents take a second, not a minute.
"""

from __future__ import annotations

import numpy as np

from jiayi.core.ids import ID_CHECK_CHARS, ID_WEIGHTS
from jiayi.synth import reference

_SURNAMES = np.array([s for s, _ in reference.SURNAMES], dtype=object)
_SURNAME_P = np.array([w for _, w in reference.SURNAMES], dtype=float)
_SURNAME_P /= _SURNAME_P.sum()
_MALE_CHARS = np.array(reference.GIVEN_NAME_CHARS_MALE, dtype=object)
_FEMALE_CHARS = np.array(reference.GIVEN_NAME_CHARS_FEMALE, dtype=object)
_MOBILE = np.array(reference.MOBILE_PREFIXES, dtype=object)


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    return _SURNAMES[rng.choice(_SURNAMES.size, size=n, p=_SURNAME_P)]


def given_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """One or two characters (two 75 % of the time, as in reference.make_name)."""
    n = male.size
    pool_m, pool_f = _MALE_CHARS, _FEMALE_CHARS
    first = np.where(male, pool_m[rng.integers(0, pool_m.size, n)], pool_f[rng.integers(0, pool_f.size, n)])
    second = np.where(male, pool_m[rng.integers(0, pool_m.size, n)], pool_f[rng.integers(0, pool_f.size, n)])
    two = rng.random(n) < 0.75
    return np.where(two, first + second, first)


def mobile_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mainland mobile numbers with a valid segment prefix."""
    prefix = _MOBILE[rng.integers(0, _MOBILE.size, n)]
    body = rng.integers(0, 10**8, n)
    return prefix + np.char.zfill(body.astype(str), 8).astype(object)


def resident_ids(county6: str, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid, unique 18-digit resident IDs (GB 11643): county + birth date + sequence + check.

    Within each (birth date, sex) group the 3-digit sequence codes are distinct (a random affine
    permutation of the 500 codes of the right parity), so the numbers are unique as long as no
    group exceeds 500 people (asserted; ~30 per group at a million residents).
    """
    n = birth.size
    day = birth.astype("datetime64[D]").astype(np.int64)
    key = day * 2 + male.astype(np.int64)
    order = np.lexsort((rng.random(n), key))
    sk = key[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    group_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    rank = np.arange(n) - group_start
    if n and rank.max() >= 499:
        raise ValueError("too many residents born on one day for unique ID sequence codes")
    group_id = np.cumsum(start) - 1
    offsets = rng.integers(0, 499, int(group_id[-1]) + 1 if n else 0)
    slot = np.empty(n, dtype=np.int64)
    slot[order] = (rank * 37 + offsets[group_id]) % 499  # 37 is coprime with 499: a bijection
    parity = male.astype(np.int64)  # odd sequence = male
    seq = slot * 2 + parity + (1 - parity) * 2  # male 1..997 odd, female 2..998 even
    ymd = birth.astype("datetime64[D]").astype(str)
    datepart = np.char.replace(ymd, "-", "")
    first17 = np.char.add(np.char.add(county6, datepart), np.char.zfill(seq.astype(str), 3))
    digits = first17.astype("S17").view(np.uint8).reshape(n, 17) - 48
    s = (digits.astype(np.int64) * np.array(ID_WEIGHTS)).sum(axis=1) % 11
    check = np.array(list(ID_CHECK_CHARS))[s]
    return np.char.add(first17, check).astype(object)


def road_choices(district_key: str) -> np.ndarray:
    return np.array(reference.DISTRICT_ROAD_NAMES.get(district_key) or reference.COMMON_ROAD_NAMES, dtype=object)


def addresses(
    rng: np.random.Generator,
    district: reference.District,
    head: np.ndarray,
    village: np.ndarray,
    community_name: np.ndarray,
    community_roads: np.ndarray,
) -> np.ndarray:
    """Addresses in the layout of reference.make_address, one per household.

    ``head`` is the administrative prefix (province/city/county/street) per household, ``village``
    whether the household lives in a village, ``community_roads`` a road name per household (each
    community has a few roads of its own).
    """
    n = head.size
    if n == 0:
        return np.array([], dtype=object)
    shanghai = district.province_name == "上海市"
    group = rng.integers(1, 13, n).astype(str).astype(object)
    house = rng.integers(1, 200, n).astype(str).astype(object)
    village_addr = head + community_name + group + "组" + house + "号"
    room = rng.integers(1, 19, n).astype(str).astype(object) + np.char.zfill(
        rng.integers(1, 5, n).astype(str), 2
    ).astype(object) + "室"
    if shanghai:
        lane = rng.integers(1, 1201, n).astype(str).astype(object)
        number = rng.integers(1, 61, n).astype(str).astype(object)
        town_addr = head + community_roads + lane + "弄" + number + "号" + room
    else:
        number = rng.integers(1, 1000, n).astype(str).astype(object)
        building = rng.integers(1, 31, n).astype(str).astype(object)
        town_addr = head + community_roads + number + "号" + building + "幢" + room
    return np.where(village, village_addr, town_addr)

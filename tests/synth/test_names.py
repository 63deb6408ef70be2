"""Vectorised identifiers and contact data."""

from __future__ import annotations

from datetime import date

import numpy as np

from jiayi.core.ids import parse_resident_id
from jiayi.residents.services import _plausible_phone
from jiayi.synth import names, people, reference


def test_resident_ids_are_valid_unique_and_match_sex_and_birth():
    rng = np.random.default_rng(3)
    age, male = people.sample_age_sex(rng, 20_000)
    birth = people.birth_dates(rng, age, date(2025, 6, 30))
    ids = names.resident_ids("310104", birth, male, rng)
    assert len(set(ids)) == ids.size
    for number, born, is_male in zip(ids, birth.astype(object), male, strict=True):
        info = parse_resident_id(number, today=date(2025, 6, 30))
        assert info.area_code == "310104"
        assert info.birth_date == born
        assert info.sex == ("M" if is_male else "F")


def test_ids_stay_unique_when_many_share_a_birthday():
    rng = np.random.default_rng(1)
    birth = np.full(900, np.datetime64("1980-05-01"))
    male = np.arange(900) % 2 == 0
    ids = names.resident_ids("320508", birth, male, rng)
    assert len(set(ids)) == 900


def test_phones_are_plausible_mobiles():
    phones = names.mobile_phones(np.random.default_rng(2), 5_000)
    assert all(_plausible_phone(p) and len(p) == 11 and p[:3] in reference.MOBILE_PREFIXES for p in phones)


def test_names_use_the_reference_vocabulary():
    rng = np.random.default_rng(4)
    male = rng.random(2_000) < 0.5
    full = names.surnames(rng, 2_000) + names.given_names(rng, male)
    surnames = {s for s, _ in reference.SURNAMES}
    for name, m in zip(full, male, strict=True):
        assert name[0] in surnames and 2 <= len(name) <= 3
        pool = reference.GIVEN_NAME_CHARS_MALE if m else reference.GIVEN_NAME_CHARS_FEMALE
        assert all(c in pool for c in name[1:])

"""Internal consistency of the synthetic-district reference data (no Django needed).

Run: pytest -p no:django --noconftest tests/synth/test_reference.py
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import pytest

from jiayi.synth import reference as ref

DISTRICT_KEYS = ("xuhui", "gusu", "binhai", "xintang", "songshan")


def all_streets():
    for district in ref.DISTRICTS.values():
        for street in district.streets:
            yield district, street


def all_communities():
    for district, street in all_streets():
        for community in street.communities:
            yield district, street, community


# -- districts ---------------------------------------------------------------


def test_the_five_programme_areas_are_present():
    assert tuple(ref.DISTRICTS) == DISTRICT_KEYS
    for key, district in ref.DISTRICTS.items():
        assert district.key == key
        assert ref.get_district(key) is district


@pytest.mark.parametrize("key", DISTRICT_KEYS)
def test_division_codes_nest(key):
    d = ref.DISTRICTS[key]
    assert re.fullmatch(r"\d{2}0000", d.province_code)
    assert re.fullmatch(r"\d{4}00", d.city_code)
    assert re.fullmatch(r"\d{6}", d.county_code)
    assert d.city_code[:2] == d.province_code[:2]
    assert d.county_code[:4] == d.city_code[:4]
    assert d.county_code[4:] != "00"


def test_known_county_codes():
    expected = {
        "xuhui": ("310104", "徐汇区"),
        "gusu": ("320508", "姑苏区"),
        "binhai": ("120116", "滨海新区"),
        "xintang": ("350582", "晋江市"),
        "songshan": ("210711", "太和区"),
    }
    for key, (code, name) in expected.items():
        assert (ref.DISTRICTS[key].county_code, ref.DISTRICTS[key].county_name) == (code, name)


def test_municipalities_are_their_own_province():
    assert ref.DISTRICTS["xuhui"].is_municipality
    assert ref.DISTRICTS["binhai"].is_municipality
    for key in ("gusu", "xintang", "songshan"):
        assert not ref.DISTRICTS[key].is_municipality


def test_north_flag_follows_the_yangtze():
    north = {key for key, d in ref.DISTRICTS.items() if d.north}
    assert north == {"binhai", "songshan"}


def test_population_and_notes():
    for district in ref.DISTRICTS.values():
        assert district.population_approx > 10_000
        assert district.population_note.strip()
        assert isinstance(district.urban, bool)
        assert district.streets


def test_street_codes_follow_gbt_10114():
    for district, street in all_streets():
        assert re.fullmatch(r"\d{3}", street.code3), (district.key, street)
        n = int(street.code3)
        if street.kind == "street":
            assert 1 <= n <= 99, (district.key, street.name)
            assert street.name.endswith("街道")
        else:
            assert street.kind == "town"
            assert 100 <= n <= 199, (district.key, street.name)
            assert street.name.endswith("镇")


def test_street_codes_and_names_unique_within_district():
    for district in ref.DISTRICTS.values():
        codes = [s.code3 for s in district.streets]
        names = [s.name for s in district.streets]
        assert len(set(codes)) == len(codes), district.key
        assert len(set(names)) == len(names), district.key


def test_spot_checked_street_codes():
    # Verified against the NBS statistical division codes.
    assert ref.DISTRICTS["xuhui"].street("010").name == "长桥街道"
    assert ref.DISTRICTS["xuhui"].street("103").name == "华泾镇"
    assert ref.DISTRICTS["gusu"].street("018").name == "平江街道"
    assert ref.DISTRICTS["binhai"].street("158").name == "中塘镇"
    assert ref.DISTRICTS["xintang"].street("005").name == "新塘街道"
    assert ref.DISTRICTS["songshan"].street("080").name == "凌南街道"
    assert ref.DISTRICTS["songshan"].street("081").name == "松山街道"
    with pytest.raises(KeyError):
        ref.DISTRICTS["xuhui"].street("999")


def test_every_street_has_4_to_15_communities():
    for district, street in all_streets():
        assert 4 <= len(street.communities) <= 15, (district.key, street.name, len(street.communities))


def test_community_codes_follow_project_scheme():
    for district, street, c in all_communities():
        where = (district.key, street.name, c.name)
        assert re.fullmatch(r"\d{3}", c.code3), where
        n = int(c.code3)
        if c.kind == "neighbourhood":
            assert 1 <= n <= 99, where
            assert c.name.endswith(("居委会", "社区")), where
        else:
            assert c.kind == "village", where
            assert 101 <= n <= 199, where
            assert c.name.endswith("村"), where


def test_community_codes_and_names_unique_within_street():
    for district, street in all_streets():
        codes = [c.code3 for c in street.communities]
        names = [c.name for c in street.communities]
        assert len(set(codes)) == len(codes), (district.key, street.name, codes)
        assert len(set(names)) == len(names), (district.key, street.name)


def test_verified_flags_are_consistent():
    for _, _, c in all_communities():
        if c.code_verified:
            assert c.name_verified
    # the pilot community of the Xintang programme is real and present
    xintang = ref.DISTRICTS["xintang"].street("005")
    assert any(c.name == "杏坂社区" and c.name_verified for c in xintang.communities)
    # 长桥街道 carries real NBS codes
    changqiao = ref.DISTRICTS["xuhui"].street("010")
    assert all(c.code_verified for c in changqiao.communities)
    assert {c.code3: c.name for c in changqiao.communities}["001"] == "长桥新村第一居委会"


def test_twelve_digit_code():
    d = ref.DISTRICTS["xuhui"]
    street = d.street("010")
    assert d.twelve_digit_code(street) == "310104010000"
    assert d.twelve_digit_code(street, street.communities[0]) == "310104010001"
    for district, street, c in all_communities():
        assert re.fullmatch(r"\d{12}", district.twelve_digit_code(street, c))


# -- age and sex -------------------------------------------------------------


def test_age_sex_distribution_sums_to_one():
    assert sum(ref.AGE_SEX_2020.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(p > 0 for p in ref.AGE_SEX_2020.values())
    assert len(ref.AGE_SEX_2020) == 21 * 2


def test_age_groups_are_contiguous():
    groups = sorted({(lo, hi) for lo, hi, _ in ref.AGE_SEX_2020})
    assert groups[0][0] == 0
    assert groups[-1] == (100, ref.OLDEST_AGE)
    for (_, hi), (lo, _) in itertools.pairwise(groups):
        assert lo == hi + 1


def test_age_sex_matches_verified_census_aggregates():
    # 第七次全国人口普查公报: 65+ 13.50 %, 60+ 18.70 %, 0-14 17.95 %, male 51.24 %
    assert ref.population_share(65) == pytest.approx(0.1350, abs=5e-4)
    assert ref.population_share(60) == pytest.approx(0.1870, abs=5e-4)
    assert ref.population_share(0, 14) == pytest.approx(0.1795, abs=5e-4)
    assert ref.population_share(0, sex="M") == pytest.approx(0.5124, abs=5e-4)
    counted = sum(m + f for _, m, f in ref.AGE_SEX_2020_COUNTS)
    assert counted == pytest.approx(1_411_779, rel=1e-5)


def test_cumulative_table():
    cum = ref.AGE_SEX_CUMULATIVE
    assert len(cum) == len(ref.AGE_SEX_CELLS) == len(ref.AGE_SEX_2020)
    assert all(a < b for a, b in itertools.pairwise(cum))
    assert cum[-1] == 1.0


def test_sample_age_sex_is_deterministic_and_plausible():
    a = [ref.sample_age_sex(random.Random(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    rng = random.Random(2020)
    draws = [ref.sample_age_sex(rng) for _ in range(40_000)]
    assert all(0 <= age <= ref.OLDEST_AGE and sex in ("M", "F") for age, sex in draws)
    share_65 = sum(age >= 65 for age, _ in draws) / len(draws)
    share_m = sum(sex == "M" for _, sex in draws) / len(draws)
    assert share_65 == pytest.approx(0.135, abs=0.01)
    assert share_m == pytest.approx(0.512, abs=0.01)


# -- prevalence --------------------------------------------------------------


def test_rates_are_proportions_with_provenance():
    for key, rate in ref.PREVALENCE.items():
        assert 0 < rate.value < 1, key
        assert rate.source.strip(), key
        assert rate.denominator.strip(), key
        assert 2000 <= rate.year <= 2025, key
    for key in DISTRICT_KEYS:
        rate = ref.POVERTY_LIFTED[key]
        assert 0 <= rate.value < 0.05
        assert rate.source.strip()


def test_headline_rates():
    p = ref.PREVALENCE
    assert p["hypertension_adult"].value == 0.275
    assert p["diabetes_adult"].value == 0.119
    assert p["disability"].value == 0.0634
    assert p["smoking_men"].value > p["smoking_adult"].value > p["smoking_women"].value
    assert p["obesity_adult"].value == 0.164
    assert p["hypertension_known_to_primary_care"].value <= p["hypertension_awareness"].value
    assert 0.001 <= p["special_fp_family_households"].value <= 0.003
    assert p["tb_under_management"].value < p["tb_reported_incidence"].value


def test_pregnancy_share_derives_from_birth_rate():
    share = ref.pregnant_point_prevalence()
    assert share == pytest.approx(0.00852 * 39 / 52 * 1.15)
    assert ref.PREVALENCE["pregnant"].value == pytest.approx(share, abs=1e-5)


@pytest.mark.parametrize("gradient", [ref.HYPERTENSION_BY_AGE, ref.DIABETES_BY_AGE])
def test_age_gradients_are_contiguous_and_increasing(gradient):
    bands = gradient.bands
    assert bands[0].age_lo == 18
    assert bands[-1].age_hi == ref.OLDEST_AGE
    for a, b in itertools.pairwise(bands):
        assert b.age_lo == a.age_hi + 1
        assert b.value > a.value
    assert all(0 < b.value < 1 for b in bands)
    assert gradient.rate_for_age(10) == 0.0
    assert gradient.rate_for_age(18) == bands[0].value
    assert gradient.rate_for_age(ref.OLDEST_AGE) == bands[-1].value


def test_age_gradients_reproduce_overall_rates():
    # Diabetes bands are calibrated to 11.9 %; the published hypertension
    # bands (2010-2012 survey) give ~29.6 % on the 2020 structure vs 27.5 %.
    assert ref.DIABETES_BY_AGE.population_weighted() == pytest.approx(0.119, abs=0.002)
    assert ref.HYPERTENSION_BY_AGE.population_weighted() == pytest.approx(0.275, abs=0.03)


def test_blood_pressure_parameters():
    for sex in ("M", "F"):
        rows = [r for r in ref.BLOOD_PRESSURE_BY_AGE_SEX if r.sex == sex]
        assert rows[0].age_lo == 18
        assert rows[-1].age_hi == ref.OLDEST_AGE
        for a, b in itertools.pairwise(rows):
            assert b.age_lo == a.age_hi + 1
            assert b.sbp_mean >= a.sbp_mean
        for r in rows:
            assert 90 < r.sbp_mean < 170 and 50 < r.dbp_mean < 100
            assert r.dbp_mean < r.sbp_mean
    assert ref.blood_pressure_params(5, "F").age_lo == 18
    assert ref.blood_pressure_params(104, "M").age_lo == 80


# -- names, phones, addresses ------------------------------------------------


def test_surnames():
    names = [s for s, _ in ref.SURNAMES]
    assert len(names) == 100
    assert len(set(names)) == 100
    assert names[:5] == ["王", "李", "张", "刘", "陈"]
    assert all(len(s) == 1 for s in names)
    weights = [w for _, w in ref.SURNAMES]
    assert all(w > 0 for w in weights)
    assert weights == sorted(weights, reverse=True)
    assert sum(weights[:5]) == pytest.approx(30.8, abs=0.01)
    assert sum(weights) == pytest.approx(85.9, abs=0.05)


@pytest.mark.parametrize("chars", [ref.GIVEN_NAME_CHARS_MALE, ref.GIVEN_NAME_CHARS_FEMALE])
def test_given_name_characters(chars):
    assert len(chars) >= 140
    assert len(set(chars)) == len(chars)
    assert all(len(c) == 1 and "\u4e00" <= c <= "\u9fff" for c in chars)


def test_make_name():
    rng = random.Random(1)
    surnames = {s for s, _ in ref.SURNAMES}
    names = [ref.make_name(rng, sex) for sex in ("M", "F") * 500]
    assert all(2 <= len(n) <= 3 and n[0] in surnames for n in names)
    top = Counter(n[0] for n in names).most_common(3)
    assert {s for s, _ in top} <= {"王", "李", "张", "刘", "陈"}
    assert ref.make_name(random.Random(5), "F") == ref.make_name(random.Random(5), "F")


def test_make_phone():
    rng = random.Random(3)
    pattern = re.compile(r"1(3\d|5[0-35-9]|7[35-8]|8\d|9[135-9])\d{8}")
    for _ in range(2_000):
        assert pattern.fullmatch(ref.make_phone(rng))


def test_make_address_for_every_committee():
    rng = random.Random(11)
    for district, street, c in all_communities():
        address = ref.make_address(rng, district, street, c)
        assert district.county_name + street.name in address
        if district.is_municipality:
            assert address.startswith(district.province_name + district.county_name)
            assert address.count(district.province_name) == 1
        else:
            assert address.startswith(district.province_name + district.city_name + district.county_name)
        if c.kind == "village":
            assert re.search(r"村\d+组\d+号$", address), address
        else:
            assert re.search(r"\d+号(\d+幢)?\d+室$", address), address


def test_road_lists():
    for key in DISTRICT_KEYS:
        roads = ref.DISTRICT_ROAD_NAMES[key]
        assert roads
        assert len(set(roads)) == len(roads)
        assert all(r.endswith(("路", "街", "道", "巷", "大道", "公路")) for r in roads), key

"""The ICD-10 code list: WHO codes and English titles, the project's Chinese titles, search."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from jiayi.residents import icd10
from jiayi.residents.diagnoses import DIAGNOSIS_PREFIXES


def _zh_rows() -> list[dict[str, str]]:
    with resources.files("jiayi.residents").joinpath("data/icd10_zh.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_chinese_title_names_a_who_code_once():
    rows = _zh_rows()
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    cl = icd10.code_list()
    unknown = [c for c in codes if c not in cl.codes and c not in cl.groups]
    assert unknown == []
    assert all(r["title_zh"].strip() for r in rows)


def test_every_chapter_and_block_has_a_chinese_title():
    groups = icd10.code_list().groups
    assert len(groups) > 250
    assert [g.code for g in groups.values() if not g.title_zh] == []
    assert groups["F20-F29"].title_zh == "精神分裂症、分裂型障碍和妄想性障碍"
    assert groups["V"].title("en") == "Mental and behavioural disorders"


@pytest.mark.parametrize(
    "ranges",
    [("I10", "I15"), ("E10", "E14"), ("A15", "A19"), ("F00", "F99"), ("I20", "I25"), ("I60", "I69"),
     ("K70", "K77"), ("M15", "M19"), ("N17", "N19"), ("J40", "J47")],
)
def test_the_programme_and_primary_care_categories_have_chinese_titles(ranges):
    low, high = ranges
    cats = [c for c in icd10.code_list().ordered if c.level == icd10.CATEGORY and low <= c.code <= high]
    assert cats, ranges
    assert [c.code for c in cats if not c.title_zh] == []


def test_every_code_of_a_diagnosis_group_is_a_category_with_a_chinese_title():
    for group, prefixes in DIAGNOSIS_PREFIXES.items():
        for prefix in prefixes:
            entry = icd10.lookup(prefix)
            assert entry is not None and entry.level == icd10.CATEGORY, (group, prefix)
            assert entry.title_zh, (group, prefix)


def test_the_codes_the_synthetic_district_writes_are_in_the_list():
    from jiayi.synth import params, records

    codes = ["I10", "E11", *(c for c, *_ in records.TB_CODES), *(c for c, *_ in records.SMD_CODES),
             *(c for c, *_ in params.OTHER_CONDITIONS_60PLUS)]
    assert [c for c in codes if icd10.lookup(c) is None] == []


@pytest.mark.parametrize(
    ("typed", "code"),
    [("F20", "F20"), ("f20", "F20"), ("F20.0", "F20.0"), ("f200", "F20.0"), (" i25.1 ", "I25.1"), ("E11.9", "E11.9")],
)
def test_lookup_accepts_the_usual_spellings(typed, code):
    entry = icd10.lookup(typed)
    assert entry is not None and entry.code == code


@pytest.mark.parametrize("typed", ["", "F2", "F20-F29", "V", "X99.99", "精神分裂症", "I84"])
def test_lookup_refuses_what_is_not_a_category_or_subcategory(typed):
    assert icd10.lookup(typed) is None  # I84 (haemorrhoids) left ICD-10 in 2016 (now K64)


def test_a_subcategory_knows_its_category_block_and_chapter():
    entry = icd10.lookup("F20.0")
    assert (entry.category, entry.block, entry.chapter, entry.level) == ("F20", "F20-F29", "V", icd10.SUBCATEGORY)
    assert icd10.lookup("C16").block == "C15-C26"  # the nearest block (inside C00-C75 inside C00-C97)


def test_a_code_without_a_chinese_title_shows_its_english_one():
    entry = icd10.lookup("F20.4")
    assert entry.title_zh == ""
    assert entry.title("zh-hans") == entry.title_en == "Post-schizophrenic depression"
    assert icd10.lookup("F20").title("zh-hans") == "精神分裂症"
    assert icd10.lookup("F20").title("en") == "Schizophrenia"


def test_search_by_code_puts_the_code_first_then_its_subcategories():
    hits = [c.code for c in icd10.search("F20")]
    assert hits[0] == "F20"
    assert hits[1:4] == ["F20.0", "F20.1", "F20.2"]
    assert all(h.startswith("F20") for h in hits)


def test_search_by_a_code_prefix():
    hits = [c.code for c in icd10.search("I1")]
    assert {"I10", "I11", "I12", "I13", "I15"} <= set(hits)
    assert all(h.startswith("I1") for h in hits)


def test_search_by_chinese_title():
    hits = icd10.search("精神")
    codes = [c.code for c in hits]
    assert "F20" in codes and "F99" in codes and "F70" in codes
    assert all("精神" in c.title_zh for c in hits)


def test_search_by_english_words_any_case():
    codes = [c.code for c in icd10.search("schizo")]
    assert {"F20", "F21", "F25"} <= set(codes)
    codes = [c.code for c in icd10.search("Type 2 DIABETES")]
    assert "E11" in codes and "E10" not in codes


def test_search_with_nothing_typed_lists_the_whole_list_in_order_and_limit_applies():
    everything = icd10.search("")
    assert len(everything) == len(icd10.code_list().codes) > 10_000
    assert [c.code for c in icd10.search("", limit=3)] == [c.code for c in everything[:3]]
    assert icd10.search("no such disease xyz") == []

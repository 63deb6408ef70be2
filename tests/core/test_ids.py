"""Identifiers: ALGORITHMS.md §6 / RULES.md §9 vectors, masking, record numbers, properties."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayi.core import ids, rulesets
from jiayi.core.ids import IdNumberError, RecordNumberError
from jiayi.core.rulesets import Param

TODAY = date(2025, 6, 1)


def _weight(position: int) -> int:
    """Independent re-derivation of the GB 11643 weight: 2^(18 - position) mod 11, position 1..17."""
    return pow(2, 18 - position, 11)


def _sum(first17: str) -> int:
    return sum(int(c) * _weight(i) for i, c in enumerate(first17, start=1))


# ---------------------------------------------------------------------------------------------
# Check character
# ---------------------------------------------------------------------------------------------


def test_weights_match_the_standard() -> None:
    assert ids.ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert tuple(_weight(i) for i in range(1, 18)) == ids.ID_WEIGHTS


# (number, r = S mod 11). One number per remainder; the check character must be "10X98765432"[r].
# r = 8 -> "4" is the pitfall of RULES.md §9.2 (one implementation writes "5").
ALL_REMAINDERS = [
    ("110105199001010061", 0),
    ("110105199001010010", 1),
    ("11010519900101007X", 2),
    ("110105199001010029", 3),
    ("110105199001010088", 4),
    ("110105199001010037", 5),
    ("110105199001010096", 6),
    ("110105199001010045", 7),
    ("110105199001010184", 8),
    ("110105199001010053", 9),
    ("110105199001010002", 10),
]


def test_all_eleven_remainders_are_covered() -> None:
    assert sorted(r for _, r in ALL_REMAINDERS) == list(range(11))


@pytest.mark.parametrize(("number", "remainder"), ALL_REMAINDERS)
def test_check_char_for_each_remainder(number: str, remainder: int) -> None:
    assert _sum(number[:17]) % 11 == remainder
    expected = {0: "1", 1: "0", 2: "X", 3: "9", 4: "8", 5: "7", 6: "6", 7: "5", 8: "4", 9: "3", 10: "2"}
    assert ids.resident_id_check_char(number[:17]) == expected[remainder] == number[17]
    assert ids.parse_resident_id(number, today=TODAY).check == number[17]


@pytest.mark.parametrize(
    ("first17", "total", "check"),
    [
        ("11010519491231002", 167, "X"),  # standard's example, r = 2
        ("44052418800101001", 195, "4"),  # standard's second example, r = 8
        ("36042619910101007", 231, "1"),  # python-stdnum doctest, r = 0
    ],
)
def test_documented_sums(first17: str, total: int, check: str) -> None:
    assert _sum(first17) == total
    assert ids.resident_id_check_char(first17) == check


def test_check_char_input_validation() -> None:
    with pytest.raises(IdNumberError) as e:
        ids.resident_id_check_char("1234")
    assert e.value.code == "length"
    with pytest.raises(IdNumberError) as e:
        ids.resident_id_check_char("1101051949123100A")
    assert e.value.code == "chars"


# ---------------------------------------------------------------------------------------------
# ALGORITHMS.md §6.2 vectors
# ---------------------------------------------------------------------------------------------


def test_standard_example_female_beijing_chaoyang() -> None:
    info = ids.parse_resident_id("11010519491231002X", today=TODAY)
    assert info.number == "11010519491231002X"
    assert info.area_code == "110105"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sequence == "002"
    assert info.sex == "F"
    assert info.check == "X"


def test_lowercase_x_is_normalised() -> None:
    assert ids.parse_resident_id(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"


def test_second_standard_example_abolished_area_code_is_accepted() -> None:
    # python-stdnum 2.2 rejects the abolished place code 440524; this platform does not validate
    # address codes (documented decision), so the number is valid here.
    info = ids.parse_resident_id("440524188001010014", today=TODAY)
    assert info.sex == "M"
    assert info.birth_date == date(1880, 1, 1)
    assert info.area_code == "440524"


def test_stdnum_doctest_vector() -> None:
    info = ids.parse_resident_id("360426199101010071", today=TODAY)
    assert info.birth_date == date(1991, 1, 1)
    assert info.sex == "M"


@pytest.mark.parametrize(
    "number",
    [
        "486268198802140611",
        "354133198209290022",
        "338720197801060214",
        "387908198001010226",
        "341617198002120424",
        "38064219921117061X",
        "45883019880120031X",
    ],
)
def test_python_stdnum_valid_list(number: str) -> None:
    # Fictitious address codes; checksum and date are valid.
    assert ids.parse_resident_id(number, today=TODAY).number == number


@pytest.mark.parametrize(("number", "remainder"), [("38064219921117061X", 2), ("45883019880120031X", 2)])
def test_stdnum_remainder_two(number: str, remainder: int) -> None:
    assert _sum(number[:17]) % 11 == remainder


def test_stdnum_remainder_ten() -> None:
    assert _sum("35413319820929002") % 11 == 10
    assert ids.resident_id_check_char("35413319820929002") == "2"


def test_wrong_check_character() -> None:
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id("110105194912310021", today=TODAY)
    assert e.value.code == "checksum"
    assert "校验" in str(e.value)


def test_month_13_with_correct_checksum() -> None:
    assert ids.resident_id_check_char("11010519491331002") == "1"
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id("110105194913310021", today=TODAY)
    assert e.value.code == "birth_date"


def test_leap_day_2000_is_valid() -> None:
    assert ids.parse_resident_id("110105200002290021", today=TODAY).birth_date == date(2000, 2, 29)


def test_1900_02_29_does_not_exist() -> None:
    assert ids.resident_id_check_char("11010519000229002") == "5"
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id("110105190002290025", today=TODAY)
    assert e.value.code == "birth_date"


# ---------------------------------------------------------------------------------------------
# Other validation paths
# ---------------------------------------------------------------------------------------------


def _make(area: str, born: date, seq: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + ids.resident_id_check_char(first17)


@pytest.mark.parametrize("number", ["", "1101051949123100", "11010519491231002X1", "110105491231002"])
def test_wrong_length(number: str) -> None:
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id(number, today=TODAY)
    assert e.value.code == "length"


@pytest.mark.parametrize(
    "number", ["1101051949123100AX", "X10105194912310021", "11010519491231002Y", "１１０105194912310021"]
)
def test_bad_characters(number: str) -> None:
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id(number, today=TODAY)
    assert e.value.code in ("chars", "length")


def test_full_width_digits_are_rejected_as_chars() -> None:
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id("１１0105194912310021", today=TODAY)
    assert e.value.code == "chars"


def test_birth_date_limits() -> None:
    assert ids.parse_resident_id(_make("110105", date(1880, 1, 1), 1), today=TODAY).birth_date == date(
        1880, 1, 1
    )
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id(_make("110105", date(1879, 12, 31), 1), today=TODAY)
    assert e.value.code == "birth_date"
    assert ids.parse_resident_id(_make("110105", TODAY, 1), today=TODAY).birth_date == TODAY
    with pytest.raises(IdNumberError) as e:
        ids.parse_resident_id(_make("110105", TODAY + timedelta(days=1), 1), today=TODAY)
    assert e.value.code == "birth_date"


def test_validate_consistency_with_sex_and_birth_date() -> None:
    n = "11010519491231002X"
    assert ids.validate_resident_id(n, sex="F", birth_date=date(1949, 12, 31), today=TODAY).sex == "F"
    assert ids.validate_resident_id(n, sex="f", today=TODAY).sex == "F"
    with pytest.raises(IdNumberError) as e:
        ids.validate_resident_id(n, sex="M", today=TODAY)
    assert e.value.code == "sex_mismatch"
    with pytest.raises(IdNumberError) as e:
        ids.validate_resident_id(n, birth_date=date(1949, 12, 30), today=TODAY)
    assert e.value.code == "birth_mismatch"
    # Unknown sex is not compared.
    assert ids.validate_resident_id(n, sex="U", today=TODAY).sex == "F"


def test_odd_sequence_is_male() -> None:
    assert ids.parse_resident_id(_make("310101", date(1990, 1, 1), 123), today=TODAY).sex == "M"
    assert ids.parse_resident_id(_make("310101", date(1990, 1, 1), 124), today=TODAY).sex == "F"
    assert ids.parse_resident_id(_make("310101", date(1990, 1, 1), 0), today=TODAY).sex == "F"


def test_error_is_a_value_error_with_code_and_message() -> None:
    err = IdNumberError("checksum", "x")
    assert isinstance(err, ValueError)
    assert (err.code, err.message, str(err)) == ("checksum", "x", "x")


# ---------------------------------------------------------------------------------------------
# 15 -> 18 upgrade
# ---------------------------------------------------------------------------------------------


def test_upgrade_15_to_18() -> None:
    assert ids.upgrade_15_to_18("110105491231002") == "11010519491231002X"
    assert ids.upgrade_15_to_18("360426910101007") == "360426199101010071"
    ids.parse_resident_id(ids.upgrade_15_to_18("440524800101001"), today=TODAY)


@pytest.mark.parametrize(
    ("number", "code"),
    [("11010549123100", "length"), ("11010549123100X", "chars"), ("110105491331002", "birth_date")],
)
def test_upgrade_rejects(number: str, code: str) -> None:
    with pytest.raises(IdNumberError) as e:
        ids.upgrade_15_to_18(number)
    assert e.value.code == code


# ---------------------------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("310101199001011234", "3101**********1234"),
        ("11010519491231002X", "1101**********002X"),
        ("H12345678", "H1*****78"),
        ("12345678", "12****78"),
        ("1234", "1**4"),
        ("12", "**"),
        ("1", "*"),
        ("", ""),
        (None, ""),
        ("  310101199001011234 ", "3101**********1234"),
    ],
)
def test_mask_id_number(number: str | None, masked: str) -> None:
    assert ids.mask_id_number(number) == masked


def test_mask_id_never_reveals_more_than_eight() -> None:
    for n in range(0, 40):
        masked = ids.mask_id_number("9" * n)
        assert len(masked) == n
        visible = masked.count("9")
        assert visible <= 8
        assert n == 0 or visible * 3 < 2 * n  # at least a third is always masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("008613812345678", "0086138****5678"),
        ("02112345678", "021****5678"),
        ("12345678", "******78"),
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert ids.mask_phone(phone) == masked


# ---------------------------------------------------------------------------------------------
# Health-record number (RULES.md §9.1)
# ---------------------------------------------------------------------------------------------


def test_format_record_number() -> None:
    assert ids.format_record_number("310104", "003", "012", 1) == "31010400301200001"
    assert ids.format_record_number("310104", "003", "101", 99999) == "31010400310199999"
    assert len(ids.format_record_number("310104", "003", "901", 42)) == 17


@pytest.mark.parametrize(
    ("community", "kind"),
    [
        ("001", "neighbourhood"),
        ("099", "neighbourhood"),
        ("101", "village"),
        ("199", "village"),
        ("901", "other"),
        ("999", "other"),
    ],
)
def test_community_kind(community: str, kind: str) -> None:
    assert ids.community_kind(community) == kind


@pytest.mark.parametrize("community", ["000", "100", "200", "500", "900", "12", "1000", "0a1"])
def test_community_out_of_range(community: str) -> None:
    with pytest.raises(RecordNumberError) as e:
        ids.community_kind(community)
    assert e.value.code == "community"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("31010", "003", "012", 1), "county"),
        (("31010A", "003", "012", 1), "county"),
        (("310104", "03", "012", 1), "street"),
        (("310104", "00x", "012", 1), "street"),
        (("310104", "003", "100", 1), "community"),
        (("310104", "003", "012", 0), "serial"),
        (("310104", "003", "012", 100000), "serial"),
        (("310104", "003", "012", -1), "serial"),
    ],
)
def test_format_record_number_rejects(args: tuple[str, str, str, int], code: str) -> None:
    with pytest.raises(RecordNumberError) as e:
        ids.format_record_number(*args)
    assert e.value.code == code
    assert isinstance(e.value, IdNumberError)


def test_serial_must_be_an_int() -> None:
    with pytest.raises(RecordNumberError):
        ids.format_record_number("310104", "003", "012", True)
    with pytest.raises(RecordNumberError):
        ids.format_record_number("310104", "003", "012", 1.0)  # type: ignore[arg-type]


def test_parse_record_number() -> None:
    rn = ids.parse_record_number("31010400310100042")
    assert (rn.county, rn.street, rn.community, rn.serial, rn.kind) == ("310104", "003", "101", 42, "village")
    assert rn.number == str(rn) == "31010400310100042"
    assert rn.form_number == "101-00042"
    assert ids.parse_record_number("310104-003-101-00042") == rn


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("3101040031010004", "length"),
        ("3101040031010004A", "chars"),
        ("31010400310000042", "community"),
        ("31010400310100000", "serial"),
    ],
)
def test_parse_record_number_rejects(number: str, code: str) -> None:
    with pytest.raises(RecordNumberError) as e:
        ids.parse_record_number(number)
    assert e.value.code == code


def test_community_ranges_are_rule_set_data() -> None:
    assert ids.HRN_2011.param("community_ranges").confidence == "M"
    local = ids.HRN_2011.derive(
        code="local-test",
        title="test",
        effective_from=date(2020, 1, 1),
        overrides={
            "community_ranges": Param(
                value=(("neighbourhood", 1, 199), ("other", 900, 999)), confidence="L", source="test"
            )
        },
    )
    assert ids.community_kind("150", ruleset=local) == "neighbourhood"
    assert ids.community_kind("900", ruleset=local) == "other"
    assert ids.format_record_number("310104", "003", "150", 1, ruleset=local) == "31010400315000001"


@given(
    county=st.from_regex(r"[0-9]{6}", fullmatch=True),
    street=st.from_regex(r"[0-9]{3}", fullmatch=True),
    community=st.sampled_from([*range(1, 100), *range(101, 200), *range(901, 1000)]),
    serial=st.integers(1, 99_999),
)
def test_record_number_round_trip(county: str, street: str, community: int, serial: int) -> None:
    number = ids.format_record_number(county, street, f"{community:03d}", serial)
    rn = ids.parse_record_number(number)
    assert (rn.county, rn.street, rn.community, rn.serial) == (county, street, f"{community:03d}", serial)
    assert rn.number == number


# ---------------------------------------------------------------------------------------------
# Committee-code schemes: record-number ranges (RULES.md §9.1, M) vs NBS statistical codes
# ---------------------------------------------------------------------------------------------

NBS = ids.NBS_STATISTICAL


@pytest.mark.parametrize(
    ("area_code", "kind"),
    [
        # Published NBS statistical division codes (统计用区划代码).
        ("440983102001", "neighbourhood"),  # 水口居委会
        ("310104003012", "neighbourhood"),
        ("140922100007", "neighbourhood"),  # 兴业社区居民委员会
        ("220581102200", "village"),  # 春明村: first village code
        ("440983102201", "village"),  # 垌心村委会
        ("131025105222", "village"),  # 大高庄村民委员会
        ("522632210500", "village"),  # 摆拉村委会 (500-599 类似村委会)
    ],
)
def test_nbs_statistical_vectors(area_code: str, kind: str) -> None:
    assert ids.community_kind(area_code[9:], ruleset=NBS) == kind


@pytest.mark.parametrize(
    ("community", "kind"),
    [("001", "neighbourhood"), ("099", "neighbourhood"), ("100", "neighbourhood"), ("150", "neighbourhood"),
     ("199", "neighbourhood"), ("200", "village"), ("399", "village"), ("400", "neighbourhood"),
     ("499", "neighbourhood"), ("500", "village"), ("599", "village")],
)  # fmt: skip
def test_nbs_statistical_range_edges(community: str, kind: str) -> None:
    assert ids.community_kind(community, ruleset=NBS) == kind


@pytest.mark.parametrize("community", ["000", "600", "901", "999"])
def test_nbs_statistical_out_of_range(community: str) -> None:
    with pytest.raises(RecordNumberError) as e:
        ids.community_kind(community, ruleset=NBS)
    assert e.value.code == "community"


def test_the_two_schemes_disagree_where_expected() -> None:
    # 150 is a neighbourhood committee for NBS but outside the record-number ranges; 101-199 are villages
    # in the record-number scheme but neighbourhood committees for NBS; a real NBS village (220) has no
    # place in the record-number scheme.
    assert ids.community_kind("150", ruleset=NBS) == "neighbourhood"
    assert ids.community_kind("150") == "village"
    assert ids.community_kind("120", ruleset=NBS) == "neighbourhood"
    with pytest.raises(RecordNumberError):
        ids.community_kind("220")
    with pytest.raises(RecordNumberError):
        ids.format_record_number("440983", "102", "201", 1)
    assert ids.format_record_number("440983", "102", "201", 1, ruleset=NBS) == "44098310220100001"
    rn = ids.parse_record_number("44098310220100001", ruleset=NBS)
    assert (rn.community, rn.kind) == ("201", "village")


def test_record_number_rule_set_choice() -> None:
    assert ids.record_number_ruleset() is ids.HRN_2011
    assert ids.record_number_ruleset("") is ids.HRN_2011
    assert ids.record_number_ruleset("hrn-2011") is ids.HRN_2011
    assert ids.record_number_ruleset("nbs-statistical") is NBS
    with pytest.raises(KeyError, match="hrn-2011"):
        ids.record_number_ruleset("nbs-2099")
    # RULES.md §9.1 marks its ranges M (not L): the record-number ranges stay the default, NBS is opt-in.
    assert rulesets.default_for(ids.RECORD_NUMBER_PROGRAMME, TODAY) is ids.HRN_2011
    assert NBS.opt_in
    p = NBS.param("community_ranges")
    assert p.confidence == "M" and not p.verified and "400-499" in p.note
    assert "统计用区划代码" in p.source


@pytest.mark.parametrize("ruleset", [ids.HRN_2011, NBS])
def test_committee_ranges_are_well_formed(ruleset: rulesets.RuleSet) -> None:
    ranges = sorted((low, high, kind) for kind, low, high in ruleset.value("community_ranges"))
    for low, high, kind in ranges:
        assert 1 <= low <= high <= 999 and kind in ids.COMMUNITY_KINDS
    for (_l1, h1, _k1), (l2, _h2, _k2) in itertools.pairwise(ranges):
        assert h1 < l2  # no overlap: every code has one kind


@given(community=st.integers(0, 999), ruleset=st.sampled_from([ids.HRN_2011, NBS]))
def test_community_kind_matches_the_ranges(community: int, ruleset: rulesets.RuleSet) -> None:
    code = f"{community:03d}"
    kinds = [k for k, low, high in ruleset.value("community_ranges") if low <= community <= high]
    if kinds:
        assert ids.community_kind(code, ruleset=ruleset) == kinds[0]
    else:
        with pytest.raises(RecordNumberError):
            ids.community_kind(code, ruleset=ruleset)


# ---------------------------------------------------------------------------------------------
# Other documents (project convention)
# ---------------------------------------------------------------------------------------------


def test_passport() -> None:
    assert ids.validate_passport(" e12345678 ") == "E12345678"
    assert ids.validate_passport("EA1234567", chinese=True) == "EA1234567"
    assert ids.validate_passport("G12345678", chinese=True) == "G12345678"
    assert ids.validate_passport("X1234567") == "X1234567"  # foreign passport
    for bad in ("", "1234", "ABCDEFGH", "E1234-567", "E123456789012345678"):
        with pytest.raises(IdNumberError) as e:
            ids.validate_passport(bad)
        assert e.value.code == "format"
    with pytest.raises(IdNumberError):
        ids.validate_passport("X1234567", chinese=True)


def test_hk_macao_permit() -> None:
    assert ids.validate_hk_macao_permit("H12345678") == "H12345678"
    assert ids.validate_hk_macao_permit("m12345678") == "M12345678"
    assert ids.validate_hk_macao_permit("H1234567801") == "H1234567801"
    for bad in ("", "A12345678", "H1234567", "H123456789", "12345678", "H12345678X"):
        with pytest.raises(IdNumberError):
            ids.validate_hk_macao_permit(bad)


def test_taiwan_permit() -> None:
    assert ids.validate_taiwan_permit("12345678") == "12345678"
    for bad in ("", "1234567", "123456789", "T1234567"):
        with pytest.raises(IdNumberError):
            ids.validate_taiwan_permit(bad)


def test_birth_certificate() -> None:
    assert ids.validate_birth_certificate("A123456789") == "A123456789"
    assert ids.validate_birth_certificate("o123456789") == "O123456789"
    for bad in ("", "123456789", "A12345678", "A1234567890", "AB23456789"):
        with pytest.raises(IdNumberError):
            ids.validate_birth_certificate(bad)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

valid_ids = st.builds(
    _make,
    area=st.from_regex(r"[0-9]{6}", fullmatch=True),
    born=st.dates(min_value=date(1880, 1, 1), max_value=TODAY),
    seq=st.integers(0, 999),
)


@given(valid_ids)
def test_generated_numbers_validate(number: str) -> None:
    info = ids.validate_resident_id(number, today=TODAY)
    assert info.number == number
    assert f"{info.area_code}{info.birth_date:%Y%m%d}{info.sequence}{info.check}" == number
    assert info.sex == ("M" if int(number[14:17]) % 2 else "F")
    assert ids.validate_resident_id(number, sex=info.sex, birth_date=info.birth_date, today=TODAY) == info


@given(valid_ids, st.integers(0, 17), st.data())
@settings(max_examples=300)
def test_changing_any_one_character_breaks_validation(
    number: str, position: int, data: st.DataObject
) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    new = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(IdNumberError):
        ids.parse_resident_id(changed, today=TODAY)


@given(valid_ids, st.integers(0, 15))
def test_adjacent_transposition_is_detected(number: str, position: int) -> None:
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(IdNumberError):
        ids.parse_resident_id(swapped, today=TODAY)


@given(
    area=st.from_regex(r"[0-9]{6}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    seq=st.integers(0, 999),
)
def test_upgrade_matches_direct_construction(area: str, born: date, seq: int) -> None:
    fifteen = f"{area}{born:%y%m%d}{seq:03d}"
    assert ids.upgrade_15_to_18(fifteen) == _make(area, born, seq)


@given(st.text(max_size=30))
def test_mask_id_number_keeps_length_and_masks_the_middle(text: str) -> None:
    stripped = text.strip()
    masked = ids.mask_id_number(text)
    assert len(masked) == len(stripped)
    if len(stripped) >= 3:
        assert "*" in masked

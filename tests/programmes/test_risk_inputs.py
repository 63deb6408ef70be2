"""Where the China-PAR 'north' and 'urban' inputs come from: rule-set data read from the area code
(ALGORITHMS.md §1.2; RULES.md §9.1 committee ranges vs the NBS statistical codes)."""

from __future__ import annotations

from datetime import date

import pytest

from jiayi.core.rulesets import Param
from jiayi.org.models import AreaLevel
from jiayi.programmes import risk, selectors
from tests import factories as f


@pytest.mark.parametrize(
    ("area_code", "north"),
    [
        ("110105003001", True),  # 北京
        ("120101001001", True),  # 天津
        ("210102001001", True),  # 辽宁
        ("370102001001", True),  # 山东
        ("410102001001", True),  # 河南
        ("310104003001", False),  # 上海
        ("320508018001", False),  # 江苏（苏州）
        ("440106001001", False),  # 广东
        ("420102001001", False),  # 湖北 straddles the Yangtze: south by default
    ],
)
def test_china_par_north_by_area_code(area_code: str, north: bool) -> None:
    assert risk.china_par_north(area_code) is north


def test_north_mapping_is_unverified_rule_set_data_and_can_list_prefectures() -> None:
    rs = risk.CHINA_PAR_REGION
    assert (rs.programme, rs.code) == ("china-par-region", "yangtze-provinces")
    assert rs.unverified() == ("north_area_prefixes",)
    assert rs.param("north_area_prefixes").confidence == "NOT FOUND"
    local = rs.derive(
        code="jiangsu-prefectures",
        title="test",
        effective_from=date(2020, 1, 1),
        overrides={
            "north_area_prefixes": Param(
                (*rs.value("north_area_prefixes"), "3203"), "L", "test", verified=False, note="test"
            )
        },
    )
    assert risk.china_par_north("320303001001", local)  # 徐州, north of the Yangtze
    assert not risk.china_par_north("320508018001", local)  # 苏州


@pytest.mark.django_db
def test_urban_flag_reads_the_committee_scheme_in_use(district, settings):
    hrn_village = f.area("310104003101", "项目编码村", AreaLevel.COMMUNITY, district.street_a)
    nbs_village = f.area("310104003220", "统计编码村", AreaLevel.COMMUNITY, district.street_a)
    a = f.resident(inst=district.centre_a, area_=district.community_a, name="居甲", birth=date(1960, 1, 1))
    b = f.resident(inst=district.centre_a, area_=hrn_village, name="村乙", birth=date(1960, 1, 1))
    c = f.resident(
        inst=district.centre_a, area_=nbs_village, name="村丙", birth=date(1960, 1, 1), create_record=False
    )

    def urban(r) -> bool:
        return selectors.resident_risk(r, today=date(2025, 6, 1)).china_par_inputs["urban"]

    # Default (hrn-2011, RULES.md §9.1): 村委会 101-199.
    settings.JIAYI = {**settings.JIAYI, "RECORD_NUMBER_RULESET": "hrn-2011"}
    assert (urban(a), urban(b), urban(c)) == (True, False, True)
    # Real NBS area codes: 居委会 001-199, 村委会 200-399.
    settings.JIAYI = {**settings.JIAYI, "RECORD_NUMBER_RULESET": "nbs-statistical"}
    assert (urban(a), urban(b), urban(c)) == (True, True, False)
    assert selectors.resident_risk(a, today=date(2025, 6, 1)).china_par_inputs["north"] is False

"""The service-item vocabulary shared with the programmes."""

from __future__ import annotations

import pytest

from jiayi.contracts import catalogue
from jiayi.contracts.defaults import DEFAULT_PACKAGES

REQUIRED = {
    "ht_follow_up": "高血压随访",
    "dm_follow_up": "糖尿病随访",
    "annual_check": "年度健康体检",
    "home_visit": "上门随访",
    "bp_measurement": "血压",
    "glucose_test": "血糖",
    "health_education": "健康教育",
    "tcm_guidance": "中医",
    "medication_plan": "长处方",
    "consultation": "健康咨询",
    "elderly_check": "老年人",
    "maternal_visit": "孕产妇",
    "child_check": "儿童",
    "home_sickbed_round": "家庭病床",
}


@pytest.mark.parametrize("code,word", sorted(REQUIRED.items()))
def test_required_codes_have_chinese_names(code, word):
    assert word in catalogue.item(code).name
    assert catalogue.name_of(code) == catalogue.SERVICE_ITEMS[code].name


def test_unknown_codes():
    assert not catalogue.is_known("haircut")
    assert catalogue.name_of("haircut") == "haircut"
    with pytest.raises(KeyError):
        catalogue.item("haircut")


def test_default_packages_use_known_codes_and_balanced_fees():
    for p in DEFAULT_PACKAGES:
        assert all(catalogue.is_known(code) for code, _q, _o in p.items), p.code
        assert p.price == p.insurance_share + p.public_health_share + p.resident_share, p.code
    assert sum(1 for p in DEFAULT_PACKAGES if p.kind == "basic") == 1


def test_default_package_texts_are_translatable_and_installed_as_plain_text(db):
    from django.utils.functional import Promise
    from django.utils.translation import override

    from jiayi.contracts.models import ServicePackage
    from jiayi.contracts.services import packages_install_defaults

    assert all(isinstance(p.name, Promise) and isinstance(p.description, Promise) for p in DEFAULT_PACKAGES)
    with override("zh-hans"):
        packages_install_defaults()
    basic = ServicePackage.objects.get(code="basic", institution=None)
    assert basic.name == "基础服务包" and basic.description.startswith("基本医疗与基本公共卫生服务")

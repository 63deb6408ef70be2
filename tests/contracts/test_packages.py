"""Packages: default installation, composition by a centre, validation, visibility, updates."""

from __future__ import annotations

import pytest

from jiayi.contracts import selectors
from jiayi.contracts.models import ServicePackage
from jiayi.contracts.services import package_create, package_update, packages_install_defaults
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _items():
    return [
        {"service_code": "home_visit", "quantity": 4},
        {"service_code": "bp_measurement", "quantity": 4, "optional": True},
    ]


def test_defaults_install_once(district):
    first = packages_install_defaults()
    again = packages_install_defaults()
    assert [p.pk for p in first] == [p.pk for p in again]
    codes = {p.code for p in first}
    assert {"basic", "hypertension", "elderly_home", "maternal", "tcm", "home_sickbed"} <= codes
    assert all(p.demo_default for p in first)
    ht = next(p for p in first if p.code == "hypertension")
    assert ht.target_groups == ["hypertension"]
    assert ht.items.get(service_code="ht_follow_up").quantity == 4


def test_a_centre_composes_its_own_package(district):
    p = package_create(
        actor=district.manager_a.user,
        institution=district.centre_a,
        code="disabled_home",
        name="残疾人康复包",
        kind="personalised",
        items=_items(),
        price=100,
        insurance_share=50,
        public_health_share=50,
        resident_share=0,
        target_groups=["disabled"],
    )
    assert p.items.count() == 2
    assert p in selectors.package_list(district.doctor_a.user)
    assert p in selectors.package_list(district.station_doctor.user)  # offered below the centre too
    assert p not in selectors.package_list(district.doctor_b.user)


def test_package_validation(district):
    with pytest.raises(DomainValidationError) as e:
        package_create(
            actor=None,
            institution=district.centre_a,
            code="x",
            name="",
            kind="odd",
            items=[{"service_code": "haircut", "quantity": 1}, {"service_code": "home_visit", "quantity": 0}],
            price=100,
            insurance_share=10,
            public_health_share=10,
            resident_share=10,
            target_groups=["aliens"],
        )
    assert {"name", "kind", "target_groups", "items.0.service_code", "items.1.quantity"} <= set(e.value.errors)
    with pytest.raises(DomainValidationError) as e:
        package_create(
            actor=None,
            institution=district.centre_a,
            code="x",
            name="X",
            kind="basic",
            items=_items(),
            price=100,
            insurance_share=10,
            public_health_share=10,
            resident_share=10,
        )
    assert "price" in e.value.errors
    assert not ServicePackage.objects.exists()


def test_an_update_does_not_change_signed_contracts(district, basic):
    c = sign(district, district.resident_a, [basic])
    before = sorted(c.items.values_list("service_code", "quantity"))
    basic = package_update(
        actor=district.manager_a.user,
        package=basic,
        version=basic.version,
        items=[{"service_code": "consultation", "quantity": 12}],
        price=120,
    )
    assert list(basic.items.values_list("service_code", "quantity")) == [("consultation", 12)]
    assert sorted(c.items.values_list("service_code", "quantity")) == before
    assert c.contract_packages.get().price == 120
    with pytest.raises(ConcurrentEditError):
        package_update(actor=None, package=basic, version=basic.version - 1, name="新名")


def test_an_inactive_package_cannot_be_signed(district, basic):
    package_update(actor=None, package=basic, version=basic.version, active=False)
    basic.refresh_from_db()
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic])
    assert "package_ids" in e.value.errors


def test_packages_for_signing_marks_eligibility(district, packages, hypertensive):
    choices = {c.package.code: c for c in selectors.packages_for_signing(district.centre_a, hypertensive)}
    assert choices["hypertension"].eligible and choices["basic"].eligible
    assert not choices["maternal"].eligible and "孕产妇" in choices["maternal"].reason


def test_the_install_command(district):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("contracts_install_packages", "--institution", district.centre_a.code, stdout=out)
    assert "basic" in out.getvalue()
    assert ServicePackage.objects.filter(institution=district.centre_a).count() >= 8

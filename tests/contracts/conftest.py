"""Contract fixtures: default packages and a few residents in centre A's population."""

from __future__ import annotations

from datetime import date

import pytest

from jiayi.contracts import services
from jiayi.contracts.models import PackageKind, ServicePackage
from jiayi.residents.models import Relationship
from jiayi.residents.services import household_add_member, household_create, problem_add
from tests import factories as f


@pytest.fixture
def packages(district) -> dict[str, ServicePackage]:
    """The default packages installed district-wide, by code."""
    return {p.code: p for p in services.packages_install_defaults()}


@pytest.fixture
def basic(packages) -> ServicePackage:
    assert packages["basic"].kind == PackageKind.BASIC
    return packages["basic"]


@pytest.fixture
def hypertensive(district):
    """A hypertensive resident of centre A (tagged 'hypertension' through the record)."""
    r = f.resident(inst=district.centre_a, area_=district.community_a, name="高血压", sex="M", birth=date(1960, 2, 1))
    problem_add(actor=None, resident=r, name="原发性高血压", icd10="I10", diagnosed_on=date(2015, 1, 1))
    return r


@pytest.fixture
def household(district, hypertensive):
    """A household in centre A: the hypertensive head, his wife and their grandchild."""
    hh = household_create(actor=None, area=district.community_a, address="天平路1号", institution=district.centre_a)
    household_add_member(actor=None, household=hh, resident=hypertensive, relation_to_head=Relationship.HEAD)
    wife = f.resident(inst=district.centre_a, area_=district.community_a, name="王梅", sex="F", birth=date(1962, 5, 1))
    household_add_member(actor=None, household=hh, resident=wife, relation_to_head=Relationship.SPOUSE)
    kid = f.resident(inst=district.centre_a, area_=district.community_a, name="高小", sex="M", birth=date(2021, 6, 1))
    household_add_member(actor=None, household=hh, resident=kid, relation_to_head=Relationship.GRANDCHILD)
    hh.refresh_from_db()
    return hh


def sign(district, resident, packages, *, actor=None, team=None, doctor=None, **kw):
    """Sign with centre A's team and doctor by default."""
    return services.contract_sign(
        actor=actor or district.doctor_a.user,
        resident=resident,
        team=team or district.team_a,
        doctor=doctor or district.doctor_a,
        packages=packages,
        consent_method=kw.pop("consent_method", "handwritten"),
        **kw,
    )

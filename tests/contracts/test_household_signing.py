"""contract_sign_household: a whole household in one act, personalised packages to those they fit."""

from __future__ import annotations

import pytest

from jiayi.contracts.models import Contract, HouseholdSigning
from jiayi.contracts.services import contract_sign_household
from jiayi.core.errors import DomainValidationError
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _sign_household(district, household, packages, members=None, **kw):
    return contract_sign_household(
        actor=district.doctor_a.user,
        household=household,
        members=members if members is not None else list(household.members.order_by("pk")),
        team=district.team_a,
        doctor=district.doctor_a,
        packages=packages,
        consent_method=kw.pop("consent_method", "handwritten"),
        **kw,
    )


def test_it_signs_a_household_with_basic_plus_hypertension(district, packages, household, hypertensive):
    signing = _sign_household(district, household, [packages["basic"], packages["hypertension"]])
    contracts = {c.resident_id: c for c in signing.contracts.all()}
    assert len(contracts) == 3
    head = contracts[hypertensive.pk]
    assert set(head.packages.values_list("code", flat=True)) == {"basic", "hypertension"}
    others = [c for rid, c in contracts.items() if rid != hypertensive.pk]
    assert all(set(c.packages.values_list("code", flat=True)) == {"basic"} for c in others)
    # The head signs for everyone: the others are recorded as proxy signatures with the right relation.
    assert head.consent_method == "handwritten" and head.consent_signatory == hypertensive.name
    wife = next(c for c in others if c.resident.relation_to_head == "spouse")
    assert wife.consent_method == "proxy" and wife.consent_relation == "spouse"
    kid = next(c for c in others if c.resident.relation_to_head == "grandchild")
    assert kid.consent_relation == "grandparent"


def test_household_signing_is_all_or_nothing(district, packages, household, hypertensive):
    sign(district, hypertensive, [packages["basic"]])
    with pytest.raises(DomainValidationError) as e:
        _sign_household(district, household, [packages["basic"]])
    assert any(k.startswith("members.") and k.endswith("resident_id") for k in e.value.errors)
    assert Contract.objects.count() == 1
    assert not HouseholdSigning.objects.exists()


def test_a_package_that_fits_nobody_is_refused(district, packages, household, hypertensive):
    members = [m for m in household.members.all() if m.pk != hypertensive.pk]
    with pytest.raises(DomainValidationError) as e:
        _sign_household(district, household, [packages["basic"], packages["hypertension"]], members=members)
    assert "package_ids" in e.value.errors
    assert not Contract.objects.exists()


def test_members_must_belong_to_the_household(district, packages, household):
    with pytest.raises(DomainValidationError) as e:
        _sign_household(district, household, [packages["basic"]], members=[district.resident_a])
    assert "member_ids" in e.value.errors


def test_household_signing_checks_the_team_once(district, packages, household):
    with pytest.raises(DomainValidationError) as e:
        contract_sign_household(
            actor=district.doctor_a.user,
            household=household,
            members=list(household.members.all()),
            team=district.team_b,
            doctor=district.doctor_b,
            packages=[packages["basic"]],
            consent_method="handwritten",
        )
    assert "team_id" in e.value.errors

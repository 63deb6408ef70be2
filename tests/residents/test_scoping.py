"""Scope variants: the institution subtree (default) and the team-only scope (JIAYI_STAFF_SCOPE=team)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from jiayi.contracts import services as contract_services
from jiayi.residents.models import Resident

pytestmark = pytest.mark.django_db

TEAM_SCOPE = {"DOCTOR_LIST_SOFT_CAP": 2000, "STAFF_SCOPE": "team", "API_TOKEN_DAYS": 30}


def test_institution_scope_is_the_subtree(district):
    seen = set(Resident.objects.visible_to(district.doctor_a.user).values_list("pk", flat=True))
    assert seen == {district.resident_a.pk, district.resident_a1.pk}
    assert set(Resident.objects.visible_to(district.district_admin.user).values_list("pk", flat=True)) == {
        district.resident_a.pk, district.resident_a1.pk, district.resident_b.pk,
    }
    assert not Resident.objects.visible_to(None).exists()


def test_team_scope_shows_only_the_team_s_signed_residents(district):
    basic = {p.code: p for p in contract_services.packages_install_defaults()}["basic"]
    contract_services.contract_sign(
        actor=district.doctor_a.user, resident=district.resident_a, team=district.team_a, doctor=district.doctor_a,
        packages=[basic], consent_method="handwritten",
    )
    with override_settings(JIAYI=TEAM_SCOPE):
        seen = set(Resident.objects.visible_to(district.doctor_a.user).values_list("pk", flat=True))
        assert seen == {district.resident_a.pk}
        # managers keep the whole institution subtree
        assert Resident.objects.visible_to(district.manager_a.user).count() == 2


def test_team_scope_also_narrows_households(district, client):
    """Under team scope a household (address, members' names) was visible with no member in scope."""
    from django.urls import reverse

    from jiayi.residents import services
    from jiayi.residents.models import Household

    basic = {p.code: p for p in contract_services.packages_install_defaults()}["basic"]
    contract_services.contract_sign(
        actor=district.doctor_a.user, resident=district.resident_a, team=district.team_a, doctor=district.doctor_a,
        packages=[basic], consent_method="handwritten",
    )
    signed = services.household_create(
        actor=None, area=district.community_a, address="天平路1号", institution=district.centre_a
    )
    services.household_add_member(actor=None, household=signed, resident=district.resident_a, relation_to_head="head")
    unsigned = services.household_create(
        actor=None, area=district.community_a2, address="永嘉路2号", institution=district.centre_a
    )
    services.household_add_member(
        actor=None, household=unsigned, resident=district.resident_a1, relation_to_head="head"
    )
    with override_settings(JIAYI=TEAM_SCOPE):
        assert set(Household.objects.visible_to(district.nurse_a.user)) == {signed}
        assert set(Household.objects.visible_to(district.manager_a.user)) == {signed, unsigned}
        client.force_login(district.nurse_a.user)
        assert client.get(reverse("household_detail", args=[signed.pk])).status_code == 200
        assert client.get(reverse("household_detail", args=[unsigned.pk])).status_code == 404
    client.force_login(district.nurse_a.user)  # the institution scope (default) sees both
    assert client.get(reverse("household_detail", args=[unsigned.pk])).status_code == 200

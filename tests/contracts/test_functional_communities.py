"""Functional communities (employers, parks, schools): the list and create pages, scoped to the user's
institution subtree, and the service's checks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jiayi.contracts.models import FunctionalCommunity
from jiayi.contracts.services import functional_community_create
from jiayi.core.errors import DomainValidationError
from jiayi.org.models import InstitutionType
from tests import factories as f
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db

LIST = "contracts:communities"
NEW = "contracts:community_new"


def _login(client, district, persona):
    client.logout()
    if persona != "anonymous":
        client.force_login(district.user(persona))
    return client


def _fc(district, name, institution, area=None, kind="employer"):
    return functional_community_create(
        actor=None, name=name, kind=kind, area=area or district.community_a, institution=institution
    )


@pytest.fixture
def communities(district):
    return {
        "a": _fc(district, "天平路小学", district.centre_a, kind="school"),
        "a1": _fc(district, "永嘉科技园", district.station_a1, district.community_a2, kind="park"),
        "b": _fc(district, "湖南路街道办事处", district.centre_b, district.community_b),
    }


def _valid(district, **over):
    data = {
        "name": "徐汇区第一中学",
        "kind": "school",
        "institution_id": district.centre_a.pk,
        "area_code": district.community_a.code,
        "address": "天平路100号",
    }
    data.update(over)
    return data


# ---------------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------------


def test_the_list_asks_anonymous_users_to_log_in_and_hides_from_residents(client, district, communities):
    r = _login(client, district, "anonymous").get(reverse(LIST))
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert _login(client, district, "resident").get(reverse(LIST)).status_code == 404


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("doctor_a", {"a", "a1"}),  # the centre and its station
        ("station_doctor", {"a1"}),
        ("doctor_b", {"b"}),
        ("district_admin", {"a", "a1", "b"}),
        ("referral_desk", set()),
    ],
)
def test_the_list_shows_the_users_institution_subtree(client, district, communities, persona, expected):
    r = _login(client, district, persona).get(reverse(LIST))
    assert r.status_code == 200
    shown = {fc.pk for fc in r.context["page"].items}
    assert shown == {communities[k].pk for k in expected}
    html = r.content.decode()
    for k, fc in communities.items():
        assert (fc.name in html) == (k in expected)


def test_the_list_counts_contracts_signed_there_and_filters_by_kind(client, district, communities, basic):
    sign(
        district, district.resident_a, [basic], place_type="functional_community", functional_community=communities["a"]
    )
    r = _login(client, district, "doctor_a").get(reverse(LIST))
    counts = {fc.pk: fc.contracts_in_force for fc in r.context["page"].items}
    assert counts == {communities["a"].pk: 1, communities["a1"].pk: 0}
    r = client.get(reverse(LIST) + "?kind=park")
    assert [fc.pk for fc in r.context["page"].items] == [communities["a1"].pk]
    r = client.get(reverse(LIST) + "?kind=nonsense&page=x")
    assert r.status_code == 200 and len(r.context["page"].items) == 2


def test_the_list_links_the_create_page_for_writers_only(client, district):
    assert reverse(NEW) in _login(client, district, "doctor_a").get(reverse(LIST)).content.decode()
    assert reverse(NEW) not in _login(client, district, "auditor").get(reverse(LIST)).content.decode()
    team_page = _login(client, district, "doctor_a").get(reverse("contracts:team", args=[district.team_a.pk]))
    assert reverse(LIST) in team_page.content.decode()


# ---------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------


def test_the_create_page_asks_anonymous_users_to_log_in(client, district):
    r = _login(client, district, "anonymous").get(reverse(NEW))
    assert r.status_code == 302 and "/login/" in r["Location"]
    r = client.post(reverse(NEW), _valid(district))
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert not FunctionalCommunity.objects.exists()


@pytest.mark.parametrize("persona", ["auditor", "district_admin", "referral_desk"])
def test_roles_that_do_not_sign_get_403(client, district, persona):
    _login(client, district, persona)
    assert client.get(reverse(NEW)).status_code == 403
    assert client.post(reverse(NEW), _valid(district)).status_code == 403
    assert not FunctionalCommunity.objects.exists()


def test_residents_get_404(client, district):
    _login(client, district, "resident")
    assert client.get(reverse(NEW)).status_code == 404
    assert client.post(reverse(NEW), _valid(district)).status_code == 404
    assert not FunctionalCommunity.objects.exists()


def test_the_form_offers_only_the_users_institutions_and_areas(client, district):
    r = _login(client, district, "doctor_a").get(reverse(NEW))
    assert r.status_code == 200
    form = r.context["form"]
    assert set(form.fields["institution_id"].queryset) == {district.centre_a, district.station_a1}
    assert form["institution_id"].value() == district.centre_a.pk
    assert set(form.fields["area_code"].queryset) == {district.community_a, district.community_a2}
    r = _login(client, district, "station_doctor").get(reverse(NEW))
    assert set(r.context["form"].fields["institution_id"].queryset) == {district.station_a1}
    assert set(r.context["form"].fields["area_code"].queryset) == {district.community_a2}


def test_a_doctor_registers_a_school(client, district):
    r = _login(client, district, "doctor_a").post(reverse(NEW), _valid(district, institution_id=district.station_a1.pk))
    assert r.status_code == 302 and r["Location"] == reverse(LIST)
    fc = FunctionalCommunity.objects.get()
    assert (fc.name, fc.kind, fc.institution, fc.area, fc.address, fc.active) == (
        "徐汇区第一中学",
        "school",
        district.station_a1,
        district.community_a,
        "天平路100号",
        True,
    )
    assert fc.name in client.get(reverse(LIST)).content.decode()
    # It is now a place of signing on the sign form.
    sign_form = client.get(reverse("contracts:sign", args=[district.resident_a.pk])).context["form"]
    assert fc in sign_form.fields["functional_community_id"].queryset


def test_out_of_scope_institutions_and_areas_are_refused(client, district):
    _login(client, district, "doctor_a")
    r = client.post(reverse(NEW), _valid(district, institution_id=district.centre_b.pk))
    assert r.status_code == 422 and "institution_id" in r.context["form"].errors
    r = client.post(reverse(NEW), _valid(district, area_code=district.community_b.code))
    assert r.status_code == 422 and "area_code" in r.context["form"].errors
    assert not FunctionalCommunity.objects.exists()


def test_bad_input_gets_field_errors_and_stores_nothing(client, district):
    _login(client, district, "doctor_a")
    r = client.post(reverse(NEW), _valid(district, name="  ", kind="zoo", area_code="nope", address="路" * 301))
    assert r.status_code == 422
    assert {"name", "kind", "area_code", "address"} <= set(r.context["form"].errors)
    assert not FunctionalCommunity.objects.exists()


def test_a_second_community_of_the_same_name_is_refused(client, district):
    _login(client, district, "doctor_a")
    assert client.post(reverse(NEW), _valid(district)).status_code == 302
    r = client.post(reverse(NEW), _valid(district, address="另一个地址"))
    assert r.status_code == 422
    assert "同名" in r.context["form"].errors["name"][0]
    assert "另一个地址" in r.content.decode()  # the input stays on the page
    assert FunctionalCommunity.objects.count() == 1
    # The same name at another institution is another community.
    assert client.post(reverse(NEW), _valid(district, institution_id=district.station_a1.pk)).status_code == 302


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------


def test_an_elderly_care_home_is_an_institution_not_a_functional_community(district):
    home = f.institution("310104-Y01", "天平敬老院", InstitutionType.ELDERLY_CARE, district.community_a)
    with pytest.raises(DomainValidationError) as e:
        _fc(district, "天平敬老院", home)
    assert "institution_id" in e.value.errors
    assert not FunctionalCommunity.objects.exists()


def test_the_service_checks_name_kind_and_address(district):
    with pytest.raises(DomainValidationError) as e:
        functional_community_create(
            actor=None, name="", kind="zoo", area=district.community_a, institution=district.centre_a, address="x" * 301
        )
    assert {"name", "kind", "address"} <= set(e.value.errors)
    assert not FunctionalCommunity.objects.exists()


def test_a_single_community_is_preselected(client, district):
    form = _login(client, district, "station_doctor").get(reverse(NEW)).context["form"]
    assert form["area_code"].value() == district.community_a2.code
    assert form["institution_id"].value() == district.station_a1.pk

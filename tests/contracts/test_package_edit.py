"""The package edit page: who may edit (centre managers their centre's packages, district admins the
district-wide ones), field errors, the price = sum of shares rule, and optimistic concurrency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from jiayi.contracts import selectors
from jiayi.contracts.models import ServicePackage
from jiayi.contracts.services import package_create, package_update
from jiayi.core.models import AccessEvent
from jiayi.org.models import Role, StaffCategory
from tests import factories as f
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _login(client, district, persona):
    client.logout()
    if persona != "anonymous":
        client.force_login(district.user(persona))
    return client


def _package(district, institution, code="rehab", **over) -> ServicePackage:
    data = {
        "actor": None,
        "institution": institution,
        "code": code,
        "name": "康复包",
        "kind": "personalised",
        "items": [
            {"service_code": "rehab_guidance", "quantity": 6, "note": "每两月一次"},
            {"service_code": "home_visit", "quantity": 2, "optional": True},
        ],
        "price": 100,
        "insurance_share": 50,
        "public_health_share": 30,
        "resident_share": 20,
        "target_groups": ["disabled"],
        **over,
    }
    return package_create(**data)


@pytest.fixture
def centre_package(district) -> ServicePackage:
    return _package(district, district.centre_a)


def _url(p: ServicePackage) -> str:
    return reverse("contracts:package_edit", args=[p.pk])


def _post_data(p: ServicePackage, **over) -> dict:
    """What the page posts when nothing is changed: the package as the form shows it."""
    data = {
        "version": p.version,
        "name": p.name,
        "kind": p.kind,
        "description": p.description,
        "target_groups": list(p.target_groups),
        "price": str(p.price),
        "insurance_share": str(p.insurance_share),
        "public_health_share": str(p.public_health_share),
        "resident_share": str(p.resident_share),
        "period_months": p.period_months,
    }
    if p.active:
        data["active"] = "on"
    for it in p.items.all():
        data[f"qty_{it.service_code}"] = str(it.quantity)
        data[f"note_{it.service_code}"] = it.note
        if it.optional:
            data[f"opt_{it.service_code}"] = "1"
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _snapshot(p: ServicePackage) -> tuple:
    p = ServicePackage.objects.get(pk=p.pk)
    items = sorted(p.items.values_list("service_code", "quantity", "optional", "note"))
    return (p.version, p.name, p.price, p.insurance_share, p.resident_share, p.active, p.target_groups, items)


# ---------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, district, centre_package):
    r = _login(client, district, "anonymous").get(_url(centre_package))
    assert r.status_code == 302 and "/login/" in r["Location"]
    r = client.post(_url(centre_package), _post_data(centre_package, name="改名"))
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert ServicePackage.objects.get(pk=centre_package.pk).name == "康复包"


def test_the_centre_manager_opens_the_edit_page_prefilled(client, district, centre_package):
    r = _login(client, district, "manager_a").get(_url(centre_package))
    assert r.status_code == 200
    form = r.context["form"]
    assert form["name"].value() == "康复包" and form["version"].value() == centre_package.version
    assert "code" not in form.fields  # the code is fixed once created
    rows = {row.code: row for row in r.context["rows"]}
    assert rows["rehab_guidance"].quantity == "6" and rows["rehab_guidance"].note == "每两月一次"
    assert rows["home_visit"].optional and not rows["rehab_guidance"].optional
    assert rows["annual_check"].quantity == ""
    html = r.content.decode()
    assert 'name="opt_home_visit" value="1" checked' in html


@pytest.mark.parametrize("persona", ["doctor_a", "nurse_a", "ph_a", "station_doctor", "auditor", "district_admin"])
def test_staff_who_see_a_centre_package_but_may_not_edit_get_403(client, district, centre_package, persona):
    _login(client, district, persona)
    assert client.get(_url(centre_package)).status_code == 403
    assert client.post(_url(centre_package), _post_data(centre_package, name="改名")).status_code == 403
    assert ServicePackage.objects.get(pk=centre_package.pk).name == "康复包"


@pytest.mark.parametrize("persona", ["doctor_b", "referral_desk", "resident"])
def test_users_who_cannot_see_the_package_get_404(client, district, centre_package, persona):
    _login(client, district, persona)
    assert client.get(_url(centre_package)).status_code == 404
    assert client.post(_url(centre_package), _post_data(centre_package, name="改名")).status_code == 404
    assert ServicePackage.objects.get(pk=centre_package.pk).name == "康复包"


def test_another_centres_manager_gets_404(client, district, centre_package):
    manager_b = f.staff("manager_b", "钱主任", Role.CENTRE_MANAGER, district.centre_b, StaffCategory.ADMIN)
    client.force_login(manager_b.user)
    assert client.get(_url(centre_package)).status_code == 404
    assert client.get(reverse("contracts:package_edit", args=[999_999])).status_code == 404


def test_only_the_district_admin_edits_district_wide_packages(client, district, basic):
    for persona in ("manager_a", "doctor_a", "auditor"):
        assert _login(client, district, persona).get(_url(basic)).status_code == 403, persona
    # A package of the commission is district-wide too: the centre sees it, only the district edits it.
    commission_pkg = _package(district, district.commission, code="district_tcm")
    assert _login(client, district, "manager_a").get(_url(commission_pkg)).status_code == 403
    _login(client, district, "district_admin")
    assert client.get(_url(commission_pkg)).status_code == 200
    assert client.get(_url(basic)).status_code == 200
    r = client.post(_url(basic), _post_data(basic, name="基础服务包（2025版）", price="130", insurance_share="70"))
    assert r.status_code == 302 and r["Location"] == reverse("contracts:packages")
    basic.refresh_from_db()
    assert basic.name == "基础服务包（2025版）" and basic.price == Decimal("130") and not basic.demo_default


def test_a_centre_manager_edits_the_packages_of_the_centres_stations(client, district):
    station_pkg = _package(district, district.station_a1, code="station_rehab")
    assert _login(client, district, "manager_a").get(_url(station_pkg)).status_code == 200


def test_the_package_list_links_the_edit_page_where_allowed(client, district, basic, centre_package):
    html = _login(client, district, "manager_a").get(reverse("contracts:packages")).content.decode()
    assert _url(centre_package) in html and _url(basic) not in html
    html = _login(client, district, "district_admin").get(reverse("contracts:packages")).content.decode()
    assert _url(basic) in html and _url(centre_package) not in html
    html = _login(client, district, "doctor_a").get(reverse("contracts:packages")).content.decode()
    assert 'data-testid="edit-package"' not in html


# ---------------------------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------------------------


def test_the_manager_changes_items_groups_shares_period_and_active(client, district, centre_package):
    _login(client, district, "manager_a")
    data = _post_data(
        centre_package,
        name="残疾人康复包",
        kind="personalised",
        description="上门康复与护理",
        target_groups=["disabled", "elderly"],
        price="120.50",
        insurance_share="60",
        public_health_share="40.50",
        resident_share="20",
        period_months=6,
        active=None,  # unticked: the package is withdrawn from signing
        qty_home_visit="",  # left out
        qty_home_nursing="4",
        opt_home_nursing="1",
        note_home_nursing="换药",
        qty_rehab_guidance="8",
    )
    r = client.post(_url(centre_package), data)
    assert r.status_code == 302, r.content.decode()[:3000]
    p = ServicePackage.objects.get(pk=centre_package.pk)
    assert p.version == centre_package.version + 1
    assert (p.name, p.description, p.period_months, p.active) == ("残疾人康复包", "上门康复与护理", 6, False)
    assert p.target_groups == ["disabled", "elderly"]
    assert (p.price, p.insurance_share, p.public_health_share, p.resident_share) == (
        Decimal("120.50"),
        Decimal("60.00"),
        Decimal("40.50"),
        Decimal("20.00"),
    )
    assert sorted(p.items.values_list("service_code", "quantity", "optional", "note")) == [
        ("home_nursing", 4, True, "换药"),
        ("rehab_guidance", 8, False, "每两月一次"),
    ]
    assert AccessEvent.objects.filter(
        action="update", object_type="contracts.servicepackage", object_id=str(p.pk)
    ).exists()
    assert p not in selectors.package_list(district.doctor_a.user, active_only=True)


def test_saving_keeps_signed_contracts_as_they_were(client, district, basic):
    c = sign(district, district.resident_a, [basic])
    before = sorted(c.items.values_list("service_code", "quantity"))
    _login(client, district, "district_admin")
    r = client.post(_url(basic), _post_data(basic, qty_consultation="12"))
    assert r.status_code == 302
    assert sorted(c.items.values_list("service_code", "quantity")) == before


# ---------------------------------------------------------------------------------------------
# Bad input: field-level messages, nothing stored
# ---------------------------------------------------------------------------------------------


def test_shares_that_do_not_add_up_are_a_price_field_error(client, district, centre_package):
    before = _snapshot(centre_package)
    _login(client, district, "manager_a")
    r = client.post(_url(centre_package), _post_data(centre_package, price="100", resident_share="0", name="新名"))
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert list(errors) == ["price"]
    assert "三项合计80.00元" in errors["price"][0] and "相差20.00元" in errors["price"][0]
    html = r.content.decode()
    assert "相差20.00元" in html and 'value="新名"' in html  # the user's input stays on the page
    assert _snapshot(centre_package) == before


def test_field_errors_for_each_bad_field(client, district, centre_package):
    before = _snapshot(centre_package)
    _login(client, district, "manager_a")
    r = client.post(
        _url(centre_package),
        _post_data(
            centre_package,
            name="",
            kind="odd",
            target_groups=["aliens"],
            insurance_share="-5",
            period_months="40",
            public_health_share="abc",
        ),
    )
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert {"name", "kind", "target_groups", "insurance_share", "public_health_share", "period_months"} <= set(errors)
    assert _snapshot(centre_package) == before


def test_item_errors_are_shown_on_their_rows(client, district, centre_package):
    before = _snapshot(centre_package)
    _login(client, district, "manager_a")
    r = client.post(
        _url(centre_package),
        _post_data(centre_package, qty_home_visit="0", qty_annual_check="两次", qty_tb_follow_up="2"),
    )
    assert r.status_code == 422
    form = r.context["form"]
    assert set(form.item_errors) == {"home_visit", "annual_check"}
    rows = {row.code: row for row in r.context["rows"]}
    assert (
        rows["home_visit"].errors and rows["annual_check"].quantity == "两次" and rows["tb_follow_up"].quantity == "2"
    )
    assert form.non_field_errors()  # one summary at the top, the details on the rows
    assert _snapshot(centre_package) == before


def test_a_package_without_items_is_refused(client, district, centre_package):
    before = _snapshot(centre_package)
    _login(client, district, "manager_a")
    r = client.post(_url(centre_package), _post_data(centre_package, qty_home_visit="", qty_rehab_guidance=""))
    assert r.status_code == 422
    assert r.context["form"].items_errors
    assert "服务包至少包含一个服务项目" in r.content.decode()
    assert _snapshot(centre_package) == before


def test_a_missing_version_is_a_bad_request_not_a_500(client, district, centre_package):
    before = _snapshot(centre_package)
    _login(client, district, "manager_a")
    r = client.post(_url(centre_package), _post_data(centre_package, version="", name="新名"))
    assert r.status_code == 422
    assert _snapshot(centre_package) == before


# ---------------------------------------------------------------------------------------------
# Concurrent edits
# ---------------------------------------------------------------------------------------------


def test_a_concurrent_edit_is_detected_and_the_input_kept(client, district, centre_package):
    _login(client, district, "manager_a")
    page = client.get(_url(centre_package))
    read_version = page.context["form"]["version"].value()
    # Someone else saves first.
    other = package_update(
        actor=district.manager_a.user,
        package=centre_package,
        version=read_version,
        name="他人改的名字",
        price=110,
        insurance_share=60,
    )
    mine = _post_data(centre_package, version=read_version, name="我的名字", qty_annual_check="1")
    r = client.post(_url(centre_package), mine)
    assert r.status_code == 409
    html = r.content.decode()
    assert 'data-testid="conflict"' in html and "已被他人修改" in html
    assert "他人改的名字" in html  # what the other person saved is shown
    form = r.context["form"]
    assert form["name"].value() == "我的名字"  # the user's input is kept
    assert {row.code: row.quantity for row in r.context["rows"]}["annual_check"] == "1"
    assert form["version"].value() == str(other.version)  # saving again is a deliberate overwrite
    saved = ServicePackage.objects.get(pk=centre_package.pk)
    assert (saved.name, saved.version) == ("他人改的名字", other.version)
    assert not saved.items.filter(service_code="annual_check").exists()
    # Saving again on purpose replaces the other change.
    r = client.post(_url(centre_package), {**mine, "version": form["version"].value()})
    assert r.status_code == 302
    saved.refresh_from_db()
    assert saved.name == "我的名字" and saved.items.filter(service_code="annual_check").exists()


# ---------------------------------------------------------------------------------------------
# The API follows the same rule
# ---------------------------------------------------------------------------------------------


def _api(api_client, district, persona):
    api_client.login(district.user(persona))
    return api_client


def test_the_api_applies_the_same_edit_rule(api_client, district, centre_package, basic):
    url = f"/api/v1/packages/{centre_package.pk}"
    body = {"version": centre_package.version, "name": "改名"}
    assert _api(api_client, district, "district_admin").patch(url, body).status_code == 403
    assert _api(api_client, district, "doctor_a").patch(url, body).status_code == 403
    assert _api(api_client, district, "doctor_b").patch(url, body).status_code == 404
    assert _api(api_client, district, "manager_a").patch(url, body).status_code == 200
    r = _api(api_client, district, "district_admin").patch(f"/api/v1/packages/{basic.pk}", {"version": basic.version})
    assert r.status_code == 200


def test_the_new_package_page_keeps_optional_items_notes_and_row_errors(client, district):
    _login(client, district, "manager_a")
    data = {
        "code": "home_rehab",
        "name": "居家康复包",
        "kind": "personalised",
        "price": "90",
        "insurance_share": "50",
        "public_health_share": "40",
        "resident_share": "0",
        "period_months": 12,
        "qty_rehab_guidance": "4",
        "opt_rehab_guidance": "1",
        "note_rehab_guidance": "季度一次",
        "qty_home_visit": "-1",
    }
    r = client.post(reverse("contracts:package_new"), data)
    assert r.status_code == 422 and set(r.context["form"].item_errors) == {"home_visit"}
    rows = {row.code: row for row in r.context["rows"]}
    assert rows["rehab_guidance"].optional and rows["rehab_guidance"].note == "季度一次"
    assert not ServicePackage.objects.filter(code="home_rehab").exists()
    r = client.post(reverse("contracts:package_new"), {**data, "qty_home_visit": ""})
    assert r.status_code == 302
    p = ServicePackage.objects.get(code="home_rehab")
    assert p.institution == district.centre_a
    assert list(p.items.values_list("service_code", "quantity", "optional", "note")) == [
        ("rehab_guidance", 4, True, "季度一次")
    ]

"""Access matrix for every programme endpoint and page: in scope, out of scope (404), anonymous
(401 / login), read-only roles (403 on writes), a resident's own account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jiayi.programmes import services
from jiayi.programmes.hypertension import screening as ht_screening
from jiayi.programmes.models import Referral
from tests.programmes.conftest import days_ago, ht_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(district, ht_enrolment):
    """resident_a (centre A) enrolled with a referred visit and a raised screening case for resident_a1."""
    visit = services.visit_record(
        actor=district.doctor_a.user, enrolment=ht_enrolment, visit_date=days_ago(3), form=ht_form(sbp=190, dbp=100)
    )
    out = ht_screening.screening_record(
        actor=district.station_doctor.user, resident=district.resident_a1, sbp=150, dbp=95
    )
    return {
        "enrolment": ht_enrolment,
        "visit": visit,
        "referral": Referral.objects.get(visit=visit),
        "case": out.case,
        "resident": district.resident_a,
    }


# (method, path builder, body builder, status for an in-scope writer)
API = [
    ("get", lambda w, d: f"/api/v1/programmes/enrolments/{w['enrolment'].pk}", None, 200),
    ("get", lambda w, d: f"/api/v1/programmes/enrolments?resident_id={d.resident_a.pk}", None, 200),
    (
        "patch",
        lambda w, d: f"/api/v1/programmes/enrolments/{w['enrolment'].pk}",
        lambda w, d: {"version": w["enrolment"].version},
        200,
    ),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/enrolments/{w['enrolment'].pk}/end",
        lambda w, d: {"version": w["enrolment"].version, "end_date": days_ago(0).isoformat(), "reason": "other"},
        200,
    ),
    ("get", lambda w, d: f"/api/v1/programmes/enrolments/{w['enrolment'].pk}/medication-plan", None, 204),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/enrolments/{w['enrolment'].pk}/medication-plan",
        lambda w, d: {
            "lines": [{"drug": "氨氯地平", "dose": 5, "dose_unit": "mg", "times_per_day": 1, "duration_days": 28}]
        },
        201,
    ),
    (
        "post",
        lambda w, d: "/api/v1/programmes/diabetes/enrolments",
        lambda w, d: {"resident_id": d.resident_a.pk, "start_date": days_ago(1).isoformat()},
        201,
    ),
    (
        "post",
        lambda w, d: "/api/v1/programmes/hypertension/visits",
        lambda w, d: {"resident_id": d.resident_a.pk, "visit_date": days_ago(0).isoformat(), "form": ht_form()},
        201,
    ),
    ("get", lambda w, d: f"/api/v1/programmes/hypertension/visits?resident_id={d.resident_a.pk}", None, 200),
    ("get", lambda w, d: f"/api/v1/programmes/visits/{w['visit'].pk}", None, 200),
    (
        "patch",
        lambda w, d: f"/api/v1/programmes/visits/{w['visit'].pk}",
        lambda w, d: {"version": w["visit"].version, "form": ht_form(sbp=186, dbp=100)},
        200,
    ),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/referrals/{w['referral'].pk}/return",
        lambda w, d: {"returned_on": days_ago(0).isoformat()},
        200,
    ),
    ("get", lambda w, d: f"/api/v1/residents/{d.resident_a.pk}/risk", None, 200),
    (
        "post",
        lambda w, d: "/api/v1/programmes/screening/measurements",
        lambda w, d: {"resident_id": d.resident_a1.pk, "sbp": 152, "dbp": 96},
        201,
    ),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/screening/cases/{w['case'].pk}/refer",
        lambda w, d: {"version": w["case"].version},
        201,
    ),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/screening/cases/{w['case'].pk}/rule-out",
        lambda w, d: {"version": w["case"].version},
        200,
    ),
    (
        "post",
        lambda w, d: f"/api/v1/programmes/screening/cases/{w['case'].pk}/confirm",
        lambda w, d: {"version": w["case"].version},
        422,
    ),  # still re-checking: not confirmable yet
]
# Lists without a single object: in scope for staff, 401 anonymous, 403 for a resident's own account.
LISTS = [
    "/api/v1/worklists/counts",
    "/api/v1/worklists/overdue",
    "/api/v1/worklists/due_week",
    "/api/v1/worklists/referrals",
    "/api/v1/worklists/all_open",
    "/api/v1/worklists/awaiting-return",
    "/api/v1/programmes/screening/candidates",
    "/api/v1/programmes/screening/cases",
    "/api/v1/programmes/hypertension/schema",
]


def _call(api_client, method, path, body):
    if method == "get":
        return api_client.get(path)
    return getattr(api_client, method)(path, body)


@pytest.mark.parametrize(("method", "path", "body", "ok"), API)
def test_api_in_scope(api_client, district, world, method, path, body, ok):
    api_client.login(district.doctor_a.user)
    r = _call(api_client, method, path(world, district), body(world, district) if body else None)
    assert r.status_code == ok, r.content


@pytest.mark.parametrize(("method", "path", "body", "ok"), API)
def test_api_out_of_scope_is_404(api_client, district, world, method, path, body, ok):
    api_client.login(district.doctor_b.user)
    r = _call(api_client, method, path(world, district), body(world, district) if body else None)
    assert r.status_code == 404, r.content


@pytest.mark.parametrize(("method", "path", "body", "ok"), API)
def test_api_anonymous_is_401(api_client, district, world, method, path, body, ok):
    r = _call(api_client, method, path(world, district), body(world, district) if body else None)
    assert r.status_code == 401


@pytest.mark.parametrize(("method", "path", "body", "ok"), [a for a in API if a[0] != "get"])
def test_api_read_only_roles_cannot_write(api_client, district, world, method, path, body, ok):
    api_client.login(district.auditor.user)
    r = _call(api_client, method, path(world, district), body(world, district) if body else None)
    assert r.status_code == 403, r.content


@pytest.mark.parametrize("path", LISTS)
def test_api_lists(api_client, district, world, path):
    api_client.login(district.doctor_a.user)
    assert api_client.get(path).status_code == 200
    api_client.login(district.resident_user)
    assert api_client.get(path).status_code == 403
    api_client.login(None)
    assert api_client.get(path).status_code == 401


def test_api_lists_show_nothing_out_of_scope(api_client, district, world):
    api_client.login(district.doctor_b.user)
    assert api_client.get("/api/v1/worklists/overdue", scope="institution").json()["items"] == []
    assert api_client.get("/api/v1/worklists/awaiting-return", scope="institution").json() == []
    assert api_client.get("/api/v1/programmes/screening/cases").json() == []
    # The programme numbers are stored indicator values of units: another centre's unit is a 404.
    assert api_client.get(f"/api/v1/indicators/units/centre/{district.centre_a.pk}", group="hypertension"
                          ).status_code == 404
    team = api_client.get("/api/v1/worklists/overdue", team_id=district.team_a.pk)
    assert team.status_code == 404


def test_api_forecast_access(api_client, district, world):
    url = "/api/v1/programmes/forecast"
    api_client.login(district.doctor_a.user)
    assert api_client.get(url, institution_id=district.centre_a.pk).status_code == 200
    assert api_client.get(url, institution_id=district.centre_b.pk).status_code == 404
    api_client.login(None)
    assert api_client.get(url).status_code == 401


def test_resident_sees_own_risk_only(api_client, district, world):
    api_client.login(district.resident_user)
    assert api_client.get(f"/api/v1/residents/{district.resident_a.pk}/risk").status_code == 200
    assert api_client.get(f"/api/v1/residents/{district.resident_b.pk}/risk").status_code == 404


# Pages: (url name, args builder, method)
PAGES = [
    ("programmes:visit_new", lambda w, d: ["hypertension", d.resident_a.pk]),
    ("programmes:enrol", lambda w, d: ["diabetes", d.resident_a.pk]),
    ("programmes:resident", lambda w, d: [d.resident_a.pk]),
    ("programmes:visit_detail", lambda w, d: [w["visit"].pk]),
    ("programmes:visit_edit", lambda w, d: [w["visit"].pk]),
    ("programmes:enrolment_end", lambda w, d: [w["enrolment"].pk]),
    ("programmes:plan", lambda w, d: [w["enrolment"].pk]),
    ("programmes:hypertension:screening_measure", lambda w, d: [d.resident_a1.pk]),
]
LIST_PAGES = ["programmes:worklist", "programmes:hypertension:screening", "programmes:forecast"]
POST_PAGES = [
    ("programmes:visit_preview", lambda w, d: ["hypertension", d.resident_a.pk], {"sbp": "150", "dbp": "90"}),
    ("programmes:referral_return", lambda w, d: [w["referral"].pk], {"returned_on": days_ago(0).isoformat()}),
    ("programmes:screening_case_action", lambda w, d: [w["case"].pk, "rule_out"], {"version": "1"}),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_in_scope_out_of_scope_anonymous(client, district, world, name, args):
    url = reverse(name, args=args(world, district))
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    client.force_login(district.doctor_a.user)
    assert client.get(url).status_code == 200
    client.force_login(district.doctor_b.user)
    assert client.get(url).status_code == 404
    client.force_login(district.resident_user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", [*LIST_PAGES, "programmes:register"])
def test_list_pages(client, district, world, name):
    url = reverse(name, args=["hypertension"]) if name == "programmes:register" else reverse(name)
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    client.force_login(district.doctor_a.user)
    assert client.get(url).status_code == 200
    client.force_login(district.doctor_b.user)
    page = client.get(url)
    assert page.status_code == 200 and "张三" not in page.content.decode()
    client.force_login(district.resident_user)
    assert client.get(url).status_code == 404


def test_the_numbers_page_is_the_indicator_group_page(client, district, world):
    """``programmes:numbers`` leads to the programme's indicators for the user's own unit."""
    url = reverse("programmes:numbers")
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    client.force_login(district.doctor_a.user)
    page = client.get(url, follow=True)
    assert page.status_code == 200 and page.context["unit"].id == district.centre_a.pk
    client.force_login(district.doctor_b.user)
    page = client.get(url, follow=True)
    assert page.status_code == 200 and page.context["unit"].id == district.centre_b.pk
    assert "张三" not in page.content.decode()
    assert client.get(url, {"level": "centre", "unit_id": district.centre_a.pk}, follow=True).status_code == 404
    client.force_login(district.resident_user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("name", "args", "data"), POST_PAGES)
def test_post_pages(client, district, world, name, args, data):
    url = reverse(name, args=args(world, district))
    r = client.post(url, data)
    assert r.status_code == 302 and "/login/" in r["Location"]
    client.force_login(district.doctor_b.user)
    assert client.post(url, data).status_code == 404
    client.force_login(district.auditor.user)
    assert client.post(url, data).status_code in (403, 200)  # preview is read-only (200), writes are 403
    client.force_login(district.doctor_a.user)
    assert client.post(url, data).status_code in (200, 302)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        p
        for p in PAGES
        if p[0] in ("programmes:visit_new", "programmes:enrol", "programmes:visit_edit", "programmes:enrolment_end")
    ],
)
def test_read_only_roles_cannot_open_write_pages_for_posting(client, district, world, name, args):
    client.force_login(district.auditor.user)
    r = client.post(reverse(name, args=args(world, district)), {})
    assert r.status_code == 403

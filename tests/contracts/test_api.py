"""The contracts API: sign, renew, terminate, list, read, deliveries, satisfaction, numbers, packages.

Access matrix for every endpoint: in scope (2xx), out of scope (404), anonymous (401), and read-only or
resident accounts where they may not write (403).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiayi.contracts.models import Contract, ServicePackage
from jiayi.core.models import AccessEvent
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _sign_payload(resident, packages, **over):
    data = {"resident_id": resident.pk, "package_ids": [p.pk for p in packages], "consent_method": "handwritten"}
    data.update(over)
    return data


def _as(api_client, district, persona):
    api_client.login(district.user(persona))
    return api_client


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


def test_doctor_signs_through_the_api(api_client, district, packages, hypertensive):
    api = _as(api_client, district, "doctor_a")
    r = api.post("/api/v1/contracts", _sign_payload(hypertensive, [packages["basic"], packages["hypertension"]]))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["team_id"] == district.team_a.pk and body["doctor_id"] == district.doctor_a.pk
    assert body["effective_status"] == "active"
    assert {p["code"] for p in body["packages"]} == {"basic", "hypertension"}
    assert any(i["service_code"] == "ht_follow_up" and i["quantity"] == 4 for i in body["items"])
    assert body["fees"]["total"] == "270.00"


@pytest.mark.parametrize(
    "over,field",
    [
        ({"end_date": "2020-01-01", "start_date": "2020-06-01"}, "end_date"),
        ({"consent_method": "telepathy"}, "consent_method"),
        ({"package_ids": []}, "package_ids"),
        ({"package_ids": [999999]}, "package_ids"),
        ({"team_id": 999999}, "team_id"),
        ({"waiver_reason": "other"}, "waiver_note"),
        ({"place_type": "functional_community"}, "functional_community_id"),
    ],
)
def test_bad_sign_input_answers_422_with_the_field(api_client, district, basic, over, field):
    api = _as(api_client, district, "doctor_a")
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a, [basic], **over))
    assert r.status_code == 422, r.content
    assert any(d["loc"][-1] == field for d in r.json()["detail"]), r.json()
    assert not Contract.objects.exists()


def test_second_active_contract_and_wrong_group_are_refused(api_client, district, packages):
    api = _as(api_client, district, "doctor_a")
    assert api.post("/api/v1/contracts", _sign_payload(district.resident_a, [packages["basic"]])).status_code == 201
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a, [packages["basic"]]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "resident_id"]
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a1, [packages["basic"], packages["maternal"]]))
    assert r.status_code == 422 and "孕产妇" in r.json()["detail"][0]["msg"]
    assert Contract.objects.count() == 1


def test_signing_a_deceased_resident_is_refused(api_client, district, basic):
    api = _as(api_client, district, "doctor_a")
    r = district.resident_a
    rr = api.patch(
        f"/api/v1/residents/{r.pk}", {"version": r.version, "residence_status": "deceased", "death_date": "2024-01-01"}
    )
    assert rr.status_code == 200, rr.content
    res = api.post("/api/v1/contracts", _sign_payload(r, [basic]))
    assert res.status_code == 422 and "死亡" in res.json()["detail"][0]["msg"]


def test_sign_access(api_client, district, basic):
    payload = _sign_payload(district.resident_a, [basic])
    api_client.login(None)
    assert api_client.post("/api/v1/contracts", payload).status_code == 401
    assert _as(api_client, district, "doctor_b").post("/api/v1/contracts", payload).status_code == 404
    assert _as(api_client, district, "auditor").post("/api/v1/contracts", payload).status_code == 403
    assert _as(api_client, district, "resident").post("/api/v1/contracts", payload).status_code == 403
    assert not Contract.objects.exists()


def test_household_signing_through_the_api(api_client, district, packages, household, hypertensive):
    api = _as(api_client, district, "doctor_a")
    payload = {
        "household_id": household.pk,
        "package_ids": [packages["basic"].pk, packages["hypertension"].pk],
        "consent_method": "handwritten",
    }
    r = api.post("/api/v1/contracts/households", payload)
    assert r.status_code == 201, r.content
    contracts = r.json()["contracts"]
    assert len(contracts) == 3
    head = next(c for c in contracts if c["resident_id"] == hypertensive.pk)
    assert {p["code"] for p in head["packages"]} == {"basic", "hypertension"}
    assert _as(api_client, district, "doctor_b").post("/api/v1/contracts/households", payload).status_code == 404
    api_client.login(None)
    assert api_client.post("/api/v1/contracts/households", payload).status_code == 401


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def test_read_and_list_access(api_client, district, basic):
    c = sign(district, district.resident_a, [basic])
    other = sign(
        district,
        district.resident_b,
        [basic],
        actor=district.doctor_b.user,
        team=district.team_b,
        doctor=district.doctor_b,
    )
    api = _as(api_client, district, "doctor_a")
    assert api.get(f"/api/v1/contracts/{c.pk}").status_code == 200
    assert api.get(f"/api/v1/contracts/{other.pk}").status_code == 404  # another centre's contract
    listed = api.get("/api/v1/contracts").json()["items"]
    assert [i["id"] for i in listed] == [c.pk]
    assert "id_number" not in str(listed)
    assert AccessEvent.objects.filter(action="view", object_type="contracts.contract", object_id=str(c.pk)).exists()
    assert AccessEvent.objects.filter(action="search", object_type="contracts.contract").exists()
    # The resident sees their own contract only.
    mine = _as(api_client, district, "resident")
    assert mine.get(f"/api/v1/contracts/{c.pk}").status_code == 200
    assert [i["id"] for i in mine.get("/api/v1/contracts").json()["items"]] == [c.pk]
    assert _as(api_client, district, "district_admin").get(f"/api/v1/contracts/{other.pk}").status_code == 200
    api_client.login(None)
    assert api_client.get(f"/api/v1/contracts/{c.pk}").status_code == 401
    assert api_client.get("/api/v1/contracts").status_code == 401


def test_list_filters(api_client, district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=340))
    sign(district, district.resident_a1, [basic])
    api = _as(api_client, district, "doctor_a")
    assert [i["id"] for i in api.get("/api/v1/contracts", expiring_within=30).json()["items"]] == [c.pk]
    assert [i["id"] for i in api.get("/api/v1/contracts", resident_id=district.resident_a.pk).json()["items"]] == [c.pk]
    assert len(api.get("/api/v1/contracts", team_id=district.team_a.pk, status="active").json()["items"]) == 2
    assert api.get("/api/v1/contracts", team_id=district.team_b.pk).status_code == 404
    assert api.get("/api/v1/contracts", resident_id=district.resident_b.pk).status_code == 404
    assert api.get("/api/v1/contracts", status="bogus").status_code == 422


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------


def test_renew_and_terminate_through_the_api(api_client, district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=350))
    api = _as(api_client, district, "doctor_a")
    r = api.post(f"/api/v1/contracts/{old.pk}/renew", {"consent_method": "electronic"})
    assert r.status_code == 201, r.content
    new = r.json()
    assert new["renewal_of_id"] == old.pk and new["effective_status"] == "pending"
    r = api.post(f"/api/v1/contracts/{old.pk}/renew", {"consent_method": "electronic"})
    assert r.status_code == 422
    r = api.post(f"/api/v1/contracts/{new['id']}/terminate", {"version": new["version"], "reason": "recorded_in_error"})
    assert r.status_code == 200, r.content
    assert r.json()["effective_status"] == "terminated"
    r = api.post(f"/api/v1/contracts/{new['id']}/terminate", {"version": new["version"], "reason": "other"})
    assert r.status_code == 422


def test_terminate_conflict_answers_409(api_client, district, basic):
    c = sign(district, district.resident_a, [basic])
    api = _as(api_client, district, "doctor_a")
    r = api.post(f"/api/v1/contracts/{c.pk}/terminate", {"version": c.version + 1, "reason": "moved_out"})
    assert r.status_code == 409


def test_lifecycle_access(api_client, district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=350))
    for persona, code in (("doctor_b", 404), ("auditor", 403), ("resident", 403)):
        api = _as(api_client, district, persona)
        assert api.post(f"/api/v1/contracts/{c.pk}/renew", {"consent_method": "handwritten"}).status_code == code
        assert (
            api.post(f"/api/v1/contracts/{c.pk}/terminate", {"version": 1, "reason": "moved_out"}).status_code == code
        )
    api_client.login(None)
    assert api_client.post(f"/api/v1/contracts/{c.pk}/renew", {"consent_method": "x"}).status_code == 401
    assert api_client.post(f"/api/v1/contracts/{c.pk}/terminate", {"version": 1, "reason": "x"}).status_code == 401


# ---------------------------------------------------------------------------------------------
# Fulfilment and satisfaction
# ---------------------------------------------------------------------------------------------


def test_deliveries_through_the_api(api_client, district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=5))
    api = _as(api_client, district, "nurse_a")
    r = api.post(
        f"/api/v1/contracts/{c.pk}/deliveries", {"service_code": "consultation", "delivered_on": _today().isoformat()}
    )
    assert r.status_code == 201, r.content
    d = r.json()
    body = api.get(f"/api/v1/contracts/{c.pk}").json()
    assert next(i for i in body["items"] if i["service_code"] == "consultation")["delivered"] == 1
    assert [x["id"] for x in api.get(f"/api/v1/contracts/{c.pk}/deliveries").json()] == [d["id"]]
    r = api.post(
        f"/api/v1/contracts/{c.pk}/deliveries", {"service_code": "ht_follow_up", "delivered_on": _today().isoformat()}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "service_code"]
    r = api.post(f"/api/v1/contracts/{c.pk}/deliveries/{d['id']}/revoke", {"reason": "录错"})
    assert r.status_code == 200 and r.json()["revoked_at"]
    # Out of scope, read-only and anonymous.
    assert _as(api_client, district, "doctor_b").get(f"/api/v1/contracts/{c.pk}/deliveries").status_code == 404
    assert (
        _as(api_client, district, "doctor_b")
        .post(f"/api/v1/contracts/{c.pk}/deliveries", {"service_code": "consultation", "delivered_on": "2025-01-01"})
        .status_code
        == 404
    )
    assert (
        _as(api_client, district, "auditor")
        .post(f"/api/v1/contracts/{c.pk}/deliveries", {"service_code": "consultation", "delivered_on": "2025-01-01"})
        .status_code
        == 403
    )
    api_client.login(None)
    assert api_client.get(f"/api/v1/contracts/{c.pk}/deliveries").status_code == 401


def test_satisfaction_through_the_api(api_client, district, basic):
    c = sign(district, district.resident_a, [basic])
    survey = {
        "surveyed_on": _today().isoformat(),
        "method": "phone",
        "overall_score": 5,
        "attitude_score": 5,
        "access_score": 4,
        "skill_score": 4,
        "fulfilment_score": 4,
    }
    api = _as(api_client, district, "nurse_a")
    r = api_client_put(api_client, f"/api/v1/contracts/{c.pk}/satisfaction", survey)
    assert r.status_code == 200, r.content
    again = api_client_put(api_client, f"/api/v1/contracts/{c.pk}/satisfaction", survey)
    assert again.status_code == 409
    fixed = api_client_put(
        api_client,
        f"/api/v1/contracts/{c.pk}/satisfaction",
        {**survey, "overall_score": 3, "version": r.json()["version"]},
    )
    assert fixed.status_code == 200 and fixed.json()["overall_score"] == 3
    bad = api_client_put(api_client, f"/api/v1/contracts/{c.pk}/satisfaction", {**survey, "overall_score": 9})
    assert bad.status_code == 422
    assert api.get(f"/api/v1/contracts/{c.pk}").json()["satisfaction"]["overall_score"] == 3
    api_client.login(district.user("doctor_b"))
    assert api_client_put(api_client, f"/api/v1/contracts/{c.pk}/satisfaction", survey).status_code == 404
    api_client.login(None)
    assert api_client_put(api_client, f"/api/v1/contracts/{c.pk}/satisfaction", survey).status_code == 401


def api_client_put(api_client, url, data):
    from django.test import Client

    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_client.token}"} if api_client.token else {}
    return Client().put(url, data, content_type="application/json", **headers)


# ---------------------------------------------------------------------------------------------
# Numbers, work lists, packages
# ---------------------------------------------------------------------------------------------


def test_contract_indicators_come_from_the_engine_after_a_signing(api_client, district, packages, hypertensive):
    """The contract numbers are the indicator engine's stored values (``/indicators/units/...?group=contracts``);
    a signing shows once the run has stored them."""
    from jiayi.indicators.engine import compute

    year = str(_today().year)
    api = _as(api_client, district, "doctor_a")
    url = f"/api/v1/indicators/units/centre/{district.centre_a.pk}"
    compute(backend="db", periods=[year], today=_today())
    before = {v["indicator"]: v for v in api.get(url, period=year, group="contracts").json()["values"]}
    assert (before["contract.coverage"]["numerator"], before["contract.coverage"]["denominator"]) == (0, 3)
    api.post("/api/v1/contracts", _sign_payload(hypertensive, [packages["basic"], packages["hypertension"]]))
    compute(backend="db", periods=[year], today=_today())
    after = {v["indicator"]: v for v in api.get(url, period=year, group="contracts").json()["values"]}
    assert after["contract.coverage"]["numerator"] == 1
    hyp = after["contract.coverage.hypertension"]
    assert (hyp["numerator"], hyp["denominator"], hyp["value"], hyp["period"]) == (1, 1, 100.0, year)
    from jiayi.indicators.catalogue import CATALOGUE

    assert {CATALOGUE[c].group for c in after} == {"contracts"}
    team = api.get(f"/api/v1/indicators/units/team/{district.team_a.pk}", period=year, group="contracts").json()
    assert "contract.fulfilment_rate" in {v["indicator"] for v in team["values"]}
    assert api.get(f"/api/v1/indicators/units/team/{district.team_b.pk}", group="contracts").status_code == 404
    assert api.get(f"/api/v1/indicators/units/centre/{district.centre_b.pk}", group="contracts").status_code == 404
    assert _as(api_client, district, "resident").get(url, group="contracts").status_code == 404
    api_client.login(None)
    assert api_client.get(url, group="contracts").status_code == 401


def test_worklists_and_doctor_loads(api_client, district, basic, hypertensive):
    sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=200))
    api = _as(api_client, district, "doctor_a")
    behind = api.get("/api/v1/contracts/worklist", team_id=district.team_a.pk, kind="behind").json()
    assert [i["resident_id"] for i in behind["items"]] == [district.resident_a.pk]
    unsigned = api.get("/api/v1/contracts/worklist", team_id=district.team_a.pk, kind="unsigned").json()
    assert [i["resident_id"] for i in unsigned["items"]] == [hypertensive.pk]
    assert "hypertension" in unsigned["items"][0]["key_populations"]
    loads = api.get(f"/api/v1/contracts/teams/{district.team_a.pk}/doctors").json()
    assert next(x for x in loads if x["staff_id"] == district.doctor_a.pk)["list_size"] == 1
    assert api.get("/api/v1/contracts/worklist", team_id=district.team_b.pk, kind="behind").status_code == 404
    assert api.get(f"/api/v1/contracts/teams/{district.team_b.pk}/doctors").status_code == 404
    assert api.get("/api/v1/contracts/worklist", team_id=district.team_a.pk, kind="nope").status_code == 422
    api_client.login(None)
    assert api_client.get("/api/v1/contracts/worklist", team_id=district.team_a.pk, kind="behind").status_code == 401


def test_packages_api(api_client, district, packages):
    api = _as(api_client, district, "doctor_a")
    listed = api.get("/api/v1/packages").json()
    assert {p["code"] for p in listed} >= {"basic", "hypertension"}
    assert api.get(f"/api/v1/packages/{packages['basic'].pk}").json()["items"]
    assert api.get("/api/v1/contracts/catalogue").json()[0]["code"]
    new = {
        "code": "rehab",
        "name": "康复包",
        "kind": "personalised",
        "price": "100",
        "insurance_share": "60",
        "public_health_share": "20",
        "resident_share": "20",
        "target_groups": ["disabled"],
        "items": [{"service_code": "rehab_guidance", "quantity": 6}],
    }
    assert api.post("/api/v1/packages", new).status_code == 403  # doctors do not compose packages
    manager = _as(api_client, district, "manager_a")
    r = manager.post("/api/v1/packages", new)
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["institution_id"] == district.centre_a.pk
    bad = manager.post("/api/v1/packages", {**new, "code": "rehab2", "price": "99"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "price"]
    r = manager.patch(f"/api/v1/packages/{created['id']}", {"version": created["version"], "active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    stale = manager.patch(f"/api/v1/packages/{created['id']}", {"version": created["version"], "name": "x"})
    assert stale.status_code == 409
    assert manager.patch(f"/api/v1/packages/{packages['basic'].pk}", {"version": 1, "name": "x"}).status_code == 403
    other = _as(api_client, district, "doctor_b")
    assert other.get(f"/api/v1/packages/{created['id']}").status_code == 404
    api_client.login(None)
    assert api_client.get("/api/v1/packages").status_code == 401
    assert ServicePackage.objects.filter(code="rehab2").count() == 0


def test_functional_communities_api(api_client, district, basic):
    api = _as(api_client, district, "doctor_a")
    r = api.post(
        "/api/v1/contracts/functional-communities",
        {"name": "徐汇中学", "kind": "school", "area_code": district.community_a.code},
    )
    assert r.status_code == 201, r.content
    fc = r.json()
    r = api.post(
        "/api/v1/contracts",
        _sign_payload(
            district.resident_a, [basic], place_type="functional_community", functional_community_id=fc["id"]
        ),
    )
    assert r.status_code == 201 and r.json()["functional_community_id"] == fc["id"]
    assert _as(api_client, district, "doctor_b").get("/api/v1/contracts/functional-communities").json() == []
    api_client.login(None)
    assert api_client.get("/api/v1/contracts/functional-communities").status_code == 401


def test_openapi_lists_the_contract_paths(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in (
        "/api/v1/contracts",
        "/api/v1/contracts/{contract_id}",
        "/api/v1/contracts/{contract_id}/renew",
        "/api/v1/contracts/{contract_id}/terminate",
        "/api/v1/packages",
        "/api/v1/indicators/units/{level}/{unit_id}",  # the contract indicators (?group=contracts)
    ):
        assert p in paths
    assert "/api/v1/contracts/numbers" not in paths  # numbers are the indicator engine's stored values


def test_start_date_in_the_past_is_allowed_for_paper_contracts(api_client, district, basic):
    api = _as(api_client, district, "doctor_a")
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a, [basic], start_date="2025-01-01", months=12))
    assert r.status_code == 201
    assert r.json()["end_date"] == date(2025, 12, 31).isoformat()


# ---------------------------------------------------------------------------------------------
# Input that was a 500, filters that told more than a 404
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "over,field",
    [
        ({"months": -1}, "months"),  # ValueError from the period rule
        ({"months": 100_000}, "months"),  # year out of range
        ({"start_date": "9999-12-31"}, "start_date"),  # the period's end overflowed
        ({"end_date": "9999-12-31"}, "end_date"),  # signed, then every renewal window overflowed
    ],
)
def test_out_of_range_periods_are_a_422(api_client, district, basic, over, field):
    api = _as(api_client, district, "doctor_a")
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a, [basic], **over))
    assert r.status_code == 422, r.content
    assert [d["loc"] for d in r.json()["detail"]] == [["body", field]]
    assert not Contract.objects.exists()


def test_a_period_of_sixty_months_by_end_date_is_still_allowed(api_client, district, basic):
    start = _today()
    end = date(start.year + 5, start.month, 1) - timedelta(days=1)
    api = _as(api_client, district, "doctor_a")
    r = api.post("/api/v1/contracts", _sign_payload(district.resident_a, [basic], end_date=end.isoformat()))
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("q", [{"period": "0001-13"}, {"period": "1999-Q5"}, {"period": "2025-YTD13"},
                               {"group": "x" * 41}])
def test_contract_indicator_queries_out_of_range_are_a_422(api_client, district, q):
    """The contract numbers' period bounds (a 500 once) now hold for the indicators endpoint that serves them."""
    r = _as(api_client, district, "doctor_a").get(f"/api/v1/indicators/units/centre/{district.centre_a.pk}", **q)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", next(iter(q))]


def test_doctor_filter_of_another_centre_is_404_like_an_unknown_one(api_client, district, basic):
    """Any staff id was accepted (200 and an empty list) while an unknown one was 404: an existence test."""
    sign(district, district.resident_a, [basic])
    api = _as(api_client, district, "doctor_a")
    assert len(api.get("/api/v1/contracts", doctor_id=district.doctor_a.pk).json()["items"]) == 1
    assert api.get("/api/v1/contracts", doctor_id=district.doctor_b.pk).status_code == 404
    assert api.get("/api/v1/contracts", doctor_id=10**9).status_code == 404
    mine = _as(api_client, district, "resident")  # a resident's own account probes no staff either
    assert mine.get("/api/v1/contracts", doctor_id=district.doctor_a.pk).status_code == 404


def test_a_superuser_without_a_staff_row_names_the_institution(api_client, district):
    """``request.user.staff`` raised (a 500) for an administrator with no staff row."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", password="pass-12345678")
    api_client.login(get_user_model().objects.get(username="root"))
    body = {"name": "徐汇软件园", "kind": "park", "area_code": district.community_a.code}
    r = api_client.post("/api/v1/contracts/functional-communities", body)
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["loc"] == ["body", "institution_id"]
    r = api_client.post("/api/v1/contracts/functional-communities", {**body, "institution_id": district.centre_a.pk})
    assert r.status_code == 201, r.content

"""The residents API: token auth, scoping (404 out of scope), 422 with field paths, 409 on conflicts."""

from __future__ import annotations

import pytest

from jiayi.core.models import AccessEvent
from jiayi.residents.models import Resident
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db


def _payload(district, **over):
    from datetime import date

    data = {
        "name": "赵六",
        "sex": "F",
        "birth_date": "1962-04-05",
        "id_number": make_id_number("310104", date(1962, 4, 5), "F"),
        "phone": "13900001111",
        "area_code": district.community_a.code,
        "address": "上海市徐汇区天平路1号",
    }
    data.update(over)
    return data


def test_token_endpoint_refuses_wrong_password(client, district):
    r = client.post("/api/v1/auth/token", {"username": "doctor_a", "password": "nope"}, content_type="application/json")
    assert r.status_code == 401


def test_it_needs_a_token(api_client, district):
    assert api_client.get("/api/v1/residents").status_code == 401
    assert api_client.get(f"/api/v1/residents/{district.resident_a.pk}").status_code == 401


def test_doctor_creates_a_resident_with_a_record_number(api_client, district):
    api_client.login(district.doctor_a.user)
    r = api_client.post("/api/v1/residents", _payload(district))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["record_number"].startswith(district.community_a.code)
    assert len(body["record_number"]) == 17
    assert Resident.objects.filter(pk=body["id"]).exists()


def test_bad_input_answers_422_with_field_paths(api_client, district):
    api_client.login(district.doctor_a.user)
    r = api_client.post("/api/v1/residents", _payload(district, id_number="110105194912310021"))
    assert r.status_code == 422
    locs = [tuple(d["loc"]) for d in r.json()["detail"]]
    assert ("body", "id_number") in locs
    r = api_client.post("/api/v1/residents", _payload(district, birth_date="not-a-date"))
    assert r.status_code == 422
    assert any("birth_date" in d["loc"] for d in r.json()["detail"])
    assert Resident.objects.count() == 3


def test_duplicate_id_number_names_the_existing_record(api_client, district):
    api_client.login(district.doctor_a.user)
    r = api_client.post("/api/v1/residents", _payload(district, id_number=district.resident_a.id_number,
                                                      sex="M", birth_date="1955-03-09"))
    assert r.status_code == 422
    assert r.json()["existing_id"] == district.resident_a.pk
    assert "张三" in r.json()["detail"][0]["msg"]


def test_id_number_must_agree_with_sex_and_birth_date(api_client, district):
    api_client.login(district.doctor_a.user)
    from datetime import date

    number = make_id_number("310104", date(1962, 4, 5), "M")
    r = api_client.post("/api/v1/residents", _payload(district, id_number=number))  # sex F in payload
    assert r.status_code == 422
    assert any(d["loc"][-1] == "sex" for d in r.json()["detail"])


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("doctor_a", "resident_a", 200),
        ("doctor_a", "resident_a1", 200),  # centre sees its station
        ("doctor_a", "resident_b", 404),
        ("station_doctor", "resident_a1", 200),
        ("station_doctor", "resident_a", 404),  # a station does not see its centre's residents
        ("doctor_b", "resident_a", 404),
        ("district_admin", "resident_b", 200),
        ("referral_desk", "resident_a", 404),
        ("resident", "resident_a", 200),
        ("resident", "resident_b", 404),
    ],
)
def test_resident_read_is_scoped(api_client, district, persona, target, status):
    api_client.login(district.user(persona))
    r = api_client.get(f"/api/v1/residents/{getattr(district, target).pk}")
    assert r.status_code == status


def test_read_is_audited_with_whole_id_only_on_detail(api_client, district):
    api_client.login(district.doctor_a.user)
    before = AccessEvent.objects.count()
    r = api_client.get(f"/api/v1/residents/{district.resident_a.pk}")
    assert r.json()["id_number"] == district.resident_a.id_number
    ev = AccessEvent.objects.order_by("-pk").first()
    assert AccessEvent.objects.count() == before + 1
    assert ev.resident_id == district.resident_a.pk and ev.action == "view" and ev.username == "doctor_a"
    r = api_client.get("/api/v1/residents", q="张")
    item = r.json()["items"][0]
    assert "*" in item["id_number_masked"] and item["id_number_masked"] != district.resident_a.id_number
    assert AccessEvent.objects.filter(action="search").exists()


@pytest.mark.parametrize(
    ("query_attr", "kind"),
    [("id_number", "id_number"), ("phone", "phone"), ("name", "name")],
)
def test_search_by_each_key(api_client, district, query_attr, kind):
    api_client.login(district.doctor_a.user)
    q = getattr(district.resident_a, query_attr)
    r = api_client.get("/api/v1/residents", q=q)
    assert r.status_code == 200
    body = r.json()
    assert body["query_kind"] == kind
    assert [i["id"] for i in body["items"]] == [district.resident_a.pk]


def test_search_by_record_number(api_client, district):
    api_client.login(district.doctor_a.user)
    number = district.resident_a.health_record.record_number
    body = api_client.get("/api/v1/residents", q=number).json()
    assert body["query_kind"] == "record_number" and body["items"][0]["id"] == district.resident_a.pk


def test_search_never_leaks_out_of_scope(api_client, district):
    api_client.login(district.doctor_b.user)
    body = api_client.get("/api/v1/residents", q=district.resident_a.id_number).json()
    assert body["items"] == []


def test_concurrent_edit_is_detected(api_client, district):
    api_client.login(district.doctor_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}"
    v = api_client.get(url).json()["version"]
    assert api_client.patch(url, {"version": v, "address": "新地址1号"}).status_code == 200
    r = api_client.patch(url, {"version": v, "address": "另一个地址"})
    assert r.status_code == 409
    district.resident_a.refresh_from_db()
    assert district.resident_a.address == "新地址1号"


def test_an_edit_putting_the_death_before_the_birth_is_a_422_on_death_date(api_client, district):
    api_client.login(district.doctor_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}"
    v = api_client.get(url).json()["version"]
    r = api_client.patch(url, {"version": v, "residence_status": "deceased", "death_date": "1950-01-01"})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "death_date"]]
    assert api_client.get(url).json()["death_date"] is None


def test_read_only_roles_cannot_write(api_client, district):
    api_client.login(district.auditor.user)
    assert api_client.post("/api/v1/residents", _payload(district)).status_code == 403


def test_measurement_refuses_implausible_values(api_client, district):
    api_client.login(district.nurse_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}/measurements"
    r = api_client.post(url, {"sbp": 400, "dbp": 90})
    assert r.status_code == 422
    r = api_client.post(url, {"sbp": 120, "dbp": 130})
    assert r.status_code == 422 and any("dbp" in d["loc"] for d in r.json()["detail"])
    r = api_client.post(url, {"sbp": 135, "dbp": 85, "height": 170, "weight": 70})
    assert r.status_code == 201 and r.json()["bmi"] == pytest.approx(24.2)
    assert len(api_client.get(url).json()) == 1


def test_health_record_read_and_update(api_client, district):
    api_client.login(district.doctor_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}/record"
    rec = api_client.get(url).json()
    r = api_client.patch(url, {"version": rec["version"], "blood_type": "A", "allergies": ["青霉素"]})
    assert r.status_code == 200 and r.json()["allergies"] == ["青霉素"]
    r = api_client.patch(url, {"version": rec["version"], "blood_type": "B"})
    assert r.status_code == 409


@pytest.mark.parametrize("path", ["/record", "/measurements"])
def test_sub_resources_are_scoped(api_client, district, path):
    api_client.login(district.doctor_b.user)
    assert api_client.get(f"/api/v1/residents/{district.resident_a.pk}{path}").status_code == 404
    api_client.login(None)
    assert api_client.get(f"/api/v1/residents/{district.resident_a.pk}{path}").status_code == 401


def test_search_accepts_a_legacy_15_digit_number(api_client, district):
    api_client.login(district.doctor_a.user)
    n = district.resident_a.id_number  # 18 digits, born 1955
    legacy = n[:6] + n[8:17]
    body = api_client.get("/api/v1/residents", q=legacy).json()
    assert [i["id"] for i in body["items"]] == [district.resident_a.pk]


def test_a_height_and_weight_whose_bmi_no_record_can_hold_is_a_422(api_client, district):
    """30 cm and 300 kg pass their own ranges; the BMI (3333) overflowed the column (a 500 on PostgreSQL)."""
    api_client.login(district.nurse_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}/measurements"
    r = api_client.post(url, {"height": 30, "weight": 300})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "weight"]]
    assert api_client.get(url).json() == []


def test_a_measurement_time_without_zone_is_local_time(api_client, district):
    """A naive ``measured_at`` was compared with an aware "now" (TypeError, a 500)."""
    api_client.login(district.nurse_a.user)
    url = f"/api/v1/residents/{district.resident_a.pk}/measurements"
    r = api_client.post(url, {"sbp": 130, "dbp": 80, "measured_at": "2025-03-01T09:30:00"})
    assert r.status_code == 201, r.content
    from datetime import UTC, datetime

    at = datetime.fromisoformat(r.json()["measured_at"].replace("Z", "+00:00"))
    assert at == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Asia/Shanghai


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00Z", "1955-03-08T12:00:00+08:00"])
def test_a_measurement_before_birth_is_a_422(api_client, district, at):
    api_client.login(district.nurse_a.user)  # resident_a was born on 1955-03-09
    r = api_client.post(f"/api/v1/residents/{district.resident_a.pk}/measurements", {"sbp": 130, "dbp": 80,
                                                                                    "measured_at": at})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "measured_at"]]


def test_a_duplicate_out_of_scope_is_neither_named_nor_identified(api_client, district):
    """The duplicate message named an out-of-scope resident and gave their id: an ID-number-to-name oracle."""
    api_client.login(district.doctor_a.user)
    other = district.resident_b  # centre B
    r = api_client.post("/api/v1/residents", _payload(district, id_number=other.id_number, sex="M",
                                                      birth_date="1980-01-20"))
    assert r.status_code == 422
    body = r.json()
    assert "existing_id" not in body
    assert [d["loc"] for d in body["detail"]] == [["body", "id_number"]]
    assert other.name not in body["detail"][0]["msg"] and str(other.pk) not in body["detail"][0]["msg"]
    # the same through an edit of an in-scope resident
    mine = api_client.get(f"/api/v1/residents/{district.resident_a1.pk}").json()
    r = api_client.patch(f"/api/v1/residents/{district.resident_a1.pk}", {
        "version": mine["version"], "id_number": other.id_number, "sex": "M", "birth_date": "1980-01-20"})
    assert r.status_code == 422 and "existing_id" not in r.json()
    assert other.name not in r.json()["detail"][0]["msg"]

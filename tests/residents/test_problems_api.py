"""Problems over the API: GET/POST /residents/{id}/problems, PATCH/DELETE .../problems/{pid}, and the
ICD-10 code search GET /codes/icd10 (paginated). 422 with field paths, 404 out of scope, 403 for a
reader, 409 on a stale version."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiayi.core.models import AccessAction, AccessEvent
from jiayi.residents import services
from jiayi.residents.models import Problem

pytestmark = pytest.mark.django_db


def _url(resident, pid=None) -> str:
    base = f"/api/v1/residents/{resident.pk}/problems"
    return base if pid is None else f"{base}/{pid}"


def _locs(r) -> set[tuple]:
    return {tuple(d["loc"]) for d in r.json()["detail"]}


def test_a_doctor_adds_lists_edits_resolves_and_removes_a_problem(api_client, district):
    api_client.login(district.doctor_a.user)
    r = district.resident_a1
    created = api_client.post(_url(r), {"icd10": "F20.0", "diagnosed_on": "2010-03-01"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["icd10"], body["category"], body["name"], body["version"]) == ("F20.0", "F20", "偏执型精神分裂症", 1)
    assert body["code_title_en"] == "Paranoid schizophrenia" and body["diagnosis_groups"] == ["severe_mental"]
    pid = body["id"]
    listed = api_client.get(_url(r))
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [pid]
    person = api_client.get(f"/api/v1/residents/{r.pk}").json()
    assert "severe_mental" in person["key_populations"]

    edited = api_client.patch(_url(r, pid), {"version": 1, "icd10": "F25", "note": "诊断修订"})
    assert edited.status_code == 200, edited.content
    assert (edited.json()["icd10"], edited.json()["name"], edited.json()["version"]) == ("F25", "分裂情感性障碍", 2)

    resolved = api_client.patch(_url(r, pid), {"version": 2, "resolved_on": "2024-01-02", "resolved_reason": "误诊"})
    assert resolved.status_code == 200, resolved.content
    assert (resolved.json()["resolved_on"], resolved.json()["version"]) == ("2024-01-02", 3)

    removed = api_client.delete(_url(r, pid) + "?version=3&reason=录入错误")
    assert removed.status_code == 204, removed.content
    assert api_client.get(_url(r)).json() == []
    assert Problem.all_objects.get(pk=pid).removed_reason == "录入错误"
    assert api_client.patch(_url(r, pid), {"version": 4, "note": "x"}).status_code == 404


def test_bad_input_answers_422_with_field_paths(api_client, district):
    api_client.login(district.doctor_a.user)
    r = district.resident_a
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    cases = [
        ({"icd10": "F20.77"}, ("body", "icd10")),
        ({"icd10": "X"}, ("body", "icd10")),
        ({"name": "高血压"}, ("body", "icd10")),
        ({"icd10": "I10", "diagnosed_on": tomorrow}, ("body", "diagnosed_on")),
        ({"icd10": "I10", "diagnosed_on": "1950-01-01"}, ("body", "diagnosed_on")),  # before birth (1955)
        ({"icd10": "I10", "diagnosed_on": "not-a-date"}, ("body", "diagnosed_on")),
        ({"icd10": "I10", "kind": "nonsense"}, ("body", "payload", "kind")),
        ({"icd10": "I10" * 10}, ("body", "payload", "icd10")),
    ]
    for payload, loc in cases:
        answer = api_client.post(_url(r), payload)
        assert answer.status_code == 422, (payload, answer.content)
        assert any(loc == got[: len(loc)] or loc[-1] in got for got in _locs(answer)), (payload, answer.json())
    assert not Problem.objects.exists()


def test_a_duplicate_category_answers_422_on_the_code(api_client, district):
    api_client.login(district.doctor_a.user)
    r = district.resident_a
    assert api_client.post(_url(r), {"icd10": "E11"}).status_code == 201
    answer = api_client.post(_url(r), {"icd10": "E11.9"})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail[0]["loc"] == ["body", "icd10"] and detail[0]["type"] == "duplicate"


def test_a_stale_version_answers_409(api_client, district):
    api_client.login(district.doctor_a.user)
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    assert api_client.patch(_url(district.resident_a, p.pk), {"version": 1, "note": "a"}).status_code == 200
    stale = api_client.patch(_url(district.resident_a, p.pk), {"version": 1, "note": "b"})
    assert stale.status_code == 409
    assert stale.json()["detail"][0]["loc"] == ["body", "version"]
    assert api_client.patch(_url(district.resident_a, p.pk), {"version": 1}).status_code == 409
    assert api_client.delete(_url(district.resident_a, p.pk) + "?version=1&reason=x").status_code == 409
    assert Problem.objects.get(pk=p.pk).note == "a"


def test_removing_needs_a_reason_and_a_version(api_client, district):
    api_client.login(district.doctor_a.user)
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    answer = api_client.delete(_url(district.resident_a, p.pk) + "?version=1")
    assert answer.status_code == 422 and any("reason" in loc for loc in _locs(answer))
    answer = api_client.delete(_url(district.resident_a, p.pk) + "?reason=x")
    assert answer.status_code == 422 and any("version" in loc for loc in _locs(answer))
    assert Problem.objects.filter(pk=p.pk).exists()


def test_resolving_before_the_diagnosis_answers_422(api_client, district):
    api_client.login(district.doctor_a.user)
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="J18", diagnosed_on=date(2024, 3, 1))
    answer = api_client.patch(_url(district.resident_a, p.pk), {"version": 1, "resolved_on": "2024-02-01"})
    assert answer.status_code == 422 and ("body", "resolved_on") in _locs(answer)


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [
        ("doctor_a", 200, 201), ("nurse_a", 200, 201), ("ph_a", 200, 201), ("manager_a", 200, 201),
        ("station_doctor", 404, 404),  # a station sees only its own subtree
        ("doctor_b", 404, 404), ("district_admin", 200, 403), ("auditor", 200, 403),
        ("referral_desk", 404, 403), ("resident", 200, 403),
    ],
)
def test_access_matrix_for_resident_a_problems(api_client, district, persona, read, write):
    """Who may read and add resident_a's problems (centre A): in scope 200, out of scope 404, a reader 403."""
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    api_client.login(district.user(persona))
    r = district.resident_a
    assert api_client.get(_url(r)).status_code == read
    assert api_client.post(_url(r), {"icd10": "J45"}).status_code == write
    patch = api_client.patch(_url(r, p.pk), {"version": p.version, "note": "x"}).status_code
    delete = api_client.delete(_url(r, p.pk) + "?version=9&reason=x").status_code
    expected = 200 if write == 201 else write
    assert patch == expected
    assert delete == (409 if write == 201 else write)  # a writer reaches the version check


def test_another_residents_problem_is_404_through_this_resident(api_client, district):
    api_client.login(district.doctor_a.user)
    other = services.problem_add(actor=None, resident=district.resident_a1, icd10="I10")
    assert api_client.patch(_url(district.resident_a, other.pk), {"version": 1, "note": "x"}).status_code == 404
    assert api_client.delete(_url(district.resident_a, other.pk) + "?version=1&reason=x").status_code == 404


def test_reading_the_list_is_audited(api_client, district):
    api_client.login(district.doctor_a.user)
    api_client.get(_url(district.resident_a))
    assert AccessEvent.objects.filter(
        action=AccessAction.VIEW, resident_id=district.resident_a.pk, username="doctor_a"
    ).exists()


def test_icd10_search_is_paginated_and_finds_codes_chinese_and_english(api_client, district):
    api_client.login(district.doctor_a.user)
    first = api_client.get("/api/v1/codes/icd10", q="F20")
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 10 and body["items"][0] == {
        "code": "F20", "level": "category", "title_zh": "精神分裂症", "title_en": "Schizophrenia", "block": "F20-F29",
        "chapter": "V",
    }
    assert [i["code"] for i in api_client.get("/api/v1/codes/icd10", q="精神", page_size=5).json()["items"]][:1]
    schizo = api_client.get("/api/v1/codes/icd10", q="schizo", page_size=100).json()
    assert {"F20", "F21", "F25"} <= {i["code"] for i in schizo["items"]}
    everything = api_client.get("/api/v1/codes/icd10", page=2).json()
    assert everything["count"] > 10_000 and len(everything["items"]) == 20
    assert api_client.get("/api/v1/codes/icd10", page=0).status_code == 422
    assert api_client.get("/api/v1/codes/icd10", q="x" * 51).status_code == 422
    assert api_client.get("/api/v1/codes/icd10", page=10_000).json()["items"] == []


def test_icd10_search_needs_a_token(api_client, district):
    assert api_client.get("/api/v1/codes/icd10", q="F20").status_code == 401

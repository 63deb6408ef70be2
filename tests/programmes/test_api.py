"""The programme API: visits with their computed outcome, 422 with field paths and nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jiayi.programmes.models import Enrolment, Referral, Task, Visit
from jiayi.residents.models import Measurement
from tests.programmes.conftest import days_ago, dm_form, ht_form

pytestmark = pytest.mark.django_db

HT = "/api/v1/programmes/hypertension/visits"
DM = "/api/v1/programmes/diabetes/visits"


def _visit(district, days: int, form: dict, **over) -> dict:
    body = {"resident_id": district.resident_a.pk, "visit_date": days_ago(days).isoformat(), "form": form}
    body.update(over)
    return body


def _locs(r) -> list[list]:
    return [d["loc"] for d in r.json()["detail"]]


def test_post_visit_returns_the_computed_outcome(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    r = api_client.post(HT, _visit(district, 30, ht_form(sbp=156, dbp=96)))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["classification"] == "uncontrolled"
    assert body["next_due"] == (days_ago(30) + timedelta(days=14)).isoformat()
    assert body["referral"] is None
    r2 = api_client.post(HT, _visit(district, 16, ht_form(sbp=150, dbp=95)))
    assert r2.status_code == 201
    assert r2.json()["referral"] == ["two_uncontrolled"]
    assert r2.json()["referral_reasons"][0]["label"]


def test_diabetes_visit(api_client, district, dm_enrolment):
    api_client.login(district.nurse_a.user)
    r = api_client.post(DM, _visit(district, 3, dm_form(fpg=6.4)))
    assert r.status_code == 201, r.content
    assert r.json()["classification"] == "controlled"
    assert r.json()["fasting_glucose"] == 6.4


@pytest.mark.parametrize(
    ("days", "form", "loc"),
    [
        (-3, ht_form(), ["body", "visit_date"]),
        (400, ht_form(), ["body", "visit_date"]),
        (2, ht_form(sbp=400), ["body", "form", "sbp"]),
        (2, ht_form(dbp=10), ["body", "form", "dbp"]),
        (2, ht_form(sbp="高"), ["body", "form", "sbp"]),
        (2, {"dbp": 80, "adherence": "regular"}, ["body", "form", "sbp"]),
    ],
)
def test_bad_visits_answer_422_and_store_nothing(api_client, district, ht_enrolment, days, form, loc):
    api_client.login(district.doctor_a.user)
    r = api_client.post(HT, _visit(district, days, form))
    assert r.status_code == 422, r.content
    assert loc in _locs(r)
    assert not Visit.objects.exists()
    assert not Measurement.objects.filter(source="follow_up").exists()


def test_visit_for_a_resident_not_enrolled_is_422(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    r = api_client.post(DM, _visit(district, 2, dm_form()))
    assert r.status_code == 422
    assert ["body", "resident_id"] in _locs(r)
    assert not Visit.objects.exists()


def test_malformed_body_is_422(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    r = api_client.post(HT, {"resident_id": district.resident_a.pk, "visit_date": "not-a-date", "form": {}})
    assert r.status_code == 422
    r = api_client.post(HT, {"resident_id": district.resident_a.pk, "visit_date": "2026-01-01", "form": "x"})
    assert r.status_code == 422


def test_enrol_then_end_through_the_api(api_client, district):
    api_client.login(district.doctor_a.user)
    r = api_client.post(
        "/api/v1/programmes/diabetes/enrolments",
        {"resident_id": district.resident_a.pk, "start_date": days_ago(5).isoformat()},
    )
    assert r.status_code == 201, r.content
    e = r.json()
    assert e["ruleset"] == "nbphs-2017" and e["next_due"] == days_ago(5).isoformat()
    again = api_client.post(
        "/api/v1/programmes/diabetes/enrolments",
        {"resident_id": district.resident_a.pk, "start_date": days_ago(1).isoformat()},
    )
    assert again.status_code == 422
    r = api_client.post(
        f"/api/v1/programmes/enrolments/{e['id']}/end",
        {"version": e["version"], "end_date": days_ago(1).isoformat(), "reason": "moved_out"},
    )
    assert r.status_code == 200 and r.json()["end_date"] == days_ago(1).isoformat()
    stale = api_client.post(
        f"/api/v1/programmes/enrolments/{e['id']}/end",
        {"version": e["version"], "end_date": days_ago(1).isoformat(), "reason": "moved_out"},
    )
    assert stale.status_code in (409, 422)


def test_enrolment_in_the_future_is_refused(api_client, district):
    api_client.login(district.doctor_a.user)
    r = api_client.post(
        "/api/v1/programmes/hypertension/enrolments",
        {"resident_id": district.resident_a.pk, "start_date": days_ago(-2).isoformat()},
    )
    assert r.status_code == 422 and ["body", "start_date"] in _locs(r)
    assert not Enrolment.objects.exists()


def test_visit_update_detects_concurrent_edits(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    v = api_client.post(HT, _visit(district, 3, ht_form(sbp=150, dbp=92))).json()
    r = api_client.patch(f"/api/v1/programmes/visits/{v['id']}", {"version": v["version"], "form": ht_form(128, 80)})
    assert r.status_code == 200, r.content
    assert r.json()["classification"] == "controlled"
    assert r.json()["next_due"] == (days_ago(3) + timedelta(days=90)).isoformat()
    task = Task.objects.get(enrolment=ht_enrolment, status="due", kind="follow_up")
    assert task.due_date == days_ago(3) + timedelta(days=90)
    stale = api_client.patch(f"/api/v1/programmes/visits/{v['id']}", {"version": v["version"], "form": ht_form()})
    assert stale.status_code == 409


def test_worklists(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    r = api_client.get("/api/v1/worklists/overdue")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["scope"] == "team"
    assert [i["resident_id"] for i in body["items"]] == [district.resident_a.pk]
    assert body["items"][0]["phone_masked"].count("*") >= 4
    counts = api_client.get("/api/v1/worklists/counts").json()
    assert counts["overdue"] == 1
    api_client.post(HT, _visit(district, 10, ht_form(sbp=200, dbp=100)))
    refs = api_client.get("/api/v1/worklists/referrals").json()["items"]
    assert refs and refs[0]["kind"] == "referral_follow_up" and refs[0]["priority"] == 0
    awaiting = api_client.get("/api/v1/worklists/awaiting-return").json()
    assert awaiting and awaiting[0]["reasons"][0]["code"] == "HTN-U1"
    ref = Referral.objects.get()
    r = api_client.post(
        f"/api/v1/programmes/referrals/{ref.pk}/return", {"returned_on": days_ago(2).isoformat(), "outcome": "调整用药"}
    )
    assert r.status_code == 200 and r.json()["returned_on"] == days_ago(2).isoformat()
    assert api_client.get("/api/v1/worklists/awaiting-return").json() == []


def test_risk_lists_inputs_and_missing(api_client, district):
    from jiayi.residents.services import measurement_record

    api_client.login(district.doctor_a.user)
    r = api_client.get(f"/api/v1/residents/{district.resident_a.pk}/risk")
    assert r.status_code == 200
    assert set(r.json()["china_par_missing"]) >= {"sbp", "total_cholesterol", "hdl_c", "waist"}
    measurement_record(
        actor=None,
        resident=district.resident_a,
        sbp=150,
        dbp=95,
        total_cholesterol=5.4,
        hdl_c=1.2,
        waist=92,
        height=170,
        weight=75,
    )
    body = api_client.get(f"/api/v1/residents/{district.resident_a.pk}/risk").json()
    assert "smoker" in body["china_par_missing"]  # no follow-up form recorded smoking yet
    assert body["hypertension_risk"]["bp_grade"] == "grade1"
    # 71 y (18), BMI 26.0 (3), waist 92 (8), SBP 150 (8), no family history, male (2)
    assert body["diabetes_risk_score"]["total"] == 39 and body["diabetes_risk_score"]["high_risk"]


def test_risk_computes_china_par_when_complete(api_client, district, ht_enrolment):
    from jiayi.programmes import services
    from jiayi.residents.services import measurement_record

    measurement_record(actor=None, resident=district.resident_a, total_cholesterol=5.2, hdl_c=1.3, waist=80)
    services.visit_record(
        actor=district.doctor_a.user,
        enrolment=ht_enrolment,
        visit_date=days_ago(1),
        form=ht_form(sbp=145, dbp=85, smoking_per_day=0),
    )
    api_client.login(district.doctor_a.user)
    body = api_client.get(f"/api/v1/residents/{district.resident_a.pk}/risk").json()
    assert body["china_par_missing"] == []
    assert body["china_par"]["category"] in ("low", "medium", "high")
    assert body["china_par_inputs"]["treated"] is True and body["china_par_inputs"]["north"] is False


def test_screening_api_flow(api_client, district):
    api_client.login(district.station_doctor.user)
    r = api_client.get("/api/v1/programmes/screening/candidates")
    assert r.status_code == 200
    ids = {i["resident_id"] for i in r.json()["items"]}
    assert district.resident_a1.pk in ids
    r = api_client.post(
        "/api/v1/programmes/screening/measurements",
        {"resident_id": district.resident_a1.pk, "sbp": 146, "dbp": 92, "waist": 88},
    )
    assert r.status_code == 201, r.content
    case = r.json()["case"]
    assert r.json()["raised"] and case["status"] == "rechecking"
    assert "central_obesity" in {h["code"] for h in r.json()["high_risk"]}
    bad = api_client.post(
        "/api/v1/programmes/screening/measurements", {"resident_id": district.resident_a1.pk, "sbp": 400, "dbp": 92}
    )
    assert bad.status_code == 422 and ["body", "sbp"] in _locs(bad)
    r = api_client.post(
        f"/api/v1/programmes/screening/cases/{case['id']}/refer",
        {"version": case["version"], "to_institution_name": "区中心医院心内科"},
    )
    assert r.status_code == 201, r.content
    case = api_client.get("/api/v1/programmes/screening/cases").json()[0]
    r = api_client.post(f"/api/v1/programmes/screening/cases/{case['id']}/confirm", {"version": case["version"]})
    assert r.status_code == 201, r.content
    assert r.json()["source"] == "screening"


def test_numbers_and_forecast(api_client, district, ht_enrolment):
    from jiayi.programmes import services

    line = {
        "drug": "氨氯地平片",
        "drug_class": "ccb",
        "dose": 5,
        "dose_unit": "mg",
        "times_per_day": 1,
        "duration_days": 28,
    }
    services.visit_record(
        actor=district.doctor_a.user, enrolment=ht_enrolment, visit_date=days_ago(2), form=ht_form(medications=[line])
    )
    from jiayi.indicators.engine import compute

    year = str(timezone.localdate().year)
    compute(backend="db", periods=[year], today=timezone.localdate())
    api_client.login(district.manager_a.user)
    assert api_client.get("/api/v1/programmes/numbers").status_code == 404  # the indicators API serves them
    r = api_client.get(f"/api/v1/indicators/units/team/{district.team_a.pk}", period=year, group="hypertension")
    assert r.status_code == 200, r.content
    managed = next(v for v in r.json()["values"] if v["indicator"] == "ht.standardised_rate")["denominator"]
    assert managed == 1
    r = api_client.get("/api/v1/programmes/forecast", institution_id=district.centre_a.pk)
    assert r.status_code == 200, r.content
    assert r.json()["lines"] == [{"drug": "氨氯地平片", "dose_unit": "mg", "patients": 1, "monthly_quantity": 150.0}]
    assert api_client.get("/api/v1/programmes/forecast", institution_id=district.centre_b.pk).status_code == 404


def test_medication_plan_api(api_client, district, ht_enrolment):
    api_client.login(district.doctor_a.user)
    url = f"/api/v1/programmes/enrolments/{ht_enrolment.pk}/medication-plan"
    assert api_client.get(url).status_code == 204
    line = {
        "drug": "二甲双胍",
        "drug_class": "biguanide",
        "dose": 0.5,
        "dose_unit": "g",
        "times_per_day": 3,
        "duration_days": 28,
    }
    r = api_client.post(url, {"lines": [line]})
    assert r.status_code == 201, r.content
    r = api_client.post(url, {"lines": [{**line, "duration_days": 60}]})
    assert r.status_code == 422 and ["body", "medications", "0", "duration_days"] in _locs(r)
    r = api_client.post(url, {"lines": [{**line, "drug_class": "narcotic"}], "long_prescription": True})
    assert r.status_code == 422
    r = api_client.post(url, {"lines": [line], "start_date": "0001-01-01"})
    assert r.status_code == 422 and _locs(r) == [["body", "start_date"]]
    assert api_client.get(url).json()["lines"][0]["drug"] == "二甲双胍"


def test_a_visit_with_an_impossible_height_and_weight_is_a_422(api_client, district, ht_enrolment):
    """30 cm and 300 kg each pass; their BMI (3333) overflowed the visit's BMI column (a 500 on PostgreSQL)."""
    api_client.login(district.doctor_a.user)
    r = api_client.post(HT, _visit(district, 1, ht_form(height=30, weight=300)))
    assert r.status_code == 422
    assert _locs(r) == [["body", "form", "weight"]]
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("over", "loc"),
    [
        ({"height": 30, "weight": 300}, ["body", "weight"]),
        ({"measured_at": "1990-05-01T09:00:00+08:00"}, ["body", "measured_at"]),  # before any rule set
    ],
)
def test_screening_input_that_was_a_500_is_a_422(api_client, district, over, loc):
    api_client.login(district.station_doctor.user)
    r = api_client.post("/api/v1/programmes/screening/measurements",
                        {"resident_id": district.resident_a1.pk, "sbp": 150, "dbp": 95, **over})
    assert r.status_code == 422, r.content
    assert _locs(r) == [loc]
    assert not Measurement.objects.filter(resident=district.resident_a1).exists()


def test_a_screening_time_without_zone_is_local_time(api_client, district):
    api_client.login(district.station_doctor.user)
    r = api_client.post("/api/v1/programmes/screening/measurements",
                        {"resident_id": district.resident_a1.pk, "sbp": 150, "dbp": 95,
                         "measured_at": f"{days_ago(2).isoformat()}T09:00:00"})
    assert r.status_code == 201, r.content
    assert r.json()["case"]["raised_days"] == [days_ago(2).isoformat()]


@pytest.mark.parametrize("page", [0, 100_001, 10**20])
def test_enrolment_list_page_is_bounded(api_client, district, ht_enrolment, page):
    """An unbounded page made an OFFSET the database cannot hold (a 500)."""
    api_client.login(district.doctor_a.user)
    r = api_client.get("/api/v1/programmes/enrolments", page=page)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "page"]

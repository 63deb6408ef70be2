"""Monthly reports: a station submits, its centre reviews, then the district; returned reports come
back as new versions; approved reports lock; every step is recorded (who, when, why)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from jiayi.core.errors import DomainValidationError
from tests.indicators.conftest import TODAY, _visit


def _services():
    from jiayi.indicators import services

    return services


def test_the_full_review_chain_through_the_pages(computed, client):
    from jiayi.indicators.models import Report, ReportEvent

    d = computed.d
    client.force_login(d.station_doctor.user)
    r = client.post("/indicators/reports/", {"period": "2025-12", "note": "12月报告"})
    assert r.status_code == 302
    v1 = Report.objects.get(institution=d.station_a1, version=1)
    assert v1.state == "submitted" and v1.values.filter(indicator="record.rate").get().denominator == 2

    client.force_login(d.manager_a.user)
    page = client.get(f"/indicators/reports/{v1.pk}/")
    assert page.status_code == 200 and "中心审核" in page.content.decode()
    r = client.post(f"/indicators/reports/{v1.pk}/review/", {"action": "return", "reason": ""})
    assert r.status_code == 422 and "退回时请填写理由" in r.content.decode()
    r = client.post(f"/indicators/reports/{v1.pk}/review/", {"action": "return", "reason": "建档数与花名册不符"})
    assert r.status_code == 302
    v1.refresh_from_db()
    assert v1.state == "returned"

    client.force_login(d.station_doctor.user)
    r = client.post(f"/indicators/reports/{v1.pk}/resubmit/", {"note": "已核对花名册"})
    assert r.status_code == 302
    v2 = Report.objects.get(institution=d.station_a1, version=2)
    assert v2.previous == v1 and v2.state == "submitted"
    v1.refresh_from_db()
    assert v1.state == "superseded" and v1.locked

    client.force_login(d.manager_a.user)
    assert client.post(f"/indicators/reports/{v2.pk}/review/", {"action": "approve"}).status_code == 302
    client.force_login(d.district_admin.user)
    assert client.post(f"/indicators/reports/{v2.pk}/review/", {"action": "approve"}).status_code == 302
    v2.refresh_from_db()
    assert v2.state == "approved" and v2.locked

    steps = list(ReportEvent.objects.filter(report__in=[v1, v2]).order_by("at", "id").values_list(
        "action", "level", "actor_name", "reason"))
    assert steps == [
        ("submit", "station", "周医生", "12月报告"),
        ("return", "centre", "陈主任", "建档数与花名册不符"),
        ("resubmit", "station", "周医生", "已核对花名册"),
        ("approve", "centre", "陈主任", ""),
        ("approve", "district", "孙科长", ""),
    ]
    assert all(e.at is not None and e.actor_id for e in ReportEvent.objects.all())


def test_an_approved_report_is_locked(computed):
    s, d = _services(), computed.d
    report = s.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period="2025-12")
    s.report_review(actor=d.manager_a.user, report=report, action="approve")
    s.report_review(actor=d.district_admin.user, report=report, action="approve")
    with pytest.raises(DomainValidationError):
        s.report_review(actor=d.district_admin.user, report=report, action="return", reason="再看看")
    with pytest.raises(DomainValidationError):
        s.report_resubmit(actor=d.station_doctor.user, report=report, note="改")
    with pytest.raises(DomainValidationError):
        s.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period="2025-12")


def test_a_centre_report_goes_straight_to_the_district(computed):
    s, d = _services(), computed.d
    report = s.report_submit(actor=d.manager_a.user, institution=d.centre_a, period="2025-12")
    assert s.reviewer_level(report) == "district"
    with pytest.raises(PermissionDenied):
        s.report_review(actor=d.manager_a.user, report=report, action="approve")
    assert s.report_review(actor=d.district_admin.user, report=report, action="approve").state == "approved"


def test_only_the_right_people_act(computed):
    s, d = _services(), computed.d
    with pytest.raises(PermissionDenied):  # another institution's staff
        s.report_submit(actor=d.doctor_a.user, institution=d.station_a1, period="2025-12")
    report = s.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period="2025-12")
    with pytest.raises(PermissionDenied):  # the district before the centre
        s.report_review(actor=d.district_admin.user, report=report, action="approve")
    with pytest.raises(PermissionDenied):  # a doctor of the centre is not its manager
        s.report_review(actor=d.doctor_a.user, report=report, action="approve")


def test_bad_input_stores_nothing(computed):
    from jiayi.indicators.models import Report

    s, d = _services(), computed.d
    for period in ("2025", "2025-13", "2030-01", "2024-01"):
        with pytest.raises(DomainValidationError) as exc:
            s.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period=period)
        assert "period" in exc.value.errors
    assert not Report.objects.exists()


def test_a_report_shows_where_frozen_and_live_values_differ(computed):
    from jiayi.indicators import selectors
    from jiayi.indicators.engine import compute

    s, d = _services(), computed.d
    report = s.report_submit(actor=d.manager_a.user, institution=d.centre_a, period="2025-12")
    assert not any(row.differs for row in selectors.report_diff(report))
    # A late-entered September visit makes R2 standardised; tonight's run updates the live values.
    _visit(computed.enrolments["R2"], date(2025, 9, 2), fpg=6.9)
    compute(backend="db", periods=["2025-12"], today=TODAY)
    diff = {row.code: row for row in selectors.report_diff(report)}
    assert diff["dm.standardised_rate"].differs
    assert (diff["dm.standardised_rate"].frozen.numerator, diff["dm.standardised_rate"].live.numerator) == (0, 1)
    assert not diff["record.rate"].differs


def test_reports_are_scoped(computed, client):
    s, d = _services(), computed.d
    report = s.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period="2025-12")
    client.force_login(d.doctor_b.user)
    assert client.get(f"/indicators/reports/{report.pk}/").status_code == 404
    assert client.post(f"/indicators/reports/{report.pk}/review/", {"action": "approve"}).status_code == 404
    client.force_login(d.manager_a.user)
    assert client.get(f"/indicators/reports/{report.pk}/").status_code == 200
    client.logout()
    assert client.get(f"/indicators/reports/{report.pk}/").status_code == 302


def test_the_report_api_walks_the_same_chain(computed, api_client):
    d = computed.d
    api_client.login(d.station_doctor.user)
    r = api_client.post("/api/v1/indicators/reports", {"institution_id": d.station_a1.pk, "period": "2025-12"})
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert r.json()["next_reviewer"] == "centre"
    r = api_client.post("/api/v1/indicators/reports", {"institution_id": d.station_a1.pk, "period": "2025-12"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "period"]
    api_client.login(d.district_admin.user)
    assert api_client.post(f"/api/v1/indicators/reports/{rid}/review", {"action": "approve"}).status_code == 403
    api_client.login(d.manager_a.user)
    r = api_client.post(f"/api/v1/indicators/reports/{rid}/review", {"action": "return", "reason": ""})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
    r = api_client.post(f"/api/v1/indicators/reports/{rid}/review", {"action": "return", "reason": "请核对"})
    assert r.status_code == 200 and r.json()["state"] == "returned"
    api_client.login(d.station_doctor.user)
    r = api_client.post(f"/api/v1/indicators/reports/{rid}/resubmit", {"note": "已核对"})
    assert r.status_code == 201 and r.json()["version"] == 2
    api_client.login(d.doctor_b.user)
    assert api_client.get(f"/api/v1/indicators/reports/{rid}").status_code == 404
    assert api_client.post("/api/v1/indicators/reports", {"institution_id": d.station_a1.pk,
                                                          "period": "2025-11"}).status_code == 404
    api_client.login(None)
    assert api_client.get("/api/v1/indicators/reports").status_code == 401


def test_the_submitter_sees_a_returned_report_with_its_reason_and_history(computed, client):
    services = _services()
    d = computed.d
    v1 = services.report_submit(actor=d.station_doctor.user, institution=d.station_a1, period="2025-12")
    services.report_review(actor=d.manager_a.user, report=v1, action="return", reason="建档数不符")
    client.force_login(d.station_doctor.user)
    page = client.get("/indicators/reports/")
    assert [(r.pk, ev.reason) for r, ev in page.context["returned"]] == [(v1.pk, "建档数不符")]
    assert page.context["form"]["period"] == "2025-11"  # 2025-12 is taken: it is resubmitted, not submitted
    detail = client.get(f"/indicators/reports/{v1.pk}/")
    assert detail.context["returned_by"].reason == "建档数不符" and "建档数不符" in detail.content.decode()
    assert detail.context["can_resubmit"]
    v2 = services.report_resubmit(actor=d.station_doctor.user, report=v1, note="已改")
    page = client.get(f"/indicators/reports/{v2.pk}/")
    assert [(e.report.version, e.action) for e in page.context["events"]] == [
        (1, "submit"), (1, "return"), (2, "resubmit")]
    assert client.get("/indicators/reports/").context["returned"] == []
    client.force_login(d.manager_a.user)
    assert client.get("/indicators/reports/").context["returned"] == []  # the centre's own reports only

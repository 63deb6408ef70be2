"""Programme pages: the doctor's path (overdue list -> visit form -> outcome), screening, numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.programmes import services
from jiayi.programmes.models import Enrolment, Visit
from tests.programmes.conftest import days_ago, ht_form

pytestmark = pytest.mark.django_db


def _post_visit(client, district, days, sbp, dbp, **extra):
    data = {
        "visit_date": days_ago(days).isoformat(),
        "mode": "clinic",
        "visit_type": "follow_up",
        "sbp": sbp,
        "dbp": dbp,
        "adherence": "regular",
        **extra,
    }
    return client.post(reverse("programmes:visit_new", args=["hypertension", district.resident_a.pk]), data)


def test_doctor_opens_overdue_list_records_visits_and_gets_a_referral(client, district, ht_enrolment):
    client.force_login(district.doctor_a.user)
    page = client.get(reverse("programmes:worklist") + "?bucket=overdue")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张三" in html and reverse("programmes:visit_new", args=["hypertension", district.resident_a.pk]) in html
    form = client.get(reverse("programmes:visit_new", args=["hypertension", district.resident_a.pk]))
    assert form.status_code == 200 and "高血压患者随访服务记录表" in form.content.decode()
    r = _post_visit(client, district, 20, 158, 96)
    assert r.status_code == 302, r.content.decode()[:2000]
    v1 = Visit.objects.get()
    assert v1.next_due == v1.visit_date + timedelta(days=14)
    detail = client.get(r["Location"]).content.decode()
    assert v1.next_due.strftime("%Y-%m-%d") in detail
    r = _post_visit(client, district, 6, 152, 94)
    v2 = Visit.objects.latest("visit_date")
    assert v2.referral_reasons == ["two_uncontrolled"]
    detail = client.get(r["Location"]).content.decode()
    assert "连续两次出现控制不满意" in detail


def test_visit_form_prefills_previous_values(client, district, ht_enrolment):
    services.visit_record(
        actor=district.doctor_a.user,
        enrolment=ht_enrolment,
        visit_date=days_ago(30),
        form=ht_form(
            smoking_per_day=5,
            salt="heavy",
            medications=[
                {
                    "drug": "硝苯地平控释片",
                    "drug_class": "ccb",
                    "dose": 30,
                    "dose_unit": "mg",
                    "times_per_day": 1,
                    "duration_days": 28,
                }
            ],
        ),
    )
    client.force_login(district.doctor_a.user)
    html = client.get(reverse("programmes:visit_new", args=["hypertension", district.resident_a.pk])).content.decode()
    assert 'name="smoking_per_day" value="5"' in html
    assert "硝苯地平控释片" in html
    assert 'name="sbp" value=""' in html  # measured values are not prefilled, only hinted
    assert "上次 132" in html


def test_visit_form_shows_field_errors_and_stores_nothing(client, district, ht_enrolment):
    client.force_login(district.doctor_a.user)
    r = _post_visit(client, district, 2, 400, 90)
    assert r.status_code == 200
    assert "收缩压" in r.content.decode() and "field-error" in r.content.decode()
    assert not Visit.objects.exists()


def test_preview_recomputes_the_outcome(client, district, ht_enrolment):
    client.force_login(district.doctor_a.user)
    url = reverse("programmes:visit_preview", args=["hypertension", district.resident_a.pk])
    r = client.post(url, {"visit_date": days_ago(0).isoformat(), "sbp": 185, "dbp": 100, "adherence": "regular"})
    assert r.status_code == 200 and "紧急转诊" in r.content.decode()
    assert not Visit.objects.exists()


def test_enrol_page_enrols_and_opens_the_visit_form(client, district):
    client.force_login(district.doctor_a.user)
    url = reverse("programmes:enrol", args=["diabetes", district.resident_a.pk])
    assert client.get(url).status_code == 200
    r = client.post(
        url, {"start_date": days_ago(1).isoformat(), "ruleset": "nbphs-2017", "doctor": district.doctor_a.pk}
    )
    assert r.status_code == 302
    assert Enrolment.objects.get().team == district.team_a
    assert r["Location"] == reverse("programmes:visit_new", args=["diabetes", district.resident_a.pk])


def test_unenrolled_visit_form_redirects_to_enrol(client, district):
    client.force_login(district.doctor_a.user)
    r = client.get(reverse("programmes:visit_new", args=["hypertension", district.resident_a.pk]))
    assert r.status_code == 302 and r["Location"].endswith("/enrol/")


def test_home_and_resident_panels(client, district, ht_enrolment):
    client.force_login(district.doctor_a.user)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="pg-overdue"' in home
    page = client.get(reverse("resident_detail", args=[district.resident_a.pk])).content.decode()
    assert "pg-resident-panel" in page and "China-PAR" in page


def test_numbers_page_shows_the_rate(client, district, ht_enrolment):
    from jiayi.indicators.engine import compute
    from jiayi.indicators.models import IndicatorValue

    today = timezone.localdate()
    compute(backend="db", periods=[str(today.year)], today=today)
    client.force_login(district.manager_a.user)
    r = client.get(reverse("programmes:numbers"), {"programme": "hypertension"}, follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and "天平路社区卫生服务中心" in html
    stored = IndicatorValue.objects.get(indicator="ht.standardised_rate", period=str(today.year), level="centre",
                                        unit_id=district.centre_a.pk)
    assert stored.denominator == 1
    row = html[html.index('<tr data-code="ht.standardised_rate">'):]
    assert f'data-testid="denominator">{stored.denominator:g}<' in row[: row.index("</tr>")]
    assert reverse("indicators:residents", args=["centre", district.centre_a.pk, "ht.standardised_rate"]) in html


def test_screening_pages(client, district):
    client.force_login(district.station_doctor.user)
    assert "李四" in client.get(reverse("programmes:hypertension:screening")).content.decode()
    url = reverse("programmes:hypertension:screening_measure", args=[district.resident_a1.pk])
    r = client.post(url, {"sbp": "150", "dbp": "96", "waist": "90"})
    assert r.status_code == 200 and "血压升高" in r.content.decode()
    r = client.post(url, {"sbp": "abc", "dbp": ""})
    assert "请输入数字" in r.content.decode()


def test_plan_and_forecast_pages(client, district, ht_enrolment):
    client.force_login(district.doctor_a.user)
    url = reverse("programmes:plan", args=[ht_enrolment.pk])
    r = client.post(
        url,
        {
            "med-0-drug": "缬沙坦胶囊",
            "med-0-drug_class": "arb",
            "med-0-dose": "80",
            "med-0-dose_unit": "mg",
            "med-0-times_per_day": "1",
            "med-0-duration_days": "28",
        },
    )
    assert r.status_code == 302
    html = client.get(reverse("programmes:forecast")).content.decode()
    assert "缬沙坦胶囊" in html and "2400" in html


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x", "http://testserver.evil/"])
def test_referral_return_never_redirects_off_site(client, district, ht_enrolment, target):
    """The page followed any ``next`` it was given (an open redirect)."""
    from jiayi.programmes.models import Referral

    services.visit_record(
        actor=district.doctor_a.user, enrolment=ht_enrolment, visit_date=days_ago(3), form=ht_form(sbp=190, dbp=100)
    )
    referral = Referral.objects.get(enrolment=ht_enrolment)
    client.force_login(district.doctor_a.user)
    r = client.post(reverse("programmes:referral_return", args=[referral.pk]),
                    {"returned_on": days_ago(0).isoformat(), "next": target})
    assert r.status_code == 302
    assert r["Location"].startswith("/") and not r["Location"].startswith("//")
    assert "evil" not in r["Location"]
    referral.refresh_from_db()
    assert referral.returned_on == days_ago(0)
    ok = client.post(reverse("programmes:referral_return", args=[referral.pk]),
                     {"returned_on": days_ago(0).isoformat(), "next": "/programmes/worklist/?bucket=overdue"})
    assert ok["Location"] == "/programmes/worklist/?bucket=overdue"  # a local next is still followed


def test_worklist_scope_ids_are_read_exactly(client, district):
    """``?team=abc`` fell back to team 1 and ids above 100000 were clamped to 100000."""
    from jiayi.org.models import Team

    big = Team.objects.create(pk=100_001, name="天平9队", institution=district.centre_a)
    client.force_login(district.doctor_a.user)
    url = reverse("programmes:worklist")
    r = client.get(url, {"team": str(big.pk)})
    assert r.status_code == 200 and r.context["scope"].team == big
    assert client.get(url, {"team": "abc"}).status_code == 404
    assert client.get(url, {"doctor": "1.5"}).status_code == 404


def test_a_visit_edit_sends_back_the_version_as_read(client, district, ht_enrolment):
    """The posted version was clamped to 100000, so a row past it could never be saved again."""
    visit = services.visit_record(
        actor=district.doctor_a.user, enrolment=ht_enrolment, visit_date=days_ago(3), form=ht_form()
    )
    Visit.objects.filter(pk=visit.pk).update(version=100_001)
    client.force_login(district.doctor_a.user)
    data = {"mode": "clinic", "sbp": "136", "dbp": "84", "adherence": "regular", "version": "100001"}
    r = client.post(reverse("programmes:visit_edit", args=[visit.pk]), data)
    assert r.status_code == 302, r.context and r.context.get("errors")
    visit.refresh_from_db()
    assert (visit.sbp, visit.version) == (136, 100_002)

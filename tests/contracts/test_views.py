"""Contract pages: three-click signing from the resident page, household signing, the contract page,
the team page, packages; each page's access (in scope, out of scope 404, anonymous -> login, 403)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.contracts.models import Contract, ContractStatus, SatisfactionSurvey, ServiceDelivery, ServicePackage
from jiayi.contracts.services import service_delivered
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _login(client, district, persona):
    client.force_login(district.user(persona))
    return client


def _assert_access(client, district, url, *, ok="doctor_a", out="doctor_b"):
    client.logout()
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"], url
    assert _login(client, district, out).get(url).status_code == 404, url
    assert _login(client, district, "resident").get(url).status_code == 404, url
    r = _login(client, district, ok).get(url)
    assert r.status_code == 200, url
    return r


def test_sign_in_three_clicks_from_the_resident_page(client, district, packages, hypertensive):
    _login(client, district, "doctor_a")
    page = client.get(reverse("resident_detail", args=[hypertensive.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    sign_url = reverse("contracts:sign", args=[hypertensive.pk])
    assert sign_url in html  # click 1: the 签约 button on the resident page
    form = client.get(sign_url)  # the form comes prefilled: team, doctor, basic package, consent
    assert form.status_code == 200
    ctx = form.context["form"]
    assert ctx["team_id"].value() == district.team_a.pk and ctx["doctor_id"].value() == district.doctor_a.pk
    # click 2: tick the hypertension package; click 3: 确认签约.
    data = {
        "team_id": district.team_a.pk,
        "doctor_id": district.doctor_a.pk,
        "package_ids": [packages["basic"].pk, packages["hypertension"].pk],
        "consent_method": "handwritten",
        "place_type": "institution",
        "start_date": _today().isoformat(),
        "months": 12,
        f"opt_{packages['basic'].pk}": ["referral_booking", "tcm_guidance"],
    }
    r = client.post(sign_url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    c = Contract.objects.get(resident=hypertensive)
    assert r["Location"] == reverse("contracts:detail", args=[c.pk])
    assert set(c.packages.values_list("code", flat=True)) == {"basic", "hypertension"}
    detail = client.get(r["Location"]).content.decode()
    assert "高血压随访" in detail and c.number in detail
    # The resident page now shows the contract instead of the button.
    html = client.get(reverse("resident_detail", args=[hypertensive.pk])).content.decode()
    assert c.number in html and 'data-testid="sign-button"' not in html


def test_sign_form_shows_field_errors_and_stores_nothing(client, district, packages):
    _login(client, district, "doctor_a")
    url = reverse("contracts:sign", args=[district.resident_a1.pk])
    r = client.post(
        url,
        {
            "team_id": district.team_a.pk,
            "doctor_id": district.doctor_a.pk,
            "package_ids": [packages["basic"].pk, packages["maternal"].pk],
            "consent_method": "handwritten",
            "place_type": "institution",
        },
    )
    assert r.status_code == 200
    assert "孕产妇" in r.content.decode()
    assert r.context["form"].errors["package_ids"]
    assert not Contract.objects.exists()


def test_sign_page_access(client, district, basic):
    _assert_access(client, district, reverse("contracts:sign", args=[district.resident_a.pk]))
    assert (
        _login(client, district, "auditor").get(reverse("contracts:sign", args=[district.resident_a.pk])).status_code
        == 403
    )


def test_household_signing_from_the_household_page(client, district, packages, household, hypertensive):
    _login(client, district, "doctor_a")
    html = client.get(reverse("household_detail", args=[household.pk])).content.decode()
    url = reverse("contracts:sign_household", args=[household.pk])
    assert url in html
    _assert_access(client, district, url)
    _login(client, district, "doctor_a")
    r = client.post(
        url,
        {
            "member_ids": [str(m.pk) for m in household.members.all()],
            "team_id": district.team_a.pk,
            "doctor_id": district.doctor_a.pk,
            "package_ids": [packages["basic"].pk, packages["hypertension"].pk],
            "consent_method": "handwritten",
            "place_type": "home",
            "months": 12,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Contract.objects.filter(household_signing__household=household).count() == 3
    assert client.get(r["Location"]).status_code == 200
    _assert_access(client, district, reverse("contracts:household", args=[household.pk]))


def test_contract_page_shows_promised_delivered_and_due(client, district, packages, hypertensive):
    c = sign(
        district, hypertensive, [packages["basic"], packages["hypertension"]], start_date=_today() - timedelta(days=100)
    )
    service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=_today(),
        source="hypertension.visit",
        source_id=1,
    )
    r = _assert_access(client, district, reverse("contracts:detail", args=[c.pk]))
    progress = {p.service_code: p for p in r.context["progress"] if p.package_name == "高血压健康管理包"}
    assert progress["ht_follow_up"].delivered == 1 and progress["ht_follow_up"].quantity == 4
    assert "hypertension.visit" in r.content.decode()


def test_manual_recording_and_revocation_on_the_contract_page(client, district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=5))
    _login(client, district, "nurse_a")
    url = reverse("contracts:delivery_add", args=[c.pk])
    r = client.post(url, {"service_code": "consultation", "delivered_on": _today().isoformat()})
    assert r.status_code == 302
    d = ServiceDelivery.objects.get()
    r = client.post(
        url,
        {"service_code": "consultation", "delivered_on": (_today() + timedelta(days=3)).isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "服务日期不能晚于今天" in r.content.decode()
    assert ServiceDelivery.objects.count() == 1
    r = client.post(reverse("contracts:delivery_revoke", args=[c.pk, d.pk]), {"reason": "录错"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.revoked_at is not None
    for persona, code in (("doctor_b", 404), ("auditor", 403)):
        assert _login(client, district, persona).post(url, {"service_code": "consultation"}).status_code == code
    client.logout()
    assert client.post(url, {}).status_code == 302


def test_terminate_on_the_contract_page(client, district, basic):
    c = sign(district, district.resident_a, [basic])
    url = reverse("contracts:terminate", args=[c.pk])
    _login(client, district, "doctor_a")
    r = client.post(url, {"version": c.version, "reason": "other"})
    assert r.status_code == 422 and "请说明解约原因" in r.content.decode()
    r = client.post(url, {"version": c.version, "reason": "moved_out"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == ContractStatus.TERMINATED
    assert _login(client, district, "doctor_b").post(url, {}).status_code == 404
    assert _login(client, district, "auditor").post(url, {}).status_code == 403


def test_renew_page(client, district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=350))
    url = reverse("contracts:renew", args=[c.pk])
    r = _assert_access(client, district, url)
    assert r.context["form"]["package_ids"].value() == [basic.pk]
    r = client.post(
        url,
        {
            "team_id": district.team_a.pk,
            "doctor_id": district.doctor_a.pk,
            "package_ids": [basic.pk],
            "consent_method": "electronic",
            "place_type": "institution",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    new = Contract.objects.get(renewal_of=c)
    assert new.status == ContractStatus.PENDING
    r = client.post(
        url,
        {
            "team_id": district.team_a.pk,
            "doctor_id": district.doctor_a.pk,
            "package_ids": [basic.pk],
            "consent_method": "electronic",
            "place_type": "institution",
        },
    )
    assert r.status_code == 200 and "该签约已续约" in r.content.decode()


def test_satisfaction_page(client, district, basic):
    c = sign(district, district.resident_a, [basic])
    url = reverse("contracts:satisfaction", args=[c.pk])
    _assert_access(client, district, url)
    data = {
        "surveyed_on": _today().isoformat(),
        "method": "phone",
        "overall_score": 5,
        "attitude_score": 4,
        "access_score": 4,
        "skill_score": 4,
        "fulfilment_score": 5,
        "would_renew": "true",
    }
    r = client.post(url, data)
    assert r.status_code == 302
    s = SatisfactionSurvey.objects.get()
    assert s.would_renew is True
    r = client.post(url, {**data, "overall_score": 2, "version": s.version})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.overall_score == 2
    assert _login(client, district, "auditor").post(url, data).status_code == 403


def test_team_page_shows_numbers_and_list_sizes(client, district, packages, hypertensive):
    from jiayi.indicators.engine import compute
    from jiayi.indicators.models import IndicatorValue

    sign(district, hypertensive, [packages["basic"], packages["hypertension"]])
    url = reverse("contracts:team", args=[district.team_a.pk])
    r = _assert_access(client, district, url)
    assert "尚未计算" in r.content.decode()  # nothing stored yet: no second count of its own
    year = str(_today().year)
    compute(backend="db", periods=[year], today=_today())
    html = _login(client, district, "doctor_a").get(url).content.decode()
    stored = IndicatorValue.objects.get(indicator="contract.fulfilment_rate", period=year, level="team",
                                        unit_id=district.team_a.pk)
    row = html[html.index('<tr data-code="contract.fulfilment_rate">'):]
    row = row[: row.index("</tr>")]
    assert f'data-testid="numerator">{stored.numerator:g}<' in row
    assert f'data-testid="denominator">{stored.denominator:g}<' in row and stored.denominator == 1
    assert "签约服务指标" in html and "项目约定" in html and "尚未计算" not in html
    # Coverage is counted for the team's centre (a team has no population): the page links there.
    assert f"level=centre&amp;unit_id={district.centre_a.pk}" in html
    assert next(d for d in r.context["doctors"] if d.staff == district.doctor_a).list_size == 1
    assert _login(client, district, "doctor_a").get(reverse("contracts:team_home")).status_code == 302


def test_worklists(client, district, basic, hypertensive):
    sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=340))
    base = reverse("contracts:worklist", args=[district.team_a.pk])
    r = _assert_access(client, district, base + "?kind=expiring_30")
    assert [c.resident_id for c in r.context["page"].items] == [district.resident_a.pk]
    r = client.get(base + "?kind=unsigned")
    assert [x.pk for x in r.context["page"].items] == [hypertensive.pk]
    assert "高血压患者" in r.content.decode()
    r = client.get(base + "?kind=behind")
    assert [c.resident_id for c in r.context["page"].items] == [district.resident_a.pk]


def _assert_list_access(client, district, url):
    """A list page: anonymous -> login, a resident account -> 404, staff -> 200 (filtered by scope)."""
    client.logout()
    assert client.get(url).status_code == 302
    assert _login(client, district, "resident").get(url).status_code == 404
    r = _login(client, district, "doctor_a").get(url)
    assert r.status_code == 200
    return r


def test_contract_list_page(client, district, basic):
    c = sign(district, district.resident_a, [basic])
    r = _assert_list_access(client, district, reverse("contracts:list"))
    assert list(r.context["page"].items) == [c]
    for persona in ("doctor_b", "referral_desk"):
        r = _login(client, district, persona).get(reverse("contracts:list"))
        assert list(r.context["page"].items) == []
    assert client.get(reverse("contracts:list") + f"?resident={district.resident_a.pk}").status_code == 404
    assert client.get(reverse("contracts:list") + f"?team={district.team_a.pk}").status_code == 404


def test_package_pages(client, district, packages):
    r = _assert_list_access(client, district, reverse("contracts:packages"))
    assert {p.code for p, _items, _groups in r.context["rows"]} >= {"basic", "hypertension"}
    new = reverse("contracts:package_new")
    assert _login(client, district, "doctor_a").get(new).status_code == 403
    _login(client, district, "manager_a")
    assert client.get(new).status_code == 200
    r = client.post(
        new,
        {
            "code": "rehab",
            "name": "康复包",
            "kind": "personalised",
            "price": "100",
            "insurance_share": "50",
            "public_health_share": "50",
            "resident_share": "0",
            "period_months": 12,
            "qty_rehab_guidance": "6",
            "target_groups": ["disabled"],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    p = ServicePackage.objects.get(code="rehab")
    assert p.institution == district.centre_a and p.items.get().quantity == 6
    r = client.post(
        new,
        {
            "code": "bad",
            "name": "坏包",
            "kind": "personalised",
            "price": "100",
            "insurance_share": "50",
            "public_health_share": "0",
            "resident_share": "0",
            "period_months": 12,
            "qty_home_visit": "2",
        },
    )
    assert r.status_code == 422 and "之和" in r.content.decode()
    assert not ServicePackage.objects.filter(code="bad").exists()
    r = client.post(reverse("contracts:packages_install"))
    assert r.status_code == 302
    assert ServicePackage.objects.filter(institution=district.centre_a, code="basic").exists()
    assert _login(client, district, "doctor_a").post(reverse("contracts:packages_install")).status_code == 403


def test_home_page_panel(client, district, basic):
    sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=200))
    html = _login(client, district, "doctor_a").get(reverse("home")).content.decode()
    assert reverse("contracts:team", args=[district.team_a.pk]) in html


@pytest.mark.parametrize(("field", "value"), [("start_date", "9999-12-31"), ("end_date", "9999-12-31")])
def test_sign_form_dates_beyond_the_calendar_are_field_errors(client, district, packages, field, value):
    """The period's end (or a renewal window after it) overflowed the calendar: a 500."""
    _login(client, district, "doctor_a")
    data = {
        "team_id": district.team_a.pk,
        "doctor_id": district.doctor_a.pk,
        "package_ids": [packages["basic"].pk],
        "consent_method": "handwritten",
        "place_type": "institution",
        field: value,
    }
    r = client.post(reverse("contracts:sign", args=[district.resident_a.pk]), data)
    assert r.status_code == 200
    assert r.context["form"].errors[field]
    assert not Contract.objects.exists()

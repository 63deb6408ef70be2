"""Type 2 diabetes screening: glucose states (ALGORITHMS.md §5.3), the CDRS high-risk list (ALGORITHMS.md
§2.3), re-checks on another day and confirmation, the pages and the API."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.core.errors import DomainValidationError
from jiayi.programmes import risk, screening
from jiayi.programmes.diabetes import rules as dm
from jiayi.programmes.diabetes import screening as dm_screening
from jiayi.programmes.models import Task, TaskStatus
from tests import factories as f
from tests.programmes.conftest import days_ago

RS = dm.NBPHS_2017

# ALGORITHMS.md §5.3 vectors: (values, category, raised)
GLUCOSE_VECTORS = [
    ({"fasting_glucose": 6.9, "ogtt_2h": 7.7}, "ifg", False),
    ({"fasting_glucose": 6.0, "ogtt_2h": 9.0}, "igt", False),
    ({"fasting_glucose": 7.0}, "diabetic_range", True),
    ({"ogtt_2h": 11.1}, "diabetic_range", True),
    ({"hba1c": 6.4}, "unknown", False),
    ({"hba1c": 6.5}, "diabetic_range", True),
    ({"random_glucose": 11.1}, "diabetic_range", True),
    ({"fasting_glucose": 5.2, "ogtt_2h": 6.8}, "normal", False),
]


@pytest.mark.parametrize(("values", "category", "raised"), GLUCOSE_VECTORS)
def test_glucose_vectors(values, category, raised):
    result = dm.screening_result(ruleset=RS, **values)
    assert result.status.category == category
    assert result.raised is raised
    assert result.confirm_days == 2, "without typical symptoms a second day confirms"
    assert dm.screening_result(ruleset=RS, typical_symptoms=True, **values).confirm_days == 1


# ALGORITHMS.md §2.3 vectors: (age, sex, BMI, waist, SBP, family history) -> total, high risk
CDRS_VECTORS = [
    ((45, "F", 23.0, 78, 125, True), 27, True),
    ((35, "F", 22.5, 72, 125, True), 21, False),
    ((35, "F", 24.5, 76, 125, True), 25, True),
    ((24, "F", 21.9, 69.9, 109, False), 0, False),
    ((60, "F", 26.0, 88, 142, False), 34, True),
]


@pytest.mark.parametrize(("inputs", "total", "high"), CDRS_VECTORS)
def test_high_risk_from_the_cdrs(inputs, total, high):
    age, sex, bmi, waist, sbp, fh = inputs
    score = risk.diabetes_risk_score(age=age, sex=sex, bmi=bmi, waist=waist, sbp=sbp, family_history=fh)
    assert score.total == total
    assert ("cdrs" in dm.high_risk(glucose_category="normal", score=score)) is high


def test_prediabetes_is_high_risk_without_a_score():
    assert dm.high_risk(glucose_category="ifg", score=None) == ["ifg"]
    assert dm.high_risk(glucose_category="igt", score=None) == ["igt"]
    assert dm.high_risk(glucose_category="ifg_igt", score=None) == ["ifg", "igt"]
    assert dm.high_risk(glucose_category="normal", score=None) == []


def _at(days: int) -> datetime:
    return timezone.make_aware(datetime.combine(days_ago(days), time(8)))


@pytest.mark.django_db
def test_a_raised_glucose_is_rechecked_on_another_day_then_confirmed(district):
    r = district.resident_a1
    actor = district.station_doctor.user
    out = dm_screening.screening_record(actor=actor, resident=r, fasting_glucose=7.4, measured_at=_at(10))
    assert out.raised and out.case.status == "rechecking" and out.detail["category"] == "diabetic_range"
    assert Task.objects.filter(resident=r, programme="diabetes", kind="screening_recheck", status="due").exists()
    out = dm_screening.screening_record(actor=actor, resident=r, hba1c=6.8, measured_at=_at(3))
    case = out.case
    assert case.status == "confirmable" and len(case.raised_days) == 2
    assert [x.get("hba1c") for x in case.readings] == [None, 6.8]
    e = screening.screening_confirm(actor=actor, case=case, version=case.version)
    assert e.programme == "diabetes" and e.source == "screening"
    assert r.problems.filter(icd10="E11").exists()
    assert not Task.objects.filter(resident=r, kind="screening_recheck", status=TaskStatus.DUE).exists()
    with pytest.raises(DomainValidationError) as exc:
        dm_screening.screening_record(actor=actor, resident=r, fasting_glucose=6.0)
    assert "resident_id" in exc.value.errors


@pytest.mark.django_db
def test_typical_symptoms_confirm_on_one_day_and_a_normal_recheck_rules_out(district):
    actor = district.station_doctor.user
    out = dm_screening.screening_record(
        actor=actor, resident=district.resident_a1, random_glucose=12.5, typical_symptoms=True
    )
    assert out.case.status == "confirmable"
    out = dm_screening.screening_record(
        actor=actor, resident=district.resident_b, fasting_glucose=7.1, measured_at=_at(5)
    )
    assert out.case.status == "rechecking"
    out = dm_screening.screening_record(actor=actor, resident=district.resident_b, fasting_glucose=6.4, ogtt_2h=8.0)
    assert out.case.status == "ruled_out" and not out.raised
    assert out.detail["category"] == "ifg_igt" and out.high_risk == ["ifg", "igt"]


@pytest.mark.django_db
def test_an_ogtt_alone_needs_no_measurement_and_empty_input_is_refused(district):
    actor = district.station_doctor.user
    out = dm_screening.screening_record(actor=actor, resident=district.resident_a1, ogtt_2h=11.5)
    assert out.measurement is None and out.raised and out.case.readings[0]["ogtt_2h"] == 11.5
    with pytest.raises(DomainValidationError) as exc:
        dm_screening.screening_record(actor=actor, resident=district.resident_a1)
    assert "fasting_glucose" in exc.value.errors


def _with_cdrs_inputs(district, *, sex, age, bmi_height_weight, waist, sbp, family_history):
    from jiayi.residents.models import HealthRecord
    from jiayi.residents.services import health_record_create, measurement_record

    today = timezone.localdate()
    birth = today.replace(year=today.year - age) - timezone.timedelta(days=30)
    r = f.resident(inst=district.centre_a, area_=district.community_a, name="孙八", sex=sex, birth=birth)
    height, weight = bmi_height_weight
    measurement_record(actor=None, resident=r, height=height, weight=weight, waist=waist, sbp=sbp, dbp=80)
    if family_history:
        if not HealthRecord.objects.filter(resident=r).exists():
            health_record_create(actor=None, resident=r, institution=district.centre_a)
        HealthRecord.objects.filter(resident=r).update(family_history={"father": ["糖尿病"]})
    return r


@pytest.mark.django_db
def test_the_high_risk_list(district, client, api_client):
    # 45-year-old woman, BMI 23.0 (160 cm, 58.9 kg), waist 78, SBP 125, diabetes in the family: CDRS 27.
    high = _with_cdrs_inputs(
        district, sex="F", age=45, bmi_height_weight=(160, 58.9), waist=78, sbp=125, family_history=True
    )
    # The same without the family history: 21, not high risk.
    low = _with_cdrs_inputs(
        district, sex="F", age=45, bmi_height_weight=(160, 58.9), waist=78, sbp=125, family_history=False
    )
    rows, has_next = dm_screening.high_risk_list(district.doctor_a.user)
    by_id = {row.resident.pk: row for row in rows}
    assert not has_next
    assert high.pk in by_id and by_id[high.pk].score.total == 27 and by_id[high.pk].criteria == ["cdrs"]
    assert low.pk not in by_id
    # Impaired fasting glucose puts a resident on the list without a score.
    dm_screening.screening_record(actor=district.doctor_a.user, resident=district.resident_a, fasting_glucose=6.5)
    rows, _ = dm_screening.high_risk_list(district.doctor_a.user)
    assert [row.criteria for row in rows if row.resident.pk == district.resident_a.pk] == [["ifg"]]
    # Scoped: centre B sees none of them.
    assert dm_screening.high_risk_list(district.doctor_b.user)[0] == []

    api_client.login(district.doctor_a.user)
    body = api_client.get("/api/v1/programmes/diabetes/screening/high-risk").json()
    assert {i["resident_id"]: i["cdrs"] for i in body["items"]}[high.pk] == 27
    client.force_login(district.doctor_a.user)
    page = client.get(reverse("programmes:diabetes:screening")).content.decode()
    assert high.name in page and "中国糖尿病风险评分≥25分" in page


@pytest.mark.django_db
def test_api_and_pages(district, client, api_client):
    url = "/api/v1/programmes/diabetes/screening/measurements"
    api_client.login(district.doctor_a.user)
    r = api_client.post(url, {"resident_id": district.resident_a.pk, "fasting_glucose": 7.3})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["raised"] and body["category"] == "diabetic_range" and body["case"]["status"] == "rechecking"
    assert api_client.post(url, {"resident_id": district.resident_a.pk, "fasting_glucose": 700}).status_code == 422
    assert api_client.post(url, {"resident_id": district.resident_a.pk}).status_code == 422
    api_client.login(district.doctor_b.user)
    assert api_client.post(url, {"resident_id": district.resident_a.pk, "fasting_glucose": 7.3}).status_code == 404
    assert api_client.get("/api/v1/programmes/screening/cases").json() == []

    client.force_login(district.doctor_a.user)
    page = reverse("programmes:diabetes:screening_measure", args=[district.resident_a1.pk])
    assert client.get(page).status_code == 200
    r = client.post(page, {"fasting_glucose": "6.3"})
    assert r.status_code == 200 and 'data-testid="dm-screening-outcome"' in r.content.decode()
    assert "空腹血糖受损" in r.content.decode()
    r = client.post(page, {"fasting_glucose": "abc"})
    assert "请输入数字" in r.content.decode()
    client.force_login(district.doctor_b.user)
    assert client.get(page).status_code == 404
    # The re-check task of a diabetes case links to the diabetes screening page.
    client.force_login(district.doctor_a.user)
    worklist = client.get(reverse("programmes:worklist"), {"bucket": "all_open", "scope": "mine"}).content.decode()
    assert reverse("programmes:diabetes:screening_measure", args=[district.resident_a.pk]) in worklist

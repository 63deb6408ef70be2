"""The indicators API and the FHIR Measure / MeasureReport endpoints."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport


def test_the_catalogue_lists_every_indicator_with_its_rule_set(api_client, district):
    from jiayi.indicators.catalogue import CATALOGUE

    api_client.login(district.manager_a.user)
    body = api_client.get("/api/v1/indicators/catalogue").json()
    assert [i["code"] for i in body] == list(CATALOGUE)
    use = next(i for i in body if i["code"] == "record.use_rate")
    assert "indicators/nbphs-2017:record_use_window_months" in use["unverified"]
    assert "动态记录" in use["variant"]


def test_unit_values_are_scoped(computed, api_client):
    d = computed.d
    api_client.login(d.manager_a.user)
    r = api_client.get(f"/api/v1/indicators/units/centre/{d.centre_a.pk}", period="2025")
    assert r.status_code == 200
    values = {v["indicator"]: v for v in r.json()["values"]}
    assert (values["record.rate"]["numerator"], values["record.rate"]["denominator"]) == (5, 6)
    assert api_client.get(f"/api/v1/indicators/units/centre/{d.centre_b.pk}", period="2025").status_code == 404
    assert api_client.get(f"/api/v1/indicators/units/district/{d.commission.pk}").status_code == 404
    assert api_client.get(f"/api/v1/indicators/units/centre/{d.centre_a.pk}", period="2025-13").status_code == 422
    api_client.login(None)
    assert api_client.get(f"/api/v1/indicators/units/centre/{d.centre_a.pk}").status_code == 401


def test_children_and_line_list(computed, api_client):
    d = computed.d
    api_client.login(d.district_admin.user)
    kids = api_client.get(f"/api/v1/indicators/units/district/{d.commission.pk}/children",
                          indicator="ht.standardised_rate", period="2025").json()
    assert {k["name"] for k in kids} == {"天平路社区卫生服务中心", "湖南路社区卫生服务中心"}
    r = api_client.get(f"/api/v1/indicators/units/team/{d.team_a.pk}/residents", indicator="record.rate",
                       period="2025", status="all")
    assert r.status_code == 200
    assert sorted(i["name"] for i in r.json()["items"]) == ["周四", "张三", "钱二"]
    assert all("*" in i["id_number_masked"] for i in r.json()["items"])
    bad = api_client.get(f"/api/v1/indicators/units/team/{d.team_a.pk}/residents", indicator="nope", period="2025")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "indicator"]
    api_client.login(d.doctor_b.user)
    assert api_client.get(f"/api/v1/indicators/units/team/{d.team_a.pk}/residents", indicator="record.rate",
                          period="2025").status_code == 404


def test_preset_scores(computed, api_client):
    d = computed.d
    api_client.login(d.district_admin.user)
    assert {p["code"] for p in api_client.get("/api/v1/indicators/presets").json()} >= {
        "xintang-2019", "binhai-2019", "gusu-2021", "xuhui-2025", "songshan-2018"}
    body = api_client.get("/api/v1/indicators/presets/gusu-2021", level="district", unit_id=d.commission.pk,
                          period="2025").json()
    rate = next(t for t in body["targets"] if t["indicator"] == "record.rate")
    assert (rate["value"], rate["status"], rate["score"]) == (87.5, "missed", pytest.approx(97.22, abs=0.01))
    assert body["summary"]["targets"] == 22
    assert api_client.get("/api/v1/indicators/presets/nowhere").status_code == 404


def test_custom_presets_over_the_api(computed, api_client):
    d = computed.d
    api_client.login(d.district_admin.user)
    r = api_client.post("/api/v1/indicators/presets", {"code": "bad code", "title": "x"})
    assert r.status_code == 422
    r = api_client.post("/api/v1/indicators/presets", {
        "code": "xuhui-local", "title": "本区方案", "targets": [{"label": "签约", "indicator": "contract.coverage",
                                                                "target": 60}]})
    assert r.status_code == 201 and r.json()["targets"][0]["indicator"] == "contract.coverage"
    r = api_client.post("/api/v1/indicators/presets", {
        "code": "xuhui-bad", "title": "x", "targets": [{"label": "x", "indicator": "no.such", "target": 1}]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "items", "0", "indicator"]
    api_client.login(d.manager_a.user)
    assert api_client.post("/api/v1/indicators/presets", {"code": "c1", "title": "x"}).status_code == 403


def test_custom_preset_targets_are_replaced(computed, api_client, client):
    d = computed.d
    api_client.login(d.district_admin.user)
    api_client.post("/api/v1/indicators/presets",
                    {"code": "xuhui-local", "title": "本区方案", "based_on": "xuhui-2025"})

    def put(code, body):
        return client.put(f"/api/v1/indicators/presets/{code}/targets", body, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {api_client.token}")

    r = put("xuhui-local", {"targets": [{"label": "签约覆盖率", "indicator": "contract.coverage", "target": 45}]})
    assert r.status_code == 200 and len(r.json()["targets"]) == 1
    assert put("xuhui-local", {"targets": [{"label": "", "indicator": ""}]}).status_code == 422
    assert put("gusu-2021", {"targets": []}).status_code == 403


def test_runs_are_for_the_district(computed, api_client):
    api_client.login(computed.d.manager_a.user)
    assert api_client.get("/api/v1/indicators/runs").status_code == 403
    assert api_client.post("/api/v1/indicators/runs", {"backend": "db"}).status_code == 403
    api_client.login(computed.d.district_admin.user)
    runs = api_client.get("/api/v1/indicators/runs").json()
    assert runs[0]["status"] == "done"
    assert api_client.post("/api/v1/indicators/runs", {"backend": "oracle"}).status_code == 422


def test_fhir_measures_are_r4b(api_client, district):
    from jiayi.indicators.catalogue import CATALOGUE

    api_client.login(district.manager_a.user)
    r = api_client.get("/api/v1/fhir/Measure")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == len(CATALOGUE)
    one = api_client.get("/api/v1/fhir/Measure/contract.coverage.special-fp-family").json()
    measure = Measure.model_validate(one)
    assert measure.title == "重点人群签约服务覆盖率：计划生育特殊家庭成员"
    assert measure.scoring.coding[0].code == "proportion"
    assert api_client.get("/api/v1/fhir/Measure/nothing").status_code == 404


def test_fhir_measure_reports_search_by_measure_subject_and_period(computed, api_client):
    d = computed.d
    api_client.login(d.manager_a.user)
    r = api_client.get("/api/v1/fhir/MeasureReport", measure="ht.standardised_rate",
                       subject=f"Practitioner/{d.station_doctor.pk}", **{"period-code": "2025"})
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == 1
    report = MeasureReport.model_validate(bundle.entry[0].resource.model_dump())
    counts = {p.code.coding[0].code: p.count for p in report.group[0].population}
    assert counts == {"numerator": 1, "denominator": 1}
    assert report.group[0].measureScore.value == 100
    assert report.period.start.isoformat() == "2025-01-01" and report.period.end.isoformat() == "2025-12-31"
    # Out of scope: centre B's values are not returned to centre A's manager.
    r = api_client.get("/api/v1/fhir/MeasureReport", subject=f"Organization/{d.centre_b.pk}", period="2025")
    assert r.json()["total"] == 0
    r = api_client.get("/api/v1/fhir/MeasureReport", subject="Nonsense", period="2025-13")
    assert r.status_code == 422
    assert {e["loc"][-1] for e in r.json()["detail"]} == {"subject", "period"}
    one = api_client.get(f"/api/v1/fhir/MeasureReport/record.rate.2025.centre.{d.centre_a.pk}")
    assert one.status_code == 200
    assert api_client.get(f"/api/v1/fhir/MeasureReport/record.rate.2025.centre.{d.centre_b.pk}").status_code == 404
    api_client.login(None)
    assert api_client.get("/api/v1/fhir/MeasureReport").status_code == 401


def _reported_periods(api_client, district, **params) -> set[str]:
    r = api_client.get("/api/v1/fhir/MeasureReport", measure="record.rate",
                       subject=f"Organization/{district.commission.pk}", **params)
    assert r.status_code == 200, r.content
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == len(bundle.entry or [])
    return {e.resource.id.split(".")[2] for e in bundle.entry or []}


#: (query, the periods it returns); stored: 2025, 2025-06, 2025-11 and 2025-12, each as of its last day.
DATE_SEARCHES = [
    ({"period": "2025"}, {"2025", "2025-06", "2025-11", "2025-12"}),  # eq: inside 2025
    ({"period": "eq2025-06"}, {"2025-06"}),
    ({"period": "2025-06-30"}, set()),  # no period fits in one day
    ({"period": "ne2025-06"}, {"2025", "2025-11", "2025-12"}),
    ({"period": "ge2025-11-01"}, {"2025", "2025-11", "2025-12"}),  # goes on after 1 November
    ({"period": ["ge2025-06-01", "le2025-06-30"]}, {"2025", "2025-06"}),  # both: overlap June
    ({"period": "lt2025-12"}, {"2025", "2025-06", "2025-11"}),  # starts before December
    ({"period": "gt2025"}, set()),
    ({"period": "sa2025-10"}, {"2025-11", "2025-12"}),
    ({"period": "eb2025-07"}, {"2025-06"}),
    ({"period": "2025-06,2025-11"}, {"2025-06", "2025-11"}),  # a comma: either
    ({"period": "ge2025-11-30T23:00:00+08:00"}, {"2025", "2025-11", "2025-12"}),
    ({"period": "ge2025-11-30T16:00:00Z"}, {"2025", "2025-12"}),  # 1 December 00:00 in Shanghai
    ({"period-code": "2025"}, {"2025"}),
    ({"period-code": "2025-11", "period": "2025"}, {"2025-11"}),
]


def test_fhir_measure_reports_date_search_on_the_period(computed, api_client):
    from django.utils import timezone

    from jiayi.indicators import fhir
    from jiayi.indicators.models import IndicatorValue

    api_client.login(computed.d.district_admin.user)
    stored = list(IndicatorValue.objects.filter(indicator="record.rate", level="district"))
    assert {v.period for v in stored} == {"2025", "2025-06", "2025-11", "2025-12"}
    for params, expected in DATE_SEARCHES:
        assert _reported_periods(api_client, computed.d, **params) == expected, params
        if "period-code" in params:
            continue
        # The database filter and the Python reading of the FHIR rules agree on every stored period.
        values = params["period"] if isinstance(params["period"], list) else [params["period"]]
        searches = [[fhir.parse_date_search(p, timezone.get_default_timezone()) for p in v.split(",")]
                    for v in values]
        assert {v.period for v in stored if all(
            any(fhir.period_matches(s, v.period_start, v.as_of) for s in alternatives) for alternatives in searches
        )} == expected, params


def test_fhir_measure_reports_refuse_bad_period_values(api_client, district):
    api_client.login(district.district_admin.user)
    for params, field in (
        ({"period": "2025-13"}, "period"), ({"period": "2025-02-30"}, "period"), ({"period": "xx2025"}, "period"),
        ({"period": "ap2025"}, "period"), ({"period": "2025-Q1"}, "period"), ({"period": "2025-06-01T10"}, "period"),
        ({"period": "2025Z"}, "period"), ({"period": ["ge2025", "le2025-1"]}, "period"),
        ({"period": "2025,"}, "period"), ({"period": "2025-06-01T10:00:00+15:00"}, "period"),
        ({"period-code": "2025-13"}, "period-code"),
    ):
        r = api_client.get("/api/v1/fhir/MeasureReport", **params)
        assert r.status_code == 422, params
        assert [e["loc"][-1] for e in r.json()["detail"]] == [field], params


def test_date_search_values_carry_the_range_of_their_precision():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from jiayi.indicators.fhir import parse_date_search, period_matches

    tz = ZoneInfo("Asia/Shanghai")
    year = parse_date_search("2026", tz)
    assert (year.prefix, year.lo, year.hi) == ("eq", datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz))
    december = parse_date_search("le2026-12", tz)
    assert (december.prefix, december.hi) == ("le", datetime(2027, 1, 1, tzinfo=tz))
    assert parse_date_search("2026-03-31T10:00", tz).hi == datetime(2026, 3, 31, 10, 1, tzinfo=tz)
    assert parse_date_search("2026-03-31T10:00:00.5Z", tz).hi == datetime(2026, 3, 31, 18, 0, 0, 600000, tzinfo=tz)
    q1 = (date(2026, 1, 1), date(2026, 3, 31))
    assert period_matches(parse_date_search("2026", tz), *q1)
    assert not period_matches(parse_date_search("2026-03", tz), *q1)
    # ge: the time after the search day overlaps the period (or the day contains it): not after 31 March.
    assert period_matches(parse_date_search("ge2026-03-30", tz), *q1)
    assert not period_matches(parse_date_search("ge2026-03-31", tz), *q1)
    assert period_matches(parse_date_search("gt2026-03-30", tz), *q1)
    assert period_matches(parse_date_search("le2026-01-02", tz), *q1)
    assert not period_matches(parse_date_search("le2026-01-01", tz), *q1)
    assert not period_matches(parse_date_search("lt2026-01-01", tz), *q1)
    assert period_matches(parse_date_search("ge2026-01-01", tz), date(2026, 1, 1), date(2026, 1, 1))  # eq
    assert period_matches(parse_date_search("sa2025-12-31", tz), *q1)
    assert not period_matches(parse_date_search("sa2026-01-01", tz), *q1)
    assert period_matches(parse_date_search("eb2026-04", tz), *q1)
    for bad in ("26", "2026-3", "2026-00", "2026-01-32", "2026-01-01T24:00", "2026+08:00", "ge"):
        with pytest.raises(ValueError):
            parse_date_search(bad, tz)


def test_ids_out_of_range_are_not_found(computed, api_client):
    api_client.login(computed.d.district_admin.user)
    huge = 2**70
    assert api_client.get(f"/api/v1/indicators/units/centre/{huge}").status_code in (404, 422)
    assert api_client.get(f"/api/v1/indicators/reports/{huge}").status_code in (404, 422)
    assert api_client.get(f"/api/v1/fhir/MeasureReport/record.rate.2025.centre.{huge}").status_code == 404
    assert api_client.get("/api/v1/fhir/MeasureReport", subject=f"Organization/{huge}").status_code == 422

"""Indicator pages: the district dashboard against a preset, the drill-down to a doctor's residents,
Excel exports, presets and the catalogue — each with in-scope, out-of-scope and anonymous visitors."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook


def _sheet(response) -> list[list]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    return [[c for c in row] for row in wb.active.iter_rows(values_only=True)]


def test_the_district_admin_sees_every_target_of_the_preset(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    r = client.get("/indicators/", {"preset": "gusu-2021", "period": "2025"}, follow=True)
    assert r.redirect_chain[-1][0].startswith(f"/indicators/district/{d.commission.pk}/")
    html = r.content.decode()
    assert "居民健康档案建档率" in html and "暂不可测量" in html and "未达标" in html
    rows = r.context["target_rows"]
    assert len(rows) == 22
    by_label = {row.target.label: row for row in rows}
    assert by_label["居民健康档案建档率"].status == "missed"  # 87.5% < 90%
    assert by_label["高血压患者规范管理率（35岁及以上）"].status == "met"  # 100% >= 60%
    assert by_label["年底家庭病床建床数"].status == "not_measurable"
    assert "vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()


def test_drill_down_from_the_district_to_a_doctors_patients(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    q = {"period": "2025", "indicator": "ht.control_rate", "preset": "gusu-2021"}
    district = client.get(f"/indicators/district/{d.commission.pk}/", q)
    assert [c.name for c, _v in district.context["child_rows"]] == ["天平路社区卫生服务中心", "湖南路社区卫生服务中心"]
    centre = client.get(f"/indicators/centre/{d.centre_a.pk}/", q)
    units = {(c.level, c.id) for c, _v in centre.context["child_rows"]}
    assert ("station", d.station_a1.pk) in units and ("team", d.team_a.pk) in units
    station = client.get(f"/indicators/station/{d.station_a1.pk}/", q)
    assert [(c.level, c.id) for c, _v in station.context["child_rows"]] == [("team", computed.team_s.pk)]
    team = client.get(f"/indicators/team/{computed.team_s.pk}/", q)
    doctor_row = next((c, v) for c, v in team.context["child_rows"] if c.id == d.station_doctor.pk)
    assert (doctor_row[1].numerator, doctor_row[1].denominator) == (0, 1)
    doctor = client.get(f"/indicators/doctor/{d.station_doctor.pk}/", q)
    assert "line-list-link" in doctor.content.decode()
    ll = client.get(f"/indicators/doctor/{d.station_doctor.pk}/ht.control_rate/residents/",
                    {"period": "2025", "status": "not"})
    assert ll.status_code == 200
    assert [r.name for r in ll.context["rows"]] == ["郑七"]
    assert "郑七" in ll.content.decode()
    sheet = _sheet(client.get(f"/indicators/doctor/{d.station_doctor.pk}/ht.control_rate/residents/",
                              {"period": "2025", "status": "not", "export": "xlsx"}))
    assert sheet[2][:3] == ["姓名", "性别", "年龄"] and sheet[3][0] == "郑七"
    assert "*" in sheet[3][3]  # the ID number is masked


def test_line_lists_are_audited(computed, client):
    from jiayi.core.models import AccessEvent

    d = computed.d
    client.force_login(d.manager_a.user)
    client.get(f"/indicators/centre/{d.centre_a.pk}/record.rate/residents/", {"period": "2025", "status": "all"})
    event = AccessEvent.objects.filter(object_type="indicators.line_list").get()
    assert event.user == d.manager_a.user and event.detail["count"] == 6


def test_every_table_exports_to_excel(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    base = f"/indicators/district/{d.commission.pk}/"
    targets = _sheet(client.get(base, {"period": "2025", "preset": "gusu-2021", "export": "targets"}))
    assert targets[2][0] == "考核内容" and len(targets) == 3 + 22
    values = _sheet(client.get(base, {"period": "2025", "export": "values"}))
    assert any(row[0] == "ht.standardised_rate" and row[4] == 100 for row in values)
    children = _sheet(client.get(base, {"period": "2025", "indicator": "record.rate", "export": "children"}))
    assert {row[0] for row in children[3:]} == {"天平路社区卫生服务中心", "湖南路社区卫生服务中心"}
    assert _sheet(client.get("/indicators/catalogue/", {"export": "xlsx"}))[0][0] == "编码"
    assert _sheet(client.get("/indicators/presets/binhai-2019/", {"export": "xlsx"}))[0][0] == "考核内容"
    assert _sheet(client.get("/indicators/reports/", {"export": "xlsx"}))[0][0] == "机构"


@pytest.mark.parametrize(
    ("persona", "level", "unit_attr", "status"),
    [
        ("district_admin", "district", "commission", 200),
        ("manager_a", "centre", "centre_a", 200),
        ("manager_a", "station", "station_a1", 200),
        ("manager_a", "centre", "centre_b", 404),
        ("manager_a", "district", "commission", 404),
        ("manager_a", "street", "street_a", 404),
        ("station_doctor", "centre", "centre_a", 404),
        ("doctor_b", "team", "team_a", 404),
        ("doctor_a", "doctor", "doctor_b", 404),
        ("resident", "centre", "centre_a", 404),
        ("referral_desk", "district", "commission", 404),
        ("district_admin", "street", "street_a", 200),
    ],
)
def test_unit_pages_are_scoped(computed, client, persona, level, unit_attr, status):
    d = computed.d
    client.force_login(d.user(persona))
    unit = getattr(d, unit_attr)
    assert client.get(f"/indicators/{level}/{unit.pk}/", {"period": "2025"}).status_code == status
    r = client.get(f"/indicators/{level}/{unit.pk}/record.rate/residents/", {"period": "2025"})
    assert r.status_code == status


def test_a_centre_manager_lands_on_the_centre(computed, client):
    client.force_login(computed.d.manager_a.user)
    r = client.get("/indicators/")
    assert r.status_code == 302 and r["Location"] == f"/indicators/centre/{computed.d.centre_a.pk}/"


@pytest.mark.parametrize(
    "url",
    ["/indicators/", "/indicators/catalogue/", "/indicators/presets/", "/indicators/presets/gusu-2021/",
     "/indicators/reports/", "/indicators/district/1/", "/indicators/district/1/record.rate/residents/"],
)
def test_anonymous_visitors_go_to_login(client, url):
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_unknown_indicators_and_periods_are_404(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    base = f"/indicators/district/{d.commission.pk}/"
    assert client.get(base, {"indicator": "no.such"}).status_code == 404
    assert client.get(base, {"period": "2025-13"}).status_code == 404
    assert client.get(f"{base}no.such/residents/", {"period": "2025"}).status_code == 404
    assert client.get(f"{base}workforce.gp_per_10k/residents/", {"period": "2025"}).status_code == 404


def test_the_catalogue_shows_rule_sets_and_unverified_parameters(computed, client):
    client.force_login(computed.d.manager_a.user)
    html = client.get("/indicators/catalogue/").content.decode()
    assert "record_use_window_months" in html and "待核实" in html and "提交后台计算" not in html
    client.force_login(computed.d.district_admin.user)
    assert "提交后台计算" in client.get("/indicators/catalogue/").content.decode()


def test_the_district_defines_its_own_preset(computed, client):
    from jiayi.indicators.models import TargetPreset

    d = computed.d
    client.force_login(d.district_admin.user)
    r = client.post("/indicators/presets/", {"code": "", "title": ""})
    assert r.status_code == 422 and "编码只能包含" in r.content.decode()
    r = client.post("/indicators/presets/", {"code": "xuhui-2026", "title": "徐汇区2026年考核", "year": "2026",
                                             "based_on": "gusu-2021"})
    assert r.status_code == 302
    preset = TargetPreset.objects.get(code="xuhui-2026")
    assert preset.items.count() == 22
    r = client.post("/indicators/presets/xuhui-2026/", {
        "count": "2", "label-0": "居民健康档案建档率", "indicator-0": "record.rate", "target-0": "85", "mode-0": "egt",
        "weight-0": "2", "label-1": "", "indicator-1": "", "target-1": "",
    })
    assert r.status_code == 302
    item = preset.items.get()
    assert (item.indicator, item.target, item.weight) == ("record.rate", 85, 2)
    r = client.post("/indicators/presets/xuhui-2026/", {"count": "1", "label-0": "x", "indicator-0": "record.rate",
                                                        "target-0": "abc", "mode-0": "egt"})
    assert r.status_code == 422 and preset.items.get().target == 85
    dash = client.get(f"/indicators/district/{d.commission.pk}/", {"period": "2025", "preset": "xuhui-2026"})
    assert dash.context["target_rows"][0].status == "met"  # 87.5 >= 85
    client.force_login(d.manager_a.user)
    assert client.post("/indicators/presets/xuhui-2026/", {"count": "0"}).status_code == 404
    assert client.post("/indicators/presets/", {"code": "a", "title": "b"}).status_code == 403


def test_a_team_drills_down_to_its_doctors_not_its_nurses(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    team = client.get(f"/indicators/team/{d.team_a.pk}/", {"period": "2025", "indicator": "ht.standardised_rate"})
    # team A: doctor_a leads, nurse_a and ph_a are members but carry no panel of their own
    assert [(c.level, c.id) for c, _v in team.context["child_rows"]] == [("doctor", d.doctor_a.pk)]


def test_a_target_without_values_at_the_level_is_neither_missing_nor_scored(computed, client):
    from jiayi.indicators import catalogue

    d = computed.d
    client.force_login(d.district_admin.user)
    page = client.get(f"/indicators/doctor/{d.doctor_a.pk}/", {"period": "2025", "preset": "gusu-2021"})
    rows = page.context["target_rows"]
    coverage = next(r for r in rows if r.target.indicator == "contract.coverage")
    assert "doctor" not in catalogue.CATALOGUE["contract.coverage"].levels
    assert (coverage.status, coverage.score, coverage.status_label) == ("not_at_level", None, "本层级不统计")
    link = 'href="?period=2025&amp;preset=gusu-2021&amp;indicator=contract.coverage"'
    assert link not in page.content.decode()
    measurable_here = [r for r in rows if r.indicator is not None and "doctor" in r.indicator.levels]
    assert page.context["summary"]["measurable"] == len(measurable_here) < sum(1 for r in rows if r.indicator)
    labels = [t["label"] for t in page.context["chart"]["targets"]]
    assert coverage.target.label not in labels
    district = client.get(f"/indicators/district/{d.commission.pk}/", {"period": "2025", "preset": "gusu-2021"})
    assert next(r for r in district.context["target_rows"]
                if r.target.indicator == "contract.coverage").status in ("met", "missed")
    assert link in district.content.decode()


def test_the_dashboard_opens_with_the_preset_of_the_users_district(computed, client, settings):
    d = computed.d
    client.force_login(d.district_admin.user)
    url = f"/indicators/district/{d.commission.pk}/"
    # The test district is 上海市徐汇区: the Xuhui action plan is its own preset.
    assert client.get(url, {"period": "2025"}).context["preset"].code == "xuhui-2025"
    assert client.get(url, {"period": "2025", "preset": "binhai-2019"}).context["preset"].code == "binhai-2019"
    settings.JIAYI = {**settings.JIAYI, "TARGET_PRESET": "songshan-2018"}
    assert client.get(url, {"period": "2025"}).context["preset"].code == "songshan-2018"


def test_a_district_without_a_preset_of_its_own_falls_back(computed, client):
    from jiayi.indicators.selectors import FALLBACK_PRESET
    from jiayi.org.models import Area

    d = computed.d
    Area.objects.filter(pk=d.commission.area_id).update(name="某某区")
    client.force_login(d.district_admin.user)
    r = client.get(f"/indicators/district/{d.commission.pk}/", {"period": "2025"})
    assert r.context["preset"].code == FALLBACK_PRESET == "gusu-2021"


def test_the_district_lists_its_centres_without_a_query_per_centre(district):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiayi.indicators import selectors
    from jiayi.org.models import InstitutionType
    from tests import factories as f

    d = district
    user = d.district_admin.user
    unit = selectors.unit_get(user, "district", d.commission.pk)

    def listed():
        with CaptureQueriesContext(connection) as queries:
            centres = [c.id for c in selectors.children(user, unit)]
        return centres, len(queries.captured_queries)

    before, queries_before = listed()
    assert before == [d.centre_a.pk, d.centre_b.pk]
    extra = [f.institution(f"310104-C1{i}", f"新中心{i}", InstitutionType.CENTRE, d.street_a, d.commission).pk
             for i in range(3)]
    # a centre of another district is not listed
    other = f.institution("310105-WJW", "长宁区卫生健康委员会", InstitutionType.HEALTH_COMMISSION, d.county)
    f.institution("310105-C01", "新华路社区卫生服务中心", InstitutionType.CENTRE, d.street_a, other)
    listed()  # the org tree is cached per process: creating institutions emptied the cache
    after, queries_after = listed()
    assert after == [d.centre_a.pk, d.centre_b.pk, *extra]
    assert queries_after == queries_before

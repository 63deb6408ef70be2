"""A dashboard group's page (a programme's numbers, the contracts'), the panel on the team page and the
indicators API's ``group`` filter: every number shown is the stored value of the indicator engine for
that unit and period, and nothing is computed a second way. Without stored values the page says so and
when the next run is."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from jiayi.indicators import catalogue as C
from jiayi.indicators import rules
from jiayi.indicators.models import IndicatorValue


def _rows(html: str) -> dict[str, dict[str, str]]:
    """code -> {numerator, denominator, value} cells of the group table."""
    out = {}
    for code, body in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-testid="(numerator|denominator|value)">([^<]*)<', body))
        cells["line_list"] = "line-list-link" in body
        out[code] = cells
    return out


def _number(x: float) -> str:
    """As the page writes a stored count (floatformat:"-4")."""
    return str(int(x)) if float(x).is_integer() else f"{x:.4f}".rstrip("0")


def _stored(level: str, unit_id: int, period: str) -> dict[str, IndicatorValue]:
    return {v.indicator: v for v in IndicatorValue.objects.filter(level=level, unit_id=unit_id, period=period)}


def _group(group: str, level: str) -> list[str]:
    return [i.code for i in C.indicators() if i.group == group and level in i.levels]


def test_a_programmes_page_shows_exactly_the_stored_values_of_its_indicators(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    r = client.get(reverse("indicators:group", args=["hypertension"]), {"period": "2025"})
    assert r.status_code == 200
    rows = _rows(r.content.decode())
    codes = _group("hypertension", "district")
    assert list(rows) == codes and "ht.control_rate" in codes and not any(c.startswith("dm.") for c in rows)
    stored = _stored("district", d.commission.pk, "2025")
    for code in codes:
        v = stored[code]
        assert (rows[code]["numerator"], rows[code]["denominator"]) == (_number(v.numerator), _number(v.denominator))
        assert rows[code]["value"] == f"{v.value:.1f}%"
        assert rows[code]["line_list"]
    # The hand counts (test_engine_values.YEAR_2025): R1 controlled of R1 R7; R1 R7 managed of R1 R3 R7.
    assert (rows["ht.control_rate"]["numerator"], rows["ht.control_rate"]["denominator"]) == ("1", "2")
    assert (rows["ht.management_rate"]["numerator"], rows["ht.management_rate"]["denominator"]) == ("2", "3")
    html = r.content.decode()
    assert "尚未计算" not in html
    # The definitions' open parameters are shown next to the number (the management-rate denominator).
    management = re.search(r'<tr data-code="ht.management_rate">(.*?)</tr>', html, re.S).group(1)
    assert "management_denominator" in management and "项口径参数待与官方文本核实" in management
    line_list = reverse("indicators:residents", args=["district", d.commission.pk, "ht.control_rate"])
    assert f"{line_list}?period=2025" in html
    # The drill-down stays on the group: one step down are the centres.
    assert f"?level=centre&amp;unit_id={d.centre_a.pk}&amp;period=2025" in html
    # The unit's dashboard leads to each group's page.
    dashboard = client.get(reverse("indicators:unit", args=["district", d.commission.pk]), {"period": "2025"})
    group_url = reverse("indicators:group", args=["hypertension"])
    assert f'{group_url}?level=district&amp;unit_id={d.commission.pk}&amp;period=2025"' in dashboard.content.decode()


def test_the_programme_numbers_page_is_its_indicator_group(computed, client):
    d = computed.d
    client.force_login(d.manager_a.user)
    r = client.get(reverse("programmes:numbers"), {"programme": "diabetes", "period": "2025"})
    assert r.status_code == 302
    assert r["Location"] == reverse("indicators:group", args=["diabetes"]) + "?period=2025"
    page = client.get(r["Location"])
    assert page.context["unit"].level == "centre" and page.context["unit"].id == d.centre_a.pk  # the user's unit
    rows = _rows(page.content.decode())
    stored = _stored("centre", d.centre_a.pk, "2025")
    assert set(rows) == set(_group("diabetes", "centre"))
    for code, cells in rows.items():
        assert (cells["numerator"], cells["denominator"]) == (
            _number(stored[code].numerator), _number(stored[code].denominator))
    assert client.get(reverse("programmes:numbers"), {"programme": "nope"}).status_code == 404


def test_the_group_page_is_scoped_and_validates_its_input(computed, client):
    d = computed.d
    url = reverse("indicators:group", args=["hypertension"])
    assert client.get(url).status_code == 302  # anonymous -> login
    client.force_login(d.manager_a.user)
    team = client.get(url, {"level": "team", "unit_id": d.team_a.pk, "period": "2025"})
    assert team.status_code == 200
    # Population rates have no team value: only the indicators that exist at the team's level are listed.
    assert "ht.management_rate" not in _rows(team.content.decode())
    assert set(_rows(team.content.decode())) == set(_group("hypertension", "team"))
    for bad in ({"level": "centre", "unit_id": d.centre_b.pk}, {"level": "centre", "unit_id": "x"},
                {"level": "galaxy", "unit_id": 1}, {"period": "2025-13"}):
        assert client.get(url, bad).status_code == 404, bad
    assert client.get(reverse("indicators:group", args=["nope"])).status_code == 404
    client.force_login(d.resident_user)
    assert client.get(url).status_code == 404


def test_without_stored_values_the_page_says_not_computed_and_when_the_next_run_is(small, client, settings):
    settings.JIAYI = {**settings.JIAYI, "INDICATOR_DAILY_RUN_AT": "03:30"}
    client.force_login(small.d.manager_a.user)
    expected = rules.next_daily_run(timezone.localtime(), rules.parse_time_of_day("03:30"))
    r = client.get(reverse("programmes:numbers"), {"programme": "hypertension"}, follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="not-computed"' in html and "尚未计算" in html
    assert date_format(timezone.localtime(expected), "Y-m-d H:i") in html
    assert expected.strftime("%H:%M") == "03:30"
    cells = _rows(html)
    assert cells and all(c["numerator"] == "—" and c["denominator"] == "—" for c in cells.values())


def test_a_period_without_values_for_the_unit_also_says_not_computed(computed, client):
    from jiayi.indicators.models import ComputationRun

    d = computed.d
    client.force_login(d.district_admin.user)
    ComputationRun.objects.create(backend="db", status=ComputationRun.Status.RUNNING)
    r = client.get(reverse("indicators:group", args=["hypertension"]), {"period": "2024"})
    html = r.content.decode()
    assert "尚未计算" in html and "指标计算正在进行" in html


def test_the_team_page_shows_the_teams_stored_contract_values(computed, client):
    d = computed.d
    client.force_login(d.doctor_a.user)
    r = client.get(reverse("contracts:team", args=[d.team_a.pk]), {"period": "2025"})
    assert r.status_code == 200
    html = r.content.decode()
    rows = _rows(html)
    assert list(rows) == _group("contracts", "team")
    stored = _stored("team", d.team_a.pk, "2025")
    for code, cells in rows.items():
        assert (cells["numerator"], cells["denominator"]) == (
            _number(stored[code].numerator), _number(stored[code].denominator))
    assert (rows["contract.renewal_rate"]["numerator"], rows["contract.renewal_rate"]["denominator"]) == ("1", "2")
    assert reverse("indicators:residents", args=["team", d.team_a.pk, "contract.fulfilment_rate"]) in html
    # Coverage is a population rate: the page points to the team's centre.
    assert f"?level=centre&amp;unit_id={d.centre_a.pk}&amp;period=2025" in html
    # Without a period the latest computed year is shown.
    assert _rows(client.get(reverse("contracts:team", args=[d.team_a.pk])).content.decode()) == rows


def test_the_units_api_filters_by_group_and_returns_the_stored_values(computed, api_client):
    d = computed.d
    api_client.login(d.manager_a.user)
    url = f"/api/v1/indicators/units/centre/{d.centre_a.pk}"
    body = api_client.get(url, period="2025", group="hypertension").json()
    stored = _stored("centre", d.centre_a.pk, "2025")
    codes = [c for c in _group("hypertension", "centre") if c in stored]
    assert [v["indicator"] for v in body["values"]] == codes and codes
    for v in body["values"]:
        s = stored[v["indicator"]]
        assert (v["numerator"], v["denominator"], v["value"], v["period"], v["level"], v["unit_id"]) == (
            s.numerator, s.denominator, s.value, "2025", "centre", d.centre_a.pk)
        assert abs(datetime.fromisoformat(v["computed_at"]) - s.computed_at).total_seconds() < 0.001  # JSON: ms
    contracts = api_client.get(url, period="2025", group="contracts").json()["values"]
    assert {v["indicator"] for v in contracts} == {c for c in _group("contracts", "centre") if c in stored}
    assert len(api_client.get(url, period="2025").json()["values"]) == len(stored)
    bad = api_client.get(url, period="2025", group="nope")
    assert bad.status_code == 422
    assert api_client.get(f"/api/v1/indicators/units/centre/{d.centre_b.pk}", group="contracts").status_code == 404


def test_the_old_numbers_endpoints_are_gone(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/programmes/numbers" not in paths and "/api/v1/contracts/numbers" not in paths
    assert "/api/v1/indicators/units/{level}/{unit_id}" in paths


@pytest.mark.parametrize(("now", "at", "expected"), [
    ((2026, 1, 15, 1, 0), "02:00", (2026, 1, 15, 2, 0)),  # today's run is still to come
    ((2026, 1, 15, 2, 0), "02:00", (2026, 1, 16, 2, 0)),  # starting now: the next is tomorrow's
    ((2026, 12, 31, 23, 59), "00:00", (2027, 1, 1, 0, 0)),
])
def test_next_daily_run(now, at, expected):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert rules.next_daily_run(datetime(*now, tzinfo=tz), rules.parse_time_of_day(at)) == datetime(*expected,
                                                                                                    tzinfo=tz)


@pytest.mark.parametrize("text", ["", "2", "24:00", "02:60", "2:5", "ab:cd", "02-00"])
def test_a_bad_daily_run_time_is_refused(text, settings):
    from jiayi.indicators.checks import indicator_daily_run_time

    with pytest.raises(ValueError):
        rules.parse_time_of_day(text)
    settings.JIAYI = {**settings.JIAYI, "INDICATOR_DAILY_RUN_AT": text}
    assert [e.id for e in indicator_daily_run_time()] == ["indicators.E003"]
    settings.JIAYI = {**settings.JIAYI, "INDICATOR_DAILY_RUN_AT": "2:05"}
    assert indicator_daily_run_time() == []


def test_the_group_page_and_the_team_panel_are_english_after_the_switch(computed, client):
    from tests.indicators.test_i18n import _chinese_left, _data_names, _english, _main

    d = computed.d
    client.force_login(d.district_admin.user)
    _english(client)
    data = _data_names()
    page = client.get(reverse("indicators:group", args=["hypertension"]), {"period": "2025"}).content.decode()
    assert _chinese_left(_main(page), data) == []
    assert "Hypertension control rate" in page and "Residents not in the numerator" in page
    empty = client.get(reverse("indicators:group", args=["hypertension"]), {"period": "2024"}).content.decode()
    assert "Not computed yet" in empty and "Next scheduled run:" in empty
    assert _chinese_left(_main(empty), data) == []
    team = client.get(reverse("contracts:team", args=[d.team_a.pk]), {"period": "2025"}).content.decode()
    panel = re.search(r'<section class="card" id="numbers".*?</section>', team, re.S).group(0)
    assert _chinese_left(panel, data) == []
    assert "Contract indicators" in panel and "Contract renewal rate" in panel

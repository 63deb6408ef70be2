"""Issue #5 end to end in Debian's Chromium, by clicks, as each user would do it.

The district administrator opens the dashboard with the ``gusu-2021`` preset, sees which targets are met
and which missed, drills down from the district hypertension standardised-management rate to one
doctor's patients who are not standardised and exports them to Excel. A station then submits its monthly
report, its centre returns it with a reason, the station resubmits, the centre and then the district
approve, and the approved report shows locked.

Data: the hand-built district of the indicator tests (tests/indicators/conftest.py) plus one
hypertensive patient of 王医生 (doctor_a, team 天平1队) seen once in 2025 — not standardised — stored by
the engine before the browser starts. Hand count for ``ht.standardised_rate`` in 2025: the district has
张三 and 郑七 standardised and 马十一 not (2/3 = 66.7%, target ≥ 60%: met); 王医生 has 张三 and 马十一
(1/2 = 50.0%: missed). Like tests/residents/test_browser.py it drives /usr/bin/chromium (skipped without it;
a skip fails under CI=true).
"""

from __future__ import annotations

import io
import os
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests import factories as f
from tests.conftest import PASSWORD
from tests.indicators.conftest import TODAY, _enrol, _problem, _record, _visit, small  # noqa: F401 (fixture)
from tests.residents.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRESET = "gusu-2021"
INDICATOR = "ht.standardised_rate"
PERIOD = "2025"
MONTH = "2025-12"  # the latest finished month with stored values: the report form proposes it


@pytest.fixture
def scenario(small):  # noqa: F811 (the imported fixture)
    """``small`` with 马十一 (not standardised) and the engine's values for 2025 stored."""
    from jiayi.indicators.engine import compute
    from jiayi.indicators.models import IndicatorValue
    from tests.indicators.conftest import COMPUTED_PERIODS

    d = small.d
    r11 = f.resident(inst=d.centre_a, area_=d.community_a, name="马十一", sex="M", birth=date(1958, 4, 2))
    _record(r11, date(2020, 1, 1))
    _problem(r11, "I10", date(2018, 3, 1))
    enrolment = _enrol(r11, "hypertension", date(2018, 3, 1), d.team_a, d.doctor_a, d.centre_a)
    _visit(enrolment, date(2025, 4, 20), sbp=150, dbp=95)  # one visit in the year: not standardised
    small.r["R11"] = r11
    compute(backend="db", periods=COMPUTED_PERIODS, today=TODAY)
    stored = {(v.level, v.unit_id): (v.numerator, v.denominator) for v in IndicatorValue.objects.filter(
        indicator=INDICATOR, period=PERIOD, level__in=["district", "doctor"])}
    assert stored[("district", d.commission.pk)] == (2, 3)  # the hand count in the docstring
    assert stored[("doctor", d.doctor_a.pk)] == (1, 2)
    return small


def _log_in(browser, base: str, username: str, failed: list[str]):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("pageerror", lambda e: failed.append(f"script error {e}"))
    page.goto(f"{base}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def _open_reports(page) -> None:
    page.click(".mainnav a[href='/indicators/']")
    page.wait_for_selector(".ind-tabs")
    page.click(".ind-tabs a[href='/indicators/reports/']")
    page.wait_for_url(re.compile(r"/indicators/reports/$"))


def test_dashboard_drill_down_export_and_the_monthly_report_review(
    live_server, scenario, chromium_path, tmp_path: Path  # noqa: F811
):
    from playwright.sync_api import sync_playwright

    d = scenario.d
    r11 = scenario.r["R11"]
    # Everything touching the database happens before Playwright starts its event loop in this thread.
    r11_name, r11_masked_id, r1_name = r11.name, r11.masked_id_number, scenario.r["R1"].name
    names = {k: getattr(d, k).name for k in ("commission", "centre_a", "station_a1", "team_a")}
    staff = {k: getattr(d, k).name for k in ("doctor_a", "nurse_a", "ph_a", "manager_a")}
    for persona in ("district_admin", "station_doctor", "manager_a"):
        assert getattr(d, persona).user.check_password(PASSWORD)
    base = live_server.url
    failed: list[str] = []
    shots: list[Path] = []

    def shot(page, name: str) -> None:
        shots.append(tmp_path / f"{name}.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # --- The district administrator: targets met or missed, drill-down, line list, Excel.
            ctx, page = _log_in(browser, base, "district_admin", failed)
            page.click(".mainnav a[href='/indicators/']")
            page.wait_for_selector("[data-testid=targets]")
            page.click(".ind-tabs a[href='/indicators/presets/']")
            page.click(f"[data-testid=presets] a[href='/indicators/presets/{PRESET}/']")
            page.wait_for_selector("[data-testid=preset-targets]")
            page.click(f"a[href='/indicators/?preset={PRESET}']")
            page.wait_for_selector("[data-testid=targets]")
            assert page.locator("select[name=preset]").input_value() == PRESET
            assert page.locator("h1").inner_text().startswith(names["commission"])
            targets = page.locator("[data-testid=targets]")
            assert targets.locator(".badge-target-met").count() > 0
            assert targets.locator(".badge-target-missed").count() > 0
            ht_row = targets.locator("tr", has=page.locator(f"a[href*='indicator={INDICATOR}']"))
            assert ht_row.count() == 1
            assert "66.7%" in ht_row.inner_text() and ht_row.locator(".badge-target-met").count() == 1
            page.wait_for_selector("[data-ind-chart=targets] canvas")
            shot(page, "1-district")

            # Select the target's indicator, then down: district → centre → team → doctor.
            ht_row.locator(f"a[href*='indicator={INDICATOR}']").click()
            page.wait_for_url(re.compile(f"indicator={re.escape(INDICATOR)}"))
            selected = page.locator("[data-testid=selected-indicator]")
            assert "66.7%" in selected.locator("h2").inner_text()
            page.click(f"[data-testid=children] a:text-is('{names['centre_a']}')")
            page.wait_for_url(re.compile(f"/indicators/centre/{d.centre_a.pk}/"))
            page.click(f"[data-testid=children] a:text-is('{names['team_a']}')")
            page.wait_for_url(re.compile(f"/indicators/team/{d.team_a.pk}/"))
            doctors = page.locator("[data-testid=children] tbody tr td:first-child").all_inner_texts()
            assert doctors == [staff["doctor_a"]]  # the team's nurse and public-health physician carry no panel
            shot(page, "2-team")
            page.click(f"[data-testid=children] a:text-is('{staff['doctor_a']}')")
            page.wait_for_url(re.compile(f"/indicators/doctor/{d.doctor_a.pk}/"))
            assert page.locator(".crumbs").inner_text().split(" › ")[:3] == [
                names["commission"], names["centre_a"], names["team_a"]]
            selected = page.locator("[data-testid=selected-indicator]")
            assert "50.0%" in selected.locator("h2").inner_text()
            assert selected.locator(".badge-target-missed").count() == 1
            # A coverage rate has no value per doctor: it is not shown as missing data nor scored.
            assert page.locator("[data-testid=targets] .badge-target-not_at_level").count() > 0
            shot(page, "3-doctor")

            page.click("[data-testid=line-list-link]")
            page.wait_for_selector("[data-testid=line-list]")
            listed = page.locator("[data-testid=line-list] tbody tr td:first-child").all_inner_texts()
            assert listed == [r11_name] and r1_name not in listed  # 张三 is standardised
            shot(page, "4-line-list")
            with page.expect_download() as download:
                page.click("[data-testid=export-xlsx]")
            xlsx = tmp_path / "line-list.xlsx"
            download.value.save_as(xlsx)
            ctx.close()

            # --- The station submits its monthly report.
            ctx, page = _log_in(browser, base, "station_doctor", failed)
            _open_reports(page)
            form = page.locator("[data-testid=submit-form]")
            assert page.locator("select[name=period]").input_value() == MONTH
            form.locator("textarea[name=note]").fill("12月报告")
            form.locator("button[type=submit]").click()
            page.wait_for_url(re.compile(r"/indicators/reports/\d+/$"))
            assert page.locator("[data-testid=report-state]").inner_text() == "待中心审核"
            assert page.locator("h1").inner_text().startswith(f"{names['station_a1']} · {MONTH}")
            ctx.close()

            # --- The centre returns it with a reason (a return without one is refused).
            ctx, page = _log_in(browser, base, "manager_a", failed)
            _open_reports(page)
            page.click(f"[data-testid=awaiting] a:has-text('{names['station_a1']}')")
            review = page.locator("[data-testid=review-form]")
            review.locator("button[value=return]").click()
            page.wait_for_selector(".field-error")
            assert page.locator("[data-testid=report-state]").inner_text() == "待中心审核"
            review = page.locator("[data-testid=review-form]")
            review.locator("textarea[name=reason]").fill("建档数与花名册不符")
            review.locator("button[value=return]").click()
            page.wait_for_selector("[data-testid=report-state]:text-is('已退回')")
            assert page.locator("[data-testid=review-form]").count() == 0
            ctx.close()

            # --- The station sees why, and resubmits (a new version).
            ctx, page = _log_in(browser, base, "station_doctor", failed)
            _open_reports(page)
            returned = page.locator("[data-testid=returned]")
            assert "建档数与花名册不符" in returned.inner_text()
            returned.locator("a").first.click()
            assert "建档数与花名册不符" in page.locator("[data-testid=return-reason]").inner_text()
            shot(page, "5-returned")
            resubmit = page.locator("[data-testid=resubmit-form]")
            resubmit.locator("textarea[name=note]").fill("已核对花名册")
            resubmit.locator("button[type=submit]").click()
            page.wait_for_selector("[data-testid=report-state]:text-is('待中心审核')")
            assert page.locator("h1 .muted").inner_text() == "v2"
            ctx.close()

            # --- The centre approves, then the district.
            ctx, page = _log_in(browser, base, "manager_a", failed)
            _open_reports(page)
            page.click(f"[data-testid=awaiting] a:has-text('{names['station_a1']}')")
            page.locator("[data-testid=review-form] button[value=approve]").click()
            page.wait_for_selector("[data-testid=report-state]:text-is('待区级审核')")
            ctx.close()

            ctx, page = _log_in(browser, base, "district_admin", failed)
            _open_reports(page)
            page.click(f"[data-testid=awaiting] a:has-text('{names['station_a1']}')")
            assert "区级审核" in page.locator("[data-testid=review-form] h2").inner_text()
            page.locator("[data-testid=review-form] button[value=approve]").click()
            page.wait_for_selector("[data-testid=report-state]:text-is('已审核通过')")
            head = page.locator(".page-head").inner_text()
            assert "已锁定" in head
            assert page.locator("[data-testid=review-form]").count() == 0
            assert page.locator("[data-testid=resubmit-form]").count() == 0
            history = page.locator("[data-testid=events] li").all_inner_texts()
            assert len(history) == 5  # submit, return, resubmit, approve (centre), approve (district)
            assert "建档数与花名册不符" in history[1] and staff["manager_a"] in history[1]
            shot(page, "6-approved")
            ctx.close()
        finally:
            browser.close()

    assert not failed, failed  # no server error, no script error on any page

    rows = list(load_workbook(io.BytesIO(xlsx.read_bytes())).active.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "姓名")
    assert list(rows[header]) == ["姓名", "性别", "年龄", "证件号码", "联系电话", "是否计入分子"]
    body = [row for row in rows[header + 1:] if any(c is not None for c in row)]
    assert [(row[0], row[3], row[5]) for row in body] == [(r11_name, r11_masked_id, "否")]

    from jiayi.indicators.models import Report, ReportEvent

    reports = list(Report.objects.filter(institution=d.station_a1, period=MONTH).order_by("version"))
    assert [(r.version, r.state, r.locked) for r in reports] == [(1, "superseded", True), (2, "approved", True)]
    assert list(ReportEvent.objects.filter(report__in=reports).order_by("at", "id").values_list("action", "level")) == [
        ("submit", "station"), ("return", "centre"), ("resubmit", "station"), ("approve", "centre"),
        ("approve", "district")]
    if os.environ.get("JIAYI_SCREENSHOT_DIR"):  # keep the screenshots for a human look
        out = Path(os.environ["JIAYI_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        for png in shots:
            (out / f"indicators-{png.name}").write_bytes(png.read_bytes())

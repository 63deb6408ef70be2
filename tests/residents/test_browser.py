"""End to end in Debian's Chromium: log in, search by ID number, open the resident, see the BP chart.

Playwright never downloads a browser here: the test drives /usr/bin/chromium (package `chromium`, fonts from
`fonts-wqy-microhei`). Without it the test is skipped, and under CI=true a skip fails the run.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from jiayi.residents import services
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make test does it as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (Python) is not installed")
    return CHROMIUM


def test_log_in_search_by_id_open_resident_and_see_the_bp_chart(
    live_server, district, chromium_path, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    resident = district.resident_a
    now = timezone.now()
    # Everything touching the database happens before Playwright starts its event loop in this
    # thread (Django refuses synchronous ORM calls while an event loop is running).
    services.measurement_record(actor=None, resident=resident, measured_at=now - timedelta(days=60), sbp=152, dbp=96)
    services.measurement_record(actor=None, resident=resident, measured_at=now - timedelta(days=2), sbp=136, dbp=84)
    id_number, name = resident.id_number, resident.name

    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))

            page.goto(f"{live_server.url}/")
            assert "/login/" in page.url  # anonymous → login
            page.fill("input[name=username]", "doctor_a")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

            page.fill("input[name=q]", id_number)
            page.press("input[name=q]", "Enter")
            page.wait_for_selector("[data-testid=search-results]")
            results = page.locator("[data-testid=search-results] tbody tr")
            assert results.count() == 1
            assert id_number not in page.locator("[data-testid=search-results]").inner_text()  # masked
            page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

            page.click(f"[data-testid=search-results] a:has-text('{name}')")
            page.wait_for_selector("[data-testid=id-number]")
            assert page.locator("[data-testid=id-number]").inner_text().strip() == id_number

            chart = page.locator("#bp-chart")
            page.wait_for_selector("#bp-chart canvas")
            page.wait_for_function("document.querySelector('#bp-chart').dataset.rendered === '1'")
            assert page.evaluate("typeof window.echarts") == "object"
            size = page.evaluate(
                "(() => { const c = document.querySelector('#bp-chart canvas');"
                " return [c.width, c.height, c.getBoundingClientRect().width, c.getBoundingClientRect().height]; })()"
            )
            assert all(v > 0 for v in size), size
            series = page.evaluate("echarts.getInstanceByDom(document.querySelector('#bp-chart')).getOption().series")
            assert [[point[1] for point in s["data"]] for s in series] == [[152, 136], [96, 84]]
            chart.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "resident.png"), full_page=True)

            # A third measurement through the htmx form redraws the chart without a page load.
            page.fill("#measurements input[name=sbp]", "128")
            page.fill("#measurements input[name=dbp]", "80")
            page.click("#measurements button[type=submit]")
            page.wait_for_function(
                "(() => { const el = document.querySelector('#bp-chart');"
                " const c = el && echarts.getInstanceByDom(el);"
                " return !!c && c.getOption().series[0].data.length === 3; })()"
            )
            page.screenshot(path=str(tmp_path / "resident-after-add.png"), full_page=True)
        finally:
            browser.close()

    assert not failed, failed  # every script, style and page loaded (no 404: echarts is served locally)
    assert (tmp_path / "resident.png").stat().st_size > 10_000
    assert resident.measurements.count() == 3
    if os.environ.get("JIAYI_SCREENSHOT_DIR"):  # keep the screenshots for a human look
        out = Path(os.environ["JIAYI_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        for png in tmp_path.glob("*.png"):
            (out / png.name).write_bytes(png.read_bytes())

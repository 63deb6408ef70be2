"""In Debian's Chromium: type '精神' in the code box, pick 精神分裂症 from the results, save, and see
the diagnosis in the problems section and its key-population tag in the page head — htmx end to end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jiayi.residents.models import Problem
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


def test_search_a_code_pick_it_and_save_the_diagnosis(live_server, district, chromium_path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    resident_id = district.resident_a1.pk
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", "doctor_a")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            page.goto(f"{live_server.url}/residents/{resident_id}/#problems")
            form = page.locator("[data-testid=problem-form-add]")
            form.locator("input[name=icd10]").fill("精神")
            page.wait_for_selector("[data-testid=icd10-results] [data-code=F20]")
            page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
            page.click("[data-testid=icd10-results] [data-code=F20]")
            assert form.locator("input[name=icd10]").input_value() == "F20"
            assert form.locator("input[name=name]").input_value() == "精神分裂症"
            form.locator("input[name=diagnosed_on]").fill("2012-05-03")
            form.locator("button[type=submit]").click()
            page.wait_for_selector("[data-testid=problem-list] td.mono:has-text('F20')")
            section = page.locator("[data-testid=problems]").inner_text()
            assert "精神分裂症" in section and "2012-05-03" in section and "诊断已保存" in section
            page.wait_for_selector("#resident-tags .tag-severe_mental")  # the page head's tags follow
            page.screenshot(path=str(tmp_path / "saved.png"), full_page=True)
        finally:
            browser.close()
    assert failed == []
    assert list(Problem.objects.filter(resident_id=resident_id).values_list("icd10", flat=True)) == ["F20"]

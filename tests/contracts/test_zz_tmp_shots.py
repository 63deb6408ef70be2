import pytest
from jiayi.contracts.services import functional_community_create, packages_install_defaults
from tests.conftest import PASSWORD
from tests.contracts.test_package_edit import _package
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.django_db(transaction=True)]
P = "/tmp/jy_contracts_"

def test_shots(live_server, district):
    from playwright.sync_api import sync_playwright
    packages_install_defaults()
    p = _package(district, district.centre_a)
    functional_community_create(actor=None, name="天平路小学", kind="school", area=district.community_a, institution=district.centre_a, address="天平路1号")
    url = f"{live_server.url}/contracts/packages/{p.pk}/edit/"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = b.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "manager_a"); page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]"); page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/contracts/packages/"); page.screenshot(path=P+"list.png", full_page=True)
        page.goto(url)
        page.fill("#id_name", "我的名字"); page.fill("#id_resident_share", "0")
        with page.expect_navigation(): page.click("form.card button[type=submit]")
        page.screenshot(path=P+"err.png", full_page=True)
        page.fill("#id_resident_share", "20")
        p2 = page.context.new_page(); p2.goto(url); p2.fill("#id_name", "他人改的名字")
        with p2.expect_navigation(): p2.click("form.card button[type=submit]")
        with page.expect_navigation(): page.click("form.card button[type=submit]")
        page.screenshot(path=P+"conflict.png", full_page=True)
        page.goto(f"{live_server.url}/contracts/communities/"); page.screenshot(path=P+"fc.png", full_page=True)
        page.goto(f"{live_server.url}/contracts/communities/new/")
        page.fill("#id_name", "天平路小学"); page.select_option("#id_kind", "school")
        with page.expect_navigation(): page.click("form.card button[type=submit]")
        page.screenshot(path=P+"fc_new.png", full_page=True)
        b.close()

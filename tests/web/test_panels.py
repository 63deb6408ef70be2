"""Other apps add panels to the home page through web.panels."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from jiayi.settings import TEMPLATES
from jiayi.web import panels

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent / "templates"
WITH_TEST_TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], HERE]}]


@pytest.fixture
def registered():
    added: list[tuple[panels.PanelRegistry, str]] = []

    def _register(registry: panels.PanelRegistry, template: str, order: int = 100, **kw):
        registry.register(template, order, **kw)
        added.append((registry, template))

    yield _register
    for registry, template in added:
        registry.unregister(template)


@override_settings(TEMPLATES=WITH_TEST_TEMPLATES)
def test_home_panels_and_summaries(login, district, registered):
    registered(panels.home_registry, "webtest/_home.html", context=lambda request: {"count": 7})
    client = login("doctor_a")
    html = client.get(reverse("home")).content.decode()
    assert "HOME-PANEL 7" in html
    # the residents app fills the summary (counts of residents in scope, the search box)
    assert 'data-testid="count-residents">2<' in html
    assert html.index('data-testid="count-residents"') < html.index("HOME-PANEL 7")


def test_registering_twice_replaces(registered):
    registered(panels.home_registry, "webtest/_home.html", 5)
    registered(panels.home_registry, "webtest/_home.html", 50)
    mine = [p for p in panels.home_panels() if p.template_name == "webtest/_home.html"]
    assert len(mine) == 1 and mine[0].order == 50


def test_the_public_functions_register_into_the_page_registries(registered):
    panels.register_home_panel("webtest/_x.html", 1)
    panels.register_home_summary("webtest/_x.html", 1)
    try:
        assert "webtest/_x.html" in [p.template_name for p in panels.home_panels()]
        assert "webtest/_x.html" in [p.template_name for p in panels.home_summaries()]
    finally:
        for registry in (panels.home_registry, panels.home_summary_registry):
            registry.unregister("webtest/_x.html")

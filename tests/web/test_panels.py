"""Other apps add panels to the home, resident and household pages through web.panels."""

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
def test_resident_panels_render_in_order_with_the_resident(login, district, registered):
    registered(panels.resident_registry, "webtest/_second.html", 20)
    registered(panels.resident_registry, "webtest/_first.html", 10,
               context=lambda request, resident: {"extra": f"extra-for-{request.user.username}"})
    html = login("doctor_a").get(reverse("resident_detail", args=[district.resident_a.pk])).content.decode()
    first, second = html.index("FIRST-PANEL"), html.index("SECOND-PANEL")
    assert first < second
    assert f"FIRST-PANEL {district.resident_a.name} extra-for-doctor_a" in html


@override_settings(TEMPLATES=WITH_TEST_TEMPLATES)
def test_home_and_household_panels(login, district, household, registered):
    registered(panels.home_registry, "webtest/_home.html", context=lambda request: {"count": 7})
    registered(panels.household_registry, "webtest/_household.html")
    client = login("doctor_a")
    assert "HOME-PANEL 7" in client.get(reverse("home")).content.decode()
    assert f"HOUSEHOLD-PANEL {household.number}" in client.get(
        reverse("household_detail", args=[household.pk])
    ).content.decode()


def test_registering_twice_replaces(registered):
    registered(panels.home_registry, "webtest/_home.html", 5)
    registered(panels.home_registry, "webtest/_home.html", 50)
    mine = [p for p in panels.home_panels() if p.template_name == "webtest/_home.html"]
    assert len(mine) == 1 and mine[0].order == 50


def test_the_public_functions_register_into_the_page_registries(registered):
    panels.register_resident_panel("webtest/_x.html", 1)
    panels.register_household_panel("webtest/_x.html", 1)
    panels.register_home_panel("webtest/_x.html", 1)
    try:
        assert "webtest/_x.html" in [p.template_name for p in panels.resident_panels()]
        assert "webtest/_x.html" in [p.template_name for p in panels.household_panels()]
        assert "webtest/_x.html" in [p.template_name for p in panels.home_panels()]
    finally:
        for registry in (panels.resident_registry, panels.household_registry, panels.home_registry):
            registry.unregister("webtest/_x.html")

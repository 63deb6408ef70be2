"""Other apps add panels to the resident and household pages through residents.panels."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from jiayi.residents import panels
from jiayi.settings import TEMPLATES
from jiayi.web.panels import PanelRegistry

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent.parent / "web" / "templates"
WITH_TEST_TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], HERE]}]


@pytest.fixture
def registered():
    added: list[tuple[PanelRegistry, str]] = []

    def _register(registry: PanelRegistry, template: str, order: int = 100, **kw):
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
def test_household_panels(login, district, household, registered):
    registered(panels.household_registry, "webtest/_household.html")
    client = login("doctor_a")
    assert f"HOUSEHOLD-PANEL {household.number}" in client.get(
        reverse("household_detail", args=[household.pk])
    ).content.decode()


def test_the_public_functions_register_into_the_page_registries(registered):
    panels.register_resident_panel("webtest/_x.html", 1)
    panels.register_household_panel("webtest/_x.html", 1)
    try:
        assert "webtest/_x.html" in [p.template_name for p in panels.resident_panels()]
        assert "webtest/_x.html" in [p.template_name for p in panels.household_panels()]
    finally:
        for registry in (panels.resident_registry, panels.household_registry):
            registry.unregister("webtest/_x.html")


def test_contracts_and_programmes_register_their_resident_panels():
    names = [p.template_name for p in panels.resident_panels()]
    assert "contracts/_resident_panel.html" in names and "programmes/_resident_panel.html" in names
    assert "contracts/_household_panel.html" in [p.template_name for p in panels.household_panels()]

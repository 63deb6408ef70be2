"""Panel registries of the resident and household pages: other apps add sections to them.

An app registers its panels once, in its ``AppConfig.ready()``::

    from jiayi.residents.panels import register_household_panel, register_resident_panel

    register_resident_panel("contracts/_resident_panel.html", order=10)
    register_household_panel("contracts/_household_panel.html", order=10)

The pages render the panels in ``order`` (then by name) with ``{% include panel %}``. A panel template
sees the page's whole context (``request``, ``user``, ``jiayi_role``, ``jiayi_staff``) and, on the
resident page, ``resident`` (on the household page, ``household``). The optional ``context`` callable
adds variables for that panel only and runs only when the panel is rendered:

- resident panels: ``context(request, resident) -> Mapping``
- household panels: ``context(request, household) -> Mapping``

A panel that reads personal data must read it through ``visible_to(user)`` like any other page.
Registering the same template again replaces the earlier registration (``ready()`` may run twice).
"""

from __future__ import annotations

from jiayi.web.panels import ContextFn, Panel, PanelRegistry

resident_registry = PanelRegistry(subject="resident")
household_registry = PanelRegistry(subject="household")


def register_resident_panel(
    template_name: str, order: int = 100, *, context: ContextFn | None = None
) -> Panel:
    """Add a section to the resident page; the template sees `resident`."""
    return resident_registry.register(template_name, order, context=context)


def register_household_panel(
    template_name: str, order: int = 100, *, context: ContextFn | None = None
) -> Panel:
    """Add a section to the household page; the template sees `household`."""
    return household_registry.register(template_name, order, context=context)


def resident_panels() -> list[Panel]:
    return resident_registry.panels()


def household_panels() -> list[Panel]:
    return household_registry.panels()


def home_summary_context(request) -> dict:
    """The home page's counts of residents (and their records) in the user's scope."""
    from jiayi.residents.selectors import scope_counts

    return {"resident_counts": scope_counts(request.user)}


def register() -> None:
    """The residents app's own section of the home page (counts and the search box)."""
    from jiayi.web.panels import register_home_summary

    register_home_summary("residents/_home_summary.html", order=10, context=home_summary_context)

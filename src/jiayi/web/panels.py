"""Panel registries: other apps add sections to the home, resident and household pages.

An app registers its panels once, in its ``AppConfig.ready()``::

    from jiayi.web.panels import register_home_panel, register_resident_panel

    register_home_panel("programmes/_home_worklist.html", order=20, context=worklist_counts)
    register_resident_panel("contracts/_resident_panel.html", order=10)

The pages render the panels in ``order`` (then by name) with ``{% include panel %}``. A panel template
sees the page's whole context: ``request``, ``user``, ``jiayi_role``, ``jiayi_staff`` and, on the
resident page, ``resident`` (on the household page, ``household``). The optional ``context`` callable
adds variables for that panel only and runs only when the panel is rendered:

- home panels: ``context(request) -> Mapping``
- resident panels: ``context(request, resident) -> Mapping``
- household panels: ``context(request, household) -> Mapping``

A panel that reads personal data must read it through ``visible_to(user)`` like any other page.
Registering the same template again replaces the earlier registration (``ready()`` may run twice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.template import Context

ContextFn = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Panel:
    """One registered panel. `{% include panel %}` calls `render(context)` (Django's include protocol)."""

    template_name: str
    order: int = 100
    context: ContextFn | None = None
    subject: str | None = None  # the context variable passed to `context` after the request

    def render(self, context: Context) -> str:
        template = context.template.engine.get_template(self.template_name)
        extra: Mapping[str, Any] = {}
        if self.context is not None:
            args = [context.get("request")]
            if self.subject is not None:
                args.append(context.get(self.subject))
            extra = self.context(*args)
        with context.push(**extra):
            return template.render(context)


class PanelRegistry:
    def __init__(self, subject: str | None) -> None:
        self.subject = subject
        self._panels: dict[str, Panel] = {}

    def register(self, template_name: str, order: int = 100, *, context: ContextFn | None = None) -> Panel:
        panel = Panel(template_name=template_name, order=order, context=context, subject=self.subject)
        self._panels[template_name] = panel
        return panel

    def unregister(self, template_name: str) -> None:
        self._panels.pop(template_name, None)

    def panels(self) -> list[Panel]:
        return sorted(self._panels.values(), key=lambda p: (p.order, p.template_name))


home_registry = PanelRegistry(subject=None)
resident_registry = PanelRegistry(subject="resident")
household_registry = PanelRegistry(subject="household")


def register_home_panel(template_name: str, order: int = 100, *, context: ContextFn | None = None) -> Panel:
    """Add a panel (e.g. a work-list count) to the home page."""
    return home_registry.register(template_name, order, context=context)


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


def home_panels() -> list[Panel]:
    return home_registry.panels()


def resident_panels() -> list[Panel]:
    return resident_registry.panels()


def household_panels() -> list[Panel]:
    return household_registry.panels()

"""Panel registries of the shell: other apps add sections to the home page.

An app registers its panels once, in its ``AppConfig.ready()``::

    from jiayi.web.panels import register_home_panel, register_home_summary

    register_home_summary("residents/_home_summary.html", order=10, context=resident_counts)
    register_home_panel("programmes/_home_worklist.html", order=20, context=worklist_counts)

Summaries span the page's width above the grid of panels. The page renders them in ``order`` (then
by name) with ``{% include panel %}``. A panel template sees the page's whole context: ``request``,
``user``, ``jiayi_role``, ``jiayi_staff``. The optional ``context`` callable adds variables for that
panel only and runs only when the panel is rendered: ``context(request) -> Mapping``.

:class:`PanelRegistry` is the shell's building block for the registries of other pages too: the
resident and household pages keep theirs in ``jiayi.residents.panels``, where a ``subject`` (the
resident or household) is passed to ``context`` after the request.

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
home_summary_registry = PanelRegistry(subject=None)


def register_home_panel(template_name: str, order: int = 100, *, context: ContextFn | None = None) -> Panel:
    """Add a panel (e.g. a work-list count) to the home page's grid."""
    return home_registry.register(template_name, order, context=context)


def register_home_summary(template_name: str, order: int = 100, *, context: ContextFn | None = None) -> Panel:
    """Add a full-width section (e.g. the counts of residents in scope) above the home page's grid."""
    return home_summary_registry.register(template_name, order, context=context)


def home_panels() -> list[Panel]:
    return home_registry.panels()


def home_summaries() -> list[Panel]:
    return home_summary_registry.panels()

"""The programme panels on the home page (work-list counts) and the resident page (programmes, risk)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _


def home_context(request) -> Mapping[str, Any]:
    from jiayi.programmes import selectors

    scope = selectors.resolve_scope(request.user)
    from jiayi.programmes import engine

    return {
        "pg_scope": scope,
        "pg_counts": selectors.worklist_counts(request.user, scope=scope),
        "pg_links": [link for p in engine.all_programmes() for link in p.links],
    }


def resident_context(request, resident) -> Mapping[str, Any]:
    from jiayi.core.scoping import can_write_clinical
    from jiayi.programmes import engine, selectors

    rows = []
    enrolled = set()
    for e in selectors.enrolments_for(resident):
        if e.end_date is not None:
            continue
        enrolled.add(e.programme)
        try:
            prog = engine.get(e.programme)
        except KeyError:
            continue
        rows.append(
            {
                "enrolment": e,
                "programme": prog,
                "last": selectors.latest_visit(e),
                "next": selectors.next_task(e),
                "plan": selectors.active_plan(e),
            }
        )
    return {
        "pg_rows": rows,
        "pg_available": [p for p in engine.all_programmes() if p.code not in enrolled],
        "pg_screening": [p for p in engine.all_programmes() if p.screening_page and p.code not in enrolled],
        "pg_risk": selectors.resident_risk(resident),
        "pg_can_write": can_write_clinical(request.user),
        "pg_class_labels": engine.outcome_labels(),
        "pg_title": _("慢病管理与风险评估"),
    }


def register() -> None:
    from jiayi.residents.panels import register_resident_panel
    from jiayi.web.panels import register_home_panel

    register_home_panel("programmes/_home_worklist.html", order=20, context=home_context)
    register_resident_panel("programmes/_resident_panel.html", order=20, context=resident_context)

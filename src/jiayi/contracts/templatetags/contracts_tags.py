"""Template tags for the contract panels on the resident, household and home pages.

The panels work both through the page-panel registries (jiayi.residents.panels, jiayi.web.panels) and
when a page simply does ``{% include "contracts/_resident_panel.html" %}`` with ``resident`` (or
``household``) in its context.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils import timezone

from jiayi.contracts import selectors
from jiayi.contracts.models import Contract
from jiayi.core.scoping import can_write_clinical
from jiayi.residents.models import Household, Resident

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.inclusion_tag("contracts/_resident_panel_body.html", takes_context=True)
def contracts_resident_panel(context, resident: Resident | None = None) -> dict:
    """The resident's current contract (team, doctor, period, fulfilment) and the 签约/续约 button."""
    resident = resident or context.get("resident")
    user = _user(context)
    if resident is None or user is None or not Resident.objects.visible_to(user).filter(pk=resident.pk).exists():
        return {"visible": False}
    today = timezone.localdate()
    current = selectors.current_contract(resident, today)
    progress = selectors.contract_progress(current, today) if current else []
    pending = (
        Contract.objects.filter(resident=resident, start_date__gt=today, terminated_on__isnull=True)
        .order_by("start_date")
        .first()
    )
    from jiayi.contracts import rules

    renewable = False
    if current is not None and pending is None:
        opens, _closes = rules.renewal_window(current.end_date)
        renewable = today >= opens
    return {
        "visible": True,
        "resident": resident,
        "current": current,
        "pending": pending,
        "packages": list(current.packages.values_list("name", flat=True)) if current else [],
        "delivered": sum(min(p.delivered, p.quantity) for p in progress),
        "promised": sum(p.quantity for p in progress),
        "behind": [p for p in progress if p.state == "behind"],
        "can_write": can_write_clinical(user),
        "alive": resident.residence_status in ("registered", "non_registered") and not resident.is_deleted,
        "renewable": renewable,
        "history": Contract.objects.filter(resident=resident).count(),
    }


@register.inclusion_tag("contracts/_household_panel_body.html", takes_context=True)
def contracts_household_panel(context, household: Household | None = None) -> dict:
    """Members' contracts and the household signing button."""
    household = household or context.get("household")
    user = _user(context)
    if household is None or user is None:
        return {"visible": False}
    members = list(Resident.objects.visible_to(user).filter(household=household).order_by("birth_date"))
    current = {
        c.resident_id: c
        for c in Contract.objects.current().filter(resident__in=members).select_related("team", "doctor")
    }
    return {
        "visible": True,
        "household": household,
        "rows": [(m, current.get(m.pk)) for m in members],
        "unsigned": sum(1 for m in members if m.pk not in current),
        "can_write": can_write_clinical(user),
    }


@register.inclusion_tag("contracts/_home_panel_body.html", takes_context=True)
def contracts_home_panel(context) -> dict:
    """The user's team: contracts behind schedule and expiring within 30 days."""
    user = _user(context)
    team = selectors.default_team_for(user) if user is not None else None
    if team is None:
        return {"visible": False}
    return {
        "visible": True,
        "team": team,
        "behind": selectors.contract_queryset(user, team=team, behind=True).count(),
        "expiring": selectors.contract_queryset(user, team=team, expiring_within=30).count(),
        "list_size": Contract.objects.current().filter(doctor__user=user).count(),
        "cap": settings.JIAYI["DOCTOR_LIST_SOFT_CAP"],
    }

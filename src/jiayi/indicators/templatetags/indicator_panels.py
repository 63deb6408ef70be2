"""Panels of stored indicator values for other apps' pages: ``{% load indicator_panels %}`` then
``{% indicator_group_values "contracts" "team" team.pk %}`` renders a dashboard group's values for one
unit (the latest computed year unless a period code is given) with links to the line lists. The pages of
other apps stay free of imports of the indicators app; out of scope is a 404 as on the indicator pages."""

from __future__ import annotations

from django import template

from jiayi.indicators import periods as P
from jiayi.indicators import selectors

register = template.Library()


@register.inclusion_tag("indicators/_group_values.html", takes_context=True)
def indicator_group_values(context, group: str, level: str, unit_id: int, period: str | None = None) -> dict:
    user = context["request"].user
    unit = selectors.unit_get(user, level, unit_id)
    try:
        period = P.parse(period).code if period else None
    except ValueError:
        period = None
    return {"panel": selectors.group_panel(user, unit, group, period or selectors.default_period())}


@register.simple_tag(takes_context=True)
def indicator_parent_unit(context, level: str, unit_id: int) -> selectors.Unit | None:
    """The nearest unit above ``level:unit_id`` the user may see (a team's station or centre)."""
    user = context["request"].user
    crumbs = selectors.breadcrumbs(user, selectors.unit_get(user, level, unit_id))
    return crumbs[-1] if crumbs else None

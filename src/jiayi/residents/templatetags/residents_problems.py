"""``{% problems_section %}``: the problems section of the resident page, rendered from the page's
``request`` and ``resident`` (read by the page through the selectors: scoped and audited)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def problems_section(context: template.Context) -> str:
    from jiayi.residents.views import section_context

    request, resident = context["request"], context["resident"]
    return render_to_string("residents/_problems.html", section_context(request, resident), request=request)

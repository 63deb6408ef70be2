"""Diabetes screening pages: the screening list (cases being re-checked, the high-risk list) and the
screening glucose reading of one resident."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiayi.core.access import require_writer, staff_required
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import can_write_clinical
from jiayi.programmes import selectors
from jiayi.programmes.diabetes import screening as dm_screening
from jiayi.programmes.diabetes.rules import HIGH_RISK_CRITERIA, PROGRAMME
from jiayi.programmes.models import ScreeningCase
from jiayi.programmes.risk import GLUCOSE_STATUS_CATEGORIES
from jiayi.programmes.views import _int
from jiayi.residents import selectors as resident_selectors

FIELDS = ("fasting_glucose", "ogtt_2h", "random_glucose", "hba1c")


@staff_required
def screening(request: HttpRequest) -> HttpResponse:
    page = _int(request.GET.get("page"))
    rows, has_next = dm_screening.high_risk_list(request.user, page=page)
    return render(
        request,
        "diabetes/screening.html",
        {
            "rows": [{"row": r, "labels": [_(HIGH_RISK_CRITERIA[c]) for c in r.criteria]} for r in rows],
            "has_next": has_next,
            "page_no": page,
            "cases": [c for c in selectors.screening_cases(request.user) if c.programme == PROGRAMME],
            "can_write": can_write_clinical(request.user),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def screening_measure(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident = resident_selectors.resident_get(request.user, resident_id)
    values: dict[str, Any] = {k: "" for k in FIELDS}
    errors: dict[str, list[str]] = {}
    outcome = None
    if request.method == "POST":
        require_writer(request)
        values = {k: (request.POST.get(k) or "").strip() for k in FIELDS}
        parsed: dict[str, Any] = {}
        for k, v in values.items():
            if not v:
                continue
            try:
                parsed[k] = float(v)
            except ValueError:
                errors[k] = [_("请输入数字。")]
        if not errors:
            try:
                outcome = dm_screening.screening_record(
                    actor=request.user,
                    resident=resident,
                    typical_symptoms=bool(request.POST.get("typical_symptoms")),
                    **parsed,
                )
            except DomainValidationError as exc:
                errors = exc.errors
            else:
                values = {k: "" for k in FIELDS}
    case = ScreeningCase.objects.filter(resident=resident, programme=PROGRAMME).order_by("-opened_on", "-pk").first()
    return render(
        request,
        "diabetes/screening_measure.html",
        {
            "resident": resident,
            "values": values,
            "errors": errors,
            "outcome": outcome,
            "category_label": _(GLUCOSE_STATUS_CATEGORIES[outcome.detail["category"]]) if outcome else "",
            "case": case,
            "high_risk_labels": [_(HIGH_RISK_CRITERIA[c]) for c in (outcome.high_risk if outcome else [])],
            "can_write": can_write_clinical(request.user),
        },
    )

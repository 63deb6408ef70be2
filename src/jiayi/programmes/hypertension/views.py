"""Hypertension screening pages: the screening list (cases being re-checked, residents not yet measured
this year) and the screening measurement of one resident."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiayi.core.access import require_writer, staff_required
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import can_write_clinical
from jiayi.programmes import selectors
from jiayi.programmes.hypertension import screening as ht_screening
from jiayi.programmes.hypertension.rules import HIGH_RISK_CRITERIA, PROGRAMME
from jiayi.programmes.models import ScreeningCase
from jiayi.programmes.views import _int
from jiayi.residents import selectors as resident_selectors


@staff_required
def screening(request: HttpRequest) -> HttpResponse:
    page = _int(request.GET.get("page"))
    candidates, has_next = ht_screening.screening_candidates(request.user, page=page)
    today = timezone.localdate()
    return render(
        request,
        "hypertension/screening.html",
        {
            "candidates": candidates,
            "has_next": has_next,
            "page_no": page,
            "today": today,
            "cases": selectors.screening_cases(request.user),
            "can_write": can_write_clinical(request.user),
            "status_labels": dict(ScreeningCase._meta.get_field("status").choices),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def screening_measure(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident = resident_selectors.resident_get(request.user, resident_id)
    fields = ("sbp", "dbp", "heart_rate", "height", "weight", "waist")
    values = {k: "" for k in fields}
    errors: dict[str, list[str]] = {}
    outcome = None
    if request.method == "POST":
        require_writer(request)
        values = {k: (request.POST.get(k) or "").strip() for k in fields}
        parsed: dict[str, Any] = {}
        for k, v in values.items():
            if not v:
                continue
            try:
                parsed[k] = int(v) if k in ("sbp", "dbp", "heart_rate") else float(v)
            except ValueError:
                errors[k] = [_("请输入数字。")]
        for k in ("sbp", "dbp"):
            if k not in parsed and k not in errors:
                errors[k] = [_("请填写血压。")]
        if not errors:
            try:
                outcome = ht_screening.screening_record(actor=request.user, resident=resident, **parsed)
            except DomainValidationError as exc:
                errors = exc.errors
            else:
                values = {k: "" for k in fields}
    case = ScreeningCase.objects.filter(resident=resident, programme=PROGRAMME).order_by("-opened_on", "-pk").first()
    return render(
        request,
        "hypertension/screening_measure.html",
        {
            "resident": resident,
            "values": values,
            "errors": errors,
            "outcome": outcome,
            "case": case,
            "high_risk_labels": [_(HIGH_RISK_CRITERIA[c]) for c in (outcome.high_risk if outcome else [])],
            "risk": selectors.resident_risk(resident),
            "can_write": can_write_clinical(request.user),
            "status_labels": dict(ScreeningCase._meta.get_field("status").choices),
        },
    )

"""Staff pages. Thin views: reads through selectors (scoped with visible_to and audited), writes
through services (via the forms in web.forms).

Access: anonymous users are sent to the login page; pages with personal data need an active staff
account (a resident's own account gets 404 here: residents use the portal); an object outside the
user's scope is 404; a visible object the user may not change is 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from jiayi.core.audit import audit_view
from jiayi.core.scoping import can_audit, can_write_clinical
from jiayi.residents import selectors as resident_selectors
from jiayi.residents.models import Household, Measurement, Resident
from jiayi.residents.views import key_population_tags
from jiayi.web import panels
from jiayi.web import selectors as web_selectors
from jiayi.web.forms import AuditFilterForm, MeasurementForm, ResidentForm, ThrottledAuthenticationForm

View = Callable[..., HttpResponse]


def is_staff_user(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    staff = getattr(user, "staff", None)
    return staff is not None and staff.active


def staff_required(view: View) -> View:
    """Login first (redirect); then only active staff (others: 404, no hint that the page exists)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _require_writer(request: HttpRequest) -> None:
    if not can_write_clinical(request.user):
        raise PermissionDenied


def _int_param(request: HttpRequest, name: str, default: int = 1) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), 100_000))
    except (TypeError, ValueError):
        return default


def _greeting() -> str:
    hour = timezone.localtime().hour
    if hour < 11:
        return _("上午好")
    if hour < 13:
        return _("中午好")
    if hour < 18:
        return _("下午好")
    return _("晚上好")


class LoginView(auth_views.LoginView):
    """Django's login page with failed logins throttled: a throttled attempt answers 429 with
    Retry-After and the form's message."""

    template_name = "web/login.html"
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


# ---------------------------------------------------------------------------------------------
# Home and search
# ---------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    staff_user = is_staff_user(request.user)
    return render(
        request,
        "web/home.html",
        {
            "greeting": _greeting(),
            "is_staff_user": staff_user,
            "counts": web_selectors.scope_counts(request.user) if staff_user else None,
            "home_panels": panels.home_panels() if staff_user else [],
            "today": timezone.localdate(),
        },
    )


@staff_required
def resident_search(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:50]
    page = None
    if q or "all" in request.GET:
        page = resident_selectors.resident_search(request.user, q, page=_int_param(request, "page"))
    return render(request, "web/resident_search.html", {"q": q, "page": page})


# ---------------------------------------------------------------------------------------------
# Resident page
# ---------------------------------------------------------------------------------------------

# Labels of the codes and keys stored in the health record's JSON fields (个人基本信息表).
BLOOD_TYPES = {
    "A": gettext_noop("A型"), "B": gettext_noop("B型"), "O": gettext_noop("O型"), "AB": gettext_noop("AB型"),
    "unknown": gettext_noop("不详"),
}
FAMILY_LABELS = {
    "father": gettext_noop("父亲"), "mother": gettext_noop("母亲"), "siblings": gettext_noop("兄弟姐妹"),
    "children": gettext_noop("子女"),
}
LIVING_LABELS = {
    "kitchen_exhaust": gettext_noop("厨房排风设施"), "fuel": gettext_noop("燃料类型"),
    "water": gettext_noop("饮水"), "toilet": gettext_noop("厕所"), "livestock": gettext_noop("禽畜栏"),
}
MEASUREMENT_COLUMNS = (
    "heart_rate", "height", "weight", "bmi", "waist", "fasting_glucose", "random_glucose", "hba1c",
    "total_cholesterol", "triglycerides", "ldl_c", "hdl_c",
)


def _joined(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value if v not in (None, ""))
    return "" if value is None else str(value)


def _labelled(mapping: dict, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(_(labels[k]) if k in labels else str(k), _joined(v)) for k, v in (mapping or {}).items() if v]


def _blood_type(record) -> str:
    if not record.blood_type:
        return ""
    text = _(BLOOD_TYPES.get(record.blood_type, record.blood_type))
    if record.rh_negative is True:
        text += " · " + _("Rh阴性")
    elif record.rh_negative is False:
        text += " · " + _("Rh阳性")
    return text


def _measurement_table(measurements: list[Measurement]) -> tuple[list[str], list[dict[str, Any]]]:
    """Only the columns with at least one value, so the table stays narrow."""
    columns = [c for c in MEASUREMENT_COLUMNS if any(getattr(m, c) is not None for m in measurements)]
    labels = [str(Measurement._meta.get_field(c).verbose_name) for c in columns]
    rows = [
        {
            "measured_at": m.measured_at,
            "source": m.get_source_display(),
            "bp": f"{m.sbp}/{m.dbp}" if m.sbp is not None and m.dbp is not None else (m.sbp or ""),
            "values": ["" if getattr(m, c) is None else getattr(m, c) for c in columns],
        }
        for m in measurements
    ]
    return labels, rows


def _measurement_context(
    request: HttpRequest, resident: Resident, form: MeasurementForm | None = None
) -> dict:
    measurements = resident_selectors.measurements_for(resident, limit=100)
    labels, rows = _measurement_table(measurements)
    return {
        "resident": resident,
        "measurement_labels": labels,
        "measurement_rows": rows,
        "bp_points": resident_selectors.bp_series(resident),
        "measurement_form": form or MeasurementForm(initial={"measured_at": timezone.localtime()}),
        "can_write": can_write_clinical(request.user),
    }


def _resident_context(request: HttpRequest, resident: Resident, form: MeasurementForm | None = None) -> dict:
    record = resident_selectors.health_record_for(resident)
    basic: list[tuple[str, str]] = []
    if record is not None:
        basic = [
            (_("血型"), _blood_type(record)),
            (_("药物过敏史"), _joined(record.allergies) or _("无")),
            (_("暴露史"), _joined(record.exposures) or _("无")),
            (_("残疾情况"), _joined(record.disabilities) or _("无")),
            (_("医疗费用支付方式"), _joined(record.insurance)),
            (_("职业"), record.occupation),
            (_("文化程度"), record.education),
            (_("婚姻状况"), record.marital_status),
        ]
    return {
        **_measurement_context(request, resident, form),
        "record": record,
        "basic_info": basic,
        "family_history": _labelled(record.family_history, FAMILY_LABELS) if record else [],
        "living_conditions": _labelled(record.living_conditions, LIVING_LABELS) if record else [],
        "tags": key_population_tags(resident),
        "street": resident.area.parent,
        "resident_panels": panels.resident_panels(),
    }


@staff_required
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resident = resident_selectors.resident_get(request.user, pk)  # scoped (404) and audited
    return render(request, "web/resident_detail.html", _resident_context(request, resident))


@staff_required
@require_POST
def measurement_add(request: HttpRequest, pk: int) -> HttpResponse:
    resident = resident_selectors.resident_get(request.user, pk, audit_read=False)  # 404 out of scope
    _require_writer(request)
    audit_view(request.user, resident)  # the answer shows the measurements again
    form = MeasurementForm(request.POST)
    saved = form.is_valid() and form.save(actor=request.user, resident=resident) is not None
    if saved:
        form = None
    if request.htmx:
        context = {**_measurement_context(request, resident, form), "measurement_saved": saved}
        return render(request, "web/_measurements.html", context)
    if saved:
        messages.success(request, _("测量结果已保存。"))
        return redirect(f"{resident_url(resident)}#measurements")
    return render(request, "web/resident_detail.html", _resident_context(request, resident, form), status=200)


def resident_url(resident: Resident) -> str:
    return reverse("resident_detail", args=[resident.pk])


# ---------------------------------------------------------------------------------------------
# Create / edit
# ---------------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    form = ResidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        resident = form.save(actor=request.user)
        if resident is not None:
            messages.success(request, _("已新建居民 %(name)s 的健康档案。") % {"name": resident.name})
            if Resident.objects.visible_to(request.user).filter(pk=resident.pk).exists():
                return redirect(resident_url(resident))
            return redirect("resident_search")
    return render(request, "web/resident_form.html", {"form": form, "resident": None})


@staff_required
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = resident_selectors.resident_get(request.user, pk, audit_read=False)  # 404 out of scope
    _require_writer(request)
    audit_view(request.user, resident)  # the form shows the whole ID number and phone
    form = ResidentForm(request.POST or None, user=request.user, resident=resident)
    if request.method == "POST" and form.is_valid():
        saved = form.save(actor=request.user)
        if saved is not None:
            messages.success(request, _("居民信息已保存。"))
            if Resident.objects.visible_to(request.user).filter(pk=saved.pk).exists():
                return redirect(resident_url(saved))
            return redirect("resident_search")
    return render(request, "web/resident_form.html", {"form": form, "resident": resident})


# ---------------------------------------------------------------------------------------------
# Household
# ---------------------------------------------------------------------------------------------


@staff_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household: Household = resident_selectors.household_get(request.user, pk)  # scoped and audited
    members = resident_selectors.household_members(request.user, household)
    members.sort(key=lambda m: (m.relation_to_head != "head", m.birth_date))  # the head first
    return render(
        request,
        "web/household_detail.html",
        {
            "household": household,
            "members": members,
            "street": household.area.parent,
            "household_panels": panels.household_panels(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Audit log (auditors only)
# ---------------------------------------------------------------------------------------------


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_audit(request.user):
        raise Http404
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else web_selectors.AuditFilters()
    tab = "changes" if request.GET.get("tab") == "changes" else "access"
    page_no = _int_param(request, "page")
    if tab == "changes":
        page = web_selectors.change_entries(request.user, filters, page=page_no)
    else:
        page = web_selectors.access_events(request.user, filters, page=page_no)
        for event in page.items:
            event.detail_text = json.dumps(event.detail, ensure_ascii=False) if event.detail else ""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("tab", None)
    return render(
        request,
        "web/audit_log.html",
        {"form": form, "page": page, "tab": tab, "query": params.urlencode()},
    )

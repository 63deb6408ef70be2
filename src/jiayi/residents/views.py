"""Resident pages: search, the resident page (health record, problems, measurements, BP chart, other
apps' panels), create / edit, the household page, and the ICD-10 code search. Thin views: reads
through selectors (scoped with visible_to and audited), writes through services (via the forms in
residents.forms).

Access (core.access): anonymous users are sent to the login page; pages with personal data need an
active staff account (a resident's own account gets 404 here: residents use the portal); an object
outside the user's scope is 404; a visible object the user may not change is 403.

The problems section is one htmx partial (``residents/_problems.html``): its forms post here and get
the section back, re-rendered with the form's field errors or with the saved list. Without htmx the
same views answer a page of their own and redirect to the resident page once saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiayi.core.access import require_writer, staff_required
from jiayi.core.audit import audit_view
from jiayi.core.scoping import can_write_clinical
from jiayi.residents import icd10, panels, selectors
from jiayi.residents.diagnoses import diagnosis_groups
from jiayi.residents.forms import MeasurementForm, ProblemForm, ProblemRemoveForm, ProblemResolveForm, ResidentForm
from jiayi.residents.models import Household, Measurement, Problem, Resident
from jiayi.residents.rules import KEY_POPULATIONS


def _int_param(request: HttpRequest, name: str, default: int = 1) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), 100_000))
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------


@staff_required
def resident_search(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:50]
    page = None
    if q or "all" in request.GET:
        page = selectors.resident_search(request.user, q, page=_int_param(request, "page"))
    return render(request, "residents/resident_search.html", {"q": q, "page": page})


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
    measurements = selectors.measurements_for(resident, limit=100)
    labels, rows = _measurement_table(measurements)
    return {
        "resident": resident,
        "measurement_labels": labels,
        "measurement_rows": rows,
        "bp_points": selectors.bp_series(resident),
        "measurement_form": form or MeasurementForm(initial={"measured_at": timezone.localtime()}),
        "can_write": can_write_clinical(request.user),
    }


def _resident_context(request: HttpRequest, resident: Resident, form: MeasurementForm | None = None) -> dict:
    record = selectors.health_record_for(resident)
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
    resident = selectors.resident_get(request.user, pk)  # scoped (404) and audited
    return render(request, "residents/resident_detail.html", _resident_context(request, resident))


@staff_required
@require_POST
def measurement_add(request: HttpRequest, pk: int) -> HttpResponse:
    resident = selectors.resident_get(request.user, pk, audit_read=False)  # 404 out of scope
    require_writer(request)
    audit_view(request.user, resident)  # the answer shows the measurements again
    form = MeasurementForm(request.POST)
    saved = form.is_valid() and form.save(actor=request.user, resident=resident) is not None
    if saved:
        form = None
    if request.htmx:
        context = {**_measurement_context(request, resident, form), "measurement_saved": saved}
        return render(request, "residents/_measurements.html", context)
    if saved:
        messages.success(request, _("测量结果已保存。"))
        return redirect(f"{resident_url(resident)}#measurements")
    return render(request, "residents/resident_detail.html", _resident_context(request, resident, form), status=200)


def resident_url(resident: Resident) -> str:
    return reverse("resident_detail", args=[resident.pk])


# ---------------------------------------------------------------------------------------------
# Create / edit
# ---------------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest) -> HttpResponse:
    require_writer(request)
    form = ResidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        resident = form.save(actor=request.user)
        if resident is not None:
            messages.success(request, _("已新建居民 %(name)s 的健康档案。") % {"name": resident.name})
            if Resident.objects.visible_to(request.user).filter(pk=resident.pk).exists():
                return redirect(resident_url(resident))
            return redirect("resident_search")
    return render(request, "residents/resident_form.html", {"form": form, "resident": None})


@staff_required
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = selectors.resident_get(request.user, pk, audit_read=False)  # 404 out of scope
    require_writer(request)
    audit_view(request.user, resident)  # the form shows the whole ID number and phone
    form = ResidentForm(request.POST or None, user=request.user, resident=resident)
    if request.method == "POST" and form.is_valid():
        saved = form.save(actor=request.user)
        if saved is not None:
            messages.success(request, _("居民信息已保存。"))
            if Resident.objects.visible_to(request.user).filter(pk=saved.pk).exists():
                return redirect(resident_url(saved))
            return redirect("resident_search")
    return render(request, "residents/resident_form.html", {"form": form, "resident": resident})


# ---------------------------------------------------------------------------------------------
# Household
# ---------------------------------------------------------------------------------------------


@staff_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household: Household = selectors.household_get(request.user, pk)  # scoped and audited
    members = selectors.household_members(request.user, household)
    members.sort(key=lambda m: (m.relation_to_head != "head", m.birth_date))  # the head first
    return render(
        request,
        "residents/household_detail.html",
        {
            "household": household,
            "members": members,
            "street": household.area.parent,
            "household_panels": panels.household_panels(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Problems (既往史 / diagnoses) and the ICD-10 code search
# ---------------------------------------------------------------------------------------------

ICD10_PAGE_SIZE = 10


def _language() -> str:
    return get_language() or "zh-hans"


def key_population_tags(resident: Resident) -> list[dict[str, Any]]:
    """The resident's key-population tags with their labels in the page's language (the page head)."""
    return [
        {"code": tag.code, "label": _(KEY_POPULATIONS.get(tag.code, (tag.code, ""))[0]), "derived": tag.derived,
         "since": tag.since}
        for tag in resident.key_population_tags.order_by("code")
    ]


def problem_rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """What the section's table shows per problem: the code's title in the page's language (English
    where the code list has no Chinese title) and the key populations its code puts the resident in."""
    language = _language()
    rows = []
    for p in problems:
        entry = icd10.lookup(p.icd10) if p.icd10 else None
        groups = sorted(diagnosis_groups([p.icd10])) if p.icd10 else []
        rows.append({
            "problem": p,
            "code_title": entry.title(language) if entry else "",
            "code_title_is_english": bool(entry) and language.startswith("zh") and not entry.title_zh,
            "groups": [_(KEY_POPULATIONS[g][0]) if g in KEY_POPULATIONS else g for g in groups],
        })
    return rows


def section_context(
    request: HttpRequest,
    resident: Resident,
    *,
    form: ProblemForm | ProblemResolveForm | ProblemRemoveForm | None = None,
    mode: str = "add",
    problem: Problem | None = None,
    saved: str = "",
) -> dict[str, Any]:
    """The context of ``residents/_problems.html``. ``mode``: add, edit, resolve or remove (the form
    open in the section); ``saved``: the message of the write that just succeeded — the answer then
    also carries the page head's key-population tags (an htmx out-of-band swap), which the write may
    have changed."""
    can_write = can_write_clinical(request.user)
    if can_write and form is None and mode == "add":
        form = ProblemForm()
    return {
        "resident": resident,
        "problem_rows": problem_rows(selectors.problems_for(resident)),
        "problem_form": form if can_write else None,
        "problem_mode": mode,
        "problem_target": problem,
        "problem_saved": saved,
        "oob_tags": key_population_tags(resident) if saved else None,
        "can_write": can_write,
    }


def _answer(
    request: HttpRequest, resident: Resident, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    context = section_context(request, resident, **kwargs)
    if request.htmx:
        return render(request, "residents/_problems.html", context, status=status)
    return render(request, "residents/problems_page.html", context, status=status)


def _saved(request: HttpRequest, resident: Resident, message: str) -> HttpResponse:
    if request.htmx:
        return _answer(request, resident, saved=message)
    messages.success(request, message)
    return redirect(reverse("resident_detail", args=[resident.pk]) + "#problems")


def _resident_for_write(request: HttpRequest, pk: int) -> Resident:
    resident = selectors.resident_get(request.user, pk, audit_read=False)  # 404 out of scope
    require_writer(request)
    audit_view(request.user, resident)  # the answer shows the resident's problems again
    return resident


@staff_required
@require_GET
def problems_section(request: HttpRequest, pk: int) -> HttpResponse:
    resident = selectors.resident_get(request.user, pk)  # scoped and audited
    return _answer(request, resident)


@staff_required
@require_http_methods(["POST"])
def problem_add(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    form = ProblemForm(request.POST)
    if form.is_valid() and form.save(actor=request.user, resident=resident) is not None:
        return _saved(request, resident, _("诊断已保存。"))
    return _answer(request, resident, form=form)


@staff_required
@require_http_methods(["GET", "POST"])
def problem_edit(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user, resident=resident):
        return _saved(request, resident, _("诊断已修改。"))
    return _answer(request, resident, form=form, mode="edit", problem=problem)


@staff_required
@require_http_methods(["GET", "POST"])
def problem_resolve(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemResolveForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        return _saved(request, resident, _("诊断已标记为痊愈/终止。"))
    return _answer(request, resident, form=form, mode="resolve", problem=problem)


@staff_required
@require_http_methods(["GET", "POST"])
def problem_remove(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemRemoveForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        return _saved(request, resident, _("诊断已删除。"))
    return _answer(request, resident, form=form, mode="remove", problem=problem)


@staff_required
@require_GET
def icd10_search(request: HttpRequest) -> HttpResponse:
    """The code list's matches for ``q`` (or the code field's own value, ``icd10``), paginated; a
    partial for the code box, a page of its own without htmx."""
    q = (request.GET.get("q") or request.GET.get("icd10") or "").strip()[:50]
    page = Paginator(icd10.search(q), ICD10_PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language()
    context = {
        "q": q,
        "page": page,
        "codes": [{"code": c.code, "title": c.title(language), "title_en": c.title_en} for c in page],
    }
    template = "residents/_icd10_results.html" if request.htmx else "residents/icd10_search.html"
    return render(request, template, context)

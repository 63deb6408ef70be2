"""Resident pages: the problems section (既往史 / diagnoses) and the ICD-10 code search.

The section is one htmx partial (``residents/_problems.html``): its forms post here and get the
section back, re-rendered with the form's field errors or with the saved list. Without htmx the same
views answer a page of their own and redirect to the resident page once saved. Reads go through the
selectors (scoped: 404 out of scope, audited), writes through the services (via residents.forms).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jiayi.core.audit import audit_view
from jiayi.core.scoping import can_write_clinical, user_role
from jiayi.residents import icd10, selectors
from jiayi.residents.diagnoses import diagnosis_groups
from jiayi.residents.forms import ProblemForm, ProblemRemoveForm, ProblemResolveForm
from jiayi.residents.models import Problem, Resident
from jiayi.residents.rules import KEY_POPULATIONS

View = Callable[..., HttpResponse]

ICD10_PAGE_SIZE = 10


def _staff_page(view: View) -> View:
    """Login first (redirect); then active staff only, others 404 — the rule of the staff pages
    (web.views.staff_required, not imported here: web imports residents)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_superuser or user_role(request.user) not in (None, "resident")):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _writer(request: HttpRequest) -> None:
    if not can_write_clinical(request.user):
        raise PermissionDenied


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
    _writer(request)
    audit_view(request.user, resident)  # the answer shows the resident's problems again
    return resident


@_staff_page
@require_GET
def problems_section(request: HttpRequest, pk: int) -> HttpResponse:
    resident = selectors.resident_get(request.user, pk)  # scoped and audited
    return _answer(request, resident)


@_staff_page
@require_http_methods(["POST"])
def problem_add(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    form = ProblemForm(request.POST)
    if form.is_valid() and form.save(actor=request.user, resident=resident) is not None:
        return _saved(request, resident, _("诊断已保存。"))
    return _answer(request, resident, form=form)


@_staff_page
@require_http_methods(["GET", "POST"])
def problem_edit(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user, resident=resident):
        return _saved(request, resident, _("诊断已修改。"))
    return _answer(request, resident, form=form, mode="edit", problem=problem)


@_staff_page
@require_http_methods(["GET", "POST"])
def problem_resolve(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemResolveForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        return _saved(request, resident, _("诊断已标记为痊愈/终止。"))
    return _answer(request, resident, form=form, mode="resolve", problem=problem)


@_staff_page
@require_http_methods(["GET", "POST"])
def problem_remove(request: HttpRequest, pk: int, problem_id: int) -> HttpResponse:
    resident = _resident_for_write(request, pk)
    problem = selectors.problem_get(resident, problem_id)
    form = ProblemRemoveForm(request.POST or None, problem=problem)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        return _saved(request, resident, _("诊断已删除。"))
    return _answer(request, resident, form=form, mode="remove", problem=problem)


@_staff_page
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

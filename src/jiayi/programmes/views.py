"""Programme pages: work lists, the visit form (one screen, previous values prefilled, the outcome
recomputed with htmx as the doctor types), enrolment, screening, medication plans, numbers.

Thin views: reads through selectors (scoped and audited), writes through services. Access as on
every staff page: anonymous -> login; non-staff -> 404; out of scope -> 404; read-only roles -> 403
on writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from jiayi.core import rulesets
from jiayi.core.access import require_writer, staff_required
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import can_write_clinical, get_visible_or_404
from jiayi.org.models import Role, Staff, Team
from jiayi.programmes import engine, screening, selectors, services
from jiayi.programmes.models import (
    Enrolment,
    EnrolmentEndReason,
    MedicationPlan,
    Referral,
    Visit,
    VisitMode,
)
from jiayi.programmes.schema import (
    BOOL,
    DOSE_UNITS,
    DRUG_CLASSES,
    MAX_MEDICATION_LINES,
    MEDICATION_LINE_FIELDS,
    MEDICATIONS,
    MULTI,
    FieldSpec,
    FormSchema,
)
from jiayi.residents import selectors as resident_selectors
from jiayi.residents.models import Resident


def _programme(code: str) -> engine.Programme:
    try:
        return engine.get(code)
    except KeyError:
        raise Http404 from None


def _int(value: Any, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return default


def _id(value: str | None) -> int | None:
    """An object id from the query string: None when absent, 404 when not a positive integer."""
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise Http404
    return int(value)


def _version(value: str | None) -> int:
    """The version a form was rendered with (0, never a real version, when missing or garbled)."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def _date(value: str | None, default: date | None = None) -> date | None:
    if not value:
        return default
    try:
        return parse_date(value) or default
    except ValueError:
        return default


# ---------------------------------------------------------------------------------------------
# Schema-driven form rendering
# ---------------------------------------------------------------------------------------------


@dataclass
class BoundSpec:
    spec: FieldSpec
    value: Any
    errors: list[str]
    hint: str = ""
    choices: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return _(self.spec.label)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def step(self) -> str:
        return "1" if self.spec.kind == "int" else "0.1"


@dataclass
class MedRow:
    index: int
    values: dict[str, Any]
    errors: dict[str, list[str]]


def bind_schema(
    schema: FormSchema, values: dict[str, Any], errors: dict[str, list[str]], hints: dict[str, str] | None = None
) -> list[tuple[str, str, list[BoundSpec]]]:
    """Sections with their fields bound to values, errors and "last time" hints."""
    hints = hints or {}
    out = []
    for code, label, specs in schema.by_section():
        bound = []
        for spec in specs:
            value = values.get(spec.name)
            choices = []
            if spec.choices:
                chosen = set(value or []) if spec.kind == MULTI else {value}
                choices = [(c, _(lbl), c in chosen) for c, lbl in spec.choices]
            bound.append(BoundSpec(spec, value, errors.get(spec.name, []), hints.get(spec.name, ""), choices))
        out.append((code, _(label), bound))
    return out


def med_rows(values: list[dict[str, Any]] | None, errors: dict[str, list[str]], *, blank: int = 2) -> list[MedRow]:
    rows = [
        MedRow(i, dict(v), {k.split(".", 1)[1]: m for k, m in errors.items() if k.startswith(f"{i}.")})
        for i, v in enumerate(values or [])
    ]
    n = len(rows)
    for i in range(n, min(MAX_MEDICATION_LINES, n + blank)):
        rows.append(MedRow(i, {}, {}))
    return rows


def form_from_post(schema: FormSchema, post: QueryDict) -> dict[str, Any]:
    """The schema's raw input from a page POST (lists for multiple choices, medication rows)."""
    data: dict[str, Any] = {}
    for spec in schema.fields:
        if spec.kind == MULTI:
            values = post.getlist(spec.name)
            if values:
                data[spec.name] = values
        elif spec.kind == BOOL:
            if post.get(spec.name):
                data[spec.name] = True
        elif spec.kind == MEDICATIONS:
            rows = []
            for i in range(MAX_MEDICATION_LINES):
                row = {k: post.get(f"med-{i}-{k}", "").strip() for k in MEDICATION_LINE_FIELDS}
                if any(row.values()) and any(row[k] for k in MEDICATION_LINE_FIELDS if k != "drug_class"):
                    rows.append(row)
            if rows:
                data[spec.name] = rows
        else:
            v = (post.get(spec.name) or "").strip()
            if v:
                data[spec.name] = v
    return data


def _split_errors(
    errors: dict[str, list[str]],
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """(form field errors, medication errors by 'i.field', other errors by key)."""
    form_errors: dict[str, list[str]] = {}
    med_errors: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        if key.startswith("form.medications."):
            med_errors[key.removeprefix("form.medications.")] = msgs
        elif key.startswith("form."):
            form_errors[key.removeprefix("form.")] = msgs
        else:
            other[key] = msgs
    return form_errors, med_errors, other


def _hints(prog: engine.Programme, last: Visit | None) -> dict[str, str]:
    if last is None:
        return {}
    label = _("上次")
    return {
        name: f"{label} {last.form[name]}（{last.visit_date:%Y-%m-%d}）"
        for name in prog.hint_fields
        if last.form.get(name) is not None
    }


# ---------------------------------------------------------------------------------------------
# Work lists
# ---------------------------------------------------------------------------------------------

BUCKET_LABELS = {
    "due_week": gettext_noop("本周应随访"),
    "overdue": gettext_noop("已逾期"),
    "referrals": gettext_noop("转诊待随访"),
    "all_open": gettext_noop("全部待办"),
}


def _scope_from_request(request: HttpRequest) -> selectors.WorklistScope:
    return selectors.resolve_scope(
        request.user,
        kind=request.GET.get("scope", ""),
        team_id=_id(request.GET.get("team")),
        doctor_id=_id(request.GET.get("doctor")),
    )


def _teams_for(request: HttpRequest) -> list[Team]:
    return list(Team.objects.visible_to(request.user).filter(active=True).order_by("institution_id", "name")[:200])


@staff_required
def worklist(request: HttpRequest) -> HttpResponse:
    bucket = request.GET.get("bucket", "overdue")
    if bucket not in selectors.BUCKETS and bucket != "awaiting_return":
        bucket = "overdue"
    scope = _scope_from_request(request)
    page = _int(request.GET.get("page"))
    programme = request.GET.get("programme") or None
    if programme is not None:
        _programme(programme)
    ctx: dict[str, Any] = {
        "bucket": bucket,
        "scope": scope,
        "page_no": page,
        "programme": programme,
        "bucket_labels": {k: _(v) for k, v in BUCKET_LABELS.items()},
        "today": timezone.localdate(),
        "programmes": engine.all_programmes(),
        "teams": _teams_for(request),
        "can_write": can_write_clinical(request.user),
    }
    if bucket == "awaiting_return":
        ctx["referrals"] = selectors.referrals_awaiting(request.user, scope=scope)
        ctx["rows"], ctx["has_next"] = [], False
    else:
        ctx["rows"], ctx["has_next"] = selectors.worklist(
            request.user, scope=scope, bucket=bucket, page=page, programme=programme
        )
    ctx["counts"] = selectors.worklist_counts(request.user, scope=scope)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("bucket", None)
    ctx["query"] = query.urlencode()
    template = (
        "programmes/_worklist_table.html" if request.htmx and not request.htmx.boosted else "programmes/worklist.html"
    )
    return render(request, template, ctx)


@staff_required
@require_POST
def referral_return(request: HttpRequest, pk: int) -> HttpResponse:
    referral: Referral = get_visible_or_404(Referral.objects.visible_to(request.user).select_related("resident"), pk=pk)
    require_writer(request)
    returned_on = _date(request.POST.get("returned_on"), timezone.localdate())
    try:
        services.referral_return(
            actor=request.user,
            referral=referral,
            returned_on=returned_on,
            outcome=(request.POST.get("outcome") or "")[:300],
        )
    except DomainValidationError as exc:
        for msgs in exc.errors.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("已记录 %(name)s 的转诊回访。") % {"name": referral.resident.name})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None, require_https=request.is_secure()):
        target = f"{reverse('programmes:worklist')}?bucket=awaiting_return"
    return redirect(target)


# ---------------------------------------------------------------------------------------------
# Visit form
# ---------------------------------------------------------------------------------------------


def _plan_options(post: QueryDict) -> services.PlanOptions:
    return services.PlanOptions(
        long_prescription=bool(post.get("long_prescription")),
        assessment_note=(post.get("assessment_note") or "").strip()[:300],
        patient_confirmed=bool(post.get("patient_confirmed")),
    )


def _known_type(prog: engine.Programme, visit_type: str | None) -> bool:
    return any(v.code == visit_type for v in prog.visit_types)


def _form_of(prog: engine.Programme, visit_type: str | None):
    """The form of ``visit_type`` (the programme's first form for an unknown or missing type)."""
    try:
        return prog.visit_type(visit_type or "").form
    except KeyError:
        return prog.schema


def _visit_context(
    request: HttpRequest,
    prog: engine.Programme,
    enrolment: Enrolment,
    *,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    header: dict[str, Any],
    last: Visit | None,
    visit: Visit | None = None,
) -> dict[str, Any]:
    form_errors, med_errors, other = _split_errors(errors)
    plan = selectors.active_plan(enrolment)
    return {
        "programme": prog,
        "enrolment": enrolment,
        "resident": enrolment.resident,
        "visit": visit,
        "sections": bind_schema(_form_of(prog, header.get("visit_type")), values, form_errors, _hints(prog, last)),
        "med_rows": med_rows(values.get("medications"), med_errors),
        "drug_classes": [(k, _(v)) for k, v in DRUG_CLASSES.items()],
        "dose_units": [(k, _(v)) for k, v in DOSE_UNITS.items()],
        "header": header,
        "errors": other,
        "last": last,
        "plan": plan,
        "modes": [(c, str(lbl)) for c, lbl in VisitMode.choices],
        "visit_types": [(v.code, _(v.label)) for v in prog.visit_types],
        "recent": selectors.visits_for(enrolment, limit=6),
        "next_task": selectors.next_task(enrolment),
        "ruleset": rulesets.get(prog.code, enrolment.ruleset),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, programme: str, resident_id: int) -> HttpResponse:
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, resident_id)
    enrolment = selectors.open_enrolment(resident, prog.code)
    if enrolment is None:
        messages.warning(
            request,
            _("%(name)s 尚未纳入%(programme)s，请先登记纳入管理。")
            % {"name": resident.name, "programme": prog.display_name},
        )
        return redirect("programmes:enrol", programme=prog.code, resident_id=resident.pk)
    initial, last = selectors.form_initial(enrolment)
    today = timezone.localdate()
    header = {
        "visit_date": today.isoformat(),
        "mode": VisitMode.CLINIC,
        "visit_type": asked if _known_type(prog, asked := request.GET.get("visit_type")) else prog.visit_types[0].code,
        "long_prescription": bool(
            selectors.active_plan(enrolment) and selectors.active_plan(enrolment).long_prescription
        ),
    }
    if request.method == "POST":
        require_writer(request)
        values = form_from_post(_form_of(prog, request.POST.get("visit_type")), request.POST)
        header = {
            "visit_date": request.POST.get("visit_date", ""),
            "mode": request.POST.get("mode", ""),
            "visit_type": request.POST.get("visit_type", ""),
            "long_prescription": bool(request.POST.get("long_prescription")),
            "assessment_note": request.POST.get("assessment_note", ""),
            "patient_confirmed": bool(request.POST.get("patient_confirmed")),
        }
        visit_date = _date(header["visit_date"])
        if visit_date is None:
            errors = {"visit_date": [_("请填写随访日期。")]}
        else:
            try:
                visit = services.visit_record(
                    actor=request.user,
                    enrolment=enrolment,
                    visit_date=visit_date,
                    form=values,
                    visit_type=header["visit_type"],
                    mode=header["mode"],
                    plan=_plan_options(request.POST),
                )
            except DomainValidationError as exc:
                errors = exc.errors
            else:
                messages.success(request, _outcome_message(visit))
                return redirect("programmes:visit_detail", pk=visit.pk)
        ctx = _visit_context(request, prog, enrolment, values=values, errors=errors, header=header, last=last)
        return render(request, "programmes/visit_form.html", ctx, status=422 if request.htmx else 200)
    ctx = _visit_context(request, prog, enrolment, values=initial, errors={}, header=header, last=last)
    return render(request, "programmes/visit_form.html", ctx)


def _outcome_message(visit: Visit) -> str:
    label = engine.outcome_label(visit.programme, visit.classification)
    if visit.next_due is None:
        msg = _("随访已保存：%(cls)s。") % {"cls": label}
    else:
        msg = _("随访已保存：%(cls)s，下次随访日期 %(due)s。") % {"cls": label, "due": f"{visit.next_due:%Y-%m-%d}"}
    if visit.referred:
        msg += " " + _("须转诊：%(reasons)s。") % {
            "reasons": "；".join(selectors.reason_label(c) for c in visit.referral_reasons)
        }
    return msg


@staff_required
@require_POST
def visit_preview(request: HttpRequest, programme: str, resident_id: int) -> HttpResponse:
    """htmx: what the rules make of the form as it stands (nothing is stored)."""
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, resident_id, audit_read=False)
    enrolment = selectors.open_enrolment(resident, prog.code)
    if enrolment is None:
        raise Http404
    visit_date = _date(request.POST.get("visit_date"), timezone.localdate())
    visit_type = request.POST.get("visit_type") or None
    ev, errors = services.visit_preview(
        enrolment=enrolment,
        visit_date=visit_date,
        form=form_from_post(_form_of(prog, visit_type), request.POST),
        visit_type=visit_type if _known_type(prog, visit_type) else None,
    )
    reasons = [selectors.reason_label(c) for c in (ev.referral or [])] if ev else []
    return render(
        request,
        "programmes/_outcome.html",
        {
            "ev": ev,
            "reasons": reasons,
            "preview_errors": sorted({m for msgs in errors.values() for m in msgs}),
            "class_label": engine.outcome_label(prog.code, ev.classification) if ev else "",
        },
    )


@staff_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_get(request.user, pk)
    prog = _programme(visit.programme)
    form_errors: dict[str, list[str]] = {}
    return render(
        request,
        "programmes/visit_detail.html",
        {
            "visit": visit,
            "programme": prog,
            "resident": visit.resident,
            "sections": [
                (code, label, [f for f in fields if f.kind != MEDICATIONS and f.value not in (None, "", [], False)])
                for code, label, fields in bind_schema(_form_of(prog, visit.visit_type), visit.form, form_errors)
                if any(f.kind != MEDICATIONS and f.value not in (None, "", [], False) for f in fields)
            ],
            "medications": visit.form.get("medications") or [],
            "reasons": [selectors.reason_label(c) for c in visit.referral_reasons],
            "referral": Referral.objects.filter(visit=visit).first(),
            "class_label": engine.outcome_label(visit.programme, visit.classification),
            "can_write": can_write_clinical(request.user),
            "drug_classes": {k: _(v) for k, v in DRUG_CLASSES.items()},
            "dose_units": {k: _(v) for k, v in DOSE_UNITS.items()},
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_get(request.user, pk)
    require_writer(request)
    prog = _programme(visit.programme)
    enrolment = visit.enrolment
    header = {
        "visit_date": visit.visit_date.isoformat(),
        "mode": visit.mode,
        "visit_type": visit.visit_type,
        "version": visit.version,
    }
    values: dict[str, Any] = dict(visit.form)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = form_from_post(_form_of(prog, visit.visit_type), request.POST)
        header["mode"] = request.POST.get("mode", visit.mode)
        try:
            services.visit_update(
                actor=request.user,
                visit=visit,
                version=_version(request.POST.get("version")),
                form=values,
                mode=header["mode"],
            )
        except DomainValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("随访记录已更正。"))
            return redirect("programmes:visit_detail", pk=visit.pk)
    last = services.previous_visit(enrolment, visit.visit_date, exclude_pk=visit.pk)
    ctx = _visit_context(request, prog, enrolment, values=values, errors=errors, header=header, last=last, visit=visit)
    return render(request, "programmes/visit_form.html", ctx)


# ---------------------------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------------------------


def _doctors_for(request: HttpRequest) -> list[Staff]:
    return list(
        Staff.objects.visible_to(request.user).filter(
            active=True, role__in=[Role.FAMILY_DOCTOR, Role.PUBLIC_HEALTH]
        ).order_by("institution_id", "name")[:300]
    )


@staff_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, programme: str, resident_id: int) -> HttpResponse:
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, resident_id)
    require_writer(request)
    existing = selectors.open_enrolment(resident, prog.code)
    if existing is not None:
        return redirect("programmes:visit_new", programme=prog.code, resident_id=resident.pk)
    today = timezone.localdate()
    staff = getattr(request.user, "staff", None)
    values: dict[str, Any] = {
        "start_date": today.isoformat(),
        "diagnosed_on": "",
        "doctor": staff.pk if staff else "",
        "team": "",
        "ruleset": rulesets.default_for(prog.code, today).code,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("start_date", "diagnosed_on", "doctor", "team", "ruleset")}
        start = _date(values["start_date"])
        doctor = next((d for d in _doctors_for(request) if str(d.pk) == values["doctor"]), None)
        team = next((t for t in _teams_for(request) if str(t.pk) == values["team"]), None)
        if start is None:
            errors = {"start_date": [_("请填写纳入管理日期。")]}
        else:
            try:
                e = services.enrolment_create(
                    actor=request.user,
                    resident=resident,
                    programme=prog.code,
                    start_date=start,
                    ruleset=values["ruleset"] or None,
                    doctor=doctor,
                    team=team,
                    diagnosed_on=_date(values["diagnosed_on"]),
                )
            except DomainValidationError as exc:
                errors = exc.errors
            else:
                messages.success(
                    request,
                    _("%(name)s 已纳入%(programme)s。") % {"name": resident.name, "programme": prog.display_name},
                )
                return redirect("programmes:visit_new", programme=e.programme, resident_id=resident.pk)
    return render(
        request,
        "programmes/enrol.html",
        {
            "programme": prog,
            "resident": resident,
            "values": values,
            "errors": errors,
            "doctors": _doctors_for(request),
            "teams": _teams_for(request),
            "rulesets": [rs for rs in rulesets.for_programme(prog.code)],
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def enrolment_end(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = selectors.enrolment_get(request.user, pk)
    require_writer(request)
    prog = _programme(enrolment.programme)
    values = {"end_date": timezone.localdate().isoformat(), "reason": "", "note": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("end_date", "reason", "note")}
        end = _date(values["end_date"])
        if end is None:
            errors = {"end_date": [_("请填写结束日期。")]}
        else:
            try:
                services.enrolment_end(
                    actor=request.user,
                    enrolment=enrolment,
                    version=_version(request.POST.get("version")),
                    end_date=end,
                    reason=values["reason"],
                    note=values["note"][:200],
                )
            except DomainValidationError as exc:
                errors = exc.errors
            else:
                messages.success(request, _("已结束管理。"))
                return redirect("programmes:resident", resident_id=enrolment.resident_id)
    return render(
        request,
        "programmes/enrolment_end.html",
        {
            "programme": prog,
            "enrolment": enrolment,
            "resident": enrolment.resident,
            "values": values,
            "errors": errors,
            "reasons": [(c, str(lbl)) for c, lbl in EnrolmentEndReason.choices],
        },
    )


@staff_required
def resident_programmes(request: HttpRequest, resident_id: int) -> HttpResponse:
    """The resident's programme history: enrolments, visits, plans, risk."""
    resident = resident_selectors.resident_get(request.user, resident_id)
    blocks = []
    for e in selectors.enrolments_for(resident):
        blocks.append(
            {
                "enrolment": e,
                "programme": engine.get(e.programme)
                if e.programme in {p.code for p in engine.all_programmes()}
                else None,
                "visits": selectors.visits_for(e, limit=20),
                "next_task": selectors.next_task(e),
                "plan": selectors.active_plan(e),
            }
        )
    enrolled = {b["enrolment"].programme for b in blocks if b["enrolment"].end_date is None}
    return render(
        request,
        "programmes/resident.html",
        {
            "resident": resident,
            "blocks": blocks,
            "risk": selectors.resident_risk(resident),
            "available": [p for p in engine.all_programmes() if p.code not in enrolled],
            "can_write": can_write_clinical(request.user),
            "class_labels": engine.outcome_labels(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Medication plan
# ---------------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = selectors.enrolment_get(request.user, pk)
    prog = _programme(enrolment.programme)
    current = selectors.active_plan(enrolment)
    errors: dict[str, list[str]] = {}
    values = [
        {
            "drug": ln.drug,
            "drug_class": ln.drug_class,
            "dose": float(ln.dose),
            "dose_unit": ln.dose_unit,
            "times_per_day": ln.times_per_day,
            "duration_days": ln.duration_days,
        }
        for ln in (current.lines.order_by("pk") if current else [])
    ]
    header = {
        "long_prescription": bool(current and current.long_prescription),
        "assessment_note": current.assessment_note if current else "",
        "patient_confirmed": bool(current and current.patient_confirmed),
    }
    if request.method == "POST":
        require_writer(request)
        lines = form_from_post(prog.schema, request.POST).get("medications", [])
        opts = _plan_options(request.POST)
        header = {
            "long_prescription": opts.long_prescription,
            "assessment_note": opts.assessment_note,
            "patient_confirmed": opts.patient_confirmed,
        }
        try:
            services.medication_plan_set(
                actor=request.user,
                enrolment=enrolment,
                lines=lines,
                start_date=timezone.localdate(),
                long_prescription=opts.long_prescription,
                assessment_note=opts.assessment_note,
                patient_confirmed=opts.patient_confirmed,
            )
        except DomainValidationError as exc:
            errors = exc.errors
            values = lines
        else:
            messages.success(request, _("用药方案已保存。"))
            return redirect("programmes:plan", pk=enrolment.pk)
    med_errors = {k.removeprefix("medications."): v for k, v in errors.items() if k.startswith("medications.")}
    other = {k: v for k, v in errors.items() if not k.startswith("medications.")}
    history = list(
        MedicationPlan.objects.filter(enrolment=enrolment).prefetch_related("lines").order_by("-created_at")[:10]
    )
    return render(
        request,
        "programmes/plan.html",
        {
            "enrolment": enrolment,
            "programme": prog,
            "resident": enrolment.resident,
            "current": current,
            "med_rows": med_rows(values, med_errors),
            "errors": other,
            "header": header,
            "history": history,
            "drug_classes": [(k, _(v)) for k, v in DRUG_CLASSES.items()],
            "dose_units": [(k, _(v)) for k, v in DOSE_UNITS.items()],
            "can_write": can_write_clinical(request.user),
        },
    )


@staff_required
def forecast(request: HttpRequest) -> HttpResponse:
    institutions = list(selectors.forecast_institutions(request.user).order_by("code")[:300])
    chosen = None
    inst_id = request.GET.get("institution")
    if inst_id:
        chosen = next((i for i in institutions if str(i.pk) == inst_id), None)
        if chosen is None:
            raise Http404
    else:
        staff = getattr(request.user, "staff", None)
        chosen = next((i for i in institutions if staff and i.pk == staff.institution_id), None)
        chosen = chosen or (institutions[0] if institutions else None)
    lines = selectors.stocking_forecast(request.user, institution=chosen) if chosen else []
    return render(
        request,
        "programmes/forecast.html",
        {
            "institutions": institutions,
            "chosen": chosen,
            "lines": lines,
            "units": {k: _(v) for k, v in DOSE_UNITS.items()},
        },
    )


# ---------------------------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------------------------


@staff_required
@require_POST
def screening_case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = selectors.screening_case_get(request.user, pk)
    require_writer(request)
    version = _version(request.POST.get("version"))
    try:
        if action == "confirm":
            e = screening.screening_confirm(actor=request.user, case=case, version=version)
            messages.success(
                request, _("已确诊并纳入%(programme)s。") % {"programme": _programme(e.programme).display_name}
            )
            return redirect("programmes:visit_new", programme=e.programme, resident_id=case.resident_id)
        if action == "refer":
            screening.screening_refer(
                actor=request.user,
                case=case,
                version=version,
                to_institution_name=(request.POST.get("to_institution_name") or "")[:200],
            )
            messages.success(request, _("已转诊确诊，2周内随访转诊结果。"))
        elif action == "rule_out":
            screening.screening_rule_out(
                actor=request.user, case=case, version=version, note=(request.POST.get("note") or "")[:200]
            )
            messages.success(request, _("已排除。"))
        else:
            raise Http404
    except DomainValidationError as exc:
        for msgs in exc.errors.values():
            for m in msgs:
                messages.error(request, m)
    back = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("programmes:worklist")


# ---------------------------------------------------------------------------------------------
# Register and numbers
# ---------------------------------------------------------------------------------------------


@staff_required
def register(request: HttpRequest, programme: str) -> HttpResponse:
    prog = _programme(programme)
    page = _int(request.GET.get("page"))
    rows, has_next = selectors.enrolment_list(request.user, programme=prog.code, page=page)
    items = [{"enrolment": e, "last": selectors.latest_visit(e), "next": selectors.next_task(e)} for e in rows]
    return render(
        request,
        "programmes/register.html",
        {
            "programme": prog,
            "items": items,
            "page_no": page,
            "has_next": has_next,
            "today": timezone.localdate(),
            "class_labels": engine.outcome_labels(),
        },
    )


@staff_required
def numbers_page(request: HttpRequest) -> HttpResponse:
    """The programme's numbers are its indicators: the indicator engine's stored values of the dashboard
    group named after the programme, for the user's unit and a period, on the indicators app's group page
    (``period``, ``level`` and ``unit_id`` pass through). Nothing is counted here."""
    registered = engine.all_programmes()
    code = request.GET.get("programme") or (registered[0].code if registered else "")
    prog = _programme(code)
    query = QueryDict(mutable=True)
    for key in ("period", "level", "unit_id"):
        if request.GET.get(key):
            query[key] = request.GET[key]
    url = reverse("indicators:group", args=[prog.code])
    return redirect(f"{url}?{query.urlencode()}" if query else url)


def resident_url(resident: Resident) -> str:
    return reverse("resident_detail", args=[resident.pk])

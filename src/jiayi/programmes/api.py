"""Programme engine over /api/v1/: enrolments, visits, work lists, screening, risk, medication.

Paths:
- ``/programmes/{programme}/enrolments`` (POST), ``/programmes/enrolments`` (GET),
  ``/programmes/enrolments/{id}`` (GET, PATCH), ``/programmes/enrolments/{id}/end`` (POST),
  ``/programmes/enrolments/{id}/medication-plan`` (GET, POST)
- ``/programmes/{programme}/visits`` (POST, GET ?resident_id=), ``/programmes/visits/{id}`` (GET, PATCH)
- ``/programmes/{programme}/schema`` (GET): the visit form's fields
- ``/programmes/referrals/{id}/return`` (POST)
- ``/programmes/screening/candidates``, ``/programmes/screening/cases`` (GET),
  ``/programmes/screening/measurements`` (POST), ``/programmes/screening/cases/{id}/confirm|refer|rule-out``
- ``/programmes/forecast`` (GET). A programme's numbers are its indicators' stored values:
  ``/indicators/units/{level}/{id}?group=<programme>`` (indicators app)
- ``/worklists/counts``, ``/worklists/awaiting-return``, ``/worklists/{bucket}`` (GET)
- ``/residents/{id}/risk`` (GET)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from jiayi.core.access import require_staff_scope, require_writer
from jiayi.core.audit import audit_view
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import get_visible_or_404
from jiayi.org.models import Staff, Team
from jiayi.programmes import engine, screening, selectors, services
from jiayi.programmes.models import (
    Enrolment,
    EnrolmentEndReason,
    EnrolmentSource,
    MedicationPlan,
    Referral,
    ScreeningCase,
    Visit,
    VisitMode,
)
from jiayi.residents import selectors as resident_selectors

router = Router(tags=["programmes"])

ModeCode = Literal[tuple(VisitMode.values)]  # type: ignore[valid-type]
EndReason = Literal[tuple(EnrolmentEndReason.values)]  # type: ignore[valid-type]
SourceCode = Literal[tuple(EnrolmentSource.values)]  # type: ignore[valid-type]
Note = Annotated[str, Field(max_length=300)]


# ---------------------------------------------------------------------------------------------
# Access helpers
# ---------------------------------------------------------------------------------------------




def _programme(code: str) -> engine.Programme:
    try:
        return engine.get(code)
    except KeyError:
        raise Http404 from None


def _staff_in_scope(request, staff_id: int | None, field: str) -> Staff | None:
    if staff_id is None:
        return None
    s = Staff.objects.visible_to(request.user).filter(pk=staff_id, active=True).first()
    if s is None:
        raise DomainValidationError({field: "医生不存在或不在本机构范围内。"})
    return s


def _team_in_scope(request, team_id: int | None, field: str = "team_id") -> Team | None:
    if team_id is None:
        return None
    t = Team.objects.visible_to(request.user).filter(pk=team_id, active=True).first()
    if t is None:
        raise DomainValidationError({field: "团队不存在或不在本机构范围内。"})
    return t


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


class EnrolmentIn(Schema):
    resident_id: int
    start_date: date
    ruleset: Annotated[str, Field(max_length=40)] | None = None
    doctor_id: int | None = None
    team_id: int | None = None
    diagnosed_on: date | None = None
    source: SourceCode = "clinic"  # type: ignore[valid-type]


class EnrolmentPatch(Schema):
    version: int
    doctor_id: int | None = None
    team_id: int | None = None
    ruleset: Annotated[str, Field(max_length=40)] | None = None


class EnrolmentEndIn(Schema):
    version: int
    end_date: date
    reason: EndReason  # type: ignore[valid-type]
    note: Annotated[str, Field(max_length=200)] = ""


class EnrolmentOut(Schema):
    id: int
    version: int
    resident_id: int
    programme: str
    ruleset: str
    start_date: date
    end_date: date | None
    end_reason: str
    source: str
    diagnosed_on: date | None
    institution_id: int
    doctor_id: int | None
    team_id: int | None
    next_due: date | None = None


class VisitIn(Schema):
    resident_id: int
    visit_date: date
    #: one of the programme's visit types (``GET /programmes/{programme}/schema``); default its first
    visit_type: Annotated[str, Field(max_length=20)] | None = None
    mode: ModeCode = "clinic"  # type: ignore[valid-type]
    form: dict[str, Any]
    long_prescription: bool = False
    assessment_note: Note = ""
    patient_confirmed: bool = False


class VisitPatch(Schema):
    version: int
    form: dict[str, Any]
    mode: ModeCode | None = None  # type: ignore[valid-type]


class ReasonOut(Schema):
    code: str
    label: str


class VisitOut(Schema):
    id: int
    version: int
    resident_id: int
    enrolment_id: int
    programme: str
    ruleset: str
    visit_date: date
    visit_type: str
    mode: str
    form: dict[str, Any]
    sbp: int | None
    dbp: int | None
    fasting_glucose: float | None
    classification: str
    classification_label: str
    at_target: bool | None
    next_due: date | None
    referral: list[str] | None
    referral_reasons: list[ReasonOut]
    urgent: bool
    doctor_id: int | None
    institution_id: int


class ReferralReturnIn(Schema):
    returned_on: date
    outcome: Annotated[str, Field(max_length=300)] = ""


class ReferralOut(Schema):
    id: int
    resident_id: int
    programme: str
    referred_on: date
    reasons: list[ReasonOut]
    urgent: bool
    to_institution_name: str
    returned_on: date | None
    outcome: str


class WorklistParams(Schema):
    scope: Literal["mine", "team", "institution", ""] = ""
    team_id: int | None = None
    doctor_id: int | None = None
    programme: Annotated[str, Field(max_length=30)] | None = None
    page: Annotated[int, Field(ge=1, le=10000)] = 1
    page_size: Annotated[int, Field(ge=1, le=200)] = 50


class WorklistItem(Schema):
    task_id: int
    kind: str
    programme: str
    due_date: date
    status: str
    overdue_days: int
    priority: int
    reason: str
    resident_id: int
    resident_name: str
    sex: str
    age: int
    phone_masked: str
    last_visit_date: date | None
    last_classification: str | None
    visit_url: str


class WorklistOut(Schema):
    scope: str
    scope_label: str
    bucket: str
    items: list[WorklistItem]
    page: int
    has_next: bool


class CountsOut(Schema):
    scope: str
    scope_label: str
    due_week: int
    overdue: int
    referrals: int
    awaiting_return: int


class MedicationLineIn(Schema):
    drug: Annotated[str, Field(min_length=1, max_length=100)]
    drug_class: Annotated[str, Field(max_length=30)] = "other"
    dose: Annotated[float, Field(gt=0, le=10000)]
    dose_unit: Annotated[str, Field(max_length=10)]
    times_per_day: Annotated[int, Field(ge=1, le=6)]
    duration_days: Annotated[int, Field(ge=1, le=366)]


class MedicationPlanIn(Schema):
    lines: Annotated[list[MedicationLineIn], Field(min_length=1, max_length=12)]
    start_date: date | None = None
    long_prescription: bool = False
    assessment_note: Note = ""
    patient_confirmed: bool = False


class MedicationPlanOut(Schema):
    id: int
    enrolment_id: int
    start_date: date
    status: str
    long_prescription: bool
    assessment_note: str
    patient_confirmed: bool
    lines: list[dict[str, Any]]


class ScreeningCaseOut(Schema):
    id: int
    version: int
    resident_id: int
    programme: str
    opened_on: date
    status: str
    raised_days: list[str]
    readings: list[dict[str, Any]]
    closed_on: date | None
    enrolment_id: int | None


class ScreeningOut(Schema):
    measurement_id: int
    raised: bool
    high_risk: list[ReasonOut]
    case: ScreeningCaseOut | None


class CaseConfirmIn(Schema):
    version: int
    start_date: date | None = None
    doctor_id: int | None = None
    team_id: int | None = None


class CaseReferIn(Schema):
    version: int
    to_institution_name: Annotated[str, Field(max_length=200)] = ""


class CaseRuleOutIn(Schema):
    version: int
    note: Annotated[str, Field(max_length=200)] = ""


class CandidateOut(Schema):
    resident_id: int
    name: str
    sex: str
    age: int
    phone_masked: str
    area: str


class CandidatesOut(Schema):
    items: list[CandidateOut]
    page: int
    has_next: bool


class ForecastParams(Schema):
    institution_id: int | None = None


# ---------------------------------------------------------------------------------------------
# Serialisers
# ---------------------------------------------------------------------------------------------


def _reasons(codes: list[str] | None) -> list[dict[str, str]]:
    return [{"code": c, "label": selectors.reason_label(c)} for c in codes or []]


def _enrolment_out(e: Enrolment) -> dict[str, Any]:
    task = selectors.next_task(e)
    return {
        "id": e.pk,
        "version": e.version,
        "resident_id": e.resident_id,
        "programme": e.programme,
        "ruleset": e.ruleset,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "end_reason": e.end_reason,
        "source": e.source,
        "diagnosed_on": e.diagnosed_on,
        "institution_id": e.institution_id,
        "doctor_id": e.doctor_id,
        "team_id": e.team_id,
        "next_due": task.due_date if task else None,
    }


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "version": v.version,
        "resident_id": v.resident_id,
        "enrolment_id": v.enrolment_id,
        "programme": v.programme,
        "ruleset": v.ruleset,
        "visit_date": v.visit_date,
        "visit_type": v.visit_type,
        "mode": v.mode,
        "form": v.form,
        "sbp": v.sbp,
        "dbp": v.dbp,
        "fasting_glucose": float(v.fasting_glucose) if v.fasting_glucose is not None else None,
        "classification": v.classification,
        "classification_label": engine.outcome_label(v.programme, v.classification),
        "at_target": v.at_target,
        "next_due": v.next_due,
        "referral": list(v.referral_reasons) if v.referred else None,
        "referral_reasons": _reasons(v.referral_reasons),
        "urgent": v.urgent,
        "doctor_id": v.doctor_id,
        "institution_id": v.institution_id,
    }


def _referral_out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "resident_id": r.resident_id,
        "programme": r.programme,
        "referred_on": r.referred_on,
        "reasons": _reasons(r.reasons),
        "urgent": r.urgent,
        "to_institution_name": r.to_institution_name,
        "returned_on": r.returned_on,
        "outcome": r.outcome,
    }


def _plan_out(p: MedicationPlan) -> dict[str, Any]:
    return {
        "id": p.pk,
        "enrolment_id": p.enrolment_id,
        "start_date": p.start_date,
        "status": p.status,
        "long_prescription": p.long_prescription,
        "assessment_note": p.assessment_note,
        "patient_confirmed": p.patient_confirmed,
        "lines": [
            {
                "drug": ln.drug,
                "drug_class": ln.drug_class,
                "dose": float(ln.dose),
                "dose_unit": ln.dose_unit,
                "times_per_day": ln.times_per_day,
                "duration_days": ln.duration_days,
            }
            for ln in p.lines.order_by("pk")
        ],
    }


def _case_out(c: ScreeningCase) -> dict[str, Any]:
    return {
        "id": c.pk,
        "version": c.version,
        "resident_id": c.resident_id,
        "programme": c.programme,
        "opened_on": c.opened_on,
        "status": c.status,
        "raised_days": list(c.raised_days),
        "readings": list(c.readings),
        "closed_on": c.closed_on,
        "enrolment_id": c.enrolment_id,
    }


def _visit_url(task) -> str:
    return selectors.task_url(task)


# ---------------------------------------------------------------------------------------------
# Enrolments
# ---------------------------------------------------------------------------------------------


@router.post("/programmes/{programme}/enrolments", response={201: EnrolmentOut})
def enrolment_create(request, programme: str, payload: EnrolmentIn):
    require_writer(request)
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, payload.resident_id, audit_read=False)
    doctor = _staff_in_scope(request, payload.doctor_id, "doctor_id")
    team = _team_in_scope(request, payload.team_id)
    e = services.enrolment_create(
        actor=request.user,
        resident=resident,
        programme=prog.code,
        start_date=payload.start_date,
        ruleset=payload.ruleset,
        doctor=doctor or getattr(request.user, "staff", None),
        team=team,
        diagnosed_on=payload.diagnosed_on,
        source=payload.source,
    )
    return Status(201, _enrolment_out(e))


@router.get("/programmes/enrolments", response=list[EnrolmentOut])
def enrolment_list(
    request,
    programme: Annotated[str, Field(max_length=30)] | None = None,
    resident_id: int | None = None,
    open_only: bool = True,
    page: Annotated[int, Field(ge=1, le=100000)] = 1,
):
    """Enrolments of one programme, or of every programme when ``programme`` is not given."""
    if programme is not None:
        _programme(programme)
    if resident_id is not None:
        resident_selectors.resident_get(request.user, resident_id, audit_read=False)
    rows, _more = selectors.enrolment_list(
        request.user, programme=programme, resident_id=resident_id, open_only=open_only, page=page
    )
    return [_enrolment_out(e) for e in rows]


@router.get("/programmes/enrolments/{enrolment_id}", response=EnrolmentOut)
def enrolment_read(request, enrolment_id: int):
    return _enrolment_out(selectors.enrolment_get(request.user, enrolment_id))


@router.patch("/programmes/enrolments/{enrolment_id}", response=EnrolmentOut)
def enrolment_update(request, enrolment_id: int, payload: EnrolmentPatch):
    require_writer(request)
    e = get_visible_or_404(Enrolment.objects.visible_to(request.user), pk=enrolment_id)
    e = services.enrolment_update(
        actor=request.user,
        enrolment=e,
        version=payload.version,
        doctor=_staff_in_scope(request, payload.doctor_id, "doctor_id"),
        team=_team_in_scope(request, payload.team_id),
        ruleset=payload.ruleset,
    )
    return _enrolment_out(e)


@router.post("/programmes/enrolments/{enrolment_id}/end", response=EnrolmentOut)
def enrolment_end(request, enrolment_id: int, payload: EnrolmentEndIn):
    require_writer(request)
    e = get_visible_or_404(Enrolment.objects.visible_to(request.user), pk=enrolment_id)
    e = services.enrolment_end(
        actor=request.user,
        enrolment=e,
        version=payload.version,
        end_date=payload.end_date,
        reason=payload.reason,
        note=payload.note,
    )
    return _enrolment_out(e)


@router.get("/programmes/enrolments/{enrolment_id}/medication-plan", response={200: MedicationPlanOut, 204: None})
def medication_plan_read(request, enrolment_id: int):
    e = selectors.enrolment_get(request.user, enrolment_id)
    plan = selectors.active_plan(e)
    if plan is None:
        return Status(204, None)
    return Status(200, _plan_out(plan))


@router.post("/programmes/enrolments/{enrolment_id}/medication-plan", response={201: MedicationPlanOut})
def medication_plan_set(request, enrolment_id: int, payload: MedicationPlanIn):
    require_writer(request)
    e = get_visible_or_404(Enrolment.objects.visible_to(request.user), pk=enrolment_id)
    plan = services.medication_plan_set(
        actor=request.user,
        enrolment=e,
        lines=[ln.dict() for ln in payload.lines],
        start_date=payload.start_date or timezone.localdate(),
        long_prescription=payload.long_prescription,
        assessment_note=payload.assessment_note,
        patient_confirmed=payload.patient_confirmed,
    )
    return Status(201, _plan_out(plan))


# ---------------------------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------------------------


@router.get("/programmes/{programme}/schema", response=dict)
def form_schema(request, programme: str, visit_type: Annotated[str, Field(max_length=20)] | None = None):
    """The programme's declaration as a client needs it (kind, visit types, outcomes) and the form of
    ``visit_type`` (default: the first visit type)."""
    require_staff_scope(request)
    prog = _programme(programme)
    try:
        form = prog.visit_type(visit_type).form if visit_type else prog.schema
    except KeyError:
        raise DomainValidationError({"visit_type": _("随访类型无效。")}) from None
    return {
        "programme": prog.code,
        "kind": str(prog.kind),
        "visit_types": [
            {"code": v.code, "label": _(v.label), "service_items": list(v.service_items)} for v in prog.visit_types
        ],
        "outcomes": [{"code": o.code, "label": _(o.label)} for o in prog.outcomes],
        "title": _(form.title),
        "sections": [{"code": c, "label": _(label)} for c, label in form.sections],
        "fields": [
            {
                "name": f.name,
                "label": _(f.label),
                "kind": f.kind,
                "section": f.section,
                "required": f.required,
                "min": f.min,
                "max": f.max,
                "unit": f.unit,
                "choices": [{"code": c, "label": _(label)} for c, label in f.choices],
                "prefill": f.prefill,
            }
            for f in form.fields
        ],
    }


@router.post("/programmes/{programme}/visits", response={201: VisitOut})
def visit_create(request, programme: str, payload: VisitIn):
    """Record a follow-up; the answer carries the computed classification, next_due and referral."""
    require_writer(request)
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, payload.resident_id, audit_read=False)
    enrolment = selectors.open_enrolment(resident, prog.code)
    if enrolment is None:
        raise DomainValidationError(
            {"resident_id": _("该居民未纳入%(programme)s。") % {"programme": prog.display_name}}, code="not_enrolled"
        )
    visit = services.visit_record(
        actor=request.user,
        enrolment=enrolment,
        visit_date=payload.visit_date,
        form=payload.form,
        visit_type=payload.visit_type,
        mode=payload.mode,
        plan=services.PlanOptions(
            long_prescription=payload.long_prescription,
            assessment_note=payload.assessment_note,
            patient_confirmed=payload.patient_confirmed,
        ),
    )
    return Status(201, _visit_out(visit))


@router.get("/programmes/{programme}/visits", response=list[VisitOut])
def visit_list(request, programme: str, resident_id: int):
    prog = _programme(programme)
    resident = resident_selectors.resident_get(request.user, resident_id)
    rows = (
        Visit.objects.visible_to(request.user)
        .filter(resident=resident, programme=prog.code, is_deleted=False)
        .order_by("-visit_date", "-pk")[:100]
    )
    return [_visit_out(v) for v in rows]


@router.get("/programmes/visits/{visit_id}", response=VisitOut)
def visit_read(request, visit_id: int):
    return _visit_out(selectors.visit_get(request.user, visit_id))


@router.patch("/programmes/visits/{visit_id}", response=VisitOut)
def visit_update(request, visit_id: int, payload: VisitPatch):
    require_writer(request)
    v = get_visible_or_404(Visit.objects.visible_to(request.user).filter(is_deleted=False), pk=visit_id)
    v = services.visit_update(
        actor=request.user, visit=v, version=payload.version, form=payload.form, mode=payload.mode
    )
    return _visit_out(v)


@router.post("/programmes/referrals/{referral_id}/return", response=ReferralOut)
def referral_return(request, referral_id: int, payload: ReferralReturnIn):
    require_writer(request)
    r = get_visible_or_404(Referral.objects.visible_to(request.user), pk=referral_id)
    r = services.referral_return(
        actor=request.user, referral=r, returned_on=payload.returned_on, outcome=payload.outcome
    )
    return _referral_out(r)


# ---------------------------------------------------------------------------------------------
# Work lists
# ---------------------------------------------------------------------------------------------


def _scope(request, params: WorklistParams) -> selectors.WorklistScope:
    require_staff_scope(request)
    return selectors.resolve_scope(request.user, kind=params.scope, team_id=params.team_id, doctor_id=params.doctor_id)


@router.get("/worklists/counts", response=CountsOut)
def worklist_counts(request, params: Query[WorklistParams]):
    scope = _scope(request, params)
    counts = selectors.worklist_counts(request.user, scope=scope)
    return {"scope": scope.kind, "scope_label": scope.label, **counts}


@router.get("/worklists/awaiting-return", response=list[ReferralOut])
def worklist_awaiting(request, params: Query[WorklistParams]):
    scope = _scope(request, params)
    rows = selectors.referrals_awaiting(request.user, scope=scope, limit=params.page_size)
    from jiayi.core.audit import audit_search

    audit_search(request.user, object_type="programmes.referral", query="awaiting", count=len(rows))
    return [_referral_out(r) for r in rows]


@router.get("/worklists/{bucket}", response=WorklistOut)
def worklist(request, bucket: Literal["due_week", "overdue", "referrals", "all_open"], params: Query[WorklistParams]):
    scope = _scope(request, params)
    rows, has_next = selectors.worklist(
        request.user,
        scope=scope,
        bucket=bucket,
        page=params.page,
        page_size=params.page_size,
        programme=params.programme,
    )
    today = timezone.localdate()
    items = [
        {
            "task_id": r.task.pk,
            "kind": r.task.kind,
            "programme": r.task.programme,
            "due_date": r.task.due_date,
            "status": r.status,
            "overdue_days": r.overdue_days,
            "priority": r.task.priority,
            "reason": r.task.reason,
            "resident_id": r.resident.pk,
            "resident_name": r.resident.name,
            "sex": r.resident.sex,
            "age": r.resident.age_on(today),
            "phone_masked": r.resident.masked_phone,
            "last_visit_date": r.last_visit.visit_date if r.last_visit else None,
            "last_classification": r.last_visit.classification if r.last_visit else None,
            "visit_url": _visit_url(r.task),
        }
        for r in rows
    ]
    return {
        "scope": scope.kind,
        "scope_label": scope.label,
        "bucket": bucket,
        "items": items,
        "page": params.page,
        "has_next": has_next,
    }


# ---------------------------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------------------------


@router.get("/programmes/screening/cases", response=list[ScreeningCaseOut])
def screening_case_list(request, open_only: bool = True):
    require_staff_scope(request)
    return [_case_out(c) for c in selectors.screening_cases(request.user, open_only=open_only)]


def _case(request, case_id: int) -> ScreeningCase:
    require_writer(request)
    return get_visible_or_404(ScreeningCase.objects.visible_to(request.user).select_related("resident"), pk=case_id)


@router.post("/programmes/screening/cases/{case_id}/confirm", response={201: EnrolmentOut})
def screening_confirm(request, case_id: int, payload: CaseConfirmIn):
    case = _case(request, case_id)
    e = screening.screening_confirm(
        actor=request.user,
        case=case,
        version=payload.version,
        start_date=payload.start_date,
        doctor=_staff_in_scope(request, payload.doctor_id, "doctor_id"),
        team=_team_in_scope(request, payload.team_id),
    )
    return Status(201, _enrolment_out(e))


@router.post("/programmes/screening/cases/{case_id}/refer", response={201: ReferralOut})
def screening_refer(request, case_id: int, payload: CaseReferIn):
    case = _case(request, case_id)
    r = screening.screening_refer(
        actor=request.user, case=case, version=payload.version, to_institution_name=payload.to_institution_name
    )
    return Status(201, _referral_out(r))


@router.post("/programmes/screening/cases/{case_id}/rule-out", response=ScreeningCaseOut)
def screening_rule_out(request, case_id: int, payload: CaseRuleOutIn):
    case = _case(request, case_id)
    return _case_out(
        screening.screening_rule_out(actor=request.user, case=case, version=payload.version, note=payload.note)
    )


# ---------------------------------------------------------------------------------------------
# Risk, forecast
# ---------------------------------------------------------------------------------------------


@router.get("/residents/{resident_id}/risk", response=dict)
def resident_risk(request, resident_id: int):
    """China-PAR 10-year risk with the inputs used and missing, hypertension risk stratification,
    diabetes risk score (adults without diabetes), hypertension high-risk criteria."""
    resident = resident_selectors.resident_get(request.user, resident_id, audit_read=False)
    audit_view(request.user, resident, detail={"view": "risk"})
    r = selectors.resident_risk(resident)
    return {
        "resident_id": resident.pk,
        "china_par": r.china_par,
        "china_par_inputs": r.china_par_inputs,
        "china_par_missing": r.china_par_missing,
        "hypertension_risk": r.htn_risk,
        "diabetes_risk_score": r.diabetes_score,
        "diabetes_risk_missing": r.diabetes_missing,
        "hypertension_high_risk": r.high_risk,
        "notes": r.notes,
    }


@router.get("/programmes/forecast", response=dict)
def stocking_forecast(request, params: Query[ForecastParams]):
    require_staff_scope(request)
    institutions = selectors.forecast_institutions(request.user)
    if params.institution_id is not None:
        inst = get_visible_or_404(institutions, pk=params.institution_id)
    else:
        staff = getattr(request.user, "staff", None)
        inst = staff.institution if staff is not None else None
        if inst is None or not institutions.filter(pk=inst.pk).exists():
            raise DomainValidationError({"institution_id": "请指定机构。"})
    lines = selectors.stocking_forecast(request.user, institution=inst)
    return {
        "institution_id": inst.pk,
        "institution": inst.name,
        "lines": [
            {
                "drug": ln.drug,
                "dose_unit": ln.dose_unit,
                "patients": ln.patients,
                "monthly_quantity": ln.monthly_quantity,
            }
            for ln in lines
        ],
    }


__all__ = ["router"]


# ---------------------------------------------------------------------------------------------
# The programmes' own endpoints
# ---------------------------------------------------------------------------------------------


def _add_programme_routers() -> None:
    from django.utils.module_loading import import_string

    for prog in engine.all_programmes():
        if prog.api:
            router.add_router("", import_string(prog.api))


_add_programme_routers()

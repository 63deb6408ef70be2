"""Every read of the programme engine, scoped to the user (``visible_to``) and audited where it shows
a resident's personal data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core.audit import audit_search, audit_view
from jiayi.core.scoping import get_visible_or_404, institution_ids_visible_to
from jiayi.org.models import Institution, Staff, Team
from jiayi.programmes import engine
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.models import (
    Enrolment,
    MedicationPlan,
    MedicationPlanLine,
    PlanStatus,
    Referral,
    ScreeningCase,
    ScreeningStatus,
    Task,
    TaskKind,
    TaskStatus,
    Visit,
)
from jiayi.residents.models import Measurement, Resident

#: Labels of referral reasons that are not rule codes.
EXTRA_REASON_LABELS = {"screening_confirm": "筛查血压升高，转上级医院确诊"}


def reason_label(code: str) -> str:
    from jiayi.programmes.chronic_rules import REFERRAL_REASONS

    return _(REFERRAL_REASONS.get(code) or EXTRA_REASON_LABELS.get(code) or code)


# ---------------------------------------------------------------------------------------------
# Enrolments and visits
# ---------------------------------------------------------------------------------------------


def enrolment_get(user, pk: int) -> Enrolment:
    e = get_visible_or_404(Enrolment.objects.visible_to(user).select_related("resident", "doctor", "team"), pk=pk)
    audit_view(user, e)
    return e


def open_enrolment(resident: Resident, programme: str) -> Enrolment | None:
    """The resident's open enrolment (the caller has already scoped the resident)."""
    return (
        Enrolment.objects.filter(resident=resident, programme=programme, end_date__isnull=True)
        .select_related("resident", "doctor", "team", "institution")
        .first()
    )


def enrolments_for(resident: Resident) -> list[Enrolment]:
    return list(
        Enrolment.objects.filter(resident=resident).select_related("doctor", "team").order_by("-start_date", "-pk")
    )


def enrolment_list(
    user,
    *,
    programme: str | None,
    resident_id: int | None = None,
    open_only: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Enrolment], bool]:
    qs = Enrolment.objects.visible_to(user)
    if programme is not None:
        qs = qs.filter(programme=programme)
    if resident_id is not None:
        qs = qs.filter(resident_id=resident_id)
    if open_only:
        qs = qs.filter(end_date__isnull=True)
    offset = (max(1, page) - 1) * page_size
    rows = list(
        qs.select_related("resident", "doctor", "team").order_by("-start_date", "-pk")[offset : offset + page_size + 1]
    )
    audit_search(
        user,
        object_type="programmes.enrolment",
        query=f"{programme or ''}:{resident_id or ''}",
        count=min(len(rows), page_size),
    )
    return rows[:page_size], len(rows) > page_size


def visit_get(user, pk: int) -> Visit:
    v = get_visible_or_404(
        Visit.objects.visible_to(user).filter(is_deleted=False).select_related("resident", "enrolment", "doctor"),
        pk=pk,
    )
    audit_view(user, v)
    return v


def visits_for(enrolment: Enrolment, *, limit: int = 50) -> list[Visit]:
    return list(
        Visit.objects.filter(enrolment=enrolment, is_deleted=False)
        .select_related("doctor")
        .order_by("-visit_date", "-pk")[:limit]
    )


def latest_visit(enrolment: Enrolment) -> Visit | None:
    return Visit.objects.filter(enrolment=enrolment, is_deleted=False).order_by("-visit_date", "-pk").first()


def next_task(enrolment: Enrolment) -> Task | None:
    return (
        Task.objects.filter(
            enrolment=enrolment,
            status=TaskStatus.DUE,
            kind__in=[TaskKind.FOLLOW_UP, TaskKind.REFERRAL_FOLLOW_UP],
        )
        .order_by("due_date")
        .first()
    )


def active_plan(enrolment: Enrolment) -> MedicationPlan | None:
    return (
        MedicationPlan.objects.filter(enrolment=enrolment, status=PlanStatus.ACTIVE).prefetch_related("lines").first()
    )


def form_initial(enrolment: Enrolment) -> tuple[dict[str, Any], Visit | None]:
    """The new visit form's starting values and the last visit: each prefillable field from the most
    recent of the last few visits that recorded it, medication from the active plan otherwise."""
    prog = engine.get(enrolment.programme)
    recent = visits_for(enrolment, limit=6)
    last = recent[0] if recent else None
    initial: dict[str, Any] = {}
    for v in recent:
        for key, value in prog.schema.prefill_from(v.form).items():
            initial.setdefault(key, value)
    if "medications" not in initial:
        plan = active_plan(enrolment)
        if plan is not None:
            initial["medications"] = [
                {
                    "drug": ln.drug,
                    "drug_class": ln.drug_class,
                    "dose": float(ln.dose),
                    "dose_unit": ln.dose_unit,
                    "times_per_day": ln.times_per_day,
                    "duration_days": ln.duration_days,
                }
                for ln in plan.lines.all()
            ]
    if "height" not in initial:
        h = (
            Measurement.objects.filter(resident_id=enrolment.resident_id, height__isnull=False)
            .order_by("-measured_at")
            .values_list("height", flat=True)
            .first()
        )
        if h is not None:
            initial["height"] = float(h)
    return initial, last


# ---------------------------------------------------------------------------------------------
# Work lists
# ---------------------------------------------------------------------------------------------

BUCKETS = ("due_week", "overdue", "referrals", "all_open")


def week_end(today: date) -> date:
    return engine_rules.next_interval_end(today)


def _staff(user) -> Staff | None:
    return getattr(user, "staff", None) if user is not None and user.is_authenticated else None


@dataclass(frozen=True)
class WorklistScope:
    """Whose work: 'mine' (the doctor), 'team' (one team), 'institution' (the user's whole scope)."""

    kind: str
    team: Team | None = None
    doctor: Staff | None = None

    @property
    def label(self) -> str:
        if self.kind == "mine" and self.doctor is not None:
            return self.doctor.name
        if self.kind == "team" and self.team is not None:
            return self.team.name
        return _("本机构")


def resolve_scope(user, *, kind: str = "", team_id: int | None = None, doctor_id: int | None = None) -> WorklistScope:
    """Pick the work-list scope: an explicit team or doctor the user may see, else the user's own
    team, else the user's institution. Unknown or out-of-scope ids answer 404."""
    from django.http import Http404

    if team_id is not None:
        team = Team.objects.visible_to(user).filter(pk=team_id).first()
        if team is None:
            raise Http404
        return WorklistScope("team", team=team)
    if doctor_id is not None:
        doctor = Staff.objects.visible_to(user).filter(pk=doctor_id).first()
        if doctor is None:
            raise Http404
        return WorklistScope("mine", doctor=doctor)
    staff = _staff(user)
    if kind == "mine" and staff is not None:
        return WorklistScope("mine", doctor=staff)
    if kind in ("team", "") and staff is not None:
        membership = staff.team_memberships.select_related("team").filter(team__active=True).first()
        if membership is not None:
            return WorklistScope("team", team=membership.team)
        if kind == "team":
            return WorklistScope("institution")
    return WorklistScope("institution")


def _scoped_tasks(user, scope: WorklistScope) -> QuerySet[Task]:
    """Open tasks in the user's institution scope, narrowed to the team or doctor.

    Scoped on the task's own (denormalised) institution so that the (status, team | doctor |
    institution, due_date) indexes drive the query without a join on the resident table; the rows
    shown are then checked against ``Resident.visible_to`` (see :func:`worklist`), so a resident the
    user may not see never appears even if a task's institution is stale.
    """
    ids = institution_ids_visible_to(user)
    if ids is None:
        return Task.objects.none()
    qs = Task.objects.filter(status=TaskStatus.DUE, institution_id__in=ids)
    if scope.kind == "team" and scope.team is not None:
        qs = qs.filter(team=scope.team)
    elif scope.kind == "mine" and scope.doctor is not None:
        qs = qs.filter(doctor=scope.doctor)
    return qs


def _scoped_referrals(user, scope: WorklistScope) -> QuerySet[Referral]:
    ids = institution_ids_visible_to(user)
    if ids is None:
        return Referral.objects.none()
    qs = Referral.objects.filter(institution_id__in=ids).awaiting()
    if scope.kind == "team" and scope.team is not None:
        qs = qs.filter(team=scope.team)
    elif scope.kind == "mine" and scope.doctor is not None:
        qs = qs.filter(doctor=scope.doctor)
    return qs


def _visible_residents(user, ids: set[int]) -> dict[int, Resident]:
    """The residents among ``ids`` the user may see (the final check of every work-list row)."""
    if not ids:
        return {}
    return {r.pk: r for r in Resident.objects.visible_to(user).filter(pk__in=ids).select_related("area")}


def _bucket(qs: QuerySet[Task], bucket: str, today: date) -> QuerySet[Task]:
    if bucket == "due_week":
        return qs.filter(due_date__gte=today, due_date__lte=week_end(today))
    if bucket == "overdue":
        return qs.filter(due_date__lt=today)
    if bucket == "referrals":
        return qs.filter(kind=TaskKind.REFERRAL_FOLLOW_UP)
    return qs


@dataclass
class WorklistRow:
    task: Task
    resident: Resident
    overdue_days: int
    status: str  # due / overdue
    last_visit: Visit | None = None
    referral: Referral | None = None

    @property
    def programme_name(self) -> str:
        try:
            return engine.get(self.task.programme).display_short_name
        except KeyError:
            return self.task.programme

    @property
    def kind_label(self) -> str:
        """The programme's own label for the task kind (its work-list entries), else the engine's."""
        prog = engine.all_programmes_by_code().get(self.task.programme)
        for entry in prog.worklist if prog is not None else ():
            if entry.task_kind == self.task.kind:
                return _(entry.label)
        return self.task.get_kind_display()

    @property
    def last_outcome_label(self) -> str:
        if self.last_visit is None:
            return ""
        return engine.outcome_label(self.last_visit.programme, self.last_visit.classification)

    @property
    def action_url(self) -> str:
        return task_url(self.task)

    @property
    def is_screening(self) -> bool:
        return self.task.kind == TaskKind.SCREENING_RECHECK or self.task.enrolment_id is None


def task_url(task: Task) -> str:
    """Where a task is done: the programme's screening page of the resident for a screening re-check
    (or a task outside an enrolment), else a new visit of the programme (the resident page when the
    programme is no longer installed)."""
    from django.urls import reverse

    prog = engine.all_programmes_by_code().get(task.programme)
    if prog is None:
        return reverse("resident_detail", args=[task.resident_id])
    if task.kind == TaskKind.SCREENING_RECHECK or task.enrolment_id is None:
        if prog.screening_page:
            return reverse(prog.screening_page, args=[task.resident_id])
        return reverse("resident_detail", args=[task.resident_id])
    return reverse("programmes:visit_new", args=[task.programme, task.resident_id])


def worklist(
    user,
    *,
    scope: WorklistScope,
    bucket: str,
    today: date | None = None,
    page: int = 1,
    page_size: int = 50,
    programme: str | None = None,
    audit_read: bool = True,
) -> tuple[list[WorklistRow], bool]:
    """One page of a work list, most urgent first (priority, then due date). Fetches one row more
    than the page instead of counting (fast at a million residents)."""
    today = today or timezone.localdate()
    if bucket not in BUCKETS:
        bucket = "all_open"
    qs = _bucket(_scoped_tasks(user, scope), bucket, today)
    if programme:
        qs = qs.filter(programme=programme)
    offset = (max(1, page) - 1) * page_size
    tasks = list(qs.order_by("priority", "due_date", "pk")[offset : offset + page_size + 1])
    has_next = len(tasks) > page_size
    residents = _visible_residents(user, {t.resident_id for t in tasks[:page_size]})
    tasks = [t for t in tasks[:page_size] if t.resident_id in residents]
    # The visit that scheduled a follow-up task is the patient's latest visit.
    last_visits = {
        v.pk: v
        for v in Visit.objects.filter(
            pk__in=[t.source_visit_id for t in tasks if t.source_visit_id], is_deleted=False
        ).only(
            "pk", "enrolment_id", "visit_date", "sbp", "dbp", "fasting_glucose", "classification", "referral_reasons"
        )
    }
    referrals: dict[int, Referral] = {}
    if bucket == "referrals":
        for r in (
            Referral.objects.filter(resident_id__in=[t.resident_id for t in tasks]).awaiting().order_by("-referred_on")
        ):
            referrals.setdefault(r.resident_id, r)
    rows = [
        WorklistRow(
            task=t,
            resident=residents[t.resident_id],
            overdue_days=max(0, (today - t.due_date).days),
            status=t.effective_status(today),
            last_visit=last_visits.get(t.source_visit_id or 0),
            referral=referrals.get(t.resident_id),
        )
        for t in tasks
    ]
    if audit_read:
        audit_search(user, object_type="programmes.task", query=f"{scope.kind}:{bucket}", count=len(rows))
    return rows, has_next


def worklist_counts(user, *, scope: WorklistScope, today: date | None = None) -> dict[str, int]:
    """Counts per bucket for the home page (COUNT on the (status, team/doctor/institution, due) indexes)."""
    today = today or timezone.localdate()
    qs = _scoped_tasks(user, scope)
    agg = qs.aggregate(
        due_week=Count("pk", filter=Q(due_date__gte=today, due_date__lte=week_end(today))),
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        referrals=Count("pk", filter=Q(kind=TaskKind.REFERRAL_FOLLOW_UP)),
    )
    agg["awaiting_return"] = _scoped_referrals(user, scope).count()
    return {k: int(v or 0) for k, v in agg.items()}


def referrals_awaiting(user, *, scope: WorklistScope, limit: int = 100) -> list[Referral]:
    """Referrals not yet followed up, oldest first; each carries ``reason_labels`` and ``programme_name``."""
    rows = list(_scoped_referrals(user, scope).order_by("referred_on", "pk")[:limit])
    residents = _visible_residents(user, {r.resident_id for r in rows})
    rows = [r for r in rows if r.resident_id in residents]
    for r in rows:
        r.resident = residents[r.resident_id]
        r.reason_labels = [reason_label(c) for c in r.reasons]
        try:
            r.programme_name = engine.get(r.programme).display_short_name
        except KeyError:
            r.programme_name = r.programme
    return rows


# ---------------------------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------------------------


def screening_cases(user, *, open_only: bool = True, limit: int = 100) -> list[ScreeningCase]:
    qs = ScreeningCase.objects.visible_to(user)
    if open_only:
        qs = qs.filter(status__in=[ScreeningStatus.RECHECKING, ScreeningStatus.CONFIRMABLE, ScreeningStatus.REFERRED])
    rows = list(qs.select_related("resident").order_by("status", "opened_on", "pk")[:limit])
    audit_search(user, object_type="programmes.screeningcase", query="open" if open_only else "all", count=len(rows))
    return rows


def screening_case_get(user, pk: int) -> ScreeningCase:
    c = get_visible_or_404(ScreeningCase.objects.visible_to(user).select_related("resident"), pk=pk)
    audit_view(user, c)
    return c


# ---------------------------------------------------------------------------------------------
# Risk (China-PAR here; each programme adds its own: risk stratification, risk score, high-risk criteria)
# ---------------------------------------------------------------------------------------------

@dataclass
class RiskReport:
    china_par: dict[str, Any] | None
    china_par_missing: list[str]
    china_par_inputs: dict[str, Any]
    htn_risk: dict[str, Any] | None = None
    diabetes_score: dict[str, Any] | None = None
    diabetes_missing: list[str] = field(default_factory=list)
    high_risk: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RiskSubject:
    """What the risk panel read of the resident, handed to the programmes' contributions: ``latest``
    measurement -> (value, date), the diagnosis ``groups``, and ``facts`` (:data:`RISK_FACTS`)."""

    resident: Resident
    today: date
    age: int
    latest: dict[str, tuple[float, date]]
    groups: frozenset[str]
    smoker: bool | None
    cvd_family_history: bool
    facts: dict[str, bool] = field(default_factory=dict)

    def value(self, name: str) -> float | None:
        return self.latest.get(name, (None,))[0]

    def family_history(self, words: tuple[str, ...]) -> bool:
        return _history_flag(self.resident, words)


#: The facts of a resident the risk models take from a programme (False when no programme tells):
#: ``diagnosed_diabetes`` (China-PAR, the hypertension risk stratification), ``bp_treated`` (China-PAR).
RISK_FACTS: tuple[str, ...] = ("diagnosed_diabetes", "bp_treated")
_RISK_FACT_SOURCES: dict[str, Callable[[RiskSubject], bool]] = {}
_RISK_SECTIONS: dict[str, Callable[[RiskSubject], dict[str, Any]]] = {}


def register_risk_fact(fact: str, source: Callable[[RiskSubject], bool]) -> None:
    """A programme tells the risk panel fact ``fact`` (one of :data:`RISK_FACTS`) of a resident."""
    if fact not in RISK_FACTS:
        raise ValueError(f"unknown risk fact {fact!r} (known: {', '.join(RISK_FACTS)})")
    _RISK_FACT_SOURCES[fact] = source


def register_risk_section(programme: str, section: Callable[[RiskSubject], dict[str, Any]]) -> None:
    """A programme adds its part of the risk report: ``section`` returns RiskReport fields and values."""
    _RISK_SECTIONS[programme] = section


def _risk_contributions() -> None:
    # The programme folders register from their risk_panel.py (once; the apps are loaded by now).
    from jiayi.core.discovery import autodiscover

    autodiscover("risk_panel")


def _latest_values(resident: Resident, names: tuple[str, ...]) -> dict[str, tuple[float, date]]:
    out: dict[str, tuple[float, date]] = {}
    rows = Measurement.objects.filter(resident=resident).order_by("-measured_at").values("measured_at", *names)[:200]
    for row in rows:
        for n in names:
            if n not in out and row[n] is not None:
                out[n] = (float(row[n]), timezone.localtime(row["measured_at"]).date())
        if len(out) == len(names):
            break
    return out


def _history_flag(resident: Resident, words: tuple[str, ...]) -> bool:
    from jiayi.residents.selectors import health_record_for

    rec = health_record_for(resident)
    if rec is None or not rec.family_history:
        return False
    items = rec.family_history.values() if isinstance(rec.family_history, dict) else rec.family_history
    for item in items:
        values = item if isinstance(item, list | tuple) else [item]
        if any(any(w in str(v) for w in words) for v in values):
            return True
    return False


def _urban(resident: Resident) -> bool:
    """Urban unless the resident's community is a village committee (村委会), read from the committee
    segment of the area code under the record-number rule set in use (``hrn-2011``: 101-199;
    ``nbs-statistical``: 200-399, 500-599)."""
    from django.conf import settings

    from jiayi.core.ids import RecordNumberError, community_kind, record_number_ruleset

    code = resident.area.code
    if len(code) != 12:
        return True
    ruleset = record_number_ruleset(settings.JIAYI.get("RECORD_NUMBER_RULESET"))
    try:
        return community_kind(code[9:], ruleset=ruleset) != "village"
    except RecordNumberError:
        return True


def _smoker(resident: Resident) -> bool | None:
    """Current smoking from the latest follow-up form that recorded it (None = unknown)."""
    for form in (
        Visit.objects.filter(resident=resident, is_deleted=False)
        .order_by("-visit_date")
        .values_list("form", flat=True)[:5]
    ):
        if form and form.get("smoking_per_day") is not None:
            return form["smoking_per_day"] > 0
    return None


def resident_risk(resident: Resident, *, today: date | None = None) -> RiskReport:
    """Cardiovascular risk (China-PAR) from the resident's record with the inputs used and the inputs
    missing, and the parts the programmes contribute (risk stratification, diabetes risk score,
    high-risk criteria). The caller has scoped and audited the resident."""
    from jiayi.programmes import risk
    from jiayi.residents.diagnoses import diagnosis_groups

    _risk_contributions()
    today = today or timezone.localdate()
    age = resident.age_on(today)
    latest = _latest_values(
        resident, ("sbp", "dbp", "total_cholesterol", "hdl_c", "ldl_c", "waist", "bmi", "fasting_glucose")
    )
    groups = diagnosis_groups(list(resident.problems.filter(resolved_on__isnull=True).values_list("icd10", flat=True)))
    smoker = _smoker(resident)
    fh_cvd = _history_flag(resident, ("冠心病", "脑卒中", "心肌梗死", "心脑血管"))
    subject = RiskSubject(resident=resident, today=today, age=age, latest=latest, groups=frozenset(groups),
                          smoker=smoker, cvd_family_history=fh_cvd)
    for fact in RISK_FACTS:  # diagnosed diabetes first: a later fact may read it
        source = _RISK_FACT_SOURCES.get(fact)
        subject.facts[fact] = bool(source(subject)) if source is not None else False
    diabetic, treated = subject.facts["diagnosed_diabetes"], subject.facts["bp_treated"]
    north = risk.china_par_north(resident.area.code)  # rule-set data (risk.CHINA_PAR_REGION)
    urban = _urban(resident)
    inputs: dict[str, Any] = dict(
        sex=resident.sex,
        age=age,
        treated=treated,
        diabetes=diabetic,  # the China-PAR input: diagnosed diabetes
        north=north,
        urban=urban,
        family_history=fh_cvd,
        smoker=smoker,
    )
    missing: list[str] = []
    for key in ("sbp", "total_cholesterol", "hdl_c", "waist"):
        if key in latest:
            inputs[key] = latest[key][0]
            inputs[f"{key}_date"] = latest[key][1].isoformat()
        else:
            missing.append(key)
    if smoker is None:
        missing.append("smoker")
    china_par: dict[str, Any] | None = None
    notes: list[str] = []
    if not missing:
        try:
            r = risk.china_par_10y(
                sex=resident.sex,
                age=age,
                sbp=inputs["sbp"],
                treated=treated,
                total_cholesterol=inputs["total_cholesterol"],
                hdl_c=inputs["hdl_c"],
                waist=inputs["waist"],
                smoker=bool(smoker),
                diabetes=diabetic,
                north=north,
                urban=urban,
                family_history=fh_cvd,
            )
            china_par = {
                "risk_percent": r.risk_display,
                "category": r.category,
                "category_label": _(risk.CHINA_PAR_CATEGORIES[r.category]),
                "ideal_risk_percent": round(r.ideal_risk, 1),
                "extrapolated": r.extrapolated,
            }
        except ValueError as exc:
            notes.append(str(exc))
    report = RiskReport(china_par=china_par, china_par_missing=missing, china_par_inputs=inputs, notes=notes)
    for section in _RISK_SECTIONS.values():
        for name, value in section(subject).items():
            setattr(report, name, value)
    return report


# ---------------------------------------------------------------------------------------------
# Medication: stocking forecast
# ---------------------------------------------------------------------------------------------


def forecast_institutions(user) -> QuerySet[Institution]:
    return Institution.objects.visible_to(user).filter(
        type__in=["centre", "township_centre", "station", "village_clinic"]
    )


def stocking_forecast(user, *, institution: Institution) -> list[engine_rules.ForecastLine]:
    """Monthly need by drug at one institution: the active plans of its managed patients summed
    (慢病用药管理: the residents' need, the doctors' plans, the pharmacy's stock)."""
    lines = MedicationPlanLine.objects.filter(
        plan__status=PlanStatus.ACTIVE,
        plan__institution=institution,
        plan__in=MedicationPlan.objects.visible_to(user),
    ).values_list("plan__resident_id", "drug", "dose_unit", "dose", "times_per_day")
    return engine_rules.monthly_forecast(lines.iterator(chunk_size=2000))

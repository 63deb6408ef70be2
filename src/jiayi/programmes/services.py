"""Every write of the programme engine: enrolment, visits, tasks, referrals, screening, medication plans.

Keyword-only, atomic, validate-everything-first: a refused input raises DomainValidationError with
field paths (``form.sbp``, ``visit_date``) and stores nothing. After a visit the pure rules of the
programme decide the class, the next due date and any referral; the service then closes the open
task, schedules the next one, opens a referral, records the measurements on the resident's record,
keeps the medication plan and publishes which contract service was delivered (core.events).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core import events, rulesets
from jiayi.core.audit import audit
from jiayi.core.errors import ConcurrentEditError, ConflictError, DomainValidationError
from jiayi.core.models import AccessAction
from jiayi.org.models import Institution, Staff, Team
from jiayi.programmes import engine, spec
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.models import (
    FACE_TO_FACE_MODES,
    Enrolment,
    EnrolmentEndReason,
    EnrolmentSource,
    MedicationPlan,
    MedicationPlanLine,
    PlanStatus,
    Referral,
    Task,
    TaskKind,
    TaskPriority,
    TaskStatus,
    Visit,
    VisitMode,
    VisitType,
)
from jiayi.residents import rules as resident_rules
from jiayi.residents.diagnoses import DIAGNOSIS_PREFIXES, diagnosis_groups
from jiayi.residents.models import ResidenceStatus, Resident

log = logging.getLogger(__name__)

FOLLOW_UP_KINDS = (TaskKind.FOLLOW_UP, TaskKind.REFERRAL_FOLLOW_UP)


def _staff(actor) -> Staff | None:
    return getattr(actor, "staff", None) if actor is not None else None


def _today() -> date:
    return timezone.localdate()


def _programme(code: str) -> engine.Programme:
    try:
        return engine.get(code)
    except KeyError:
        raise DomainValidationError({"programme": _("未知的项目。")}) from None


# ---------------------------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------------------------


def _active_codes(resident: Resident) -> list[str]:
    codes = resident.problems.filter(resolved_on__isnull=True).values_list("icd10", flat=True)
    return [(c or "").upper().replace(".", "") for c in codes]


def _problem_present(codes: Sequence[str], programme: engine.Programme) -> bool:
    """Whether the record already has a problem in one of the programme's diagnosis groups (or the
    code the programme would add)."""
    prefixes = tuple(p for g in programme.diagnosis_groups for p in DIAGNOSIS_PREFIXES.get(g, ()))
    if programme.problem is not None:
        prefixes += (programme.problem.icd10.upper().replace(".", ""),)
    return bool(prefixes) and any(c.startswith(prefixes) for c in codes)


def _eligibility_refusals(resident: Resident, prog: engine.Programme, on: date, codes: Sequence[str]) -> list[str]:
    open_episodes = set(
        Enrolment.objects.filter(resident=resident, end_date__isnull=True).values_list("programme", flat=True)
    )
    return [
        _(msg)
        for msg in prog.eligibility.refusals(
            birth_date=resident.birth_date,
            sex=resident.sex,
            on=on,
            diagnosis_groups=diagnosis_groups(codes),
            open_episodes=open_episodes,
        )
    ]


@transaction.atomic
def enrolment_create(
    *,
    actor,
    resident: Resident,
    programme: str,
    start_date: date,
    ruleset: str | None = None,
    institution: Institution | None = None,
    doctor: Staff | None = None,
    team: Team | None = None,
    diagnosed_on: date | None = None,
    source: str = EnrolmentSource.CLINIC,
) -> Enrolment:
    """Take a resident into management (纳入管理) under a rule set, or open an episode.

    Refuses a resident the programme's eligibility excludes (age, sex, diagnosis group, episode). Adds
    the programme's declared problem to the record when none of its diagnosis groups is there (so the
    key-population tag follows). A follow-up programme gets its first follow-up (and the annual check,
    if it records one); a schedule or episode programme gets the first contact due from its schedule."""
    prog = _programme(programme)
    errors: dict[str, str] = {}
    today = _today()
    if start_date > today:
        errors["start_date"] = _("纳入管理日期不能晚于今天。")
    elif start_date < resident.birth_date:
        errors["start_date"] = _("纳入管理日期不能早于出生日期。")
    if diagnosed_on is not None and (diagnosed_on > today or diagnosed_on < resident.birth_date):
        errors["diagnosed_on"] = _("确诊日期不合理。")
    if source not in EnrolmentSource.values:
        errors["source"] = _("来源无效。")
    if resident.residence_status in (ResidenceStatus.DECEASED, ResidenceStatus.MOVED_OUT):
        errors["resident_id"] = _("该居民已死亡或迁出，不能纳入管理。")
    if ruleset is None:
        try:
            rs_code = rulesets.default_for(prog.code, start_date).code
        except KeyError:
            errors["start_date"] = _("该日期没有适用的规则集。")
            rs_code = ""
    else:
        try:
            rs_code = rulesets.get(prog.code, ruleset).code
        except KeyError:
            errors["ruleset"] = _("未知的规则集。")
            rs_code = ""
    if doctor is not None and not doctor.active:
        errors["doctor_id"] = _("该医生已不在岗。")
    if Enrolment.objects.filter(resident=resident, programme=prog.code, end_date__isnull=True).exists():
        errors["resident_id"] = _("该居民已在本项目管理中。")
    codes = _active_codes(resident)
    refusals = _eligibility_refusals(resident, prog, start_date, codes)
    if refusals and "resident_id" not in errors:
        errors["resident_id"] = " ".join(refusals)
    if errors:
        raise DomainValidationError(errors)
    staff = _staff(actor)
    institution = institution or resident.institution
    if team is None and doctor is not None:
        membership = doctor.team_memberships.select_related("team").filter(team__active=True).first()
        team = membership.team if membership else None
    enrolment = Enrolment.objects.create(
        resident=resident,
        programme=prog.code,
        ruleset=rs_code,
        start_date=start_date,
        source=source,
        diagnosed_on=diagnosed_on,
        institution=institution,
        doctor=doctor,
        team=team,
        enrolled_by=staff,
    )
    audit(actor, AccessAction.CREATE, enrolment)
    if prog.problem is not None and not _problem_present(codes, prog):
        from jiayi.residents.services import problem_add

        problem_add(
            actor=actor,
            resident=resident,
            name=prog.problem.name,
            icd10=prog.problem.icd10,
            diagnosed_on=diagnosed_on or start_date,
        )
    if prog.kind == engine.Kind.FOLLOW_UP:
        _first_follow_up(enrolment, prog)
    else:
        _schedule_next(enrolment=enrolment, prog=prog, visit=None)
    return enrolment


def _first_follow_up(enrolment: Enrolment, prog: engine.Programme) -> None:
    start_date = enrolment.start_date
    _task_open(
        enrolment=enrolment,
        kind=TaskKind.FOLLOW_UP,
        due_date=start_date,
        priority=TaskPriority.ROUTINE,
        reason=_("纳入管理后首次随访"),
    )
    if _records_annual_check(prog):
        _task_open(
            enrolment=enrolment,
            kind=TaskKind.ANNUAL_CHECK,
            due_date=engine_rules.annual_check_due(None, start_date),
            priority=TaskPriority.PLANNED,
        )


def _records_annual_check(prog: engine.Programme) -> bool:
    return any(v.code == VisitType.ANNUAL_CHECK for v in prog.visit_types)


#: How far ahead calendar-point schedules are laid out (this year and the next).
SCHEDULE_HORIZON_YEARS = 1


def _schedule_items(enrolment: Enrolment, prog: engine.Programme) -> tuple[Sequence[spec.ScheduleItem], date | None]:
    """The enrolment's schedule from its rule set, and the episode's expected end (None: no end)."""
    plan = rulesets.get(prog.code, enrolment.ruleset).value(prog.schedule_param)
    if isinstance(plan, spec.EpisodePlan):
        return plan.contacts, spec.episode_expected_end(plan, enrolment.start_date)
    return tuple(plan), None


def schedule_windows(
    enrolment: Enrolment, prog: engine.Programme, *, extra_visit: date | None = None
) -> tuple[list[spec.DueWindow], dict[str, date], spec.DueWindow | None]:
    """(windows, fulfilled {key: visit date}, next window) of a schedule or episode enrolment, counting
    its recorded visits (and ``extra_visit``, one being recorded)."""
    items, expected_end = _schedule_items(enrolment, prog)
    today = _today()
    end = enrolment.end_date or expected_end
    due = spec.windows(
        items,
        birth_date=enrolment.resident.birth_date,
        start=enrolment.start_date,
        until=date(today.year + SCHEDULE_HORIZON_YEARS, 12, 31),
        end=end,
    )
    dates = list(Visit.objects.filter(enrolment=enrolment, is_deleted=False).values_list("visit_date", flat=True))
    if extra_visit is not None:
        dates.append(extra_visit)
    done = spec.fulfilled(due, dates)
    return due, done, spec.next_window(due, done, today)


def _schedule_next(*, enrolment: Enrolment, prog: engine.Programme, visit: Visit | None) -> spec.DueWindow | None:
    """Close the open scheduled contact when ``visit`` fulfilled its window; open the next one due.

    The open contact is the window that was next without ``visit``: a back-dated visit that fulfils an
    older window (in its catch-up, or already missed) leaves it open."""
    due, done, nxt = schedule_windows(enrolment, prog)
    if visit is not None:
        others = Visit.objects.filter(enrolment=enrolment, is_deleted=False).exclude(pk=visit.pk)
        before = spec.next_window(due, spec.fulfilled(due, others.values_list("visit_date", flat=True)), _today())
    if visit is not None and before is not None and before.key in done:
        _tasks_close(
            resident=enrolment.resident,
            programme=enrolment.programme,
            kinds=[TaskKind.SCHEDULED],
            visit=visit,
            on=visit.visit_date,
        )
    open_task = Task.objects.filter(enrolment=enrolment, kind=TaskKind.SCHEDULED, status=TaskStatus.DUE).first()
    if nxt is None:
        if open_task is not None:
            Task.objects.filter(pk=open_task.pk).update(status=TaskStatus.CANCELLED)
        return None
    reason = _("{label}（目标日期 {d}）").format(label=_(nxt.label), d=nxt.target.isoformat())[:200]
    if open_task is None or open_task.due_date != nxt.closes or open_task.reason != reason:
        _task_open(
            enrolment=enrolment,
            kind=TaskKind.SCHEDULED,
            due_date=nxt.closes,
            priority=TaskPriority.ROUTINE,
            reason=reason,
            source_visit=visit,
        )
    return nxt


@transaction.atomic
def enrolment_update(
    *,
    actor,
    enrolment: Enrolment,
    version: int,
    doctor: Staff | None = None,
    team: Team | None = None,
    ruleset: str | None = None,
) -> Enrolment:
    """Change the responsible doctor / team or the rule set; open tasks follow the new assignment."""
    changes: dict[str, Any] = {}
    if ruleset is not None:
        try:
            changes["ruleset"] = rulesets.get(enrolment.programme, ruleset).code
        except KeyError:
            raise DomainValidationError({"ruleset": _("未知的规则集。")}) from None
    if doctor is not None:
        changes["doctor"] = doctor
    if team is not None:
        changes["team"] = team
    updated = Enrolment.objects.filter(pk=enrolment.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        raise ConcurrentEditError(_("该管理登记已被他人修改，请刷新后重试。"))
    enrolment.refresh_from_db()
    Task.objects.filter(enrolment=enrolment, status=TaskStatus.DUE).update(doctor=enrolment.doctor, team=enrolment.team)
    audit(actor, AccessAction.UPDATE, enrolment, detail={"fields": sorted(changes)})
    return enrolment


@transaction.atomic
def enrolment_end(
    *, actor, enrolment: Enrolment, version: int, end_date: date, reason: str, note: str = ""
) -> Enrolment:
    """End management (结案); open tasks are cancelled, open referrals stay for the record."""
    errors: dict[str, str] = {}
    if enrolment.end_date is not None:
        errors[""] = _("该管理登记已结束。")
    if reason not in EnrolmentEndReason.values:
        errors["reason"] = _("请选择结束原因。")
    if end_date > _today():
        errors["end_date"] = _("结束日期不能晚于今天。")
    elif end_date < enrolment.start_date:
        errors["end_date"] = _("结束日期不能早于纳入管理日期。")
    if errors:
        raise DomainValidationError(errors)
    updated = Enrolment.objects.filter(pk=enrolment.pk, version=version, end_date__isnull=True).update(
        version=F("version") + 1,
        updated_at=timezone.now(),
        end_date=end_date,
        end_reason=reason,
        end_note=note[:200],
    )
    if updated != 1:
        raise ConcurrentEditError(_("该管理登记已被他人修改，请刷新后重试。"))
    enrolment.refresh_from_db()
    Task.objects.filter(enrolment=enrolment, status=TaskStatus.DUE).update(status=TaskStatus.CANCELLED)
    MedicationPlan.objects.filter(enrolment=enrolment, status=PlanStatus.ACTIVE).update(status=PlanStatus.STOPPED)
    audit(actor, AccessAction.UPDATE, enrolment, detail={"ended": reason})
    return enrolment


def episode_open(
    *, actor, resident: Resident, programme: str, start_date: date, **kwargs: Any
) -> Enrolment:
    """Open an episode (pregnancy, TB treatment, home sickbed) starting ``start_date``: an enrolment of
    an episode programme, whose planned contacts are due from its start."""
    if _programme(programme).kind != engine.Kind.EPISODE:
        raise DomainValidationError({"programme": _("该项目不是阶段性管理项目。")})
    return enrolment_create(actor=actor, resident=resident, programme=programme, start_date=start_date, **kwargs)


def episode_close(*, actor, enrolment: Enrolment, version: int, end_date: date, note: str = "") -> Enrolment:
    """Close an episode at its end (delivery and postpartum care done, treatment completed, sickbed
    discharged); its open contacts are cancelled."""
    if _programme(enrolment.programme).kind != engine.Kind.EPISODE:
        raise DomainValidationError({"programme": _("该项目不是阶段性管理项目。")})
    return enrolment_end(
        actor=actor,
        enrolment=enrolment,
        version=version,
        end_date=end_date,
        reason=EnrolmentEndReason.COMPLETED,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


def _task_open(
    *,
    enrolment: Enrolment | None = None,
    resident: Resident | None = None,
    programme: str | None = None,
    kind: str,
    due_date: date,
    priority: int,
    reason: str = "",
    source_visit: Visit | None = None,
    institution: Institution | None = None,
    doctor: Staff | None = None,
    team: Team | None = None,
) -> Task:
    """Open a task, replacing (cancelling) an open task of the same kind for the same resident."""
    resident = resident or enrolment.resident
    programme = programme or enrolment.programme
    Task.objects.filter(resident=resident, programme=programme, kind=kind, status=TaskStatus.DUE).update(
        status=TaskStatus.CANCELLED
    )
    return Task.objects.create(
        resident=resident,
        enrolment=enrolment,
        programme=programme,
        kind=kind,
        due_date=due_date,
        priority=priority,
        reason=reason[:200],
        source_visit=source_visit,
        institution=institution or (enrolment.institution if enrolment else resident.institution),
        doctor=doctor if doctor is not None else (enrolment.doctor if enrolment else None),
        team=team if team is not None else (enrolment.team if enrolment else None),
    )


def _tasks_close(*, resident: Resident, programme: str, kinds: Sequence[str], visit: Visit | None, on: date) -> int:
    return Task.objects.filter(resident=resident, programme=programme, kind__in=kinds, status=TaskStatus.DUE).update(
        status=TaskStatus.DONE, done_by_visit=visit, done_on=on
    )


@transaction.atomic
def task_cancel(*, actor, task: Task, reason: str = "") -> Task:
    if task.status != TaskStatus.DUE:
        raise DomainValidationError({"": _("该任务已完成或已取消。")})
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED, reason=(reason or task.reason)[:200])
    task.refresh_from_db()
    audit(actor, AccessAction.UPDATE, task, detail={"cancelled": True})
    return task


# ---------------------------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOptions:
    """How the visit's medication lines are prescribed (长期处方, RULES.md §10.3)."""

    long_prescription: bool = False
    assessment_note: str = ""
    patient_confirmed: bool = False


def _prefix(errors: Mapping[str, Sequence[str]], prefix: str) -> dict[str, list[str]]:
    return {(f"{prefix}.{k}" if k else prefix): list(v) for k, v in errors.items()}


def _clean_form(prog: engine.Programme, form: Mapping[str, Any], visit_type: str | None = None) -> dict[str, Any]:
    # The rules fill values into Chinese message templates: they translate each template first.
    schema = prog.visit_type(visit_type).form if visit_type else prog.schema
    clean, errors = schema.validate(form, translate=_)
    numbers = {k: clean.get(k) for k in resident_rules.MEASUREMENT_RANGES if clean.get(k) is not None}
    for field, msg in resident_rules.check_measurements(numbers, translate=_).items():
        if field not in errors:
            errors[field] = [msg]
    if clean.get("adverse_uncontrollable"):
        clean["adverse_reaction"] = True
    if errors:
        raise DomainValidationError(_prefix(errors, "form"))
    if clean.get("height") and clean.get("weight"):
        clean["bmi"] = resident_rules.bmi(float(clean["height"]), float(clean["weight"]))
    return clean


def previous_visit(enrolment: Enrolment, before: date, *, exclude_pk: int | None = None) -> Visit | None:
    """The enrolment's last recorded follow-up before ``before`` (a visit the same day does not count)."""
    qs = Visit.objects.filter(enrolment=enrolment, is_deleted=False, visit_date__lt=before)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("-visit_date", "-pk").first()


def _evaluate(
    prog: engine.Programme,
    enrolment: Enrolment,
    visit_date: date,
    form: Mapping[str, Any],
    previous: Visit | None,
) -> engine.Evaluation:
    resident = enrolment.resident
    if prog.rules is None:  # a schedule or episode programme that does not classify its visits
        return engine.Evaluation(classification="", at_target=None, next_due=None, referral=None, urgent=False)
    try:
        return prog.rules.evaluate(
            form=form,
            visit_date=visit_date,
            previous_classification=previous.classification if previous else None,
            birth_date=resident.birth_date,
            sex=resident.sex,
            ruleset_code=enrolment.ruleset,
        )
    except ValueError as exc:
        field = f"form.{prog.rules.error_field}" if prog.rules.error_field else "form"
        raise DomainValidationError({field: _(str(exc))}) from exc


def _recent_classes(enrolment: Enrolment, latest: str, before: date) -> list[str]:
    older = (
        Visit.objects.filter(enrolment=enrolment, is_deleted=False, visit_date__lt=before)
        .order_by("-visit_date", "-pk")
        .values_list("classification", flat=True)[:5]
    )
    return [latest, *older]


def _check_plan(
    enrolment: Enrolment, lines: list[dict[str, Any]], plan: PlanOptions, recent_classes: list[str]
) -> None:
    check = engine_rules.check_long_prescription(
        lines,
        long_prescription=plan.long_prescription,
        stable=engine_rules.is_stable(recent_classes),
        assessment_note=plan.assessment_note,
        patient_confirmed=plan.patient_confirmed,
        translate=_,
    )
    if not check.ok:
        raise DomainValidationError(
            {(f"form.{k}" if k.startswith("medications") else k): v for k, v in check.errors.items()}
        )


def _validate_visit_header(
    prog: engine.Programme, enrolment: Enrolment, visit_date: date, visit_type: str, mode: str
) -> None:
    errors: dict[str, str] = {}
    if enrolment.end_date is not None:
        errors["resident_id"] = _("该居民未纳入本项目管理（管理已结束）。")
    if visit_date > _today():
        errors["visit_date"] = _("随访日期不能晚于今天。")
    elif visit_date < enrolment.start_date:
        errors["visit_date"] = _("随访日期不能早于纳入管理日期（{d}）。").format(d=enrolment.start_date.isoformat())
    if visit_type not in {v.code for v in prog.visit_types}:
        errors["visit_type"] = _("随访类型无效。")
    if mode not in VisitMode.values:
        errors["mode"] = _("随访方式无效。")
    if errors:
        raise DomainValidationError(errors)


def _decimal(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _visit_columns(clean: Mapping[str, Any], ev: engine.Evaluation) -> dict[str, Any]:
    return {
        "sbp": clean.get("sbp"),
        "dbp": clean.get("dbp"),
        "heart_rate": clean.get("heart_rate"),
        "weight": _decimal(clean.get("weight")),
        "bmi": _decimal(clean.get("bmi")),
        "fasting_glucose": _decimal(clean.get("fasting_glucose")),
        "classification": ev.classification,
        "at_target": ev.at_target,
        "next_due": ev.next_due,
        "referral_reasons": list(ev.referral or []),
        "referred": bool(ev.referral),
        "urgent": ev.urgent,
    }


def _measured_at(visit_date: date) -> datetime:
    now = timezone.localtime()
    if visit_date == now.date():
        return now
    return timezone.make_aware(datetime.combine(visit_date, time(9, 0)))


def _record_measurement(*, actor, prog: engine.Programme, visit: Visit, clean: Mapping[str, Any]) -> None:
    from jiayi.residents.services import measurement_record

    values = {m: clean[f] for f, m in prog.measurement_fields.items() if clean.get(f) is not None}
    if values:
        measurement_record(
            actor=actor,
            resident=visit.resident,
            measured_at=_measured_at(visit.visit_date),
            source="follow_up",
            institution=visit.institution,
            **values,
        )


def _service_delivered(*, actor, prog: engine.Programme, visit: Visit) -> None:
    """Publish which package services this visit delivered (the service items its programme declares
    for the visit type); the contracts app counts them toward the resident's contract after commit."""
    codes = prog.visit_type(visit.visit_type).service_items
    for code in codes:
        if code:
            events.publish(
                events.SERVICE_DELIVERED,
                resident_id=visit.resident_id,
                service_code=code,
                delivered_on=visit.visit_date,
                source="programmes.visit",
                source_id=visit.pk,
                actor=actor,
            )


def _attention(programme: str, classification: str) -> str:
    """The short-interval reason the programme declares for this outcome ('' = routine)."""
    for outcome in _programme(programme).outcomes:
        if outcome.code == classification:
            return outcome.attention
    return ""


def _schedule_after(*, enrolment: Enrolment, visit: Visit, ev: engine.Evaluation) -> None:
    """Close the open follow-up (and annual check) and schedule the next one."""
    _tasks_close(
        resident=visit.resident,
        programme=enrolment.programme,
        kinds=FOLLOW_UP_KINDS,
        visit=visit,
        on=visit.visit_date,
    )
    if ev.referral:
        kind, priority = TaskKind.REFERRAL_FOLLOW_UP, TaskPriority.URGENT
        reason = _("转诊后2周内随访转诊情况")
    elif attention := _attention(enrolment.programme, ev.classification):
        kind, priority, reason = TaskKind.FOLLOW_UP, TaskPriority.SHORT_INTERVAL, _(attention)
    else:
        kind, priority, reason = TaskKind.FOLLOW_UP, TaskPriority.ROUTINE, ""
    _task_open(
        enrolment=enrolment,
        kind=kind,
        due_date=ev.next_due,
        priority=priority,
        reason=reason,
        source_visit=visit,
    )
    if visit.visit_type == VisitType.ANNUAL_CHECK:
        _tasks_close(
            resident=visit.resident,
            programme=enrolment.programme,
            kinds=[TaskKind.ANNUAL_CHECK],
            visit=visit,
            on=visit.visit_date,
        )
        _task_open(
            enrolment=enrolment,
            kind=TaskKind.ANNUAL_CHECK,
            due_date=engine_rules.annual_check_due(visit.visit_date, enrolment.start_date),
            priority=TaskPriority.PLANNED,
            source_visit=visit,
        )


def _open_referral(*, enrolment: Enrolment, visit: Visit, clean: Mapping[str, Any], ev: engine.Evaluation) -> Referral:
    return Referral.objects.create(
        resident=visit.resident,
        enrolment=enrolment,
        visit=visit,
        programme=enrolment.programme,
        referred_on=visit.visit_date,
        reasons=list(ev.referral or []),
        urgent=ev.urgent,
        to_institution_name=clean.get("referral_institution", ""),
        to_department=clean.get("referral_department", ""),
        institution=visit.institution,
        team=visit.team,
        doctor=visit.doctor,
    )


def _plan_from_visit(
    *, actor, enrolment: Enrolment, visit: Visit, lines: list[dict[str, Any]], plan: PlanOptions
) -> MedicationPlan | None:
    """A new plan when the visit's medication differs from the active plan (or a long-prescription
    flag changed); unchanged medication keeps the current plan."""
    current = MedicationPlan.objects.filter(enrolment=enrolment, status=PlanStatus.ACTIVE).first()
    if not lines:
        return current
    if current is not None:
        same = _plan_lines(current) == [_line_key(ln) for ln in lines]
        if same and current.long_prescription == plan.long_prescription:
            return current
    return medication_plan_set(
        actor=actor,
        enrolment=enrolment,
        lines=lines,
        start_date=visit.visit_date,
        visit=visit,
        long_prescription=plan.long_prescription,
        assessment_note=plan.assessment_note,
        patient_confirmed=plan.patient_confirmed,
        _checked=True,
    )


def _line_key(line: Mapping[str, Any]) -> tuple:
    return (
        line["drug"],
        line.get("drug_class") or "other",
        float(line["dose"]),
        line["dose_unit"],
        int(line["times_per_day"]),
        int(line["duration_days"]),
    )


def _plan_lines(plan: MedicationPlan) -> list[tuple]:
    return [
        (ln.drug, ln.drug_class or "other", float(ln.dose), ln.dose_unit, ln.times_per_day, ln.duration_days)
        for ln in plan.lines.order_by("pk")
    ]


@transaction.atomic
def visit_record(
    *,
    actor,
    enrolment: Enrolment,
    visit_date: date,
    form: Mapping[str, Any],
    visit_type: str | None = None,
    mode: str = VisitMode.CLINIC,
    doctor: Staff | None = None,
    plan: PlanOptions | None = None,
) -> Visit:
    """Record a follow-up (or annual-check) visit and act on the rules' outcome.

    Refuses (422, nothing stored): a closed enrolment, a date in the future or before enrolment, a
    second visit of the same type on the same day, form values out of range, a visit that cannot be
    classified, a prescription length the long-prescription rules do not allow.
    A back-dated visit (an older paper form) is stored and evaluated against the visit before it, but
    does not reschedule the tasks when a later visit exists.
    """
    prog = _programme(enrolment.programme)
    plan = plan or PlanOptions()
    visit_type = visit_type or prog.visit_types[0].code
    # Serialise visits of one enrolment (two doctors saving at once must not both schedule a task).
    enrolment = Enrolment.objects.select_for_update().select_related("resident").get(pk=enrolment.pk)
    _validate_visit_header(prog, enrolment, visit_date, visit_type, mode)
    clean = _clean_form(prog, form, visit_type)
    if Visit.objects.filter(
        enrolment=enrolment, visit_date=visit_date, visit_type=visit_type, is_deleted=False
    ).exists():
        raise DomainValidationError({"visit_date": _("该日期已有同类随访记录。")}, code="duplicate")
    previous = previous_visit(enrolment, visit_date)
    ev = _evaluate(prog, enrolment, visit_date, clean, previous)
    if prog.kind != engine.Kind.FOLLOW_UP:  # the schedule says when the next contact is due
        nxt = schedule_windows(enrolment, prog, extra_visit=visit_date)[2]
        ev = dataclasses.replace(ev, next_due=nxt.target if nxt else None)
    lines = prog.lines_from(clean)
    _check_plan(enrolment, lines, plan, _recent_classes(enrolment, ev.classification, visit_date))

    staff = _staff(actor)
    doctor = doctor or staff or enrolment.doctor
    visit = Visit.objects.create(
        enrolment=enrolment,
        resident=enrolment.resident,
        programme=enrolment.programme,
        ruleset=enrolment.ruleset,
        visit_date=visit_date,
        visit_type=visit_type,
        mode=mode,
        face_to_face=mode in FACE_TO_FACE_MODES,
        form=clean,
        doctor=doctor,
        institution=(doctor.institution if doctor else enrolment.institution),
        team=enrolment.team,
        **_visit_columns(clean, ev),
    )
    audit(actor, AccessAction.CREATE, visit, detail={"classification": ev.classification})
    is_latest = not Visit.objects.filter(enrolment=enrolment, is_deleted=False, visit_date__gt=visit_date).exists()
    if prog.kind != engine.Kind.FOLLOW_UP:
        _schedule_next(enrolment=enrolment, prog=prog, visit=visit)
    elif is_latest:
        _schedule_after(enrolment=enrolment, visit=visit, ev=ev)
    if is_latest:
        _plan_from_visit(actor=actor, enrolment=enrolment, visit=visit, lines=lines, plan=plan)
    if ev.referral:
        _open_referral(enrolment=enrolment, visit=visit, clean=clean, ev=ev)
    _record_measurement(actor=actor, prog=prog, visit=visit, clean=clean)
    _service_delivered(actor=actor, prog=prog, visit=visit)
    return visit


@transaction.atomic
def visit_update(*, actor, visit: Visit, version: int, form: Mapping[str, Any], mode: str | None = None) -> Visit:
    """Correct a visit's form. The outcome is recomputed; when the visit is the latest one, the task it
    scheduled and its referral follow the new outcome."""
    prog = _programme(visit.programme)
    enrolment = Enrolment.objects.select_for_update().select_related("resident").get(pk=visit.enrolment_id)
    mode = mode or visit.mode
    if mode not in VisitMode.values:
        raise DomainValidationError({"mode": _("随访方式无效。")})
    if visit.is_deleted:
        raise DomainValidationError({"": _("该随访记录已删除。")})
    clean = _clean_form(prog, form, visit.visit_type)
    previous = previous_visit(enrolment, visit.visit_date, exclude_pk=visit.pk)
    ev = _evaluate(prog, enrolment, visit.visit_date, clean, previous)
    if prog.kind != engine.Kind.FOLLOW_UP:  # the date is unchanged: so is the schedule
        ev = dataclasses.replace(ev, next_due=visit.next_due)
    updated = Visit.objects.filter(pk=visit.pk, version=version).update(
        version=F("version") + 1,
        updated_at=timezone.now(),
        form=clean,
        mode=mode,
        face_to_face=mode in FACE_TO_FACE_MODES,
        **_visit_columns(clean, ev),
    )
    if updated != 1:
        raise ConcurrentEditError(_("该随访记录已被他人修改，请刷新后重试。"))
    visit.refresh_from_db()
    is_latest = not Visit.objects.filter(
        enrolment=enrolment, is_deleted=False, visit_date__gt=visit.visit_date
    ).exists()
    scheduled = Task.objects.filter(source_visit=visit, status=TaskStatus.DUE, kind__in=FOLLOW_UP_KINDS).first()
    if prog.kind == engine.Kind.FOLLOW_UP and is_latest and scheduled is not None:
        Task.objects.filter(pk=scheduled.pk).update(status=TaskStatus.CANCELLED)
        _schedule_after(enrolment=enrolment, visit=visit, ev=ev)
    referral = Referral.objects.filter(visit=visit).first()
    if ev.referral and referral is None:
        _open_referral(enrolment=enrolment, visit=visit, clean=clean, ev=ev)
    elif ev.referral and referral is not None:
        Referral.objects.filter(pk=referral.pk).update(reasons=list(ev.referral), urgent=ev.urgent, cancelled=False)
    elif referral is not None and referral.returned_on is None:
        Referral.objects.filter(pk=referral.pk).update(cancelled=True)
    audit(actor, AccessAction.UPDATE, visit, detail={"classification": ev.classification})
    return visit


def visit_preview(
    *, enrolment: Enrolment, visit_date: date, form: Mapping[str, Any], visit_type: str | None = None
) -> tuple[engine.Evaluation | None, dict[str, list[str]]]:
    """What the rules would conclude for a form being filled in (no writes): (evaluation, errors)."""
    prog = _programme(enrolment.programme)
    try:
        clean = _clean_form(prog, form, visit_type)
        ev = _evaluate(prog, enrolment, visit_date, clean, previous_visit(enrolment, visit_date))
    except DomainValidationError as exc:
        return None, exc.errors
    return ev, {}


# ---------------------------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def referral_return(*, actor, referral: Referral, returned_on: date, outcome: str = "") -> Referral:
    """Record that the referred patient came back (the referral result was followed up)."""
    errors: dict[str, str] = {}
    if referral.returned_on is not None or referral.cancelled:
        errors[""] = _("该转诊已结束。")
    if returned_on > _today():
        errors["returned_on"] = _("回访日期不能晚于今天。")
    elif returned_on < referral.referred_on:
        errors["returned_on"] = _("回访日期不能早于转诊日期。")
    if len(outcome) > 300:
        errors["outcome"] = _("转诊结果不能超过300个字。")
    if errors:
        raise DomainValidationError(errors)
    # Conditional on the state read, so that a second return recorded at the same time changes nothing.
    updated = Referral.objects.filter(pk=referral.pk, returned_on__isnull=True, cancelled=False).update(
        returned_on=returned_on, outcome=outcome.strip()
    )
    if updated != 1:
        raise DomainValidationError({"": _("该转诊已结束。")})
    referral.refresh_from_db()
    audit(actor, AccessAction.UPDATE, referral, detail={"returned_on": returned_on.isoformat()})
    return referral


# ---------------------------------------------------------------------------------------------
# Medication plans (用药方案 / 长期处方)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def medication_plan_set(
    *,
    actor,
    enrolment: Enrolment,
    lines: Sequence[Mapping[str, Any]],
    start_date: date,
    long_prescription: bool = False,
    assessment_note: str = "",
    patient_confirmed: bool = False,
    visit: Visit | None = None,
    _checked: bool = False,
) -> MedicationPlan:
    """Replace the enrolment's active medication plan with ``lines``.

    Plan changes of one enrolment are serialised on the enrolment row: a second save waits for the
    first and then replaces its plan, so there is never more than one active plan (the
    ``medication_plan_one_active`` constraint; a writer that bypassed the lock gets a 409)."""
    from jiayi.programmes.schema import _LineErrors, clean_medication_lines

    # NO KEY UPDATE: serialises plan writers, yet leaves rows that reference the enrolment (their
    # deferred foreign-key checks take KEY SHARE) free to commit: no deadlock with them.
    enrolment = (
        Enrolment.objects.select_for_update(of=("self",), no_key=True).select_related("resident").get(pk=enrolment.pk)
    )
    if enrolment.end_date is not None:
        raise DomainValidationError({"": _("该居民未纳入本项目管理（管理已结束）。")})
    if start_date > _today():
        raise DomainValidationError({"start_date": _("开始日期不能晚于今天。")})
    if start_date < enrolment.start_date:
        raise DomainValidationError(
            {"start_date": _("开始日期不能早于纳入管理日期（{d}）。").format(d=enrolment.start_date.isoformat())}
        )
    if not _checked:
        try:
            clean_lines = clean_medication_lines(list(lines), translate=_)
        except _LineErrors as exc:
            raise DomainValidationError({f"medications.{k}": v for k, v in exc.errors.items()}) from exc
        except ValueError as exc:
            raise DomainValidationError({"medications": str(exc)}) from exc
        if not clean_lines:
            raise DomainValidationError({"medications": _("请至少填写一种药物。")})
        classes = list(
            Visit.objects.filter(enrolment=enrolment, is_deleted=False)
            .order_by("-visit_date", "-pk")
            .values_list("classification", flat=True)[:5]
        )
        check = engine_rules.check_long_prescription(
            clean_lines,
            long_prescription=long_prescription,
            stable=engine_rules.is_stable(classes),
            assessment_note=assessment_note,
            patient_confirmed=patient_confirmed,
            translate=_,
        )
        if not check.ok:
            raise DomainValidationError(dict(check.errors))
        lines = clean_lines
    MedicationPlan.objects.filter(enrolment=enrolment, status=PlanStatus.ACTIVE).update(status=PlanStatus.SUPERSEDED)
    staff = _staff(actor)
    try:
        with transaction.atomic():
            plan = MedicationPlan.objects.create(
                resident=enrolment.resident,
                enrolment=enrolment,
                programme=enrolment.programme,
                visit=visit,
                start_date=start_date,
                long_prescription=long_prescription,
                assessment_note=assessment_note[:300],
                patient_confirmed=patient_confirmed,
                institution=enrolment.institution,
                doctor=staff or enrolment.doctor,
            )
    except IntegrityError as exc:  # another active plan was saved at the same moment
        raise ConflictError({"": _("该居民的用药方案刚被他人修改，请刷新后重试。")}) from exc
    MedicationPlanLine.objects.bulk_create(
        [
            MedicationPlanLine(
                plan=plan,
                drug=ln["drug"],
                drug_class=ln.get("drug_class") or "other",
                dose=Decimal(str(ln["dose"])),
                dose_unit=ln["dose_unit"],
                times_per_day=int(ln["times_per_day"]),
                duration_days=int(ln["duration_days"]),
            )
            for ln in lines
        ]
    )
    audit(actor, AccessAction.CREATE, plan)
    return plan


@transaction.atomic
def medication_plan_stop(*, actor, plan: MedicationPlan) -> MedicationPlan:
    if plan.status != PlanStatus.ACTIVE:
        raise DomainValidationError({"": _("该用药方案已不在执行中。")})
    MedicationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.STOPPED)
    plan.refresh_from_db()
    audit(actor, AccessAction.UPDATE, plan, detail={"stopped": True})
    return plan

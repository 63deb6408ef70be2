"""Screening cases, the same for every programme that screens (RULES.md §2.1, ALGORITHMS.md §5.3).

A raised screening value opens a case for the programme that re-checks it on different days; the case
becomes ready to confirm after the programme's number of raised days, a normal re-check closes it, and
a confirmed case enrols the resident. What counts as raised, how many days confirm it and what the
high-risk criteria are is the programme's (``hypertension/screening.py``, ``diabetes/screening.py``);
this module keeps the case, its re-check task and the confirm / refer / rule-out actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiayi.core import rulesets
from jiayi.core.audit import audit
from jiayi.core.errors import ConcurrentEditError, ConflictError, DomainValidationError
from jiayi.core.models import AccessAction
from jiayi.org.models import Staff, Team
from jiayi.programmes import rules as engine_rules
from jiayi.programmes.models import (
    Enrolment,
    EnrolmentSource,
    Referral,
    ScreeningCase,
    ScreeningStatus,
    Task,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from jiayi.programmes.services import _staff, _task_open, _tasks_close, _today, enrolment_create
from jiayi.residents.models import Measurement, Resident

__all__ = [
    "ScreeningOutcome",
    "case_reading_add",
    "family_history",
    "lock_resident",
    "screening_confirm",
    "screening_refer",
    "screening_rule_out",
]

OPEN_STATUSES = (ScreeningStatus.RECHECKING, ScreeningStatus.CONFIRMABLE)


@dataclass(frozen=True)
class ScreeningOutcome:
    measurement: Measurement | None  # None: the reading has no measurement column (an OGTT alone)
    raised: bool
    case: ScreeningCase | None
    high_risk: list[str]
    #: what the programme's rules concluded beyond raised / not raised (e.g. the glucose state)
    detail: Mapping[str, Any] | None = None


def lock_resident(resident: Resident, programme: str, enrolled_message: str) -> None:
    """Serialise screening readings of one resident (two first raised readings saved at once must add
    to one case, ``screening_one_open_case``, not both open one; NO KEY UPDATE, as for medication
    plans) and refuse a resident already in the programme's management."""
    Resident.objects.select_for_update(no_key=True).only("pk").get(pk=resident.pk)
    if Enrolment.objects.filter(resident=resident, programme=programme, end_date__isnull=True).exists():
        raise DomainValidationError({"resident_id": enrolled_message})


def case_reading_add(
    *,
    actor,
    resident: Resident,
    programme: str,
    day: date,
    reading: Mapping[str, Any],
    raised: bool,
    confirm_days: int,
    recheck_reason: str,
    normal_note: str,
) -> ScreeningCase | None:
    """Add one screening reading to the resident's open case of ``programme``.

    Raised: opens the case (or adds the day to it); after ``confirm_days`` different days the case is
    ready to confirm, else a re-check task is due after the engine's re-check interval
    (``recheck_reason`` may use ``{n}``, the number of the next reading). Not raised while re-checking:
    the case is closed as ruled out with ``normal_note``. Returns the case (None: no case)."""
    case = (
        ScreeningCase.objects.select_for_update()
        .filter(resident=resident, programme=programme, status__in=OPEN_STATUSES)
        .first()
    )
    staff = _staff(actor)
    entry = {"date": day.isoformat(), **dict(reading), "raised": raised}
    if raised:
        if case is None:
            try:
                with transaction.atomic():
                    case = ScreeningCase.objects.create(
                        resident=resident,
                        programme=programme,
                        opened_on=day,
                        raised_days=[day.isoformat()],
                        readings=[entry],
                        institution=resident.institution,
                        doctor=staff,
                    )
            except IntegrityError as exc:  # a case opened at the same moment by a writer without the lock
                raise ConflictError({"": _("该居民的筛查记录刚被他人修改，请刷新后重试。")}) from exc
            audit(actor, AccessAction.CREATE, case)
        else:
            case.raised_days = sorted({*case.raised_days, day.isoformat()})
            case.readings = [*case.readings, entry]
        if len(case.raised_days) >= confirm_days:
            case.status = ScreeningStatus.CONFIRMABLE
            _tasks_close(resident=resident, programme=programme, kinds=[TaskKind.SCREENING_RECHECK], visit=None, on=day)
        else:
            _task_open(
                resident=resident,
                programme=programme,
                kind=TaskKind.SCREENING_RECHECK,
                due_date=day + timedelta(days=int(engine_rules.ENGINE_2017.value("screening_recheck_days"))),
                priority=TaskPriority.SHORT_INTERVAL,
                institution=resident.institution,
                doctor=staff,
                reason=recheck_reason.format(n=len(case.raised_days) + 1),
            )
        case.version += 1
        case.save()
    elif case is not None and case.status == ScreeningStatus.RECHECKING:
        case.readings = [*case.readings, entry]
        case.status = ScreeningStatus.RULED_OUT
        case.closed_on = day
        case.note = normal_note
        case.version += 1
        case.save()
        _tasks_close(resident=resident, programme=programme, kinds=[TaskKind.SCREENING_RECHECK], visit=None, on=day)
    return case


def family_history(resident: Resident, words: Iterable[str]) -> bool:
    """Whether the health record's family history names the disease (free-text keys, any relative)."""
    from jiayi.residents.selectors import health_record_for

    rec = health_record_for(resident)
    if rec is None or not rec.family_history:
        return False
    words = tuple(words)
    items = rec.family_history.values() if isinstance(rec.family_history, dict) else rec.family_history
    for item in items:
        values = item if isinstance(item, list | tuple) else [item]
        if any(any(w in str(v) for w in words) for v in values):
            return True
    return False


def _case_check(case: ScreeningCase, version: int, allowed: Sequence[str]) -> None:
    if case.status not in allowed:
        raise DomainValidationError({"": _("该筛查记录当前状态不能进行此操作。")})
    if case.version != version:
        raise ConcurrentEditError(_("该筛查记录已被他人修改，请刷新后重试。"))


def _case_write(case: ScreeningCase, version: int, **fields: Any) -> None:
    """Write the case only if it is still at ``version`` (the check above saw the caller's copy)."""
    updated = ScreeningCase.objects.filter(pk=case.pk, version=version).update(version=F("version") + 1, **fields)
    if updated != 1:
        raise ConcurrentEditError(_("该筛查记录已被他人修改，请刷新后重试。"))


@transaction.atomic
def screening_confirm(
    *,
    actor,
    case: ScreeningCase,
    version: int,
    start_date: date | None = None,
    doctor: Staff | None = None,
    team: Team | None = None,
    diagnosed_on: date | None = None,
) -> Enrolment:
    """Confirmed (raised on the programme's number of different days, or confirmed after referral): enrol."""
    _case_check(case, version, (ScreeningStatus.CONFIRMABLE, ScreeningStatus.REFERRED))
    start = start_date or _today()
    enrolment = enrolment_create(
        actor=actor,
        resident=case.resident,
        programme=case.programme,
        start_date=start,
        doctor=doctor or _staff(actor),
        team=team,
        diagnosed_on=diagnosed_on or start,
        source=EnrolmentSource.SCREENING,
    )
    _case_write(case, version, status=ScreeningStatus.CONFIRMED, closed_on=start, enrolment=enrolment)
    Task.objects.filter(
        resident=case.resident, programme=case.programme, enrolment__isnull=True, status=TaskStatus.DUE
    ).update(status=TaskStatus.DONE, done_on=start)
    case.refresh_from_db()
    return enrolment


@transaction.atomic
def screening_refer(
    *,
    actor,
    case: ScreeningCase,
    version: int,
    to_institution_name: str = "",
    referred_on: date | None = None,
) -> Referral:
    """Refer to confirm the diagnosis (or a suspected secondary form); follow up within the programme
    rule set's referral follow-up interval (2 weeks)."""
    _case_check(case, version, OPEN_STATUSES)
    on = referred_on or _today()
    if on > _today():
        raise DomainValidationError({"referred_on": _("转诊日期不能晚于今天。")})
    rs = rulesets.default_for(case.programme, on)
    _case_write(case, version, status=ScreeningStatus.REFERRED)
    referral = Referral.objects.create(
        resident=case.resident,
        programme=case.programme,
        referred_on=on,
        reasons=["screening_confirm"],
        to_institution_name=to_institution_name[:200],
        institution=case.institution,
        doctor=_staff(actor),
    )
    _tasks_close(
        resident=case.resident, programme=case.programme, kinds=[TaskKind.SCREENING_RECHECK], visit=None, on=on
    )
    _task_open(
        resident=case.resident,
        programme=case.programme,
        kind=TaskKind.REFERRAL_FOLLOW_UP,
        due_date=on + timedelta(days=int(rs.value("referral_followup_days"))),
        priority=TaskPriority.URGENT,
        institution=case.institution,
        doctor=_staff(actor),
        reason=_("筛查转诊确诊，2周内随访结果"),
    )
    audit(actor, AccessAction.CREATE, referral)
    case.refresh_from_db()
    return referral


@transaction.atomic
def screening_rule_out(*, actor, case: ScreeningCase, version: int, note: str = "") -> ScreeningCase:
    _case_check(case, version, (*OPEN_STATUSES, ScreeningStatus.REFERRED))
    today = _today()
    _case_write(case, version, status=ScreeningStatus.RULED_OUT, closed_on=today, note=(note or _("经筛查排除"))[:200])
    Task.objects.filter(
        resident=case.resident, programme=case.programme, enrolment__isnull=True, status=TaskStatus.DUE
    ).update(status=TaskStatus.CANCELLED)
    case.refresh_from_db()
    audit(actor, AccessAction.UPDATE, case, detail={"ruled_out": True})
    return case

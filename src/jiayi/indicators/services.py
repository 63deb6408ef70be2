"""Writes of the indicators app: monthly reports and their review, district target presets, engine runs.

Every function takes keyword arguments, runs in a transaction and raises DomainValidationError for bad
input (nothing is stored then) and PermissionDenied when the actor may see the object but not do this.

Review chain (ARCHITECTURE.md, TARGETS.md "who reports is responsible"): a station's report is reviewed
by its centre, then by the district; a centre's own report goes straight to the district. Each level
approves or returns with a reason; a returned report is corrected by resubmitting it as a new version;
an approved report is locked. Every step is a ReportEvent (who, when, why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core.errors import DomainValidationError
from jiayi.indicators import catalogue as C
from jiayi.indicators import periods as P
from jiayi.indicators import presets as presets_mod
from jiayi.indicators.models import (
    IndicatorValue,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    ReportValue,
    ScoringMode,
    TargetItem,
    TargetPreset,
)
from jiayi.org.models import (
    PRIMARY_CARE_CENTRE_TYPES,
    PRIMARY_CARE_POINT_TYPES,
    Institution,
    InstitutionType,
    Role,
)

__all__ = [
    "can_resubmit",
    "can_review",
    "compute_enqueue",
    "preset_create",
    "preset_items_update",
    "report_level",
    "report_resubmit",
    "report_review",
    "report_submit",
    "reviewer_level",
]

SUBMITTER_ROLES = (Role.FAMILY_DOCTOR, Role.PUBLIC_HEALTH, Role.CENTRE_MANAGER)


def _staff(actor):
    staff = getattr(actor, "staff", None)
    if staff is None or not staff.active:
        raise PermissionDenied(_("只有在岗工作人员可以操作月度报告。"))
    return staff


def report_level(institution: Institution) -> str:
    """The org level whose values a report of ``institution`` freezes."""
    if institution.type in PRIMARY_CARE_POINT_TYPES:
        return "station"
    if institution.type in PRIMARY_CARE_CENTRE_TYPES:
        return "centre"
    raise DomainValidationError({"institution": _("只有社区卫生服务中心和服务站报送月度报告。")})


def _month(period: str) -> P.Period:
    try:
        p = P.parse(period)
    except ValueError:
        raise DomainValidationError({"period": _("报告月份格式应为 2026-03。")}) from None
    if p.kind != "month":
        raise DomainValidationError({"period": _("月度报告只能按月报送（如 2026-03）。")})
    if p.start > timezone.localdate():
        raise DomainValidationError({"period": _("不能报送尚未开始的月份。")})
    return p


def _freeze(report: Report, level: str) -> int:
    values = IndicatorValue.objects.filter(level=level, unit_id=report.institution_id, period=report.period)
    rows = [
        ReportValue(report=report, indicator=v.indicator, numerator=v.numerator, denominator=v.denominator,
                    value=v.value)
        for v in values
    ]
    ReportValue.objects.bulk_create(rows)
    return len(rows)


def _event(report: Report, action: str, actor, *, level: str = "", reason: str = "") -> ReportEvent:
    staff = getattr(actor, "staff", None)
    return ReportEvent.objects.create(
        report=report, action=action, level=level, actor=actor,
        actor_name=(staff.name if staff is not None else actor.get_username()),
        actor_institution=staff.institution if staff is not None else None, reason=reason,
    )


def _check_submitter(actor, institution: Institution) -> None:
    staff = _staff(actor)
    if staff.institution_id != institution.pk or staff.role not in SUBMITTER_ROLES:
        raise PermissionDenied(_("只有本机构的工作人员可以报送本机构的月度报告。"))


@transaction.atomic
def report_submit(*, actor, institution: Institution, period: str, note: str = "") -> Report:
    """Freeze the stored values of ``institution`` for the month ``period`` and send them for review."""
    level = report_level(institution)
    _check_submitter(actor, institution)
    p = _month(period)
    if not IndicatorValue.objects.filter(level=level, unit_id=institution.pk, period=p.code).exists():
        raise DomainValidationError({"period": _("该月份尚无指标计算结果，请先计算指标。")})
    existing = Report.objects.select_for_update().filter(institution=institution, period=p.code)
    if existing.exclude(state__in=[ReportState.RETURNED, ReportState.SUPERSEDED]).exists():
        raise DomainValidationError({"period": _("该月份的报告已报送，不能重复报送。")}, code="duplicate")
    if existing.filter(state=ReportState.RETURNED).exists():
        raise DomainValidationError({"period": _("该月份的报告已被退回，请修改后重新报送（生成新版本）。")})
    return _create_version(actor=actor, institution=institution, period=p.code, note=note, previous=None,
                           level=level)


def _create_version(*, actor, institution: Institution, period: str, note: str, previous: Report | None,
                    level: str) -> Report:
    now = timezone.now()
    version = (previous.version + 1) if previous is not None else 1
    try:
        with transaction.atomic():
            report = Report.objects.create(
                institution=institution, period=period, version=version, state=ReportState.SUBMITTED,
                previous=previous, note=note.strip(), submitted_by=actor, submitted_at=now, frozen_at=now,
                rulesets=_rulesets_of(institution, period, level),
            )
    except IntegrityError as exc:
        raise DomainValidationError({"period": _("该月份的报告已报送，不能重复报送。")}, code="duplicate") from exc
    _freeze(report, level)
    _event(report, ReportAction.RESUBMIT if previous is not None else ReportAction.SUBMIT, actor,
           level=level, reason=note.strip())
    return report


def _rulesets_of(institution: Institution, period: str, level: str) -> dict:
    merged: dict[str, str] = {}
    for rs in IndicatorValue.objects.filter(level=level, unit_id=institution.pk, period=period).values_list(
        "rulesets", flat=True
    ):
        merged.update(rs or {})
    return merged


@transaction.atomic
def report_resubmit(*, actor, report: Report, note: str = "") -> Report:
    """A returned report, corrected: the current values are frozen again as a new version."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    _check_submitter(actor, report.institution)
    if report.state != ReportState.RETURNED:
        raise DomainValidationError({"": _("只有被退回的报告可以重新报送。")}, code="conflict")
    if not (note or "").strip():
        raise DomainValidationError({"note": _("请说明修改内容。")})
    report.state = ReportState.SUPERSEDED
    report.save(update_fields=["state"])
    return _create_version(actor=actor, institution=report.institution, period=report.period, note=note,
                           previous=report, level=report_level(report.institution))


def reviewer_level(report: Report) -> str | None:
    """Which level reviews the report next: 'centre', 'district' or None (nothing to review)."""
    if report.state == ReportState.SUBMITTED:
        return "centre" if report.institution.type in PRIMARY_CARE_POINT_TYPES else "district"
    if report.state == ReportState.CENTRE_APPROVED:
        return "district"
    return None


def can_resubmit(user, report: Report) -> bool:
    """Whether ``user`` may correct a returned ``report`` and resubmit it (what :func:`report_resubmit` checks)."""
    staff = getattr(user, "staff", None)
    return (report.state == ReportState.RETURNED and staff is not None and staff.active
            and staff.institution_id == report.institution_id and staff.role in SUBMITTER_ROLES)


def can_review(user, report: Report) -> bool:
    level = reviewer_level(report)
    staff = getattr(user, "staff", None)
    if level is None or staff is None or not staff.active:
        return False
    if level == "centre":
        return staff.role == Role.CENTRE_MANAGER and staff.institution_id == report.institution.parent_id
    if staff.role != Role.DISTRICT_ADMIN or staff.institution.type != InstitutionType.HEALTH_COMMISSION:
        return False
    from jiayi.org.selectors import institution_subtree_ids

    return report.institution_id in institution_subtree_ids(staff.institution_id)


@transaction.atomic
def report_review(*, actor, report: Report, action: str, reason: str = "") -> Report:
    """Approve or return (with a reason) a report at the level whose turn it is."""
    report = Report.objects.select_for_update().select_related("institution").get(pk=report.pk)
    if action not in (ReportAction.APPROVE, ReportAction.RETURN):
        raise DomainValidationError({"action": _("审核操作只能是通过或退回。")})
    level = reviewer_level(report)
    if level is None:
        raise DomainValidationError({"": _("该报告当前不需要审核。")}, code="conflict")
    if not can_review(actor, report):
        raise PermissionDenied(_("您不是该报告当前的审核人。"))
    reason = (reason or "").strip()
    if action == ReportAction.RETURN:
        if not reason:
            raise DomainValidationError({"reason": _("退回时请填写理由。")})
        report.state = ReportState.RETURNED
    else:
        report.state = ReportState.CENTRE_APPROVED if level == "centre" else ReportState.APPROVED
    report.save(update_fields=["state"])
    _event(report, action, actor, level=level, reason=reason)
    return report


# ---------------------------------------------------------------------------------------------
# Target presets
# ---------------------------------------------------------------------------------------------


def _clean_items(items: Iterable[Mapping[str, Any]]) -> list[dict]:
    errors: dict[str, str] = {}
    out = []
    for i, item in enumerate(items):
        label = str(item.get("label") or "").strip()
        indicator = str(item.get("indicator") or "").strip()
        mode = str(item.get("mode") or ScoringMode.EGT)
        target = item.get("target")
        if not label:
            errors[f"items.{i}.label"] = _("请填写考核内容。")
        if indicator and indicator not in C.CATALOGUE:
            errors[f"items.{i}.indicator"] = _("未知的指标。")
        if mode not in ScoringMode.values:
            errors[f"items.{i}.mode"] = _("未知的计分方式。")
        if target is not None and target != "":
            try:
                target = float(target)
            except (TypeError, ValueError):
                errors[f"items.{i}.target"] = _("目标值须为数字。")
                target = None
            else:
                if target < 0:
                    errors[f"items.{i}.target"] = _("目标值不能为负数。")
        else:
            target = None
        if mode in (ScoringMode.EGT, ScoringMode.ELT) and indicator and target is None:
            errors[f"items.{i}.target"] = _("请填写目标值。")
        try:
            weight = float(item.get("weight", 1) or 1)
        except (TypeError, ValueError):
            errors[f"items.{i}.weight"] = _("权重须为数字。")
            weight = 1.0
        out.append({"label": label[:200], "indicator": indicator, "target": target, "mode": mode,
                    "weight": weight, "note": str(item.get("note") or "")[:300]})
    if errors:
        raise DomainValidationError(errors)
    return out


@transaction.atomic
def preset_create(
    *, actor, code: str, title: str, district: Institution, year: int | None = None, based_on: str = "",
    items: Iterable[Mapping[str, Any]] | None = None, note: str = "",
) -> TargetPreset:
    """A district's own preset, optionally copied from a built-in one (``based_on``)."""
    staff = _staff(actor)
    if staff.role != Role.DISTRICT_ADMIN or district.type != InstitutionType.HEALTH_COMMISSION:
        raise PermissionDenied(_("只有区级管理员可以制定考核目标方案。"))
    if staff.institution_id != district.pk:
        raise PermissionDenied(_("只能为本区制定考核目标方案。"))
    errors: dict[str, str] = {}
    code = (code or "").strip()
    if not code or not all(c.isalnum() or c in "-_" for c in code) or len(code) > 40:
        errors["code"] = _("编码只能包含字母、数字、连字符，且不超过40个字符。")
    elif code in presets_mod.PRESETS or TargetPreset.objects.filter(code=code).exists():
        errors["code"] = _("该编码已被使用。")
    if not (title or "").strip():
        errors["title"] = _("请填写方案名称。")
    if based_on and based_on not in presets_mod.PRESETS:
        errors["based_on"] = _("未知的参照方案。")
    if year is not None and not 2000 <= int(year) <= 2100:
        errors["year"] = _("考核年度不正确。")
    if errors:
        raise DomainValidationError(errors)
    if items is None and based_on:
        items = [
            {"label": t.label, "indicator": t.indicator or "", "target": t.target, "mode": t.mode, "weight": t.weight,
             "note": t.note}
            for t in presets_mod.get(based_on).targets
        ]
    clean = _clean_items(items or [])
    preset = TargetPreset.objects.create(code=code, title=title.strip(), district=district, year=year,
                                         based_on=based_on, note=note, created_by=actor)
    TargetItem.objects.bulk_create([TargetItem(preset=preset, position=i, **item) for i, item in enumerate(clean)])
    return preset


@transaction.atomic
def preset_items_update(*, actor, preset: TargetPreset, items: Iterable[Mapping[str, Any]]) -> TargetPreset:
    """Replace the targets of a district preset."""
    staff = _staff(actor)
    if staff.role != Role.DISTRICT_ADMIN or staff.institution_id != preset.district_id:
        raise PermissionDenied(_("只有本区的区级管理员可以修改考核目标方案。"))
    clean = _clean_items(items)
    preset.items.all().delete()
    TargetItem.objects.bulk_create([TargetItem(preset=preset, position=i, **item) for i, item in enumerate(clean)])
    return preset


# ---------------------------------------------------------------------------------------------
# Engine runs
# ---------------------------------------------------------------------------------------------


def compute_enqueue(*, actor, backend: str = "db", year: int | None = None, incremental: bool = True):
    """Start a background run of the engine (django-tasks); district administrators only."""
    staff = _staff(actor)
    if staff.role != Role.DISTRICT_ADMIN:
        raise PermissionDenied(_("只有区级管理员可以启动指标计算。"))
    if backend not in ("db", "duckdb", "spark"):
        raise DomainValidationError({"backend": _("计算后端只能是 db、duckdb 或 spark。")})
    if year is not None and not 2000 <= int(year) <= 2100:
        raise DomainValidationError({"year": _("年度不正确。")})
    from jiayi.indicators.tasks import compute_indicators

    return compute_indicators.enqueue(backend=backend, year=year, incremental=incremental, user_id=actor.pk)

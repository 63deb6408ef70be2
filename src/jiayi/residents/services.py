"""Every write to residents, households, health records and measurements (keyword-only, atomic)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core import ids
from jiayi.core.audit import audit
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.models import AccessAction
from jiayi.org.models import Area, AreaLevel, Institution, Staff
from jiayi.residents import icd10 as icd10_codes
from jiayi.residents import rules
from jiayi.residents.diagnoses import diagnosis_groups
from jiayi.residents.models import (
    HealthRecord,
    Household,
    IdType,
    KeyPopulationTag,
    Measurement,
    Problem,
    ProblemKind,
    RecordSerialCounter,
    Relationship,
    ResidenceStatus,
    Resident,
)

RESIDENT_EDITABLE = (
    "name", "sex", "birth_date", "id_type", "id_number", "phone", "area", "address", "household",
    "relation_to_head", "residence_status", "death_date", "institution", "ethnicity", "disabled",
    "poverty_lifted", "special_fp_family", "pregnant",
)


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,5})?)$")


def _plausible_phone(phone: str) -> bool:
    """A mainland mobile number or a landline with its area code."""
    return bool(_PHONE.match(phone.replace(" ", "")))


def _staff(actor) -> Staff | None:
    return getattr(actor, "staff", None) if actor is not None else None


def _validate_identity(
    *, actor, id_type: str, id_number: str, sex: str, birth_date: date, exclude_pk: int | None = None
) -> str:
    """Check the document number against the other fields; return it normalised.

    A number already registered is refused. The holder is named (and their id given, for a link) only
    when ``actor`` may see them: otherwise the message would tell anyone who types ID numbers whose
    they are (``actor`` None is the system itself, e.g. the synthetic district)."""
    number = (id_number or "").strip().upper()
    errors: dict[str, str] = {}
    if not number:
        raise DomainValidationError({"id_number": _("请填写证件号码。")})
    if birth_date and birth_date > timezone.localdate():
        errors["birth_date"] = _("出生日期不能晚于今天。")
    try:
        if id_type == IdType.RESIDENT_ID:
            if len(number) == 15 and number.isdigit():
                number = ids.upgrade_15_to_18(number)
            ids.validate_resident_id(number, sex=sex, birth_date=birth_date)
        elif id_type == IdType.PASSPORT:
            ids.validate_passport(number)
        elif id_type == IdType.HK_MACAO:
            ids.validate_hk_macao_permit(number)
        elif id_type == IdType.TAIWAN:
            ids.validate_taiwan_permit(number)
        elif id_type == IdType.BIRTH_CERT:
            ids.validate_birth_certificate(number)
        else:
            errors["id_type"] = _("未知的证件类型。")
    except ids.IdNumberError as exc:
        field = {"sex_mismatch": "sex", "birth_mismatch": "birth_date"}.get(getattr(exc, "code", ""), "id_number")
        errors[field] = _(str(exc))
    if errors:
        raise DomainValidationError(errors)
    existing = Resident.objects.filter(id_type=id_type, id_number=number)
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    other = existing.first()
    if other is not None:
        if actor is not None and not Resident.objects.visible_to(actor).filter(pk=other.pk).exists():
            raise DomainValidationError({"id_number": _("该证件号码已在其他机构登记。")}, code="duplicate")
        err = DomainValidationError(
            {"id_number": _("该证件号码已登记：%(name)s（居民编号 %(pk)s）。") % {"name": other.name, "pk": other.pk}},
            code="duplicate",
        )
        err.existing_id = other.pk  # type: ignore[attr-defined]
        raise err
    return number


def _check_area(area: Area) -> None:
    if area.level != AreaLevel.COMMUNITY:
        raise DomainValidationError({"area": _("现住地址须选择到社区（居委会/村委会）。")})


@transaction.atomic
def resident_create(
    *,
    actor,
    name: str,
    sex: str,
    birth_date: date,
    id_number: str,
    area: Area,
    institution: Institution,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    address: str = "",
    household: Household | None = None,
    relation_to_head: str = "",
    residence_status: str = ResidenceStatus.REGISTERED,
    death_date: date | None = None,
    ethnicity: str = "汉族",
    disabled: bool = False,
    poverty_lifted: bool = False,
    special_fp_family: bool = False,
    pregnant: bool = False,
    create_record: bool = True,
    record_electronic: bool = True,
    established_on: date | None = None,
) -> Resident:
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("请填写姓名。")
    if residence_status == ResidenceStatus.DECEASED and not death_date:
        errors["death_date"] = _("已死亡的居民须填写死亡日期。")
    if death_date and death_date < birth_date:
        errors["death_date"] = _("死亡日期不能早于出生日期。")
    if phone and not _plausible_phone(phone):
        errors["phone"] = _("电话号码格式不正确。")
    if errors:
        raise DomainValidationError(errors)
    _check_area(area)
    number = _validate_identity(actor=actor, id_type=id_type, id_number=id_number, sex=sex, birth_date=birth_date)
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                name=name, sex=sex, birth_date=birth_date, id_type=id_type, id_number=number, phone=phone,
                area=area, address=address, household=household, relation_to_head=relation_to_head,
                residence_status=residence_status, death_date=death_date, institution=institution,
                ethnicity=ethnicity, disabled=disabled, poverty_lifted=poverty_lifted,
                special_fp_family=special_fp_family, pregnant=pregnant,
            )
    except IntegrityError as exc:  # a concurrent insert of the same number
        raise DomainValidationError({"id_number": _("该证件号码已登记。")}, code="duplicate") from exc
    audit(actor, AccessAction.CREATE, resident)
    if create_record:
        health_record_create(
            actor=actor, resident=resident, institution=institution, electronic=record_electronic,
            established_on=established_on,
        )
    key_population_refresh(resident=resident)
    return resident


@transaction.atomic
def resident_update(*, actor, resident: Resident, version: int, **changes: Any) -> Resident:
    """Apply `changes` if nobody changed the resident since `version` was read."""
    unknown = set(changes) - set(RESIDENT_EDITABLE)
    if unknown:
        raise DomainValidationError({k: _("该字段不可修改。") for k in unknown})
    merged = {f: getattr(resident, f) for f in RESIDENT_EDITABLE}
    merged.update(changes)
    errors: dict[str, str] = {}
    if not (merged["name"] or "").strip():
        errors["name"] = _("请填写姓名。")
    if merged["residence_status"] == ResidenceStatus.DECEASED and not merged["death_date"]:
        errors["death_date"] = _("已死亡的居民须填写死亡日期。")
    if merged["death_date"] and merged["birth_date"] and merged["death_date"] < merged["birth_date"]:
        # Whichever of the two changed: the death date is the field to correct (as on creation).
        errors["death_date"] = _("死亡日期不能早于出生日期。")
    if merged["phone"] and not _plausible_phone(merged["phone"]):
        errors["phone"] = _("电话号码格式不正确。")
    if errors:
        raise DomainValidationError(errors)
    _check_area(merged["area"])
    identity_fields = {"id_type", "id_number", "sex", "birth_date"}
    if identity_fields & set(changes):
        merged["id_number"] = _validate_identity(
            actor=actor, id_type=merged["id_type"], id_number=merged["id_number"], sex=merged["sex"],
            birth_date=merged["birth_date"], exclude_pk=resident.pk,
        )
    updated = Resident.objects.filter(pk=resident.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(),
        **{k: merged[k] for k in changes},
    )
    if updated != 1:
        raise ConcurrentEditError(_("该居民信息已被他人修改，请刷新后重试。"))
    resident.refresh_from_db()
    audit(actor, AccessAction.UPDATE, resident, detail={"fields": sorted(changes)})
    key_population_refresh(resident=resident)
    return resident


def _allocate_serial(prefix: str) -> int:
    """Next serial for a 12-digit community prefix. The UPDATE takes the row lock (PostgreSQL) or the
    database write lock (SQLite), so concurrent creators never get the same number."""
    counter, _created = RecordSerialCounter.objects.get_or_create(prefix=prefix)
    RecordSerialCounter.objects.filter(pk=counter.pk).update(last_serial=F("last_serial") + 1)
    serial = RecordSerialCounter.objects.values_list("last_serial", flat=True).get(pk=counter.pk)
    if serial > 99999:
        raise DomainValidationError({"": _("该社区档案流水号已用尽。")})
    return serial


@transaction.atomic
def health_record_create(
    *,
    actor,
    resident: Resident,
    institution: Institution,
    electronic: bool = True,
    established_on: date | None = None,
) -> HealthRecord:
    if HealthRecord.objects.filter(resident=resident).exists():
        raise DomainValidationError({"": _("该居民已建立健康档案。")})
    area = resident.area
    prefix = area.code  # 12 digits: county(6) + street(3) + community(3)
    ruleset = ids.record_number_ruleset(settings.JIAYI.get("RECORD_NUMBER_RULESET"))
    try:
        ids.community_kind(prefix[9:12], ruleset=ruleset)
    except ids.RecordNumberError as exc:  # an area code outside the record-number scheme in use
        raise DomainValidationError({"area": _(str(exc))}) from exc
    serial = _allocate_serial(prefix)
    number = ids.format_record_number(prefix[:6], prefix[6:9], prefix[9:12], serial, ruleset=ruleset)
    record = HealthRecord.objects.create(
        resident=resident, record_number=number, institution=institution, created_by=_staff(actor),
        established_on=established_on or timezone.localdate(), electronic=electronic,
    )
    audit(actor, AccessAction.CREATE, record, resident_id=resident.pk)
    return record


@transaction.atomic
def health_record_update(*, actor, record: HealthRecord, version: int, **changes: Any) -> HealthRecord:
    allowed = {
        "electronic", "status", "open_to_resident", "blood_type", "rh_negative", "allergies", "exposures",
        "family_history", "disabilities", "living_conditions", "insurance", "occupation", "education",
        "marital_status",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise DomainValidationError({k: _("该字段不可修改。") for k in unknown})
    updated = HealthRecord.objects.filter(pk=record.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        raise ConcurrentEditError(_("该档案已被他人修改，请刷新后重试。"))
    record.refresh_from_db()
    audit(actor, AccessAction.UPDATE, record, resident_id=record.resident_id, detail={"fields": sorted(changes)})
    return record


def _as_decimal(v: Any) -> Decimal | None:
    if v is None or v == "":
        return None
    return Decimal(str(v))


@transaction.atomic
def measurement_record(
    *,
    actor,
    resident: Resident,
    measured_at: datetime | None = None,
    source: str = "manual",
    institution: Institution | None = None,
    **values: Any,
) -> Measurement:
    unknown = set(values) - set(Measurement.VALUE_FIELDS)
    if unknown:
        raise DomainValidationError({k: _("未知的测量项目。") for k in unknown})
    clean = {k: v for k, v in values.items() if v is not None and v != ""}
    if not clean:
        raise DomainValidationError({"": _("请至少填写一项测量值。")})
    measured_at = measured_at or timezone.now()
    if timezone.is_naive(measured_at):  # a time without a zone is local time, as typed on the pages
        measured_at = timezone.make_aware(measured_at)
    if measured_at < timezone.make_aware(datetime.combine(resident.birth_date, time.min)):
        raise DomainValidationError({"measured_at": _("测量时间不能早于出生日期。")})
    if measured_at > timezone.now() + timezone.timedelta(minutes=5):
        raise DomainValidationError({"measured_at": _("测量时间不能晚于当前时间。")})
    problems = rules.check_measurements({k: float(v) for k, v in clean.items()}, translate=_)
    if problems:
        raise DomainValidationError(problems)
    bmi = None
    if clean.get("height") and clean.get("weight"):
        bmi = rules.bmi(float(clean["height"]), float(clean["weight"]))
    staff = _staff(actor)
    m = Measurement.objects.create(
        resident=resident, measured_at=measured_at, source=source,
        institution=institution or (staff.institution if staff else None), recorded_by=staff,
        bmi=_as_decimal(bmi), **{k: _as_decimal(v) if k not in ("sbp", "dbp", "heart_rate") else int(v)
                                  for k, v in clean.items()},
    )
    HealthRecord.objects.filter(resident=resident).update(last_activity_on=timezone.localtime(measured_at).date())
    audit(actor, AccessAction.CREATE, m, resident_id=resident.pk)
    return m


PROBLEM_EDITABLE = ("kind", "icd10", "name", "diagnosed_on", "note")


def _problem_snapshot(problem: Problem) -> dict[str, Any]:
    """The audited state of a problem (JSON-ready), for the before/after of every change."""
    out: dict[str, Any] = {}
    for f in (*PROBLEM_EDITABLE, "resolved_on", "resolved_reason", "removed_reason", "version"):
        v = getattr(problem, f)
        out[f] = v.isoformat() if isinstance(v, date) else v
    return out


def _clean_problem(
    *, resident: Resident, kind: str, icd10: str, name: str, diagnosed_on: date | None, note: str,
    exclude_pk: int | None = None, active: bool = True,
) -> tuple[str, str]:
    """Validate a problem's fields; return (normalised code, name). Raises with every field's message;
    an unresolved problem may not share its ICD-10 category with another unresolved one."""
    errors: dict[str, str] = {}
    if kind not in ProblemKind.values:
        errors["kind"] = _("请选择类别。")
    code = icd10_codes.normalise(icd10 or "")
    entry = icd10_codes.lookup(code) if code else None
    if code and entry is None:
        errors["icd10"] = _("ICD-10编码 %(code)s 不在编码表中，请从编码表中选择。") % {"code": code}
    elif not code and kind == ProblemKind.DISEASE:
        errors["icd10"] = _("疾病须填写ICD-10编码。")
    name = (name or "").strip()
    if not name and entry is not None:
        name = entry.title_zh or entry.title_en
    if not name:
        errors["name"] = _("请填写名称。")
    elif len(name) > Problem._meta.get_field("name").max_length:
        errors["name"] = _("名称不能超过100个字。")
    if len(note or "") > Problem._meta.get_field("note").max_length:
        errors["note"] = _("备注不能超过300个字。")
    if diagnosed_on and diagnosed_on > timezone.localdate():
        errors["diagnosed_on"] = _("确诊日期不能晚于今天。")
    elif diagnosed_on and diagnosed_on < resident.birth_date:
        errors["diagnosed_on"] = _("确诊日期不能早于出生日期。")
    duplicate = False
    if not errors and entry is not None and active:
        same = Problem.objects.active().filter(resident=resident, icd10__startswith=entry.category)
        if exclude_pk is not None:
            same = same.exclude(pk=exclude_pk)
        other = same.first()
        if other is not None:
            duplicate = True
            errors["icd10"] = _("该居民已有未终止的同类诊断：%(name)s（%(code)s）。") % {
                "name": other.name, "code": other.icd10,
            }
    if errors:
        raise DomainValidationError(errors, code="duplicate" if duplicate else "invalid")
    return (entry.code if entry is not None else ""), name


def _lock_resident(resident: Resident) -> None:
    """Serialise the writes of one resident's problems (PostgreSQL row lock; SQLite writes are serial),
    so two people adding the same diagnosis at once cannot both pass the duplicate check."""
    Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True).first()


@transaction.atomic
def problem_add(
    *,
    actor,
    resident: Resident,
    name: str = "",
    icd10: str = "",
    diagnosed_on: date | None = None,
    kind: str = ProblemKind.DISEASE,
    note: str = "",
) -> Problem:
    """Record a problem. A disease needs a code from the ICD-10 list (its name defaults to the code's
    title); no second unresolved problem of the same ICD-10 category. Tags follow (diagnosis groups)."""
    _lock_resident(resident)
    code, name = _clean_problem(
        resident=resident, kind=kind, icd10=icd10, name=name, diagnosed_on=diagnosed_on, note=note
    )
    p = Problem.objects.create(
        resident=resident, kind=kind, icd10=code, name=name, diagnosed_on=diagnosed_on, note=(note or "").strip(),
        recorded_by=_staff(actor), updated_at=timezone.now(),
    )
    audit(actor, AccessAction.CREATE, p, detail={"after": _problem_snapshot(p)})
    key_population_refresh(resident=resident)
    return p


def _problem_write(problem: Problem, version: int, **values: Any) -> Problem:
    updated = Problem.objects.filter(pk=problem.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **values
    )
    if updated != 1:
        raise ConcurrentEditError(_("该诊断已被他人修改，请刷新后重试。"))
    return Problem.all_objects.get(pk=problem.pk)


@transaction.atomic
def problem_update(*, actor, problem: Problem, version: int, **changes: Any) -> Problem:
    """Correct a problem if nobody changed it since ``version`` was read (else ConcurrentEditError).
    A new code without a new name takes the code's title."""
    unknown = set(changes) - set(PROBLEM_EDITABLE)
    if unknown:
        raise DomainValidationError({k: _("该字段不可修改。") for k in unknown})
    resident = problem.resident
    _lock_resident(resident)
    before = _problem_snapshot(problem)
    merged = {f: getattr(problem, f) for f in PROBLEM_EDITABLE}
    merged.update(changes)
    if "icd10" in changes and "name" not in changes and icd10_codes.normalise(changes["icd10"] or "") != problem.icd10:
        merged["name"] = ""
    code, name = _clean_problem(
        resident=resident, exclude_pk=problem.pk, active=problem.resolved_on is None, **merged
    )
    values = {**{k: merged[k] for k in changes}, "icd10": code, "name": name}
    if "note" in values:
        values["note"] = (values["note"] or "").strip()
    problem = _problem_write(problem, version, **values)
    after = _problem_snapshot(problem)
    changed = sorted(k for k in after if after[k] != before[k] and k != "version")
    audit(actor, AccessAction.UPDATE, problem, detail={
        "fields": changed, "before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed},
    })
    key_population_refresh(resident=resident)
    return problem


@transaction.atomic
def problem_resolve(
    *, actor, problem: Problem, version: int, resolved_on: date | None = None, reason: str = ""
) -> Problem:
    """Mark a problem cured or ended (痊愈/终止) on ``resolved_on`` (today by default), with a reason."""
    resolved_on = resolved_on or timezone.localdate()
    errors: dict[str, str] = {}
    if problem.resolved_on is not None:
        errors["resolved_on"] = _("该诊断已终止。")
    elif resolved_on > timezone.localdate():
        errors["resolved_on"] = _("终止日期不能晚于今天。")
    elif problem.diagnosed_on and resolved_on < problem.diagnosed_on:
        errors["resolved_on"] = _("终止日期不能早于确诊日期。")
    elif resolved_on < problem.resident.birth_date:
        errors["resolved_on"] = _("终止日期不能早于出生日期。")
    reason = (reason or "").strip()
    if len(reason) > Problem._meta.get_field("resolved_reason").max_length:
        errors["reason"] = _("原因不能超过200个字。")
    if errors:
        raise DomainValidationError(errors)
    _lock_resident(problem.resident)
    before = _problem_snapshot(problem)
    problem = _problem_write(problem, version, resolved_on=resolved_on, resolved_reason=reason)
    after = _problem_snapshot(problem)
    audit(actor, AccessAction.UPDATE, problem, detail={
        "fields": ["resolved_on", "resolved_reason"],
        "before": {k: before[k] for k in ("resolved_on", "resolved_reason")},
        "after": {k: after[k] for k in ("resolved_on", "resolved_reason")},
    })
    key_population_refresh(resident=problem.resident)
    return problem


@transaction.atomic
def problem_remove(*, actor, problem: Problem, version: int, reason: str) -> Problem:
    """Remove a problem entered in error: kept (soft), hidden from every reader, audited with its state."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainValidationError({"reason": _("请填写删除原因。")})
    if len(reason) > Problem._meta.get_field("removed_reason").max_length:
        raise DomainValidationError({"reason": _("原因不能超过200个字。")})
    _lock_resident(problem.resident)
    before = _problem_snapshot(problem)
    problem = _problem_write(
        problem, version, removed_at=timezone.now(), removed_by=_staff(actor), removed_reason=reason
    )
    audit(actor, AccessAction.DELETE, problem, detail={"before": before, "reason": reason})
    key_population_refresh(resident=problem.resident)
    return problem


def key_population_refresh(*, resident: Resident, on: date | None = None) -> set[str]:
    """Recompute the resident's key-population tags from the record; returns the current set."""
    on = on or timezone.localdate()
    codes = list(resident.problems.active().values_list("icd10", flat=True))
    recorded = {
        code for code, flag in (
            ("disabled", resident.disabled), ("poverty_lifted", resident.poverty_lifted),
            ("special_fp_family", resident.special_fp_family),
        ) if flag
    }
    wanted = rules.derive_key_populations(
        birth_date=resident.birth_date, on=on, pregnant_or_postpartum=resident.pregnant,
        diagnoses=diagnosis_groups(codes), recorded=recorded,
    )
    existing = set(resident.key_population_tags.values_list("code", flat=True))
    if existing - wanted:
        resident.key_population_tags.filter(code__in=existing - wanted).delete()
    KeyPopulationTag.objects.bulk_create(
        [KeyPopulationTag(resident=resident, code=c, derived=c not in recorded, since=on) for c in wanted - existing]
    )
    return wanted


@transaction.atomic
def household_create(
    *, actor, area: Area, address: str, institution: Institution, number: str | None = None
) -> Household:
    _check_area(area)
    if not (address or "").strip():
        raise DomainValidationError({"address": _("请填写家庭住址。")})
    hh = Household.objects.create(number=number or f"T{timezone.now():%Y%m%d%H%M%S%f}", area=area,
                                  address=address, institution=institution)
    if number is None:
        hh.number = f"{area.code}{hh.pk:08d}"
        hh.save(update_fields=["number"])
    return hh


@transaction.atomic
def household_add_member(*, actor, household: Household, resident: Resident, relation_to_head: str) -> Resident:
    if relation_to_head not in Relationship.values:
        raise DomainValidationError({"relation_to_head": _("请选择与户主关系。")})
    if relation_to_head == Relationship.HEAD and household.members.filter(relation_to_head=Relationship.HEAD).exclude(
        pk=resident.pk
    ).exists():
        raise DomainValidationError({"relation_to_head": _("该家庭已有户主。")})
    return resident_update(
        actor=actor, resident=resident, version=resident.version, household=household,
        relation_to_head=relation_to_head,
    )

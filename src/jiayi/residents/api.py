"""Residents, health records and measurements over /api/v1/."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.db import transaction
from ninja import Field, Query, Router, Schema, Status

from jiayi.core.access import require_writer
from jiayi.core.audit import audit_view
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.scoping import get_visible_or_404
from jiayi.org.models import Area, Institution
from jiayi.residents import icd10, selectors, services
from jiayi.residents.diagnoses import diagnosis_groups
from jiayi.residents.models import (
    HealthRecord,
    IdType,
    Measurement,
    Problem,
    ProblemKind,
    Relationship,
    ResidenceStatus,
    Sex,
)

router = Router(tags=["residents"])

SexCode = Literal["M", "F"]
IdTypeCode = Literal[tuple(IdType.values)]  # type: ignore[valid-type]
StatusCode = Literal[tuple(ResidenceStatus.values)]  # type: ignore[valid-type]
RelationCode = Literal[tuple([*Relationship.values, ""])]  # type: ignore[valid-type]

Name = Annotated[str, Field(min_length=1, max_length=50)]
Phone = Annotated[str, Field(max_length=20)]


class ResidentListItem(Schema):
    id: int
    name: str
    sex: str
    birth_date: date
    id_number_masked: str
    phone_masked: str
    record_number: str | None
    area: str
    residence_status: str


class ResidentOut(Schema):
    id: int
    version: int
    name: str
    sex: str
    birth_date: date
    id_type: str
    id_number: str
    phone: str
    area_code: str
    area: str
    address: str
    household_id: int | None
    relation_to_head: str
    residence_status: str
    death_date: date | None
    institution_id: int
    disabled: bool
    poverty_lifted: bool
    special_fp_family: bool
    pregnant: bool
    record_number: str | None
    key_populations: list[str]


class ResidentIn(Schema):
    name: Name
    sex: SexCode
    birth_date: date
    id_type: IdTypeCode = IdType.RESIDENT_ID  # type: ignore[valid-type]
    id_number: Annotated[str, Field(min_length=1, max_length=30)]
    phone: Phone = ""
    area_code: Annotated[str, Field(min_length=12, max_length=12, pattern=r"^\d{12}$")]
    address: Annotated[str, Field(max_length=300)] = ""
    institution_id: int | None = None
    household_id: int | None = None
    relation_to_head: RelationCode = ""  # type: ignore[valid-type]
    residence_status: StatusCode = ResidenceStatus.REGISTERED  # type: ignore[valid-type]
    death_date: date | None = None
    disabled: bool = False
    poverty_lifted: bool = False
    special_fp_family: bool = False
    pregnant: bool = False


class ResidentPatch(Schema):
    version: int
    name: Name | None = None
    sex: SexCode | None = None
    birth_date: date | None = None
    id_type: IdTypeCode | None = None  # type: ignore[valid-type]
    id_number: Annotated[str, Field(min_length=1, max_length=30)] | None = None
    phone: Phone | None = None
    area_code: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    residence_status: StatusCode | None = None  # type: ignore[valid-type]
    death_date: date | None = None
    disabled: bool | None = None
    poverty_lifted: bool | None = None
    special_fp_family: bool | None = None
    pregnant: bool | None = None


class HealthRecordOut(Schema):
    record_number: str
    version: int
    institution_id: int
    established_on: date
    electronic: bool
    status: str
    open_to_resident: bool
    blood_type: str
    allergies: list
    family_history: dict
    disabilities: list
    living_conditions: dict
    insurance: list
    problems: list[dict]


class HealthRecordPatch(Schema):
    version: int
    electronic: bool | None = None
    status: Literal["active", "inactive", "closed"] | None = None
    open_to_resident: bool | None = None
    blood_type: Literal["A", "B", "O", "AB", "unknown", ""] | None = None
    allergies: list[str] | None = None
    family_history: dict[str, list[str]] | None = None
    disabilities: list[str] | None = None
    living_conditions: dict[str, str] | None = None
    insurance: list[str] | None = None


Small = Annotated[int, Field(ge=0, le=1000)]
Dec = Annotated[float, Field(ge=0, le=1000)]


class MeasurementIn(Schema):
    measured_at: datetime | None = None
    sbp: Small | None = None
    dbp: Small | None = None
    heart_rate: Small | None = None
    height: Dec | None = None
    weight: Dec | None = None
    waist: Dec | None = None
    fasting_glucose: Dec | None = None
    random_glucose: Dec | None = None
    hba1c: Dec | None = None
    total_cholesterol: Dec | None = None
    triglycerides: Dec | None = None
    ldl_c: Dec | None = None
    hdl_c: Dec | None = None


class MeasurementOut(Schema):
    id: int
    measured_at: datetime
    source: str
    sbp: int | None
    dbp: int | None
    heart_rate: int | None
    height: float | None
    weight: float | None
    waist: float | None
    bmi: float | None
    fasting_glucose: float | None
    random_glucose: float | None
    hba1c: float | None
    total_cholesterol: float | None
    triglycerides: float | None
    ldl_c: float | None
    hdl_c: float | None


class SearchOut(Schema):
    items: list[ResidentListItem]
    page: int
    page_size: int
    has_next: bool
    query_kind: str


def _list_item(r) -> dict:
    rec = selectors.health_record_for(r)
    return {
        "id": r.pk, "name": r.name, "sex": r.sex, "birth_date": r.birth_date,
        "id_number_masked": r.masked_id_number, "phone_masked": r.masked_phone,
        "record_number": rec.record_number if rec else None, "area": r.area.name,
        "residence_status": r.residence_status,
    }


def _resident_out(r) -> dict:
    rec = selectors.health_record_for(r)
    return {
        "id": r.pk, "version": r.version, "name": r.name, "sex": r.sex, "birth_date": r.birth_date,
        "id_type": r.id_type, "id_number": r.id_number, "phone": r.phone, "area_code": r.area.code,
        "area": r.area.name, "address": r.address, "household_id": r.household_id,
        "relation_to_head": r.relation_to_head, "residence_status": r.residence_status,
        "death_date": r.death_date, "institution_id": r.institution_id, "disabled": r.disabled,
        "poverty_lifted": r.poverty_lifted, "special_fp_family": r.special_fp_family, "pregnant": r.pregnant,
        "record_number": rec.record_number if rec else None,
        "key_populations": sorted(r.key_population_tags.values_list("code", flat=True)),
    }



def _area(code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise DomainValidationError({"area_code": "未知的区划代码。"})
    return area


def _institution_for(request, institution_id: int | None) -> Institution:
    if institution_id is None:
        staff = getattr(request.user, "staff", None)
        if staff is None:
            raise DomainValidationError({"institution_id": "请指定管理机构。"})
        return staff.institution
    institution = Institution.objects.visible_to(request.user).filter(pk=institution_id).first()
    if institution is None:
        raise DomainValidationError({"institution_id": "无权在该机构建档。"})
    return institution


class SearchParams(Schema):
    q: Annotated[str, Field(max_length=50)] = ""
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20


@router.get("/residents", response=SearchOut)
def resident_search(request, params: Query[SearchParams]):
    page = selectors.resident_search(request.user, params.q, page=params.page, page_size=params.page_size)
    return {
        "items": [_list_item(r) for r in page.items], "page": page.page, "page_size": page.page_size,
        "has_next": page.has_next, "query_kind": page.kind,
    }


@router.post("/residents", response={201: ResidentOut})
def resident_create(request, payload: ResidentIn):
    require_writer(request)
    data = payload.dict()
    area = _area(data.pop("area_code"))
    institution = _institution_for(request, data.pop("institution_id"))
    hh_id = data.pop("household_id")
    household = None
    if hh_id is not None:
        from jiayi.residents.models import Household

        household = Household.objects.visible_to(request.user).filter(pk=hh_id).first()
        if household is None:
            raise DomainValidationError({"household_id": "家庭不存在或不可见。"})
    r = services.resident_create(actor=request.user, area=area, institution=institution, household=household, **data)
    return Status(201, _resident_out(r))


@router.get("/residents/{resident_id}", response=ResidentOut)
def resident_read(request, resident_id: int):
    return _resident_out(selectors.resident_get(request.user, resident_id))


@router.patch("/residents/{resident_id}", response=ResidentOut)
def resident_update(request, resident_id: int, payload: ResidentPatch):
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    if "area_code" in changes:
        changes["area"] = _area(changes.pop("area_code"))
    changes = {k: v for k, v in changes.items() if v is not None or k == "death_date"}
    r = services.resident_update(actor=request.user, resident=r, version=version, **changes)
    return _resident_out(r)


def _record_out(rec: HealthRecord) -> dict:
    return {
        "record_number": rec.record_number, "version": rec.version, "institution_id": rec.institution_id,
        "established_on": rec.established_on, "electronic": rec.electronic, "status": rec.status,
        "open_to_resident": rec.open_to_resident, "blood_type": rec.blood_type, "allergies": rec.allergies,
        "family_history": rec.family_history, "disabilities": rec.disabilities,
        "living_conditions": rec.living_conditions, "insurance": rec.insurance,
        "problems": [
            {"icd10": p.icd10, "name": p.name, "diagnosed_on": p.diagnosed_on and p.diagnosed_on.isoformat(),
             "kind": p.kind}
            for p in rec.resident.problems.all()
        ],
    }


@router.get("/residents/{resident_id}/record", response=HealthRecordOut)
def record_read(request, resident_id: int):
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    rec = get_visible_or_404(HealthRecord.objects.visible_to(request.user), resident=r)
    audit_view(request.user, rec, resident_id=r.pk)
    return _record_out(rec)


@router.patch("/residents/{resident_id}/record", response=HealthRecordOut)
def record_update(request, resident_id: int, payload: HealthRecordPatch):
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    rec = get_visible_or_404(HealthRecord.objects.visible_to(request.user), resident=r)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    changes = {k: v for k, v in changes.items() if v is not None}
    return _record_out(services.health_record_update(actor=request.user, record=rec, version=version, **changes))


def _measurement_out(m: Measurement) -> dict:
    out = {"id": m.pk, "measured_at": m.measured_at, "source": m.source}
    for f in (*Measurement.VALUE_FIELDS, "bmi"):
        v = getattr(m, f)
        out[f] = None if v is None else (int(v) if f in ("sbp", "dbp", "heart_rate") else float(v))
    return out


@router.get("/residents/{resident_id}/measurements", response=list[MeasurementOut])
def measurement_list(request, resident_id: int):
    r = selectors.resident_get(request.user, resident_id)
    return [_measurement_out(m) for m in selectors.measurements_for(r)]


@router.post("/residents/{resident_id}/measurements", response={201: MeasurementOut})
def measurement_create(request, resident_id: int, payload: MeasurementIn):
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    data = payload.dict()
    measured_at = data.pop("measured_at")
    m = services.measurement_record(actor=request.user, resident=r, measured_at=measured_at, **data)
    return Status(201, _measurement_out(m))


# ---------------------------------------------------------------------------------------------
# Problems (既往史 / diagnoses); the ICD-10 code search is in residents.codes_api
# ---------------------------------------------------------------------------------------------

KindCode = Literal[tuple(ProblemKind.values)]  # type: ignore[valid-type]
Code = Annotated[str, Field(max_length=10)]
ProblemName = Annotated[str, Field(max_length=100)]
Note = Annotated[str, Field(max_length=300)]
Reason = Annotated[str, Field(max_length=200)]


class ProblemOut(Schema):
    id: int
    version: int
    kind: str
    icd10: str
    category: str
    code_title_zh: str
    code_title_en: str
    diagnosis_groups: list[str]
    name: str
    diagnosed_on: date | None
    resolved_on: date | None
    resolved_reason: str
    note: str
    recorded_at: datetime
    updated_at: datetime | None


class ProblemIn(Schema):
    icd10: Code = ""
    name: ProblemName = ""
    kind: KindCode = ProblemKind.DISEASE  # type: ignore[valid-type]
    diagnosed_on: date | None = None
    note: Note = ""


class ProblemPatch(Schema):
    """Send the ``version`` you read. ``resolved_on`` (with ``resolved_reason``) marks it cured/ended."""

    version: int
    icd10: Code | None = None
    name: ProblemName | None = None
    kind: KindCode | None = None  # type: ignore[valid-type]
    diagnosed_on: date | None = None
    note: Note | None = None
    resolved_on: date | None = None
    resolved_reason: Reason = ""


class ProblemRemoveParams(Schema):
    version: int
    reason: Annotated[str, Field(min_length=1, max_length=200)]


def _problem_out(p: Problem) -> dict:
    entry = icd10.lookup(p.icd10) if p.icd10 else None
    return {
        "id": p.pk, "version": p.version, "kind": p.kind, "icd10": p.icd10, "category": p.category,
        "code_title_zh": entry.title_zh if entry else "", "code_title_en": entry.title_en if entry else "",
        "diagnosis_groups": sorted(diagnosis_groups([p.icd10])) if p.icd10 else [],
        "name": p.name, "diagnosed_on": p.diagnosed_on, "resolved_on": p.resolved_on,
        "resolved_reason": p.resolved_reason, "note": p.note, "recorded_at": p.recorded_at,
        "updated_at": p.updated_at,
    }


@router.get("/residents/{resident_id}/problems", response=list[ProblemOut])
def problem_list(request, resident_id: int):
    """The resident's problems, resolved ones included (removed ones are not)."""
    r = selectors.resident_get(request.user, resident_id)
    return [_problem_out(p) for p in selectors.problems_for(r)]


@router.post("/residents/{resident_id}/problems", response={201: ProblemOut})
def problem_create(request, resident_id: int, payload: ProblemIn):
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    p = services.problem_add(actor=request.user, resident=r, **payload.dict())
    return Status(201, _problem_out(p))


@router.patch("/residents/{resident_id}/problems/{problem_id}", response=ProblemOut)
def problem_update(request, resident_id: int, problem_id: int, payload: ProblemPatch):
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    p = selectors.problem_get(r, problem_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    resolved_on = changes.pop("resolved_on", None)
    reason = changes.pop("resolved_reason", "")
    changes = {k: v for k, v in changes.items() if v is not None or k == "diagnosed_on"}
    with transaction.atomic():
        if changes:
            p = services.problem_update(actor=request.user, problem=p, version=version, **changes)
            version = p.version
        if resolved_on is not None:
            p = services.problem_resolve(
                actor=request.user, problem=p, version=version, resolved_on=resolved_on, reason=reason
            )
        elif not changes and version != p.version:
            raise ConcurrentEditError("该诊断已被他人修改，请刷新后重试。")
    return _problem_out(p)


@router.delete("/residents/{resident_id}/problems/{problem_id}", response={204: None})
def problem_remove(request, resident_id: int, problem_id: int, params: Query[ProblemRemoveParams]):
    """Remove a problem entered in error (soft: kept for the audit trail, hidden everywhere)."""
    require_writer(request)
    r = selectors.resident_get(request.user, resident_id, audit_read=False)
    p = selectors.problem_get(r, problem_id)
    services.problem_remove(actor=request.user, problem=p, version=params.version, reason=params.reason)
    return Status(204, None)


__all__ = ["Sex", "router"]

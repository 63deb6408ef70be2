"""Contracts and packages over /api/v1/: /contracts/..., /packages/...

The contract indicators (coverage, renewal, fulfilment, satisfaction) are the indicator engine's stored
values: ``/indicators/units/{level}/{id}?group=contracts`` (indicators app), not counted here.

Reads are scoped (`visible_to`) and audited; an object out of scope is 404. Writes need a clinical
role (403 otherwise). Bad input answers 422 with the payload field in ``loc``, a stale ``version`` 409.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from jiayi.contracts import catalogue, selectors, services
from jiayi.contracts.models import (
    Contract,
    ContractStatus,
    FunctionalCommunity,
    SatisfactionSurvey,
    ServiceDelivery,
    ServicePackage,
)
from jiayi.core.access import require_staff_scope, require_writer
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import get_visible_or_404, institution_ids_visible_to, user_role
from jiayi.org.models import Area, Institution, Role, Staff, Team
from jiayi.residents.models import Resident

router = Router(tags=["contracts"])

Text = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(max_length=40)]


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


class ServiceItemOut(Schema):
    code: str
    name: str
    category: str
    description: str


class PackageItemIn(Schema):
    service_code: Code
    quantity: Annotated[int, Field(ge=0, le=1000)]
    optional: bool = False
    note: Text = ""


class PackageItemOut(Schema):
    service_code: str
    name: str
    quantity: int
    optional: bool
    note: str


class PackageOut(Schema):
    id: int
    version: int
    code: str
    name: str
    kind: str
    description: str
    institution_id: int | None
    institution_name: str | None
    target_groups: list[str]
    price: Decimal
    insurance_share: Decimal
    public_health_share: Decimal
    resident_share: Decimal
    period_months: int
    active: bool
    demo_default: bool
    items: list[PackageItemOut]


Money = Annotated[Decimal, Field(ge=0, le=99999, decimal_places=2)]


class PackageIn(Schema):
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
    name: Annotated[str, Field(max_length=100)]
    kind: Code
    description: Annotated[str, Field(max_length=2000)] = ""
    institution_id: int | None = None
    target_groups: list[Code] = []
    price: Money
    insurance_share: Money
    public_health_share: Money
    resident_share: Money
    period_months: Annotated[int, Field(ge=1, le=36)] = 12
    items: Annotated[list[PackageItemIn], Field(max_length=50)]


class PackagePatch(Schema):
    version: int
    name: Annotated[str, Field(max_length=100)] | None = None
    kind: Code | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    target_groups: list[Code] | None = None
    price: Money | None = None
    insurance_share: Money | None = None
    public_health_share: Money | None = None
    resident_share: Money | None = None
    period_months: Annotated[int, Field(ge=1, le=36)] | None = None
    active: bool | None = None
    items: Annotated[list[PackageItemIn], Field(max_length=50)] | None = None


class ItemProgressOut(Schema):
    item_id: int
    service_code: str
    name: str
    package_name: str
    quantity: int
    delivered: int
    due_now: int
    next_due_on: date | None
    state: str


class ContractPackageOut(Schema):
    package_id: int
    code: str
    name: str
    kind: str
    price: Decimal
    insurance_share: Decimal
    public_health_share: Decimal
    resident_share: Decimal


class FeesOut(Schema):
    total: Decimal
    insurance: Decimal
    public_health: Decimal
    resident: Decimal
    waived: Decimal
    waiver_reason: str
    waiver_note: str


class SurveyOut(Schema):
    id: int
    version: int
    surveyed_on: date
    method: str
    respondent_relation: str
    overall_score: int
    attitude_score: int
    access_score: int
    skill_score: int
    fulfilment_score: int
    would_renew: bool | None
    comments: str


class ContractListItem(Schema):
    id: int
    number: str
    resident_id: int
    resident_name: str
    team_id: int
    team_name: str
    doctor_id: int
    doctor_name: str
    status: str
    effective_status: str
    start_date: date
    end_date: date
    renewal_of_id: int | None


class ContractOut(ContractListItem):
    version: int
    institution_id: int
    household_signing_id: int | None
    signed_at: datetime
    signed_by_id: int | None
    consent_method: str
    consent_signatory: str
    consent_relation: str
    consent_document: str
    place_type: str
    functional_community_id: int | None
    place_institution_id: int | None
    place_note: str
    fees: FeesOut
    terminated_on: date | None
    termination_reason: str
    termination_note: str
    packages: list[ContractPackageOut]
    items: list[ItemProgressOut]
    satisfaction: SurveyOut | None
    warnings: list[str] = []


class ContractPage(Schema):
    items: list[ContractListItem]
    page: int
    page_size: int
    has_next: bool


class ContractIn(Schema):
    resident_id: int
    team_id: int | None = None
    doctor_id: int | None = None
    package_ids: Annotated[list[int], Field(max_length=20)]
    optional_items: dict[int, list[Code]] | None = None
    start_date: date | None = None
    end_date: date | None = None
    months: int | None = None
    consent_method: Code
    consent_signatory: Annotated[str, Field(max_length=50)] = ""
    consent_relation: Code = ""
    consent_document: Annotated[str, Field(max_length=100)] = ""
    place_type: Code = "institution"
    functional_community_id: int | None = None
    place_institution_id: int | None = None
    place_note: Text = ""
    waiver_reason: Code = ""
    waiver_note: Text = ""


class HouseholdContractIn(Schema):
    household_id: int
    member_ids: Annotated[list[int], Field(max_length=30)] | None = None
    team_id: int | None = None
    doctor_id: int | None = None
    package_ids: Annotated[list[int], Field(max_length=20)]
    start_date: date | None = None
    months: int | None = None
    consent_method: Code
    consent_signatory: Annotated[str, Field(max_length=50)] = ""
    consent_relation: Code = ""
    consent_document: Annotated[str, Field(max_length=100)] = ""
    place_type: Code = "home"
    functional_community_id: int | None = None
    place_institution_id: int | None = None
    place_note: Text = ""


class HouseholdSigningOut(Schema):
    id: int
    household_id: int
    contracts: list[ContractOut]


class RenewIn(Schema):
    team_id: int | None = None
    doctor_id: int | None = None
    package_ids: Annotated[list[int], Field(max_length=20)] | None = None
    optional_items: dict[int, list[Code]] | None = None
    months: int | None = None
    consent_method: Code
    consent_signatory: Annotated[str, Field(max_length=50)] = ""
    consent_relation: Code = ""
    consent_document: Annotated[str, Field(max_length=100)] = ""
    place_type: Code = "institution"
    functional_community_id: int | None = None
    place_institution_id: int | None = None
    place_note: Text = ""
    waiver_reason: Code = ""
    waiver_note: Text = ""


class TerminateIn(Schema):
    version: int
    reason: Code
    on: date | None = None
    note: Annotated[str, Field(max_length=300)] = ""


class DeliveryIn(Schema):
    service_code: Code
    delivered_on: date
    note: Text = ""


class DeliveryOut(Schema):
    id: int
    contract_id: int
    item_id: int
    service_code: str
    name: str
    delivered_on: date
    source: str
    source_id: int | None
    recorded_by_id: int | None
    note: str
    revoked_at: datetime | None
    revoked_reason: str


class RevokeIn(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


Score = Annotated[int, Field(ge=1, le=5)]


class SurveyIn(Schema):
    version: int | None = None
    surveyed_on: date
    method: Code
    respondent_relation: Code = ""
    overall_score: Score
    attitude_score: Score
    access_score: Score
    skill_score: Score
    fulfilment_score: Score
    would_renew: bool | None = None
    comments: Annotated[str, Field(max_length=2000)] = ""


class ListParams(Schema):
    resident_id: int | None = None
    team_id: int | None = None
    doctor_id: int | None = None
    status: Literal[tuple(ContractStatus.values)] | None = None  # type: ignore[valid-type]
    expiring_within: Annotated[int, Field(ge=0, le=366)] | None = None
    behind: bool = False
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20


class WorklistParams(Schema):
    team_id: int
    kind: Literal["behind", "expiring_30", "expiring_60", "unsigned"]
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20


class WorklistRow(Schema):
    resident_id: int
    resident_name: str
    sex: str
    birth_date: date
    key_populations: list[str]
    contract_id: int | None
    contract_number: str | None
    doctor_name: str | None
    end_date: date | None
    next_due_on: date | None


class WorklistOut(Schema):
    kind: str
    items: list[WorklistRow]
    page: int
    page_size: int
    has_next: bool


class DoctorLoadOut(Schema):
    staff_id: int
    name: str
    team_role: str
    list_size: int
    soft_cap: int


class FunctionalCommunityIn(Schema):
    name: Annotated[str, Field(max_length=200)]
    kind: Code
    area_code: Annotated[str, Field(pattern=r"^\d{12}$")]
    institution_id: int | None = None
    address: Annotated[str, Field(max_length=300)] = ""


class FunctionalCommunityOut(Schema):
    id: int
    name: str
    kind: str
    area_code: str
    institution_id: int
    address: str
    active: bool


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------




def _package_out(p: ServicePackage) -> dict:
    return {
        "id": p.pk,
        "version": p.version,
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "description": p.description,
        "institution_id": p.institution_id,
        "institution_name": p.institution.name if p.institution_id else None,
        "target_groups": p.target_groups,
        "price": p.price,
        "insurance_share": p.insurance_share,
        "public_health_share": p.public_health_share,
        "resident_share": p.resident_share,
        "period_months": p.period_months,
        "active": p.active,
        "demo_default": p.demo_default,
        "items": [
            {
                "service_code": i.service_code,
                "name": catalogue.name_of(i.service_code),
                "quantity": i.quantity,
                "optional": i.optional,
                "note": i.note,
            }
            for i in p.items.all()
        ],
    }


def _survey_out(s: SatisfactionSurvey | None) -> dict | None:
    if s is None:
        return None
    return {
        "id": s.pk,
        "version": s.version,
        "surveyed_on": s.surveyed_on,
        "method": s.method,
        "respondent_relation": s.respondent_relation,
        "overall_score": s.overall_score,
        "attitude_score": s.attitude_score,
        "access_score": s.access_score,
        "skill_score": s.skill_score,
        "fulfilment_score": s.fulfilment_score,
        "would_renew": s.would_renew,
        "comments": s.comments,
    }


def _list_item(c: Contract) -> dict:
    effective = getattr(c, "effective_status", None) or c.status_on(timezone.localdate())
    return {
        "id": c.pk,
        "number": c.number,
        "resident_id": c.resident_id,
        "resident_name": c.resident.name,
        "team_id": c.team_id,
        "team_name": c.team.name,
        "doctor_id": c.doctor_id,
        "doctor_name": c.doctor.name,
        "status": c.status,
        "effective_status": effective,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "renewal_of_id": c.renewal_of_id,
    }


def _contract_out(c: Contract, *, warnings: list[str] | None = None) -> dict:
    survey = SatisfactionSurvey.objects.filter(contract=c).first()
    return {
        **_list_item(c),
        "version": c.version,
        "institution_id": c.institution_id,
        "household_signing_id": c.household_signing_id,
        "signed_at": c.signed_at,
        "signed_by_id": c.signed_by_id,
        "consent_method": c.consent_method,
        "consent_signatory": c.consent_signatory,
        "consent_relation": c.consent_relation,
        "consent_document": c.consent_document,
        "place_type": c.place_type,
        "functional_community_id": c.functional_community_id,
        "place_institution_id": c.place_institution_id,
        "place_note": c.place_note,
        "fees": {
            "total": c.fee_total,
            "insurance": c.fee_insurance,
            "public_health": c.fee_public_health,
            "resident": c.fee_resident,
            "waived": c.fee_waived,
            "waiver_reason": c.waiver_reason,
            "waiver_note": c.waiver_note,
        },
        "terminated_on": c.terminated_on,
        "termination_reason": c.termination_reason,
        "termination_note": c.termination_note,
        "packages": [
            {
                "package_id": cp.package_id,
                "code": cp.package.code,
                "name": cp.package.name,
                "kind": cp.package.kind,
                "price": cp.price,
                "insurance_share": cp.insurance_share,
                "public_health_share": cp.public_health_share,
                "resident_share": cp.resident_share,
            }
            for cp in c.contract_packages.select_related("package").order_by("package__kind", "pk")
        ],
        "items": [p.__dict__ for p in selectors.contract_progress(c)],
        "satisfaction": _survey_out(survey),
        "warnings": warnings if warnings is not None else getattr(c, "warnings", []),
    }


def _delivery_out(d: ServiceDelivery) -> dict:
    return {
        "id": d.pk,
        "contract_id": d.contract_id,
        "item_id": d.item_id,
        "service_code": d.service_code,
        "name": catalogue.name_of(d.service_code),
        "delivered_on": d.delivered_on,
        "source": d.source,
        "source_id": d.source_id,
        "recorded_by_id": d.recorded_by_id,
        "note": d.note,
        "revoked_at": d.revoked_at,
        "revoked_reason": d.revoked_reason,
    }


def _resident(request, pk: int) -> Resident:
    from jiayi.residents.selectors import resident_get

    return resident_get(request.user, pk, audit_read=False)


def _team(request, team_id: int | None) -> Team:
    if team_id is None:
        team = selectors.default_team_for(request.user)
        if team is None:
            raise DomainValidationError({"team_id": "请选择签约团队。"})
        return team
    team = selectors.teams_for_user(request.user).filter(pk=team_id).first()
    if team is None:
        raise DomainValidationError({"team_id": "团队不存在或不可见。"})
    return team


def _doctor(request, team: Team, doctor_id: int | None) -> Staff:
    if doctor_id is None:
        staff = getattr(request.user, "staff", None)
        if staff is not None and staff.role == Role.FAMILY_DOCTOR and staff.pk in selectors.team_member_ids(team):
            return staff
        leader = team.leader
        if leader is None:
            raise DomainValidationError({"doctor_id": "请选择签约医生。"})
        return leader
    doctor = Staff.objects.filter(pk=doctor_id, team_memberships__team=team).first()
    if doctor is None:
        raise DomainValidationError({"doctor_id": "该医生不是所选团队的成员。"})
    return doctor


def _packages(request, ids: list[int], field: str = "package_ids") -> list[ServicePackage]:
    found = {p.pk: p for p in ServicePackage.objects.visible_to(request.user).filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise DomainValidationError({field: f"服务包不存在或不可见：{', '.join(map(str, missing))}。"})
    return [found[i] for i in ids]


def _place(request, data: dict) -> dict:
    out: dict = {}
    fc_id = data.pop("functional_community_id", None)
    if fc_id is not None:
        fc = FunctionalCommunity.objects.visible_to(request.user).filter(pk=fc_id).first()
        if fc is None:
            raise DomainValidationError({"functional_community_id": "功能社区不存在或不可见。"})
        out["functional_community"] = fc
    pi_id = data.pop("place_institution_id", None)
    if pi_id is not None:
        pi = Institution.objects.filter(pk=pi_id).first()
        if pi is None:
            raise DomainValidationError({"place_institution_id": "机构不存在。"})
        out["place_institution"] = pi
    return out


def _contract(request, contract_id: int) -> Contract:
    return selectors.contract_get(request.user, contract_id, audit_read=False)


# ---------------------------------------------------------------------------------------------
# Catalogue and packages
# ---------------------------------------------------------------------------------------------


@router.get("/contracts/catalogue", response=list[ServiceItemOut])
def catalogue_list(request):
    """The service-item vocabulary (codes shared with the programmes)."""
    return [
        {"code": i.code, "name": i.name, "category": i.category, "description": i.description}
        for i in catalogue.SERVICE_ITEMS.values()
    ]


@router.get("/packages", response=list[PackageOut])
def package_list(request, active: bool | None = None):
    rows = selectors.package_list(request.user)
    if active is not None:
        rows = [p for p in rows if p.active == active]
    return [_package_out(p) for p in rows]


@router.get("/packages/{package_id}", response=PackageOut)
def package_read(request, package_id: int):
    return _package_out(selectors.package_get(request.user, package_id))


def _require_package_admin(request) -> None:
    role = user_role(request.user)
    if not (request.user.is_superuser or role in (Role.CENTRE_MANAGER, Role.DISTRICT_ADMIN)):
        raise HttpError(403, "只有中心管理员或区级管理员可以制定服务包")


@router.post("/packages", response={201: PackageOut})
def package_create(request, payload: PackageIn):
    _require_package_admin(request)
    data = payload.dict()
    inst_id = data.pop("institution_id")
    visible = institution_ids_visible_to(request.user) or []
    if inst_id is None:
        # A centre manager composes for the centre; the district admin composes district-wide packages.
        institution = request.user.staff.institution if user_role(request.user) == Role.CENTRE_MANAGER else None
    else:
        if inst_id not in visible:
            raise DomainValidationError({"institution_id": "无权为该机构制定服务包。"})
        institution = Institution.objects.get(pk=inst_id)
    data["items"] = [dict(i) for i in data["items"]]
    p = services.package_create(actor=request.user, institution=institution, **data)
    return Status(201, _package_out(p))


@router.patch("/packages/{package_id}", response=PackageOut)
def package_update(request, package_id: int, payload: PackagePatch):
    p = selectors.package_get(request.user, package_id)
    if not selectors.package_editable_by(request.user, p):
        raise HttpError(403, "只有本中心管理员可修改本中心的服务包，区级服务包只能由区级管理员修改")
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    changes = {k: v for k, v in changes.items() if v is not None}
    if "items" in changes:
        changes["items"] = [dict(i) for i in changes["items"]]
    return _package_out(services.package_update(actor=request.user, package=p, version=version, **changes))


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------


@router.get("/contracts", response=ContractPage)
def contract_list(request, params: Query[ListParams]):
    filters: dict = {}
    if params.resident_id is not None:
        filters["resident"] = _resident(request, params.resident_id)
    if params.team_id is not None:
        filters["team"] = get_visible_or_404(selectors.teams_for_user(request.user), pk=params.team_id)
    if params.doctor_id is not None:
        filters["doctor"] = get_visible_or_404(Staff.objects.visible_to(request.user), pk=params.doctor_id)
    page = selectors.contract_page(
        request.user,
        page=params.page,
        page_size=params.page_size,
        status=params.status,
        expiring_within=params.expiring_within,
        behind=params.behind,
        **filters,
    )
    return {
        "items": [_list_item(c) for c in page.items],
        "page": page.page,
        "page_size": page.page_size,
        "has_next": page.has_next,
    }


@router.post("/contracts", response={201: ContractOut})
def contract_sign(request, payload: ContractIn):
    require_writer(request)
    data = payload.dict()
    resident = _resident(request, data.pop("resident_id"))
    team = _team(request, data.pop("team_id"))
    doctor = _doctor(request, team, data.pop("doctor_id"))
    packages = _packages(request, data.pop("package_ids"))
    place = _place(request, data)
    c = services.contract_sign(
        actor=request.user, resident=resident, team=team, doctor=doctor, packages=packages, **place, **data
    )
    return Status(201, _contract_out(selectors.contract_get(request.user, c.pk, audit_read=False), warnings=c.warnings))


@router.post("/contracts/households", response={201: HouseholdSigningOut})
def contract_sign_household(request, payload: HouseholdContractIn):
    require_writer(request)
    from jiayi.residents.selectors import household_get, household_members

    data = payload.dict()
    household = household_get(request.user, data.pop("household_id"))
    visible = household_members(request.user, household, audit_read=False)  # only checked; signing is audited
    member_ids = data.pop("member_ids")
    if member_ids is None:
        members = visible
    else:
        by_id = {m.pk: m for m in visible}
        unknown = [i for i in member_ids if i not in by_id]
        if unknown:
            raise DomainValidationError({"member_ids": f"不是该家庭的成员：{', '.join(map(str, unknown))}。"})
        members = [by_id[i] for i in member_ids]
    team = _team(request, data.pop("team_id"))
    doctor = _doctor(request, team, data.pop("doctor_id"))
    packages = _packages(request, data.pop("package_ids"))
    place = _place(request, data)
    signing = services.contract_sign_household(
        actor=request.user,
        household=household,
        members=members,
        team=team,
        doctor=doctor,
        packages=packages,
        **place,
        **data,
    )
    contracts = [
        _contract_out(selectors.contract_get(request.user, c.pk, audit_read=False), warnings=c.warnings)
        for c in signing.signed_contracts
    ]
    return Status(201, {"id": signing.pk, "household_id": household.pk, "contracts": contracts})


@router.get("/contracts/worklist", response=WorklistOut)
def contract_worklist(request, params: Query[WorklistParams]):
    """A team's work list: behind schedule, expiring in 30/60 days, key populations without a contract."""
    require_staff_scope(request)
    team = get_visible_or_404(selectors.teams_for_user(request.user), pk=params.team_id)
    rows: list[dict] = []
    if params.kind == "unsigned":
        page = selectors.key_population_unsigned(request.user, team, page=params.page, page_size=params.page_size)
        for r in page.items:
            rows.append(
                {
                    "resident_id": r.pk,
                    "resident_name": r.name,
                    "sex": r.sex,
                    "birth_date": r.birth_date,
                    "key_populations": selectors.resident_key_groups(r),
                    "contract_id": None,
                    "contract_number": None,
                    "doctor_name": None,
                    "end_date": None,
                    "next_due_on": None,
                }
            )
    else:
        if params.kind == "behind":
            page = selectors.worklist_behind(request.user, team, page=params.page, page_size=params.page_size)
        else:
            days = 30 if params.kind == "expiring_30" else 60
            page = selectors.worklist_expiring(
                request.user, team, within_days=days, page=params.page, page_size=params.page_size
            )
        for c in page.items:
            rows.append(
                {
                    "resident_id": c.resident_id,
                    "resident_name": c.resident.name,
                    "sex": c.resident.sex,
                    "birth_date": c.resident.birth_date,
                    "key_populations": [],
                    "contract_id": c.pk,
                    "contract_number": c.number,
                    "doctor_name": c.doctor.name,
                    "end_date": c.end_date,
                    "next_due_on": getattr(c, "oldest_due", None),
                }
            )
    return {
        "kind": params.kind,
        "items": rows,
        "page": page.page,
        "page_size": page.page_size,
        "has_next": page.has_next,
    }


@router.get("/contracts/teams/{team_id}/doctors", response=list[DoctorLoadOut])
def team_doctor_loads(request, team_id: int):
    """Each team member's list size (contracts in force) and the configured soft cap."""
    require_staff_scope(request)
    from django.conf import settings

    team = get_visible_or_404(selectors.teams_for_user(request.user), pk=team_id)
    cap = settings.JIAYI["DOCTOR_LIST_SOFT_CAP"]
    return [
        {
            "staff_id": d.staff.pk,
            "name": d.staff.name,
            "team_role": d.role_label,
            "list_size": d.list_size,
            "soft_cap": cap,
        }
        for d in selectors.team_doctors(team)
    ]


@router.get("/contracts/functional-communities", response=list[FunctionalCommunityOut])
def functional_community_list(request):
    require_staff_scope(request)
    return [
        {
            "id": f.pk,
            "name": f.name,
            "kind": f.kind,
            "area_code": f.area.code,
            "institution_id": f.institution_id,
            "address": f.address,
            "active": f.active,
        }
        for f in FunctionalCommunity.objects.visible_to(request.user).select_related("area").order_by("name")
    ]


@router.post("/contracts/functional-communities", response={201: FunctionalCommunityOut})
def functional_community_create(request, payload: FunctionalCommunityIn):
    require_writer(request)
    area = Area.objects.filter(code=payload.area_code).first()
    if area is None:
        raise DomainValidationError({"area_code": "未知的区划代码。"})
    visible = institution_ids_visible_to(request.user) or []
    staff = getattr(request.user, "staff", None)
    if payload.institution_id is None:
        if staff is None:  # an administrator without a staff row names the institution
            raise DomainValidationError({"institution_id": "请选择服务机构。"})
        institution = staff.institution
    elif payload.institution_id in visible:
        institution = Institution.objects.get(pk=payload.institution_id)
    else:
        raise DomainValidationError({"institution_id": "无权为该机构登记功能社区。"})
    f = services.functional_community_create(
        actor=request.user,
        name=payload.name,
        kind=payload.kind,
        area=area,
        institution=institution,
        address=payload.address,
    )
    return Status(
        201,
        {
            "id": f.pk,
            "name": f.name,
            "kind": f.kind,
            "area_code": area.code,
            "institution_id": institution.pk,
            "address": f.address,
            "active": f.active,
        },
    )


@router.get("/contracts/{contract_id}", response=ContractOut)
def contract_read(request, contract_id: int):
    return _contract_out(selectors.contract_get(request.user, contract_id))


@router.post("/contracts/{contract_id}/renew", response={201: ContractOut})
def contract_renew(request, contract_id: int, payload: RenewIn):
    require_writer(request)
    old = _contract(request, contract_id)
    data = payload.dict()
    team_id, doctor_id = data.pop("team_id"), data.pop("doctor_id")
    team = _team(request, team_id) if team_id is not None else None
    doctor = _doctor(request, team or old.team, doctor_id) if doctor_id is not None else None
    ids = data.pop("package_ids")
    packages = _packages(request, ids) if ids is not None else None
    place = _place(request, data)
    new = services.contract_renew(
        actor=request.user, contract=old, team=team, doctor=doctor, packages=packages, **place, **data
    )
    return Status(
        201, _contract_out(selectors.contract_get(request.user, new.pk, audit_read=False), warnings=new.warnings)
    )


@router.post("/contracts/{contract_id}/terminate", response=ContractOut)
def contract_terminate(request, contract_id: int, payload: TerminateIn):
    require_writer(request)
    c = _contract(request, contract_id)
    services.contract_terminate(actor=request.user, contract=c, **payload.dict())
    return _contract_out(selectors.contract_get(request.user, contract_id, audit_read=False))


@router.get("/contracts/{contract_id}/deliveries", response=list[DeliveryOut])
def delivery_list(request, contract_id: int):
    c = selectors.contract_get(request.user, contract_id)
    return [_delivery_out(d) for d in selectors.contract_deliveries(c)]


@router.post("/contracts/{contract_id}/deliveries", response={201: DeliveryOut})
def delivery_record(request, contract_id: int, payload: DeliveryIn):
    """Record by hand an item delivered under the contract."""
    require_writer(request)
    c = _contract(request, contract_id)
    return Status(
        201, _delivery_out(services.service_delivery_record(actor=request.user, contract=c, **payload.dict()))
    )


@router.post("/contracts/{contract_id}/deliveries/{delivery_id}/revoke", response=DeliveryOut)
def delivery_revoke(request, contract_id: int, delivery_id: int, payload: RevokeIn):
    require_writer(request)
    c = _contract(request, contract_id)
    d = c.deliveries.filter(pk=delivery_id).first()
    if d is None:
        raise Http404
    return _delivery_out(services.service_delivery_revoke(actor=request.user, delivery=d, reason=payload.reason))


@router.put("/contracts/{contract_id}/satisfaction", response=SurveyOut)
def satisfaction_put(request, contract_id: int, payload: SurveyIn):
    """Enter (or, with the ``version`` read, correct) the contract's satisfaction survey."""
    require_writer(request)
    c = _contract(request, contract_id)
    return _survey_out(services.satisfaction_record(actor=request.user, contract=c, **payload.dict()))

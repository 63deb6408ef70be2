"""Every write to packages, contracts, deliveries and surveys (keyword-only, atomic).

Field names in error messages are the API's payload names (``resident_id``, ``team_id``,
``package_ids``, ``start_date`` …) so that pages and the API point at the same field.

The fulfilment hook for the rest of the platform is :func:`service_delivered`: a programme that records
a service (a follow-up visit, an annual check, a home visit) calls it with a code from
``contracts.catalogue``, and the service counts toward the resident's contract in force that day.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jiayi.contracts import catalogue, rules
from jiayi.contracts.defaults import DEFAULT_PACKAGES
from jiayi.contracts.models import (
    CommunityKind,
    ConsentMethod,
    Contract,
    ContractItem,
    ContractPackage,
    ContractStatus,
    FunctionalCommunity,
    HouseholdSigning,
    PackageItem,
    PackageKind,
    SatisfactionSurvey,
    ServiceDelivery,
    ServicePackage,
    SigningPlace,
    SurveyMethod,
    TerminationReason,
    WaiverReason,
)
from jiayi.core import scoping
from jiayi.core.audit import audit
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.models import AccessAction
from jiayi.org.models import Area, Institution, InstitutionType, Staff, Team, TeamMember
from jiayi.residents.models import Household, Relationship, ResidenceStatus, Resident
from jiayi.residents.rules import KEY_POPULATIONS

MANUAL_SOURCE = "contracts.manual"

#: Longest contract period, by months or by end date (the page and the API allow 1-60 months).
MAX_PERIOD_MONTHS = 60


def _staff(actor) -> Staff | None:
    return getattr(actor, "staff", None) if actor is not None else None


def _today() -> date:
    return timezone.localdate()


def _group_names(codes: Collection[str]) -> str:
    return "、".join(_(KEY_POPULATIONS[c][0]) if c in KEY_POPULATIONS else c for c in sorted(codes))


def resident_groups(resident: Resident, on: date | None = None) -> set[str]:
    """The resident's key populations on ``on``: the stored tags, with the age-based groups (elderly,
    child) recomputed from the birth date so that a stale tag never decides eligibility."""
    from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE

    on = on or _today()
    groups = set(resident.key_population_tags.values_list("code", flat=True)) - {"elderly", "child"}
    if resident.birth_date <= on:
        age = resident.age_on(on)
        if age >= ELDERLY_MIN_AGE:
            groups.add("elderly")
        if age <= CHILD_MAX_AGE:
            groups.add("child")
    for flag in ("disabled", "poverty_lifted", "special_fp_family"):
        if getattr(resident, flag):
            groups.add(flag)
    if resident.pregnant:
        groups.add("maternal")
    return groups


def doctor_list_size(doctor: Staff, on: date | None = None) -> int:
    """Residents with a contract in force with ``doctor`` on ``on`` (the doctor's list size)."""
    return Contract.objects.active_on(on or _today()).filter(doctor=doctor).count()


# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------


def _money(value: Any, field_name: str, errors: dict[str, str]) -> Decimal:
    try:
        d = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        errors[field_name] = _("请填写金额。")
        return Decimal(0)
    if d < 0 or d > Decimal("99999"):
        errors[field_name] = _("金额须在0～99999元之间。")
    return d


def _validate_package(
    *,
    name: str,
    kind: str,
    target_groups: Sequence[str],
    price: Any,
    insurance_share: Any,
    public_health_share: Any,
    resident_share: Any,
    period_months: int,
    items: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, Decimal], list[dict[str, Any]]]:
    errors: dict[str, str] = {}
    if not (name or "").strip():
        errors["name"] = _("请填写服务包名称。")
    if kind not in PackageKind.values:
        errors["kind"] = _("请选择服务包类型。")
    unknown = [g for g in target_groups if g not in KEY_POPULATIONS]
    if unknown:
        errors["target_groups"] = _("未知的适用人群：%(codes)s。") % {"codes": "、".join(unknown)}
    money = {
        "price": _money(price, "price", errors),
        "insurance_share": _money(insurance_share, "insurance_share", errors),
        "public_health_share": _money(public_health_share, "public_health_share", errors),
        "resident_share": _money(resident_share, "resident_share", errors),
    }
    if (
        not errors
        and money["price"] != money["insurance_share"] + money["public_health_share"] + money["resident_share"]
    ):
        errors["price"] = _("签约服务费须等于医保基金、公共卫生经费与个人支付之和。")
    if not 1 <= int(period_months) <= 36:
        errors["period_months"] = _("服务周期须在1～36个月之间。")
    clean_items: list[dict[str, Any]] = []
    seen: set[str] = set()
    if not items:
        errors["items"] = _("服务包至少包含一个服务项目。")
    for i, raw in enumerate(items):
        code = raw.get("service_code", "")
        qty = raw.get("quantity")
        if not catalogue.is_known(code):
            errors[f"items.{i}.service_code"] = _("未知的服务项目。")
            continue
        if code in seen:
            errors[f"items.{i}.service_code"] = _("服务项目重复：%(name)s。") % {"name": _(catalogue.name_of(code))}
            continue
        seen.add(code)
        if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= 366:
            errors[f"items.{i}.quantity"] = _("次数须在1～366之间。")
            continue
        clean_items.append(
            {
                "service_code": code,
                "quantity": qty,
                "optional": bool(raw.get("optional", False)),
                "note": str(raw.get("note", ""))[:200],
            }
        )
    if errors:
        raise DomainValidationError(errors)
    return money, clean_items


@transaction.atomic
def package_create(
    *,
    actor,
    institution: Institution | None,
    code: str,
    name: str,
    kind: str,
    items: Sequence[Mapping[str, Any]],
    price: Any,
    insurance_share: Any,
    public_health_share: Any,
    resident_share: Any,
    target_groups: Sequence[str] = (),
    description: str = "",
    period_months: int = 12,
    demo_default: bool = False,
) -> ServicePackage:
    """A centre composes a package from catalogue items (district-wide when ``institution`` is None)."""
    money, clean_items = _validate_package(
        name=name,
        kind=kind,
        target_groups=target_groups,
        price=price,
        insurance_share=insurance_share,
        public_health_share=public_health_share,
        resident_share=resident_share,
        period_months=period_months,
        items=items,
    )
    code = (code or "").strip()
    if not code:
        raise DomainValidationError({"code": _("请填写服务包编码。")})
    if ServicePackage.objects.filter(institution=institution, code=code).exists():
        raise DomainValidationError({"code": _("本机构已有该编码的服务包。")}, code="duplicate")
    try:
        with transaction.atomic():
            package = ServicePackage.objects.create(
                institution=institution,
                code=code,
                name=name.strip(),
                kind=kind,
                description=description,
                target_groups=sorted(set(target_groups)),
                period_months=period_months,
                demo_default=demo_default,
                **money,
            )
    except IntegrityError as exc:
        raise DomainValidationError({"code": _("本机构已有该编码的服务包。")}, code="duplicate") from exc
    PackageItem.objects.bulk_create([PackageItem(package=package, **it) for it in clean_items])
    if actor is not None:
        audit(actor, AccessAction.CREATE, package)
    return package


@transaction.atomic
def package_update(*, actor, package: ServicePackage, version: int, **changes: Any) -> ServicePackage:
    """Change a package; contracts already signed keep the items and fees they were signed with."""
    allowed = {
        "name",
        "kind",
        "description",
        "target_groups",
        "price",
        "insurance_share",
        "public_health_share",
        "resident_share",
        "period_months",
        "active",
        "items",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise DomainValidationError({k: _("该字段不可修改。") for k in sorted(unknown)})
    merged: dict[str, Any] = {
        "name": package.name,
        "kind": package.kind,
        "target_groups": package.target_groups,
        "price": package.price,
        "insurance_share": package.insurance_share,
        "public_health_share": package.public_health_share,
        "resident_share": package.resident_share,
        "period_months": package.period_months,
        "items": [
            {"service_code": i.service_code, "quantity": i.quantity, "optional": i.optional, "note": i.note}
            for i in package.items.all()
        ],
    }
    merged.update({k: v for k, v in changes.items() if k in merged})
    money, clean_items = _validate_package(**merged)
    fields: dict[str, Any] = {
        "name": merged["name"].strip(),
        "kind": merged["kind"],
        "target_groups": sorted(set(merged["target_groups"])),
        "period_months": merged["period_months"],
        **money,
    }
    if "description" in changes:
        fields["description"] = changes["description"]
    if "active" in changes:
        fields["active"] = bool(changes["active"])
    updated = ServicePackage.objects.filter(pk=package.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), demo_default=False, **fields
    )
    if updated != 1:
        raise ConcurrentEditError(_("该服务包已被他人修改，请刷新后重试。"))
    if "items" in changes:
        package.items.all().delete()
        PackageItem.objects.bulk_create([PackageItem(package=package, **it) for it in clean_items])
    package.refresh_from_db()
    audit(actor, AccessAction.UPDATE, package, detail={"fields": sorted(changes)})
    return package


@transaction.atomic
def packages_install_defaults(institution: Institution | None = None) -> list[ServicePackage]:
    """Install the default packages (contracts.defaults: demo values) for ``institution`` or district-wide.

    Idempotent: a package whose code already exists there is left as it is.
    """
    out: list[ServicePackage] = []
    for spec in DEFAULT_PACKAGES:
        existing = ServicePackage.objects.filter(institution=institution, code=spec.code).first()
        if existing is not None:
            out.append(existing)
            continue
        out.append(
            package_create(
                actor=None,
                institution=institution,
                code=spec.code,
                # Names are message ids: stored in the language active at installation.
                name=str(spec.name),
                kind=spec.kind,
                description=str(spec.description),
                target_groups=spec.target_groups,
                price=spec.price,
                insurance_share=spec.insurance_share,
                public_health_share=spec.public_health_share,
                resident_share=spec.resident_share,
                demo_default=True,
                items=[{"service_code": c, "quantity": q, "optional": o} for c, q, o in spec.items],
            )
        )
    return out


@transaction.atomic
def functional_community_create(
    *, actor, name: str, kind: str, area: Area, institution: Institution, address: str = ""
) -> FunctionalCommunity:
    """Register a functional community (功能社区) served by ``institution`` (a centre or station).

    Elderly-care institutions are not functional communities: they are ``org.Institution`` rows of type
    elderly care / day care and are chosen as such when signing."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    address = (address or "").strip()
    if not name:
        errors["name"] = _("请填写功能社区名称。")
    elif len(name) > 200:
        errors["name"] = _("名称不能超过200个字。")
    elif FunctionalCommunity.objects.filter(institution=institution, name=name).exists():
        errors["name"] = _("本机构已登记同名的功能社区。")
    if kind not in CommunityKind.values:
        errors["kind"] = _("请选择功能社区类型。")
    if len(address) > 300:
        errors["address"] = _("地址不能超过300个字。")
    if not institution.is_primary_care:
        errors["institution_id"] = _("功能社区须由社区卫生服务中心（站）、乡镇卫生院或村卫生室提供服务。")
    if errors:
        raise DomainValidationError(errors)
    fc = FunctionalCommunity.objects.create(name=name, kind=kind, area=area, institution=institution, address=address)
    if actor is not None:
        audit(actor, AccessAction.CREATE, fc)
    return fc


# ---------------------------------------------------------------------------------------------
# Contract status (the expiry job, also applied to one resident before each signing)
# ---------------------------------------------------------------------------------------------


def contracts_refresh_status(*, today: date | None = None, resident_id: int | None = None) -> dict[str, int]:
    """Store what the dates say: contracts past their end become ``expired`` (``renewed`` when a
    renewal exists), pending ones whose start has come become ``active``. Set-based (a few UPDATEs).

    Run daily (``manage.py contracts_expire`` or the ``contracts_expire_task`` task); every reader that
    matters computes the same from the dates, so a missed run changes no number.
    """
    today = today or _today()
    with transaction.atomic():
        base = Contract.objects.all()
        if resident_id is not None:
            base = base.filter(resident_id=resident_id)
        renewal = Contract.objects.filter(renewal_of=OuterRef("pk")).exclude(
            status=ContractStatus.TERMINATED, terminated_on__lte=F("start_date")
        )
        bump = {"version": F("version") + 1, "updated_at": timezone.now()}
        ended = base.filter(status__in=(ContractStatus.ACTIVE, ContractStatus.PENDING), end_date__lt=today)
        renewed = ended.filter(Exists(renewal)).update(status=ContractStatus.RENEWED, **bump)
        expired = ended.update(status=ContractStatus.EXPIRED, **bump)
        renewed += (
            base.filter(status=ContractStatus.EXPIRED)
            .filter(Exists(renewal))
            .update(status=ContractStatus.RENEWED, **bump)
        )
        started = base.filter(status=ContractStatus.PENDING, start_date__lte=today, end_date__gte=today).update(
            status=ContractStatus.ACTIVE, **bump
        )
    return {"renewed": renewed, "expired": expired, "activated": started}


def _initial_status(start: date, end: date, today: date) -> str:
    if start > today:
        return ContractStatus.PENDING
    if end < today:
        return ContractStatus.EXPIRED
    return ContractStatus.ACTIVE


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


@dataclass
class SigningTerms:
    """What is agreed besides resident and packages; shared by single, household and renewal signing."""

    team: Team
    doctor: Staff
    consent_method: str
    consent_signatory: str = ""
    consent_relation: str = ""
    consent_document: str = ""
    place_type: str = SigningPlace.INSTITUTION
    functional_community: FunctionalCommunity | None = None
    place_institution: Institution | None = None
    place_note: str = ""
    waiver_reason: str = ""
    waiver_note: str = ""
    warnings: list[str] = field(default_factory=list)


def _check_terms(actor, terms: SigningTerms, errors: dict[str, str]) -> None:
    team, doctor = terms.team, terms.doctor
    visible = scoping.institution_ids_visible_to(actor) if actor is not None else None
    if actor is not None and (visible is None or team.institution_id not in visible):
        errors["team_id"] = _("无权为该团队签约。")
    elif not team.active:
        errors["team_id"] = _("该团队已停用。")
    if not doctor.active:
        errors["doctor_id"] = _("该医生已离岗。")
    elif not TeamMember.objects.filter(team=team, staff=doctor).exists():
        errors["doctor_id"] = _("该医生不是所选团队的成员。")
    if terms.consent_method not in ConsentMethod.values:
        errors["consent_method"] = _("请选择居民确认方式（签名、电子签名、指纹或代签）。")
    elif terms.consent_method == ConsentMethod.PROXY:
        if not terms.consent_signatory.strip():
            errors["consent_signatory"] = _("代签时须填写签字人姓名。")
        if not terms.consent_relation:
            errors["consent_relation"] = _("代签时须填写签字人与居民关系。")
    if terms.consent_relation and terms.consent_relation not in Relationship.values:
        errors["consent_relation"] = _("未知的关系。")
    if terms.place_type not in SigningPlace.values:
        errors["place_type"] = _("请选择签约地点。")
    elif terms.place_type == SigningPlace.FUNCTIONAL_COMMUNITY:
        fc = terms.functional_community
        if fc is None:
            errors["functional_community_id"] = _("在功能社区签约时须选择功能社区。")
        elif not fc.active or (visible is not None and fc.institution_id not in visible):
            errors["functional_community_id"] = _("该功能社区不存在或不可用。")
    elif terms.place_type == SigningPlace.ELDERLY_CARE:
        pi = terms.place_institution
        if pi is None:
            errors["place_institution_id"] = _("在养老机构签约时须选择养老机构。")
        elif pi.type not in (InstitutionType.ELDERLY_CARE, InstitutionType.DAY_CARE):
            errors["place_institution_id"] = _("所选机构不是养老机构或日间照料中心。")
    if terms.waiver_reason and terms.waiver_reason not in WaiverReason.values:
        errors["waiver_reason"] = _("未知的减免原因。")
    elif terms.waiver_reason == WaiverReason.OTHER and not terms.waiver_note.strip():
        errors["waiver_note"] = _("请说明减免原因。")


def _check_resident(resident: Resident, errors: dict[str, str]) -> None:
    if resident.is_deleted:
        errors["resident_id"] = _("该居民档案已删除，不能签约。")
    elif resident.residence_status == ResidenceStatus.DECEASED or resident.death_date is not None:
        errors["resident_id"] = _("该居民已死亡，不能签约。")
    elif resident.residence_status == ResidenceStatus.MOVED_OUT:
        errors["resident_id"] = _("该居民已迁出，不能签约。")


def _check_packages(
    *,
    resident: Resident,
    packages: Sequence[ServicePackage],
    institution: Institution,
    on: date,
    optional_items: Mapping[int, Collection[str]] | None,
    errors: dict[str, str],
) -> None:
    if not packages:
        errors["package_ids"] = _("请选择服务包。")
        return
    if len({p.pk for p in packages}) != len(packages):
        errors["package_ids"] = _("服务包重复。")
        return
    offered = set(ServicePackage.objects.offered_at(institution).values_list("pk", flat=True))
    not_offered = [p.name for p in packages if p.pk not in offered]
    if not_offered:
        errors["package_ids"] = _("本机构不提供或已停用的服务包：%(names)s。") % {"names": "、".join(not_offered)}
        return
    basics = [p for p in packages if p.kind == PackageKind.BASIC]
    if len(basics) != 1:
        errors["package_ids"] = _("每份签约须包含且只包含一个基础包。")
        return
    groups = resident_groups(resident, on)
    for p in packages:
        if rules.ineligible_reason(p.target_groups, groups) is not None:
            errors["package_ids"] = _("服务包“%(name)s”仅适用于%(groups)s，%(resident)s不属于该人群。") % {
                "name": p.name,
                "groups": _group_names(p.target_groups),
                "resident": resident.name,
            }
            return
    for pkg_id, codes in (optional_items or {}).items():
        pkg = next((p for p in packages if p.pk == pkg_id), None)
        if pkg is None:
            errors["optional_items"] = _("所选可选项目不属于所选服务包。")
            return
        allowed = set(pkg.items.filter(optional=True).values_list("service_code", flat=True))
        extra = set(codes) - allowed
        if extra:
            errors["optional_items"] = _("“%(name)s”中不可选择的项目：%(codes)s。") % {
                "name": pkg.name,
                "codes": "、".join(_(catalogue.name_of(c)) for c in sorted(extra)),
            }
            return


def _overlap_message(other: Contract) -> str:
    return _(
        "%(name)s已有签约（编号%(number)s，%(team)s，%(start)s至%(end)s）；同一时间只能与一个家庭医生团队签约。"
    ) % {
        "name": other.resident.name,
        "number": other.number,
        "team": other.team.name,
        "start": other.start_date.isoformat(),
        "end": other.end_date.isoformat(),
    }


def _sign_one(
    *,
    actor,
    resident: Resident,
    packages: Sequence[ServicePackage],
    terms: SigningTerms,
    start_date: date | None,
    end_date: date | None,
    months: int | None,
    optional_items: Mapping[int, Collection[str]] | None,
    household_signing: HouseholdSigning | None = None,
    renewal_of: Contract | None = None,
    field_prefix: str = "",
) -> Contract:
    """Validate everything, then write. Runs inside the caller's transaction; raises before writing."""
    today = _today()
    ruleset = rules.default_ruleset(today)
    # Serialise signings of the same resident (a row lock on PostgreSQL; SQLite writes are serial).
    Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True).first()
    contracts_refresh_status(today=today, resident_id=resident.pk)
    errors: dict[str, str] = {}
    _check_resident(resident, errors)
    _check_terms(actor, terms, errors)
    start = start_date or today
    basic = next((p for p in packages if p.kind == PackageKind.BASIC), None)
    if months is not None and not 1 <= months <= MAX_PERIOD_MONTHS:
        errors["months"] = _("签约周期须在1～60个月之间。")
    if start > today + timedelta(days=ruleset.value("start_max_days_ahead")):
        ahead = ruleset.value("start_max_days_ahead")
        errors["start_date"] = ngettext("生效日期最多可提前%(days)s天。", "生效日期最多可提前%(days)s天。", ahead) % {
            "days": ahead
        }
    elif start < resident.birth_date:
        errors["start_date"] = _("生效日期不能早于出生日期。")
    # The end is computed only from a start and a period that passed: an out-of-range one overflows.
    end = start
    if end_date is not None:
        end = end_date
        if end < start:
            errors["end_date"] = _("到期日期不能早于生效日期。")
        elif "start_date" not in errors and end > rules.contract_end(start, MAX_PERIOD_MONTHS):
            errors["end_date"] = _("签约周期须在1～60个月之间。")
    elif "months" not in errors and "start_date" not in errors:
        end = rules.contract_end(start, months or (basic.period_months if basic else ruleset.value("period_months")))
    if "team_id" not in errors:
        _check_packages(
            resident=resident,
            packages=packages,
            institution=terms.team.institution,
            on=start,
            optional_items=optional_items,
            errors=errors,
        )
    if "resident_id" not in errors and "end_date" not in errors:
        other = (
            Contract.objects.filter(resident=resident)
            .overlapping(start, end)
            .select_related("resident", "team")
            .first()
        )
        if other is not None:
            errors["resident_id"] = _overlap_message(other)
    if errors:
        raise DomainValidationError(
            {f"{field_prefix}{k}" if k else field_prefix.rstrip("."): v for k, v in errors.items()}
        )

    # Warnings: signing goes ahead, the caller shows them.
    warnings: list[str] = []
    if rules.add_months(start, ruleset.value("min_period_months")) > end + timedelta(days=1):
        warnings.append(
            _("签约周期短于%(m)s个月（签约周期原则上不少于一年）。") % {"m": ruleset.value("min_period_months")}
        )
    cap = settings.JIAYI["DOCTOR_LIST_SOFT_CAP"]
    size = doctor_list_size(terms.doctor, start)
    if cap and size + 1 > cap:
        warnings.append(
            _("%(doctor)s的签约人数将达到%(n)s人，超过本地设定的提示上限%(cap)s人。")
            % {"doctor": terms.doctor.name, "n": size + 1, "cap": cap}
        )

    groups = resident_groups(resident, start)
    waiver_reason, waiver_note = terms.waiver_reason, terms.waiver_note
    if not waiver_reason:
        auto = [g for g in ruleset.value("fee_waiver_groups") if g in groups and g in WaiverReason.values]
        if auto:
            waiver_reason = auto[0]
    fees = rules.split_fees(
        [(p.price, p.insurance_share, p.public_health_share, p.resident_share) for p in packages],
        waive_resident_share=bool(waiver_reason),
    )
    staff = _staff(actor)
    contract = Contract.objects.create(
        number=f"T{uuid.uuid4().hex[:24]}",
        resident=resident,
        team=terms.team,
        doctor=terms.doctor,
        institution=terms.team.institution,
        status=_initial_status(start, end, today),
        start_date=start,
        end_date=end,
        renewal_of=renewal_of,
        household_signing=household_signing,
        signed_at=timezone.now(),
        signed_by=staff,
        consent_method=terms.consent_method,
        consent_signatory=(terms.consent_signatory.strip() or resident.name)[:50],
        consent_relation=terms.consent_relation,
        consent_document=terms.consent_document,
        place_type=terms.place_type,
        functional_community=terms.functional_community
        if terms.place_type == SigningPlace.FUNCTIONAL_COMMUNITY
        else None,
        place_institution=terms.place_institution if terms.place_type == SigningPlace.ELDERLY_CARE else None,
        place_note=terms.place_note,
        fee_total=fees.total,
        fee_insurance=fees.insurance,
        fee_public_health=fees.public_health,
        fee_resident=fees.resident,
        fee_waived=fees.waived,
        waiver_reason=waiver_reason,
        waiver_note=waiver_note,
    )
    contract.number = f"QY{start:%Y}{contract.pk:08d}"
    contract.save(update_fields=["number"])
    ContractPackage.objects.bulk_create(
        [
            ContractPackage(
                contract=contract,
                package=p,
                price=p.price,
                insurance_share=p.insurance_share,
                public_health_share=p.public_health_share,
                resident_share=p.resident_share,
            )
            for p in packages
        ]
    )
    items: list[ContractItem] = []
    for p in packages:
        chosen = None if optional_items is None or p.pk not in optional_items else set(optional_items[p.pk])
        for it in p.items.all():
            if it.optional and chosen is not None and it.service_code not in chosen:
                continue
            items.append(
                ContractItem(
                    contract=contract,
                    package=p,
                    service_code=it.service_code,
                    quantity=it.quantity,
                    next_due_on=rules.next_deadline(start, end, it.quantity, 0),
                )
            )
    ContractItem.objects.bulk_create(items)
    audit(actor, AccessAction.CREATE, contract, detail={"packages": [p.code for p in packages]})
    contract.warnings = [*terms.warnings, *warnings]  # type: ignore[attr-defined]
    return contract


@transaction.atomic
def contract_sign(
    *,
    actor,
    resident: Resident,
    team: Team,
    doctor: Staff,
    packages: Sequence[ServicePackage],
    consent_method: str,
    start_date: date | None = None,
    end_date: date | None = None,
    months: int | None = None,
    optional_items: Mapping[int, Collection[str]] | None = None,
    consent_signatory: str = "",
    consent_relation: str = "",
    consent_document: str = "",
    place_type: str = SigningPlace.INSTITUTION,
    functional_community: FunctionalCommunity | None = None,
    place_institution: Institution | None = None,
    place_note: str = "",
    waiver_reason: str = "",
    waiver_note: str = "",
) -> Contract:
    """Sign one resident with ``team`` and its member ``doctor`` for the given packages.

    Exactly one basic package; personalised packages must fit the resident's key populations.
    ``optional_items`` maps a package id to the optional item codes the resident chose (点单式); a
    package not in the mapping keeps all its items. The period runs from ``start_date`` (today) to
    ``end_date`` or for ``months`` (the basic package's period, 12 by default). The resident share is
    waived for the rule set's waiver groups (脱贫人口) unless ``waiver_reason`` says otherwise.
    Non-blocking warnings (doctor over the list-size cap, short period) are in ``contract.warnings``.
    """
    terms = SigningTerms(
        team=team,
        doctor=doctor,
        consent_method=consent_method,
        consent_signatory=consent_signatory,
        consent_relation=consent_relation,
        consent_document=consent_document,
        place_type=place_type,
        functional_community=functional_community,
        place_institution=place_institution,
        place_note=place_note,
        waiver_reason=waiver_reason,
        waiver_note=waiver_note,
    )
    return _sign_one(
        actor=actor,
        resident=resident,
        packages=packages,
        terms=terms,
        start_date=start_date,
        end_date=end_date,
        months=months,
        optional_items=optional_items,
    )


#: What the household head is to a member, from the member's relation to the head.
_HEAD_RELATION_TO_MEMBER = {
    Relationship.SPOUSE: Relationship.SPOUSE,
    Relationship.CHILD: Relationship.PARENT,
    Relationship.PARENT: Relationship.CHILD,
    Relationship.GRANDCHILD: Relationship.GRANDPARENT,
    Relationship.GRANDPARENT: Relationship.GRANDCHILD,
    Relationship.SIBLING: Relationship.SIBLING,
}


@transaction.atomic
def contract_sign_household(
    *,
    actor,
    household: Household,
    members: Sequence[Resident],
    team: Team,
    doctor: Staff,
    packages: Sequence[ServicePackage],
    consent_method: str,
    start_date: date | None = None,
    months: int | None = None,
    consent_signatory: str = "",
    consent_relation: str = "",
    consent_document: str = "",
    place_type: str = SigningPlace.HOME,
    functional_community: FunctionalCommunity | None = None,
    place_institution: Institution | None = None,
    place_note: str = "",
) -> HouseholdSigning:
    """Sign several members of a household in one act (以家庭为单位签约).

    Every member gets the basic package; each personalised package goes to the members it fits (a
    hypertension package to the hypertensive members), and each must fit at least one member. The
    consent is the household's (one signatory for all, usually the head). All or nothing: any member's
    problem is reported under ``members.<i>.<field>`` and nothing is signed.
    """
    errors: dict[str, str] = {}
    if not members:
        raise DomainValidationError({"member_ids": _("请选择要签约的家庭成员。")})
    if len({m.pk for m in members}) != len(members):
        raise DomainValidationError({"member_ids": _("家庭成员重复。")})
    outsiders = [m.name for m in members if m.household_id != household.pk]
    if outsiders:
        raise DomainValidationError(
            {"member_ids": _("不是该家庭的成员：%(names)s。") % {"names": "、".join(outsiders)}}
        )
    basics = [p for p in packages if p.kind == PackageKind.BASIC]
    if len(basics) != 1:
        raise DomainValidationError({"package_ids": _("每份签约须包含且只包含一个基础包。")})
    on = start_date or _today()
    per_member: list[list[ServicePackage]] = []
    used: set[int] = set()
    for m in members:
        groups = resident_groups(m, on)
        chosen = [p for p in packages if rules.ineligible_reason(p.target_groups, groups) is None]
        used.update(p.pk for p in chosen)
        per_member.append(chosen)
    unused = [p.name for p in packages if p.pk not in used]
    if unused:
        errors["package_ids"] = _("所选家庭成员中没有适用该服务包的人：%(names)s。") % {"names": "、".join(unused)}
        raise DomainValidationError(errors)
    term_errors: dict[str, str] = {}
    _check_terms(
        actor,
        SigningTerms(
            team=team,
            doctor=doctor,
            consent_method=consent_method,
            consent_signatory=consent_signatory or "-",
            consent_relation=consent_relation,
            place_type=place_type,
            functional_community=functional_community,
            place_institution=place_institution,
        ),
        term_errors,
    )
    if term_errors:
        raise DomainValidationError(term_errors)
    signing = HouseholdSigning.objects.create(
        household=household, team=team, doctor=doctor, signed_at=timezone.now(), signed_by=_staff(actor)
    )
    signatory = consent_signatory.strip()
    head = household.head
    if not signatory and head is not None:
        signatory = head.name
    terms = SigningTerms(
        team=team,
        doctor=doctor,
        consent_method=consent_method,
        consent_signatory=signatory,
        consent_relation=consent_relation,
        consent_document=consent_document,
        place_type=place_type,
        functional_community=functional_community,
        place_institution=place_institution,
        place_note=place_note,
    )
    collected: dict[str, list[str]] = {}
    contracts: list[Contract] = []
    for i, (member, member_packages) in enumerate(zip(members, per_member, strict=True)):
        member_terms = SigningTerms(**{**terms.__dict__, "warnings": []})
        if consent_method != ConsentMethod.PROXY and signatory and signatory != member.name:
            # Someone else (usually the head) signs for this member: a proxy signature by the household.
            member_terms.consent_method = ConsentMethod.PROXY
            if head is not None and signatory == head.name:
                member_terms.consent_relation = _HEAD_RELATION_TO_MEMBER.get(
                    member.relation_to_head, Relationship.OTHER
                )
            else:
                member_terms.consent_relation = consent_relation or Relationship.OTHER
        try:
            with transaction.atomic():
                contracts.append(
                    _sign_one(
                        actor=actor,
                        resident=member,
                        packages=member_packages,
                        terms=member_terms,
                        start_date=start_date,
                        end_date=None,
                        months=months,
                        optional_items=None,
                        household_signing=signing,
                        field_prefix=f"members.{i}.",
                    )
                )
        except DomainValidationError as exc:
            for k, v in exc.errors.items():
                collected.setdefault(k, []).extend(v)
    if collected:
        raise DomainValidationError(collected)
    signing.signed_contracts = contracts  # type: ignore[attr-defined]
    return signing


@transaction.atomic
def contract_renew(
    *,
    actor,
    contract: Contract,
    team: Team | None = None,
    doctor: Staff | None = None,
    packages: Sequence[ServicePackage] | None = None,
    months: int | None = None,
    consent_method: str,
    consent_signatory: str = "",
    consent_relation: str = "",
    consent_document: str = "",
    place_type: str = SigningPlace.INSTITUTION,
    functional_community: FunctionalCommunity | None = None,
    place_institution: Institution | None = None,
    place_note: str = "",
    waiver_reason: str = "",
    waiver_note: str = "",
    optional_items: Mapping[int, Collection[str]] | None = None,
) -> Contract:
    """Renew (续约) a contract: a new contract linked by ``renewal_of``, starting the day after the old
    end (or today when renewed after expiry, within the grace period). Another ``team``/``doctor`` is
    a switch of team at expiry (期满改签). Packages default to the old ones that are still offered and
    still fit the resident (those dropped are listed in ``warnings``)."""
    today = _today()
    ruleset = rules.default_ruleset(today)
    if contract.status == ContractStatus.TERMINATED or contract.terminated_on is not None:
        raise DomainValidationError({"": _("已解约的签约不能续约，请重新签约。")})
    if contract.valid_renewals().exists():
        raise DomainValidationError({"": _("该签约已续约。")})
    opens, closes = rules.renewal_window(contract.end_date, ruleset)
    if today < opens:
        raise DomainValidationError(
            {
                "": _("尚未到续约时间：到期前%(d)s天内（%(opens)s起）可续约。")
                % {"d": ruleset.value("renewal_opens_days_before_end"), "opens": opens.isoformat()}
            }
        )
    if today > closes:
        raise DomainValidationError(
            {
                "": _("已超过续约期限（到期后%(d)s天内），请重新签约。")
                % {"d": ruleset.value("renewal_grace_days_after_end")}
            }
        )
    start = max(contract.end_date + timedelta(days=1), today)
    team = team or contract.team
    doctor = doctor or contract.doctor
    warnings: list[str] = []
    if packages is None:
        offered = set(ServicePackage.objects.offered_at(team.institution).values_list("pk", flat=True))
        groups = resident_groups(contract.resident, start)
        packages, dropped = [], []
        for p in contract.packages.all():
            fits = rules.ineligible_reason(p.target_groups, groups) is None
            (packages if p.pk in offered and fits else dropped).append(p)
        if dropped:
            warnings.append(
                _("以下服务包已停用或不再适用，未续签：%(names)s。") % {"names": "、".join(p.name for p in dropped)}
            )
    terms = SigningTerms(
        team=team,
        doctor=doctor,
        consent_method=consent_method,
        consent_signatory=consent_signatory,
        consent_relation=consent_relation,
        consent_document=consent_document,
        place_type=place_type,
        functional_community=functional_community,
        place_institution=place_institution,
        place_note=place_note,
        waiver_reason=waiver_reason,
        waiver_note=waiver_note,
        warnings=warnings,
    )
    renewal = _sign_one(
        actor=actor,
        resident=contract.resident,
        packages=packages,
        terms=terms,
        start_date=start,
        end_date=None,
        months=months,
        optional_items=optional_items,
        renewal_of=contract,
    )
    contracts_refresh_status(today=today, resident_id=contract.resident_id)
    return renewal


@transaction.atomic
def contract_terminate(
    *, actor, contract: Contract, version: int, reason: str, on: date | None = None, note: str = ""
) -> Contract:
    """Terminate early (解约) with a reason; ``on`` (today) is the first day without the contract.

    A contract not yet started is terminated at its start (it was never in force)."""
    today = _today()
    on = on or today
    errors: dict[str, str] = {}
    if contract.status == ContractStatus.TERMINATED or contract.terminated_on is not None:
        raise DomainValidationError({"": _("该签约已解约。")})
    if contract.end_date < today:
        raise DomainValidationError({"": _("该签约已到期，无需解约。")})
    if reason not in TerminationReason.values:
        errors["reason"] = _("请选择解约原因。")
    elif reason == TerminationReason.OTHER and not note.strip():
        errors["note"] = _("请说明解约原因。")
    if on > today:
        errors["on"] = _("解约日期不能晚于今天。")
    elif on > contract.end_date:
        errors["on"] = _("解约日期不能晚于到期日期。")
    if errors:
        raise DomainValidationError(errors)
    first_day_without = max(on, contract.start_date)
    updated = Contract.objects.filter(pk=contract.pk, version=version).update(
        status=ContractStatus.TERMINATED,
        terminated_on=first_day_without,
        termination_reason=reason,
        termination_note=note.strip(),
        terminated_by=_staff(actor),
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise ConcurrentEditError(_("该签约已被他人修改，请刷新后重试。"))
    # Deliveries dated on or after the termination no longer count toward this contract.
    late = list(
        ServiceDelivery.objects.filter(contract=contract, delivered_on__gte=first_day_without, revoked_at__isnull=True)
    )
    if late:
        ServiceDelivery.objects.filter(pk__in=[d.pk for d in late]).update(
            revoked_at=timezone.now(), revoked_reason=_("签约已解约")
        )
        for item_id in {d.item_id for d in late}:
            _recount(ContractItem.objects.select_related("contract").get(pk=item_id))
    contract.refresh_from_db()
    audit(actor, AccessAction.UPDATE, contract, detail={"action": "terminate", "reason": reason})
    if contract.renewal_of_id is not None and first_day_without <= contract.start_date:
        # A renewal terminated before it began: the old contract is "expired", not "renewed".
        Contract.objects.filter(pk=contract.renewal_of_id, status=ContractStatus.RENEWED).update(
            status=ContractStatus.EXPIRED, version=F("version") + 1
        )
    return contract


# ---------------------------------------------------------------------------------------------
# Fulfilment
# ---------------------------------------------------------------------------------------------


def _recount(item: ContractItem) -> None:
    """Refresh the item's counters from its deliveries (the item row is locked by the caller)."""
    n = item.deliveries.filter(revoked_at__isnull=True).count()
    c = item.contract
    item.delivered = min(n, 32767)
    item.next_due_on = rules.next_deadline(c.start_date, c.end_date, item.quantity, n)
    ContractItem.objects.filter(pk=item.pk).update(delivered=item.delivered, next_due_on=item.next_due_on)


def _pick_item(candidates: list[ContractItem]) -> ContractItem:
    """The item a delivery counts toward: the outstanding one with the earliest deadline, else the first."""
    open_items = [i for i in candidates if i.delivered < i.quantity and i.next_due_on is not None]
    if open_items:
        return min(open_items, key=lambda i: (i.next_due_on, i.pk))
    return min(candidates, key=lambda i: i.pk)


def _items_in_force(resident_id: int, service_code: str, day: date, contract: Contract | None = None):
    qs = ContractItem.objects.filter(
        Q(contract__terminated_on__isnull=True) | Q(contract__terminated_on__gt=day),
        contract__resident_id=resident_id,
        service_code=service_code,
        contract__start_date__lte=day,
        contract__end_date__gte=day,
    )
    if contract is not None:
        qs = qs.filter(contract=contract)
    return qs


def _deliver(
    *,
    resident_id: int,
    item: ContractItem,
    service_code: str,
    delivered_on: date,
    source: str,
    source_id: int | None,
    staff: Staff | None,
    note: str = "",
) -> ServiceDelivery:
    locked = ContractItem.objects.select_for_update(of=("self",)).select_related("contract").get(pk=item.pk)
    delivery = ServiceDelivery.objects.create(
        contract_id=locked.contract_id,
        item=locked,
        resident_id=resident_id,
        service_code=service_code,
        delivered_on=delivered_on,
        source=source,
        source_id=source_id,
        recorded_by=staff,
        note=note[:200],
    )
    _recount(locked)
    return delivery


def _check_delivery_date(delivered_on: date) -> None:
    if delivered_on > _today():
        raise DomainValidationError({"delivered_on": _("服务日期不能晚于今天。")})


@transaction.atomic
def service_delivered(
    *,
    resident: Resident | int,
    service_code: str,
    delivered_on: date,
    source: str,
    source_id: int | None = None,
    actor=None,
) -> list[ServiceDelivery]:
    """Record that ``service_code`` was delivered to ``resident`` on ``delivered_on``; it counts toward
    the resident's contract in force that day if its packages include the item. The automatic
    fulfilment hook for programmes (``source`` e.g. ``"hypertension.visit"``, ``source_id`` the visit).

    Idempotent on (source, source_id, service_code): calling again returns the rows recorded the first
    time. A delivery revoked with :func:`service_deliveries_revoke_source` is reinstated by calling
    again (with the possibly corrected date). Residents without a matching contract: returns ``[]``
    after one indexed query (two with ``source_id``). A future date or unknown code raises
    DomainValidationError.
    """
    if not catalogue.is_known(service_code):
        raise DomainValidationError({"service_code": _("未知的服务项目：%(code)s。") % {"code": service_code}})
    if isinstance(delivered_on, datetime):
        delivered_on = (
            timezone.localtime(delivered_on).date() if timezone.is_aware(delivered_on) else delivered_on.date()
        )
    _check_delivery_date(delivered_on)
    resident_id = resident if isinstance(resident, int) else resident.pk
    staff = _staff(actor)
    existing: list[ServiceDelivery] = []
    if source_id is not None:
        existing = list(ServiceDelivery.objects.filter(source=source, source_id=source_id, service_code=service_code))
        live = [d for d in existing if d.revoked_at is None]
        if live:
            return live
    candidates = list(_items_in_force(resident_id, service_code, delivered_on).select_related("contract"))
    if not candidates:
        return []
    item = _pick_item(candidates)
    if existing:  # reinstate a revoked delivery, re-matched to the (possibly corrected) date
        old = existing[0]
        old_item_id = old.item_id
        locked = ContractItem.objects.select_for_update(of=("self",)).select_related("contract").get(pk=item.pk)
        ServiceDelivery.objects.filter(pk=old.pk).update(
            contract_id=locked.contract_id,
            item=locked,
            delivered_on=delivered_on,
            revoked_at=None,
            revoked_reason="",
            recorded_by=staff or old.recorded_by,
        )
        _recount(locked)
        if old_item_id != locked.pk:
            _recount(
                ContractItem.objects.select_for_update(of=("self",)).select_related("contract").get(pk=old_item_id)
            )
        old.refresh_from_db()
        return [old]
    try:
        with transaction.atomic():
            delivery = _deliver(
                resident_id=resident_id,
                item=item,
                service_code=service_code,
                delivered_on=delivered_on,
                source=source,
                source_id=source_id,
                staff=staff,
            )
    except IntegrityError:
        # Recorded concurrently under the same (source, source_id, service_code).
        return list(ServiceDelivery.objects.filter(source=source, source_id=source_id, service_code=service_code))
    if actor is not None:
        audit(actor, AccessAction.CREATE, delivery, detail={"source": source, "source_id": source_id})
    return [delivery]


@transaction.atomic
def service_delivery_record(
    *, actor, contract: Contract, service_code: str, delivered_on: date, note: str = ""
) -> ServiceDelivery:
    """Record by hand, on the contract page, an item delivered under ``contract`` (e.g. a health
    consultation not recorded anywhere else)."""
    if not catalogue.is_known(service_code):
        raise DomainValidationError({"service_code": _("未知的服务项目。")})
    _check_delivery_date(delivered_on)
    if not contract.in_force_on(delivered_on):
        raise DomainValidationError(
            {
                "delivered_on": _("服务日期不在签约有效期内（%(start)s至%(end)s）。")
                % {"start": contract.start_date.isoformat(), "end": contract.last_day.isoformat()}
            }
        )
    candidates = list(
        _items_in_force(contract.resident_id, service_code, delivered_on, contract).select_related("contract")
    )
    if not candidates:
        raise DomainValidationError({"service_code": _("该签约不包含此服务项目。")})
    delivery = _deliver(
        resident_id=contract.resident_id,
        item=_pick_item(candidates),
        service_code=service_code,
        delivered_on=delivered_on,
        source=MANUAL_SOURCE,
        source_id=None,
        staff=_staff(actor),
        note=note,
    )
    audit(actor, AccessAction.CREATE, delivery)
    return delivery


@transaction.atomic
def service_delivery_revoke(*, actor, delivery: ServiceDelivery, reason: str) -> ServiceDelivery:
    """Withdraw a delivery recorded in error (kept, marked revoked, no longer counted)."""
    if delivery.revoked_at is not None:
        raise DomainValidationError({"": _("该履约记录已撤销。")})
    if not (reason or "").strip():
        raise DomainValidationError({"reason": _("请填写撤销原因。")})
    locked = ContractItem.objects.select_for_update(of=("self",)).select_related("contract").get(pk=delivery.item_id)
    # Conditional on the state read: a second revocation at the same time changes nothing.
    updated = ServiceDelivery.objects.filter(pk=delivery.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason.strip()[:200]
    )
    if updated != 1:
        raise DomainValidationError({"": _("该履约记录已撤销。")})
    _recount(locked)
    delivery.refresh_from_db()
    audit(actor, AccessAction.UPDATE, delivery, detail={"action": "revoke"})
    return delivery


@transaction.atomic
def service_deliveries_revoke_source(
    *, source: str, source_id: int, service_code: str | None = None, reason: str = "", actor=None
) -> int:
    """Withdraw what was counted for a source record (a deleted or corrected visit); returns how many."""
    qs = ServiceDelivery.objects.filter(source=source, source_id=source_id, revoked_at__isnull=True)
    if service_code is not None:
        qs = qs.filter(service_code=service_code)
    rows = list(qs)
    for d in rows:
        locked = ContractItem.objects.select_for_update(of=("self",)).select_related("contract").get(pk=d.item_id)
        ServiceDelivery.objects.filter(pk=d.pk).update(
            revoked_at=timezone.now(), revoked_reason=(reason or _("来源记录已撤销"))[:200]
        )
        _recount(locked)
        if actor is not None:
            audit(actor, AccessAction.UPDATE, d, detail={"action": "revoke"})
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Satisfaction
# ---------------------------------------------------------------------------------------------

SCORE_FIELDS = ("overall_score", "attitude_score", "access_score", "skill_score", "fulfilment_score")


@transaction.atomic
def satisfaction_record(
    *,
    actor,
    contract: Contract,
    surveyed_on: date,
    method: str,
    overall_score: int,
    attitude_score: int,
    access_score: int,
    skill_score: int,
    fulfilment_score: int,
    would_renew: bool | None = None,
    comments: str = "",
    respondent_relation: str = "",
    version: int | None = None,
) -> SatisfactionSurvey:
    """Store the contract's satisfaction survey; a second entry must send the ``version`` it replaces."""
    scores = {
        "overall_score": overall_score,
        "attitude_score": attitude_score,
        "access_score": access_score,
        "skill_score": skill_score,
        "fulfilment_score": fulfilment_score,
    }
    errors: dict[str, str] = {}
    for k, v in scores.items():
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5:
            errors[k] = _("请选择1～5分。")
    if method not in SurveyMethod.values:
        errors["method"] = _("请选择调查方式。")
    if respondent_relation and respondent_relation not in Relationship.values:
        errors["respondent_relation"] = _("未知的关系。")
    if surveyed_on > _today():
        errors["surveyed_on"] = _("调查日期不能晚于今天。")
    elif surveyed_on < contract.start_date:
        errors["surveyed_on"] = _("调查日期不能早于签约生效日期。")
    if errors:
        raise DomainValidationError(errors)
    fields = {
        "surveyed_on": surveyed_on,
        "method": method,
        "would_renew": would_renew,
        "comments": comments[:2000],
        "respondent_relation": respondent_relation,
        "entered_by": _staff(actor),
        **scores,
    }
    existing = SatisfactionSurvey.objects.filter(contract=contract).first()
    if existing is None:
        if version is not None:
            raise ConcurrentEditError(_("该满意度调查已被他人修改，请刷新后重试。"))
        try:
            with transaction.atomic():
                survey = SatisfactionSurvey.objects.create(contract=contract, **fields)
        except IntegrityError as exc:
            raise ConcurrentEditError(_("该签约已有满意度调查，请刷新后修改。")) from exc
        audit(actor, AccessAction.CREATE, survey, resident_id=contract.resident_id)
        return survey
    if version is None:
        raise ConcurrentEditError(_("该签约已有满意度调查，请刷新后修改。"))
    updated = SatisfactionSurvey.objects.filter(pk=existing.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if updated != 1:
        raise ConcurrentEditError(_("该满意度调查已被他人修改，请刷新后重试。"))
    existing.refresh_from_db()
    audit(actor, AccessAction.UPDATE, existing, resident_id=contract.resident_id)
    return existing

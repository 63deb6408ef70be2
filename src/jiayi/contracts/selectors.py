"""Every read of contracts, packages and work lists, scoped to the user (`visible_to`) and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from jiayi.contracts import catalogue, rules
from jiayi.contracts.models import (
    Contract,
    ContractItem,
    ContractStatus,
    FunctionalCommunity,
    ServiceDelivery,
    ServicePackage,
)
from jiayi.core.audit import audit_search, audit_view
from jiayi.core.scoping import get_visible_or_404, institution_ids_visible_to, user_role
from jiayi.org.models import (
    PRIMARY_CARE_CENTRE_TYPES,
    PRIMARY_CARE_POINT_TYPES,
    Area,
    AreaLevel,
    Institution,
    Role,
    Staff,
    Team,
    TeamMember,
)
from jiayi.org.selectors import area_subtree_codes_prefix, institution_subtree_ids, teams_visible_to
from jiayi.residents.models import RESIDENT_POPULATION_STATUSES, KeyPopulationTag, Resident
from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE

T = TypeVar("T")


def residents_cared_for_by(team_ids: tuple[int, ...]) -> QuerySet:
    """The residents with a contract with one of the teams, in force today by its dates (so a missed
    expiry job never widens or narrows the scope): what team scope narrows to (core.scoping)."""
    return Contract.objects.current().filter(team_id__in=team_ids).values("resident_id")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _paginate(qs: QuerySet, page: int, page_size: int) -> Page:
    """One extra row instead of a COUNT: stays fast at a million rows."""
    page = max(1, page)
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return Page(rows[:page_size], page, page_size, len(rows) > page_size)


def _today() -> date:
    return timezone.localdate()


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------


def contract_get(user, pk: int, *, audit_read: bool = True) -> Contract:
    """One contract the user may see (404 otherwise); the read is audited."""
    contract = get_visible_or_404(
        Contract.objects.visible_to(user)
        .with_effective_status(_today())
        .select_related(
            "resident",
            "team",
            "doctor",
            "institution",
            "renewal_of",
            "signed_by",
            "functional_community",
            "place_institution",
            "household_signing",
        ),
        pk=pk,
    )
    if audit_read:
        audit_view(user, contract)
    return contract


def contract_queryset(
    user,
    *,
    team: Team | None = None,
    doctor: Staff | None = None,
    resident: Resident | None = None,
    status: str | None = None,
    expiring_within: int | None = None,
    behind: bool = False,
    on: date | None = None,
) -> QuerySet[Contract]:
    """Visible contracts, filtered. ``status`` is the effective status on ``on`` (today)."""
    on = on or _today()
    qs = Contract.objects.visible_to(user).with_effective_status(on)
    if team is not None:
        qs = qs.filter(team=team)
    if doctor is not None:
        qs = qs.filter(doctor=doctor)
    if resident is not None:
        qs = qs.filter(resident=resident)
    if status:
        qs = qs.filter(effective_status=status)
    if expiring_within is not None:
        renewed = Contract.objects.filter(renewal_of=OuterRef("pk"))
        qs = qs.active_on(on).filter(end_date__lte=on + timedelta(days=expiring_within)).exclude(Exists(renewed))
    if behind:
        qs = qs.active_on(on).behind_schedule(on)
    return qs


def contract_page(user, *, page: int = 1, page_size: int = 20, order: str = "-start_date", **filters) -> Page:
    qs = contract_queryset(user, **filters).select_related("resident", "team", "doctor")
    result = _paginate(qs.order_by(order, "-pk"), page, page_size)
    audit_search(user, object_type="contracts.contract", query=_describe(filters), count=len(result.items))
    return result


def _describe(filters: dict) -> str:
    parts = []
    for k, v in sorted(filters.items()):
        if v in (None, False, ""):
            continue
        parts.append(f"{k}={getattr(v, 'pk', v)}")
    return " ".join(parts)


def current_contract(resident: Resident, on: date | None = None) -> Contract | None:
    """The resident's contract in force on ``on`` (the caller has scoped ``resident``)."""
    return Contract.objects.active_on(on or _today()).filter(resident=resident).select_related("team", "doctor").first()


def contracts_of_resident(resident: Resident) -> list[Contract]:
    """The resident's contracts, newest first (the caller has scoped ``resident``)."""
    return list(
        Contract.objects.filter(resident=resident)
        .with_effective_status(_today())
        .select_related("team", "doctor")
        .order_by("-start_date", "-pk")
    )


@dataclass(frozen=True)
class ItemProgress:
    """Promised vs delivered for one contract item, and what is due (contracts.rules)."""

    item_id: int
    service_code: str
    name: str
    package_name: str
    quantity: int
    delivered: int
    due_now: int
    next_due_on: date | None
    state: str

    @property
    def state_label(self) -> str:
        return rules.ItemState.LABELS[self.state]

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.delivered)


def contract_progress(contract: Contract, on: date | None = None) -> list[ItemProgress]:
    on = on or _today()
    out = []
    for it in contract.items.select_related("package").order_by("package__kind", "package_id", "pk"):
        if contract.in_force_on(on):
            state = rules.item_state(next_due=it.next_due_on, on=on)
        else:
            state = rules.ItemState.DONE if it.delivered >= it.quantity else rules.ItemState.BEHIND
        out.append(
            ItemProgress(
                item_id=it.pk,
                service_code=it.service_code,
                name=catalogue.name_of(it.service_code),
                package_name=it.package.name,
                quantity=it.quantity,
                delivered=it.delivered,
                due_now=rules.units_due(contract.start_date, contract.end_date, it.quantity, on),
                next_due_on=it.next_due_on,
                state=state,
            )
        )
    return out


def contract_deliveries(contract: Contract) -> list[ServiceDelivery]:
    return list(contract.deliveries.select_related("recorded_by").order_by("-delivered_on", "-pk"))


# ---------------------------------------------------------------------------------------------
# Packages, teams, places
# ---------------------------------------------------------------------------------------------


def package_list(user, *, active_only: bool = False) -> list[ServicePackage]:
    qs = ServicePackage.objects.visible_to(user).select_related("institution").prefetch_related("items")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs.order_by("kind", "institution_id", "name"))


def package_get(user, pk: int) -> ServicePackage:
    return get_visible_or_404(
        ServicePackage.objects.visible_to(user).select_related("institution").prefetch_related("items"), pk=pk
    )


def package_editable_by(user, package: ServicePackage) -> bool:
    """Who may change a package (the caller has checked that ``user`` can see it).

    A centre manager changes the packages of their centre (and of its stations); a district admin the
    district-wide ones (no institution, or the commission's own). A centre's package is the centre's
    decision, so the district does not edit it; nobody edits a package of an institution above them.
    """
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    staff = getattr(user, "staff", None)
    if staff is None or not staff.active:
        return False
    role = user_role(user)
    if role == Role.DISTRICT_ADMIN:
        return package.institution_id is None or package.institution_id == staff.institution_id
    if role == Role.CENTRE_MANAGER:
        return package.institution_id is not None and package.institution_id in staff.institution.subtree_ids()
    return False


def package_get_for_edit(user, pk: int) -> ServicePackage:
    """A package the user may change: 404 when they cannot see it, 403 when they see it but may not edit."""
    package = package_get(user, pk)
    if not package_editable_by(user, package):
        raise PermissionDenied
    return package


@dataclass(frozen=True)
class PackageChoice:
    package: ServicePackage
    eligible: bool
    reason: str  # why not, in Chinese; empty when eligible


def packages_for_signing(institution: Institution, resident: Resident | None, on: date | None = None) -> list:
    """The packages a team at ``institution`` offers, each marked eligible for ``resident`` or not."""
    from jiayi.contracts.services import _group_names, resident_groups

    groups = resident_groups(resident, on) if resident is not None else None
    out = []
    for p in ServicePackage.objects.offered_at(institution).prefetch_related("items").order_by("kind", "name"):
        reason = ""
        if groups is not None and rules.ineligible_reason(p.target_groups, groups) is not None:
            reason = gettext("仅适用于%(groups)s") % {"groups": _group_names(p.target_groups)}
        out.append(PackageChoice(p, not reason, reason))
    return out


def teams_for_user(user) -> QuerySet[Team]:
    return (
        teams_visible_to(user).filter(active=True).select_related("institution").order_by("institution__code", "name")
    )


def team_get(user, pk: int) -> Team:
    return get_visible_or_404(teams_visible_to(user).select_related("institution"), pk=pk)


def default_team_for(user) -> Team | None:
    staff = getattr(user, "staff", None)
    if staff is None:
        return None
    m = staff.team_memberships.filter(team__active=True).select_related("team").order_by("team_id").first()
    return m.team if m else None


def doctor_list_sizes(doctor_ids: list[int], on: date | None = None) -> dict[int, int]:
    """Contracts in force per doctor on ``on`` (one grouped query). A list size is a count of contracts,
    not personal data: the caller passes the doctors the user may see (their teams' members)."""
    on = on or _today()
    rows = (
        Contract.objects.active_on(on)
        .filter(doctor_id__in=doctor_ids)
        .values("doctor_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    sizes = dict.fromkeys(doctor_ids, 0)
    sizes.update({r["doctor_id"]: r["n"] for r in rows})
    return sizes


def population_filter(
    *,
    prefix: str = "",
    user=None,
    institution: Institution | None = None,
    area: Area | None = None,
    team: Team | None = None,
    doctor: Staff | None = None,
) -> Q:
    """The resident population (常住人口) of an institution subtree as a filter on Resident fields
    (``prefix`` "resident__" to apply it to rows that point at a resident): not deleted, registered or
    non-registered residents, managed by ``institution`` (or the institution of ``team`` / ``doctor``),
    optionally within ``area``, and limited to the institutions ``user`` may see (none for a resident)."""
    q = Q(**{f"{prefix}is_deleted": False, f"{prefix}residence_status__in": RESIDENT_POPULATION_STATUSES})
    if user is not None:
        ids = institution_ids_visible_to(user)
        if user_role(user) == "resident" or ids is None:
            return Q(pk__in=[])
        q &= Q(**{f"{prefix}institution_id__in": ids})
    root = (
        institution
        or (team.institution if team is not None else None)
        or (doctor.institution if doctor is not None else None)
    )
    if root is not None:
        q &= Q(**{f"{prefix}institution_id__in": institution_subtree_ids(root.pk)})
    if area is not None:
        q &= Q(**{f"{prefix}area__code__startswith": area_subtree_codes_prefix(area)})
    return q


@dataclass(frozen=True)
class DoctorLoad:
    staff: Staff
    role_label: str
    list_size: int


def team_doctors(team: Team, on: date | None = None) -> list[DoctorLoad]:
    """Team members with their list sizes (contracts in force), one grouped query."""
    members = list(team.members.select_related("staff").filter(staff__active=True).order_by("role", "staff__name"))
    sizes = doctor_list_sizes([m.staff_id for m in members], on)
    return [DoctorLoad(m.staff, m.get_role_display(), sizes[m.staff_id]) for m in members]


def team_member_ids(team: Team) -> set[int]:
    return set(TeamMember.objects.filter(team=team).values_list("staff_id", flat=True))


def functional_communities_for(user, institution: Institution | None = None) -> list[FunctionalCommunity]:
    qs = FunctionalCommunity.objects.visible_to(user).filter(active=True)
    if institution is not None:
        qs = qs.filter(institution_id__in=institution.subtree_ids())
    return list(qs.order_by("name"))


def functional_community_page(user, *, kind: str | None = None, page: int = 1, page_size: int = 50) -> Page:
    """Functional communities of the user's institution subtree, each with ``contracts_in_force`` (the
    contracts signed there and in force today: a count, no personal data)."""
    on = _today()
    in_force = Q(contracts__start_date__lte=on, contracts__end_date__gte=on) & (
        Q(contracts__terminated_on__isnull=True) | Q(contracts__terminated_on__gt=on)
    )
    qs = FunctionalCommunity.objects.visible_to(user).select_related("area", "institution")
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.annotate(contracts_in_force=Count("contracts", filter=in_force)).order_by(
        "-active", "institution__code", "name", "pk"
    )
    return _paginate(qs, page, page_size)


def community_institutions_for(user) -> QuerySet[Institution]:
    """Primary-care institutions in the user's subtree: those that can serve a functional community."""
    return Institution.objects.visible_to(user).filter(
        type__in=(*PRIMARY_CARE_CENTRE_TYPES, *PRIMARY_CARE_POINT_TYPES)
    ).order_by("code")


def community_areas_for(user) -> QuerySet[Area]:
    """Communities (社区/村, 12-digit codes, as the API takes) within the areas of the user's primary-care
    institutions."""
    institutions = community_institutions_for(user).select_related("area")
    prefixes = {area_subtree_codes_prefix(i.area) for i in institutions}
    # Drop a prefix nested in a shorter one (a station's community inside its centre's street).
    kept: list[str] = []
    for p in sorted(prefixes, key=lambda c: (len(c), c)):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    if not kept:
        return Area.objects.none()
    cond = Q()
    for p in kept:
        cond |= Q(code__startswith=p)
    return Area.objects.filter(cond, level=AreaLevel.COMMUNITY).order_by("code")


def elderly_care_institutions() -> list[Institution]:
    from jiayi.org.models import InstitutionType

    return list(
        Institution.objects.filter(type__in=(InstitutionType.ELDERLY_CARE, InstitutionType.DAY_CARE)).order_by("name")
    )


# ---------------------------------------------------------------------------------------------
# Team work lists
# ---------------------------------------------------------------------------------------------


def worklist_behind(user, team: Team, *, page: int = 1, page_size: int = 20) -> Page:
    """The team's contracts in force with an item past its deadline, oldest deadline first."""
    from django.db.models import Min

    on = _today()
    qs = (
        contract_queryset(user, team=team, behind=True, on=on)
        .annotate(oldest_due=Min("items__next_due_on"))
        .select_related("resident", "doctor")
        .order_by("oldest_due", "pk")
    )
    result = _paginate(qs, page, page_size)
    audit_search(user, object_type="contracts.contract", query=f"team={team.pk} behind", count=len(result.items))
    return result


def worklist_expiring(user, team: Team, *, within_days: int, page: int = 1, page_size: int = 20) -> Page:
    """The team's contracts in force ending within ``within_days`` days and not yet renewed."""
    qs = (
        contract_queryset(user, team=team, expiring_within=within_days)
        .select_related("resident", "doctor")
        .order_by("end_date", "pk")
    )
    result = _paginate(qs, page, page_size)
    audit_search(
        user,
        object_type="contracts.contract",
        query=f"team={team.pk} expiring={within_days}",
        count=len(result.items),
    )
    return result


def key_population_unsigned_queryset(user, team: Team) -> QuerySet[Resident]:
    """应签尽签: key-population residents of the team's institution (subtree) with no contract in force.

    Elderly and children are found by birth date on today; the other groups by their tags.
    """
    on = _today()
    elderly_cut = rules.add_months(on, -12 * ELDERLY_MIN_AGE)
    child_cut = rules.add_months(on, -12 * (CHILD_MAX_AGE + 1))
    tagged = KeyPopulationTag.objects.filter(resident=OuterRef("pk")).exclude(code__in=("elderly", "child"))
    signed = Contract.objects.active_on(on).filter(resident=OuterRef("pk"))
    return (
        Resident.objects.visible_to(user)
        .filter(population_filter(institution=team.institution))
        .filter(Q(birth_date__lte=elderly_cut) | Q(birth_date__gt=child_cut, birth_date__lte=on) | Exists(tagged))
        .exclude(Exists(signed))
    )


def key_population_unsigned(user, team: Team, *, page: int = 1, page_size: int = 20) -> Page:
    qs = key_population_unsigned_queryset(user, team).select_related("area").order_by("birth_date", "pk")
    result = _paginate(qs, page, page_size)
    audit_search(
        user,
        object_type="residents.resident",
        query=f"team={team.pk} key_population_unsigned",
        count=len(result.items),
    )
    return result


def resident_key_groups(resident: Resident, on: date | None = None) -> list[str]:
    """Key-population codes of a resident (for display), in RULES.md order."""
    from jiayi.contracts.services import resident_groups
    from jiayi.residents.rules import KEY_POPULATIONS

    groups = resident_groups(resident, on)
    return [c for c in KEY_POPULATIONS if c in groups]


def contract_status_choices() -> list[tuple[str, str]]:
    return list(ContractStatus.choices)


def item_for_contract(contract: Contract, item_id: int) -> ContractItem:
    try:
        return contract.items.get(pk=item_id)
    except (ContractItem.DoesNotExist, ValueError) as exc:
        raise Http404 from exc

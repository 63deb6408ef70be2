"""Contract pages: sign (from the resident page in three clicks), household signing, the contract page
(promised vs delivered, manual recording, satisfaction, renewal, termination), the team page with its
indicators and work lists, the package pages (list, compose, edit) and the functional communities.

Thin views: reads through selectors (scoped and audited), writes through services. Access as on every
staff page: anonymous -> login; non-staff -> 404; out of scope -> 404; read-only roles -> 403 on writes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jiayi.contracts import catalogue, selectors, services
from jiayi.contracts.forms import (
    DeliveryForm,
    FunctionalCommunityForm,
    HouseholdSignForm,
    PackageEditForm,
    PackageForm,
    RenewForm,
    SignForm,
    SurveyForm,
    TerminateForm,
)
from jiayi.contracts.models import CommunityKind, Contract, ContractStatus, SatisfactionSurvey, ServicePackage
from jiayi.core.access import require_writer, staff_required
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.scoping import can_write_clinical, user_role
from jiayi.org.models import Institution, Role
from jiayi.residents import selectors as resident_selectors
from jiayi.residents.rules import KEY_POPULATIONS

WORKLIST_KINDS = {
    "behind": gettext_lazy("履约滞后"),
    "expiring_30": gettext_lazy("30天内到期"),
    "expiring_60": gettext_lazy("60天内到期"),
    "unsigned": gettext_lazy("重点人群未签约"),
}



def _require_package_admin(request: HttpRequest) -> None:
    if not (request.user.is_superuser or user_role(request.user) in (Role.CENTRE_MANAGER, Role.DISTRICT_ADMIN)):
        raise PermissionDenied


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        return 1


def _flash_warnings(request: HttpRequest, warnings: list[str]) -> None:
    for w in warnings:
        messages.warning(request, w)


# ---------------------------------------------------------------------------------------------
# Team pages
# ---------------------------------------------------------------------------------------------


@staff_required
def team_home(request: HttpRequest) -> HttpResponse:
    """The user's team page, or the list of teams they may see."""
    team = selectors.default_team_for(request.user)
    if team is not None and "all" not in request.GET:
        return redirect("contracts:team", pk=team.pk)
    return render(request, "contracts/team_list.html", {"teams": selectors.teams_for_user(request.user)})


@staff_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The team page: work lists, the team's contract indicators (the indicator engine's stored values,
    rendered by the indicators app's panel) and its members' list sizes."""
    team = selectors.team_get(request.user, pk)
    counts = {
        "behind": selectors.contract_queryset(request.user, team=team, behind=True).count(),
        "expiring_30": selectors.contract_queryset(request.user, team=team, expiring_within=30).count(),
        "expiring_60": selectors.contract_queryset(request.user, team=team, expiring_within=60).count(),
        "unsigned": selectors.key_population_unsigned_queryset(request.user, team).count(),
    }
    return render(
        request,
        "contracts/team_detail.html",
        {
            "team": team,
            "period": request.GET.get("period", ""),
            "doctors": selectors.team_doctors(team),
            "cap": settings.JIAYI["DOCTOR_LIST_SOFT_CAP"],
            "counts": counts,
            "kinds": WORKLIST_KINDS,
        },
    )


@staff_required
def worklist(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(request.user, pk)
    kind = request.GET.get("kind", "behind")
    if kind not in WORKLIST_KINDS:
        kind = "behind"
    page_no = _page_number(request)
    if kind == "behind":
        page = selectors.worklist_behind(request.user, team, page=page_no)
    elif kind == "unsigned":
        page = selectors.key_population_unsigned(request.user, team, page=page_no)
    else:
        days = 30 if kind == "expiring_30" else 60
        page = selectors.worklist_expiring(request.user, team, within_days=days, page=page_no)
    rows = page.items
    groups: dict[int, list[str]] = {}
    if kind == "unsigned":
        groups = {r.pk: [_(KEY_POPULATIONS[c][0]) for c in selectors.resident_key_groups(r)] for r in rows}
    return render(
        request,
        "contracts/worklist.html",
        {
            "team": team,
            "kind": kind,
            "kinds": WORKLIST_KINDS,
            "page": page,
            "groups": groups,
            "today": timezone.localdate(),
            "can_write": can_write_clinical(request.user),
        },
    )


@staff_required
def contract_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in ContractStatus.values:
        status = None
    team = None
    if request.GET.get("team"):
        try:
            team = selectors.team_get(request.user, int(request.GET["team"]))
        except ValueError:
            raise Http404 from None
    resident = None
    if request.GET.get("resident"):
        try:
            resident = resident_selectors.resident_get(request.user, int(request.GET["resident"]))
        except ValueError:
            raise Http404 from None
    page = selectors.contract_page(
        request.user, team=team, resident=resident, status=status, page=_page_number(request)
    )
    return render(
        request,
        "contracts/contract_list.html",
        {
            "page": page,
            "status": status,
            "team": team,
            "resident": resident,
            "statuses": ContractStatus.choices,
            "teams": selectors.teams_for_user(request.user),
        },
    )


# ---------------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------------


def _package_rows(form, resident, institution: Institution | None) -> list[dict]:
    """Each offered package with its items, eligibility for the resident, and its optional items."""
    choices = {}
    if institution is not None:
        choices = {c.package.pk: c for c in selectors.packages_for_signing(institution, resident)}
    selected = {str(v) for v in (form["package_ids"].value() or [])}
    rows = []
    for p in form.fields["package_ids"].queryset:
        choice = choices.get(p.pk)
        rows.append(
            {
                "package": p,
                "checked": str(p.pk) in selected,
                "eligible": choice.eligible if choice else True,
                "reason": choice.reason if choice else "",
                "items": [(i, _(catalogue.name_of(i.service_code))) for i in p.items.all()],
            }
        )
    # Basic package first, then what the resident may sign, then the rest (shown disabled).
    rows.sort(key=lambda r: (r["package"].kind != "basic", not r["eligible"]))
    return rows


@staff_required
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, resident_pk: int) -> HttpResponse:
    """Sign one resident (three clicks from the resident page: 签约 → tick packages → 确认签约)."""
    require_writer(request)
    resident = resident_selectors.resident_get(request.user, resident_pk)
    current = selectors.current_contract(resident)
    team = selectors.default_team_for(request.user)
    institution = team.institution if team is not None else None
    form = SignForm(request.POST or None, user=request.user, institution=institution)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            contract = services.contract_sign(
                actor=request.user,
                resident=resident,
                packages=list(d["package_ids"]),
                start_date=d.get("start_date"),
                end_date=d.get("end_date"),
                months=d.get("months"),
                optional_items=form.optional_items(request.POST),
                waiver_reason=d.get("waiver_reason", ""),
                waiver_note=d.get("waiver_note", ""),
                **form.terms(),
            )
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("签约成功：%(number)s。") % {"number": contract.number})
            _flash_warnings(request, contract.warnings)
            return redirect("contracts:detail", pk=contract.pk)
    return render(
        request,
        "contracts/sign.html",
        {
            "form": form,
            "resident": resident,
            "current": current,
            "packages": _package_rows(form, resident, institution),
            "groups": [_(KEY_POPULATIONS[c][0]) for c in selectors.resident_key_groups(resident)],
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def sign_household(request: HttpRequest, household_pk: int) -> HttpResponse:
    """Sign several members of a household in one act."""
    require_writer(request)
    household = resident_selectors.household_get(request.user, household_pk)
    members = resident_selectors.household_members(request.user, household)
    signed = {c.resident_id: c for c in Contract.objects.current().filter(resident__in=members)}
    eligible = [m.pk for m in members if m.pk not in signed and m.residence_status in ("registered", "non_registered")]
    team = selectors.default_team_for(request.user)
    institution = team.institution if team is not None else None
    form = HouseholdSignForm(
        request.POST or None, user=request.user, institution=institution, members=members, eligible_ids=eligible
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        by_id = {str(m.pk): m for m in members}
        try:
            signing = services.contract_sign_household(
                actor=request.user,
                household=household,
                members=[by_id[i] for i in d["member_ids"]],
                packages=list(d["package_ids"]),
                start_date=d.get("start_date"),
                months=d.get("months"),
                **form.terms(),
            )
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
            form.member_errors = _member_errors(exc, [by_id[i] for i in d["member_ids"]])
        else:
            messages.success(request, _("已为%(n)s位家庭成员签约。") % {"n": len(signing.signed_contracts)})
            for c in signing.signed_contracts:
                _flash_warnings(request, c.warnings)
            return redirect("contracts:household", household_pk=household.pk)
    return render(
        request,
        "contracts/sign_household.html",
        {
            "form": form,
            "household": household,
            "members": members,
            "signed": signed,
            "packages": _package_rows(form, None, institution),
            "member_errors": getattr(form, "member_errors", []),
        },
    )


def _member_errors(exc: DomainValidationError, members: list) -> list[str]:
    out = []
    for key, msgs in exc.errors.items():
        if key.startswith("members."):
            idx = int(key.split(".")[1])
            name = members[idx].name if idx < len(members) else ""
            out.extend(f"{name}：{m}" for m in msgs)
    return out


@staff_required
def household_contracts(request: HttpRequest, household_pk: int) -> HttpResponse:
    """The household's members with their current contracts (after a household signing)."""
    household = resident_selectors.household_get(request.user, household_pk)
    members = resident_selectors.household_members(request.user, household)
    current = {
        c.resident_id: c
        for c in Contract.objects.current().filter(resident__in=members).select_related("team", "doctor")
    }
    rows = [(m, current.get(m.pk)) for m in members]
    return render(
        request,
        "contracts/household.html",
        {"household": household, "rows": rows, "can_write": can_write_clinical(request.user)},
    )


# ---------------------------------------------------------------------------------------------
# The contract page
# ---------------------------------------------------------------------------------------------


def _contract_context(request: HttpRequest, contract: Contract, **extra) -> dict:
    progress = selectors.contract_progress(contract)
    survey = SatisfactionSurvey.objects.filter(contract=contract).first()
    today = timezone.localdate()
    can_write = can_write_clinical(request.user)
    from jiayi.contracts import rules

    opens, closes = rules.renewal_window(contract.end_date)
    renewable = (
        can_write
        and contract.terminated_on is None
        and opens <= today <= closes
        and not contract.valid_renewals().exists()
    )
    ctx = {
        "contract": contract,
        "progress": progress,
        "deliveries": selectors.contract_deliveries(contract),
        "packages": contract.contract_packages.select_related("package").order_by("package__kind", "pk"),
        "survey": survey,
        "can_write": can_write,
        "in_force": contract.in_force_on(today),
        "renewable": renewable,
        "renewal_opens": opens,
        "renewals": list(contract.renewals.all()),
        "delivery_form": DeliveryForm(codes=[p.service_code for p in progress]),
        "terminate_form": TerminateForm(initial={"version": contract.version, "on": today}),
        "totals": {
            "quantity": sum(p.quantity for p in progress),
            "delivered": sum(min(p.delivered, p.quantity) for p in progress),
            "due": sum(p.due_now for p in progress),
            "behind": sum(1 for p in progress if p.state == "behind"),
        },
    }
    ctx.update(extra)
    return ctx


@staff_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    return render(request, "contracts/contract_detail.html", _contract_context(request, contract))


@staff_required
@require_POST
def delivery_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record by hand an item delivered under the contract (htmx: re-renders the progress section)."""
    require_writer(request)
    contract = selectors.contract_get(request.user, pk, audit_read=False)
    codes = list(contract.items.values_list("service_code", flat=True))
    form = DeliveryForm(request.POST, codes=codes)
    if form.is_valid():
        try:
            services.service_delivery_record(actor=request.user, contract=contract, **form.cleaned_data)
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            if not request.htmx:
                messages.success(request, _("已记录服务。"))
                return redirect("contracts:detail", pk=pk)
            form = DeliveryForm(codes=codes)
    ctx = _contract_context(request, selectors.contract_get(request.user, pk, audit_read=False), delivery_form=form)
    if request.htmx:
        return render(request, "contracts/_fulfilment.html", ctx)
    return render(request, "contracts/contract_detail.html", ctx, status=200 if form.is_valid() else 422)


@staff_required
@require_POST
def delivery_revoke(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    require_writer(request)
    contract = selectors.contract_get(request.user, pk, audit_read=False)
    delivery = contract.deliveries.filter(pk=delivery_pk).first()
    if delivery is None:
        raise Http404
    try:
        services.service_delivery_revoke(
            actor=request.user, delivery=delivery, reason=(request.POST.get("reason") or _("录入有误"))[:200]
        )
    except DomainValidationError as exc:
        messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
    else:
        messages.success(request, _("已撤销该履约记录。"))
    return redirect("contracts:detail", pk=pk)


@staff_required
@require_POST
def terminate(request: HttpRequest, pk: int) -> HttpResponse:
    require_writer(request)
    contract = selectors.contract_get(request.user, pk, audit_read=False)
    form = TerminateForm(request.POST)
    if form.is_valid():
        try:
            services.contract_terminate(
                actor=request.user,
                contract=contract,
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data.get("on"),
                note=form.cleaned_data.get("note", ""),
            )
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("已解约。"))
            return redirect("contracts:detail", pk=pk)
    ctx = _contract_context(request, contract, terminate_form=form, show_terminate=True)
    return render(request, "contracts/contract_detail.html", ctx, status=422)


@staff_required
@require_http_methods(["GET", "POST"])
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    require_writer(request)
    contract = selectors.contract_get(request.user, pk)
    form = RenewForm(request.POST or None, user=request.user, contract=contract)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        terms = form.terms()
        try:
            new = services.contract_renew(
                actor=request.user,
                contract=contract,
                packages=list(d["package_ids"]),
                months=d.get("months"),
                waiver_reason=d.get("waiver_reason", ""),
                waiver_note=d.get("waiver_note", ""),
                **terms,
            )
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("续约成功：%(number)s。") % {"number": new.number})
            _flash_warnings(request, new.warnings)
            return redirect("contracts:detail", pk=new.pk)
    return render(
        request,
        "contracts/renew.html",
        {
            "form": form,
            "contract": contract,
            "resident": contract.resident,
            "packages": _package_rows(form, contract.resident, contract.team.institution),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def satisfaction(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    survey = SatisfactionSurvey.objects.filter(contract=contract).first()
    if request.method == "POST":
        require_writer(request)
    initial = {"surveyed_on": timezone.localdate()}
    if survey is not None:
        initial = {
            f: getattr(survey, f)
            for f in (
                "surveyed_on",
                "method",
                "respondent_relation",
                "overall_score",
                "attitude_score",
                "access_score",
                "skill_score",
                "fulfilment_score",
                "would_renew",
                "comments",
                "version",
            )
        }
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.satisfaction_record(actor=request.user, contract=contract, **form.cleaned_data)
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("满意度调查已保存。"))
            return redirect("contracts:detail", pk=pk)
    return render(
        request,
        "contracts/satisfaction.html",
        {"form": form, "contract": contract, "survey": survey, "can_write": can_write_clinical(request.user)},
    )


# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------


@staff_required
def package_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (
            p,
            [(i, _(catalogue.name_of(i.service_code))) for i in p.items.all()],
            [_(KEY_POPULATIONS[g][0]) for g in p.target_groups if g in KEY_POPULATIONS],
        )
        for p in selectors.package_list(request.user)
    ]
    can_admin = request.user.is_superuser or user_role(request.user) in (Role.CENTRE_MANAGER, Role.DISTRICT_ADMIN)
    editable = {p.pk for p, _items, _groups in rows if selectors.package_editable_by(request.user, p)}
    return render(request, "contracts/package_list.html", {"rows": rows, "can_admin": can_admin, "editable": editable})


def _package_form_page(
    request: HttpRequest,
    form: PackageForm,
    *,
    package: ServicePackage | None = None,
    conflict: ServicePackage | None = None,
    status: int = 200,
) -> HttpResponse:
    saved_items = []
    if conflict is not None:
        saved_items = [(i, _(catalogue.name_of(i.service_code))) for i in conflict.items.all()]
    return render(
        request,
        "contracts/package_form.html",
        {
            "form": form,
            "rows": form.item_rows(),
            "package": package,
            "conflict": conflict,
            "saved_items": saved_items,
            "saved_groups": [_(KEY_POPULATIONS[g][0]) for g in (conflict.target_groups if conflict else [])],
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def package_new(request: HttpRequest) -> HttpResponse:
    _require_package_admin(request)
    form = PackageForm(request.POST or None)
    if request.method == "GET":
        return _package_form_page(request, form)
    if form.is_valid():
        d = form.cleaned_data
        staff = getattr(request.user, "staff", None)
        institution = (
            staff.institution if staff is not None and user_role(request.user) == Role.CENTRE_MANAGER else None
        )
        try:
            p = services.package_create(actor=request.user, institution=institution, items=form.items(), **d)
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("服务包已创建：%(name)s。") % {"name": p.name})
            return redirect("contracts:packages")
    return _package_form_page(request, form, status=422)


@staff_required
@require_http_methods(["GET", "POST"])
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a package and its items. Centre managers edit their centre's packages, district admins the
    district-wide ones (403 for others who see the package, 404 for those who do not).

    A save based on an outdated ``version`` changes nothing: the page comes back (409) with the user's
    input kept, says what the other person saved, and carries the new version, so saving again on
    purpose replaces their change."""
    package = selectors.package_get_for_edit(request.user, pk)
    form = PackageEditForm(request.POST or None, package=package)
    if request.method == "GET":
        return _package_form_page(request, form, package=package)
    if form.is_valid():
        try:
            services.package_update(
                actor=request.user, package=package, version=form.cleaned_data["version"], **form.changes()
            )
        except ConcurrentEditError:
            saved = selectors.package_get(request.user, pk)
            data = request.POST.copy()
            data["version"] = str(saved.version)
            form = PackageEditForm(data, package=saved)
            return _package_form_page(request, form, package=saved, conflict=saved, status=409)
        except DomainValidationError as exc:
            form.add_domain_errors(exc)
        else:
            messages.success(request, _("服务包已保存：%(name)s。") % {"name": form.cleaned_data["name"]})
            return redirect("contracts:packages")
    return _package_form_page(request, form, package=package, status=422)


@staff_required
@require_POST
def packages_install(request: HttpRequest) -> HttpResponse:
    """Install the default (demo) packages: district-wide for the district, else for the centre."""
    _require_package_admin(request)
    staff = getattr(request.user, "staff", None)
    institution = None
    if user_role(request.user) == Role.CENTRE_MANAGER and staff is not None:
        institution = staff.institution
    services.packages_install_defaults(institution)
    messages.success(request, _("已安装默认服务包（演示值，请按本地政策核定价格与项目）。"))
    return redirect("contracts:packages")


# ---------------------------------------------------------------------------------------------
# Functional communities (places of signing)
# ---------------------------------------------------------------------------------------------


@staff_required
def community_list(request: HttpRequest) -> HttpResponse:
    """The functional communities of the user's institution subtree (employers, parks, schools)."""
    kind = request.GET.get("kind") or None
    if kind not in CommunityKind.values:
        kind = None
    page = selectors.functional_community_page(request.user, kind=kind, page=_page_number(request))
    return render(
        request,
        "contracts/community_list.html",
        {
            "page": page,
            "kind": kind,
            "kinds": CommunityKind.choices,
            "can_write": can_write_clinical(request.user),
            "elderly_care": selectors.elderly_care_institutions(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def community_new(request: HttpRequest) -> HttpResponse:
    """Register a functional community served by an institution of the user's subtree."""
    require_writer(request)
    form = FunctionalCommunityForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                fc = services.functional_community_create(
                    actor=request.user,
                    name=d["name"],
                    kind=d["kind"],
                    area=d["area_code"],
                    institution=d["institution_id"],
                    address=d.get("address", ""),
                )
            except DomainValidationError as exc:
                form.add_domain_errors(exc)
            else:
                messages.success(request, _("已登记功能社区：%(name)s。") % {"name": fc.name})
                return redirect("contracts:communities")
        return render(request, "contracts/community_form.html", {"form": form}, status=422)
    return render(request, "contracts/community_form.html", {"form": form})

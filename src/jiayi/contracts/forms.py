"""Contract page forms. Field names are the API's payload names, so a service's DomainValidationError
lands on the right field on the page as in the API (``team_id``, ``package_ids`` …)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jiayi.contracts import catalogue, selectors
from jiayi.contracts.models import (
    SCORE_CHOICES,
    CommunityKind,
    ConsentMethod,
    FunctionalCommunity,
    PackageItem,
    PackageKind,
    ServicePackage,
    SigningPlace,
    SurveyMethod,
    TerminationReason,
    WaiverReason,
)
from jiayi.core.errors import DomainValidationError
from jiayi.org.models import Area, Institution, Staff, Team
from jiayi.residents.models import Relationship
from jiayi.residents.rules import KEY_POPULATIONS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DomainErrorsMixin:
    """A service's field errors go on the form's fields; other paths become form-wide errors."""

    def add_domain_errors(self, exc: DomainValidationError) -> None:
        for key, messages in exc.errors.items():
            target = key if key in self.fields else None  # type: ignore[attr-defined]
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.name}（{obj.institution.name}）"


class DoctorChoiceField(forms.ModelChoiceField):
    """Doctors labelled with their list size, so the load is visible when assigning."""

    sizes: dict[int, int] = {}
    teams: dict[int, str] = {}

    def label_from_instance(self, obj: Staff) -> str:
        cap = settings.JIAYI["DOCTOR_LIST_SOFT_CAP"]
        n = self.sizes.get(obj.pk, 0)
        over = _("，已超提示上限%(cap)s") % {"cap": cap} if cap and n >= cap else ""
        return _("%(team)s · %(name)s（签约%(n)s人%(over)s）") % {
            "team": self.teams.get(obj.pk, ""),
            "name": obj.name,
            "n": n,
            "over": over,
        }


class PackageChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ServicePackage) -> str:
        return f"{obj.name}（{obj.price}元）"


class TermsForm(DomainErrorsMixin, forms.Form):
    """Team, doctor, consent and place: shared by signing, household signing and renewal."""

    team_id = TeamChoiceField(label=_lazy("签约团队"), queryset=Team.objects.none())
    doctor_id = DoctorChoiceField(label=_lazy("签约医生"), queryset=Staff.objects.none())
    consent_method = forms.ChoiceField(
        label=_lazy("居民确认方式"),
        choices=ConsentMethod.choices,
        initial=ConsentMethod.HANDWRITTEN,
        widget=forms.RadioSelect,
    )
    consent_signatory = forms.CharField(
        label=_lazy("签字人"), max_length=50, required=False, help_text=_lazy("本人签字可不填。")
    )
    consent_relation = forms.ChoiceField(
        label=_lazy("签字人与居民关系"), choices=[("", "—"), *Relationship.choices], required=False
    )
    consent_document = forms.CharField(label=_lazy("协议书编号"), max_length=100, required=False)
    place_type = forms.ChoiceField(label=_lazy("签约地点"), choices=SigningPlace.choices)
    functional_community_id = forms.ModelChoiceField(
        label=_lazy("功能社区"), queryset=FunctionalCommunity.objects.none(), required=False
    )
    place_institution_id = forms.ModelChoiceField(
        label=_lazy("养老机构"), queryset=Institution.objects.none(), required=False
    )
    place_note = forms.CharField(label=_lazy("地点说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        teams = list(selectors.teams_for_user(user))
        self.fields["team_id"].queryset = selectors.teams_for_user(user)
        doctors = Staff.objects.filter(team_memberships__team__in=teams, active=True).distinct().order_by("name")
        field: DoctorChoiceField = self.fields["doctor_id"]  # type: ignore[assignment]
        field.queryset = doctors
        field.sizes = selectors.doctor_list_sizes(list(doctors.values_list("pk", flat=True)))
        field.teams = {}
        for t in teams:
            for sid in t.members.values_list("staff_id", flat=True):
                field.teams.setdefault(sid, t.name)
        self.fields["functional_community_id"].queryset = FunctionalCommunity.objects.visible_to(user).filter(
            active=True
        )
        self.fields["place_institution_id"].queryset = Institution.objects.filter(
            pk__in=[i.pk for i in selectors.elderly_care_institutions()]
        )
        default_team = selectors.default_team_for(user)
        staff = getattr(user, "staff", None)
        if default_team is not None:
            self.fields["team_id"].initial = default_team.pk
            if staff is not None and staff.pk in selectors.team_member_ids(default_team):
                self.fields["doctor_id"].initial = staff.pk
            elif default_team.leader is not None:
                self.fields["doctor_id"].initial = default_team.leader.pk

    def terms(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "team": d["team_id"],
            "doctor": d["doctor_id"],
            "consent_method": d["consent_method"],
            "consent_signatory": d.get("consent_signatory", ""),
            "consent_relation": d.get("consent_relation", ""),
            "consent_document": d.get("consent_document", ""),
            "place_type": d["place_type"],
            "functional_community": d.get("functional_community_id"),
            "place_institution": d.get("place_institution_id"),
            "place_note": d.get("place_note", ""),
        }


class SignForm(TermsForm):
    """Sign one resident: the packages (basic checked), period, fee waiver."""

    package_ids = PackageChoiceField(
        label=_lazy("服务包"), queryset=ServicePackage.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    start_date = forms.DateField(label=_lazy("生效日期"), widget=DATE_WIDGET, required=False)
    months = forms.IntegerField(label=_lazy("签约周期（月）"), min_value=1, max_value=60, initial=12, required=False)
    end_date = forms.DateField(
        label=_lazy("到期日期"), widget=DATE_WIDGET, required=False, help_text=_lazy("不填则按签约周期计算。")
    )
    waiver_reason = forms.ChoiceField(
        label=_lazy("费用减免"),
        choices=[("", _lazy("不减免（脱贫人口自动减免）")), *WaiverReason.choices],
        required=False,
    )
    waiver_note = forms.CharField(label=_lazy("减免说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user, institution: Institution | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["place_type"].initial = SigningPlace.INSTITUTION
        qs = ServicePackage.objects.visible_to(user).filter(active=True).prefetch_related("items")
        if institution is not None:
            qs = qs.filter(pk__in=ServicePackage.objects.offered_at(institution).values("pk"))
        self.fields["package_ids"].queryset = qs.order_by("kind", "name")
        basic = qs.filter(kind=PackageKind.BASIC).order_by("institution_id").first()
        self.fields["start_date"].initial = timezone.localdate()
        if basic is not None:
            self.fields["package_ids"].initial = [basic.pk]

    def optional_items(self, data) -> dict[int, list[str]]:
        """Chosen optional items (点单式) of the selected packages, from ``opt_<package id>`` checkboxes."""
        out: dict[int, list[str]] = {}
        for p in self.cleaned_data.get("package_ids", []):
            if any(i.optional for i in p.items.all()):
                out[p.pk] = [c for c in data.getlist(f"opt_{p.pk}") if catalogue.is_known(c)]
        return out


class HouseholdSignForm(SignForm):
    member_ids = forms.MultipleChoiceField(label=_lazy("签约成员"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, members: Iterable, eligible_ids: Iterable[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member_ids"].choices = [(str(m.pk), m.name) for m in members]
        self.fields["member_ids"].initial = [str(i) for i in eligible_ids]
        self.fields["place_type"].initial = SigningPlace.HOME
        for name in ("waiver_reason", "waiver_note", "end_date"):
            del self.fields[name]


class RenewForm(TermsForm):
    package_ids = PackageChoiceField(
        label=_lazy("服务包"), queryset=ServicePackage.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    months = forms.IntegerField(label=_lazy("签约周期（月）"), min_value=1, max_value=60, initial=12, required=False)
    waiver_reason = forms.ChoiceField(
        label=_lazy("费用减免"),
        choices=[("", _lazy("不减免（脱贫人口自动减免）")), *WaiverReason.choices],
        required=False,
    )
    waiver_note = forms.CharField(label=_lazy("减免说明"), max_length=200, required=False)

    def __init__(self, *args: Any, user, contract, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["team_id"].initial = contract.team_id
        self.fields["doctor_id"].initial = contract.doctor_id
        self.fields["place_type"].initial = SigningPlace.INSTITUTION
        qs = ServicePackage.objects.visible_to(user).filter(active=True).prefetch_related("items")
        self.fields["package_ids"].queryset = qs.order_by("kind", "name")
        active_ids = set(qs.values_list("pk", flat=True))
        self.fields["package_ids"].initial = [p.pk for p in contract.packages.all() if p.pk in active_ids]


class TerminateForm(DomainErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_lazy("解约原因"), choices=[("", "—"), *TerminationReason.choices])
    on = forms.DateField(label=_lazy("解约日期"), widget=DATE_WIDGET, required=False)
    note = forms.CharField(label=_lazy("说明"), max_length=300, required=False)


class DeliveryForm(DomainErrorsMixin, forms.Form):
    service_code = forms.ChoiceField(label=_lazy("服务项目"))
    delivered_on = forms.DateField(label=_lazy("服务日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_lazy("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, codes: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_code"].choices = [(c, _(catalogue.name_of(c))) for c in dict.fromkeys(codes)]
        self.fields["delivered_on"].initial = timezone.localdate()


class SurveyForm(DomainErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    surveyed_on = forms.DateField(label=_lazy("调查日期"), widget=DATE_WIDGET)
    method = forms.ChoiceField(label=_lazy("调查方式"), choices=SurveyMethod.choices, initial=SurveyMethod.PHONE)
    respondent_relation = forms.ChoiceField(
        label=_lazy("受访者"), choices=[("", _lazy("本人")), *Relationship.choices], required=False
    )
    overall_score = forms.TypedChoiceField(
        label=_lazy("总体上，您对家庭医生签约服务是否满意？"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    attitude_score = forms.TypedChoiceField(
        label=_lazy("家庭医生团队的服务态度"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    access_score = forms.TypedChoiceField(
        label=_lazy("联系签约医生是否方便"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    skill_score = forms.TypedChoiceField(
        label=_lazy("医生的诊疗水平"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    fulfilment_score = forms.TypedChoiceField(
        label=_lazy("约定的服务是否落实"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    would_renew = forms.NullBooleanField(
        label=_lazy("是否愿意续约"),
        widget=forms.Select(choices=[("unknown", "—"), ("true", _lazy("愿意")), ("false", _lazy("不愿意"))]),
        required=False,
    )
    comments = forms.CharField(label=_lazy("意见建议"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


@dataclass
class ItemRow:
    """One catalogue item as a row of the package form (included when it has a quantity)."""

    code: str
    name: str
    description: str
    quantity: str
    optional: bool
    note: str
    errors: list[str] = field(default_factory=list)


SHARE_FIELDS = ("insurance_share", "public_health_share", "resident_share")


def _money_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, max_value=99999, max_digits=7, decimal_places=2)


class PackageForm(DomainErrorsMixin, forms.Form):
    """Compose a package: one row per catalogue item with a quantity box, an "optional" tick (点单式: the
    resident may leave the item out when signing) and a note; an empty quantity leaves the item out.

    Items come from ``qty_<code>``, ``opt_<code>`` and ``note_<code>``; their errors are kept per row
    (``item_errors``, ``items_errors``) and summed up in one form-wide message, so the page shows each
    where it belongs. The price must equal the three shares (the service checks it too; the form says
    by how much they differ, on the price field).
    """

    code = forms.SlugField(
        label=_lazy("编码"), max_length=40, help_text=_lazy("字母、数字、连字符或下划线，保存后不可修改。")
    )
    name = forms.CharField(label=_lazy("名称"), max_length=100)
    kind = forms.ChoiceField(label=_lazy("类型"), choices=PackageKind.choices, initial=PackageKind.PERSONALISED)
    description = forms.CharField(label=_lazy("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    target_groups = forms.MultipleChoiceField(
        label=_lazy("适用人群（不选为全体居民）"),
        choices=[(k, _lazy(v[0])) for k, v in KEY_POPULATIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    price = _money_field(_lazy("签约服务费（元）"))
    insurance_share = _money_field(_lazy("医保基金支付（元）"))
    public_health_share = _money_field(_lazy("公共卫生经费支付（元）"))
    resident_share = _money_field(_lazy("个人支付（元）"))
    period_months = forms.IntegerField(label=_lazy("服务周期（月）"), min_value=1, max_value=36, initial=12)

    def __init__(self, *args: Any, items: Iterable[PackageItem] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initial_items = {i.service_code: i for i in items}
        self.item_errors: dict[str, list[str]] = {}
        self.items_errors: list[str] = []
        self.cleaned_items: list[dict[str, Any]] = []

    # -- items ------------------------------------------------------------------------------------

    def _posted(self, code: str) -> tuple[str, bool, str]:
        return (
            (self.data.get(f"qty_{code}") or "").strip(),
            bool(self.data.get(f"opt_{code}")),
            (self.data.get(f"note_{code}") or "").strip(),
        )

    def item_rows(self) -> list[ItemRow]:
        """Every catalogue item, filled from the posted data (bound) or the package's items."""
        rows = []
        for code, it in catalogue.SERVICE_ITEMS.items():
            if self.is_bound:
                qty, optional, note = self._posted(code)
            else:
                existing = self._initial_items.get(code)
                qty, optional, note = (
                    (str(existing.quantity), existing.optional, existing.note) if existing else ("", False, "")
                )
            rows.append(
                ItemRow(
                    code=code,
                    name=_(it.name),
                    description=_(it.description) if it.description else "",
                    quantity=qty,
                    optional=optional,
                    note=note,
                    errors=self.item_errors.get(code, []),
                )
            )
        return rows

    def _clean_items(self) -> None:
        items: list[dict[str, Any]] = []
        for code in catalogue.SERVICE_ITEMS:
            raw, optional, note = self._posted(code)
            if not raw:
                continue
            try:
                qty = int(raw)
            except ValueError:
                qty = 0
            if not 1 <= qty <= 366:
                self.item_errors.setdefault(code, []).append(_("次数须为1～366之间的整数。"))
                continue
            if len(note) > 200:
                self.item_errors.setdefault(code, []).append(_("备注不能超过200个字。"))
                continue
            items.append({"service_code": code, "quantity": qty, "optional": optional, "note": note})
        if not items and not self.item_errors:
            self.items_errors.append(_("服务包至少包含一个服务项目：请在下表中填写次数。"))
        self.cleaned_items = items
        self._summarise_item_errors()

    def _summarise_item_errors(self) -> None:
        if self.item_errors or self.items_errors:
            self.add_error(None, _("服务项目有误，请按服务项目表中的提示修改。"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._clean_items()
        if all(cleaned.get(f) is not None for f in ("price", *SHARE_FIELDS)):
            total = sum((cleaned[f] for f in SHARE_FIELDS), Decimal(0))
            if total != cleaned["price"]:
                self.add_error(
                    "price",
                    _(
                        "签约服务费须等于医保基金、公共卫生经费与个人支付之和：三项合计%(total)s元，"
                        "与签约服务费%(price)s元相差%(diff)s元。"
                    )
                    % {
                        "total": f"{total:.2f}",
                        "price": f"{cleaned['price']:.2f}",
                        "diff": f"{abs(cleaned['price'] - total):.2f}",
                    },
                )
        return cleaned

    def add_domain_errors(self, exc: DomainValidationError) -> None:
        """``items.<i>.<field>`` errors of the service go to the row of the i-th item sent."""
        for key, messages in exc.errors.items():
            if key == "items":
                self.items_errors.extend(messages)
                continue
            if key.startswith("items."):
                parts = key.split(".")
                idx = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
                if 0 <= idx < len(self.cleaned_items):
                    self.item_errors.setdefault(self.cleaned_items[idx]["service_code"], []).extend(messages)
                else:
                    self.items_errors.extend(messages)
                continue
            target = key if key in self.fields and not self.fields[key].widget.is_hidden else None
            for message in messages:
                self.add_error(target, message)
        self._summarise_item_errors()

    def items(self) -> list[dict[str, Any]]:
        """The cleaned items (after ``is_valid()``), in the service's shape."""
        return list(self.cleaned_items)


class PackageEditForm(PackageForm):
    """Change a package (its code stays). ``version`` is the one read, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    active = forms.BooleanField(
        label=_lazy("启用"), required=False, help_text=_lazy("停用后不能再用于签约；已签约的协议不受影响。")
    )

    EDITABLE = (
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
    )

    def __init__(self, *args: Any, package: ServicePackage, **kwargs: Any) -> None:
        initial = {f: getattr(package, f) for f in self.EDITABLE}
        initial["version"] = package.version
        super().__init__(*args, initial=initial, items=package.items.all(), **kwargs)
        del self.fields["code"]
        self.package = package

    def changes(self) -> dict[str, Any]:
        """Everything the page edits, for ``services.package_update`` (after ``is_valid()``)."""
        d = self.cleaned_data
        return {**{f: d[f] for f in self.EDITABLE}, "items": list(self.cleaned_items)}


class CommunityInstitutionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Institution) -> str:
        return obj.name


class CommunityAreaField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.name}（{obj.code}）"


class FunctionalCommunityForm(DomainErrorsMixin, forms.Form):
    """Register a functional community (employer, park, school) served by an institution of the user's
    subtree. Field names are the API's (``institution_id``, ``area_code``)."""

    name = forms.CharField(label=_lazy("名称"), max_length=200)
    kind = forms.ChoiceField(label=_lazy("类型"), choices=[("", "—"), *CommunityKind.choices])
    institution_id = CommunityInstitutionField(label=_lazy("服务机构"), queryset=Institution.objects.none())
    area_code = CommunityAreaField(
        label=_lazy("所在社区（居委会/村）"), queryset=Area.objects.none(), to_field_name="code"
    )
    address = forms.CharField(label=_lazy("地址"), max_length=300, required=False)

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        institutions = selectors.community_institutions_for(user)
        self.fields["institution_id"].queryset = institutions
        areas = selectors.community_areas_for(user)
        self.fields["area_code"].queryset = areas
        only = list(areas[:2])
        if len(only) == 1:
            self.fields["area_code"].initial = only[0].code
        staff = getattr(user, "staff", None)
        if staff is not None and institutions.filter(pk=staff.institution_id).exists():
            self.fields["institution_id"].initial = staff.institution_id

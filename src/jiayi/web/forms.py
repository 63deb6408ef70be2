"""Staff-page forms. Each form parses the input, calls the residents service that does the write,
and maps the service's DomainValidationError onto its fields, so the page shows field messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from jiayi.core import throttle
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.middleware import client_addr
from jiayi.org.models import Area, Institution
from jiayi.residents import services
from jiayi.residents.models import IdType, Measurement, ResidenceStatus, Resident, Sex
from jiayi.web import selectors

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DomainErrorsMixin:
    """Puts a service's field errors on the form's fields; unknown paths become form-wide errors."""

    def add_domain_errors(self, exc: DomainValidationError) -> None:
        for field, messages in exc.errors.items():
            target = field if field in self.fields and field != "version" else None  # type: ignore[attr-defined]
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, with failed logins throttled per username and per client address like the API
    token endpoint (jiayi.core.throttle). A throttled attempt is refused before the password is checked;
    ``retry_after`` then holds the seconds to wait (the view answers 429)."""

    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # a missing field: its own message, no attempt counted
        addr = client_addr(self.request)
        self.retry_after = throttle.retry_after(username, addr)
        if self.retry_after is not None:
            raise ValidationError(throttle.message(self.retry_after), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure(username, addr)
            raise
        throttle.record_success(username)
        return cleaned


@dataclass(frozen=True)
class ConflictRow:
    label: str
    submitted: str
    current: str


class ResidentForm(DomainErrorsMixin, forms.Form):
    """Create or edit a resident. On edit the hidden `version` detects concurrent changes."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("出生日期"), widget=DATE_WIDGET)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    area = forms.ChoiceField(label=_("现住社区"))
    address = forms.CharField(label=_("现住址"), max_length=300, required=False)
    institution = forms.ModelChoiceField(label=_("管理机构"), queryset=Institution.objects.none())
    residence_status = forms.ChoiceField(
        label=_("居住状态"), choices=ResidenceStatus.choices, initial=ResidenceStatus.REGISTERED
    )
    death_date = forms.DateField(label=_("死亡日期"), required=False, widget=DATE_WIDGET)
    ethnicity = forms.CharField(label=_("民族"), max_length=20, required=False, initial="汉族")
    disabled = forms.BooleanField(label=_("残疾人"), required=False)
    poverty_lifted = forms.BooleanField(label=_("脱贫人口"), required=False)
    special_fp_family = forms.BooleanField(label=_("计划生育特殊家庭成员"), required=False)
    pregnant = forms.BooleanField(label=_("孕产妇"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = (
        "name", "sex", "birth_date", "id_type", "id_number", "phone", "area", "address", "institution",
        "residence_status", "death_date", "ethnicity", "disabled", "poverty_lifted", "special_fp_family",
        "pregnant",
    )

    def __init__(self, *args: Any, user, resident: Resident | None = None, **kwargs: Any) -> None:
        self.user = user
        self.resident = resident
        self.duplicate_of: Resident | None = None
        self.conflict_rows: list[ConflictRow] = []
        if resident is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(resident, f) for f in self.FIELDS if f not in ("area", "institution")},
                "area": str(resident.area_id),
                "institution": resident.institution_id,
                "version": resident.version,
            }
        super().__init__(*args, **kwargs)
        choices = selectors.community_choices(user)
        if resident is not None and not any(str(resident.area_id) == pk for _s, g in choices for pk, _n in g):
            # A resident living outside the user's county keeps their community selectable.
            choices = [(resident.area.parent.name if resident.area.parent else "", [(str(resident.area_id),
                        resident.area.name)]), *choices]
        self.fields["area"].choices = [("", "---------"), *choices]
        institutions = selectors.managing_institutions(user)
        if resident is not None:
            institutions = institutions | Institution.objects.filter(pk=resident.institution_id)
        self.fields["institution"].queryset = institutions.distinct().order_by("code")
        staff = getattr(user, "staff", None)
        if resident is None and staff is not None:
            self.fields["institution"].initial = staff.institution_id
        if resident is None:
            del self.fields["version"]

    def clean_area(self) -> Area:
        value = self.cleaned_data["area"]
        if self.resident is not None and str(self.resident.area_id) == value:
            return self.resident.area
        area = selectors.community_for(self.user, value)
        if area is None:
            raise forms.ValidationError(_("请选择现住社区。"))
        return area

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_phone(self) -> str:
        return self.cleaned_data["phone"].strip()

    def clean_id_number(self) -> str:
        return self.cleaned_data["id_number"].strip().upper()

    def _values(self) -> dict[str, Any]:
        data = {f: self.cleaned_data[f] for f in self.FIELDS}
        data["ethnicity"] = data["ethnicity"] or "汉族"
        if data["residence_status"] != ResidenceStatus.DECEASED and not data["death_date"]:
            data["death_date"] = None
        return data

    def save(self, *, actor) -> Resident | None:
        """Create or update through the residents service; None (with errors on the form) if refused."""
        assert self.is_valid()
        values = self._values()
        try:
            if self.resident is None:
                return services.resident_create(actor=actor, **values)
            changes = {k: v for k, v in values.items() if getattr(self.resident, k) != v}
            version = self.cleaned_data.get("version") or 0
            if not changes and version == self.resident.version:
                return self.resident  # nothing to save
            # With no changes but a stale version the service still answers with the conflict.
            return services.resident_update(actor=actor, resident=self.resident, version=version, **changes)
        except ConcurrentEditError as exc:
            self._conflict(exc, values)
        except DomainValidationError as exc:
            self.add_domain_errors(exc)
            existing = getattr(exc, "existing_id", None)
            if existing is not None:
                self.duplicate_of = Resident.objects.visible_to(self.user).filter(pk=existing).first()
        return None

    def _conflict(self, exc: ConcurrentEditError, values: dict[str, Any]) -> None:
        """Keep the user's input, show what is saved now, and take the new version so that submitting
        again is a deliberate overwrite rather than a silent one."""
        assert self.resident is not None
        for messages in exc.errors.values():
            for message in messages:
                self.add_error(None, message)
        current = Resident.objects.select_related("area", "institution").get(pk=self.resident.pk)
        for f in self.FIELDS:
            saved = getattr(current, f)
            if saved != values[f]:
                mine, theirs = _display(self, f, values[f]), _display(self, f, saved)
                self.conflict_rows.append(ConflictRow(str(self.fields[f].label), mine, theirs))
        data = self.data.copy()
        data["version"] = str(current.version)
        self.data = data


def _display(form: forms.Form, field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    choices = getattr(form.fields[field], "choices", None)
    if choices and field not in ("area", "institution"):
        return str(dict(choices).get(value, value))
    return str(value)


def _dec(label: str) -> forms.DecimalField:
    # Wide bounds here on purpose: plausibility is the service's rule (residents.rules), so an
    # implausible value reaches it and gets its clear message ("合理范围为…").
    return forms.DecimalField(label=label, required=False, max_digits=7, decimal_places=2)


class MeasurementForm(DomainErrorsMixin, forms.Form):
    measured_at = forms.DateTimeField(
        label=_("测量时间"), required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sbp = forms.IntegerField(label=_("收缩压 mmHg"), required=False)
    dbp = forms.IntegerField(label=_("舒张压 mmHg"), required=False)
    heart_rate = forms.IntegerField(label=_("心率 次/分"), required=False)
    height = _dec(_("身高 cm"))
    weight = _dec(_("体重 kg"))
    waist = _dec(_("腰围 cm"))
    fasting_glucose = _dec(_("空腹血糖 mmol/L"))
    random_glucose = _dec(_("随机血糖 mmol/L"))
    hba1c = _dec(_("糖化血红蛋白 %"))
    total_cholesterol = _dec(_("总胆固醇 mmol/L"))
    triglycerides = _dec(_("甘油三酯 mmol/L"))
    ldl_c = _dec(_("低密度脂蛋白 mmol/L"))
    hdl_c = _dec(_("高密度脂蛋白 mmol/L"))

    def save(self, *, actor, resident: Resident) -> Measurement | None:
        assert self.is_valid()
        values = {f: self.cleaned_data[f] for f in Measurement.VALUE_FIELDS}
        values = {k: v for k, v in values.items() if v is not None}
        try:
            return services.measurement_record(
                actor=actor, resident=resident, measured_at=self.cleaned_data["measured_at"], **values
            )
        except DomainValidationError as exc:
            self.add_domain_errors(exc)
            return None


# The log's dates lie within these years; at the ends of the calendar the day's bounds overflow.
AUDIT_DATE_RANGE = [MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2100, 12, 31))]


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("用户名"), max_length=150, required=False)
    resident = forms.IntegerField(label=_("居民编号"), required=False, min_value=1)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=DATE_WIDGET, validators=AUDIT_DATE_RANGE
    )
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=DATE_WIDGET, validators=AUDIT_DATE_RANGE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> selectors.AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.AuditFilters(
            username=(data.get("user") or "").strip(),
            resident_id=data.get("resident"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

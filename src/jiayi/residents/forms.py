"""Resident-page forms (resident, measurement, problems). Each form parses the input, calls the
residents service that does the write, and maps the service's DomainValidationError onto its fields,
so the page shows field messages (a concurrent edit on the form as a whole, with the version now
saved so that sending again is deliberate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.forms import DomainErrorsMixin
from jiayi.org.models import Area, Institution
from jiayi.residents import selectors, services
from jiayi.residents.models import IdType, Measurement, Problem, ProblemKind, ResidenceStatus, Resident, Sex

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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


# ---------------------------------------------------------------------------------------------
# Problems section
# ---------------------------------------------------------------------------------------------


class _ServiceForm(forms.Form):
    #: Service error paths that are named differently on the form.
    FIELD_FOR: dict[str, str] = {}

    def add_domain_errors(self, exc: DomainValidationError) -> None:
        for path, messages in exc.errors.items():
            field = self.FIELD_FOR.get(path, path)
            target = field if field in self.fields and field != "version" else None
            for message in messages:
                self.add_error(target, message)

    def _conflict(self, exc: ConcurrentEditError, problem: Problem) -> None:
        self.add_domain_errors(exc)
        current = Problem.all_objects.filter(pk=problem.pk).values_list("version", flat=True).first()
        data = self.data.copy()
        data["version"] = str(current or problem.version)
        self.data = data

    def _run(self, problem: Problem | None, write) -> Problem | None:
        try:
            return write()
        except ConcurrentEditError as exc:
            assert problem is not None
            self._conflict(exc, problem)
        except DomainValidationError as exc:
            self.add_domain_errors(exc)
        return None


class ProblemForm(_ServiceForm):
    """Add a problem, or correct one (``problem`` given: the hidden version detects concurrent edits)."""

    icd10 = forms.CharField(
        label=_("ICD-10编码"), max_length=10, required=False,
        help_text=_("输入编码、中文或英文名称查找，例如 F20、精神、schizo。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    name = forms.CharField(
        label=_("名称"), max_length=100, required=False, help_text=_("不填则使用编码的名称。")
    )
    kind = forms.ChoiceField(label=_("类别"), choices=ProblemKind.choices, initial=ProblemKind.DISEASE)
    diagnosed_on = forms.DateField(label=_("确诊日期"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = ("icd10", "name", "kind", "diagnosed_on", "note")

    def __init__(self, *args: Any, problem: Problem | None = None, **kwargs: Any) -> None:
        self.problem = problem
        if problem is not None and "initial" not in kwargs:
            kwargs["initial"] = {**{f: getattr(problem, f) for f in self.FIELDS}, "version": problem.version}
        super().__init__(*args, **kwargs)
        if problem is None:
            del self.fields["version"]

    def save(self, *, actor, resident: Resident) -> Problem | None:
        assert self.is_valid()
        values = {f: self.cleaned_data[f] for f in self.FIELDS}
        if self.problem is None:
            return self._run(None, lambda: services.problem_add(actor=actor, resident=resident, **values))
        problem = self.problem
        changes = {k: v for k, v in values.items() if getattr(problem, k) != v}
        if "name" in changes and not changes["name"]:
            changes.pop("name")  # an emptied name keeps the saved one unless the code changes too
        version = self.cleaned_data.get("version") or 0
        if not changes and version == problem.version:
            return problem
        return self._run(
            problem, lambda: services.problem_update(actor=actor, problem=problem, version=version, **changes)
        )


class ProblemResolveForm(_ServiceForm):
    resolved_on = forms.DateField(label=_("痊愈/终止日期"), required=False, widget=DATE_WIDGET)
    reason = forms.CharField(label=_("终止原因"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        self.problem = problem
        kwargs.setdefault("initial", {"version": problem.version})
        super().__init__(*args, **kwargs)

    def save(self, *, actor) -> Problem | None:
        assert self.is_valid()
        data = self.cleaned_data
        return self._run(self.problem, lambda: services.problem_resolve(
            actor=actor, problem=self.problem, version=data["version"], resolved_on=data["resolved_on"],
            reason=data["reason"],
        ))


class ProblemRemoveForm(_ServiceForm):
    reason = forms.CharField(label=_("删除原因"), max_length=200, help_text=_("例如：录入错误、重复录入。"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, problem: Problem, **kwargs: Any) -> None:
        self.problem = problem
        kwargs.setdefault("initial", {"version": problem.version})
        super().__init__(*args, **kwargs)

    def save(self, *, actor) -> Problem | None:
        assert self.is_valid()
        data = self.cleaned_data
        return self._run(self.problem, lambda: services.problem_remove(
            actor=actor, problem=self.problem, version=data["version"], reason=data["reason"],
        ))

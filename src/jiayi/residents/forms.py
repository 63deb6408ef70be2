"""Forms of the resident pages' problems section. Each form parses the input, calls the residents
service that writes, and puts the service's DomainValidationError on its fields (a concurrent edit
on the form as a whole, with the version now saved so that sending again is deliberate)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.residents import services
from jiayi.residents.models import Problem, ProblemKind, Resident

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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

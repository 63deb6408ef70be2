"""The programme registry: what a programme brings to the engine.

Every programme is a sub-package of ``jiayi.programmes`` with a ``programme.py`` that calls
:func:`register` once. The engine (models, services, work lists, numbers) is the same for all;
a programme contributes

- its code and Chinese names, the ICD-10 code added to the resident's problems on enrolment;
- its visit-form schema (:mod:`jiayi.programmes.schema`);
- a rules adapter: turns a validated form into the pure rules' facts and evaluates them under the
  enrolment's rule set (classification, at-target, next due date, referral);
- the contract service codes its visits fulfil;
- which form values are copied into the resident's measurements.

Adding a programme = adding a folder with ``schema.py``, ``rules.py`` and ``programme.py``;
:func:`autodiscover` (called from the app config) imports every ``programme.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from jiayi.programmes.schema import FormSchema

__all__ = [
    "Evaluation",
    "Programme",
    "RulesAdapter",
    "all_programmes",
    "autodiscover",
    "get",
    "register",
]


@dataclass(frozen=True)
class Evaluation:
    """What the rules concluded about one visit."""

    classification: str  # key of chronic_rules.CLASSIFICATIONS / models.VisitClass
    at_target: bool | None  # control measurement below target; None if not measured
    next_due: date
    referral: tuple[str, ...] | None  # reason codes, None = no referral
    urgent: bool


class RulesAdapter(Protocol):
    """The pure rules of one programme as the engine calls them."""

    def evaluate(
        self,
        *,
        form: Mapping[str, Any],
        visit_date: date,
        previous_classification: str | None,
        birth_date: date,
        sex: str,
        ruleset_code: str,
    ) -> Evaluation: ...

    def reason_labels(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Programme:
    code: str  # 'hypertension'; also the rule-set programme
    name: str  # 高血压患者健康管理
    short_name: str  # 高血压
    icd10: str  # added as a Problem on enrolment (key-population tag follows)
    problem_name: str
    schema: FormSchema
    rules: RulesAdapter
    #: visit type -> contract service code (contracts.services.service_delivered)
    service_codes: Mapping[str, str]
    #: form field -> residents.Measurement field, recorded with each visit (source follow_up)
    measurement_fields: Mapping[str, str] = field(default_factory=dict)
    #: the measurement that decides control: 'bp' or 'fasting_glucose'
    control_measure: str = "bp"
    #: form fields shown as "last time" hints (never prefilled: they must be measured)
    hint_fields: tuple[str, ...] = ()
    order: int = 100
    #: optional hook: form -> medication lines (defaults to form["medications"])
    medication_lines: Callable[[Mapping[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def display_name(self) -> str:
        """The name in the user's language (names are Chinese message ids)."""
        from django.utils.translation import gettext

        return gettext(self.name)

    @property
    def display_short_name(self) -> str:
        from django.utils.translation import gettext

        return gettext(self.short_name)

    def lines_from(self, form: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.medication_lines is not None:
            return self.medication_lines(form)
        return list(form.get("medications") or [])


_REGISTRY: dict[str, Programme] = {}


def register(programme: Programme) -> Programme:
    """Register a programme (idempotent for the same code, so module reloads are harmless)."""
    _REGISTRY[programme.code] = programme
    return programme


def get(code: str) -> Programme:
    """The programme ``code``; KeyError if no such programme is registered."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"no programme {code!r} is registered (known: {', '.join(sorted(_REGISTRY))})") from None


def all_programmes() -> list[Programme]:
    return sorted(_REGISTRY.values(), key=lambda p: (p.order, p.code))


def autodiscover() -> None:
    """Import ``jiayi.programmes.<pkg>.programme`` for every sub-package that has one."""
    import jiayi.programmes as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg:
            continue
        name = f"{package.__name__}.{info.name}.programme"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise

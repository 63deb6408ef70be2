"""The programme registry: what a programme brings to the engine.

Every programme is a folder that is a Django app (``jiayi.programmes.hypertension``, the test-only
programmes under ``tests/plugin_programmes/``, ...) listed in ``INSTALLED_APPS``; its app config
imports its ``programme.py``, which calls :func:`register` once with a :class:`Programme` — the pure
:class:`~jiayi.programmes.spec.ProgrammeSpec` (kind, eligibility, visit types and their forms,
outcomes, rules adapter or schedule, diagnosis groups, the problem added on enrolment, service items,
panels, work-list entries) plus the display helpers the pages need. The engine (models, services,
work lists, pages, API) reads only this registry; it names no programme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from jiayi.programmes.spec import Evaluation, Kind, ProgrammeSpec

__all__ = [
    "Evaluation",
    "Kind",
    "Programme",
    "RulesAdapter",
    "all_programmes",
    "get",
    "outcome_label",
    "outcome_labels",
    "register",
    "unregister",
]


class RulesAdapter(Protocol):
    """The pure rules of one programme as the engine calls them.

    ``error_field``: the form field a ValueError of :meth:`evaluate` (visit cannot be classified) is
    reported on.
    """

    error_field: str

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
class Programme(ProgrammeSpec):
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

    @property
    def icd10(self) -> str:
        """The ICD-10 code of the problem the programme adds on enrolment ('' if it declares none)."""
        return self.problem.icd10 if self.problem is not None else ""

    @property
    def outcome_labels(self) -> dict[str, str]:
        from django.utils.translation import gettext

        return {o.code: gettext(o.label) for o in self.outcomes}

    def lines_from(self, form: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.medication_lines is not None:
            return self.medication_lines(form)
        return list(form.get("medications") or [])


_REGISTRY: dict[str, Programme] = {}


def register(programme: Programme) -> Programme:
    """Register a programme (idempotent for the same code, so module reloads are harmless).

    ValueError when the declaration is invalid (:meth:`ProgrammeSpec.problems`)."""
    problems = programme.problems()
    if problems:
        raise ValueError(f"programme {programme.code!r} is not valid: {'; '.join(problems)}")
    _REGISTRY[programme.code] = programme
    return programme


def unregister(code: str) -> None:
    """Remove a programme (tests); KeyError if it is not registered."""
    del _REGISTRY[code]


def get(code: str) -> Programme:
    """The programme ``code``; KeyError if no such programme is registered."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"no programme {code!r} is registered (known: {', '.join(sorted(_REGISTRY))})") from None


def all_programmes() -> list[Programme]:
    return sorted(_REGISTRY.values(), key=lambda p: (p.order, p.code))


def all_programmes_by_code() -> dict[str, Programme]:
    return dict(_REGISTRY)


def outcome_label(programme: str, code: str) -> str:
    """The translated label of outcome ``code`` of ``programme`` ('' for no outcome; the code itself
    when the programme or outcome is unknown, e.g. a visit of a programme no longer installed)."""
    if not code:
        return ""
    prog = _REGISTRY.get(programme)
    return prog.outcome_labels.get(code, code) if prog is not None else code


def outcome_labels() -> dict[str, str]:
    """Every registered programme's outcome labels by code (for pages listing several programmes)."""
    out: dict[str, str] = {}
    for prog in all_programmes():
        for code, label in prog.outcome_labels.items():
            out.setdefault(code, label)
    return out

"""Versioned rule sets: every threshold, interval and table that a rule depends on.

Pure Python (no Django). The domain references mark many rules M (medium), L (low) or NOT FOUND;
those are never hard-coded in the rule functions. They live here as *data* — a `Param` holding the
default value, its confidence label, its source and, where the value is only an unverified
recollection or a project convention, ``verified=False`` with a note. The platform shows the
unverified parameters next to anything that uses them, and a newer official text becomes a new rule
set (a new ``code``) instead of a code change.

Rule sets are grouped by ``programme`` (the rule domain: a programme's code, or a shared domain such as
``"family-doctor"``) and identified
within it by ``code`` (e.g. ``"nbphs-2017"``). Each programme's rules module registers its rule sets
when it is imported::

    NBPHS_2017 = rulesets.register(RuleSet(code="nbphs-2017", programme="programme-engine", ...))

and callers pick one explicitly (``get``) or by date (``default_for``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "CONFIDENCE_LEVELS",
    "Param",
    "RuleSet",
    "all_rulesets",
    "default_for",
    "for_programme",
    "get",
    "parse_choices",
    "register",
    "unregister",
]

#: The confidence labels of RULES.md §0.1, strongest first.
CONFIDENCE_LEVELS: Final[tuple[str, ...]] = ("H", "M", "L", "NOT FOUND")


@dataclass(frozen=True)
class Param:
    """One rule parameter: its value and where it comes from.

    ``confidence`` is one of :data:`CONFIDENCE_LEVELS`. ``verified`` is False when the value has not
    been checked against the official text (an unverified recollection, a reconstruction, or a project
    convention standing in for a rule that was NOT FOUND); such a parameter must carry a ``note``
    saying what is uncertain.
    """

    value: Any
    confidence: str
    source: str
    verified: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCE_LEVELS:
            raise ValueError(
                f"Param confidence must be one of {', '.join(CONFIDENCE_LEVELS)}; got {self.confidence!r}"
            )
        if not self.source.strip():
            raise ValueError("Param source must not be empty")
        if not self.verified and not self.note.strip():
            raise ValueError("an unverified Param needs a note explaining what is unverified")


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned set of rule parameters for one programme.

    ``effective_from`` is the first day the rule set applies (used by :func:`default_for`).
    ``opt_in`` rule sets are never chosen by :func:`default_for`: they are registered so that they can
    be selected explicitly (e.g. a clinical guideline known only second-hand, which must not silently
    replace the assessment rules).
    """

    code: str
    programme: str
    title: str
    effective_from: date
    params: Mapping[str, Param]
    opt_in: bool = False
    note: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.code or not self.programme:
            raise ValueError("RuleSet needs a code and a programme")
        for key, param in self.params.items():
            if not isinstance(param, Param):
                raise TypeError(f"rule set {self.label}: parameter {key!r} is not a Param")
        # Freeze the mapping so that a registered rule set cannot be altered in place.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.programme, self.code))

    @property
    def label(self) -> str:
        """``programme/code``, for messages and logs."""
        return f"{self.programme}/{self.code}"

    def param(self, key: str) -> Param:
        try:
            return self.params[key]
        except KeyError:
            raise KeyError(
                f"rule set {self.label} has no parameter {key!r} (known: {', '.join(sorted(self.params))})"
            ) from None

    def value(self, key: str) -> Any:
        """The value of parameter ``key``; KeyError naming the rule set if it is missing."""
        return self.param(key).value

    def unverified(self) -> tuple[str, ...]:
        """Keys of the parameters not verified against the official text, sorted."""
        return tuple(sorted(k for k, p in self.params.items() if not p.verified))

    def derive(
        self,
        *,
        code: str,
        title: str,
        effective_from: date,
        overrides: Mapping[str, Param],
        opt_in: bool = False,
        note: str = "",
    ) -> RuleSet:
        """A new rule set for the same programme with some parameters replaced (e.g. a local rule).

        Only existing keys may be overridden, so a typo cannot add a parameter nobody reads.
        """
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise KeyError(f"rule set {self.label} has no parameter(s) {', '.join(sorted(unknown))}")
        params = dict(self.params)
        params.update(overrides)
        return RuleSet(
            code=code,
            programme=self.programme,
            title=title,
            effective_from=effective_from,
            params=params,
            opt_in=opt_in,
            note=note,
        )


_REGISTRY: dict[tuple[str, str], RuleSet] = {}


def register(ruleset: RuleSet, *, replace: bool = False) -> RuleSet:
    """Add ``ruleset`` to the registry and return it.

    Registering an equal rule set again is a no-op (module reloads); a *different* rule set under an
    existing ``(programme, code)`` raises ValueError unless ``replace=True``.
    """
    key = (ruleset.programme, ruleset.code)
    existing = _REGISTRY.get(key)
    if existing is not None and existing != ruleset and not replace:
        raise ValueError(f"a different rule set {ruleset.label} is already registered")
    _REGISTRY[key] = ruleset
    return ruleset


def unregister(programme: str, code: str) -> None:
    """Remove a rule set (tests, local administration); KeyError if it is not registered."""
    try:
        del _REGISTRY[(programme, code)]
    except KeyError:
        raise KeyError(f"no rule set {programme}/{code} is registered") from None


def get(programme: str, code: str) -> RuleSet:
    """The rule set ``code`` of ``programme``; KeyError with the known codes if there is none."""
    try:
        return _REGISTRY[(programme, code)]
    except KeyError:
        known = ", ".join(rs.code for rs in for_programme(programme)) or "none"
        raise KeyError(
            f"no rule set {code!r} registered for programme {programme!r} (registered: {known}); "
            "is the programme's rules module imported?"
        ) from None


def for_programme(programme: str) -> list[RuleSet]:
    """The programme's rule sets, oldest ``effective_from`` first."""
    return sorted(
        (rs for rs in _REGISTRY.values() if rs.programme == programme),
        key=lambda rs: (rs.effective_from, rs.code),
    )


def default_for(programme: str, on: date) -> RuleSet:
    """The non-opt-in rule set of ``programme`` with the latest ``effective_from`` on or before ``on``."""
    candidates = [rs for rs in for_programme(programme) if not rs.opt_in and rs.effective_from <= on]
    if not candidates:
        raise KeyError(f"no rule set of programme {programme!r} is in effect on {on.isoformat()}")
    return candidates[-1]


def all_rulesets() -> list[RuleSet]:
    """Every registered rule set, by programme then ``effective_from``."""
    return sorted(_REGISTRY.values(), key=lambda rs: (rs.programme, rs.effective_from, rs.code))


_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def parse_choices(text: str) -> dict[str, str]:
    """``"family-doctor=fd-2025,programme-engine=nbphs-2017-estimated"`` -> {programme: code}
    (a setting choosing rule sets by hand). Strict: every item is ``programme=code`` in lower-case
    letters, digits, '.' and '-', each programme once; ValueError says what is wrong. Empty -> {}.
    Whether the rule sets exist is checked once the rules modules are imported (a system check)."""
    out: dict[str, str] = {}
    if not text.strip():
        return out
    for item in text.split(","):
        programme, sep, code = (part.strip() for part in item.partition("="))
        if not sep or not _NAME.match(programme) or not _NAME.match(code):
            raise ValueError(f"{item.strip()!r} is not programme=code")
        if programme in out:
            raise ValueError(f"programme {programme!r} is given twice")
        out[programme] = code
    return out

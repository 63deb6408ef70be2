"""What a programme declares to the platform: its kind, eligibility, visit types, outcomes, services.

Pure Python (no Django). Three kinds of programme share the engine:

- *follow-up* (随访管理: hypertension, diabetes, severe mental disorder, TB course visits): each visit is
  evaluated by the programme's rules, classified, and sets the next due date;
- *schedule* (按时间表服务: child health checks, immunisation, elderly annual management, TCM): visits
  are due at ages or calendar points from a schedule held in the enrolment's rule set, each with a
  window and a catch-up period;
- *episode* (阶段性管理: pregnancy, TB treatment, home sickbed): an episode with a start, planned
  contacts at offsets from the start, and an end.

The schedule and episode kinds reduce to the same pure machinery: a schedule is a tuple of
:class:`ScheduleItem` anchored at the birth date, the enrolment (episode) start or a calendar day;
:func:`windows` lays them out as dated :class:`DueWindow` s, :func:`fulfilled` assigns recorded visits
to windows, and :func:`next_window` is the work item that is due next (in its window or in catch-up).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

__all__ = [
    "Anchor",
    "DueWindow",
    "Eligibility",
    "EpisodePlan",
    "Evaluation",
    "Kind",
    "Link",
    "Outcome",
    "ProblemSpec",
    "ProgrammeSpec",
    "RuleVector",
    "ScheduleItem",
    "VisitTypeSpec",
    "WorklistEntry",
    "add_months",
    "age_in_months",
    "episode_expected_end",
    "fulfilled",
    "next_window",
    "window_status",
    "windows",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


class Kind(enum.StrEnum):
    FOLLOW_UP = "follow_up"
    SCHEDULE = "schedule"
    EPISODE = "episode"


@dataclass(frozen=True)
class Evaluation:
    """What a programme's rules concluded about one visit.

    ``next_due`` is None when the programme's schedule (schedule and episode kinds), not the visit,
    decides when the next contact is due.
    """

    classification: str  # an outcome code of the programme
    at_target: bool | None  # the control measurement is below target; None if not measured / not used
    next_due: date | None
    referral: tuple[str, ...] | None  # reason codes, None = no referral
    urgent: bool


class Anchor(enum.StrEnum):
    BIRTH = "birth"  # an age: months/days after the birth date
    START = "start"  # after the enrolment (episode) start
    CALENDAR = "calendar"  # a day of every calendar year (month, day)


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def age_in_months(birth_date: date, on: date) -> int:
    """Completed months of age on ``on`` (0 before the first month is complete)."""
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if add_months(birth_date, months) > on:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class Eligibility:
    """Who may be enrolled: an age range (completed months), sexes, diagnosis groups, an open episode.

    Empty means "no condition". ``diagnosis_groups``: the resident must have an active problem in one
    of them (e.g. a TB course visit needs a TB diagnosis). ``episode``: the resident must be in an open
    episode of that programme (postpartum visits need a pregnancy episode).
    """

    min_age_months: int | None = None
    max_age_months: int | None = None  # inclusive: eligible while age_in_months <= max
    sexes: frozenset[str] = frozenset()
    diagnosis_groups: tuple[str, ...] = ()
    episode: str | None = None

    def refusals(
        self,
        *,
        birth_date: date,
        sex: str,
        on: date,
        diagnosis_groups: Iterable[str] = (),
        open_episodes: Iterable[str] = (),
    ) -> tuple[str, ...]:
        """Why the resident is not eligible on ``on`` (message ids); empty = eligible."""
        out: list[str] = []
        months = age_in_months(birth_date, on)
        if self.min_age_months is not None and months < self.min_age_months:
            out.append(_("年龄未达到本项目的服务对象要求。"))
        if self.max_age_months is not None and months > self.max_age_months:
            out.append(_("年龄超出本项目的服务对象范围。"))
        if self.sexes and sex not in self.sexes:
            out.append(_("性别不符合本项目的服务对象要求。"))
        if self.diagnosis_groups and not set(self.diagnosis_groups) & set(diagnosis_groups):
            out.append(_("该居民没有本项目要求的诊断。"))
        if self.episode is not None and self.episode not in set(open_episodes):
            out.append(_("该居民不在本项目要求的管理阶段中。"))
        return tuple(out)


@dataclass(frozen=True)
class Outcome:
    """A visit outcome (classification) with its label (a Chinese message id).

    ``attention``: for an outcome whose next visit is a short-interval one, the reason shown on that
    task (a message id); empty = a routine outcome.
    """

    code: str
    label: str
    attention: str = ""


@dataclass(frozen=True)
class VisitTypeSpec:
    """A kind of visit the programme records, its form (a :class:`~jiayi.programmes.schema.FormSchema`)
    and the contract service items a visit of this type delivers. ``example``: a filled-in form that
    validates (API documentation and the programme contract test)."""

    code: str
    label: str
    form: Any
    service_items: tuple[str, ...] = ()
    example: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProblemSpec:
    """The problem added to the resident's record on enrolment when none of the programme's diagnosis
    groups is on it already (so the key-population tag follows)."""

    icd10: str
    name: str


@dataclass(frozen=True)
class Link:
    """A page of the programme linked from the home page (url name without arguments) and its label."""

    url_name: str
    label: str


@dataclass(frozen=True)
class WorklistEntry:
    """A task kind the programme puts on the work list, with its label."""

    task_kind: str
    label: str


@dataclass(frozen=True)
class ScheduleItem:
    """One scheduled contact.

    ``anchor`` BIRTH: due ``months``/``days`` after birth; START: after the enrolment (episode) start;
    CALENDAR: every year on (``month``, ``day``). The window opens ``window_before`` days before the
    target and closes ``window_after`` days after it; a visit up to ``catch_up`` days after the window
    closes still fulfils the item (补做), later the item is missed.
    """

    code: str
    label: str
    anchor: Anchor
    months: int = 0
    days: int = 0
    month: int = 1
    day: int = 1
    window_before: int = 0
    window_after: int = 0
    catch_up: int = 0
    visit_type: str = ""  # the visit type (form) recorded for this item; '' = the programme's first

    def __post_init__(self) -> None:
        if min(self.months, self.days, self.window_before, self.window_after, self.catch_up) < 0:
            raise ValueError(f"schedule item {self.code!r}: offsets and windows must not be negative")
        if self.anchor == Anchor.CALENDAR:
            date(2024, self.month, self.day)  # raises ValueError for an impossible day (29 Feb is allowed)


@dataclass(frozen=True, order=True)
class DueWindow:
    """A dated instance of a schedule item. ``key`` is unique within a schedule (``code`` or, for
    calendar items, ``code@year``)."""

    target: date
    key: str
    code: str
    label: str
    opens: date
    closes: date
    catch_up_until: date
    visit_type: str = ""


def _target(item: ScheduleItem, *, birth_date: date, start: date, year: int | None = None) -> date:
    if item.anchor == Anchor.BIRTH:
        return add_months(birth_date, item.months) + timedelta(days=item.days)
    if item.anchor == Anchor.START:
        return add_months(start, item.months) + timedelta(days=item.days)
    assert year is not None
    day = min(item.day, calendar.monthrange(year, item.month)[1])
    return date(year, item.month, day)


def _window(item: ScheduleItem, target: date, key: str) -> DueWindow:
    closes = target + timedelta(days=item.window_after)
    return DueWindow(
        target=target,
        key=key,
        code=item.code,
        label=item.label,
        opens=target - timedelta(days=item.window_before),
        closes=closes,
        catch_up_until=closes + timedelta(days=item.catch_up),
        visit_type=item.visit_type,
    )


def windows(
    schedule: Sequence[ScheduleItem], *, birth_date: date, start: date, until: date, end: date | None = None
) -> list[DueWindow]:
    """The schedule's windows that apply to an enrolment from ``start`` (to ``end``, if it ended), by
    target date. Age and start-anchored items are laid out once; calendar items repeat every year from
    the start year through ``until``'s year.

    An item whose catch-up ended before the enrolment started does not apply (a child enrolled at two
    years is not owed the one-month check); nor does one whose window opens after the enrolment ended.
    """
    out: list[DueWindow] = []
    for item in schedule:
        if item.anchor == Anchor.CALENDAR:
            years = range(start.year, until.year + 1)
            dated = [
                _window(item, _target(item, birth_date=birth_date, start=start, year=y), f"{item.code}@{y}")
                for y in years
            ]
        else:
            dated = [_window(item, _target(item, birth_date=birth_date, start=start), item.code)]
        out.extend(w for w in dated if w.catch_up_until >= start and (end is None or w.opens <= end))
    return sorted(out)


def fulfilled(due: Sequence[DueWindow], visit_dates: Iterable[date]) -> dict[str, date]:
    """Which windows the visits fulfil: ``{window key: visit date}``.

    Visits are taken in date order; each fulfils the earliest-target open window (not yet fulfilled)
    whose span ``opens .. catch_up_until`` contains it. A visit that falls in no window fulfils nothing.
    """
    done: dict[str, date] = {}
    ordered = sorted(due)
    for visit in sorted(visit_dates):
        for w in ordered:
            if w.key not in done and w.opens <= visit <= w.catch_up_until:
                done[w.key] = visit
                break
    return done


def next_window(due: Sequence[DueWindow], done: Mapping[str, date] | Iterable[str], today: date) -> DueWindow | None:
    """The window to work on next: the earliest not fulfilled whose catch-up has not ended by ``today``."""
    done_keys = set(done)
    for w in sorted(due):
        if w.key not in done_keys and w.catch_up_until >= today:
            return w
    return None


def window_status(w: DueWindow, on: date) -> str:
    """'upcoming' (before the window), 'open', 'catch_up' (after the window, still fulfillable), 'missed'."""
    if on < w.opens:
        return "upcoming"
    if on <= w.closes:
        return "open"
    if on <= w.catch_up_until:
        return "catch_up"
    return "missed"


@dataclass(frozen=True)
class EpisodePlan:
    """An episode's planned contacts (items anchored at the start) and its expected length."""

    contacts: tuple[ScheduleItem, ...]
    expected_days: int

    def __post_init__(self) -> None:
        if self.expected_days <= 0:
            raise ValueError("an episode must have a positive expected length")
        for c in self.contacts:
            if c.anchor != Anchor.START:
                raise ValueError(f"episode contact {c.code!r} must be anchored at the episode start")


def episode_expected_end(plan: EpisodePlan, start: date) -> date:
    """The day the episode is expected to end (start + expected length)."""
    return start + timedelta(days=plan.expected_days)


@dataclass(frozen=True)
class RuleVector:
    """A worked example the programme's rules must reproduce (from RULES.md / ALGORITHMS.md, or the
    programme's own source), run by the programme contract test.

    Follow-up kind: ``form`` at ``visit_date`` (after a visit classified ``previous``) gives
    ``classification``, ``next_due`` and ``referral`` (True/False; None = not checked). Schedule and
    episode kinds: an enrolment from ``start`` with visits on ``visits`` has, on ``today``, the window
    ``next_key`` due next ('' = nothing is due any more).
    """

    name: str
    ruleset: str
    birth_date: date
    sex: str = "M"
    form: Mapping[str, Any] = field(default_factory=dict)
    visit_date: date | None = None
    previous: str | None = None
    classification: str | None = None
    next_due: date | None = None
    referral: bool | None = None
    start: date | None = None
    visits: tuple[date, ...] = ()
    today: date | None = None
    next_key: str | None = None


#: Codes a programme may not take: the fixed segments next to a programme code in the API's paths
#: (``/programmes/enrolments``, ``/programmes/visits/{id}``, ``/programmes/screening/cases`` ...).
RESERVED_CODES: Final[frozenset[str]] = frozenset(
    {"enrolments", "visits", "referrals", "screening", "numbers", "forecast", "registers"}
)

#: The characters a programme code is made of (it is a URL segment, a column value and a rule-set key).
PROGRAMME_CODE_CHARS: Final[str] = "abcdefghijklmnopqrstuvwxyz0123456789_"


@dataclass(frozen=True)
class ProgrammeSpec:
    """Everything a programme declares (pure data and pure callables).

    ``rules``: for follow-up programmes the rules adapter (:class:`jiayi.programmes.engine.RulesAdapter`)
    that classifies a visit and sets the next due date; schedule and episode programmes may have one
    to classify their visits (their next due date comes from the schedule). ``schedule_param``: the
    parameter of the programme's rule set that holds the schedule (a tuple of :class:`ScheduleItem`,
    or an :class:`EpisodePlan` for episodes).
    """

    code: str
    name: str
    short_name: str
    kind: Kind
    visit_types: tuple[VisitTypeSpec, ...]
    outcomes: tuple[Outcome, ...] = ()
    eligibility: Eligibility = field(default_factory=Eligibility)
    rules: Any = None
    schedule_param: str = ""
    diagnosis_groups: tuple[str, ...] = ()
    problem: ProblemSpec | None = None
    key_population: str = ""
    #: form field -> residents.Measurement field, recorded with each visit (source follow_up)
    measurement_fields: Mapping[str, str] = field(default_factory=dict)
    #: form fields shown as "last time" hints (never prefilled: they must be measured)
    hint_fields: tuple[str, ...] = ()
    #: templates the resident page shows for an enrolment of this programme (after the engine's row)
    panels: tuple[str, ...] = ()
    worklist: tuple[WorklistEntry, ...] = ()
    rule_vectors: tuple[RuleVector, ...] = ()
    #: dotted path of the programme's own URLconf, mounted under its register (``registers/<code>/``,
    #: namespace ``programmes:<code>``); it may not use the engine's paths there ('' and ``residents/``)
    urls: str = ""
    #: dotted path of the programme's own ninja Router, added to the API ('' = none)
    api: str = ""
    #: url name of the programme's screening page of one resident (argument: the resident id); a
    #: screening re-check task links there ('' = the programme does not screen)
    screening_page: str = ""
    #: pages of the programme linked from the home page's work-list panel
    links: tuple[Link, ...] = ()
    order: int = 100

    @property
    def schema(self) -> Any:
        """The form of the first visit type (the usual visit)."""
        return self.visit_types[0].form

    @property
    def service_items(self) -> tuple[str, ...]:
        """Every contract service item the programme's visits deliver."""
        return tuple(dict.fromkeys(i for v in self.visit_types for i in v.service_items))

    def visit_type(self, code: str) -> VisitTypeSpec:
        for v in self.visit_types:
            if v.code == code:
                return v
        raise KeyError(code)

    def outcome_label(self, code: str) -> str:
        for o in self.outcomes:
            if o.code == code:
                return o.label
        return code

    def problems(self) -> list[str]:
        """What is wrong with the declaration (empty = valid)."""
        errs: list[str] = []
        if not self.code or any(ch not in PROGRAMME_CODE_CHARS for ch in self.code) or len(self.code) > 30:
            errs.append(f"code {self.code!r}: 1-30 of [a-z0-9_]")
        if self.code in RESERVED_CODES:
            errs.append(f"code {self.code!r} is reserved (a fixed path segment)")
        if not self.name.strip() or not self.short_name.strip():
            errs.append("name and short_name are required")
        if not isinstance(self.kind, Kind):
            errs.append(f"kind {self.kind!r} is not one of {[k.value for k in Kind]}")
        if not self.visit_types:
            errs.append("at least one visit type is required")
        codes = [v.code for v in self.visit_types]
        if len(set(codes)) != len(codes):
            errs.append("visit type codes must be unique")
        if any(len(c) > 20 or not c for c in codes):
            errs.append("visit type codes: 1-20 characters")
        for v in self.visit_types:
            if not hasattr(v.form, "validate"):
                errs.append(f"visit type {v.code!r} has no form schema")
        ocodes = [o.code for o in self.outcomes]
        if len(set(ocodes)) != len(ocodes) or any(len(c) > 20 or not c for c in ocodes):
            errs.append("outcome codes must be unique, 1-20 characters")
        if any(not o.label.strip() for o in self.outcomes):
            errs.append("every outcome needs a label")
        if self.kind == Kind.FOLLOW_UP and self.rules is None:
            errs.append("a follow-up programme needs a rules adapter")
        if self.kind in (Kind.SCHEDULE, Kind.EPISODE) and not self.schedule_param:
            errs.append("a schedule or episode programme needs schedule_param")
        if self.problem is not None and not self.problem.icd10.strip():
            errs.append("a declared problem needs an ICD-10 code")
        return errs

"""Reads of the indicators app, scoped to the user: org units, stored values, targets, line lists, reports.

Pages and the API answer from the stored ``IndicatorValue`` rows (fast); only the line list (the
residents behind a number) is computed live, narrowed to the unit, and every read of it is audited.
A unit the user may not see is a 404, like any object out of scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext as _

from jiayi.core.audit import audit_search
from jiayi.core.rulesets import RuleSet
from jiayi.core.scoping import institution_ids_visible_to
from jiayi.indicators import catalogue as C
from jiayi.indicators import periods as P
from jiayi.indicators import presets as presets_mod
from jiayi.indicators import rules
from jiayi.indicators.models import (
    ComputationRun,
    IndicatorValue,
    Level,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    TargetPreset,
)
from jiayi.indicators.texts import Text
from jiayi.org.models import (
    PRIMARY_CARE_CENTRE_TYPES,
    PRIMARY_CARE_POINT_TYPES,
    Area,
    Institution,
    InstitutionType,
    Role,
    Staff,
    Team,
    TeamRole,
)
from jiayi.org.selectors import institution_subtree_ids

LEVELS = [c for c, _label in Level.choices]
LEVEL_LABELS = dict(Level.choices)


@dataclass(frozen=True)
class Unit:
    level: str
    id: int
    name: str
    institution_id: int | None

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    @property
    def key(self) -> str:
        return f"{self.level}:{self.id}"


# ---------------------------------------------------------------------------------------------
# Words in the active language
# ---------------------------------------------------------------------------------------------


def tr(text: str) -> str:
    """A message of the catalogue, the built-in presets or the periods in the active language (template
    first, then its arguments); any other text, such as what a district typed into its own preset, as is."""
    return text.translate(gettext, ngettext) if isinstance(text, Text) else text


def indicator_text(ind: C.Indicator) -> C.Indicator:
    """``ind`` with its words in the active language. The English name is the catalogue's own
    ``name_en`` (also the FHIR subtitle), on every page."""
    english = (get_language() or "").split("-")[0] == "en"
    return dataclasses.replace(
        ind, name=ind.name_en if english else tr(ind.name), numerator=tr(ind.numerator),
        denominator=tr(ind.denominator), source=tr(ind.source), note=tr(ind.note),
    )


def catalogue_text() -> dict[str, C.Indicator]:
    """The catalogue (code → indicator, in catalogue order) worded in the active language."""
    return {code: indicator_text(i) for code, i in C.CATALOGUE.items()}


def rule_set_title(rs: RuleSet) -> str:
    """A rule set's title (a Chinese message id) in the active language."""
    return gettext(rs.title)


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


def _institution_level(inst: Institution) -> str | None:
    if inst.type == InstitutionType.HEALTH_COMMISSION:
        return "district"
    if inst.type in PRIMARY_CARE_CENTRE_TYPES:
        return "centre"
    if inst.type in PRIMARY_CARE_POINT_TYPES:
        return "station"
    return None


def _district_of(inst: Institution) -> Institution | None:
    seen = set()
    node = inst
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        if node.type == InstitutionType.HEALTH_COMMISSION:
            return node
        node = node.parent
    return None


def unit_get(user, level: str, unit_id: int) -> Unit:
    """The unit if the user may see it, else 404."""
    ids = institution_ids_visible_to(user)
    if not ids or level not in LEVELS:
        raise Http404
    visible = set(ids)
    try:
        if level in ("district", "centre", "station"):
            inst = Institution.objects.get(pk=unit_id)
            if _institution_level(inst) != level or inst.pk not in visible:
                raise Http404
            return Unit(level, inst.pk, inst.name, inst.pk)
        if level == "team":
            team = Team.objects.select_related("institution").get(pk=unit_id)
            if team.institution_id not in visible:
                raise Http404
            return Unit(level, team.pk, team.name, team.institution_id)
        if level == "doctor":
            staff = Staff.objects.get(pk=unit_id)
            if staff.institution_id not in visible:
                raise Http404
            return Unit(level, staff.pk, staff.name, staff.institution_id)
        area = Area.objects.get(pk=unit_id)
        commissions = Institution.objects.filter(pk__in=visible, type=InstitutionType.HEALTH_COMMISSION)
        if not commissions.exists():
            raise Http404  # a street spans centres: only district-level users see it
        return Unit(level, area.pk, area.name, commissions.first().pk)
    except (Institution.DoesNotExist, Team.DoesNotExist, Staff.DoesNotExist, Area.DoesNotExist, ValueError,
            OverflowError) as exc:
        raise Http404 from exc


def home_unit(user) -> Unit:
    """The widest unit the user sees: the district for the commission, the centre for a centre..."""
    staff = getattr(user, "staff", None)
    inst = staff.institution if staff is not None else None
    if inst is None and user.is_superuser:
        inst = Institution.objects.filter(type=InstitutionType.HEALTH_COMMISSION).order_by("pk").first()
    if inst is None:
        raise Http404
    level = _institution_level(inst)
    if level is None:
        raise Http404
    return unit_get(user, level, inst.pk)


def children(user, unit: Unit) -> list[Unit]:
    """The units one step down the drill-down: district → centres (and streets), centre → stations and
    teams, station → teams, team → doctors."""
    out: list[Unit] = []
    visible = set(institution_ids_visible_to(user) or [])
    if unit.level == "district":
        # Narrowed to the district's subtree first, with the parent at hand, so that finding each centre's
        # district (nearest commission above it) costs no query per centre.
        in_district = visible.intersection(institution_subtree_ids(unit.id))
        for inst in (Institution.objects.filter(type__in=PRIMARY_CARE_CENTRE_TYPES, pk__in=in_district)
                     .select_related("parent").order_by("code")):
            district = _district_of(inst)
            if district is not None and district.pk == unit.id:
                out.append(Unit("centre", inst.pk, inst.name, inst.pk))
    elif unit.level == "centre":
        for inst in Institution.objects.filter(parent_id=unit.id, pk__in=visible).order_by("code"):
            if _institution_level(inst) == "station":
                out.append(Unit("station", inst.pk, inst.name, inst.pk))
        for team in Team.objects.filter(institution_id=unit.id, active=True).order_by("name"):
            out.append(Unit("team", team.pk, team.name, team.institution_id))
    elif unit.level == "station":
        for team in Team.objects.filter(institution_id=unit.id, active=True).order_by("name"):
            out.append(Unit("team", team.pk, team.name, team.institution_id))
    elif unit.level == "team":
        # The doctor level is the responsible family doctor: the team's doctors (leader first), not its
        # nurses or public-health physicians, who never carry a panel of their own.
        team = Team.objects.get(pk=unit.id)
        members = team.members.select_related("staff").filter(
            Q(role__in=[TeamRole.LEADER, TeamRole.DOCTOR]) | Q(staff__role=Role.FAMILY_DOCTOR))
        seen: set[int] = set()
        for member in sorted(members, key=lambda m: (m.role != TeamRole.LEADER, m.staff.name, m.staff.pk)):
            if member.staff.institution_id in visible and member.staff.pk not in seen:
                seen.add(member.staff.pk)
                out.append(Unit("doctor", member.staff.pk, member.staff.name, member.staff.institution_id))
    return out


def streets(user, unit: Unit) -> list[Unit]:
    """The streets of a district that have stored values."""
    if unit.level != "district":
        return []
    ids = IndicatorValue.objects.filter(level="street").values_list("unit_id", flat=True).distinct()
    return [Unit("street", a.pk, a.name, unit.institution_id) for a in Area.objects.filter(pk__in=list(ids))]


def breadcrumbs(user, unit: Unit) -> list[Unit]:
    """The visible units above ``unit`` (district first)."""
    chain: list[Unit] = []
    visible = set(institution_ids_visible_to(user) or [])
    inst_id = unit.institution_id if unit.level in ("team", "doctor") else None
    if unit.level == "doctor":
        team = Team.objects.filter(members__staff_id=unit.id).order_by("pk").first()
        if team is not None and team.institution_id in visible:
            chain.append(Unit("team", team.pk, team.name, team.institution_id))
            inst_id = team.institution_id
    elif unit.level == "team":
        inst_id = unit.institution_id
    elif unit.level in ("station", "centre"):
        inst_id = Institution.objects.filter(pk=unit.id).values_list("parent_id", flat=True).first()
    node = Institution.objects.filter(pk=inst_id).first() if inst_id else None
    seen = set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        level = _institution_level(node)
        if level and node.pk in visible:
            chain.append(Unit(level, node.pk, node.name, node.pk))
        node = node.parent
    return list(reversed(chain))


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def _stored_period_codes() -> list[str]:
    """The distinct periods with stored values, by walking the period index (a few dozen index probes
    instead of a DISTINCT over hundreds of thousands of values)."""
    codes: list[str] = []
    qs = IndicatorValue.objects.order_by("period").values_list("period", flat=True)
    code = qs.first()
    while code is not None:
        codes.append(code)
        code = qs.filter(period__gt=code).first()
    return codes


def periods_available(kind: str | None = None) -> list[str]:
    """Stored periods, latest first (by end, then start); only those of ``kind`` when given."""
    periods = []
    for code in _stored_period_codes():
        try:
            periods.append(P.parse(code))
        except ValueError:
            continue
    return [p.code for p in sorted(periods, key=lambda p: (p.end, p.start), reverse=True) if not kind or p.kind == kind]


def default_period(available: list[str] | None = None) -> str | None:
    """The latest computed year (its value so far while it runs), else the latest period; ``available``
    is :func:`periods_available` when the caller already has it."""
    available = periods_available() if available is None else available
    return next((c for c in available if P.parse(c).kind == "year"), available[0] if available else None)


def unit_values(user, unit: Unit, period: str) -> dict[str, IndicatorValue]:
    qs = IndicatorValue.objects.visible_to(user).filter(level=unit.level, unit_id=unit.id, period=period)
    return {v.indicator: v for v in qs}


def group_values(user, unit: Unit, group: str, period: str | None) -> list[tuple[C.Indicator, IndicatorValue | None]]:
    """The indicators of the dashboard group ``group`` that exist at the unit's level (catalogue order,
    worded in the active language), each with its stored value for ``period`` (None if not stored)."""
    values = unit_values(user, unit, period) if period else {}
    return [(indicator_text(i), values.get(i.code)) for i in C.indicators()
            if i.group == group and unit.level in i.levels]


@dataclass(frozen=True)
class GroupRow:
    indicator: C.Indicator
    value: IndicatorValue | None
    unverified: list[str]

    @property
    def line_list(self) -> bool:
        """The residents behind the number can be listed (not for staff counts such as GPs)."""
        return self.indicator.subject != "staff"


@dataclass(frozen=True)
class GroupPanel:
    """A dashboard group's stored values for one unit and period (a programme's or the contracts'
    indicators), as the group page and the panels on other apps' pages show them."""

    group: str
    label: str
    unit: Unit
    period: str | None
    period_label: str
    rows: list[GroupRow]
    run: RunStatus | None  # set when nothing is stored for the unit and period: when the next run is

    @property
    def computed(self) -> bool:
        return any(r.value is not None for r in self.rows)


def group_panel(user, unit: Unit, group: str, period: str | None) -> GroupPanel:
    """``group``'s indicators at ``unit`` for ``period`` (a period code, or None when nothing is stored)."""
    from jiayi.indicators.facts import rule_context

    ctx = rule_context()
    rows = [GroupRow(i, v, i.unverified(ctx)) for i, v in group_values(user, unit, group, period)]
    computed = any(r.value is not None for r in rows)
    return GroupPanel(
        group=group, label=tr(C.GROUPS.get(group, group)), unit=unit, period=period,
        period_label=tr(P.parse(period).label) if period else "", rows=rows,
        run=None if computed or not rows else run_status(),
    )


@dataclass(frozen=True)
class RunStatus:
    """Where the indicator engine stands: the run in progress, the latest finished run and when the daily
    run next starts (``JIAYI["INDICATOR_DAILY_RUN_AT"]``, local time)."""

    running: ComputationRun | None
    last: ComputationRun | None
    next_run_at: datetime


def run_status(now: datetime | None = None) -> RunStatus:
    from django.conf import settings

    now = timezone.localtime(now)
    at = rules.parse_time_of_day(settings.JIAYI["INDICATOR_DAILY_RUN_AT"])
    runs = ComputationRun.objects.order_by("-started_at")
    return RunStatus(
        running=runs.filter(status=ComputationRun.Status.RUNNING).first(),
        last=runs.filter(status=ComputationRun.Status.DONE).first(),
        next_run_at=rules.next_daily_run(now, at),
    )


def child_values(user, units: Iterable[Unit], indicator: str, period: str) -> list[tuple[Unit, IndicatorValue | None]]:
    units = list(units)
    qs = IndicatorValue.objects.visible_to(user).filter(indicator=indicator, period=period)
    by_key = {(v.level, v.unit_id): v for v in qs.filter(level__in={u.level for u in units},
                                                         unit_id__in=[u.id for u in units])}
    return [(u, by_key.get((u.level, u.id))) for u in units]


def trend(user, unit: Unit, indicator: str, *, kind: str = "month", limit: int = 13) -> list[IndicatorValue]:
    qs = IndicatorValue.objects.visible_to(user).filter(
        level=unit.level, unit_id=unit.id, indicator=indicator, period_kind=kind
    ).order_by("-period_end")[:limit]
    return list(reversed(list(qs)))


def ranking(user, indicator: str, period: str, level: str = "centre") -> list[IndicatorValue]:
    ind = C.get(indicator)
    qs = IndicatorValue.objects.visible_to(user).filter(indicator=indicator, period=period, level=level)
    rows = [v for v in qs if v.value is not None]
    return sorted(rows, key=lambda v: (v.value if ind.direction == "higher" else -v.value), reverse=True)


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


@dataclass
class PresetView:
    code: str
    title: str
    year: int | None
    builtin: bool
    document: str = ""
    targets: list[presets_mod.Target] = field(default_factory=list)
    preset: TargetPreset | None = None
    area: str = ""

    @property
    def measurable(self) -> int:
        return sum(1 for t in self.targets if t.indicator)


def presets_for(user) -> list[PresetView]:
    out = [_builtin_view(p) for p in presets_mod.PRESETS.values()]
    for p in TargetPreset.objects.visible_to(user).prefetch_related("items"):
        out.append(_custom_view(p))
    return out


#: The preset shown when neither the request, the settings nor the district's own area picks one: the
#: programme document with the most targets measurable from the records.
FALLBACK_PRESET = "gusu-2021"


def default_preset_code(user) -> str:
    """The preset a dashboard opens with: ``JIAYI_TARGET_PRESET`` when set, else the built-in preset of
    the user's own district (its area name appears in the preset's area), else :data:`FALLBACK_PRESET`."""
    from django.conf import settings

    configured = settings.JIAYI.get("TARGET_PRESET")
    if configured:
        return configured
    staff = getattr(user, "staff", None)
    district = _district_of(staff.institution) if staff is not None else None
    if district is None and user.is_superuser:
        district = Institution.objects.filter(type=InstitutionType.HEALTH_COMMISSION).order_by("pk").first()
    area = district.area.name if district is not None and district.area_id else ""
    if area:
        for preset in presets_mod.PRESETS.values():
            if area in preset.area:
                return preset.code
    return FALLBACK_PRESET


def _builtin_view(p: presets_mod.Preset) -> PresetView:
    return PresetView(p.code, p.title, p.year, True, p.document, list(p.targets), area=p.area)


def _custom_view(p: TargetPreset) -> PresetView:
    targets = [
        presets_mod.Target(label=i.label, target=i.target, indicator=i.indicator or None, mode=i.mode,
                           unit=C.CATALOGUE[i.indicator].unit if i.indicator in C.CATALOGUE else "%", note=i.note,
                           weight=i.weight)
        for i in p.items.all()
    ]
    return PresetView(p.code, p.title, p.year, False, "", targets, p)


def preset_get(user, code: str) -> PresetView:
    if code in presets_mod.PRESETS:
        return _builtin_view(presets_mod.PRESETS[code])
    try:
        return _custom_view(TargetPreset.objects.visible_to(user).get(code=code))
    except TargetPreset.DoesNotExist as exc:
        raise Http404 from exc


def preset_text(view: PresetView) -> PresetView:
    """``view`` with the words of a built-in preset in the active language; a district's own preset keeps
    its wording (``tr`` leaves user text alone)."""
    return dataclasses.replace(
        view, title=tr(view.title), area=tr(view.area),
        targets=[dataclasses.replace(t, label=tr(t.label), note=tr(t.note)) for t in view.targets],
    )


@dataclass
class TargetRow:
    target: presets_mod.Target
    indicator: C.Indicator | None
    value: IndicatorValue | None
    met: bool | None
    score: rules.Score | None
    at_level: bool = True  # the indicator exists at the unit's level (e.g. no coverage rate per doctor)

    @property
    def status(self) -> str:
        if self.indicator is None:
            return "not_measurable"
        if not self.at_level:
            return "not_at_level"
        if self.met is None:
            return "no_data"
        return "met" if self.met else "missed"

    @property
    def status_label(self) -> str:
        return {
            "not_measurable": _("暂不可测量"), "not_at_level": _("本层级不统计"), "no_data": _("暂无数据"),
            "met": _("已达标"), "missed": _("未达标"),
        }[self.status]


def target_rows(preset: PresetView, values: dict[str, IndicatorValue],
                catalogue: Mapping[str, C.Indicator] = C.CATALOGUE, *, level: str | None = None) -> list[TargetRow]:
    """Each target of ``preset`` against ``values``; ``catalogue`` (e.g. ``catalogue_text()``) gives the
    indicator of each row. With ``level``, a target whose indicator has no value at that level (a coverage
    rate on a doctor's page) is marked so, and neither scored nor counted as measurable."""
    out = []
    for t in preset.targets:
        ind = catalogue.get(t.indicator) if t.indicator else None
        at_level = ind is None or level is None or level in ind.levels
        v = values.get(t.indicator) if ind and at_level else None
        value = v.value if v is not None else None
        met = rules.meets(value, t.target, t.mode) if ind is not None and at_level else None
        sc = rules.score(value, t.target, t.mode) if ind is not None and at_level else None
        out.append(TargetRow(t, ind, v, met, sc, at_level))
    return out


def preset_total(rows: list[TargetRow]) -> dict[str, Any]:
    scored = [r for r in rows if r.score is not None]
    weight = sum(r.target.weight for r in scored)
    total = sum(r.score.points / r.score.full * 100 * r.target.weight for r in scored) / weight if weight else None
    return {
        "targets": len(rows),
        "measurable": sum(1 for r in rows if r.indicator is not None and r.at_level),
        "met": sum(1 for r in rows if r.met),
        "missed": sum(1 for r in rows if r.met is False),
        "score": round(total, 1) if total is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# Line lists
# ---------------------------------------------------------------------------------------------


@dataclass
class LineListRow:
    resident_id: int
    name: str
    sex: str
    age: int
    masked_id_number: str
    masked_phone: str
    in_numerator: bool
    subject_id: int | None


def line_list(user, unit: Unit, indicator: str, period: str, *, status: str = "not") -> tuple[list[LineListRow], int]:
    """Residents in the denominator of ``indicator`` for ``unit`` and ``period``; ``status`` 'not' keeps
    those outside the numerator (the work to do), 'in' those inside, 'all' both. Returns the rows the
    user may see and how many were hidden by scope. Audited as a search of personal data."""
    from jiayi.indicators import engine
    from jiayi.residents.models import Resident

    ind = C.get(indicator)
    if unit.level not in ind.levels or ind.subject == "staff":
        raise Http404
    P.parse(period)
    rows = engine.line_list(indicator, period, unit.level, unit.id)
    if status == "not":
        rows = [r for r in rows if not r["in_numerator"]]
    elif status == "in":
        rows = [r for r in rows if r["in_numerator"]]
    ids = {r["resident_id"] for r in rows if r["resident_id"] is not None}
    residents = {r.pk: r for r in Resident.objects.visible_to(user).filter(pk__in=ids)}
    out = []
    hidden = 0
    for r in rows:
        res = residents.get(r["resident_id"])
        if res is None:
            hidden += 1
            continue
        out.append(LineListRow(res.pk, res.name, res.get_sex_display(), res.age, res.masked_id_number,
                               res.masked_phone, r["in_numerator"], r["subject_id"]))
    audit_search(user, object_type="indicators.line_list", query=f"{indicator} {period} {unit.key} {status}",
                 count=len(out))
    return out, hidden


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def reports_visible(user, *, state: str | None = None):
    qs = Report.objects.visible_to(user).select_related("institution", "submitted_by")
    if state:
        qs = qs.filter(state=state)
    return qs


def report_get(user, pk: int) -> Report:
    try:
        return Report.objects.visible_to(user).select_related("institution").get(pk=pk)
    except (Report.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


@dataclass
class DiffRow:
    indicator: C.Indicator | None
    code: str
    frozen: Any
    live: IndicatorValue | None

    @property
    def differs(self) -> bool:
        frozen = (self.frozen.numerator, self.frozen.denominator) if self.frozen is not None else None
        live = (self.live.numerator, self.live.denominator) if self.live is not None else None
        return frozen != live


def report_diff(report: Report, catalogue: Mapping[str, C.Indicator] = C.CATALOGUE) -> list[DiffRow]:
    """The report's frozen values next to today's stored values of the same unit and month; ``catalogue``
    (e.g. ``catalogue_text()``) gives the indicator of each row."""
    from jiayi.indicators.services import report_level

    level = report_level(report.institution)
    live = {v.indicator: v for v in IndicatorValue.objects.filter(level=level, unit_id=report.institution_id,
                                                                   period=report.period)}
    frozen = {v.indicator: v for v in report.values.all()}
    codes = [c for c in C.CATALOGUE if c in frozen or c in live]
    return [DiffRow(catalogue.get(c), c, frozen.get(c), live.get(c)) for c in codes]


def awaiting_review(user) -> list[Report]:
    from jiayi.indicators.services import can_review

    return [r for r in reports_visible(user).filter(
        state__in=[ReportState.SUBMITTED, ReportState.CENTRE_APPROVED]) if can_review(user, r)]


def awaiting_resubmission(user) -> list[tuple[Report, ReportEvent | None]]:
    """The returned reports of the user's own institution (the user may correct and resubmit them), each
    with the review event that returned it."""
    from jiayi.indicators.services import SUBMITTER_ROLES

    staff = getattr(user, "staff", None)
    if staff is None or staff.role not in SUBMITTER_ROLES:
        return []
    returns = Prefetch("events", ReportEvent.objects.filter(action=ReportAction.RETURN).order_by("-at", "-id"),
                       to_attr="returns")
    returned = reports_visible(user).filter(state=ReportState.RETURNED, institution_id=staff.institution_id)
    return [(r, r.returns[0] if r.returns else None) for r in returned.prefetch_related(returns)]


def return_event(report: Report) -> ReportEvent | None:
    """The review step that returned ``report`` (its reason is what the submitter must correct)."""
    return report.events.filter(action=ReportAction.RETURN).order_by("-at", "-id").first()


def report_history(report: Report) -> list[ReportEvent]:
    """Every review step of the report's month and institution, across its versions, oldest first: a
    resubmitted version shows why the one before it was returned."""
    return list(ReportEvent.objects.filter(report__institution_id=report.institution_id, report__period=report.period)
                .select_related("report", "actor_institution").order_by("at", "id"))

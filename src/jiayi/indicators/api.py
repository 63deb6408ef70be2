"""Indicators over /api/v1/indicators/ and the FHIR Measure / MeasureReport endpoints under /api/v1/fhir/.

Everything answers from stored values (``IndicatorValue``), scoped to the caller's institutions; a unit
or report out of scope is a 404, bad input a 422 with field paths, an action the caller may not take
on an object they can see a 403.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from jiayi.core.errors import DomainValidationError
from jiayi.indicators import catalogue as C
from jiayi.indicators import fhir, selectors, services
from jiayi.indicators import periods as P
from jiayi.indicators.facts import rule_context
from jiayi.indicators.models import ComputationRun, IndicatorValue, Report, ScoringMode

router = Router(tags=["indicators"])
fhir_router = Router(tags=["fhir"])

LevelCode = Literal["district", "street", "centre", "station", "team", "doctor"]
PeriodCode = Annotated[str, Field(pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-YTD(0[1-9]|1[0-2]))?$")]


# ---------------------------------------------------------------------------------------------
# Catalogue and values
# ---------------------------------------------------------------------------------------------


class IndicatorOut(Schema):
    code: str
    name: str
    name_en: str
    group: str
    numerator: str
    denominator: str
    period_type: str
    unit: str
    direction: str
    levels: list[str]
    source: str
    confidence: str
    rule_set_params: list[str]
    unverified: list[str]
    variant: str


@router.get("/indicators/catalogue", response=list[IndicatorOut])
def catalogue(request):
    ctx = rule_context()
    return [
        {
            "code": i.code, "name": i.name, "name_en": i.name_en, "group": i.group, "numerator": i.numerator,
            "denominator": i.denominator, "period_type": i.period_type, "unit": i.unit, "direction": i.direction,
            "levels": list(i.levels), "source": i.source, "confidence": i.confidence,
            "rule_set_params": [f"{p}:{k}" for p, k in i.params], "unverified": i.unverified(ctx),
            "variant": i.variant_text(ctx),
        }
        for i in C.indicators()
    ]


class ValueOut(Schema):
    indicator: str
    period: str
    period_kind: str
    period_start: date
    period_end: date
    as_of: date
    level: str
    unit_id: int
    unit_name: str
    numerator: float
    denominator: float
    value: float | None
    rulesets: dict
    computed_at: datetime


def _value_out(v: IndicatorValue) -> dict:
    return {
        "indicator": v.indicator, "period": v.period, "period_kind": v.period_kind, "period_start": v.period_start,
        "period_end": v.period_end, "as_of": v.as_of, "level": v.level, "unit_id": v.unit_id,
        "unit_name": v.unit_name, "numerator": v.numerator, "denominator": v.denominator, "value": v.value,
        "rulesets": v.rulesets, "computed_at": v.computed_at,
    }


class UnitValuesOut(Schema):
    level: str
    unit_id: int
    name: str
    period: str
    values: list[ValueOut]


@router.get("/indicators/units/{level}/{unit_id}", response=UnitValuesOut)
def unit_values(request, level: LevelCode, unit_id: int, period: PeriodCode | None = None,
                group: Annotated[str, Field(max_length=40)] | None = None):
    """The stored values of a unit for a period; ``group`` keeps one dashboard group (a programme's
    indicators, e.g. ``group=diabetes``, or ``contracts``)."""
    unit = selectors.unit_get(request.user, level, unit_id)
    if group is not None and group not in C.GROUPS and not any(i.group == group for i in C.indicators()):
        raise DomainValidationError({"group": _("未知的指标分组。")})
    period = period or selectors.default_period() or str(date.today().year)
    values = selectors.unit_values(request.user, unit, period)
    codes = [i.code for i in C.indicators() if group is None or i.group == group]
    return {"level": unit.level, "unit_id": unit.id, "name": unit.name, "period": period,
            "values": [_value_out(values[c]) for c in codes if c in values]}


class ChildOut(Schema):
    level: str
    unit_id: int
    name: str
    value: ValueOut | None


@router.get("/indicators/units/{level}/{unit_id}/children", response=list[ChildOut])
def unit_children(request, level: LevelCode, unit_id: int, indicator: str, period: PeriodCode):
    unit = selectors.unit_get(request.user, level, unit_id)
    if indicator not in C.CATALOGUE:
        raise DomainValidationError({"indicator": "未知的指标。"})
    rows = selectors.child_values(request.user, selectors.children(request.user, unit), indicator, period)
    return [{"level": u.level, "unit_id": u.id, "name": u.name, "value": _value_out(v) if v else None} for u, v in rows]


class LineListOut(Schema):
    resident_id: int
    name: str
    sex: str
    age: int
    id_number_masked: str
    phone_masked: str
    in_numerator: bool


class LineListPage(Schema):
    indicator: str
    period: str
    status: str
    hidden_out_of_scope: int
    items: list[LineListOut]


@router.get("/indicators/units/{level}/{unit_id}/residents", response=LineListPage)
def unit_line_list(request, level: LevelCode, unit_id: int, indicator: str, period: PeriodCode,
                   status: Literal["not", "in", "all"] = "not"):
    unit = selectors.unit_get(request.user, level, unit_id)
    if indicator not in C.CATALOGUE:
        raise DomainValidationError({"indicator": "未知的指标。"})
    rows, hidden = selectors.line_list(request.user, unit, indicator, period, status=status)
    return {
        "indicator": indicator, "period": period, "status": status, "hidden_out_of_scope": hidden,
        "items": [{"resident_id": r.resident_id, "name": r.name, "sex": r.sex, "age": r.age,
                   "id_number_masked": r.masked_id_number, "phone_masked": r.masked_phone,
                   "in_numerator": r.in_numerator} for r in rows],
    }


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


class TargetOut(Schema):
    label: str
    indicator: str | None
    target: float | None
    mode: str
    unit: str
    year: int | None
    note: str
    status: str
    value: float | None
    score: float | None


class PresetOut(Schema):
    code: str
    title: str
    year: int | None
    builtin: bool
    document: str
    targets: list[TargetOut]
    summary: dict | None = None


def _preset_out(preset: selectors.PresetView, rows: list[selectors.TargetRow] | None = None) -> dict:
    rows = rows if rows is not None else selectors.target_rows(preset, {})
    return {
        "code": preset.code, "title": preset.title, "year": preset.year, "builtin": preset.builtin,
        "document": preset.document,
        "targets": [
            {"label": r.target.label, "indicator": r.target.indicator, "target": r.target.target,
             "mode": r.target.mode, "unit": r.target.unit, "year": r.target.year, "note": r.target.note,
             "status": r.status,
             "value": r.value.value if r.value else None, "score": r.score.points if r.score else None}
            for r in rows
        ],
    }


@router.get("/indicators/presets", response=list[PresetOut])
def preset_list(request):
    return [_preset_out(p) for p in selectors.presets_for(request.user)]


@router.get("/indicators/presets/{code}", response=PresetOut)
def preset_scores(request, code: str, level: LevelCode | None = None, unit_id: int | None = None,
                  period: PeriodCode | None = None):
    preset = selectors.preset_get(request.user, code)
    if level is None or unit_id is None:
        return _preset_out(preset)
    unit = selectors.unit_get(request.user, level, unit_id)
    period = period or selectors.default_period() or str(date.today().year)
    rows = selectors.target_rows(preset, selectors.unit_values(request.user, unit, period), level=unit.level)
    out = _preset_out(preset, rows)
    out["summary"] = {**selectors.preset_total(rows), "level": unit.level, "unit_id": unit.id, "period": period}
    return out


class TargetIn(Schema):
    label: Annotated[str, Field(min_length=1, max_length=200)]
    indicator: str = ""
    target: float | None = None
    mode: Literal[tuple(ScoringMode.values)] = "egt"  # type: ignore[valid-type]
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    note: Annotated[str, Field(max_length=300)] = ""


class PresetIn(Schema):
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    based_on: str = ""
    targets: list[TargetIn] | None = None


@router.post("/indicators/presets", response={201: PresetOut})
def preset_create(request, payload: PresetIn):
    staff = getattr(request.user, "staff", None)
    if staff is None:
        raise HttpError(403, "无权进行此操作")
    preset = services.preset_create(
        actor=request.user, code=payload.code, title=payload.title, district=staff.institution, year=payload.year,
        based_on=payload.based_on,
        items=[t.dict() for t in payload.targets] if payload.targets is not None else None,
    )
    return Status(201, _preset_out(selectors.preset_get(request.user, preset.code)))


class TargetsIn(Schema):
    targets: list[TargetIn]


@router.put("/indicators/presets/{code}/targets", response=PresetOut)
def preset_targets_update(request, code: str, payload: TargetsIn):
    view = selectors.preset_get(request.user, code)
    if view.builtin or view.preset is None:
        raise HttpError(403, "内置方案不能修改，请以其为参照新建方案")
    services.preset_items_update(actor=request.user, preset=view.preset, items=[t.dict() for t in payload.targets])
    return _preset_out(selectors.preset_get(request.user, code))


# ---------------------------------------------------------------------------------------------
# Monthly reports
# ---------------------------------------------------------------------------------------------


class EventOut(Schema):
    action: str
    level: str
    actor: str
    at: datetime
    reason: str


class ReportValueOut(Schema):
    indicator: str
    frozen_numerator: float | None
    frozen_denominator: float | None
    frozen_value: float | None
    live_value: float | None
    differs: bool


class ReportOut(Schema):
    id: int
    institution_id: int
    institution: str
    period: str
    version: int
    state: str
    locked: bool
    previous_id: int | None
    submitted_at: datetime
    next_reviewer: str | None
    events: list[EventOut]
    values: list[ReportValueOut]


def _report_out(report: Report) -> dict:
    return {
        "id": report.pk, "institution_id": report.institution_id, "institution": report.institution.name,
        "period": report.period, "version": report.version, "state": report.state, "locked": report.locked,
        "previous_id": report.previous_id, "submitted_at": report.submitted_at,
        "next_reviewer": services.reviewer_level(report),
        "events": [{"action": e.action, "level": e.level, "actor": e.actor_name, "at": e.at, "reason": e.reason}
                   for e in report.events.all()],
        "values": [
            {"indicator": d.code, "frozen_numerator": d.frozen.numerator if d.frozen else None,
             "frozen_denominator": d.frozen.denominator if d.frozen else None,
             "frozen_value": d.frozen.value if d.frozen else None, "live_value": d.live.value if d.live else None,
             "differs": d.differs}
            for d in selectors.report_diff(report)
        ],
    }


class ReportListItem(Schema):
    id: int
    institution: str
    period: str
    version: int
    state: str
    next_reviewer: str | None


@router.get("/indicators/reports", response=list[ReportListItem])
def report_list(request, state: str | None = None):
    return [
        {"id": r.pk, "institution": r.institution.name, "period": r.period, "version": r.version, "state": r.state,
         "next_reviewer": services.reviewer_level(r)}
        for r in selectors.reports_visible(request.user, state=state)[:500]
    ]


class ReportIn(Schema):
    institution_id: int
    period: PeriodCode
    note: Annotated[str, Field(max_length=2000)] = ""


@router.post("/indicators/reports", response={201: ReportOut})
def report_submit(request, payload: ReportIn):
    from jiayi.org.models import Institution
    from jiayi.org.selectors import institutions_visible_to

    try:
        institution = institutions_visible_to(request.user).get(pk=payload.institution_id)
    except Institution.DoesNotExist as exc:
        raise Http404 from exc
    report = services.report_submit(actor=request.user, institution=institution, period=payload.period,
                                    note=payload.note)
    return Status(201, _report_out(report))


@router.get("/indicators/reports/{report_id}", response=ReportOut)
def report_read(request, report_id: int):
    return _report_out(selectors.report_get(request.user, report_id))


class ReviewIn(Schema):
    action: Literal["approve", "return"]
    reason: Annotated[str, Field(max_length=2000)] = ""


@router.post("/indicators/reports/{report_id}/review", response=ReportOut)
def report_review(request, report_id: int, payload: ReviewIn):
    report = selectors.report_get(request.user, report_id)
    report = services.report_review(actor=request.user, report=report, action=payload.action, reason=payload.reason)
    return _report_out(report)


class ResubmitIn(Schema):
    note: Annotated[str, Field(max_length=2000)] = ""


@router.post("/indicators/reports/{report_id}/resubmit", response={201: ReportOut})
def report_resubmit(request, report_id: int, payload: ResubmitIn):
    report = selectors.report_get(request.user, report_id)
    new = services.report_resubmit(actor=request.user, report=report, note=payload.note)
    return Status(201, _report_out(new))


# ---------------------------------------------------------------------------------------------
# Engine runs
# ---------------------------------------------------------------------------------------------


class RunIn(Schema):
    backend: Literal["db", "duckdb", "spark"] = "db"
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    incremental: bool = True


class RunOut(Schema):
    id: int
    status: str
    backend: str
    incremental: bool
    started_at: datetime
    seconds: float | None
    periods_computed: list
    values_written: int
    blocked: dict


@router.get("/indicators/runs", response=list[RunOut])
def run_list(request):
    from jiayi.core.scoping import user_role
    from jiayi.org.models import Role

    if user_role(request.user) != Role.DISTRICT_ADMIN and not request.user.is_superuser:
        raise HttpError(403, "无权查看")
    return list(ComputationRun.objects.all()[:50])


@router.post("/indicators/runs", response={202: dict})
def run_enqueue(request, payload: RunIn):
    result = services.compute_enqueue(actor=request.user, backend=payload.backend, year=payload.year,
                                      incremental=payload.incremental)
    return Status(202, {"task": str(result.id), "status": str(result.status)})


# ---------------------------------------------------------------------------------------------
# FHIR R4B
# ---------------------------------------------------------------------------------------------


def _fhir(request, body: dict, status: int = 200) -> HttpResponse:
    import json

    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/fhir+json")


def _base(request) -> str:
    return request.build_absolute_uri("/api/v1/fhir").rstrip("/")


@fhir_router.get("/Measure", response={200: dict})
def fhir_measures(request, url: str | None = None):
    base = _base(request)
    inds = C.indicators()
    if url:
        code = fhir.code_of(url)
        inds = [C.CATALOGUE[code]] if code else []
    resources = [fhir.measure(i, base) for i in inds]
    return _fhir(request, fhir.searchset(resources, request.build_absolute_uri(), len(resources)))


@fhir_router.get("/Measure/{measure_id}", response={200: dict})
def fhir_measure(request, measure_id: str):
    code = fhir.code_of(measure_id)
    if code is None:
        raise Http404
    return _fhir(request, fhir.measure(C.CATALOGUE[code], _base(request)))


def _period_q(search: fhir.DateSearch) -> Q:
    """Stored values whose reported period [period_start, as_of] matches ``search`` (fhir.period_matches)."""
    lo_ceil, lo_day, hi_ceil, hi_day = search.day_bounds()
    eq = Q(period_start__gte=lo_ceil, as_of__lt=hi_day)
    return {
        "eq": eq, "ne": ~eq, "gt": Q(as_of__gte=hi_day), "lt": Q(period_start__lt=lo_ceil),
        "ge": Q(as_of__gte=hi_day) | eq, "le": Q(period_start__lt=lo_ceil) | eq,
        "sa": Q(period_start__gte=hi_ceil), "eb": Q(as_of__lt=lo_day),
    }[search.prefix]


def _period_search(values: list[str]) -> Q:
    """FHIR date search on MeasureReport.period: repeated parameters all apply (AND), comma-separated
    values within one any (OR). ValueError names the first bad value."""
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    q = Q()
    for value in values:
        alternatives = Q()
        for part in value.split(","):
            alternatives |= _period_q(fhir.parse_date_search(part, tz))
        q &= alternatives
    return q


@fhir_router.get("/MeasureReport", response={200: dict})
def fhir_measure_reports(request, measure: str | None = None, subject: str | None = None,
                         period: Annotated[list[str] | None, Query(None)] = None,
                         period_code: Annotated[str | None, Query(None, alias="period-code")] = None,
                         count: Annotated[int, Field(ge=1, le=1000)] = Query(100, alias="_count")):
    """MeasureReports (summary) of the stored values in scope. ``period`` is FHIR date search on the
    reported period (``period=ge2026-01-01&period=le2026-03-31``, ``period=2026-03``: prefixes eq, ne,
    gt, lt, ge, le, sa, eb); ``period-code`` picks one statistical period by its code (``2026-Q1``)."""
    qs = IndicatorValue.objects.visible_to(request.user)
    errors: dict[str, str] = {}
    if measure:
        code = fhir.code_of(measure)
        if code is None:
            errors["measure"] = "未知的指标（Measure）。"
        else:
            qs = qs.filter(indicator=code)
    if subject:
        parsed = fhir.parse_subject(subject)
        if parsed is None:
            errors["subject"] = "subject 格式应为 Organization/12、CareTeam/3、Practitioner/5 或 Location/7。"
        else:
            levels, unit_id = parsed
            qs = qs.filter(level__in=levels, unit_id=unit_id)
    if period:
        try:
            qs = qs.filter(_period_search(period))
        except ValueError:
            errors["period"] = ("period 应为 FHIR 日期检索值：可带前缀 eq、ne、gt、lt、ge、le、sa、eb，日期为 2026、"
                                "2026-03 或 2026-03-31（如 ge2026-01-01）；按统计期编码检索请用 period-code。")
    if period_code:
        try:
            qs = qs.filter(period=P.parse(period_code).code)
        except ValueError:
            errors["period-code"] = "period-code 应为统计期编码：2026、2026-03、2026-Q1 或 2026-YTD03。"
    if errors:
        raise DomainValidationError(errors)
    qs = qs.order_by("indicator", "period_end", "period", "level", "unit_id")
    total = qs.count()
    base = _base(request)
    resources = [fhir.measure_report(v, base) for v in qs[:count]]
    return _fhir(request, fhir.searchset(resources, request.build_absolute_uri(), total))


@fhir_router.get("/MeasureReport/{report_id}", response={200: dict})
def fhir_measure_report(request, report_id: str):
    parts = report_id.split(".")
    if len(parts) < 4:
        raise Http404
    code = fhir.code_of(".".join(parts[:-3]))
    try:
        unit_id = int(parts[-1])
    except ValueError as exc:
        raise Http404 from exc
    if code is None or not 0 < unit_id < 2**63:
        raise Http404
    value = IndicatorValue.objects.visible_to(request.user).filter(
        indicator=code, period=parts[-3], level=parts[-2], unit_id=unit_id
    ).first()
    if value is None:
        raise Http404
    return _fhir(request, fhir.measure_report(value, _base(request)))

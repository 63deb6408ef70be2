"""Indicator pages: the dashboard of a unit (district → centre → team → doctor), the residents behind a
number, the catalogue, target presets and the monthly reports with their review.

Thin views: reads through selectors (stored values, scoped; out of scope → 404), writes through
services. Any table exports to Excel with ``?export=...``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayi.core.access import scope_required
from jiayi.core.errors import DomainValidationError
from jiayi.core.scoping import user_role
from jiayi.indicators import catalogue as C
from jiayi.indicators import periods as P
from jiayi.indicators import presets as presets_mod
from jiayi.indicators import rules, selectors, services
from jiayi.indicators.export import xlsx_response
from jiayi.indicators.facts import rule_context
from jiayi.indicators.models import ComputationRun, Report, ReportState, ScoringMode
from jiayi.org.models import Role


def _period_choices(available: list[str]) -> list[dict]:
    return [{"code": c, "label": selectors.tr(P.parse(c).label)} for c in available]


@scope_required
def dashboard(request):
    unit = selectors.home_unit(request.user)
    url = reverse("indicators:unit", args=[unit.level, unit.id])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@scope_required
def unit(request, level: str, unit_id: int):
    u = selectors.unit_get(request.user, level, unit_id)
    available = selectors.periods_available()
    period = request.GET.get("period") or selectors.default_period(available)
    if period:
        try:
            period = P.parse(period).code
        except ValueError:
            raise Http404 from None
    presets = [selectors.preset_text(p) for p in selectors.presets_for(request.user)]
    preset_code = request.GET.get("preset") or selectors.default_preset_code(request.user)
    preset = next((p for p in presets if p.code == preset_code), None)
    indicator = request.GET.get("indicator") or "ht.standardised_rate"
    if indicator not in C.CATALOGUE:
        raise Http404
    catalogue_text = selectors.catalogue_text()
    ind = catalogue_text[indicator]
    values = selectors.unit_values(request.user, u, period) if period else {}
    rows = selectors.target_rows(preset, values, catalogue_text, level=u.level) if preset else []
    kids = [c for c in selectors.children(request.user, u) if c.level in ind.levels] if period else []
    child_rows = selectors.child_values(request.user, kids, indicator, period) if period else []
    ctx_rules = rule_context()
    groups = []
    for gcode, glabel in C.GROUPS.items():
        items = [(i, values.get(i.code)) for i in catalogue_text.values() if i.group == gcode and u.level in i.levels]
        if items:
            groups.append({"code": gcode, "label": selectors.tr(glabel), "items": items})

    export = request.GET.get("export")
    if export == "targets" and preset:
        return xlsx_response(
            f"{u.name}-{preset.code}-{period}.xlsx", _("考核目标"),
            [_("考核内容"), _("指标"), _("目标值"), _("当前值"), _("分子"), _("分母"), _("状态"), _("得分"), _("备注")],
            [[r.target.label, r.indicator.name if r.indicator else "", r.target.target,
              r.value.value if r.value else None, r.value.numerator if r.value else None,
              r.value.denominator if r.value else None, r.status_label, r.score.points if r.score else None,
              r.target.note] for r in rows],
            note=f"{u.name} · {preset.title} · {period}",
        )
    if export == "values":
        return xlsx_response(
            f"{u.name}-{period}.xlsx", _("全部指标"),
            [_("指标编码"), _("指标"), _("分子"), _("分母"), _("指标值"), _("单位"), _("统计截止日"), _("口径")],
            [[i.code, i.name, v.numerator if v else None, v.denominator if v else None, v.value if v else None,
              i.unit, v.as_of.isoformat() if v else "", selectors.tr(i.variant_text(ctx_rules))]
             for g in groups for i, v in g["items"]],
            note=f"{u.name} · {period}",
        )
    if export == "children":
        return xlsx_response(
            f"{u.name}-{indicator}-{period}.xlsx", ind.name,
            [_("单位"), _("层级"), _("分子"), _("分母"), _("指标值")],
            [[c.name, c.level_label, v.numerator if v else None, v.denominator if v else None, v.value if v else None]
             for c, v in child_rows],
            note=f"{u.name} · {ind.name} · {period}",
        )

    trend = selectors.trend(request.user, u, indicator)
    rank_level = "centre" if u.level in ("district", "street") else None
    ranking = selectors.ranking(request.user, indicator, period, rank_level) if period and rank_level else []
    chart = {
        "targets": [
            {"label": r.target.label, "value": r.value.value if r.value else None, "target": r.target.target,
             "unit": r.target.unit}
            for r in rows if r.indicator is not None and r.at_level and r.target.unit == "%"
        ],
        "trend": {"name": ind.name, "periods": [v.period for v in trend], "values": [v.value for v in trend]},
        "ranking": {"name": ind.name, "units": [v.unit_name for v in ranking], "values": [v.value for v in ranking]},
        "children": {"name": ind.name, "units": [c.name for c, _v in child_rows],
                     "values": [v.value if v else None for _c, v in child_rows]},
        "labels": {"value": _("当前值"), "target": _("目标值")},
    }
    preset_target = next((r for r in rows if r.target.indicator == indicator), None)
    return render(request, "indicators/unit.html", {
        "unit": u, "period": period, "periods": _period_choices(available), "presets": presets, "preset": preset,
        "target_rows": rows, "summary": selectors.preset_total(rows) if rows else None, "groups": groups,
        "indicator": ind, "child_rows": child_rows, "crumbs": selectors.breadcrumbs(request.user, u),
        "streets": selectors.streets(request.user, u), "chart": chart, "ctx_rules": ctx_rules,
        "line_list_ok": u.level in ind.levels and ind.subject != "staff",
        "selected_value": values.get(indicator), "preset_target": preset_target,
        "unverified": ind.unverified(ctx_rules), "variant": selectors.tr(ind.variant_text(ctx_rules)),
    })


@scope_required
def group(request, group: str):
    """One dashboard group's indicators (a programme's, the contracts') for a unit — the user's own unless
    ``level`` and ``unit_id`` pick one they may see — by period, from the stored values, each linked to the
    residents behind it. Nothing is computed here: without stored values the page says when the next run is."""
    if group not in C.GROUPS and not any(i.group == group for i in C.indicators()):
        raise Http404
    level, unit_id = request.GET.get("level"), request.GET.get("unit_id")
    if level or unit_id:
        if not (unit_id or "").isdigit():
            raise Http404
        u = selectors.unit_get(request.user, level or "", int(unit_id))
    else:
        u = selectors.home_unit(request.user)
    available = selectors.periods_available()
    period = request.GET.get("period") or selectors.default_period(available)
    if period:
        try:
            period = P.parse(period).code
        except ValueError:
            raise Http404 from None
    groups = [{"code": code, "label": selectors.tr(label)} for code, label in C.GROUPS.items()
              if any(i.group == code and u.level in i.levels for i in C.indicators())]
    levels = {i.levels for i in C.indicators() if i.group == group}
    kids = [c for c in selectors.children(request.user, u) if any(c.level in lv for lv in levels)]
    return render(request, "indicators/group.html", {
        "unit": u, "period": period, "periods": _period_choices(available), "groups": groups,
        "panel": selectors.group_panel(request.user, u, group, period), "children": kids,
        "crumbs": selectors.breadcrumbs(request.user, u),
    })


@scope_required
def residents(request, level: str, unit_id: int, indicator: str):
    u = selectors.unit_get(request.user, level, unit_id)
    if indicator not in C.CATALOGUE:
        raise Http404
    ind = selectors.indicator_text(C.CATALOGUE[indicator])
    period = request.GET.get("period") or selectors.default_period()
    try:
        period = P.parse(period or "").code
    except ValueError:
        raise Http404 from None
    status = request.GET.get("status", "not")
    if status not in ("not", "in", "all"):
        status = "not"
    rows, hidden = selectors.line_list(request.user, u, indicator, period, status=status)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"{u.name}-{indicator}-{period}-{status}.xlsx", ind.name,
            [_("姓名"), _("性别"), _("年龄"), _("证件号码"), _("联系电话"), _("是否计入分子")],
            [[r.name, r.sex, r.age, r.masked_id_number, r.masked_phone, _("是") if r.in_numerator else _("否")]
             for r in rows],
            note=f"{u.name} · {ind.name} · {period} · {ind.numerator} / {ind.denominator}",
        )
    return render(request, "indicators/residents.html", {
        "unit": u, "indicator": ind, "period": period, "period_label": selectors.tr(P.parse(period).label),
        "status": status,
        "rows": rows, "hidden": hidden, "crumbs": selectors.breadcrumbs(request.user, u),
        "value": selectors.unit_values(request.user, u, period).get(indicator),
    })


@scope_required
def catalogue(request):
    ctx = rule_context()
    entries = [{"ind": i, "unverified": i.unverified(ctx), "variant": selectors.tr(i.variant_text(ctx)),
                "period_type": selectors.tr(C.PERIOD_TYPES[i.period_type])}
               for i in selectors.catalogue_text().values()]
    can_compute = user_role(request.user) == Role.DISTRICT_ADMIN
    runs = ComputationRun.objects.all()[:10] if can_compute else []
    rulesets = [{"rs": rs, "title": selectors.rule_set_title(rs),
                 "unverified": [(k, rs.param(k)) for k in rs.unverified()]} for rs in ctx.all()]
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "indicator-catalogue.xlsx", _("指标目录"),
            [_("编码"), _("指标"), _("English"), _("分子"), _("分母"), _("统计期类型"), _("单位"), _("层级"), _("来源"),
             _("可信度"), _("规则集参数"), _("待核实参数")],
            [[e["ind"].code, e["ind"].name, e["ind"].name_en, e["ind"].numerator, e["ind"].denominator,
              e["period_type"], e["ind"].unit, ",".join(e["ind"].levels), e["ind"].source, e["ind"].confidence,
              ", ".join(f"{p}:{k}" for p, k in e["ind"].params), ", ".join(e["unverified"])] for e in entries],
        )
    return render(request, "indicators/catalogue.html", {
        "entries": entries, "rulesets": rulesets, "runs": runs, "can_compute": can_compute,
        "scoring_modes": {code: _(text) for code, text in rules.SCORING_MODES.items()},
    })


@scope_required
@require_POST
def compute(request):
    try:
        services.compute_enqueue(actor=request.user, backend=request.POST.get("backend", "db"),
                                 incremental=request.POST.get("incremental", "1") == "1")
    except DomainValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        messages.success(request, _("已提交后台计算任务。"))
    return redirect("indicators:catalogue")


# ---------------------------------------------------------------------------------------------
# Target presets
# ---------------------------------------------------------------------------------------------


@scope_required
def presets(request):
    can_create = user_role(request.user) == Role.DISTRICT_ADMIN
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        year = request.POST.get("year") or None
        try:
            preset = services.preset_create(
                actor=request.user, code=request.POST.get("code", ""), title=request.POST.get("title", ""),
                district=request.user.staff.institution, year=int(year) if year and year.isdigit() else None,
                based_on=request.POST.get("based_on", ""),
            )
        except DomainValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("已创建考核目标方案。"))
            return redirect("indicators:preset", code=preset.code)
    return render(request, "indicators/presets.html", {
        "presets": [selectors.preset_text(p) for p in selectors.presets_for(request.user)], "can_create": can_create,
        "errors": errors,
        "builtin": [{"code": p.code, "title": selectors.tr(p.title)} for p in presets_mod.PRESETS.values()],
        "form": request.POST if request.method == "POST" else {},
    }, status=422 if errors else 200)


@scope_required
def preset(request, code: str):
    view = selectors.preset_text(selectors.preset_get(request.user, code))
    editable = (not view.builtin and view.preset is not None and user_role(request.user) == Role.DISTRICT_ADMIN
                and request.user.staff.institution_id == view.preset.district_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        count = int(request.POST.get("count", "0") or 0)
        items = [
            {"label": request.POST.get(f"label-{i}", ""), "indicator": request.POST.get(f"indicator-{i}", ""),
             "target": request.POST.get(f"target-{i}", ""), "mode": request.POST.get(f"mode-{i}", "egt"),
             "weight": request.POST.get(f"weight-{i}", "1"), "note": request.POST.get(f"note-{i}", "")}
            for i in range(min(count, 200)) if request.POST.get(f"delete-{i}") != "1"
        ]
        # The blank row for a new target is ignored when left empty.
        items = [it for it in items if it["label"].strip() or it["indicator"] or str(it["target"]).strip()]
        try:
            services.preset_items_update(actor=request.user, preset=view.preset, items=items)
        except DomainValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("已保存考核目标。"))
            return redirect("indicators:preset", code=code)
    catalogue_text = selectors.catalogue_text()
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"{view.code}.xlsx", view.title,
            [_("考核内容"), _("指标"), _("目标值"), _("计分方式"), _("权重"), _("备注")],
            [[t.label, catalogue_text[t.indicator].name if t.indicator in catalogue_text else _("暂不可测量"),
              t.target, t.mode, t.weight, t.note] for t in view.targets],
        )
    return render(request, "indicators/preset.html", {
        "preset": view, "editable": editable, "errors": errors, "catalogue": list(catalogue_text.values()),
        "modes": ScoringMode.choices,
        "targets": [(i, t, catalogue_text.get(t.indicator) if t.indicator else None)
                    for i, t in enumerate(view.targets)],
    }, status=422 if errors else 200)


# ---------------------------------------------------------------------------------------------
# Monthly reports
# ---------------------------------------------------------------------------------------------


def _submit_choices(user) -> list:
    staff = getattr(user, "staff", None)
    if staff is None or staff.role not in services.SUBMITTER_ROLES:
        return []
    try:
        services.report_level(staff.institution)
    except DomainValidationError:
        return []
    return [staff.institution]


@scope_required
def reports(request):
    institutions = _submit_choices(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not institutions:
            raise PermissionDenied
        try:
            report = services.report_submit(actor=request.user, institution=institutions[0],
                                            period=request.POST.get("period", ""), note=request.POST.get("note", ""))
        except DomainValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("月度报告已报送。"))
            return redirect("indicators:report", pk=report.pk)
    months = selectors.periods_available("month")
    qs = selectors.reports_visible(request.user)
    # A month is reported once it is over: the form proposes the latest finished month not reported yet.
    today = timezone.localdate()
    taken = set(qs.filter(institution__in=institutions).exclude(state=ReportState.SUPERSEDED)
                .values_list("period", flat=True)) if institutions else set()
    default_month = next((m for m in months if P.parse(m).end < today and m not in taken), "")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "reports.xlsx", _("月度报告"), [_("机构"), _("月份"), _("版本"), _("状态"), _("报送时间")],
            [[r.institution.name, r.period, r.version, r.get_state_display(), r.submitted_at.strftime("%Y-%m-%d %H:%M")]
             for r in qs[:2000]],
        )
    return render(request, "indicators/reports.html", {
        "reports": qs[:200], "institutions": institutions, "months": months, "errors": errors,
        "awaiting": selectors.awaiting_review(request.user), "returned": selectors.awaiting_resubmission(request.user),
        "form": request.POST if request.method == "POST" else {"period": default_month},
    }, status=422 if errors else 200)


@scope_required
def report(request, pk: int):
    r = selectors.report_get(request.user, pk)
    diff = selectors.report_diff(r, selectors.catalogue_text())
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"{r.institution.name}-{r.period}-v{r.version}.xlsx", _("月度报告"),
            [_("指标"), _("报送分子"), _("报送分母"), _("报送值"), _("当前值"), _("是否不同")],
            [[d.indicator.name if d.indicator else d.code, d.frozen.numerator if d.frozen else None,
              d.frozen.denominator if d.frozen else None, d.frozen.value if d.frozen else None,
              d.live.value if d.live else None, _("是") if d.differs else ""] for d in diff],
            note=f"{r.institution.name} · {r.period} · v{r.version} · {r.get_state_display()}",
        )
    return render(request, "indicators/report.html", _report_context(request, r, diff))


def _report_context(request, r: Report, diff: list | None = None, errors: dict | None = None) -> dict:
    diff = diff if diff is not None else selectors.report_diff(r, selectors.catalogue_text())
    return {
        "report": r, "diff": diff, "differences": sum(1 for d in diff if d.differs),
        "events": selectors.report_history(r), "can_review": services.can_review(request.user, r),
        "reviewer": services.reviewer_level(r),
        "returned_by": selectors.return_event(r) if r.state == ReportState.RETURNED else None,
        "can_resubmit": services.can_resubmit(request.user, r),
        "versions": Report.objects.filter(institution=r.institution, period=r.period).order_by("version"),
        "errors": errors or {},
    }


@scope_required
def report_review(request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    r = selectors.report_get(request.user, pk)
    try:
        services.report_review(actor=request.user, report=r, action=request.POST.get("action", ""),
                               reason=request.POST.get("reason", ""))
    except DomainValidationError as exc:
        return render(request, "indicators/report.html", _report_context(request, r, errors=exc.errors), status=422)
    messages.success(request, _("审核意见已提交。"))
    return redirect("indicators:report", pk=r.pk)


@scope_required
def report_resubmit(request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    r = selectors.report_get(request.user, pk)
    try:
        new = services.report_resubmit(actor=request.user, report=r, note=request.POST.get("note", ""))
    except DomainValidationError as exc:
        return render(request, "indicators/report.html", _report_context(request, r, errors=exc.errors), status=422)
    messages.success(request, _("已重新报送（新版本）。"))
    return redirect("indicators:report", pk=new.pk)

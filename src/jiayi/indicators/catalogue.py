"""The indicator catalogue: one declarative definition per indicator.

Each :class:`Indicator` names its numerator and denominator in words (Chinese, as the appraisal
documents write them), says which period type, org levels, direction, source and rule-set parameters
it uses, and carries one ibis expression (``build``) over the fact tables of
:mod:`jiayi.indicators.facts`. The expression returns one row per counted subject (a resident, a
contract, a survey or a GP) with its org units and 0/1 (or weighted) ``num`` and ``den``; the engine
sums them per unit and period, and a line list is the same rows filtered to one unit.

Names, descriptions and sources are Chinese message ids (:class:`~jiayi.indicators.texts.Text`, translated
on the page); ``name_en`` is the English name, used by FHIR and by the English pages.

The catalogue is a registry: it holds the shared indicators (records, contracts, elderly management,
workforce) and the apps that own the rest register theirs — a programme's ``indicators.py`` calls
:func:`register_group` for its dashboard section, :func:`register` for its indicators (for a
follow-up programme, :func:`follow_up_indicators` writes the standard set) and
:func:`jiayi.indicators.facts.register_programme` for what its fact tables count. :func:`discover`
imports those modules (from the app config).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import ibis

from jiayi.indicators.facts import LEVELS, Facts, RuleContext
from jiayi.indicators.texts import Text
from jiayi.indicators.texts import mark as _
from jiayi.residents.rules import KEY_POPULATIONS

__all__ = [
    "CATALOGUE",
    "GROUPS",
    "OUTPUT_COLUMNS",
    "Indicator",
    "discover",
    "follow_up_indicators",
    "get",
    "indicators",
    "managed_coverage",
    "medication_plan_share",
    "register",
    "register_group",
    "unregister",
]


def ngettext(singular: str, plural: str, count: str, **args: object) -> Text:
    """Mark a message with a plural form, chosen by the argument named ``count``; the page translates it."""
    return Text(singular, plural, count=count, **args)


#: Columns every build() returns.
OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "wid", "subject_id", "resident_id", "doctor_id", "team_id", "station_id", "centre_id", "street_id",
    "district_id", "num", "den",
)

#: Dashboard sections, in order (a registry: group code -> title; see register_group).
GROUPS: Final[dict[str, str]] = {}
_GROUP_ORDER: dict[str, int] = {}


def register_group(code: str, title: str, *, order: int) -> None:
    """Register (or replace) dashboard section ``code``; sections are shown by ``order``."""
    _GROUP_ORDER[code] = order
    items = {**GROUPS, code: title}
    GROUPS.clear()
    GROUPS.update(sorted(items.items(), key=lambda kv: (_GROUP_ORDER[kv[0]], kv[0])))


register_group("records", _("居民健康档案"), order=10)
register_group("contracts", _("家庭医生签约服务"), order=20)
register_group("elderly", _("老年人健康管理"), order=80)
register_group("workforce", _("人力资源"), order=90)

PERIOD_TYPES: Final[dict[str, str]] = {
    "point": _("时点值（统计期末）"),
    "ytd": _("年度累计（考核年度1月1日至统计期末）"),
    "range": _("期间值（统计期内发生）"),
}

Builder = Callable[[Facts], ibis.Table]


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    name_en: str
    group: str
    numerator: str
    denominator: str
    period_type: str  # key of PERIOD_TYPES
    subject: str  # "resident" | "contract" | "survey" | "staff"
    source: str
    confidence: str
    build: Builder
    unit: str = "%"  # "%" or "per10k"
    direction: str = "higher"  # a higher value is better ("lower": lower is better)
    levels: tuple[str, ...] = LEVELS
    params: tuple[tuple[str, str], ...] = ()  # (rule-set programme, parameter) the definition reads
    requires: tuple[str, ...] = ()  # raw tables the data must come from
    variant: Callable[[RuleContext], str] | None = field(default=None, compare=False)
    divisor: Callable[[RuleContext], int] | None = field(default=None, compare=False)
    note: str = ""

    @property
    def scale(self) -> float:
        return 100.0 if self.unit == "%" else 1.0

    @property
    def disaggregations(self) -> tuple[str, ...]:
        """The org levels a value exists at (district → street → centre → station → team → doctor)."""
        return self.levels

    @property
    def programmes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p, _k in self.params))

    def den_divisor(self, ctx: RuleContext) -> int:
        """The builder's denominator is an integer count of ``1 / divisor`` units (so that sums are exact
        on every backend); the engine divides by this."""
        return self.divisor(ctx) if self.divisor else 1

    def value(self, num: float, den: float) -> float | None:
        if not den:
            return None
        return round(float(num) / float(den) * self.scale, 4)

    def variant_text(self, ctx: RuleContext) -> str:
        return self.variant(ctx) if self.variant else ""

    def unverified(self, ctx: RuleContext) -> list[str]:
        """``programme/param`` of every parameter used that awaits checking against the official text."""
        by_programme = {rs.programme: rs for rs in ctx.all()}
        out = []
        for programme, key in self.params:
            rs = by_programme.get(programme)
            if rs is not None and key in rs.params and not rs.param(key).verified:
                out.append(f"{rs.label}:{key}")
        return out


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


def _out(t: ibis.Table, subject: ibis.Value, resident: ibis.Value, num: ibis.Value, den: ibis.Value) -> ibis.Table:
    return t.select(
        "wid",
        subject_id=subject.cast("int64"),
        resident_id=resident.cast("int64"),
        doctor_id=t.doctor_id.cast("int64"),
        team_id=t.team_id.cast("int64"),
        station_id=t.station_id.cast("int64"),
        centre_id=t.centre_id.cast("int64"),
        street_id=t.street_id.cast("int64"),
        district_id=t.district_id.cast("int64"),
        num=num.cast("int64"),
        den=den.cast("int64"),
    )


def _flag(cond: ibis.Value) -> ibis.Value:
    return cond.ifelse(1, 0)


def _people(f: Facts) -> ibis.Table:
    """The person-period rows: one per resident (line lists) or counted per combination (``n``)."""
    return f.person_period if f.detail else f.person_summary


def _people_out(f: Facts, t: ibis.Table, num: ibis.Value, den: ibis.Value) -> ibis.Table:
    """Rows of ``_people``: ``num`` and ``den`` per person, weighted by the count in summary mode."""
    if f.detail:
        return _out(t, t.resident_id, t.resident_id, num, den)
    return _out(t, ibis.null("int64"), ibis.null("int64"), num * t.n, den * t.n)


def persons(den: Callable[[ibis.Table], ibis.Value], num: Callable[[ibis.Table], ibis.Value]) -> Builder:
    """Residents of the person-period table: denominator = ``den``, numerator = ``den`` and ``num``."""

    def build(f: Facts) -> ibis.Table:
        people = _people(f)
        t = people.filter(den(f.flags(people)))
        return _people_out(f, t, _flag(num(f.flags(t))), ibis.literal(1))

    return build


def patients(programme: str, num: str) -> Builder:
    """Patients under management of ``programme`` in the assessment year; numerator = flag ``num``."""

    def build(f: Facts) -> ibis.Table:
        p = f.programme_patients
        t = p.filter(p.programme == programme)
        return _out(t, t.resident_id, t.resident_id, t[num], ibis.literal(1))

    return build


def management_rate(programme: str, prefix: str) -> Builder:
    """Managed patients over the patients the rule set counts: registered (diagnosis on record or in
    management) or estimated (adults of the resident population × prevalence). ``prefix`` names the
    programme's person flags (FollowUpFacts.prefix)."""

    def build(f: Facts) -> ibis.Table:
        pp = _people(f)
        v = f.flags(pp)
        managed, registered = getattr(v, f"{prefix}_managed"), getattr(v, f"{prefix}_registered")
        prevalence = _prevalence(f.ctx, programme)
        if prevalence is None:
            t = pp.filter(registered == 1)
            return _people_out(f, t, getattr(f.flags(t), f"{prefix}_managed"), ibis.literal(1))
        t = pp.filter((v.adult == 1) | (managed == 1))
        ft = f.flags(t)
        return _people_out(f, t, getattr(ft, f"{prefix}_managed"), ft.adult * _micro(prevalence))

    return build


def _micro(value: float) -> int:
    return round(value * 1_000_000)


def _management_divisor(programme: str) -> Callable[[RuleContext], int]:
    def divisor(ctx: RuleContext) -> int:
        return 1 if _prevalence(ctx, programme) is None else 1_000_000

    return divisor


def _prevalence(ctx: RuleContext, programme: str) -> float | None:
    if ctx.engine.value("management_denominator") != "estimated":
        return None
    # Each follow-up programme's rule set carries its own prevalence (None or absent = no estimate).
    param = ctx.disease(programme).params.get("estimated_prevalence")
    value = param.value if param is not None else None
    return float(value) if value is not None else None


def _management_variant(programme: str) -> Callable[[RuleContext], str]:
    def text(ctx: RuleContext) -> str:
        prevalence = _prevalence(ctx, programme)
        if prevalence is not None:
            return _("分母：{age}岁及以上常住人口 × 估算患病率{rate}%（规则集 {rs}）",
                     age=ctx.engine.value("estimated_min_age"), rate=round(prevalence * 100, 2), rs=ctx.engine.label)
        if ctx.engine.value("management_denominator") == "estimated":
            return _("分母：登记患者数（规则集 {rs} 无该病估算患病率，按登记患者计算）", rs=ctx.engine.label)
        return _("分母：登记在册患者数（有诊断记录或在管理中，规则集 {rs}）", rs=ctx.engine.label)

    return text


def _record_use(f: Facts) -> ibis.Table:
    pp = _people(f)
    v = f.flags(pp)
    base = v.electronic if f.ctx.indicators.value("record_use_denominator") == "electronic" else v.has_record
    t = pp.filter(base == 1)
    return _people_out(f, t, f.flags(t).record_used, ibis.literal(1))


def _record_use_variant(ctx: RuleContext) -> str:
    months = ctx.indicators.value("record_use_window_months")
    electronic = ctx.indicators.value("record_use_denominator") == "electronic"
    den = _("电子健康档案数") if electronic else _("健康档案总份数")
    return ngettext(
        "动态记录：近{months}个月内有体征测量、项目随访或签约服务记录；分母：{den}（规则集 {rs}，待核实）",
        "动态记录：近{months}个月内有体征测量、项目随访或签约服务记录；分母：{den}（规则集 {rs}，待核实）",
        "months", months=months, den=den, rs=ctx.indicators.label,
    )


def _expiry(f: Facts) -> ibis.Table:
    return f.contract_expiry


def _fulfilment(f: Facts) -> ibis.Table:
    return f.contract_fulfilment


def _satisfaction(f: Facts) -> ibis.Table:
    return f.surveys


def _gp_per_10k(f: Facts) -> ibis.Table:
    s = f.staff.mutate(doctor_id=ibis.null("int64"), team_id=ibis.null("int64"))
    gps = _out(s, s.staff_id, ibis.null("int64"), ibis.literal(1), ibis.literal(0))
    pp = _people(f).mutate(doctor_id=ibis.null("int64"), team_id=ibis.null("int64"))
    people = _people_out(f, pp, ibis.literal(0), ibis.literal(1))
    return ibis.union(gps, people)


def medication_plan_share(f: Facts) -> ibis.Table:
    """Signed patients still enrolled in a follow-up programme on the as-of day (per programme) and
    whether they have an active medication plan."""
    p = f.programme_patients
    t = p.filter(p.signed == 1, p.open == 1)
    return _out(t, t.resident_id, t.resident_id, t.plan, ibis.literal(1))


def managed_coverage(prefix: str, name: str, name_en: str, numerator: str, denominator: str) -> Indicator:
    """Contract coverage of the patients a follow-up programme manages on the as-of day (flag
    ``{prefix}_open``), for the programme to register."""
    return Indicator(
        f"contract.coverage.{prefix}_managed", name, name_en, "contracts", numerator, denominator, "point",
        "resident", "TARGETS.md binhai-2019", "M",
        persons(lambda t: t[f"{prefix}_open"] == 1, lambda t: t.signed == 1), requires=(*_CON, "enrolments"),
        levels=AREA_LEVELS,
    )


def follow_up_indicators(
    programme: str, prefix: str, disease: Text, disease_en: str, control: Text, control_label: Text,
    control_params: tuple[str, ...],
) -> list[Indicator]:
    """The management, standardised-management and control rates of follow-up programme ``programme``
    (its group; ``disease`` its name in the texts, ``control`` what is controlled — 血压, 血糖 —,
    ``control_label`` the numerator of the control rate, ``control_params`` the rule-set parameters
    of its control target)."""
    zh, en = disease, disease_en
    return [
        Indicator(
            f"{prefix}.management_rate", _("{d}患者管理率", d=zh), f"{en.capitalize()} management rate",
            programme, _("年内已管理的{d}患者人数", d=zh), _("年内辖区内{d}患者总人数", d=zh), "ytd",
            "resident", _("{ref}（M）；分母口径见规则集", ref=_S12), "M", management_rate(programme, prefix),
            requires=(*_PROG, "problems"),
            params=(("programme-engine", "management_denominator"), (programme, "estimated_prevalence"),
                    ("programme-engine", "estimated_min_age"), ("programme-engine", "managed_requires_visit")),
            variant=_management_variant(programme), divisor=_management_divisor(programme), levels=AREA_LEVELS,
        ),
        Indicator(
            f"{prefix}.standardised_rate", _("{d}患者规范管理率", d=zh),
            f"{en.capitalize()} standardised-management rate", programme,
            _("按照规范要求进行{d}患者健康管理的人数", d=zh), _("年内已管理的{d}患者人数", d=zh),
            "ytd", "resident", _("{ref}（M）；规范管理定义见 RULES.md §2.6（未找到，规则集）", ref=_S12), "M",
            patients(programme, "standardised"), requires=_PROG,
            params=((programme, "standardised_min_visits"), (programme, "standardised_max_gap_days"),
                    (programme, "standardised_year_edges"), ("programme-engine", "standardised_face_to_face_only"),
                    ("programme-engine", "period_min_visits_rounding")),
        ),
        Indicator(
            f"{prefix}.control_rate", _("管理人群{m}控制率", m=control),
            f"{en.capitalize()} control rate", programme, control_label, _("年内已管理的{d}患者人数", d=zh),
            "ytd", "resident", _("{ref}（M）；达标标准见 RULES.md §2.4", ref=_S12), "M",
            patients(programme, "controlled"),
            requires=_PROG, params=tuple((programme, p) for p in control_params),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

_S12 = "RULES.md §1.2"
#: Population-based rates need a population of their own: a team or doctor has none (the residents
#: signed with them are the numerator of coverage, not a denominator).
AREA_LEVELS = ("station", "centre", "street", "district")
_S6 = _("RULES.md §6.2（项目约定，非国家口径）")
_POP = _("辖区内常住居民数")
_RES = ("residents",)
_CON = ("residents", "contracts")
_PROG = ("residents", "enrolments", "visits")

_CATALOGUE: list[Indicator] = [
    Indicator(
        "record.rate", _("健康档案建档率"), "Health-record rate", "records",
        _("建档人数"), _POP, "point", "resident", _("{ref}（M）", ref=_S12), "M",
        persons(lambda t: ibis.literal(True), lambda t: t.has_record == 1), requires=("residents", "records"),
    ),
    Indicator(
        "record.electronic_rate", _("电子健康档案建档率"), "Electronic health-record rate", "records",
        _("建立电子健康档案人数"), _POP, "point", "resident", _("{ref}（M）；考核系统 S01", ref=_S12), "M",
        persons(lambda t: ibis.literal(True), lambda t: t.electronic == 1), requires=("residents", "records"),
    ),
    Indicator(
        "record.use_rate", _("健康档案使用率"), "Health-record use rate", "records",
        _("档案中有动态记录的档案份数"), _("档案总份数"), "point", "resident",
        _("{ref}（L，动态记录定义未找到）", ref=_S12), "L",
        _record_use, requires=("residents", "records"),
        params=(("indicators", "record_use_window_months"), ("indicators", "record_use_evidence"),
                ("indicators", "record_use_denominator")),
        variant=_record_use_variant,
    ),
    Indicator(
        "record.open_rate", _("电子健康档案开放率"), "Electronic health records open to the resident", "records",
        _("向居民本人开放的电子健康档案数"), _("电子健康档案数"), "point", "resident", "TARGETS.md gusu-2021", "M",
        persons(lambda t: t.electronic == 1, lambda t: t.record_open == 1), requires=("residents", "records"),
    ),
    Indicator(
        "record.elderly_rate", _("老年人健康档案建档率"), "Elderly (65+) health-record rate", "records",
        _("建档的65岁及以上常住居民数"), _("65岁及以上常住居民数"), "point", "resident", "TARGETS.md xintang-2019",
        "M", persons(lambda t: t.elderly == 1, lambda t: t.has_record == 1), requires=("residents", "records"),
    ),
    Indicator(
        "record.child_rate", _("儿童健康档案建档率"), "Child (0-6) health-record rate", "records",
        _("建档的0～6岁儿童数"), _("0～6岁常住儿童数"), "point", "resident", "TARGETS.md gusu-2021", "M",
        persons(lambda t: t.child == 1, lambda t: t.has_record == 1), requires=("residents", "records"),
    ),
    Indicator(
        "contract.coverage", _("常住人口签约服务覆盖率"), "Family-doctor contract coverage", "contracts",
        _("统计期末签约服务在有效期内的常住居民数"), _POP, "point", "resident",
        _("{ref}；2022年指导意见 签约服务覆盖率", ref=_S6), "H",
        persons(lambda t: ibis.literal(True), lambda t: t.signed == 1), requires=_CON, levels=AREA_LEVELS,
    ),
    *[
        Indicator(
            f"contract.coverage.{code}", _("重点人群签约服务覆盖率：{group}", group=Text(zh)),
            f"Contract coverage: {en}", "contracts",
            _("签约的{group}数", group=Text(zh)), _("{group}数", group=Text(zh)), "point", "resident", _S6, "M",
            persons(lambda t, c=code: t[f"kp_{c}"] == 1, lambda t: t.signed == 1), requires=(*_CON, "tags"),
            levels=AREA_LEVELS,
        )
        for code, (zh, en) in KEY_POPULATIONS.items()
    ],
    Indicator(
        "contract.coverage.key_populations", _("重点人群签约服务覆盖率"), "Contract coverage of key populations",
        "contracts", _("签约的重点人群人数"), _("重点人群人数（十类重点人群，按人计）"), "point", "resident", _S6, "M",
        persons(lambda t: t.kp_any == 1, lambda t: t.signed == 1), requires=(*_CON, "tags"), levels=AREA_LEVELS,
    ),
    Indicator(
        "contract.coverage.elderly_managed", _("已管理老年人签约覆盖率"), "Contract coverage of managed elderly",
        "contracts", _("年内接受健康管理且签约的老年人数"), _("年内接受健康管理的65岁及以上居民数"), "point",
        "resident", "TARGETS.md binhai-2019", "M",
        persons(lambda t: (t.elderly == 1) & (t.elderly_managed == 1), lambda t: t.signed == 1), requires=_CON,
        params=(("indicators", "elderly_management_evidence"),), levels=AREA_LEVELS,
    ),
    Indicator(
        "contract.personalised_share", _("健康管理服务包签约占重点人群比例"),
        "Key-population members signed with a health-management package", "contracts",
        _("签约个性化（健康管理）服务包的重点人群人数"), _("重点人群人数"), "point", "resident",
        "TARGETS.md gusu-2021", "L",
        persons(lambda t: t.kp_any == 1, lambda t: (t.signed == 1) & (t.personalised == 1)),
        requires=(*_CON, "contract_packages", "tags"), params=(("indicators", "personalised_package_kinds"),),
        levels=AREA_LEVELS,
    ),
    Indicator(
        "contract.renewal_rate", _("续约率"), "Contract renewal rate", "contracts",
        _("统计期内到期且于期末前已续约的签约数"), _("统计期内到期的签约数（提前解约的不计）"), "range", "contract",
        _S6, "NOT FOUND", _expiry, requires=_CON,
        params=(("indicators", "renewal_counts_by"),),
    ),
    Indicator(
        "contract.fulfilment_rate", _("履约率"), "Contract fulfilment rate", "contracts",
        _("各服务项目均按进度完成的签约数（评估日为统计期末与到期日中较早者）"),
        _("统计期内处于服务期且统计期末前未解约的签约数"), "range", "contract",
        _("{ref}；履约进度见 contracts.rules", ref=_S6), "NOT FOUND", _fulfilment,
        requires=(*_CON, "contract_items", "deliveries"), params=(("family-doctor", "fulfilment_schedule"),),
    ),
    Indicator(
        "contract.satisfaction", _("签约居民满意度"), "Contract satisfaction", "contracts",
        _("统计期内满意度调查结果为满意或非常满意的份数"), _("统计期内满意度调查份数"), "range", "survey",
        _("{ref}；2022年指导意见 满意度约85%", ref=_S6), "NOT FOUND", _satisfaction, requires=(*_CON, "surveys"),
        params=(("family-doctor", "satisfied_min_score"),),
    ),
    Indicator(
        "elderly.management_rate", _("老年人健康管理率"), "Elderly health-management rate", "elderly",
        _("年内接受健康管理的65岁及以上常住居民数"), _("年内辖区内65岁及以上常住居民数"), "ytd", "resident",
        _("{ref}（M）；考核系统 O00", ref=_S12), "M",
        persons(lambda t: t.elderly == 1, lambda t: t.elderly_managed == 1), requires=_RES,
        params=(("indicators", "elderly_management_evidence"),),
    ),
    Indicator(
        "workforce.gp_per_10k", _("每万名常住人口全科医生数"), "General practitioners per 10,000 residents",
        "workforce",
        _("统计期末在岗的全科医生数"), _("常住人口数（万人）"), "point", "staff", "TARGETS.md binhai-2019", "M",
        _gp_per_10k,
        unit="per10k", levels=("station", "centre", "street", "district"), requires=("residents", "staff"),
        divisor=lambda ctx: 10_000,
        params=(("indicators", "gp_categories"),),
        note=_("在岗：入职日期不晚于统计期末（未填入职日期视为早已入职），且离职日期晚于统计期末；未填离职日期的按"
               "当前在岗标记，已不在岗又未填离职日期的人员不计入任何统计期"),
    ),
]

#: Indicator code -> definition, by dashboard section, then by ``order`` and in the order registered.
CATALOGUE: Final[dict[str, Indicator]] = {}
_SEQUENCE: dict[str, tuple[int, int]] = {}


def register(*items: Indicator, order: int = 0) -> None:
    """Add (or replace) indicators; their group must be registered first (register_group). Within a
    section, indicators sort by ``order`` (the shared ones 0; a programme passes its own order)."""
    for ind in items:
        if ind.group not in GROUPS:
            raise ValueError(f"indicator {ind.code!r}: no dashboard group {ind.group!r} is registered")
        _SEQUENCE[ind.code] = (order, _SEQUENCE.get(ind.code, (0, len(_SEQUENCE)))[1])
        CATALOGUE[ind.code] = ind
    ordered = sorted(CATALOGUE.values(), key=lambda i: (_GROUP_ORDER[i.group], *_SEQUENCE[i.code]))
    CATALOGUE.clear()
    CATALOGUE.update((i.code, i) for i in ordered)


def unregister(*codes: str) -> None:
    for code in codes:
        CATALOGUE.pop(code, None)


register(*_CATALOGUE)


def discover() -> None:
    """Import every app's ``indicators`` module (once the apps are loaded): they register the
    programme indicators, their groups and their fact declarations."""
    from django.apps import apps

    if apps.models_ready:
        from jiayi.core.discovery import autodiscover

        autodiscover("indicators")


def get(code: str) -> Indicator:
    discover()
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"unknown indicator {code!r}") from None


def indicators() -> list[Indicator]:
    discover()
    return list(CATALOGUE.values())

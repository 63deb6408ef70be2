"""Contract numbers: coverage (overall, per key population, all key populations), renewal rate,
fulfilment rate and satisfaction, by team, doctor, institution, area and period.

Every number is a numerator and a denominator counted from the records with a handful of set-based
queries (no per-resident loop), so the same call serves a doctor, a centre and the district at a
million residents. The national formulas were NOT FOUND (RULES.md §6.2): the definitions below are
**project conventions** following the suggestions written there, and say so (``convention=True``).
They feed the indicator engine; until it exists the team page shows them.

Scope of a call
- The *population* is the resident population (常住人口: registered and non-registered residents, not
  deleted) managed by the institution subtree (``institution``; for ``team``/``doctor`` without an
  institution, the team's or doctor's institution subtree), optionally narrowed to an ``area`` (code
  prefix) and always to what ``user`` may see.
- ``team`` / ``doctor`` narrow the *contracts* counted: a team's coverage is the share of its
  institution's population signed with that team.
- Period ``[period_start, period_end]``; stock numbers (coverage) are taken on the *as-of day*, the
  period end or today if earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    Avg,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiayi.contracts import rules
from jiayi.contracts.models import Contract, ContractItem, ContractStatus, SatisfactionSurvey, ServiceDelivery
from jiayi.core import scoping
from jiayi.org.models import Area, Institution, Staff, Team
from jiayi.org.selectors import area_subtree_codes_prefix, institution_subtree_ids
from jiayi.residents.models import RESIDENT_POPULATION_STATUSES, KeyPopulationTag, Resident
from jiayi.residents.rules import CHILD_MAX_AGE, ELDERLY_MIN_AGE, KEY_POPULATIONS

AGE_GROUPS = ("elderly", "child")


@dataclass(frozen=True)
class Definition:
    """An indicator's definition as shown on the team page and returned by the API; the texts are
    Chinese message ids (lazy), translated where they are shown."""

    code: str
    name: str | Promise
    numerator: str | Promise
    denominator: str | Promise
    source: str | Promise
    convention: bool = True


_SRC = _("RULES.md §6.2：国家计算公式未查到，为按该处建议制定的项目约定（2022年指导意见使用“签约服务覆盖率”一词）")

DEFINITIONS: dict[str, Definition] = {
    "coverage": Definition(
        "coverage",
        _("签约服务覆盖率"),
        _("常住人口中截至统计日有生效签约的居民数（按团队/医生统计时只计与其签约者）"),
        _("统计范围内的常住人口数（户籍与非户籍常住居民，不含已迁出、已死亡、已删除）"),
        _SRC,
    ),
    "key_population_coverage": Definition(
        "key_population_coverage",
        _("重点人群签约服务覆盖率"),
        _("属于任一重点人群且截至统计日有生效签约的居民数"),
        _(
            "属于任一重点人群（RULES.md §6 十类）的常住居民数；老年人（≥65岁）与儿童（0～6岁）按统计日年龄计，"
            "其余按重点人群标签"
        ),
        _SRC,
    ),
    "key_population_group": Definition(
        "key_population_group",
        _("各类重点人群签约服务覆盖率"),
        _("该类重点人群中截至统计日有生效签约的居民数"),
        _("该类重点人群常住居民数"),
        _SRC,
    ),
    "renewal": Definition(
        "renewal",
        _("续约率"),
        _("分母中已续约（含期满改签其他团队）的签约数"),
        _("统计期内期满（到期日在统计期内且不晚于统计日）且未提前解约的签约数"),
        _("RULES.md §6.2 的建议：期满续约的签约数 ÷ 统计期内期满的签约数（项目约定）"),
    ),
    "fulfilment": Definition(
        "fulfilment",
        _("履约率"),
        _("分母中截至评估日每个约定服务项目的完成次数都不少于应完成次数的签约数"),
        _(
            "统计期内处于服务期（生效日不晚于统计日、到期日不早于统计期起点）且统计日前未解约的签约数；"
            "评估日为统计日与到期日中较早者。应完成次数按服务期均匀分布："
            "floor((评估日−生效日+1)×约定次数÷服务期天数)，见 contracts.rules"
        ),
        _("RULES.md §6.2 的建议：约定服务全部落实的签约数 ÷ 生效签约数；“应完成次数按服务期均匀分布”为项目约定"),
    ),
    "satisfaction": Definition(
        "satisfaction",
        _("签约居民满意度"),
        _("统计期内调查中总体满意度为“满意”或“非常满意”（≥4分）的份数"),
        _("统计期内完成的满意度调查份数（每份签约一份）"),
        _("RULES.md §6.1：2022年指导意见提出2035年满意度约85%的目标；计算公式未查到，为项目约定"),
    ),
}


@dataclass(frozen=True)
class Rate:
    code: str
    name: str | Promise  # Chinese message id
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def percent(self) -> str:
        v = self.value
        return "—" if v is None else f"{100 * v:.1f}%"


@dataclass
class ContractNumbers:
    period_start: date
    period_end: date
    as_of: date
    coverage: Rate
    key_population_coverage: Rate
    by_key_population: dict[str, Rate]
    renewal: Rate
    fulfilment: Rate
    satisfaction: Rate
    mean_overall_score: float | None
    counts: dict[str, int] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=lambda: DEFINITIONS)


class DaysBetween(Func):
    """Whole days from ``rhs`` to ``lhs`` (two dates), the same on SQLite and PostgreSQL."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL: date - date is an integer
        lhs, lhs_params = compiler.compile(self.source_expressions[0])
        rhs, rhs_params = compiler.compile(self.source_expressions[1])
        return f"(({lhs})::date - ({rhs})::date)", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection, **extra):
        lhs, lhs_params = compiler.compile(self.source_expressions[0])
        rhs, rhs_params = compiler.compile(self.source_expressions[1])
        return f"CAST(julianday({lhs}) - julianday({rhs}) AS INTEGER)", [*lhs_params, *rhs_params]


def _date(d: date) -> Value:
    return Value(d, output_field=DateField())


def population_filter(
    *,
    prefix: str = "",
    user=None,
    institution: Institution | None = None,
    area: Area | None = None,
    team: Team | None = None,
    doctor: Staff | None = None,
) -> Q:
    """The resident population of a call as a filter on Resident fields (``prefix`` "resident__" to
    apply it to rows that point at a resident). Aggregates are not personal data, so a user is limited
    to the institutions they may see, not further to their team (JIAYI["STAFF_SCOPE"])."""
    q = Q(**{f"{prefix}is_deleted": False, f"{prefix}residence_status__in": RESIDENT_POPULATION_STATUSES})
    if user is not None:
        ids = scoping.institution_ids_visible_to(user)
        if scoping.user_role(user) == "resident" or ids is None:
            return Q(pk__in=[])
        q &= Q(**{f"{prefix}institution_id__in": ids})
    root = (
        institution
        or (team.institution if team is not None else None)
        or (doctor.institution if doctor is not None else None)
    )
    if root is not None:
        q &= Q(**{f"{prefix}institution_id__in": institution_subtree_ids(root.pk)})
    if area is not None:
        q &= Q(**{f"{prefix}area__code__startswith": area_subtree_codes_prefix(area)})
    return q


def in_force_q(day: date, prefix: str = "") -> Q:
    """``Contract.objects.active_on(day)`` as a Q (for conditional aggregates)."""
    return Q(**{f"{prefix}start_date__lte": day, f"{prefix}end_date__gte": day}) & (
        Q(**{f"{prefix}terminated_on__isnull": True}) | Q(**{f"{prefix}terminated_on__gt": day})
    )


def _contracts(team: Team | None, doctor: Staff | None) -> QuerySet[Contract]:
    qs = Contract.objects.all()
    if team is not None:
        qs = qs.filter(team=team)
    if doctor is not None:
        qs = qs.filter(doctor=doctor)
    return qs


def _age_cutoffs(on: date) -> tuple[date, date]:
    """(born on or before → elderly, born after → child) on ``on``."""
    return rules.add_months(on, -12 * ELDERLY_MIN_AGE), rules.add_months(on, -12 * (CHILD_MAX_AGE + 1))


def _signed(contracts: QuerySet[Contract], as_of: date, outer: str) -> Exists:
    return Exists(contracts.active_on(as_of).filter(resident_id=OuterRef(outer)))


# Conditions on an Exists are used as filters (semi-joins) in separate counts, never as annotations
# referenced from aggregates: Django 5.2 drops an annotation used only inside
# ``Count(filter=Q(annotation=True))`` when it wraps the query, and PostgreSQL re-evaluates an inlined
# subquery at every reference.


def _population_counts(qs: QuerySet[Resident], as_of: date) -> dict[str, int]:
    elderly_cut, child_cut = _age_cutoffs(as_of)
    is_elderly = Q(birth_date__lte=elderly_cut)
    is_child = Q(birth_date__gt=child_cut, birth_date__lte=as_of)
    tagged = Exists(KeyPopulationTag.objects.filter(resident=OuterRef("pk")).exclude(code__in=AGE_GROUPS))
    return qs.aggregate(
        total=Count("pk"),
        key=Count("pk", filter=is_elderly | is_child | Q(tagged)),
        elderly=Count("pk", filter=is_elderly),
        child=Count("pk", filter=is_child),
    )


def _tag_counts(qs: QuerySet[KeyPopulationTag]) -> dict[str, int]:
    rows = qs.exclude(code__in=AGE_GROUPS).values("code").annotate(n=Count("pk")).order_by()
    return {r["code"]: r["n"] for r in rows}


def _coverage(pop: Q, tag_pop: Q, contracts: QuerySet[Contract], as_of: date) -> tuple[Rate, Rate, dict[str, Rate]]:
    """``pop`` filters residents, ``tag_pop`` the same population seen from KeyPopulationTag."""
    residents = Resident.objects.filter(pop)
    everyone = _population_counts(residents, as_of)
    signed = _population_counts(residents.filter(_signed(contracts, as_of, "pk")), as_of)
    tags = KeyPopulationTag.objects.filter(tag_pop)
    tag_all = _tag_counts(tags)
    tag_signed = _tag_counts(tags.filter(_signed(contracts, as_of, "resident_id")))
    by_group: dict[str, Rate] = {}
    for code, (name, _en) in KEY_POPULATIONS.items():
        if code in AGE_GROUPS:
            n, s = everyone[code], signed[code]
        else:
            n, s = tag_all.get(code, 0), tag_signed.get(code, 0)
        by_group[code] = Rate(code, name, s, n)
    d = DEFINITIONS
    return (
        Rate("coverage", d["coverage"].name, signed["total"], everyone["total"]),
        Rate("key_population_coverage", d["key_population_coverage"].name, signed["key"], everyone["key"]),
        by_group,
    )


def _renewal(contracts: QuerySet[Contract], start: date, as_of: date) -> Rate:
    renewal = Contract.objects.filter(renewal_of=OuterRef("pk")).exclude(
        status=ContractStatus.TERMINATED, terminated_on__lte=F("start_date")
    )
    expired = contracts.filter(end_date__gte=start, end_date__lte=as_of).filter(
        Q(terminated_on__isnull=True) | Q(terminated_on__gt=F("end_date"))
    )
    return Rate("renewal", DEFINITIONS["renewal"].name, expired.filter(Exists(renewal)).count(), expired.count())


def short_items(as_of: date, *, live_counters: bool) -> QuerySet[ContractItem]:
    """Items (of any contract) with fewer deliveries by ``as_of`` than units due by then.

    Due units are evaluated on the earlier of ``as_of`` and the contract's end (contracts.rules).
    ``live_counters`` uses the stored ``delivered`` counter (right when ``as_of`` is today or later);
    otherwise deliveries are counted up to ``as_of``.
    """
    eval_day = Least(_date(as_of), F("contract__end_date"))
    elapsed = DaysBetween(eval_day, F("contract__start_date")) + 1
    length = DaysBetween(F("contract__end_date"), F("contract__start_date")) + 1
    due = ExpressionWrapper(elapsed * F("quantity") / length, output_field=IntegerField())
    if live_counters:
        done = F("delivered")
    else:
        counted = (
            ServiceDelivery.objects.filter(item=OuterRef("pk"), revoked_at__isnull=True, delivered_on__lte=as_of)
            .order_by()
            .values("item")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        done = Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    return ContractItem.objects.annotate(units_due=due, units_done=done).filter(units_done__lt=F("units_due"))


def _fulfilment(contracts: QuerySet[Contract], start: date, as_of: date, today: date) -> Rate:
    in_service = contracts.filter(start_date__lte=as_of, end_date__gte=start).filter(
        Q(terminated_on__isnull=True) | Q(terminated_on__gt=as_of)
    )
    short = short_items(as_of, live_counters=as_of >= today).filter(contract=OuterRef("pk"))
    n = in_service.count()
    return Rate("fulfilment", DEFINITIONS["fulfilment"].name, n - in_service.filter(Exists(short)).count(), n)


def _satisfaction(contracts: QuerySet[Contract], start: date, as_of: date) -> tuple[Rate, float | None]:
    threshold = rules.default_ruleset(as_of).value("satisfied_min_score")
    row = SatisfactionSurvey.objects.filter(
        contract__in=contracts.values("pk"), surveyed_on__gte=start, surveyed_on__lte=as_of
    ).aggregate(n=Count("pk"), ok=Count("pk", filter=Q(overall_score__gte=threshold)), mean=Avg("overall_score"))
    mean = None if row["mean"] is None else round(float(row["mean"]), 2)
    return Rate("satisfaction", DEFINITIONS["satisfaction"].name, row["ok"], row["n"]), mean


def contract_numbers(
    *,
    period_start: date,
    period_end: date,
    user=None,
    institution: Institution | None = None,
    area: Area | None = None,
    team: Team | None = None,
    doctor: Staff | None = None,
    today: date | None = None,
) -> ContractNumbers:
    """All contract numbers for one scope and period (about eight aggregate queries)."""
    if period_end < period_start:
        raise ValueError("period_end is before period_start")
    today = today or timezone.localdate()
    as_of = min(period_end, today)
    scope = {"user": user, "institution": institution, "area": area, "team": team, "doctor": doctor}
    pop = population_filter(**scope)
    contracts = _contracts(team, doctor).filter(population_filter(prefix="resident__", **scope))
    coverage, key_coverage, by_group = _coverage(
        pop, population_filter(prefix="resident__", **scope), _contracts(team, doctor), as_of
    )
    satisfaction, mean = _satisfaction(contracts, period_start, as_of)
    started = Q(start_date__gte=period_start, start_date__lte=as_of)
    renewal = Q(renewal_of__isnull=False)
    counts = contracts.aggregate(
        in_force=Count("pk", filter=in_force_q(as_of)),
        signed_new=Count("pk", filter=started & ~renewal),
        signed_renewal=Count("pk", filter=started & renewal),
        team_switches=Count("pk", filter=started & renewal & ~Q(renewal_of__team=F("team"))),
        terminated=Count("pk", filter=Q(terminated_on__gte=period_start, terminated_on__lte=as_of)),
    )
    counts["behind_today"] = (
        contracts.filter(in_force_q(today))
        .filter(Exists(ContractItem.objects.filter(contract=OuterRef("pk"), next_due_on__lt=today)))
        .count()
    )
    return ContractNumbers(
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        coverage=coverage,
        key_population_coverage=key_coverage,
        by_key_population=by_group,
        renewal=_renewal(contracts, period_start, as_of),
        fulfilment=_fulfilment(contracts, period_start, as_of, today),
        satisfaction=satisfaction,
        mean_overall_score=mean,
        counts=counts,
    )


def doctor_list_sizes(doctor_ids: list[int], on: date | None = None) -> dict[int, int]:
    """Contracts in force per doctor on ``on`` (one grouped query)."""
    on = on or timezone.localdate()
    rows = (
        Contract.objects.active_on(on)
        .filter(doctor_id__in=doctor_ids)
        .values("doctor_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    sizes = dict.fromkeys(doctor_ids, 0)
    sizes.update({r["doctor_id"]: r["n"] for r in rows})
    return sizes

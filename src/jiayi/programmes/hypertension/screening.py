"""Hypertension screening (RULES.md §2.1): blood pressure of residents aged 35+, re-checked on 3
different days before enrolment; high-risk criteria returned for the page."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core import rulesets
from jiayi.core.audit import audit_search
from jiayi.core.errors import DomainValidationError
from jiayi.programmes import screening
from jiayi.programmes.hypertension.rules import PROGRAMME, hypertension_high_risk, raised_bp
from jiayi.programmes.models import Enrolment, ScreeningCase, ScreeningStatus
from jiayi.residents.models import Measurement, Resident
from jiayi.residents.rules import latest_birth_date

FAMILY_HISTORY_WORDS = ("高血压", "hypertension")


@transaction.atomic
def screening_record(
    *,
    actor,
    resident: Resident,
    sbp: int,
    dbp: int,
    measured_at: datetime | None = None,
    heart_rate: int | None = None,
    height: float | None = None,
    weight: float | None = None,
    waist: float | None = None,
) -> screening.ScreeningOutcome:
    """Record a screening blood pressure (opportunistic or annual, residents aged 35+).

    A raised value (>= 140/90) opens a re-check case with a re-check task; raised values on the rule
    set's number of different days (3) make the case ready to confirm; a normal re-check closes it as
    not confirmed. High-risk criteria (RULES.md §2.1) are returned for the page to show.
    """
    from jiayi.residents.services import measurement_record

    screening.lock_resident(resident, PROGRAMME, _("该居民已纳入高血压患者管理，请录入随访。"))
    values = {"sbp": sbp, "dbp": dbp, "heart_rate": heart_rate, "height": height, "weight": weight, "waist": waist}
    m = measurement_record(actor=actor, resident=resident, measured_at=measured_at, source="screening", **values)
    day = timezone.localtime(m.measured_at).date()
    try:
        rs = rulesets.default_for(PROGRAMME, day)
    except KeyError:  # an old reading, from before any screening rule set: nothing is kept
        raise DomainValidationError({"measured_at": _("该日期没有适用的规则集。")}) from None
    raised = raised_bp(sbp, dbp, rs)
    case = screening.case_reading_add(
        actor=actor,
        resident=resident,
        programme=PROGRAMME,
        day=day,
        reading={"sbp": int(sbp), "dbp": int(dbp)},
        raised=raised,
        confirm_days=int(rs.value("confirm_measurements")),
        recheck_reason=_("血压升高，非同日复测（第{n}次）"),
        normal_note=_("复测血压正常"),
    )
    flags = hypertension_high_risk(
        ruleset=rs,
        sbp=sbp,
        dbp=dbp,
        bmi=float(m.bmi) if m.bmi is not None else None,
        waist=float(waist) if waist else None,
        sex=resident.sex,
        family_history=screening.family_history(resident, FAMILY_HISTORY_WORDS),
        age=resident.age_on(day),
    )
    return screening.ScreeningOutcome(measurement=m, raised=raised, case=case, high_risk=flags)


def screening_candidates(
    user, *, today: date | None = None, page: int = 1, page_size: int = 50, audit_read: bool = True
) -> tuple[list[Resident], bool]:
    """Residents aged 35+ (rule-set age) of the resident population with no blood pressure measured this
    calendar year, not in hypertension management and without an open screening case."""
    today = today or timezone.localdate()
    rs = rulesets.default_for(PROGRAMME, today)
    min_age = int(rs.value("screening_min_age"))
    year_start = timezone.make_aware(timezone.datetime(today.year, 1, 1))
    measured = Measurement.objects.filter(resident=OuterRef("pk"), sbp__isnull=False, measured_at__gte=year_start)
    enrolled = Enrolment.objects.filter(resident=OuterRef("pk"), programme=PROGRAMME, end_date__isnull=True)
    open_case = ScreeningCase.objects.filter(
        resident=OuterRef("pk"),
        programme=PROGRAMME,
        status__in=[ScreeningStatus.RECHECKING, ScreeningStatus.CONFIRMABLE, ScreeningStatus.REFERRED],
    )
    qs = (
        Resident.objects.visible_to(user)
        .in_resident_population()
        .filter(birth_date__lte=latest_birth_date(today, min_age))
        .exclude(Exists(measured))
        .exclude(Exists(enrolled))
        .exclude(Exists(open_case))
    )
    offset = (max(1, page) - 1) * page_size
    rows = list(qs.select_related("area").order_by("birth_date", "pk")[offset : offset + page_size + 1])
    if audit_read:
        audit_search(user, object_type="programmes.screening", query=PROGRAMME, count=min(len(rows), page_size))
    return rows[:page_size], len(rows) > page_size

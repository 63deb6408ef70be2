"""Type 2 diabetes screening (RULES.md §2.1; ALGORITHMS.md §2, §5.3): fasting glucose, OGTT 2-h
glucose, random glucose and HbA1c classified by the 2020 CDS guideline; a diabetic-range value is
re-checked on another day (unless the resident has typical symptoms) before enrolment; the high-risk
list holds the residents with pre-diabetes or a Chinese Diabetes Risk Score >= 25."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core import rulesets
from jiayi.core.audit import audit_search
from jiayi.core.errors import DomainValidationError
from jiayi.programmes import risk, screening
from jiayi.programmes.diabetes.rules import PROGRAMME, high_risk, screening_result
from jiayi.programmes.models import Enrolment, ScreeningCase, ScreeningStatus
from jiayi.residents.models import HealthRecord, Measurement, Resident
from jiayi.residents.rules import latest_birth_date

FAMILY_HISTORY_WORDS = ("糖尿病", "diabetes")
#: the measurements the Chinese Diabetes Risk Score reads (besides age, sex and family history)
CDRS_INPUTS = ("bmi", "waist", "sbp")
LATEST = (*CDRS_INPUTS, "fasting_glucose")


def _latest(resident_ids: list[int]) -> dict[int, dict[str, float]]:
    """The latest BMI, waist, SBP and fasting glucose of each resident (each from its own latest
    measurement)."""
    out: dict[int, dict[str, float]] = {rid: {} for rid in resident_ids}
    rows = (
        Measurement.objects.filter(resident_id__in=resident_ids)
        .filter(Q(bmi__isnull=False) | Q(waist__isnull=False) | Q(sbp__isnull=False) | Q(fasting_glucose__isnull=False))
        .order_by("resident_id", "-measured_at", "-pk")
        .values_list("resident_id", *LATEST)
    )
    for rid, *values in rows:
        seen = out[rid]
        for name, v in zip(LATEST, values, strict=True):
            if v is not None and name not in seen:
                seen[name] = float(v)
    return out


def _family_histories(resident_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for rid, fh in HealthRecord.objects.filter(resident_id__in=resident_ids).values_list(
        "resident_id", "family_history"
    ):
        items = fh.values() if isinstance(fh, dict) else (fh or [])
        for item in items:
            values = item if isinstance(item, list | tuple) else [item]
            if any(any(w in str(v) for w in FAMILY_HISTORY_WORDS) for v in values):
                out.add(rid)
    return out


def cdrs_for(
    resident: Resident, on: date, values: dict[str, float], family_history: bool
) -> risk.DiabetesRiskScore | None:
    """The resident's CDRS on ``on`` from ``values`` (None: outside ages 20-74 or an input is missing)."""
    age = resident.age_on(on)
    low, high = risk.CDRS_AGE_RANGE
    if not low <= age <= high or any(k not in values for k in CDRS_INPUTS):
        return None
    return risk.diabetes_risk_score(
        age=age,
        sex=resident.sex,
        bmi=values["bmi"],
        waist=values["waist"],
        sbp=values["sbp"],
        family_history=family_history,
    )


@dataclass(frozen=True)
class HighRiskRow:
    resident: Resident
    criteria: list[str]  # keys of diabetes.rules.HIGH_RISK_CRITERIA
    score: risk.DiabetesRiskScore | None


#: residents scored per database round trip while the high-risk list is built
SCAN_CHUNK = 500


def high_risk_list(
    user, *, today: date | None = None, page: int = 1, page_size: int = 50, audit_read: bool = True
) -> tuple[list[HighRiskRow], bool]:
    """Residents of the population aged 20-74, not in diabetes management and without an open diabetes
    screening case, who are high risk: CDRS >= 25 (from their latest BMI, waist and SBP) or impaired
    fasting glucose (latest FPG 6.1-6.9). Youngest first, then by id; residents are scored a chunk at a
    time. (IGT needs an OGTT 2-h value, which is kept with screening cases only: it is flagged on the
    screening result, not on this list.)"""
    today = today or timezone.localdate()
    low, high = risk.CDRS_AGE_RANGE
    enrolled = Enrolment.objects.filter(resident=OuterRef("pk"), programme=PROGRAMME, end_date__isnull=True)
    open_case = ScreeningCase.objects.filter(
        resident=OuterRef("pk"),
        programme=PROGRAMME,
        status__in=[ScreeningStatus.RECHECKING, ScreeningStatus.CONFIRMABLE, ScreeningStatus.REFERRED],
    )
    glucose = rulesets.get(risk.GLUCOSE_PROGRAMME, "cds-2020")
    waist = Measurement.objects.filter(resident=OuterRef("pk"), waist__isnull=False)
    ifg = Measurement.objects.filter(
        resident=OuterRef("pk"),
        fasting_glucose__gte=glucose.value("ifg_fpg"),
        fasting_glucose__lt=glucose.value("diabetes_fpg"),
    )
    qs = (
        Resident.objects.visible_to(user)
        .in_resident_population()
        .filter(birth_date__lte=latest_birth_date(today, low), birth_date__gt=latest_birth_date(today, high + 1))
        .exclude(Exists(enrolled))
        .exclude(Exists(open_case))
        .filter(Exists(waist) | Exists(ifg))
        .select_related("area")
        .order_by("-birth_date", "pk")
    )
    offset = (max(1, page) - 1) * page_size
    found: list[HighRiskRow] = []
    start = 0
    while len(found) < offset + page_size + 1:
        chunk = list(qs[start : start + SCAN_CHUNK])
        if not chunk:
            break
        start += SCAN_CHUNK
        ids = [r.pk for r in chunk]
        latest = _latest(ids)
        fh = _family_histories(ids)
        for r in chunk:
            values = latest[r.pk]
            score = cdrs_for(r, today, values, r.pk in fh)
            fpg = values.get("fasting_glucose")
            category = risk.glucose_status(fasting_glucose=fpg, ruleset=glucose).category if fpg is not None else None
            criteria = high_risk(glucose_category=category, score=score)
            if criteria:
                found.append(HighRiskRow(resident=r, criteria=criteria, score=score))
    rows = found[offset : offset + page_size + 1]
    if audit_read:
        audit_search(user, object_type="programmes.screening", query=PROGRAMME, count=min(len(rows), page_size))
    return rows[:page_size], len(rows) > page_size


@transaction.atomic
def screening_record(
    *,
    actor,
    resident: Resident,
    fasting_glucose: float | None = None,
    ogtt_2h: float | None = None,
    random_glucose: float | None = None,
    hba1c: float | None = None,
    typical_symptoms: bool = False,
    measured_at: datetime | None = None,
) -> screening.ScreeningOutcome:
    """Record a screening glucose reading (FPG, OGTT 2-h, random glucose, HbA1c; at least one).

    A diabetic-range value opens a re-check case (ready to confirm after the rule set's days, one day
    with typical symptoms); a re-check below the diabetic range rules it out. Returned: the glucose
    state, whether an OGTT is recommended, the high-risk criteria (pre-diabetes; the CDRS if its inputs
    are recorded).
    """
    from jiayi.residents.services import measurement_record

    if all(v is None for v in (fasting_glucose, ogtt_2h, random_glucose, hba1c)):
        raise DomainValidationError({"fasting_glucose": _("请至少填写一项血糖或糖化血红蛋白。")})
    screening.lock_resident(resident, PROGRAMME, _("该居民已纳入2型糖尿病患者管理，请录入随访。"))
    # The OGTT 2-h value has no measurement column: it is kept with the screening case's reading (an
    # OGTT alone records no measurement).
    values = {"fasting_glucose": fasting_glucose, "random_glucose": random_glucose, "hba1c": hba1c}
    m = None
    if any(v is not None for v in values.values()):
        m = measurement_record(actor=actor, resident=resident, measured_at=measured_at, source="screening", **values)
        measured_at = m.measured_at
    elif measured_at is not None:
        if timezone.is_naive(measured_at):
            measured_at = timezone.make_aware(measured_at)
        if measured_at > timezone.now():
            raise DomainValidationError({"measured_at": _("测量时间不能晚于当前时间。")})
    day = timezone.localtime(measured_at).date() if measured_at is not None else timezone.localdate()
    try:
        rs = rulesets.default_for(PROGRAMME, day)
    except KeyError:
        raise DomainValidationError({"measured_at": _("该日期没有适用的规则集。")}) from None
    result = screening_result(
        ruleset=rs,
        fasting_glucose=fasting_glucose,
        ogtt_2h=ogtt_2h,
        random_glucose=random_glucose,
        hba1c=hba1c,
        typical_symptoms=typical_symptoms,
    )
    category = result.status.category
    reading = {
        k: v
        for k, v in (
            ("fasting_glucose", fasting_glucose),
            ("ogtt_2h", ogtt_2h),
            ("random_glucose", random_glucose),
            ("hba1c", hba1c),
        )
        if v is not None
    }
    case = screening.case_reading_add(
        actor=actor,
        resident=resident,
        programme=PROGRAMME,
        day=day,
        reading=reading,
        raised=result.raised,
        confirm_days=result.confirm_days,
        recheck_reason=_("血糖达到糖尿病诊断切点，另日复查（第{n}次）"),
        normal_note=_("复查血糖未达糖尿病诊断切点"),
    )
    values = _latest([resident.pk])[resident.pk]
    score = cdrs_for(resident, day, values, screening.family_history(resident, FAMILY_HISTORY_WORDS))
    return screening.ScreeningOutcome(
        measurement=m,
        raised=result.raised,
        case=case,
        high_risk=high_risk(glucose_category=category, score=score),
        detail={
            "category": category,
            "criteria": list(result.status.criteria),
            "ogtt_recommended": result.status.ogtt_recommended,
            "cdrs": score.total if score is not None else None,
        },
    )

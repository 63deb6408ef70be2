"""The diabetes programme's endpoints (added to the API by the engine): screening glucose readings and
the high-risk list (``/programmes/diabetes/screening/...``; the screening cases are the engine's,
``/programmes/screening/cases``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from jiayi.core.access import require_staff_scope, require_writer
from jiayi.programmes.api import CandidateOut, ReasonOut, ScreeningCaseOut, _case_out
from jiayi.programmes.diabetes import screening as dm_screening
from jiayi.programmes.diabetes.rules import HIGH_RISK_CRITERIA
from jiayi.residents import selectors as resident_selectors

router = Router(tags=["programmes"])

Glucose = Annotated[float, Field(ge=0, le=100)]


class GlucoseScreeningIn(Schema):
    resident_id: int
    #: mmol/L
    fasting_glucose: Glucose | None = None
    ogtt_2h: Glucose | None = None
    random_glucose: Glucose | None = None
    #: %
    hba1c: Annotated[float, Field(ge=0, le=30)] | None = None
    #: 多饮、多尿、多食、不明原因体重下降
    typical_symptoms: bool = False
    measured_at: datetime | None = None


class GlucoseScreeningOut(Schema):
    measurement_id: int | None
    raised: bool
    category: str
    criteria: list[str]
    ogtt_recommended: bool
    cdrs: int | None
    high_risk: list[ReasonOut]
    case: ScreeningCaseOut | None


class HighRiskOut(CandidateOut):
    cdrs: int | None
    high_risk: list[ReasonOut]


class HighRiskListOut(Schema):
    items: list[HighRiskOut]
    page: int
    has_next: bool


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": c, "label": _(HIGH_RISK_CRITERIA[c])} for c in codes]


@router.post("/programmes/diabetes/screening/measurements", response={201: GlucoseScreeningOut})
def glucose_screening(request, payload: GlucoseScreeningIn):
    require_writer(request)
    resident = resident_selectors.resident_get(request.user, payload.resident_id, audit_read=False)
    data = payload.dict()
    data.pop("resident_id")
    out = dm_screening.screening_record(actor=request.user, resident=resident, **data)
    return Status(
        201,
        {
            "measurement_id": out.measurement.pk if out.measurement is not None else None,
            "raised": out.raised,
            **out.detail,
            "high_risk": _reasons(out.high_risk),
            "case": _case_out(out.case) if out.case is not None else None,
        },
    )


@router.get("/programmes/diabetes/screening/high-risk", response=HighRiskListOut)
def high_risk_list(request, page: Annotated[int, Field(ge=1, le=10000)] = 1):
    require_staff_scope(request)
    rows, has_next = dm_screening.high_risk_list(request.user, page=page)
    today = timezone.localdate()
    return {
        "items": [
            {
                "resident_id": row.resident.pk,
                "name": row.resident.name,
                "sex": row.resident.sex,
                "age": row.resident.age_on(today),
                "phone_masked": row.resident.masked_phone,
                "area": row.resident.area.name,
                "cdrs": row.score.total if row.score is not None else None,
                "high_risk": _reasons(row.criteria),
            }
            for row in rows
        ],
        "page": page,
        "has_next": has_next,
    }

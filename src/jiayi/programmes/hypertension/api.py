"""The hypertension programme's endpoints (added to the API by the engine): screening candidates and
screening blood pressures (``/programmes/screening/...``; the screening cases themselves are the
engine's, ``/programmes/screening/cases``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from jiayi.core.access import require_staff_scope, require_writer
from jiayi.programmes.api import (
    CandidatesOut,
    ScreeningOut,
    _case_out,
)
from jiayi.programmes.hypertension import screening as ht_screening
from jiayi.programmes.hypertension.rules import HIGH_RISK_CRITERIA
from jiayi.residents import selectors as resident_selectors

router = Router(tags=["programmes"])


class ScreeningIn(Schema):
    resident_id: int
    sbp: Annotated[int, Field(ge=0, le=1000)]
    dbp: Annotated[int, Field(ge=0, le=1000)]
    measured_at: datetime | None = None
    heart_rate: Annotated[int, Field(ge=0, le=1000)] | None = None
    height: Annotated[float, Field(ge=0, le=1000)] | None = None
    weight: Annotated[float, Field(ge=0, le=1000)] | None = None
    waist: Annotated[float, Field(ge=0, le=1000)] | None = None


@router.get("/programmes/screening/candidates", response=CandidatesOut)
def screening_candidates(request, page: Annotated[int, Field(ge=1, le=10000)] = 1):
    require_staff_scope(request)
    rows, has_next = ht_screening.screening_candidates(request.user, page=page)
    today = timezone.localdate()
    return {
        "items": [
            {
                "resident_id": r.pk,
                "name": r.name,
                "sex": r.sex,
                "age": r.age_on(today),
                "phone_masked": r.masked_phone,
                "area": r.area.name,
            }
            for r in rows
        ],
        "page": page,
        "has_next": has_next,
    }


@router.post("/programmes/screening/measurements", response={201: ScreeningOut})
def screening_measure(request, payload: ScreeningIn):
    require_writer(request)
    resident = resident_selectors.resident_get(request.user, payload.resident_id, audit_read=False)
    data = payload.dict()
    data.pop("resident_id")
    out = ht_screening.screening_record(actor=request.user, resident=resident, **data)
    return Status(
        201,
        {
            "measurement_id": out.measurement.pk,
            "raised": out.raised,
            "high_risk": [{"code": c, "label": HIGH_RISK_CRITERIA[c]} for c in out.high_risk],
            "case": _case_out(out.case) if out.case is not None else None,
        },
    )

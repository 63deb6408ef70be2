"""The satisfaction survey stored with the contract."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jiayi.contracts.models import SatisfactionSurvey
from jiayi.contracts.services import satisfaction_record
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db

SCORES = {"overall_score": 5, "attitude_score": 5, "access_score": 4, "skill_score": 4, "fulfilment_score": 3}


def test_staff_enter_a_survey_and_correct_it(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=timezone.localdate() - timedelta(days=10))
    s = satisfaction_record(
        actor=district.nurse_a.user,
        contract=c,
        surveyed_on=timezone.localdate(),
        method="phone",
        would_renew=True,
        **SCORES,
    )
    assert s.entered_by == district.nurse_a and c.satisfaction == s
    with pytest.raises(ConcurrentEditError):
        satisfaction_record(actor=None, contract=c, surveyed_on=timezone.localdate(), method="phone", **SCORES)
    s2 = satisfaction_record(
        actor=None,
        contract=c,
        surveyed_on=timezone.localdate(),
        method="in_person",
        version=s.version,
        **{**SCORES, "overall_score": 2},
    )
    assert s2.overall_score == 2 and s2.version == s.version + 1
    assert SatisfactionSurvey.objects.count() == 1


def test_survey_validation(district, basic):
    c = sign(district, district.resident_a, [basic])
    with pytest.raises(DomainValidationError) as e:
        satisfaction_record(
            actor=None,
            contract=c,
            surveyed_on=timezone.localdate() + timedelta(days=1),
            method="telepathy",
            **{**SCORES, "overall_score": 6},
        )
    assert {"overall_score", "method", "surveyed_on"} <= set(e.value.errors)
    with pytest.raises(DomainValidationError) as e:
        satisfaction_record(
            actor=None, contract=c, surveyed_on=timezone.localdate() - timedelta(days=5), method="phone", **SCORES
        )
    assert "surveyed_on" in e.value.errors
    assert not SatisfactionSurvey.objects.exists()

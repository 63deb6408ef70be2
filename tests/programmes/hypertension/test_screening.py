"""Hypertension screening (RULES.md §2.1): re-checks on different days, confirmation, stale actions.

Moved from tests/programmes/test_services.py with the screening code (programmes/hypertension/screening.py,
the case actions in programmes/screening.py).
"""

from __future__ import annotations

import pytest

from jiayi.programmes import screening
from jiayi.programmes.hypertension import screening as ht_screening
from jiayi.programmes.models import Enrolment, Referral, Task, TaskStatus
from tests.programmes.conftest import days_ago

pytestmark = pytest.mark.django_db


def test_screening_three_raised_days_make_a_case_to_confirm(district):
    from datetime import datetime, time

    from django.utils import timezone

    r = district.resident_a1
    for n in (20, 10, 1):
        at = timezone.make_aware(datetime.combine(days_ago(n), time(9)))
        out = ht_screening.screening_record(
            actor=district.station_doctor.user, resident=r, sbp=150, dbp=95, measured_at=at
        )
    case = out.case
    assert case.status == "confirmable" and len(case.raised_days) == 3
    assert not Task.objects.filter(resident=r, kind="screening_recheck", status="due").exists()
    e = screening.screening_confirm(actor=district.station_doctor.user, case=case, version=case.version)
    assert e.source == "screening" and Enrolment.objects.filter(resident=r, end_date__isnull=True).exists()


def test_a_normal_recheck_closes_the_case(district):
    r = district.resident_a1
    out = ht_screening.screening_record(
        actor=district.station_doctor.user, resident=r, sbp=150, dbp=95, measured_at=None
    )
    assert out.raised and Task.objects.filter(resident=r, kind="screening_recheck", status=TaskStatus.DUE).exists()
    out2 = ht_screening.screening_record(actor=district.station_doctor.user, resident=r, sbp=128, dbp=80)
    assert out2.case.status == "ruled_out"


def _raised_case(district):
    out = ht_screening.screening_record(
        actor=district.station_doctor.user, resident=district.resident_a1, sbp=150, dbp=95
    )
    return out.case


@pytest.mark.parametrize("second", ["rule_out", "refer"])
def test_a_screening_action_on_a_stale_case_changes_nothing(district, second):
    """Both requests read version v; the first refers. The second must not overwrite it (it did: the
    version was compared with the copy in memory, and the UPDATE was not conditional)."""
    from jiayi.core.errors import ConcurrentEditError
    from jiayi.programmes.models import ScreeningCase

    case = _raised_case(district)
    stale = ScreeningCase.objects.get(pk=case.pk)
    screening.screening_refer(actor=district.station_doctor.user, case=case, version=case.version)
    with pytest.raises(ConcurrentEditError):
        if second == "rule_out":
            screening.screening_rule_out(actor=district.station_doctor.user, case=stale, version=stale.version)
        else:
            screening.screening_refer(actor=district.station_doctor.user, case=stale, version=stale.version)
    assert ScreeningCase.objects.get(pk=case.pk).status == "referred"
    assert Referral.objects.filter(resident=district.resident_a1).count() == 1

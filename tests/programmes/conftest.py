"""Fixtures for the programme engine tests: enrolments of the district's residents and visit forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def ht_form(sbp: int = 132, dbp: int = 82, **extra) -> dict:
    form = {"sbp": sbp, "dbp": dbp, "adherence": "regular", "heart_rate": 72, "weight": 70, "height": 170}
    form.update(extra)
    return form


def dm_form(fpg: float = 6.1, **extra) -> dict:
    form = {"fasting_glucose": fpg, "sbp": 128, "dbp": 78, "adherence": "regular"}
    form.update(extra)
    return form


@pytest.fixture
def ht_enrolment(district):
    from jiayi.programmes.services import enrolment_create

    return enrolment_create(
        actor=district.doctor_a.user,
        resident=district.resident_a,
        programme="hypertension",
        start_date=days_ago(120),
        doctor=district.doctor_a,
        team=district.team_a,
    )


@pytest.fixture
def dm_enrolment(district):
    from jiayi.programmes.services import enrolment_create

    return enrolment_create(
        actor=district.doctor_a.user,
        resident=district.resident_a,
        programme="diabetes",
        start_date=days_ago(120),
        doctor=district.doctor_a,
        team=district.team_a,
    )


@pytest.fixture
def ht_enrolment_b(district):
    from jiayi.programmes.services import enrolment_create

    return enrolment_create(
        actor=district.doctor_b.user,
        resident=district.resident_b,
        programme="hypertension",
        start_date=days_ago(120),
        doctor=district.doctor_b,
        team=district.team_b,
    )

"""Staff employment dates: a leaving date never precedes the hiring date."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

pytestmark = pytest.mark.django_db


def test_the_leaving_date_cannot_precede_the_hiring_date(district):
    gp = district.doctor_a
    gp.employed_from, gp.employed_until = date(2020, 3, 1), date(2020, 2, 29)
    with pytest.raises(ValidationError) as err:
        gp.full_clean()
    assert set(err.value.message_dict) == {"employed_until"}
    with pytest.raises(IntegrityError), transaction.atomic():
        gp.save()


def test_either_date_may_be_missing_and_the_same_day_is_allowed(district):
    gp = district.doctor_a
    for since, until in ((None, date(2020, 1, 1)), (date(2020, 1, 1), None), (date(2020, 1, 1), date(2020, 1, 1))):
        gp.employed_from, gp.employed_until = since, until
        gp.full_clean()
        gp.save()
        gp.refresh_from_db()
        assert (gp.employed_from, gp.employed_until) == (since, until)

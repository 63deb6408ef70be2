"""A small generated district shared by the synth tests (built once per module, removed afterwards)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from jiayi.synth import reference
from jiayi.synth.pipeline import generate
from jiayi.synth.purge import purge_district

AS_OF = date(2025, 6, 30)
DISTRICT = "gusu"
RESIDENTS = 2_000
SEED = 7


@pytest.fixture(scope="module")
def small_district(django_db_setup, django_db_blocker):
    """2,000 residents of Gusu generated into the test database (committed, then purged)."""
    with django_db_blocker.unblock():
        result = generate(district=DISTRICT, residents=RESIDENTS, seed=SEED, as_of=AS_OF, progress=False)
        try:
            yield result
        finally:
            with transaction.atomic():
                purge_district(reference.get_district(DISTRICT).county_code, DISTRICT)

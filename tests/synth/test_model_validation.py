"""Synthetic rows pass Django model validation (choices, lengths, validators, constraints)."""

from __future__ import annotations

import pytest
from django.apps import apps

from jiayi.synth.digest import DIGEST_MODELS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("label", DIGEST_MODELS)
def test_generated_rows_pass_full_clean(small_district, label):
    try:
        model = apps.get_model(label)
    except LookupError:
        pytest.skip(f"{label} is not installed")
    rows = list(model.objects.order_by("?")[:60])
    assert rows, f"no {label} rows generated"
    for obj in rows:
        obj.full_clean()

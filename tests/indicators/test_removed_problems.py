"""A problem removed as entered in error (residents.services.problem_remove) no longer counts in any
indicator: the values equal those computed with the row gone from the table, on both backends."""

from __future__ import annotations

import pytest

from jiayi.residents import services
from jiayi.residents.models import Problem
from tests.indicators.conftest import TODAY

pytestmark = pytest.mark.django_db

PERIODS = ["2025", "2025-03", "2025-06", "2025-12"]


def _values(backend: str) -> dict:
    from jiayi.indicators.engine import compute
    from jiayi.indicators.models import IndicatorValue

    compute(backend=backend, periods=PERIODS, today=TODAY, incremental=False)
    return {(v.indicator, v.period, v.level, v.unit_id): (v.numerator, v.denominator)
            for v in IndicatorValue.objects.all()}


@pytest.mark.parametrize("backend", ["db", "duckdb"])
def test_a_removed_problem_counts_as_no_problem(small, backend):
    problem = Problem.objects.get(resident=small.r["R3"], icd10="I10")
    with_it = _values(backend)
    services.problem_remove(actor=None, problem=problem, version=problem.version, reason="录入错误")
    removed = _values(backend)
    assert removed != with_it  # R3's hypertension was counted before
    Problem.all_objects.filter(pk=problem.pk).delete()
    assert _values(backend) == removed

"""The line list behind a number has exactly the stored numerator and denominator."""

from __future__ import annotations

from tests.indicators.conftest import TODAY


def test_every_line_list_adds_up_to_its_stored_value(computed):
    from jiayi.indicators.catalogue import CATALOGUE
    from jiayi.indicators.engine import line_list
    from jiayi.indicators.models import IndicatorValue

    # One indicator per kind of builder, at every level below the district.
    codes = ["record.use_rate", "contract.coverage.hypertension", "contract.renewal_rate", "contract.fulfilment_rate",
             "contract.satisfaction", "ht.standardised_rate", "dm.control_rate", "chronic.medication_plan_share",
             "elderly.management_rate", "ht.management_rate"]
    checked = 0
    for v in IndicatorValue.objects.filter(period="2025", indicator__in=codes).exclude(level="district"):
        assert CATALOGUE[v.indicator].den_divisor(computed_ctx()) == 1
        rows = line_list(v.indicator, v.period, v.level, v.unit_id, today=TODAY)
        assert (sum(r["in_numerator"] for r in rows), len(rows)) == (v.numerator, v.denominator), (
            v.indicator, v.period, v.level, v.unit_id)
        checked += 1
    assert checked >= 30


def computed_ctx():
    from jiayi.indicators.facts import rule_context

    return rule_context(TODAY)


def test_a_unit_with_nobody_in_the_denominator_has_an_empty_list(computed):
    from jiayi.indicators.engine import line_list

    assert line_list("contract.satisfaction", "2025-06", "team", computed.team_s.pk, today=TODAY) == []

"""Appraisal scoring (RULES.md §1.3) and the indicator rule sets."""

from __future__ import annotations

import pytest

from jiayi.core import rulesets
from jiayi.indicators import rules


@pytest.mark.parametrize(
    ("value", "target", "mode", "points", "met"),
    [
        (90, 90, "egt", 100, True),
        (95, 90, "egt", 100, True),
        (45, 90, "egt", 50, False),
        (0, 90, "egt", 0, False),
        (8, 10, "elt", 100, True),
        (20, 10, "elt", 50, False),
        (True, None, "Y01", 100, True),
        (False, None, "Y01", 0, False),
        (False, None, "N01", 100, True),
    ],
)
def test_it_scores_like_the_appraisal_system(value, target, mode, points, met):
    s = rules.score(value, target, mode)
    assert (s.points, s.met) == (points, met)


def test_a_missing_value_has_no_score():
    assert rules.score(None, 90, "egt") is None
    assert rules.meets(None, 90, "egt") is None


def test_it_refuses_unknown_modes():
    with pytest.raises(ValueError):
        rules.score(1, 1, "gte")


def test_open_definitions_are_unverified_rule_set_data():
    rs = rulesets.get("indicators", "nbphs-2017")
    assert rs.value("record_use_window_months") == 12
    assert {"record_use_window_months", "record_use_evidence", "record_use_denominator"} <= set(rs.unverified())


def test_the_estimated_variant_is_opt_in():
    variant = rulesets.get("programme-engine", "nbphs-2017-estimated")
    assert variant.opt_in and variant.value("management_denominator") == "estimated"

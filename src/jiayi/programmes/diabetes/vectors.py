"""Worked examples of the type 2 diabetes follow-up rules (RULES.md §2.3-2.4, rule set nbphs-2017) that
the programme contract test runs through the programme's rules adapter."""

from __future__ import annotations

from datetime import date

from jiayi.programmes.spec import RuleVector

_BORN = date(1970, 5, 1)
_DAY = date(2025, 3, 10)
_BP = {"sbp": 125, "dbp": 78}

VECTORS = (
    RuleVector(
        "§2.4 FPG < 7.0 controlled: routine visit in 90 days",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 6.9, **_BP},
        visit_date=_DAY,
        classification="controlled",
        next_due=date(2025, 6, 8),
        referral=False,
    ),
    RuleVector(
        "§2.4 FPG >= 7.0 first uncontrolled: within 2 weeks",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 7.0, **_BP},
        visit_date=_DAY,
        classification="uncontrolled",
        next_due=date(2025, 3, 24),
        referral=False,
    ),
    RuleVector(
        "§2.4 second consecutive uncontrolled: refer",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 8.2, **_BP},
        visit_date=_DAY,
        previous="uncontrolled",
        classification="uncontrolled",
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 DM-U1 glucose >= 16.7: urgent referral",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 16.7, **_BP},
        visit_date=_DAY,
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 DM-U1 glucose <= 3.9: urgent referral",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 3.9, **_BP},
        visit_date=_DAY,
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 DM-U2 SBP >= 180: urgent referral",
        "nbphs-2017",
        _BORN,
        form={"fasting_glucose": 6.0, "sbp": 180, "dbp": 80},
        visit_date=_DAY,
        next_due=date(2025, 3, 24),
        referral=True,
    ),
)

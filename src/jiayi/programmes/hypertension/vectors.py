"""Worked examples of the hypertension follow-up rules (RULES.md §2.3-2.4, rule set nbphs-2017) that the
programme contract test runs through the programme's rules adapter."""

from __future__ import annotations

from datetime import date

from jiayi.programmes.spec import RuleVector

_BORN = date(1970, 5, 1)  # 54 on the visit day: the <140/90 target applies
_DAY = date(2025, 3, 10)

VECTORS = (
    RuleVector(
        "§2.4 controlled: routine visit in 90 days",
        "nbphs-2017",
        _BORN,
        form={"sbp": 132, "dbp": 82},
        visit_date=_DAY,
        classification="controlled",
        next_due=date(2025, 6, 8),
        referral=False,
    ),
    RuleVector(
        "§2.4 first uncontrolled (140/90 is not controlled): within 2 weeks",
        "nbphs-2017",
        _BORN,
        form={"sbp": 140, "dbp": 85},
        visit_date=_DAY,
        classification="uncontrolled",
        next_due=date(2025, 3, 24),
        referral=False,
    ),
    RuleVector(
        "§2.4 second consecutive uncontrolled: refer, follow up in 2 weeks",
        "nbphs-2017",
        _BORN,
        form={"sbp": 152, "dbp": 94},
        visit_date=_DAY,
        previous="uncontrolled",
        classification="uncontrolled",
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 HTN-U1 SBP >= 180: urgent referral",
        "nbphs-2017",
        _BORN,
        form={"sbp": 180, "dbp": 80},
        visit_date=_DAY,
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 HTN-U1 DBP >= 110: urgent referral",
        "nbphs-2017",
        _BORN,
        form={"sbp": 150, "dbp": 110},
        visit_date=_DAY,
        next_due=date(2025, 3, 24),
        referral=True,
    ),
    RuleVector(
        "§2.3 179/109 is not urgent (first uncontrolled)",
        "nbphs-2017",
        _BORN,
        form={"sbp": 179, "dbp": 109},
        visit_date=_DAY,
        classification="uncontrolled",
        next_due=date(2025, 3, 24),
        referral=False,
    ),
)

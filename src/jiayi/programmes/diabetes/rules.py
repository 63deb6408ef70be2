"""Type 2 diabetes programme rules: rule sets (RULES.md §2.1, §2.3, §2.4).

Pure Python (no Django). Importing this module registers the programme's rule sets:

- ``nbphs-2017`` — 国家基本公共卫生服务规范（第三版）: controlled = fasting plasma glucose < 7.0 mmol/L;
  urgent-referral thresholds of DM-U1..U7.
- ``chronic-2025`` — registered for symmetry with hypertension, **opt-in**, values carried over
  unchanged: no 2025 diabetes source was reviewed.

Follow-up evaluation is shared with hypertension: :func:`jiayi.programmes.chronic_rules.evaluate_visit`.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet
from jiayi.programmes.chronic_rules import DIABETES, common_params

__all__ = ["CHRONIC_2025", "NBPHS_2017", "PROGRAMME"]

PROGRAMME: Final[str] = DIABETES


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


_S23 = "RULES.md §2.3 — full list in an open-source implementation; wenke99 p-13798564"
_PREG_NOTE = (
    "'妊娠期及哺乳期血糖高于正常' is not quantified; project convention: above the non-pregnant normal "
    "range (FPG >= 6.1, other glucose >= 7.8, WHO 1999)"
)

NBPHS_2017: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbphs-2017",
        programme=PROGRAMME,
        title=_("国家基本公共卫生服务规范（第三版）2型糖尿病患者健康管理"),
        effective_from=date(2017, 3, 28),
        params={
            **common_params(),
            "target_fpg": Param(
                7.0,
                "H",
                "RULES.md §2.4 — dxeyzfevrn; training question bank '血糖控制满意的空腹血糖值应低于7.0'",
                note="a vendor implementation also requires FPG >= 3.9 (not adopted)",
            ),
            "urgent_glucose_high": Param(16.7, "M", _S23 + " (DM-U1)"),
            "urgent_glucose_low": Param(3.9, "M", _S23 + " (DM-U1)"),
            "urgent_sbp": Param(180, "M", _S23 + " (DM-U2)"),
            "urgent_dbp": Param(110, "M", _S23 + " (DM-U2)"),
            "urgent_heart_rate": Param(100, "M", _S23 + " (DM-U4, strictly above)"),
            "urgent_temperature": Param(39.0, "M", _S23 + " (DM-U5, strictly above)"),
            "pregnancy_fpg": Param(6.1, "NOT FOUND", _S23 + " (DM-U6)", verified=False, note=_PREG_NOTE),
            "pregnancy_random": Param(7.8, "NOT FOUND", _S23 + " (DM-U6)", verified=False, note=_PREG_NOTE),
            "screening_fpg_tests_per_year": Param(
                1, "M", "RULES.md §2.1 — Kunming news '建议其每年至少测量1次空腹血糖'"
            ),
        },
    )
)

CHRONIC_2025: Final[RuleSet] = rulesets.register(
    NBPHS_2017.derive(
        code="chronic-2025",
        title=_("慢性病管理 2025（糖尿病：沿用第三版规范取值，待核实）"),
        effective_from=date(2025, 1, 1),
        opt_in=True,
        note="No 2025 diabetes source was reviewed; every value is carried over from nbphs-2017.",
        overrides={
            "target_fpg": Param(
                7.0,
                "L",
                "carried over from nbphs-2017 (RULES.md §2.4)",
                verified=False,
                note="no 2025 diabetes source reviewed; verify against the current guideline",
            ),
        },
    )
)

"""The five programme presets list every target of TARGETS.md, measured or 'not measurable yet'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jiayi.indicators import presets
from jiayi.indicators.catalogue import CATALOGUE
from jiayi.indicators.rules import SCORING_MODES

TARGETS_MD = Path("/work/shared/domain/TARGETS.md")

# Rows of TARGETS.md that name several targets are split: binhai's first row (elderly, hypertension,
# diabetes), its second (five groups), its station and centre rows (two counts each); xuhui's two-year rows.
EXPECTED = {"xintang-2019": 4, "binhai-2019": 21, "gusu-2021": 22, "xuhui-2025": 9, "songshan-2018": 6}


def _table_rows() -> dict[str, int]:
    text = TARGETS_MD.read_text(encoding="utf-8")
    out: dict[str, int] = {}
    for code, body in re.findall(r"^### (\S+)\n(.*?)(?=^### |^## |\Z)", text, flags=re.S | re.M):
        rows = [line for line in body.splitlines() if line.startswith("|")]
        out[code] = sum(1 for line in rows if not line.startswith(("| indicator", "|---")))
    return out


@pytest.mark.skipif(not TARGETS_MD.exists(), reason="shared domain files not mounted")
def test_every_target_of_targets_md_is_in_its_preset():
    rows = _table_rows()
    assert set(rows) == set(presets.PRESETS)
    for code, preset in presets.PRESETS.items():
        assert len(preset.targets) == EXPECTED[code] >= rows[code], code


def test_measured_targets_point_at_catalogue_indicators():
    for preset in presets.PRESETS.values():
        for t in preset.targets:
            assert t.mode in SCORING_MODES
            if t.indicator is None:
                assert t.note, f"{preset.code}: {t.label} needs a note saying why it is not measurable"
            else:
                assert t.indicator in CATALOGUE, t.indicator


def test_gusu_measures_the_record_contract_and_chronic_targets():
    gusu = presets.get("gusu-2021")
    measured = {t.indicator for t in gusu.targets if t.measurable}
    assert {"record.rate", "record.open_rate", "contract.coverage", "ht.standardised_rate",
            "dm.standardised_rate", "elderly.management_rate"} <= measured
    assert any(t.label == "年底家庭病床建床数" and not t.measurable for t in gusu.targets)


def test_an_unknown_preset_is_a_key_error():
    with pytest.raises(KeyError):
        presets.get("nowhere-2030")

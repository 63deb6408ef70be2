"""Production settings pass Django's deployment checklist; a missing SECRET_KEY is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("JIAYI_ALLOW_DEV_KEY", "DEBUG", "SECRET_KEY")}
    clean["JIAYI_ENV_FILE"] = ""  # ignore a developer's .env
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_production_settings():
    r = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY="a" * 20 + "-production-secret-key-for-the-check-0123456789",
        SECURE="1", DEBUG="0", ALLOWED_HOSTS="jiayi.example.cn",
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_missing_secret_key_is_refused_in_production():
    r = _manage("check", DEBUG="0")
    assert r.returncode != 0
    assert "SECRET_KEY" in r.stderr


def test_indicator_rulesets_are_read_strictly_from_the_environment():
    import pytest

    from jiayi.core.rulesets import parse_choices

    assert parse_choices("") == {}
    assert parse_choices(" hypertension=nbphs-2017 , programme-engine=nbphs-2017-estimated ") == {
        "hypertension": "nbphs-2017", "programme-engine": "nbphs-2017-estimated",
    }
    for bad in ("hypertension", "hypertension=", "=nbphs-2017", "hypertension=a=b", "hypertension=nbphs-2017,",
                "Hypertension=nbphs-2017", "hypertension=x,hypertension=y"):
        with pytest.raises(ValueError):
            parse_choices(bad)
    r = _manage("check", JIAYI_ALLOW_DEV_KEY="1", JIAYI_INDICATOR_RULESETS="programme-engine")
    assert r.returncode != 0 and "ImproperlyConfigured" in r.stderr and "JIAYI_INDICATOR_RULESETS" in r.stderr


def test_unknown_indicator_rule_sets_fail_the_system_check():
    r = _manage("check", JIAYI_ALLOW_DEV_KEY="1", JIAYI_INDICATOR_RULESETS="hypertension=nbphs-1999,vision=x")
    assert r.returncode != 0
    assert "indicators.E001" in r.stderr and "indicators.E002" in r.stderr
    ok = _manage("check", JIAYI_ALLOW_DEV_KEY="1", JIAYI_INDICATOR_RULESETS="programme-engine=nbphs-2017-estimated")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_the_chosen_indicator_rule_sets_are_the_engine_default():
    from datetime import date

    from django.conf import settings
    from django.test import override_settings

    from jiayi.indicators.checks import indicator_rulesets_exist
    from jiayi.indicators.facts import rule_context

    chosen = {**settings.JIAYI, "INDICATOR_RULESETS": {"programme-engine": "nbphs-2017-estimated"}}
    with override_settings(JIAYI=chosen):
        assert indicator_rulesets_exist() == []
        ctx = rule_context(date(2026, 1, 15))
        assert ctx.engine.code == "nbphs-2017-estimated"
        assert rule_context(date(2026, 1, 15), {"programme-engine": "nbphs-2017"}).engine.code == "nbphs-2017"
    assert rule_context(date(2026, 1, 15)).engine.code == "nbphs-2017"
    wrong = {**settings.JIAYI, "INDICATOR_RULESETS": {"family-doctor": "none", "dental": "x"}}
    with override_settings(JIAYI=wrong):
        assert sorted(e.id for e in indicator_rulesets_exist()) == ["indicators.E001", "indicators.E002"]

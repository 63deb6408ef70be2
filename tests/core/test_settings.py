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

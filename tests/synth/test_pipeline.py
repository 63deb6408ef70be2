"""Running the generator: determinism, refusal of a non-empty district, replacement, the commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiayi.residents.models import Resident
from jiayi.synth.digest import content_digest
from jiayi.synth.pipeline import SynthError, generate
from tests.synth.conftest import AS_OF, DISTRICT, RESIDENTS, SEED

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_it_refuses_a_district_that_already_has_data(small_district):
    with pytest.raises(SynthError, match="--replace"):
        generate(district=DISTRICT, residents=100, seed=1, as_of=AS_OF, progress=False)
    assert Resident.objects.filter(area__code__startswith="320508").count() == RESIDENTS


@pytest.mark.django_db
def test_the_command_refuses_too(small_district):
    with pytest.raises(CommandError, match="已有数据"):
        call_command("synth", district=DISTRICT, residents=100, seed=1, no_progress=True, stdout=StringIO())


@pytest.mark.django_db(transaction=False)
def test_replace_with_the_same_seed_gives_the_same_content(small_district):
    before = content_digest()
    result = generate(district=DISTRICT, residents=RESIDENTS, seed=SEED, as_of=AS_OF, replace=True, progress=False)
    assert result.replaced["residents"] == RESIDENTS
    assert content_digest() == before


@pytest.mark.django_db
def test_unknown_district_and_bad_size_are_refused():
    with pytest.raises(SynthError):
        generate(district="atlantis", residents=10, seed=1, progress=False)
    with pytest.raises(SynthError):
        generate(district="xuhui", residents=0, seed=1, progress=False)
    with pytest.raises(CommandError):
        call_command("synth", district="atlantis", residents=10, stdout=StringIO())


def _manage(db: Path, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "JIAYI_ALLOW_DEV_KEY": "1"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_two_runs_into_two_databases_give_identical_hashes(tmp_path):
    first = tmp_path / "first.sqlite3"
    _manage(first, "migrate", "--skip-checks", "-v", "0")
    second, third = tmp_path / "second.sqlite3", tmp_path / "third.sqlite3"
    shutil.copy(first, second)
    shutil.copy(first, third)
    args = ["synth", "--district", "songshan", "--residents", "1500", "--as-of", "2025-01-15", "--no-progress"]
    _manage(first, *args, "--seed", "3")
    _manage(second, *args, "--seed", "3")
    _manage(third, *args, "--seed", "4")
    a = json.loads(_manage(first, "synth_digest"))
    b = json.loads(_manage(second, "synth_digest"))
    c = json.loads(_manage(third, "synth_digest"))
    assert a == b
    assert a["*"] != c["*"]
    assert a["residents_resident"] != c["residents_resident"]

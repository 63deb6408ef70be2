"""Two writers of one resident's problems at once (run on PostgreSQL as well as SQLite).

The first writer keeps its transaction open until the second has started and, on PostgreSQL, waits
for the first's lock on the resident; then both finish. On SQLite, IMMEDIATE transactions make the
second wait for the first from its start, which gives the same outcome."""

from __future__ import annotations

import pytest

from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.residents import services
from jiayi.residents.models import Problem
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_people_adding_the_same_diagnosis_at_once_record_it_once(district):
    r = district.resident_a

    def add(code: str):
        return lambda: services.problem_add(actor=district.doctor_a.user, resident=r, icd10=code)

    results, errors = race(add("F20.0"), add("F20.3"))
    assert "first" not in errors and results["first"].icd10 == "F20.0"
    assert isinstance(errors.get("second"), DomainValidationError) and errors["second"].code == "duplicate"
    assert list(Problem.objects.filter(resident=r).values_list("icd10", flat=True)) == ["F20.0"]


def test_two_edits_of_the_same_version_at_once_keep_the_first_and_refuse_the_second(district):
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")

    def edit(note: str):
        return lambda: services.problem_update(actor=None, problem=p, version=1, note=note)

    results, errors = race(edit("第一人"), edit("第二人"))
    assert "first" not in errors and results["first"].version == 2
    assert isinstance(errors.get("second"), ConcurrentEditError)
    p.refresh_from_db()
    assert (p.note, p.version) == ("第一人", 2)


def test_an_edit_racing_a_removal_of_the_same_version_loses(district):
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="E11")
    _results, errors = race(
        lambda: services.problem_remove(actor=None, problem=p, version=1, reason="录入错误"),
        lambda: services.problem_update(actor=None, problem=p, version=1, note="迟到的修改"),
    )
    assert "first" not in errors and isinstance(errors.get("second"), ConcurrentEditError)
    kept = Problem.all_objects.get(pk=p.pk)
    assert kept.removed_at is not None and kept.note == ""

"""Problem services: ICD-10 codes from the list, dates, one unresolved problem per category, the
version check, soft removal, key-population tags following the diagnoses, audit with before/after."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.models import AccessAction, AccessEvent
from jiayi.residents import services
from jiayi.residents.models import Problem, ProblemKind

pytestmark = pytest.mark.django_db


def _tags(resident) -> set[str]:
    return set(resident.key_population_tags.values_list("code", flat=True))


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.errors


def test_adding_a_coded_problem_names_it_from_the_code_list_and_records_who(district):
    r = district.resident_a
    p = services.problem_add(actor=district.doctor_a.user, resident=r, icd10="f20.0", diagnosed_on=date(2001, 5, 1))
    assert (p.icd10, p.name, p.version, p.recorded_by) == ("F20.0", "偏执型精神分裂症", 1, district.doctor_a)
    assert p.category == "F20"


def test_a_code_not_in_the_list_is_refused_on_the_code_field(district):
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=district.resident_a, icd10="F20.77", name="x")
    assert list(_errors(exc)) == ["icd10"]
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=district.resident_a, icd10="F2")  # a prefix is not a code
    assert "icd10" in _errors(exc)
    assert not Problem.objects.exists()


def test_a_disease_needs_a_code_other_kinds_do_not(district):
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=district.resident_a, name="高血压")
    assert list(_errors(exc)) == ["icd10"]
    p = services.problem_add(actor=None, resident=district.resident_a, name="阑尾切除术", kind=ProblemKind.SURGERY)
    assert p.icd10 == "" and p.kind == "surgery"
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=district.resident_a, kind=ProblemKind.TRAUMA)
    assert list(_errors(exc)) == ["name"]


def test_the_onset_date_is_neither_before_birth_nor_in_the_future(district):
    r = district.resident_a
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=r, icd10="I10", diagnosed_on=r.birth_date - timedelta(days=1))
    assert list(_errors(exc)) == ["diagnosed_on"]
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=r, icd10="I10", diagnosed_on=timezone.localdate() + timedelta(days=1))
    assert list(_errors(exc)) == ["diagnosed_on"]
    assert services.problem_add(actor=None, resident=r, icd10="I10", diagnosed_on=r.birth_date).pk


def test_several_field_errors_come_together(district):
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(
            actor=None, resident=district.resident_a, icd10="ZZZ", diagnosed_on=date(1900, 1, 1), note="x" * 301
        )
    assert set(_errors(exc)) == {"icd10", "diagnosed_on", "note", "name"}


def test_no_second_unresolved_problem_of_the_same_category(district):
    r = district.resident_a
    first = services.problem_add(actor=None, resident=r, icd10="F20.0")
    with pytest.raises(DomainValidationError) as exc:
        services.problem_add(actor=None, resident=r, icd10="F20.3")
    assert exc.value.code == "duplicate" and "F20.0" in _errors(exc)["icd10"][0]
    services.problem_add(actor=None, resident=r, icd10="F31")  # another category is fine
    services.problem_resolve(actor=None, problem=first, version=first.version, resolved_on=timezone.localdate())
    assert services.problem_add(actor=None, resident=r, icd10="F20.3").pk  # after the first was resolved
    other = services.problem_add(actor=None, resident=district.resident_b, icd10="F20")  # another resident
    assert other.pk


def test_diagnosis_groups_set_and_clear_the_key_population_tags(district):
    r = district.resident_a1  # born 1970: no age-derived tags
    assert _tags(r) == set()
    mental = services.problem_add(actor=None, resident=r, icd10="F20")
    tb = services.problem_add(actor=None, resident=r, icd10="A15.0")
    services.problem_add(actor=None, resident=r, icd10="J45")  # asthma: in no group
    assert _tags(r) == {"severe_mental", "tuberculosis"}
    services.problem_resolve(actor=None, problem=tb, version=tb.version, reason="完成疗程，治愈")
    assert _tags(r) == {"severe_mental"}
    services.problem_remove(actor=None, problem=mental, version=mental.version, reason="录入错误")
    assert _tags(r) == set()


def test_changing_the_code_moves_the_tag_and_takes_the_new_title(district):
    r = district.resident_a1
    p = services.problem_add(actor=None, resident=r, icd10="F32")  # depressive episode: no group
    assert _tags(r) == set()
    p = services.problem_update(actor=None, problem=p, version=p.version, icd10="F31")
    assert (p.icd10, p.name, p.version) == ("F31", "双相情感障碍", 2)
    assert _tags(r) == {"severe_mental"}
    p = services.problem_update(actor=None, problem=p, version=p.version, note="住院一次")
    assert (p.name, p.note, p.version) == ("双相情感障碍", "住院一次", 3)


def test_an_edit_with_an_old_version_is_refused_and_changes_nothing(district):
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    services.problem_update(actor=None, problem=p, version=1, note="第一人")
    with pytest.raises(ConcurrentEditError):
        services.problem_update(actor=None, problem=p, version=1, note="第二人")
    with pytest.raises(ConcurrentEditError):
        services.problem_resolve(actor=None, problem=p, version=1)
    with pytest.raises(ConcurrentEditError):
        services.problem_remove(actor=None, problem=p, version=1, reason="录入错误")
    p.refresh_from_db()
    assert (p.note, p.version, p.resolved_on, p.removed_at) == ("第一人", 2, None, None)


def test_an_edit_is_validated_like_an_add(district):
    r = district.resident_a
    services.problem_add(actor=None, resident=r, icd10="E11")
    p = services.problem_add(actor=None, resident=r, icd10="I10")
    with pytest.raises(DomainValidationError) as exc:
        services.problem_update(actor=None, problem=p, version=p.version, icd10="E11.9")
    assert exc.value.code == "duplicate"
    with pytest.raises(DomainValidationError) as exc:
        services.problem_update(actor=None, problem=p, version=p.version, diagnosed_on=date(1900, 1, 1))
    assert list(_errors(exc)) == ["diagnosed_on"]
    with pytest.raises(DomainValidationError) as exc:
        services.problem_update(actor=None, problem=p, version=p.version, resolved_on=date(2020, 1, 1))
    assert list(_errors(exc)) == ["resolved_on"]  # not editable: resolving is problem_resolve


def test_resolving_checks_its_date_and_happens_once(district):
    r = district.resident_a
    p = services.problem_add(actor=None, resident=r, icd10="J18.9", diagnosed_on=date(2024, 3, 1))
    for bad in (date(2024, 2, 28), timezone.localdate() + timedelta(days=1)):
        with pytest.raises(DomainValidationError) as exc:
            services.problem_resolve(actor=None, problem=p, version=p.version, resolved_on=bad)
        assert list(_errors(exc)) == ["resolved_on"]
    p = services.problem_resolve(actor=None, problem=p, version=p.version, resolved_on=date(2024, 3, 20), reason="治愈")
    assert (p.resolved_on, p.resolved_reason, p.version) == (date(2024, 3, 20), "治愈", 2)
    with pytest.raises(DomainValidationError):
        services.problem_resolve(actor=None, problem=p, version=p.version)


def test_removing_needs_a_reason_keeps_the_row_and_hides_it(district):
    r = district.resident_a
    p = services.problem_add(actor=district.doctor_a.user, resident=r, icd10="C16")
    with pytest.raises(DomainValidationError) as exc:
        services.problem_remove(actor=district.doctor_a.user, problem=p, version=p.version, reason="  ")
    assert list(_errors(exc)) == ["reason"]
    services.problem_remove(actor=district.doctor_a.user, problem=p, version=p.version, reason="录入错误")
    assert not r.problems.exists() and not Problem.objects.filter(pk=p.pk).exists()
    kept = Problem.all_objects.get(pk=p.pk)
    assert (kept.removed_reason, kept.removed_by, kept.version) == ("录入错误", district.doctor_a, 2)
    assert kept.removed_at is not None
    # The same category may be recorded again once the wrong entry is gone.
    assert services.problem_add(actor=None, resident=r, icd10="C16").pk != p.pk


def test_every_change_is_audited_with_before_and_after(district):
    user = district.doctor_a.user
    r = district.resident_a
    p = services.problem_add(actor=user, resident=r, icd10="I10", diagnosed_on=date(2015, 6, 1))
    p = services.problem_update(actor=user, problem=p, version=p.version, diagnosed_on=date(2015, 7, 1))
    p = services.problem_resolve(actor=user, problem=p, version=p.version, resolved_on=date(2020, 1, 1), reason="误诊")
    services.problem_remove(actor=user, problem=p, version=p.version, reason="录入错误")
    events = list(AccessEvent.objects.filter(object_type="residents.problem", object_id=str(p.pk)).order_by("pk"))
    assert [e.action for e in events] == [
        AccessAction.CREATE, AccessAction.UPDATE, AccessAction.UPDATE, AccessAction.DELETE,
    ]
    assert all(e.resident_id == r.pk and e.username == "doctor_a" for e in events)
    created, updated, resolved, removed = (e.detail for e in events)
    assert created["after"]["icd10"] == "I10" and created["after"]["diagnosed_on"] == "2015-06-01"
    assert updated == {
        "fields": ["diagnosed_on"], "before": {"diagnosed_on": "2015-06-01"}, "after": {"diagnosed_on": "2015-07-01"},
    }
    assert resolved["before"] == {"resolved_on": None, "resolved_reason": ""}
    assert resolved["after"] == {"resolved_on": "2020-01-01", "resolved_reason": "误诊"}
    assert removed["reason"] == "录入错误" and removed["before"]["resolved_on"] == "2020-01-01"


def test_the_programme_enrolment_still_adds_its_problem_through_the_service(district):
    """The programmes call problem_add with their canonical code: it is in the list."""
    from jiayi.residents.diagnoses import CANONICAL_CODES

    r = district.resident_a1
    for group, (code, name) in CANONICAL_CODES.items():
        p = services.problem_add(actor=None, resident=r, name=name, icd10=code, diagnosed_on=date(2020, 1, 1))
        assert p.name == name, group
    assert {"hypertension", "diabetes", "tuberculosis", "severe_mental"} <= _tags(r)

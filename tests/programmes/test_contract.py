"""The programme contract: every registered programme, whatever its kind, keeps it.

Parametrised over the registry, so a programme that is installed (one line of INSTALLED_APPS) is
checked without adding a test: its declaration is valid, every outcome is labelled in Chinese and
English, its rule vectors pass, enrol -> visit -> task round-trips through the services, and the
access matrix holds (out of scope = 404).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from jiayi.core import rulesets
from jiayi.programmes import engine, selectors, services, spec
from jiayi.programmes.models import EnrolmentEndReason, Task, TaskKind, TaskStatus
from tests import factories as f

CODES = [p.code for p in engine.all_programmes()]


def _prog(code: str) -> engine.Programme:
    return engine.get(code)


def test_the_registry_has_every_kind():
    assert {p.kind for p in engine.all_programmes()} == set(spec.Kind)


@pytest.mark.parametrize("code", CODES)
def test_declaration_is_valid(code):
    prog = _prog(code)
    assert prog.problems() == []
    assert rulesets.for_programme(code), "the programme registers at least one rule set"
    for vt in prog.visit_types:
        clean, errors = vt.form.validate(vt.example)
        assert errors == {}, (vt.code, errors)
        assert clean, vt.code
        assert vt.form.validate({"no_such_field": 1})[1], "the form refuses unknown fields"
    from jiayi.contracts import catalogue as service_catalogue

    assert all(service_catalogue.is_known(i) for i in prog.service_items), "service items are in the catalogue"
    if prog.kind != spec.Kind.FOLLOW_UP:
        for rs in rulesets.for_programme(code):
            plan = rs.value(prog.schedule_param)
            items = plan.contacts if isinstance(plan, spec.EpisodePlan) else plan
            assert items and all(isinstance(i, spec.ScheduleItem) for i in items)
            assert (prog.kind == spec.Kind.EPISODE) == isinstance(plan, spec.EpisodePlan)
            codes = [v.code for v in prog.visit_types]
            assert all(not i.visit_type or i.visit_type in codes for i in items)


@pytest.mark.parametrize("code", CODES)
def test_every_label_is_translated(code):
    prog = _prog(code)
    labels = [
        prog.name,
        prog.short_name,
        *(o.label for o in prog.outcomes),
        *(o.attention for o in prog.outcomes if o.attention),
        *(v.label for v in prog.visit_types),
        *(link.label for link in prog.links),
    ]
    assert all(label.strip() for label in labels)
    with translation.override("en"):
        untranslated = [label for label in labels if gettext(label) == label]
    assert untranslated == []
    if prog.rules is not None:
        with translation.override("en"):
            assert all(gettext(lbl) != lbl for lbl in prog.rules.reason_labels().values())


@pytest.mark.parametrize("code", CODES)
def test_rule_vectors_pass(code):
    prog = _prog(code)
    assert prog.rule_vectors, "a programme brings worked examples of its rules"
    for v in prog.rule_vectors:
        if prog.kind == spec.Kind.FOLLOW_UP:
            ev = prog.rules.evaluate(
                form=prog.schema.validate(v.form)[0],
                visit_date=v.visit_date,
                previous_classification=v.previous,
                birth_date=v.birth_date,
                sex=v.sex,
                ruleset_code=v.ruleset,
            )
            if v.classification is not None:
                assert ev.classification == v.classification, v.name
            if v.next_due is not None:
                assert ev.next_due == v.next_due, v.name
            if v.referral is not None:
                assert bool(ev.referral) == v.referral, v.name
        else:
            plan = rulesets.get(code, v.ruleset).value(prog.schedule_param)
            items, end = (
                (plan.contacts, spec.episode_expected_end(plan, v.start))
                if isinstance(plan, spec.EpisodePlan)
                else (plan, None)
            )
            due = spec.windows(
                items, birth_date=v.birth_date, start=v.start, until=date(v.today.year + 1, 12, 31), end=end
            )
            nxt = spec.next_window(due, spec.fulfilled(due, v.visits), v.today)
            assert (nxt.code if nxt else "") == v.next_key, v.name


# ---------------------------------------------------------------------------------------------
# Through the services and pages
# ---------------------------------------------------------------------------------------------


def _birth_for(prog: engine.Programme, today: date) -> tuple[date, str]:
    """A birth date and sex the programme enrols today, and for which a scheduled window is open today."""
    el = prog.eligibility
    sex = sorted(el.sexes)[0] if el.sexes else "M"
    if prog.kind == spec.Kind.FOLLOW_UP or prog.kind == spec.Kind.EPISODE:
        months = el.min_age_months if el.min_age_months is not None else 40 * 12
        return spec.add_months(today, -months) - timedelta(days=10), sex
    plan = rulesets.default_for(prog.code, today).value(prog.schedule_param)
    for back in range(0, 366 * 100):
        birth = today - timedelta(days=back)
        if el.refusals(birth_date=birth, sex=sex, on=today):
            continue
        due = spec.windows(plan, birth_date=birth, start=today, until=date(today.year + 1, 12, 31))
        nxt = spec.next_window(due, {}, today)
        if nxt is not None and nxt.opens <= today:
            return birth, sex
    raise AssertionError(f"no birth date gives {prog.code} an open window today")


def _enrol(district, prog: engine.Programme, resident):
    kwargs = dict(
        actor=district.doctor_a.user,
        resident=resident,
        programme=prog.code,
        start_date=timezone.localdate(),
        doctor=district.doctor_a,
        team=district.team_a,
    )
    if prog.kind == spec.Kind.EPISODE:
        return services.episode_open(**kwargs)
    return services.enrolment_create(**kwargs)


@pytest.fixture
def resident_for(district):
    def make(prog: engine.Programme):
        birth, sex = _birth_for(prog, timezone.localdate())
        return f.resident(inst=district.centre_a, area_=district.community_a, name="赵六", sex=sex, birth=birth)

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_enrol_visit_task_round_trip(district, resident_for, code):
    prog = _prog(code)
    resident = resident_for(prog)
    enrolment = _enrol(district, prog, resident)
    first = Task.objects.filter(enrolment=enrolment, status=TaskStatus.DUE).order_by("due_date", "pk").first()
    assert first is not None, "enrolment opens the first task"
    if prog.kind != spec.Kind.FOLLOW_UP:
        assert first.kind == TaskKind.SCHEDULED
    if prog.problem is not None:
        assert resident.problems.filter(icd10=prog.problem.icd10).exists()
        if prog.key_population:
            from jiayi.residents.models import KeyPopulationTag

            assert KeyPopulationTag.objects.filter(resident=resident, code=prog.key_population).exists()
    else:
        assert not resident.problems.exists(), "no problem is added when the programme declares none"

    today = timezone.localdate()
    vt = prog.visit_types[0]
    visit = services.visit_record(
        actor=district.doctor_a.user, enrolment=enrolment, visit_date=today, form=dict(vt.example), visit_type=vt.code
    )
    assert visit.classification in {o.code for o in prog.outcomes} | ({""} if prog.rules is None else set())
    first.refresh_from_db()
    assert first.status == TaskStatus.DONE and first.done_by_visit == visit
    nxt = Task.objects.filter(enrolment=enrolment, status=TaskStatus.DUE).exclude(kind=TaskKind.ANNUAL_CHECK)
    if visit.next_due is not None:
        assert nxt.exists()
        assert all(t.due_date >= today for t in nxt)
    # The work list of the responsible doctor shows the open task under the programme's name.
    scope = selectors.resolve_scope(district.doctor_a.user)
    rows, _more = selectors.worklist(district.doctor_a.user, scope=scope, bucket="all_open", programme=code)
    assert {r.task.programme for r in rows} <= {code}
    assert any(r.resident.pk == resident.pk for r in rows) == nxt.exists()
    assert all(r.programme_name == prog.display_short_name for r in rows)
    declared = {e.task_kind: gettext(e.label) for e in prog.worklist}
    assert all(r.kind_label == declared.get(r.task.kind, r.task.get_kind_display()) for r in rows)

    if prog.kind == spec.Kind.EPISODE:
        ended = services.episode_close(
            actor=district.doctor_a.user, enrolment=enrolment, version=enrolment.version, end_date=today
        )
        assert ended.end_reason == EnrolmentEndReason.COMPLETED
        assert not Task.objects.filter(enrolment=enrolment, status=TaskStatus.DUE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_access_matrix(client, api_client, district, resident_for, code):
    prog = _prog(code)
    resident = resident_for(prog)
    enrolment = _enrol(district, prog, resident)
    vt = prog.visit_types[0]
    visit = services.visit_record(
        actor=district.doctor_a.user,
        enrolment=enrolment,
        visit_date=timezone.localdate(),
        form=dict(vt.example),
        visit_type=vt.code,
    )
    pages = [
        reverse("programmes:register", args=[code]),
        reverse("programmes:visit_new", args=[code, resident.pk]),
        reverse("programmes:visit_detail", args=[visit.pk]),
        reverse("programmes:resident", args=[resident.pk]),
        reverse("resident_detail", args=[resident.pk]),
    ]
    client.force_login(district.doctor_a.user)
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
    assert prog.display_short_name in client.get(reverse("resident_detail", args=[resident.pk])).content.decode()
    client.force_login(district.doctor_b.user)
    for url in pages[1:]:
        assert client.get(url).status_code == 404, url
    assert resident.name not in client.get(pages[0]).content.decode()
    api = f"/api/v1/programmes/{code}/visits?resident_id={resident.pk}"
    api_client.login(district.doctor_a.user)
    r = api_client.get(api)
    assert r.status_code == 200 and r.json()
    api_client.login(district.doctor_b.user)
    assert api_client.get(api).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_api_round_trip(api_client, district, resident_for, code):
    """Enrol, read the schema and record a visit through the API; bad input is a 422 with a field path."""
    prog = _prog(code)
    resident = resident_for(prog)
    api_client.login(district.doctor_a.user)
    today = timezone.localdate().isoformat()
    r = api_client.post(f"/api/v1/programmes/{code}/enrolments", {"resident_id": resident.pk, "start_date": today})
    assert r.status_code == 201, r.content
    schema = api_client.get(f"/api/v1/programmes/{code}/schema").json()
    assert schema["kind"] == prog.kind and [v["code"] for v in schema["visit_types"]] == [
        v.code for v in prog.visit_types
    ]
    assert {o["code"] for o in schema["outcomes"]} == {o.code for o in prog.outcomes}
    assert api_client.get(f"/api/v1/programmes/{code}/schema", visit_type="nonsense").status_code == 422
    vt = prog.visit_types[0]
    body = {"resident_id": resident.pk, "visit_date": today, "visit_type": vt.code, "form": dict(vt.example)}
    r = api_client.post(f"/api/v1/programmes/{code}/visits", body)
    assert r.status_code == 201, r.content
    assert r.json()["visit_type"] == vt.code
    bad = api_client.post(f"/api/v1/programmes/{code}/visits", {**body, "visit_type": "nonsense"})
    assert bad.status_code == 422 and ["body", "visit_type"] in [d["loc"] for d in bad.json()["detail"]]
    bad = api_client.post(f"/api/v1/programmes/{code}/visits", {**body, "form": {"no_such_field": 1}})
    assert bad.status_code == 422
    assert ["body", "form", "no_such_field"] in [d["loc"] for d in bad.json()["detail"]]

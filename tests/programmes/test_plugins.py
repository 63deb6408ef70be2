"""Adding a programme touches only its folder and one line of INSTALLED_APPS.

The three test-only programmes in tests/plugin_programmes/ (one per kind) are installed by
tests/settings.py and named nowhere else; they appear in the work list, on the resident page and in
the programme pages through the registry alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from jiayi.programmes import engine, services, spec
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
DEMOS = {
    "followup_demo": spec.Kind.FOLLOW_UP,
    "schedule_demo": spec.Kind.SCHEDULE,
    "episode_demo": spec.Kind.EPISODE,
}


def test_each_demo_is_one_installed_app_of_its_kind():
    for code, kind in DEMOS.items():
        assert f"tests.plugin_programmes.{code}" in settings.INSTALLED_APPS
        assert engine.get(code).kind == kind
    assert "jiayi.programmes.hypertension" in settings.INSTALLED_APPS
    assert "jiayi.programmes.diabetes" in settings.INSTALLED_APPS


def test_no_file_outside_its_folder_names_a_demo_programme():
    """The demos are named only in their own folders and in the one INSTALLED_APPS line each of the
    test settings (and by this test)."""
    allowed = {ROOT / "tests" / "settings.py", Path(__file__).resolve()}
    offenders: list[str] = []
    for base in ("src", "tests", "bench"):
        for path in (ROOT / base).rglob("*"):
            if path.suffix not in {".py", ".html", ".toml", ".js", ".po", ".cfg", ".txt"} or path in allowed:
                continue
            if "plugin_programmes" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            offenders += [f"{path.relative_to(ROOT)}: {code}" for code in DEMOS if code in text]
    settings_text = (ROOT / "tests" / "settings.py").read_text(encoding="utf-8")
    assert offenders == []
    assert all(settings_text.count(f'"tests.plugin_programmes.{code}"') == 1 for code in DEMOS)


def _resident(district, code: str):
    today = timezone.localdate()
    if code == "schedule_demo":  # a newborn: the one-month check is ahead
        return f.resident(inst=district.centre_a, area_=district.community_a, name="小明", sex="M", birth=today)
    return f.resident(
        inst=district.centre_a,
        area_=district.community_a,
        name="钱七",
        sex="F",
        birth=today.replace(year=today.year - 40),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(DEMOS))
def test_demo_appears_in_the_work_list_and_on_the_resident_page(client, district, code):
    prog = engine.get(code)
    resident = _resident(district, code)
    client.force_login(district.doctor_a.user)
    page = client.get(reverse("resident_detail", args=[resident.pk])).content.decode()
    enrol_url = reverse("programmes:enrol", args=[code, resident.pk])
    assert enrol_url in page, "offered on the resident page before enrolment"

    open_ = services.episode_open if prog.kind == spec.Kind.EPISODE else services.enrolment_create
    open_(
        actor=district.doctor_a.user,
        resident=resident,
        programme=code,
        start_date=timezone.localdate(),
        doctor=district.doctor_a,
        team=district.team_a,
    )
    page = client.get(reverse("resident_detail", args=[resident.pk])).content.decode()
    assert prog.display_short_name in page
    assert reverse("programmes:visit_new", args=[code, resident.pk]) in page
    assert enrol_url not in page
    if prog.panels:  # the programme's own panel is shown under its row
        assert 'data-testid="schedule-demo-panel"' in page

    worklist = client.get(reverse("programmes:worklist"), {"bucket": "all_open", "programme": code}).content.decode()
    assert resident.name in worklist
    assert prog.display_short_name in worklist
    register = client.get(reverse("programmes:register", args=[code])).content.decode()
    assert resident.name in register
    form = client.get(reverse("programmes:visit_new", args=[code, resident.pk])).content.decode()
    assert prog.schema.fields[0].label in form


@pytest.mark.django_db
def test_demo_visit_from_the_page(client, district):
    """A visit of the schedule demo recorded through the page closes its task and schedules the next."""
    from jiayi.programmes.models import Task, TaskStatus

    resident = _resident(district, "schedule_demo")
    enrolment = services.enrolment_create(
        actor=district.doctor_a.user,
        resident=resident,
        programme="schedule_demo",
        start_date=timezone.localdate(),
        doctor=district.doctor_a,
    )
    task = Task.objects.get(enrolment=enrolment, status=TaskStatus.DUE)
    client.force_login(district.doctor_a.user)
    r = client.post(
        reverse("programmes:visit_new", args=["schedule_demo", resident.pk]),
        {"visit_date": timezone.localdate().isoformat(), "mode": "clinic", "visit_type": "check", "weight": "3.4"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    task.refresh_from_db()
    # Today is before the one-month window: the visit fulfils nothing and the task stays due.
    assert task.status == TaskStatus.DUE
    r = client.post(
        reverse("programmes:visit_new", args=["schedule_demo", resident.pk]),
        {"visit_date": timezone.localdate().isoformat(), "mode": "clinic", "visit_type": "nonsense", "weight": "3.4"},
    )
    assert r.status_code == 200 and "随访类型无效" in r.content.decode()


@pytest.mark.django_db
def test_a_follow_up_outcome_declares_its_short_interval(district):
    """The demo's "unwell" outcome is followed up in two weeks with the reason the programme declares."""
    from jiayi.programmes.models import Task, TaskPriority, TaskStatus

    resident = _resident(district, "followup_demo")
    enrolment = services.enrolment_create(
        actor=district.doctor_a.user,
        resident=resident,
        programme="followup_demo",
        start_date=timezone.localdate(),
        doctor=district.doctor_a,
    )
    visit = services.visit_record(
        actor=district.doctor_a.user, enrolment=enrolment, visit_date=timezone.localdate(), form={"score": 6}
    )
    assert visit.classification == "unwell" and not visit.referred
    task = Task.objects.get(enrolment=enrolment, status=TaskStatus.DUE)
    assert (task.priority, task.reason, task.due_date) == (
        TaskPriority.SHORT_INTERVAL,
        "状况欠佳，2周内随访",
        visit.next_due,
    )
    assert not resident.problems.exists()


@pytest.mark.django_db
def test_each_visit_type_has_its_own_form(client, district):
    """The episode demo's closing assessment has its own form: the page shows it and records with it."""
    resident = _resident(district, "episode_demo")
    services.episode_open(
        actor=district.doctor_a.user,
        resident=resident,
        programme="episode_demo",
        start_date=timezone.localdate(),
        doctor=district.doctor_a,
    )
    client.force_login(district.doctor_a.user)
    url = reverse("programmes:visit_new", args=["episode_demo", resident.pk])
    assert 'name="summary"' not in client.get(url).content.decode()
    assert 'name="summary"' in client.get(url, {"visit_type": "closing"}).content.decode()
    r = client.post(
        url,
        {"visit_date": timezone.localdate().isoformat(), "mode": "clinic", "visit_type": "closing", "status": "ok"},
    )
    assert r.status_code == 200 and "请填写" in r.content.decode(), "the closing form requires its summary"
    r = client.post(
        url,
        {
            "visit_date": timezone.localdate().isoformat(),
            "mode": "clinic",
            "visit_type": "closing",
            "status": "concern",
            "summary": "需转介",
        },
    )
    assert r.status_code == 302
    from jiayi.programmes.models import Visit

    visit = Visit.objects.get(resident=resident)
    assert (visit.visit_type, visit.form, visit.classification) == (
        "closing",
        {"status": "concern", "summary": "需转介"},
        "concern",
    )


@pytest.mark.django_db
def test_a_back_dated_visit_in_a_missed_window_leaves_the_open_contact(district):
    """Enrolled at 40 days old: the one-month check is in catch-up. A visit today fulfils it and the
    six-month check is next; a back-dated visit (before that window) fulfils nothing new."""
    from jiayi.programmes.models import Task, TaskStatus
    from tests.programmes.conftest import days_ago

    today = timezone.localdate()
    resident = f.resident(inst=district.centre_a, area_=district.community_a, name="小红", sex="F", birth=days_ago(40))
    enrolment = services.enrolment_create(
        actor=district.doctor_a.user, resident=resident, programme="schedule_demo", start_date=days_ago(5)
    )
    first = Task.objects.get(enrolment=enrolment, status=TaskStatus.DUE)
    assert first.due_date < today, "the one-month window has closed: the check is in catch-up (overdue)"
    services.visit_record(actor=district.doctor_a.user, enrolment=enrolment, visit_date=today, form={"weight": 4.2})
    first.refresh_from_db()
    assert first.status == TaskStatus.DONE
    six = Task.objects.get(enrolment=enrolment, status=TaskStatus.DUE)
    assert "6月龄检查" in six.reason
    services.visit_record(
        actor=district.doctor_a.user, enrolment=enrolment, visit_date=days_ago(3), form={"weight": 4.1}
    )
    six.refresh_from_db()
    assert six.status == TaskStatus.DUE


# -- the indicator catalogue and synth ---------------------------------------------------------

SYNTH_AS_OF = date(2025, 6, 30)


def test_each_demo_registers_a_dashboard_group_an_indicator_and_a_synth_stage():
    from jiayi.indicators import catalogue
    from jiayi.synth import pipeline

    by_group: dict[str, list[str]] = {}
    for ind in catalogue.indicators():
        by_group.setdefault(ind.group, []).append(ind.code)
    stage_names = [s.name for s in pipeline.stages()]
    for code in DEMOS:
        assert code in catalogue.GROUPS
        assert by_group.get(code) and all(c.startswith(f"{code}.") for c in by_group[code])
        assert any(name == code or name.startswith(f"{code}-") for name in stage_names)
    # After every real stage (their random draws and ids are untouched), before the finalising one.
    real = [s for s in pipeline.stages() if not any(s.name.startswith(c) for c in DEMOS)]
    demo = [s for s in pipeline.stages() if any(s.name.startswith(c) for c in DEMOS)]
    finalise = max(s.order for s in real)
    assert all(max(s.order for s in real if s.order < finalise) < d.order < finalise for d in demo)


def test_the_golden_regression_leaves_out_exactly_the_demo_indicators():
    from jiayi.indicators import catalogue
    from tests.indicators.test_golden import ignored_indicators

    demo_codes = {i.code for i in catalogue.indicators() if i.group in DEMOS}
    assert demo_codes and ignored_indicators() == demo_codes


@pytest.fixture(scope="module")
def synth_district(django_db_setup, django_db_blocker):
    from django.db import transaction

    from jiayi.synth import reference
    from jiayi.synth.pipeline import generate
    from jiayi.synth.purge import purge_district

    with django_db_blocker.unblock():
        result = generate(district="gusu", residents=600, seed=11, as_of=SYNTH_AS_OF, progress=False)
        try:
            yield result
        finally:
            with transaction.atomic():
                purge_district(reference.get_district("gusu").county_code, "gusu")


@pytest.mark.django_db
def test_synth_enrols_residents_in_each_demo_and_its_indicator_computes(synth_district):
    from jiayi.indicators import catalogue
    from jiayi.indicators import engine as ind_engine
    from jiayi.indicators import periods as P
    from jiayi.indicators.facts import load_org, rule_context
    from jiayi.programmes.models import Enrolment, Visit

    for code in DEMOS:
        enrolments = Enrolment.objects.filter(programme=code)
        assert synth_district.counts[f"{code}_enrolments"] == enrolments.count() > 0
        assert Visit.objects.filter(programme=code).count() == enrolments.count()
        assert not Visit.objects.filter(programme=code).exclude(enrolment__programme=code).exists()
        for obj in [*enrolments[:20], *Visit.objects.filter(programme=code)[:20]]:
            obj.full_clean()  # like every generated row (tests/synth/test_model_validation.py)
    assert Enrolment.objects.filter(programme="episode_demo", end_date__isnull=False).exists()
    assert Enrolment.objects.filter(programme="episode_demo", end_date__isnull=True).exists()

    demo = [i for i in catalogue.indicators() if i.group in DEMOS]
    backend, raw = ind_engine.open_source("duckdb")
    try:
        evaluation = ind_engine.evaluate(
            backend, raw, load_org(), P.recent_periods(SYNTH_AS_OF, 1), today=SYNTH_AS_OF,
            ctx=rule_context(SYNTH_AS_OF), indicators=demo,
        )
    finally:
        backend.close()
    assert evaluation.blocked == {}
    year = SYNTH_AS_OF.replace(month=1, day=1)
    for ind in demo:
        code = ind.group
        rows = [r for r in evaluation.rows if r.indicator == ind.code and r.level == "district"]
        assert rows, ind.code
        # The district's denominator is counted by hand from the database for the year to date.
        enrolments = Enrolment.objects.filter(programme=code)
        if code == "episode_demo":
            opened = enrolments.filter(start_date__gte=year, start_date__lte=SYNTH_AS_OF)
            expected = (opened.filter(end_date__lte=SYNTH_AS_OF).count(), opened.count())
        else:
            current = enrolments.filter(start_date__lte=SYNTH_AS_OF).exclude(end_date__lt=year)
            visited = current.filter(visits__visit_date__gte=year, visits__visit_date__lte=SYNTH_AS_OF).distinct()
            expected = (visited.count(), current.count())
        ytd = [r for r in rows if (r.numerator, r.denominator) == expected]
        assert ytd, f"{ind.code}: expected {expected} among {[(r.period, r.numerator, r.denominator) for r in rows]}"
        assert expected[1] > 0

"""The pure programme declaration: eligibility, schedule windows and catch-up, episode plans."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayi.programmes import spec
from jiayi.programmes.spec import Anchor, DueWindow, Eligibility, EpisodePlan, Kind, ScheduleItem

BIRTH = date(2024, 1, 31)

CHILD = (
    ScheduleItem("m1", "满月", Anchor.BIRTH, months=1, window_before=3, window_after=7, catch_up=14),
    ScheduleItem("m3", "3月龄", Anchor.BIRTH, months=3, window_before=7, window_after=14, catch_up=30),
    ScheduleItem("m6", "6月龄", Anchor.BIRTH, months=6, window_before=7, window_after=14, catch_up=30),
)
ANNUAL = (ScheduleItem("annual", "年度体检", Anchor.CALENDAR, month=6, day=30, window_before=150, window_after=180),)


def test_add_months_clamps_to_month_end() -> None:
    assert spec.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert spec.add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert spec.add_months(date(2024, 11, 15), 3) == date(2025, 2, 15)
    assert spec.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


def test_age_in_months() -> None:
    assert spec.age_in_months(BIRTH, date(2024, 2, 28)) == 0
    assert spec.age_in_months(BIRTH, date(2024, 2, 29)) == 1
    assert spec.age_in_months(date(1960, 5, 10), date(2025, 5, 9)) == 64 * 12 + 11
    assert spec.age_in_months(date(1960, 5, 10), date(2025, 5, 10)) == 65 * 12


def test_eligibility_age_sex_diagnosis_episode() -> None:
    elderly = Eligibility(min_age_months=65 * 12)
    assert elderly.refusals(birth_date=date(1960, 5, 10), sex="F", on=date(2025, 5, 10)) == ()
    assert len(elderly.refusals(birth_date=date(1960, 5, 10), sex="F", on=date(2025, 5, 9))) == 1
    child = Eligibility(max_age_months=6 * 12 + 11)
    assert child.refusals(birth_date=date(2019, 1, 1), sex="M", on=date(2025, 12, 31)) == ()
    assert child.refusals(birth_date=date(2019, 1, 1), sex="M", on=date(2026, 1, 1)) != ()
    women = Eligibility(sexes=frozenset({"F"}))
    assert women.refusals(birth_date=BIRTH, sex="F", on=BIRTH) == ()
    assert women.refusals(birth_date=BIRTH, sex="M", on=BIRTH) != ()
    tb = Eligibility(diagnosis_groups=("tuberculosis",))
    assert tb.refusals(birth_date=BIRTH, sex="M", on=BIRTH, diagnosis_groups={"tuberculosis"}) == ()
    assert tb.refusals(birth_date=BIRTH, sex="M", on=BIRTH, diagnosis_groups={"diabetes"}) != ()
    postpartum = Eligibility(episode="maternal")
    assert postpartum.refusals(birth_date=BIRTH, sex="F", on=BIRTH, open_episodes={"maternal"}) == ()
    assert postpartum.refusals(birth_date=BIRTH, sex="F", on=BIRTH) != ()


def test_child_windows_from_birth() -> None:
    ws = spec.windows(CHILD, birth_date=BIRTH, start=BIRTH, until=date(2025, 1, 1))
    m1 = ws[0]
    assert (m1.key, m1.target, m1.opens, m1.closes, m1.catch_up_until) == (
        "m1",
        date(2024, 2, 29),
        date(2024, 2, 26),
        date(2024, 3, 7),
        date(2024, 3, 21),
    )
    assert [w.key for w in ws] == ["m1", "m3", "m6"]


def test_items_past_catch_up_at_enrolment_do_not_apply() -> None:
    # Enrolled at 4 months: the 3-month check is still in catch-up (to 13 June), the 1-month one is not.
    ws = spec.windows(CHILD, birth_date=BIRTH, start=date(2024, 5, 31), until=date(2024, 5, 31))
    assert [w.key for w in ws] == ["m3", "m6"]
    # Enrolled at 5 months: only the 6-month check applies.
    ws = spec.windows(CHILD, birth_date=BIRTH, start=date(2024, 7, 1), until=date(2024, 7, 1))
    assert [w.key for w in ws] == ["m6"]


def test_fulfilled_and_catch_up() -> None:
    ws = spec.windows(CHILD, birth_date=BIRTH, start=BIRTH, until=date(2025, 1, 1))
    # A visit 10 days after the 1-month window closed is a catch-up (补做) of it.
    done = spec.fulfilled(ws, [date(2024, 3, 17)])
    assert done == {"m1": date(2024, 3, 17)}
    nxt = spec.next_window(ws, done, date(2024, 3, 18))
    assert nxt is not None and nxt.key == "m3"
    assert spec.window_status(nxt, date(2024, 3, 18)) == "upcoming"
    assert spec.window_status(nxt, date(2024, 4, 30)) == "open"
    assert spec.window_status(nxt, nxt.closes + timedelta(days=1)) == "catch_up"
    assert spec.window_status(nxt, nxt.catch_up_until + timedelta(days=1)) == "missed"
    # No visit at all: on 1 April the 1-month check is missed, the 3-month check is next.
    assert spec.next_window(ws, {}, date(2024, 4, 1)).key == "m3"
    # A visit outside every window fulfils nothing.
    assert spec.fulfilled(ws, [date(2024, 2, 1)]) == {}


def test_calendar_items_repeat_yearly() -> None:
    ws = spec.windows(ANNUAL, birth_date=date(1950, 1, 1), start=date(2024, 3, 1), until=date(2025, 12, 31))
    assert [w.key for w in ws] == ["annual@2024", "annual@2025"]
    done = spec.fulfilled(ws, [date(2024, 3, 5), date(2024, 11, 1)])
    # One visit fulfils one window: the second 2024 visit is before the 2025 window opens.
    assert done == {"annual@2024": date(2024, 3, 5)}
    assert spec.next_window(ws, done, date(2024, 11, 2)).key == "annual@2025"


def test_calendar_item_on_29_february_in_a_common_year() -> None:
    leap = (ScheduleItem("leap", "闰日", Anchor.CALENDAR, month=2, day=29),)
    ws = spec.windows(leap, birth_date=BIRTH, start=date(2025, 1, 1), until=date(2025, 12, 31))
    assert [w.target for w in ws] == [date(2025, 2, 28)]


def test_episode_plan() -> None:
    plan = EpisodePlan(
        contacts=(
            ScheduleItem("c1", "第一次", Anchor.START, days=0, window_after=3),
            ScheduleItem("c2", "第二次", Anchor.START, days=14, window_before=2, window_after=2),
        ),
        expected_days=28,
    )
    start = date(2025, 3, 1)
    assert spec.episode_expected_end(plan, start) == date(2025, 3, 29)
    ws = spec.windows(
        plan.contacts, birth_date=BIRTH, start=start, until=start, end=spec.episode_expected_end(plan, start)
    )
    assert [(w.key, w.target) for w in ws] == [("c1", start), ("c2", date(2025, 3, 15))]
    # An episode closed early drops the contacts whose window had not opened.
    assert [
        w.key for w in spec.windows(plan.contacts, birth_date=BIRTH, start=start, until=start, end=date(2025, 3, 5))
    ] == ["c1"]
    with pytest.raises(ValueError):
        EpisodePlan(contacts=(ScheduleItem("x", "x", Anchor.BIRTH),), expected_days=10)
    with pytest.raises(ValueError):
        EpisodePlan(contacts=(), expected_days=0)


def test_schedule_item_refuses_negative_offsets_and_impossible_days() -> None:
    with pytest.raises(ValueError):
        ScheduleItem("x", "x", Anchor.START, window_before=-1)
    with pytest.raises(ValueError):
        ScheduleItem("x", "x", Anchor.CALENDAR, month=2, day=30)


class _Form:
    def validate(self, form, translate=None):
        return dict(form), {}


def test_spec_problems() -> None:
    vt = (spec.VisitTypeSpec("v", "访视", _Form()),)
    ok = spec.ProgrammeSpec(
        code="demo_x", name="演示", short_name="演示", kind=Kind.SCHEDULE, visit_types=vt, schedule_param="schedule"
    )
    assert ok.problems() == []
    bad = spec.ProgrammeSpec(
        code="Bad Code",
        name="",
        short_name="x",
        kind=Kind.FOLLOW_UP,
        visit_types=(spec.VisitTypeSpec("v", "v", object()), spec.VisitTypeSpec("v", "v", _Form())),
        outcomes=(spec.Outcome("a", ""), spec.Outcome("a", "甲")),
    )
    problems = " | ".join(bad.problems())
    for fragment in ("code", "name", "unique", "form schema", "label", "rules adapter"):
        assert fragment in problems
    no_schedule = spec.ProgrammeSpec(code="e", name="e", short_name="e", kind=Kind.EPISODE, visit_types=vt)
    assert any("schedule_param" in p for p in no_schedule.problems())


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

days = st.dates(min_value=date(1930, 1, 1), max_value=date(2030, 12, 31))
items = st.lists(
    st.builds(
        ScheduleItem,
        code=st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        label=st.just("项"),
        anchor=st.sampled_from(list(Anchor)),
        months=st.integers(0, 120),
        days=st.integers(0, 60),
        month=st.integers(1, 12),
        day=st.integers(1, 28),
        window_before=st.integers(0, 60),
        window_after=st.integers(0, 90),
        catch_up=st.integers(0, 180),
    ),
    max_size=6,
    unique_by=lambda i: i.code,
)


@given(items, days, st.integers(0, 3650), st.integers(0, 3650))
def test_windows_are_ordered_and_apply_to_the_enrolment(schedule, birth, to_start, to_until) -> None:
    start = birth + timedelta(days=to_start)
    until = start + timedelta(days=to_until)
    ws = spec.windows(schedule, birth_date=birth, start=start, until=until)
    assert ws == sorted(ws)
    assert len({w.key for w in ws}) == len(ws)
    for w in ws:
        assert w.opens <= w.target <= w.closes <= w.catch_up_until
        assert w.catch_up_until >= start


@given(items, days, st.lists(st.integers(0, 4000), max_size=12), st.integers(0, 4000))
def test_fulfilled_assigns_each_visit_at_most_once_within_its_window(schedule, birth, offsets, today_offset) -> None:
    ws = spec.windows(schedule, birth_date=birth, start=birth, until=birth + timedelta(days=4000))
    visits = [birth + timedelta(days=o) for o in offsets]
    done = spec.fulfilled(ws, visits)
    by_key: dict[str, DueWindow] = {w.key: w for w in ws}
    assert len(done) <= len(visits)
    for key, visited in done.items():
        w = by_key[key]
        assert w.opens <= visited <= w.catch_up_until
    # No visit is used twice more often than it was recorded.
    for d in set(done.values()):
        assert list(done.values()).count(d) <= visits.count(d)
    today = birth + timedelta(days=today_offset)
    nxt = spec.next_window(ws, done, today)
    if nxt is not None:
        assert nxt.key not in done and nxt.catch_up_until >= today
        assert spec.window_status(nxt, today) != "missed"
    else:
        assert all(w.key in done or w.catch_up_until < today for w in ws)


@given(items, days, st.integers(0, 3650))
def test_a_visit_in_the_next_open_window_fulfils_it(schedule, birth, today_offset) -> None:
    ws = spec.windows(schedule, birth_date=birth, start=birth, until=birth + timedelta(days=4000))
    today = birth + timedelta(days=today_offset)
    nxt = spec.next_window(ws, {}, today)
    if nxt is not None and nxt.opens <= today:
        done = spec.fulfilled(ws, [today])
        # The visit fulfils the earliest window it falls in: the next one.
        assert list(done) == [nxt.key]


@given(days, st.integers(-240, 240))
def test_age_in_months_of_add_months(d, n) -> None:
    later = spec.add_months(d, abs(n))
    assert later >= d
    assert spec.age_in_months(d, later) == abs(n)
    assert spec.age_in_months(d, d) == 0


def test_the_declaration_module_is_pure():
    """spec.py (and the rule modules it is used with) import no Django."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(spec.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not any(m and m.split(".")[0] == "django" for m in imported)

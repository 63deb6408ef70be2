"""Factories for tests: a small but coherent district (commission → centres → stations)."""

from __future__ import annotations

import itertools
from datetime import date

from django.contrib.auth import get_user_model

from jiayi.core.ids import resident_id_check_char
from jiayi.org.models import Area, AreaLevel, Institution, InstitutionType, Role, Staff, StaffCategory, Team, TeamMember

_seq = itertools.count(1)


def make_id_number(area6: str, birth: date, sex: str) -> str:
    """A valid 18-digit number; the sequence is unique per call and its parity follows `sex`."""
    n = next(_seq) % 499
    seq = 2 * n + (1 if sex == "M" else 2)
    first17 = f"{area6}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def area(code: str, name: str, level: int, parent: Area | None = None) -> Area:
    return Area.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent": parent})[0]


def institution(code: str, name: str, type_: str, area_: Area, parent: Institution | None = None) -> Institution:
    from jiayi.org.selectors import clear_org_cache

    inst = Institution.objects.create(code=code, name=name, type=type_, area=area_, parent=parent)
    clear_org_cache()
    return inst


def user_for(username: str, *, password: str = "pass-12345678"):
    User = get_user_model()
    return User.objects.create_user(username=username, password=password)


def staff(username: str, name: str, role: str, inst: Institution, category: str = StaffCategory.GP) -> Staff:
    return Staff.objects.create(
        user=user_for(username), name=name, sex="F", category=category, role=role, institution=inst
    )


def team(name: str, inst: Institution, members: list[tuple[Staff, str]]) -> Team:
    t = Team.objects.create(name=name, institution=inst)
    for s, role in members:
        TeamMember.objects.create(team=t, staff=s, role=role)
    return t


def resident(
    *, inst: Institution, area_: Area, name: str = "张三", sex: str = "M", birth: date = date(1960, 5, 1), actor=None,
    **kw,
):
    from jiayi.residents.services import resident_create

    return resident_create(
        actor=actor, name=name, sex=sex, birth_date=birth, id_number=make_id_number(area_.code[:6], birth, sex),
        area=area_, institution=inst, **kw,
    )


__all__ = ["AreaLevel", "InstitutionType", "Role"]

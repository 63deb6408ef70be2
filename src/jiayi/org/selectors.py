"""Reads of the org tree. The tree is small (hundreds of rows), so subtrees are computed in Python
and cached per process; writes through `org.services` clear the cache."""

from __future__ import annotations

from functools import lru_cache

from jiayi.org.models import Area, Institution, Staff, Team


@lru_cache(maxsize=1)
def _institution_children() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Institution.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def clear_org_cache() -> None:
    _institution_children.cache_clear()


def institution_subtree_ids(root_id: int) -> list[int]:
    children = _institution_children()
    out, stack = [], [root_id]
    while stack:
        pk = stack.pop()
        out.append(pk)
        stack.extend(children.get(pk, ()))
    return out


def area_subtree_codes_prefix(area: Area) -> str:
    """Area codes nest by prefix, so a subtree is `code__startswith` the trimmed code."""
    if area.level <= 2:
        return area.code[: 2 * area.level]
    return area.code


def staff_for_user(user) -> Staff | None:
    if not user or not user.is_authenticated:
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def teams_visible_to(user):
    from jiayi.core.scoping import institution_ids_visible_to

    ids = institution_ids_visible_to(user)
    if ids is None:
        return Team.objects.none()
    return Team.objects.filter(institution_id__in=ids)


def institutions_visible_to(user):
    from jiayi.core.scoping import institution_ids_visible_to

    ids = institution_ids_visible_to(user)
    if ids is None:
        return Institution.objects.none()
    return Institution.objects.filter(pk__in=ids)

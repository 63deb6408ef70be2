"""Reads of the org tree. The tree is small (hundreds of rows), so subtrees are computed in Python
from a per-process cache (``org.models.institution_children``); org writes clear it."""

from __future__ import annotations

from jiayi.org.models import Area, Institution, Staff, Team, institution_children, institution_subtree_ids

__all__ = [
    "area_subtree_codes_prefix", "clear_org_cache", "institution_all_ids", "institution_ancestor_ids",
    "institution_subtree_ids", "institutions_visible_to", "staff_for_user", "teams_visible_to",
]


def clear_org_cache() -> None:
    institution_children.cache_clear()


def institution_all_ids() -> list[int]:
    return [pk for kids in institution_children().values() for pk in kids]


def institution_ancestor_ids(institution_id: int | None) -> list[int]:
    """The institution and its ancestors (the tree is shallow: commission → centre → station)."""
    parent_of = {child: parent for parent, kids in institution_children().items() for child in kids}
    out: list[int] = []
    current = institution_id
    while current is not None and current not in out:
        out.append(current)
        current = parent_of.get(current)
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
    except (Staff.DoesNotExist, AttributeError):
        return None


def teams_visible_to(user):
    return Team.objects.visible_to(user)


def institutions_visible_to(user):
    return Institution.objects.visible_to(user)

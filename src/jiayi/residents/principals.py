"""A resident's own account for the scoping mechanism: they see rows about themself only."""

from __future__ import annotations

from jiayi.core.scoping import RESIDENT_ROLE, VIEW, Principal
from jiayi.residents.models import Resident

RESIDENT_PRINCIPAL = Principal(role=RESIDENT_ROLE, actions=frozenset({VIEW}), resident_self=True)


def resident_principal(user) -> Principal | None:
    try:
        user.resident  # noqa: B018  (the reverse one-to-one; Django caches the answer on the user)
    except (Resident.DoesNotExist, AttributeError):
        return None
    return RESIDENT_PRINCIPAL

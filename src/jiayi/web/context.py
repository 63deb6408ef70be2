"""Template context shared by every page: who the user is and what the navigation may offer."""

from __future__ import annotations

from jiayi.core.access import is_staff_user
from jiayi.core.scoping import can_audit, can_write_clinical, user_role


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    staff = getattr(user, "staff", None) if authenticated else None
    return {
        "jiayi_role": user_role(user) if user is not None else None,
        "jiayi_staff": staff,
        "jiayi_is_staff": authenticated and is_staff_user(user),
        "jiayi_can_write": authenticated and can_write_clinical(user),
        "jiayi_can_audit": authenticated and can_audit(user),
    }

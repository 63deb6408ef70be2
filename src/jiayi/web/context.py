"""Template context shared by every page: the user's role and home-page counts are computed lazily."""

from __future__ import annotations

from jiayi.core.scoping import user_role


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    staff = getattr(user, "staff", None) if user is not None and user.is_authenticated else None
    return {"jiayi_role": user_role(user) if user is not None else None, "jiayi_staff": staff}

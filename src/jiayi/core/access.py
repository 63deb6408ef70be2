"""The one staff check and writer check of pages and API routers (over ``core.scoping``).

- ``@staff_required`` (pages): anonymous users are sent to the login page; anyone who is not active
  staff (or a superuser) gets 404, with no hint that the page exists (residents use the portal).
- ``@scope_required`` (pages of numbers): the same, and only staff with an institution scope.
- ``require_writer(request)`` (pages and API): a visible object the user may not change is 403
  (``PermissionDenied``; the API answers it as 403 with the message).
- ``require_staff_scope(request)`` (API routers of work lists, registers, numbers): staff with an
  institution scope only (not a resident's account, not a hospital referral desk), else 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jiayi.core.scoping import CHANGE, can, principal

View = Callable[..., HttpResponse]


def is_staff_user(user) -> bool:
    return principal(user).staff


def has_institution_scope(user) -> bool:
    return bool(principal(user).institution_ids)


def staff_required(view: View) -> View:
    """Login first (redirect); then only active staff (others: 404, no hint that the page exists)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def scope_required(view: View) -> View:
    """Like ``staff_required``, for pages of an institution scope's numbers (indicators): staff with an
    institution scope only (a referral desk or a resident's account: 404)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_institution_scope(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def require_writer(request: HttpRequest) -> None:
    """Only the clinical roles (and superusers) change records: 403 for anyone else."""
    if not can(request.user, CHANGE):
        raise PermissionDenied(_("无权进行此操作"))


def require_staff_scope(request: HttpRequest) -> None:
    """Staff with an institution scope only: 403 for residents, referral desks and anyone else."""
    if principal(request.user).institution_ids is None:
        raise PermissionDenied(_("无权进行此操作"))

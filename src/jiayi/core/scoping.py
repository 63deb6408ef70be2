"""Who may see what (ARCHITECTURE.md principle 2: deny by default, scope every read).

Staff see the subtree of their institution (a centre sees its stations; the health commission sees
the district). Out-of-scope objects are simply absent from querysets, so views answer 404.
A resident user sees only themself. Everything else sees nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404

from jiayi.org.models import Role


def user_role(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    staff = getattr(user, "staff", None)
    if staff is not None and staff.active:
        return staff.role
    if _resident_of(user) is not None:
        return "resident"
    return None


def _resident_of(user):
    from jiayi.residents.models import Resident

    try:
        return user.resident
    except (Resident.DoesNotExist, AttributeError):
        return None


def institution_ids_visible_to(user) -> list[int] | None:
    """Institution ids whose data the user may read, or None for none at all."""
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        from jiayi.org.models import Institution

        return list(Institution.objects.values_list("pk", flat=True))
    staff = getattr(user, "staff", None)
    if staff is None or not staff.active:
        return None
    if staff.role == Role.REFERRAL_DESK:
        return None  # a hospital desk sees residents only through referrals
    return staff.institution.subtree_ids()


def team_ids_of(user) -> list[int]:
    staff = getattr(user, "staff", None)
    if staff is None:
        return []
    return list(staff.team_memberships.values_list("team_id", flat=True))


def team_scope_applies(user) -> bool:
    staff = getattr(user, "staff", None)
    return (
        settings.JIAYI["STAFF_SCOPE"] == "team"
        and staff is not None
        and staff.role in (Role.FAMILY_DOCTOR, Role.NURSE)
    )


def can_write_clinical(user) -> bool:
    return user_role(user) in (Role.FAMILY_DOCTOR, Role.NURSE, Role.PUBLIC_HEALTH, Role.CENTRE_MANAGER) or bool(
        user and user.is_authenticated and user.is_superuser
    )


def can_audit(user) -> bool:
    return user_role(user) == Role.AUDITOR or bool(user and user.is_authenticated and user.is_superuser)


def get_visible_or_404(queryset, **lookup):
    """Fetch one object from an already-scoped queryset; anything else is 404 (no existence leak)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc

"""Who a staff user is for the scoping mechanism (``core.scoping.Principal``): role, institution
subtree, teams, and what the role may do. Registered in ``OrgConfig.ready()``."""

from __future__ import annotations

from django.conf import settings

from jiayi.core.scoping import AUDIT, CHANGE, VIEW, Principal
from jiayi.org.models import CLINICAL_ROLES, Role
from jiayi.org.selectors import institution_all_ids, institution_ancestor_ids, institution_subtree_ids, staff_for_user

#: Roles narrowed to their teams' residents when ``JIAYI_STAFF_SCOPE=team``.
TEAM_SCOPED_ROLES = (Role.FAMILY_DOCTOR, Role.NURSE)


def actions_of(role: str | None) -> frozenset[str]:
    actions = {VIEW}
    if role in CLINICAL_ROLES:
        actions.add(CHANGE)
    if role == Role.AUDITOR:
        actions.add(AUDIT)
    return frozenset(actions)


def staff_principal(user) -> Principal | None:
    """Superusers (everything) and active staff; None for anyone else (e.g. a resident's account)."""
    staff = staff_for_user(user)
    active = staff if staff is not None and staff.active else None
    if user.is_superuser:
        return Principal(
            role=active.role if active else None,
            actions=frozenset({VIEW, CHANGE, AUDIT}),
            staff=True,
            superuser=True,
            institution_ids=tuple(institution_all_ids()),
            ancestor_ids=tuple(institution_ancestor_ids(active.institution_id)) if active else (),
        )
    if active is None:
        return None
    role = active.role
    if role == Role.REFERRAL_DESK:  # a hospital desk sees residents only through referrals
        return Principal(role=role, actions=actions_of(role), staff=True,
                         referral_institution_id=active.institution_id)
    team_ids = None
    if settings.JIAYI["STAFF_SCOPE"] == "team" and role in TEAM_SCOPED_ROLES:
        team_ids = tuple(active.team_memberships.values_list("team_id", flat=True))
    return Principal(
        role=role,
        actions=actions_of(role),
        staff=True,
        institution_ids=tuple(institution_subtree_ids(active.institution_id)),
        ancestor_ids=tuple(institution_ancestor_ids(active.institution_id)),
        team_ids=team_ids,
    )

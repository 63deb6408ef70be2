"""Who may see and change what (ARCHITECTURE.md principle 2: deny by default, scope every read).

One mechanism, in the spirit of NetBox's ``RestrictedQuerySet.restrict(user, action)``: a protected
model uses :class:`ScopedQuerySet` and declares, once, where its rows hang in the scope::

    class Visit(models.Model):
        scope_paths = {"institution": "resident__institution", "resident": "resident",
                       "deleted": "resident__is_deleted"}
        objects = VisitQuerySet.as_manager()   # a ScopedQuerySet

and ``Visit.objects.visible_to(user, action="view")`` computes the filter from the user's
:class:`Principal`. The paths are strings, so no app imports another's models to be scoped.

Scope paths (all optional; a model without a path a user's rule needs shows that user nothing):

``institution``
    the institution the row belongs to: staff see their institution subtree (one indexed
    ``institution_id IN (...)`` predicate, or ``resident.institution_id IN (...)`` through a join
    that keeps the driving index on the model's own table: the work-list shape).
``resident``
    the resident the row is about (``""`` on the resident model itself). A resident's own account
    sees only rows about themself (through the resident model's ``user`` path); under team scope
    (``JIAYI_STAFF_SCOPE=team``, family doctors and nurses) rows about residents are narrowed to the
    residents the user's teams care for. Who those are is registered by the app that owns the
    relation (contracts: a contract in force today by its dates), see :func:`register_team_residents`.
``user``
    on the resident model: its user account (a resident user sees the row whose ``user`` is them).
``deleted``
    a soft-delete flag; rows with it set are hidden from staff.
``offered_by``
    instead of ``institution`` for things an institution offers downwards (service packages):
    staff see those of their subtree, of the institutions above them and the district-wide ones
    (no institution).
``published``
    a boolean field: resident users see the rows where it is true (e.g. active packages).
``referral``
    the institution a referral is sent to: a hospital referral desk sees those sent to its
    hospital and nothing else.

``action`` is ``"view"`` (every principal) or ``"change"`` (the clinical roles and superusers):
the writer check is the same mechanism (:func:`can`, and ``core.access.require_writer``).

The principal of a user is resolved by the apps that know users: org resolves staff and
superusers (role, institution subtree, teams), residents resolves a resident's own account. Core
itself knows no roles and no models of other apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import Http404

VIEW = "view"
CHANGE = "change"
AUDIT = "audit"
ACTIONS = (VIEW, CHANGE, AUDIT)

RESIDENT_ROLE = "resident"


@dataclass(frozen=True)
class Principal:
    """What one user may see and do, as resolved by the app that knows the user."""

    role: str | None = None  #: the staff role, ``"resident"`` for a resident's account, or None
    actions: frozenset[str] = frozenset()  #: what the user may do: view, change, audit
    staff: bool = False  #: an active staff member (or a superuser): may open the staff pages
    superuser: bool = False
    #: institution ids whose rows the user sees; None: no institution scope at all
    institution_ids: tuple[int, ...] | None = None
    #: the user's own institution and those above it (what is offered down to them)
    ancestor_ids: tuple[int, ...] = ()
    #: the teams whose residents narrow the scope (team scope); None: team scope does not apply
    team_ids: tuple[int, ...] | None = None
    #: a resident's own account: rows about this user only
    resident_self: bool = False
    #: a hospital referral desk: referrals sent to this institution only
    referral_institution_id: int | None = None


NOBODY = Principal()

PrincipalResolver = Callable[[Any], "Principal | None"]
TeamResidents = Callable[[tuple[int, ...]], models.QuerySet]

_resolvers: dict[str, PrincipalResolver] = {}
_team_residents: list[TeamResidents] = []


def register_principal_resolver(fn: PrincipalResolver) -> None:
    """Add a resolver ``fn(user) -> Principal | None``; the first registered resolver that knows the
    user wins (apps register in ``ready()``, i.e. in INSTALLED_APPS order). Re-registering replaces."""
    _resolvers[f"{fn.__module__}.{fn.__qualname__}"] = fn


def register_team_residents(fn: TeamResidents) -> None:
    """Set ``fn(team_ids) -> queryset of resident ids`` (``values("resident_id")`` or similar): the
    residents the teams care for, which team scope narrows to. Without one, team scope sees nobody."""
    _team_residents[:] = [fn]


def principal(user) -> Principal:
    if user is None or not getattr(user, "is_authenticated", False):
        return NOBODY
    for resolve in _resolvers.values():
        found = resolve(user)
        if found is not None:
            return found
    return NOBODY


def can(user, action: str = VIEW) -> bool:
    return action in principal(user).actions


# ---------------------------------------------------------------------------------------------
# Compatibility readers over the principal (used by pages, APIs and selectors)
# ---------------------------------------------------------------------------------------------


def user_role(user) -> str | None:
    return principal(user).role


def institution_ids_visible_to(user) -> list[int] | None:
    """Institution ids whose data the user may read, or None for none at all."""
    ids = principal(user).institution_ids
    return None if ids is None else list(ids)


def team_scope_applies(user) -> bool:
    return principal(user).team_ids is not None


def can_write_clinical(user) -> bool:
    return can(user, CHANGE)


def can_audit(user) -> bool:
    return can(user, AUDIT)


def get_visible_or_404(queryset, **lookup):
    """Fetch one object from an already-scoped queryset; anything else is 404 (no existence leak)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# ---------------------------------------------------------------------------------------------
# The filter
# ---------------------------------------------------------------------------------------------


def _join(path: str, lookup: str) -> str:
    return f"{path}__{lookup}" if path else lookup


@dataclass(frozen=True)
class _Path:
    model: type[models.Model]
    multi: bool  # crosses a to-many relation: filtered through a pk subquery (no duplicate rows)


def _walk(model: type[models.Model], path: str) -> _Path:
    multi = False
    for name in [p for p in path.split("__") if p]:
        if name == "pk":
            break
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist as exc:
            raise ValueError(f"{model.__name__}.scope_paths: {path!r} is not a relation path") from exc
        if f.one_to_many or f.many_to_many:
            multi = True
        if f.related_model is None:
            break
        model = f.related_model
    return _Path(model, multi)


@dataclass
class _Scope:
    model: type[models.Model]
    paths: dict[str, str] = field(default_factory=dict)

    @cached_property
    def resident(self) -> _Path | None:
        if "resident" not in self.paths:
            return None
        return _walk(self.model, self.paths["resident"])

    def through(self, key: str, q: Q) -> Q:
        """``q`` on the rows; a condition across a to-many path becomes ``pk IN (subquery)``."""
        if not _walk(self.model, self.paths.get(key, "")).multi:
            return q
        return Q(pk__in=self.model._base_manager.filter(q).values("pk"))


def scope_paths_of(model: type[models.Model]) -> dict[str, str]:
    paths = getattr(model, "scope_paths", None)
    if paths is None:
        raise TypeError(f"{model.__name__} uses ScopedQuerySet but declares no scope_paths")
    return paths


def restrict(qs: models.QuerySet, user, action: str = VIEW) -> models.QuerySet:
    """The rows of ``qs`` that ``user`` may ``action`` (see the module docstring)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    p = principal(user)
    if action not in p.actions:
        return qs.none()
    q = scope_q(qs.model, p, user)
    return qs.none() if q is None else qs.filter(q)


def scope_q(model: type[models.Model], p: Principal, user) -> Q | None:
    """The filter for ``model`` and principal ``p``; None when the principal sees none of its rows."""
    scope = _Scope(model, scope_paths_of(model))
    paths = scope.paths
    if p.resident_self:
        if scope.resident is not None:
            user_path = scope_paths_of(scope.resident.model).get("user")
            if user_path is None:
                return None
            return scope.through("resident", Q(**{_join(paths["resident"], user_path): user}))
        if "published" in paths:
            return Q(**{paths["published"]: True})
        return None
    if p.referral_institution_id is not None:
        if "referral" not in paths:
            return None
        return Q(**{_join(paths["referral"], "in"): [p.referral_institution_id]})
    if p.institution_ids is None:
        return None
    if "offered_by" in paths:
        path = paths["offered_by"]
        q = Q(**{_join(path, "isnull"): True}) | Q(**{_join(path, "in"): sorted({*p.institution_ids, *p.ancestor_ids})})
    elif "institution" in paths:
        q = scope.through("institution", Q(**{_join(paths["institution"], "in"): p.institution_ids}))
    else:
        return None
    if "deleted" in paths:
        q &= Q(**{paths["deleted"]: False})
    if p.team_ids is not None and scope.resident is not None:
        q &= _team_q(scope, p, user)
    return q


def _team_q(scope: _Scope, p: Principal, user) -> Q:
    """Rows about residents the user's teams care for (and the user may see)."""
    if not _team_residents:
        return Q(pk__in=[])
    path = scope.paths["resident"]
    if not path:  # the resident model itself
        return Q(pk__in=_team_residents[0](p.team_ids))
    assert scope.resident is not None
    resident_model = scope.resident.model
    residents = resident_model._base_manager.all()
    resident_q = scope_q(resident_model, p, user)
    residents = residents.none() if resident_q is None else residents.filter(resident_q)
    return scope.through("resident", Q(**{_join(path, "in"): residents.values("pk")}))


class ScopedQuerySet(models.QuerySet):
    """A queryset whose model declares ``scope_paths``; ``visible_to`` is the only scoping method."""

    def visible_to(self, user, action: str = VIEW):
        return restrict(self, user, action)

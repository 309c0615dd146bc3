"""The one choke point for organisational data: ``Model.objects.restrict(user, action)``.

A role held at an organisation covers that organisation's whole subtree. Each scoped model says how it
reaches an organisation path (``scope_path``) and, optionally, how it reaches its own user
(``scope_self``) for roles whose scope is the holder themself (党员, 讲师). Subtrees are matched as a
half-open range on the materialised path, which every database answers from an ordinary index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from partyedu.accounts.models import User

# Every character of a path segment sorts below this one, so [p, p + PATH_END) is p's subtree.
PATH_END = "~"

SCOPE_SUBTREE = "subtree"
SCOPE_SELF = "self"
SCOPE_ASSIGNED = "assigned"


@dataclass(frozen=True)
class Grant:
    """One role assignment reduced to what scoping needs."""

    role: str
    scope: str
    actions: frozenset[str]
    path: str


@dataclass(frozen=True)
class Scope:
    """Where a user may perform one action on one app's data."""

    paths: tuple[str, ...]
    own: bool
    assigned: bool = False

    @property
    def empty(self) -> bool:
        return not self.paths and not self.own and not self.assigned


# Wildcard patterns ("*.view") cover the domain apps only; rights over accounts and the audit log
# must be granted by name, so that no organisational role reaches them by accident (三员分立).
SYSTEM_APPS = frozenset({"accounts", "core"})


def action_matches(actions: frozenset[str], app_label: str, action: str) -> bool:
    if app_label in SYSTEM_APPS:
        return bool({f"{app_label}.{action}", f"{app_label}.*"} & actions)
    return bool({f"{app_label}.{action}", f"*.{action}", f"{app_label}.*", "*.*"} & actions)


def minimal_paths(paths: list[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the list: a subtree already covers them."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def _load_access(user: Any) -> None:
    """Load, in one statement, the user's role assignments and personal-data grants at active
    organisations, and keep them on the user object for the rest of the request. This runs on
    nearly every request, so it is one hand-written UNION rather than two ORM queries."""
    from django.db import connection
    from django.utils import timezone

    from partyedu.accounts.models import PiiGrant, Role, RoleAssignment
    from partyedu.organizations.models import Organization

    org, role = Organization._meta.db_table, Role._meta.db_table
    assignment, grant = RoleAssignment._meta.db_table, PiiGrant._meta.db_table
    sql = (
        f"SELECT r.code, r.scope, r.actions, o.path FROM {assignment} a "
        f"JOIN {role} r ON r.id = a.role_id JOIN {org} o ON o.id = a.organization_id "
        f"WHERE a.user_id = %s AND o.is_active "
        f"UNION ALL "
        f"SELECT '', '', NULL, o.path FROM {grant} g JOIN {org} o ON o.id = g.organization_id "
        f"WHERE g.user_id = %s AND g.revoked_at IS NULL AND (g.valid_until IS NULL OR g.valid_until >= %s) "
        f"AND o.is_active"
    )
    grants: list[Grant] = []
    pii: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, timezone.localdate()])
        for code, scope, actions, path in cursor.fetchall():
            if not code:
                pii.append(path)
                continue
            if isinstance(actions, str):  # JSON text outside PostgreSQL
                actions = json.loads(actions)
            grants.append(Grant(code, scope, frozenset(actions or ()), path))
    user._scope_grants = grants
    user._pii_paths = minimal_paths(pii)


def user_grants(user: User | Any) -> list[Grant]:
    """The user's active role assignments, loaded once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if getattr(user, "_scope_grants", None) is None:
        _load_access(user)
    return user._scope_grants  # type: ignore[no-any-return,union-attr]


def user_pii_paths(user: Any) -> tuple[str, ...]:
    """Subtrees where the user may see personal data unmasked (valid, unrevoked grants)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ()
    if getattr(user, "_pii_paths", None) is None:
        _load_access(user)
    return user._pii_paths  # type: ignore[no-any-return]


def forget_grants(user: Any) -> None:
    """Call after changing a user's roles within the same request."""
    for attr in ("_scope_grants", "_pii_paths"):
        if hasattr(user, attr):
            delattr(user, attr)


def user_scope(user: Any, action: str, app_label: str) -> Scope:
    paths: list[str] = []
    own = assigned = False
    for grant in user_grants(user):
        if not action_matches(grant.actions, app_label, action):
            continue
        if grant.scope == SCOPE_SUBTREE:
            paths.append(grant.path)
        elif grant.scope == SCOPE_SELF:
            own = True
        elif grant.scope == SCOPE_ASSIGNED:
            assigned = True
    return Scope(minimal_paths(paths), own, assigned)


def has_action(user: Any, action: str, app_label: str) -> bool:
    """Whether the user may perform the action anywhere; views answer 403 when not, 404 per row."""
    return not user_scope(user, action, app_label).empty


def role_paths(user: Any, *roles: str) -> tuple[str, ...]:
    """The subtrees where the user holds one of these roles (for policy settings that belong to
    the organisation departments, whatever actions other roles carry)."""
    return minimal_paths([grant.path for grant in user_grants(user) if grant.role in roles])


def has_role(user: Any, *roles: str) -> bool:
    return any(grant.role in roles for grant in user_grants(user))


def subtree_q(field: str, paths: tuple[str, ...] | list[str]) -> Q:
    """Rows whose ``field`` (a path) lies in any of the given subtrees."""
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__gte": p, f"{field}__lt": p + PATH_END}) for p in paths))


def path_in(path: str, paths: tuple[str, ...] | list[str]) -> bool:
    return any(path.startswith(p) for p in paths)


class ScopedQuerySet(models.QuerySet):
    """QuerySet of organisational data; every read in views, forms, serializers and exports starts
    from ``restrict``."""

    def restrict(self, user: Any, action: str = "view") -> ScopedQuerySet:
        model = self.model
        scope = user_scope(user, action, model._meta.app_label)
        if scope.empty:
            return self.none()
        condition = subtree_q(model.scope_path, scope.paths) if scope.paths else Q(pk__in=[])
        scope_self = getattr(model, "scope_self", None)
        if scope.own and scope_self:
            condition |= Q(**{scope_self: user})
        scope_assigned = getattr(model, "scope_assigned", None)
        if scope.assigned and scope_assigned:
            condition |= Q(**{scope_assigned: user})
        return self.filter(condition)


class ScopedModel(models.Model):
    """Abstract base of every model that belongs to an organisation."""

    scope_path: ClassVar[str] = "organization__path"
    scope_self: ClassVar[str | None] = None
    # For roles scoped to what they are assigned (评委): the user field of an assignment.
    scope_assigned: ClassVar[str | None] = None

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

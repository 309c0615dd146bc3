"""The one choke point for organisational data: ``Model.objects.restrict(user, action)``.

A role held at an organisation covers that organisation's whole subtree. Each scoped model says how it
reaches an organisation path (``scope_path``) and, optionally, how it reaches its own user
(``scope_self``) for roles whose scope is the holder themself (党员, 讲师). Subtrees are matched as a
half-open range on the materialised path, which every database answers from an ordinary index.
"""

from __future__ import annotations

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

    @property
    def empty(self) -> bool:
        return not self.paths and not self.own


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


def user_grants(user: User | Any) -> list[Grant]:
    """The user's active role assignments, loaded once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    cached = getattr(user, "_scope_grants", None)
    if cached is None:
        from partyedu.accounts.models import RoleAssignment

        rows = RoleAssignment.objects.filter(user_id=user.pk, organization__is_active=True).values_list(
            "role__code", "role__scope", "role__actions", "organization__path"
        )
        cached = [Grant(code, scope, frozenset(actions or ()), path) for code, scope, actions, path in rows]
        user._scope_grants = cached  # type: ignore[union-attr]
    return cached


def forget_grants(user: Any) -> None:
    """Call after changing a user's roles within the same request."""
    for attr in ("_scope_grants", "_pii_paths"):
        if hasattr(user, attr):
            delattr(user, attr)


def user_scope(user: Any, action: str, app_label: str) -> Scope:
    paths: list[str] = []
    own = False
    for grant in user_grants(user):
        if not action_matches(grant.actions, app_label, action):
            continue
        if grant.scope == SCOPE_SUBTREE:
            paths.append(grant.path)
        elif grant.scope == SCOPE_SELF:
            own = True
    return Scope(minimal_paths(paths), own)


def has_action(user: Any, action: str, app_label: str) -> bool:
    """Whether the user may perform the action anywhere; views answer 403 when not, 404 per row."""
    return not user_scope(user, action, app_label).empty


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
        return self.filter(condition)


class ScopedModel(models.Model):
    """Abstract base of every model that belongs to an organisation."""

    scope_path: ClassVar[str] = "organization__path"
    scope_self: ClassVar[str | None] = None

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

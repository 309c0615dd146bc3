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
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeAlias, TypeVar

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import connection, models
from django.db.models import CharField, OuterRef, Q, Value
from django.db.models.functions import Concat

from .types import BaseActor, BaseViewer

if TYPE_CHECKING:
    from typing_extensions import TypeIs

# Every character of a path segment sorts below this one, so [p, p + PATH_END) is p's subtree.
PATH_END = "~"

SCOPE_SUBTREE = "subtree"
SCOPE_SELF = "self"
SCOPE_ASSIGNED = "assigned"

# The hook through which the accounts app answers "which roles and personal-data grants does this
# user hold": rows (role code, scope, actions, path); a personal-data grant has an empty code.
ACCESS_LOADER = "scope.access_rows"

# Where ``_load_access`` keeps what it read on the user object, for the rest of the request.
_GRANTS_ATTR = "_scope_grants"
_PII_PATHS_ATTR = "_pii_paths"

# Policy (hour requirements, meeting cadence) is set by the organisation departments over their
# subtree, never by a branch for itself, whatever actions other roles carry (DOMAIN_RULES).
# The role code is the one ``accounts.choices.RoleCode.ORG_ADMIN`` stores.
POLICY_ROLE = "org_admin"


class HasPath(Protocol):
    """An organisation, as far as scoping needs it (core may not import the organizations app)."""

    @property
    def path(self) -> str: ...


# An organisation given as itself, as its materialised path, or None for "nowhere".
OrgRef: TypeAlias = HasPath | str | None


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

    def covers(self, path: str) -> bool:
        """Whether the organisation at ``path`` lies in one of the scope's subtrees."""
        return path_in(path, self.paths)

    def q(self, field: str = "organization__path") -> Q:
        """Rows whose ``field`` (a path, on any model, through any relation) lies in the scope's
        subtrees; nothing when the scope has none."""
        return subtree_q(field, self.paths)


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


def _load_access(user: BaseViewer) -> tuple[list[Grant], tuple[str, ...]]:
    """Load the user's role assignments and personal-data grants at active organisations (through
    the loader that the accounts app registers: core knows no app above it) and keep them on the
    user object for the rest of the request."""
    from partyedu.core.hooks import hooks

    grants: list[Grant] = []
    pii: list[str] = []
    for code, scope, actions, path in hooks.one(ACCESS_LOADER)(user):
        if not code:
            pii.append(path)
            continue
        if isinstance(actions, str):  # JSON text outside PostgreSQL
            actions = json.loads(actions)
        grants.append(Grant(code, scope, frozenset(actions or ()), path))
    pii_paths = minimal_paths(pii)
    setattr(user, _GRANTS_ATTR, grants)
    setattr(user, _PII_PATHS_ATTR, pii_paths)
    return grants, pii_paths


def user_grants(user: BaseViewer) -> list[Grant]:
    """The user's active role assignments, loaded once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    grants: list[Grant] | None = getattr(user, _GRANTS_ATTR, None)
    if grants is None:
        grants, _ = _load_access(user)
    return grants


def user_pii_paths(user: BaseViewer) -> tuple[str, ...]:
    """Subtrees where the user may see personal data unmasked (valid, unrevoked grants)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ()
    pii_paths: tuple[str, ...] | None = getattr(user, _PII_PATHS_ATTR, None)
    if pii_paths is None:
        _, pii_paths = _load_access(user)
    return pii_paths


def forget_grants(user: BaseViewer) -> None:
    """Call after changing a user's roles within the same request."""
    for attr in (_GRANTS_ATTR, _PII_PATHS_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def user_scope(user: BaseViewer, action: str, app_label: str) -> Scope:
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


def has_action(user: BaseViewer, action: str, app_label: str) -> bool:
    """Whether the user may perform the action anywhere; views answer 403 when not, 404 per row."""
    return not user_scope(user, action, app_label).empty


def role_paths(user: BaseViewer, *roles: str) -> tuple[str, ...]:
    """The subtrees where the user holds one of these roles (for policy settings that belong to
    the organisation departments, whatever actions other roles carry)."""
    return minimal_paths([grant.path for grant in user_grants(user) if grant.role in roles])


def has_role(user: BaseViewer, *roles: str) -> bool:
    return any(grant.role in roles for grant in user_grants(user))


def subtree_q(field: str, paths: tuple[str, ...] | list[str]) -> Q:
    """Rows whose ``field`` (a path) lies in any of the given subtrees."""
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__gte": p, f"{field}__lt": p + PATH_END}) for p in paths))


def subtree_of_outer_q(field: str, outer_path: str) -> Q:
    """Rows whose ``field`` (a path) lies in the subtree of the outer query's ``outer_path``: a
    range on the path (an index range scan per outer row), where ``startswith`` is a pattern
    match the planner cannot bound."""
    return Q(
        **{
            f"{field}__gte": OuterRef(outer_path),
            f"{field}__lt": Concat(OuterRef(outer_path), Value(PATH_END), output_field=CharField()),
        }
    )


def path_in(path: str, paths: tuple[str, ...] | list[str]) -> bool:
    return any(path.startswith(p) for p in paths)


def scope_for(user: BaseViewer, action: str, app_label: str) -> Scope:
    """Where ``user`` may perform ``action`` on ``app_label``'s data (the object form of
    ``user_scope``: ``.covers(path)``, ``.q(field)``)."""
    return user_scope(user, action, app_label)


def _path_of(target: OrgRef) -> str | None:
    """The materialised path of an organisation given as itself, as a path, or as None."""
    if target is None or isinstance(target, str):
        return target
    return str(target.path)


def can(user: BaseViewer, action: str, organization: OrgRef, *, app_label: str) -> bool:
    """Whether ``user`` may perform ``action`` on ``app_label``'s data at ``organization`` (an
    organisation or its path). Used by pages to show or hide a button; services use ``require``."""
    path = _path_of(organization)
    return path is not None and path_in(path, user_scope(user, action, app_label).paths)


def require(
    actor: BaseActor,
    action: str,
    organization: OrgRef,
    *,
    app_label: str,
    message: str = "您无权在该组织执行此操作",
) -> None:
    """Raise ``PermissionDenied(message)`` unless ``actor`` may perform ``action`` on
    ``app_label``'s data at ``organization`` (an organisation, its path, or None for "nowhere").
    ``actor=None`` is the system itself: management commands, jobs, demo seeding. An anonymous
    user is NOT the system: it holds no right and is refused."""
    if is_system(actor):
        return
    if not can(actor, action, organization, app_label=app_label):
        raise PermissionDenied(message)


def require_anywhere(
    actor: BaseActor, action: str, *, app_label: str, message: str = "您没有执行此操作的权限"
) -> None:
    """Raise unless ``actor`` holds ``action`` on ``app_label`` somewhere (the 403 of a page
    before its rows are looked up; rows outside scope are then 404)."""
    if is_system(actor):
        return
    if not has_action(actor, action, app_label):
        raise PermissionDenied(message)


def is_system(actor: BaseActor) -> TypeIs[None]:
    """Only ``None`` acts as the system itself; any user object, signed in or not, is checked."""
    return actor is None


def policy_paths(user: BaseViewer) -> tuple[str, ...]:
    """The subtrees over which ``user`` sets policy (hour requirements, meeting cadence)."""
    return role_paths(user, POLICY_ROLE)


def can_set_policy(user: BaseViewer, organization: OrgRef = None) -> bool:
    """Whether ``user`` sets policy at ``organization`` (or anywhere, when it is None)."""
    paths = policy_paths(user)
    if organization is None:
        return bool(paths)
    path = _path_of(organization)
    return path is not None and path_in(path, paths)


def require_policy(actor: BaseActor, organization: OrgRef, message: str) -> None:
    """Raise ``PermissionDenied(message)`` unless ``actor`` sets policy at ``organization``
    (None: anywhere). Each policy states its own message ("学时要求由组织部门…设定")."""
    if is_system(actor):
        return
    if not can_set_policy(actor, organization):
        raise PermissionDenied(message)


def can_act_above(user: BaseViewer, organization: OrgRef) -> bool:
    """Whether ``user`` acts for the level above ``organization``: an org_admin (the policy role)
    held at a STRICT ancestor of it. The approvals of a higher party committee (上级党委审批,
    预审) and the overrides of a timing rule are taken there, never by the organisation itself."""
    path = _path_of(organization)
    if path is None:
        return False
    return any(p != path and path.startswith(p) for p in policy_paths(user))


def require_above(actor: BaseActor, organization: OrgRef, message: str) -> None:
    """Raise ``PermissionDenied(message)`` unless ``actor`` acts for the level above
    ``organization`` (``can_act_above``); the system itself always may."""
    if is_system(actor):
        return
    if not can_act_above(actor, organization):
        raise PermissionDenied(message)


_M = TypeVar("_M", bound="ScopedModel")


class ScopedQuerySet(models.QuerySet[_M]):
    """QuerySet of organisational data; every read in views, forms, serializers and exports starts
    from ``restrict``."""

    def restrict(self, user: BaseViewer, action: str = "view", *, app_label: str | None = None) -> Self:
        """Rows the user may ``action``. The right is read from ``app_label`` (default: the model's
        own app), so that one app reading another's rows (learning reads members) asks for its own
        right over them."""
        scope, paths_field, user_fields = _scope_terms(self.model, user, action, app_label)
        if scope.empty:
            return self.none()
        condition = subtree_q(paths_field, scope.paths) if scope.paths else Q(pk__in=[])
        for field in user_fields:
            condition |= Q(**{field: user})
        return self.filter(condition)


def _scope_terms(
    model: type[models.Model], user: BaseViewer, action: str, app_label: str | None
) -> tuple[Scope, str, list[str]]:
    """What ``restrict`` and ``restrict_sql`` match, decided once: the user's scope (its subtrees
    for the model's path field), the model's path field, and the model's user fields the user must
    be named in (their own rows for a self-scoped role, what they are assigned to for an assigned
    one)."""
    scope = user_scope(user, action, app_label or model._meta.app_label)
    user_fields = [
        field
        for enabled, field in (
            (scope.own, getattr(model, "scope_self", None)),
            (scope.assigned, getattr(model, "scope_assigned", None)),
        )
        if enabled and field
    ]
    return scope, getattr(model, "scope_path", ""), user_fields


def restrict_sql(
    model: type[models.Model],
    user: BaseViewer,
    action: str = "view",
    *,
    alias: str,
    app_label: str | None = None,
) -> tuple[str, list[Any]]:
    """The condition ``model.objects.restrict(user, action)`` applies, as SQL over the row
    ``alias`` of ``model`` in a hand-written statement, with its parameters: for a read on every
    request whose cost is the ORM's compilation, not the database (a member's points). The same
    terms as ``restrict`` (``_scope_terms``); only a model whose scope fields are its own columns.
    A user with no scope gets a condition no row meets (404, as ``restrict`` gives)."""
    scope, paths_field, user_fields = _scope_terms(model, user, action, app_label)

    def column(name: str) -> str:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if not isinstance(field, models.Field) or not field.column:
            raise ValueError(f"{model.__name__}: {name} is not a column of its own")
        return f"{alias}.{connection.ops.quote_name(field.column)}"

    parts: list[str] = []
    params: list[Any] = []
    if scope.paths:
        path = column(paths_field)
        for prefix in scope.paths:
            parts.append(f"({path} >= %s AND {path} < %s)")
            params += [prefix, prefix + PATH_END]
    for field in user_fields:
        parts.append(f"{column(field)} = %s")
        params.append(user.pk)
    if not parts:
        return "1 = 0", []
    return "(" + " OR ".join(parts) + ")", params


class ScopedModel(models.Model):
    """Abstract base of every model that belongs to an organisation."""

    scope_path: ClassVar[str] = "organization__path"
    scope_self: ClassVar[str | None] = None
    # For roles scoped to what they are assigned (评委): the user field of an assignment.
    scope_assigned: ClassVar[str | None] = None

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

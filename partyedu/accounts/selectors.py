"""Reads of accounts, roles, personal-data grants and API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.core.scope import has_role, path_in, user_pii_paths

from .choices import RoleCode
from .models import ApiToken, PiiGrant, RoleAssignment, User
from .types import Viewer


def access_rows(user: Viewer) -> list[tuple[Any, ...]]:
    """The user's role assignments and personal-data grants at active organisations, in one
    statement: (role code, scope, actions, path) rows, a grant with an empty code. ``core.scope``
    reads them through the hook registry on nearly every request, so this is one hand-written UNION
    rather than two ORM queries."""
    from django.db import connection

    from partyedu.organizations.models import Organization

    from .models import Role

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
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, timezone.localdate()])
        return list(cursor.fetchall())


def pii_paths(user: Viewer) -> tuple[str, ...]:
    """Subtrees where the user may see personal data unmasked, cached per request."""
    return user_pii_paths(user)


def can_see_pii(user: Viewer, org_path: str) -> bool:
    return path_in(org_path, pii_paths(user))


def holds_pii_grant(user: Viewer) -> bool:
    return bool(pii_paths(user))


def role_assignment_list(*, user: Viewer) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.restrict(user, "view").select_related("user", "role", "organization")


def user_list(*, user: Viewer, q: str = "") -> QuerySet[User]:
    """Accounts visible to account managers: those holding a role inside their scope, plus
    accounts with no role yet (so they can be given one)."""
    if not has_role(user, RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.ORG_ADMIN):
        return User.objects.none()
    scoped = RoleAssignment.objects.restrict(user, "view").values("user_id")
    qs = User.objects.filter(Q(pk__in=scoped) | Q(role_assignments__isnull=True)).distinct()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return qs.order_by("username")


def user_get(*, user: Viewer, pk: Any) -> User:
    try:
        return user_list(user=user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("用户不存在") from None


def user_list_with_roles(*, user: Viewer, q: str = "") -> QuerySet[User]:
    """``user_list`` with, on each row, the role assignments the viewer may see
    (``visible_assignments``), prefetched in one more query whatever the page size."""
    from django.db.models import Prefetch

    return user_list(user=user, q=q).prefetch_related(
        Prefetch("role_assignments", queryset=role_assignment_list(user=user), to_attr="visible_assignments")
    )


def user_role_assignments(*, user: Viewer, target: User) -> QuerySet[RoleAssignment]:
    """The target's role assignments inside the viewer's scope."""
    return role_assignment_list(user=user).filter(user=target).order_by("organization__path", "role_id")


def pii_grant_list(*, user: Viewer, target: User) -> QuerySet[PiiGrant]:
    """The target's personal-data grants inside the viewer's scope, newest first."""
    return (
        PiiGrant.objects.restrict(user, "view")
        .filter(user=target)
        .select_related("organization", "granted_by")
        .order_by("-created_at", "-id")
    )


def api_token_list(*, user: Viewer) -> QuerySet[ApiToken]:
    """The user's own tokens that still authenticate, newest first. Nobody sees another's."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).exclude(ApiToken.ended_q(timezone.now()))


def api_token_get(*, user: Viewer, pk: Any) -> ApiToken:
    try:
        return api_token_list(user=user).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("令牌不存在") from None


def api_token_for_key(key: str) -> ApiToken | None:
    """The token row of a presented key, with its user, in one query (whether it still
    authenticates is the caller's question: ``ApiToken.ended_reason``)."""
    return ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()

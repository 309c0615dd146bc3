"""Reads of accounts, roles, personal-data grants and API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.core.scope import has_role, path_in, user_pii_paths

from .choices import RoleCode
from .models import ApiToken, PiiGrant, RoleAssignment, User


def pii_paths(user: Any) -> tuple[str, ...]:
    """Subtrees where the user may see personal data unmasked, cached per request."""
    return user_pii_paths(user)


def can_see_pii(user: Any, org_path: str) -> bool:
    return path_in(org_path, pii_paths(user))


def holds_pii_grant(user: Any) -> bool:
    return bool(pii_paths(user))


def role_assignment_list(*, user: Any) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.restrict(user, "view").select_related("user", "role", "organization")


def user_list(*, user: Any, q: str = "") -> QuerySet[User]:
    """Accounts visible to account managers: those holding a role inside their scope, plus
    accounts with no role yet (so they can be given one)."""
    if not has_role(user, RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.ORG_ADMIN):
        return User.objects.none()
    scoped = RoleAssignment.objects.restrict(user, "view").values("user_id")
    qs = User.objects.filter(Q(pk__in=scoped) | Q(role_assignments__isnull=True)).distinct()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return qs.order_by("username")


def user_get(*, user: Any, pk: Any) -> User:
    try:
        return user_list(user=user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("用户不存在") from None


def user_list_with_roles(*, user: Any, q: str = "") -> QuerySet[User]:
    """``user_list`` with, on each row, the role assignments the viewer may see
    (``visible_assignments``), prefetched in one more query whatever the page size."""
    from django.db.models import Prefetch

    return user_list(user=user, q=q).prefetch_related(
        Prefetch("role_assignments", queryset=role_assignment_list(user=user), to_attr="visible_assignments")
    )


def user_role_assignments(*, user: Any, target: User) -> QuerySet[RoleAssignment]:
    """The target's role assignments inside the viewer's scope."""
    return role_assignment_list(user=user).filter(user=target).order_by("organization__path", "role_id")


def pii_grant_list(*, user: Any, target: User) -> QuerySet[PiiGrant]:
    """The target's personal-data grants inside the viewer's scope, newest first."""
    return (
        PiiGrant.objects.restrict(user, "view")
        .filter(user=target)
        .select_related("organization", "granted_by")
        .order_by("-created_at", "-id")
    )


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The user's own tokens that still authenticate, newest first. Nobody sees another's."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).exclude(ApiToken.ended_q(timezone.now()))


def api_token_get(*, user: Any, pk: Any) -> ApiToken:
    try:
        return api_token_list(user=user).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("令牌不存在") from None


def api_token_for_key(key: str) -> ApiToken | None:
    """The token row of a presented key, with its user, in one query (whether it still
    authenticates is the caller's question: ``ApiToken.ended_reason``)."""
    return ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()

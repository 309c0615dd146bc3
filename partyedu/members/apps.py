from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from partyedu.accounts.types import Viewer


def organization_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: members copy their organisation's path and are counted on it."""
    from . import services

    services.members_org_moved(
        organization=organization,
        old_path=old_path,
        old_parent_path=old_parent_path,
        new_parent_path=new_parent_path,
    )


def organization_deactivating(*, organization: Any) -> None:
    """``organizations.deactivating``: members on the roll must be transferred out first."""
    from . import services

    services.members_org_deactivating(organization=organization)


def organization_warnings(*, user: Viewer, organization: Any) -> list[str]:
    """``organizations.warnings``: the branch sizing rules of 支部条例."""
    from . import selectors

    return selectors.sizing_warnings(user=user, org=organization)


def home_context(*, user: Viewer) -> dict[str, Any]:
    """``core.home``: a 党员 sees their own record on the home page."""
    from partyedu.accounts.choices import RoleCode
    from partyedu.core.scope import has_role

    from .selectors import member_of_user

    return {"own_member": member_of_user(user=user) if has_role(user, RoleCode.MEMBER) else None}


def choice_lists() -> dict[tuple[str, str], Any]:
    """``core.choice_lists``: a member's categories are a JSON list of ``MemberCategory`` codes."""
    from .choices import MemberCategory

    return {("members.member", "categories"): MemberCategory.choices}


class MembersConfig(AppConfig):
    name = "partyedu.members"
    label = "members"
    verbose_name = _("党员")

    def ready(self) -> None:
        # Background job kinds (the long member list export), and the rebuild of organisation
        # paths with the members' copies of them and the member counts on the 系统维护 page.
        from partyedu.core.hooks import hooks

        from . import jobs, maintenance, selectors  # noqa: F401

        # What members keep on organisations follows the tree (registered first of all apps, so
        # members' paths are rewritten before the summaries above them follow a move).
        hooks.register("organizations.moved", organization_moved)
        hooks.register("organizations.deactivating", organization_deactivating)
        hooks.register("organizations.warnings", organization_warnings)
        hooks.register("core.home", home_context)
        hooks.register("core.search", selectors.member_search_source)
        hooks.register("core.choice_lists", choice_lists)

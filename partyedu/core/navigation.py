"""The main menu, filtered by what the user's roles allow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .maintenance import can_maintain
from .scope import has_action
from .types import BaseViewer


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    icon: str
    app_label: str
    action: str
    # For a page that is no action on an app's data (系统维护): who sees the item instead.
    allowed: Callable[[BaseViewer], bool] | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def visible_to(self, user: BaseViewer) -> bool:
        if self.allowed is not None:
            return self.allowed(user)
        return has_action(user, self.action, self.app_label)


NAV_ITEMS = (
    NavItem(_("党组织"), "organizations:tree", "diagram-3", "organizations", "view"),
    NavItem(_("党员"), "members:list", "people", "members", "view"),
    NavItem(_("学习活动"), "study:index", "calendar-check", "study", "view"),
    NavItem(_("学时"), "learning:index", "hourglass-split", "learning", "view"),
    NavItem(_("我来讲党课"), "lectures:index", "mic", "lectures", "view"),
    NavItem(_("党课评选"), "competitions:index", "award", "competitions", "view"),
    NavItem(_("账号与角色"), "accounts:user_list", "person-gear", "accounts", "view"),
    NavItem(_("审计日志"), "core:audit_list", "journal-text", "core", "view_audit"),
    NavItem(_("系统维护"), "core:maintenance", "tools", "core", "maintain", allowed=can_maintain),
)


def navigation_for(user: BaseViewer | None) -> list[NavItem]:
    if user is None or not user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if item.visible_to(user)]

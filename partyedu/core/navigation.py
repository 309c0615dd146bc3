"""The main menu, filtered by what the user's roles allow. A plain member — the 党员 role and no
role over an organisation's subtree, most of them elderly and on a phone — gets a menu of their own
(我的学时, 我的活动, 网上学习, 扫码签到, 我的党课) instead of the administrators' pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .maintenance import can_maintain
from .scope import SCOPE_SUBTREE, has_action, user_grants
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
    # An item of a member's own menu (their own data), not a page of organisational data.
    personal: bool = False

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
    NavItem(_("考试"), "exams:index", "ui-checks", "exams", "view"),
    NavItem(_("积分"), "points:index", "star", "points", "view"),
    # 民主评议 for organisation roles is a tab under 积分 (points/_nav.html), not a top item: the
    # full menu must fit on one line at 1280 px (e2e/test_layout.py). Members have it in their menu.
    NavItem(_("服务"), "service:index", "heart", "service", "view"),
    NavItem(_("督导考评"), "supervision:index", "clipboard-data", "supervision", "view"),
    NavItem(_("账号与角色"), "accounts:user_list", "person-gear", "accounts", "view"),
    NavItem(_("审计日志"), "core:audit_list", "journal-text", "core", "view_audit"),
    NavItem(_("系统维护"), "core:maintenance", "tools", "core", "maintain", allowed=can_maintain),
)


# The role code of a plain member (``accounts.choices.RoleCode.MEMBER``: core imports no app).
MEMBER_ROLE = "member"


def _anyone(user: BaseViewer) -> bool:
    return True


# A member's own pages; each says so plainly when the account has no member record.
MEMBER_NAV_ITEMS = (
    NavItem(_("我的学时"), "learning:my_hours", "hourglass-split", "", "", allowed=_anyone, personal=True),
    NavItem(_("我的活动"), "study:my_activities", "calendar-check", "", "", allowed=_anyone, personal=True),
    NavItem(_("网上学习"), "learning:resource_list", "play-btn", "", "", allowed=_anyone, personal=True),
    NavItem(_("扫码签到"), "study:scan", "qr-code-scan", "", "", allowed=_anyone, personal=True),
    NavItem(_("我的党课"), "lectures:my", "mic", "", "", allowed=_anyone, personal=True),
    NavItem(_("考试练习"), "exams:my", "ui-checks", "", "", allowed=_anyone, personal=True),
    NavItem(_("我的积分"), "points:my", "star", "", "", allowed=_anyone, personal=True),
    NavItem(_("民主评议"), "appraisal:my", "clipboard-check", "", "", allowed=_anyone, personal=True),
    NavItem(_("办实事"), "service:my_pledges", "hand-thumbs-up", "", "", allowed=_anyone, personal=True),
    NavItem(_("我的服务"), "service:my_service", "person-heart", "", "", allowed=_anyone, personal=True),
)
# What the member menu replaces: the member search of administrators (a member reaches their own
# record from the home page) and the lecture and exam sections' entries (我的党课 and 考试练习 are
# in the menu).
REPLACED_BY_MEMBER_MENU = frozenset(
    {"members:list", "lectures:index", "exams:index", "points:index", "service:index"}
)

# How many items the menu bar shows; the rest (the last ones: 账号与角色, 审计日志, 系统维护 for an
# organisation department) go under 更多, so that the bar fits on one line at 1,280 px
# (e2e/test_layout.py) however many apps a role reaches.
NAV_TOP_MAX = 10
ADMIN_ITEMS = frozenset({"accounts:user_list", "core:audit_list", "core:maintenance"})


def has_member_menu(user: BaseViewer | None) -> bool:
    """Whether the user is only a member: holds the 党员 role and no role over a subtree (an
    assigned role such as 评委 keeps its own items beside the member menu)."""
    if user is None or not user.is_authenticated:
        return False
    grants = user_grants(user)
    return any(g.role == MEMBER_ROLE for g in grants) and not any(g.scope == SCOPE_SUBTREE for g in grants)


def navigation_for(user: BaseViewer | None) -> list[NavItem]:
    if user is None or not user.is_authenticated:
        return []
    items = [item for item in NAV_ITEMS if item.visible_to(user)]
    if has_member_menu(user):
        items = [*MEMBER_NAV_ITEMS, *(item for item in items if item.url_name not in REPLACED_BY_MEMBER_MENU)]
    return items


def split_navigation(items: list[NavItem], limit: int = NAV_TOP_MAX) -> tuple[list[NavItem], list[NavItem]]:
    """The items of the menu bar and those under 更多. All stay on the bar when they fit; otherwise
    更多 follows the bar's ``limit`` items, and the administration items (账号与角色, 审计日志, 系统维护) go under
    it first, then the last of the others, so that the bar keeps the day-to-day work."""
    if len(items) <= limit:
        return items, []
    main = [item for item in items if item.url_name not in ADMIN_ITEMS]
    top = main[:limit]
    return top, [item for item in items if item not in top]

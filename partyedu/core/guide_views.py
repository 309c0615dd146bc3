"""使用指南: short numbered steps for each kind of user, in plain words, linked from every page (the
navbar's menu and the footer). The guide of the user's own role opens first; the others are tabs
(``?tab=``). The pages hold no organisational data, so every signed-in user may read every tab;
the "打开" links are shown only on the tabs of roles the user holds (the pages they lead to are
theirs). Role codes are those of ``accounts.choices.RoleCode`` (core names them without importing
accounts; a test checks they agree)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .scope import has_role
from .types import BaseViewer


@dataclass(frozen=True)
class Guide:
    slug: str
    label: str | Promise
    icon: str
    template: str
    roles: tuple[str, ...]


# In tab order; a user holding several roles sees first the guide found first in FIRST_CHOICE.
GUIDES: tuple[Guide, ...] = (
    Guide("member", _("党员"), "person", "core/guide/member.html", ("member", "lecturer")),
    Guide("branch", _("支部书记"), "people", "core/guide/branch.html", ("branch_admin",)),
    Guide("org", _("组织部门"), "diagram-3", "core/guide/org.html", ("org_admin", "examiner")),
    Guide(
        "audit",
        _("审计员/安全管理员"),
        "shield-check",
        "core/guide/audit.html",
        ("auditor", "secadmin", "sysadmin"),
    ),
)
FIRST_CHOICE = ("org", "branch", "audit", "member")
_BY_SLUG = {guide.slug: guide for guide in GUIDES}


def own_guides(user: BaseViewer) -> list[Guide]:
    """The guides of the roles the user holds, in ``FIRST_CHOICE`` order."""
    return [_BY_SLUG[slug] for slug in FIRST_CHOICE if has_role(user, *_BY_SLUG[slug].roles)]


@require_GET
@login_required
def guide(request: HttpRequest) -> HttpResponse:
    own = own_guides(request.user)
    default = own[0] if own else _BY_SLUG["member"]
    current = _BY_SLUG.get(request.GET.get("tab", ""), default)
    context = {
        "guides": GUIDES,
        "current": current,
        "own_slugs": {g.slug for g in own},
        "links": current in own,
    }
    return render(request, "core/guide/index.html", context)

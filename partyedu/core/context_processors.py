from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import has_member_menu, navigation_for, split_navigation


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    top, more = split_navigation(navigation_for(user))
    return {"nav_items": top, "nav_more": more, "member_menu": has_member_menu(user)}

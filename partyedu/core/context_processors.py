from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import has_member_menu, navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"nav_items": navigation_for(user), "member_menu": has_member_menu(user)}

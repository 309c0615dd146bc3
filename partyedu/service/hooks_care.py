"""Hook registrations of the service app's care area (called from ``ServiceConfig.ready``): the
workbench to-dos (``core.todo``) and the member's political birthday greeting on the home page
(``core.home``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.hooks import hooks
from partyedu.core.scope import has_role

MEMBER_ROLE = "member"


def home_panels(*, user: Viewer) -> dict[str, Any]:
    """A member sees a greeting with their 党龄 in the week of their party birthday, loaded after
    the page from ``service:birthday_greeting``; in any other week nothing is added."""
    from .selectors_care import own_birthday

    if not has_role(user, MEMBER_ROLE) or own_birthday(user=user, today=timezone.localdate()) is None:
        return {}
    return {
        "home_panels": [{"url": reverse("service:birthday_greeting"), "title": "政治生日", "scripts": []}]
    }


def register() -> None:
    """Register this area's hooks (core.todo, core.home)."""
    from .todo_care import care_todos

    hooks.register("core.todo", care_todos)
    hooks.register("core.home", home_panels)

"""Presentation helpers for roles: their Chinese names."""

from __future__ import annotations

from django import template

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.types import Viewer
from partyedu.core.scope import user_grants

register = template.Library()


@register.filter
def role_label(code: str) -> str:
    try:
        return str(RoleCode(code).label)
    except ValueError:
        return code


@register.simple_tag
def role_labels(user: Viewer) -> list[str]:
    """The distinct role names the user holds, in the order of the role list."""
    held = {grant.role for grant in user_grants(user)}
    return [str(label) for code, label in RoleCode.choices if code in held]

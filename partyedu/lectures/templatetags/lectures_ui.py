"""Presentation helpers of the lectures pages."""

from __future__ import annotations

from typing import Any

from django import template

from partyedu.accounts.types import Viewer
from partyedu.lectures.selectors import is_manager

register = template.Library()


@register.simple_tag
def lectures_manager(user: Viewer) -> bool:
    """Whether the user manages lectures over a subtree (and so sees the management tabs)."""
    return is_manager(user)


@register.filter
def stars(score: Any) -> str:
    """A score of 1–5 as filled and empty stars."""
    try:
        n = max(0, min(5, round(float(score))))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)

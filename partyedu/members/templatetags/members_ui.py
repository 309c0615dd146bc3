"""Presentation helpers of the member pages: Chinese labels for stored member codes."""

from __future__ import annotations

from django import template

from partyedu.members.choices import MemberCategory

register = template.Library()


@register.filter
def category_labels(codes: list[str] | None) -> str:
    labels = dict(MemberCategory.choices)
    return "、".join(str(labels.get(code, code)) for code in codes or [])

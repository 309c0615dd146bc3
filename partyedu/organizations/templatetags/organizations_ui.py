"""Presentation helpers of the organisation pages: the badge colour of each level."""

from __future__ import annotations

from django import template

from partyedu.organizations.choices import OrgLevel

register = template.Library()

LEVEL_BADGES: dict[str, str] = {
    OrgLevel.COMMITTEE: "text-bg-danger",
    OrgLevel.WORKING_COMMITTEE: "text-bg-danger",
    OrgLevel.LEADING_GROUP: "text-bg-danger",
    OrgLevel.GENERAL_BRANCH: "text-bg-warning",
    OrgLevel.BRANCH: "text-bg-primary",
    OrgLevel.GROUP: "text-bg-secondary",
}


@register.filter
def level_badge(level: str) -> str:
    return LEVEL_BADGES.get(level, "text-bg-light")

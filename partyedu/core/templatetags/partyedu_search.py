"""The navbar's search box: shown only to users who can search something (``core.search``).

{% load partyedu_search %}{% can_search user as searchable %}
"""

from __future__ import annotations

from django import template

from partyedu.core.search import search_sources
from partyedu.core.types import BaseViewer

register = template.Library()


@register.simple_tag
def can_search(user: BaseViewer) -> bool:
    """Whether any kind is searchable for the user. The providers decide from the user's roles
    (already loaded for the menu): no query."""
    return bool(search_sources(user))

"""The site search: one box that finds members, organisations, activities, lectures and online
resources, each kind within what the user may see of it.

Core knows no app above it, so each app answers for its own kind through the ``core.search`` hook:
its provider (in the app's ``selectors.py``) returns a ``SearchSource`` for the user — rows that
start from the app's ``restrict(user, "view")``, how a row reads, and the app's list page filtered
by the same text — or None when the user sees nothing of that kind. Core runs them all and shows
the first ``GROUP_LIMIT`` rows of each kind with their count.

Threat model: a search box is a way to probe for data outside one's scope (does a member called
X exist in another district?), so a provider never widens its rows beyond its app's own list page,
and the counts come from the same rows. Personal data is never searched or shown: a member is
found by name or pinyin initials only, never by 身份证号 or phone (the members list page may match
a whole ID number; the site search does not), and a hit shows name, organisation and status.

Cost: each kind is one query (its first rows and, in a window over the same statement, how many
there are); a provider may add one (the learning resources look up the user's own member record).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, QuerySet, Window
from django.urls import reverse
from django.utils.functional import Promise

from .hooks import hooks
from .types import BaseViewer

HOOK = "core.search"
# A query shorter than this finds too much to be useful (and costs a scan of every kind).
MIN_CHARS = 2
MAX_CHARS = 50
GROUP_LIMIT = 10
_TOTAL = "search_total"


def normalize_query(text: str | None) -> str:
    """The text as searched: surrounding blanks dropped, inner runs of blanks made one, cut to
    ``MAX_CHARS``."""
    return " ".join((text or "").split())[:MAX_CHARS]


def is_searchable(text: str) -> bool:
    return len(text) >= MIN_CHARS


@dataclass(frozen=True)
class SearchHit:
    """One row as the results list shows it. ``url`` is empty when the user has no page that
    opens the row (a 党员's own activities: the activity pages belong to the organisers)."""

    title: str
    url: str = ""
    detail: str = ""
    badge: str = ""


@dataclass(frozen=True)
class SearchSource:
    """What one app lets one user search (returned by a ``core.search`` provider).

    ``find(text)`` returns the matching rows within the user's view scope, in the order the results
    show them; ``hit(row)`` reads a row; ``list_url(text)`` is the app's list page filtered by the
    text (its own filter parameter), or None when the list page has no text filter, in which case
    the search page itself lists every match of the kind."""

    kind: str
    label: str | Promise
    icon: str
    find: Callable[[str], QuerySet[Any]]
    hit: Callable[[Any], SearchHit]
    list_url: Callable[[str], str] | None = None


@dataclass
class SearchGroup:
    """The results of one kind: the first rows, how many there are in all, and where to see all."""

    source: SearchSource
    hits: list[SearchHit] = field(default_factory=list)
    count: int = 0
    more_url: str = ""

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def label(self) -> str:
        return str(self.source.label)

    @property
    def more(self) -> bool:
        """Whether there are rows beyond those shown."""
        return self.count > len(self.hits)


# The order of the groups on the results page: people first, as most searches are for a person.
KIND_ORDER = ("members", "organizations", "activities", "lectures", "resources")


def search_sources(user: BaseViewer) -> list[SearchSource]:
    """The kinds the user may search, in ``KIND_ORDER`` (a kind not listed there comes last)."""
    if not getattr(user, "is_authenticated", False):
        return []
    sources = [source for source in hooks.call(HOOK, user=user) if source is not None]
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    return sorted(sources, key=lambda source: rank.get(source.kind, len(rank)))


def source_for(user: BaseViewer, kind: str) -> SearchSource | None:
    return next((source for source in search_sources(user) if source.kind == kind), None)


def kind_url(kind: str, text: str) -> str:
    """The search page narrowed to one kind: every match, page by page."""
    return f"{reverse('core:search')}?{urlencode({'q': text, 'kind': kind})}"


def more_url(source: SearchSource, text: str) -> str:
    """Where "查看全部" leads: the kind's list page filtered by the text, else the search page
    narrowed to the kind."""
    if source.list_url is not None:
        return source.list_url(text)
    return kind_url(source.kind, text)


def search_group(source: SearchSource, text: str, *, limit: int = GROUP_LIMIT) -> SearchGroup:
    """The first ``limit`` matches of one kind and their total, in one query: the total is a
    window count over the same rows, computed before the LIMIT applies."""
    rows = list(source.find(text).annotate(**{_TOTAL: Window(Count("pk"))})[:limit])
    count = getattr(rows[0], _TOTAL) if rows else 0
    return SearchGroup(source=source, hits=[source.hit(row) for row in rows], count=count)


def site_search(user: BaseViewer, text: str, *, limit: int = GROUP_LIMIT) -> list[SearchGroup]:
    """Every kind the user may search, each with its first matches (kinds without a match
    included, with a count of 0, so that the page can say where nothing was found)."""
    groups = []
    for source in search_sources(user):
        group = search_group(source, text, limit=limit)
        group.more_url = more_url(source, text)
        groups.append(group)
    return groups

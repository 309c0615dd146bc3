"""The site search page (``core.search``): the navbar's box on a computer, the page the search icon
opens on a phone. All kinds at once, the first rows of each with their count; or one kind whose
list page has no text filter of its own, page by page (``?kind=``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .search import GROUP_LIMIT, MIN_CHARS, is_searchable, normalize_query, search_sources, site_search
from .views import paginate

PAGE_SIZE = 20


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    sources = search_sources(request.user)
    if not sources:
        # Nothing the user's roles show can be searched (an account without roles, an auditor).
        raise PermissionDenied(_("您的角色没有可以搜索的内容"))
    text = normalize_query(request.GET.get("q"))
    context: dict[str, Any] = {
        "q": text,
        "sources": sources,
        "min_chars": MIN_CHARS,
        "limit": GROUP_LIMIT,
        "too_short": bool(text) and not is_searchable(text),
    }
    if is_searchable(text):
        kind = request.GET.get("kind", "")
        source = next((s for s in sources if s.kind == kind), None)
        if source is not None:
            page = paginate(request, source.find(text), per_page=PAGE_SIZE)
            context.update(source=source, page_obj=page, hits=[source.hit(row) for row in page])
        else:
            groups = site_search(request.user, text)
            context.update(groups=groups, found=[g for g in groups if g.count])
    return render(request, "core/search.html", context)

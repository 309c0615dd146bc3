"""The section's landing page: where the menu item 督导考评 leads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from partyedu.core.views import action_required


@require_GET
@action_required("view", "supervision", subtree=True)
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard is the section's first page."""
    return redirect("supervision:dashboard")

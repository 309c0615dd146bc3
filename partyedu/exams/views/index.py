"""The section's landing page: where the menu item 考试答题 leads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from partyedu.core.views import action_required


@require_GET
@action_required("view", "exams", subtree=True)
def index(request: HttpRequest) -> HttpResponse:
    """An organiser's first page is the list of exams."""
    return redirect("exams:exam_list")

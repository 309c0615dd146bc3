"""Supervision API routes: each area's module lists its own."""

from django.urls import URLPattern, URLResolver

from . import assessment, dashboard, dispatch, guidance, reports

urlpatterns: list[URLPattern | URLResolver] = [
    *dashboard.urlpatterns,
    *reports.urlpatterns,
    *assessment.urlpatterns,
    *dispatch.urlpatterns,
    *guidance.urlpatterns,
]

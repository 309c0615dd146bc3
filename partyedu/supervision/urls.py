"""督导考评 pages: each area's views module lists its own routes."""

from django.urls import path

from .views import assessment, dashboard, dispatch, guidance, index, reports

app_name = "supervision"
urlpatterns = [
    path("", index.index, name="index"),
    *dashboard.urlpatterns,
    *reports.urlpatterns,
    *assessment.urlpatterns,
    *dispatch.urlpatterns,
    *guidance.urlpatterns,
]

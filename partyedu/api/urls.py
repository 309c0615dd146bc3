"""``/api/``: version 1 of the REST API, its OpenAPI schema and the local docs pages.

This is the top of the API: the one module that includes every app's routes (each app's
``api/urls.py``). The shared plumbing those apps build on is ``partyedu.core.api``."""

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from partyedu.accounts.api import urls as account_urls
from partyedu.appraisal.api import urls as appraisal_urls
from partyedu.competitions.api import urls as competition_urls
from partyedu.development.api import urls as development_urls
from partyedu.exams.api import urls as exam_urls
from partyedu.learning.api import urls as learning_urls
from partyedu.lectures.api import urls as lecture_urls
from partyedu.members.api import urls as member_urls
from partyedu.organizations.api import urls as organization_urls
from partyedu.points.api import urls as points_urls
from partyedu.service.api import urls as service_urls
from partyedu.study.api import urls as study_urls
from partyedu.supervision.api import urls as supervision_urls

from . import views

app_name = "api"

v1: list[URLPattern | URLResolver] = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("", include(account_urls.urlpatterns)),
    path("ping/", views.PingView.as_view(), name="ping"),
    path("", include(organization_urls.urlpatterns)),
    path("", include(member_urls.urlpatterns)),
    path("", include(learning_urls.urlpatterns)),
    path("", include(study_urls.urlpatterns)),
    path("", include(lecture_urls.urlpatterns)),
    path("", include(competition_urls.urlpatterns)),
    path("", include(exam_urls.urlpatterns)),
    path("", include(service_urls.urlpatterns)),
    path("", include(supervision_urls.urlpatterns)),
    path("", include(points_urls.urlpatterns)),
    path("", include(appraisal_urls.urlpatterns)),
    path("", include(development_urls.urlpatterns)),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page needs no inline
    # script under the Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
]

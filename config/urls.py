from django.urls import include, path

from partyedu.competitions.urls import verify_urlpatterns
from partyedu.core.health import health

urlpatterns = [
    path("", include("partyedu.core.urls")),
    path("accounts/", include("partyedu.accounts.urls")),
    path("organizations/", include("partyedu.organizations.urls")),
    path("members/", include("partyedu.members.urls")),
    path("study/", include("partyedu.study.urls")),
    path("learning/", include("partyedu.learning.urls")),
    path("lectures/", include("partyedu.lectures.urls")),
    path("competitions/", include("partyedu.competitions.urls")),
    path("exams/", include("partyedu.exams.urls")),
    path("supervision/", include("partyedu.supervision.urls")),
    path("points/", include("partyedu.points.urls")),
    path("appraisal/", include("partyedu.appraisal.urls")),
    path("development/", include("partyedu.development.urls")),
    path("service/", include("partyedu.service.urls")),
    path("verify/", include((verify_urlpatterns, "verify"))),
    path("api/", include("partyedu.api.urls")),
    path("healthz/", health, name="health"),
]

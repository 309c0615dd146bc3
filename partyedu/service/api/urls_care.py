"""API routes of the service app's care area (included by ``api/urls.py``)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from .views_care import CareVisitViewSet, OrganizationCareViewSet, TalkViewSet

router = SimpleRouter()
router.register("service/talks", TalkViewSet, basename="service-talk")
router.register("service/care-visits", CareVisitViewSet, basename="service-care-visit")
# The care area's figures under the organisations' address (``organization-talk-coverage``,
# ``organization-care-totals``): registered here so the organizations app need not know of service.
router.register("organizations", OrganizationCareViewSet, basename="organization")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

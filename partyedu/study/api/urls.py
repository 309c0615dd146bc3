from django.urls import path
from rest_framework.routers import SimpleRouter

from .cadence import OrganizationCadenceViewSet
from .views import ActivityViewSet, CheckinView

router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")
router.register("organizations", OrganizationCadenceViewSet, basename="organization")  # …/cadence/

urlpatterns = [*router.urls, path("checkin/", CheckinView.as_view(), name="checkin")]

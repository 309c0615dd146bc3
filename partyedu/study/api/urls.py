from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ActivityViewSet, CheckinView

router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")

urlpatterns = [*router.urls, path("checkin/", CheckinView.as_view(), name="checkin")]

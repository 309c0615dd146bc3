from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ManualPointsView, MemberPointsViewSet, SchemeViewSet

router = SimpleRouter()
router.register("points/schemes", SchemeViewSet, basename="points-scheme")
# The points action under the members' address (``member-points``): registered here so the
# members app need not know of points.
router.register("members", MemberPointsViewSet, basename="member")

urlpatterns = [path("points/manual/", ManualPointsView.as_view(), name="points-manual"), *router.urls]

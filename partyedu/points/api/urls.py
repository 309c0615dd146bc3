from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ManualPointsView, MemberPointsViewSet, SchemeViewSet
from .views_publication import ObjectionViewSet, PublicationViewSet, VetoViewSet

router = SimpleRouter()
router.register("points/schemes", SchemeViewSet, basename="points-scheme")
router.register("points/publications", PublicationViewSet, basename="points-publication")
router.register("points/objections", ObjectionViewSet, basename="points-objection")
router.register("points/vetoes", VetoViewSet, basename="points-veto")
# The points action under the members' address (``member-points``): registered here so the
# members app need not know of points.
router.register("members", MemberPointsViewSet, basename="member")

urlpatterns = [path("points/manual/", ManualPointsView.as_view(), name="points-manual"), *router.urls]

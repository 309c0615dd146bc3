from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CompetitionViewSet, ReviewerListView, ReviewViewSet, RoundViewSet

router = SimpleRouter()
router.register("competitions", CompetitionViewSet, basename="competition")
router.register("rounds", RoundViewSet, basename="round")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [*router.urls, path("reviewers/", ReviewerListView.as_view(), name="reviewers")]

from rest_framework.routers import SimpleRouter

from .views import MemberLearningViewSet, OrganizationLearningViewSet, ResourceViewSet

router = SimpleRouter()
router.register("resources", ResourceViewSet, basename="resource")
# Learning's actions under the members' and organisations' addresses (``member-learning-hours``,
# ``organization-learning-summary``): registered here so the lower apps need not know of learning.
router.register("organizations", OrganizationLearningViewSet, basename="organization")
router.register("members", MemberLearningViewSet, basename="member")

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from .views import AppraisalViewSet

router = SimpleRouter()
router.register("appraisals", AppraisalViewSet, basename="appraisal")

urlpatterns = [*router.urls]

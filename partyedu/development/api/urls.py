from rest_framework.routers import SimpleRouter

from .views import DevelopmentCaseViewSet

router = SimpleRouter()
router.register("development/cases", DevelopmentCaseViewSet, basename="development-case")

urlpatterns = [*router.urls]

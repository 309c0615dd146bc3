from rest_framework.routers import SimpleRouter

from .views import LecturerViewSet, LectureViewSet

router = SimpleRouter()
router.register("lecturers", LecturerViewSet, basename="lecturer")
router.register("lectures", LectureViewSet, basename="lecture")

urlpatterns = router.urls

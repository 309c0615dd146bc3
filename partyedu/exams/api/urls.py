from rest_framework.routers import SimpleRouter

from .views import AttemptViewSet, ExamViewSet, QuestionBankViewSet, QuestionViewSet

router = SimpleRouter()
router.register("question-banks", QuestionBankViewSet, basename="question-bank")
router.register("questions", QuestionViewSet, basename="question")
router.register("exams", ExamViewSet, basename="exam")
router.register("attempts", AttemptViewSet, basename="attempt")

urlpatterns = router.urls

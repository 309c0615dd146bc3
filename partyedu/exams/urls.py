"""考试答题 pages: each area's views module lists its own routes."""

from django.urls import path

from .views import banks, contests, grading, index, live, manage, papers, practice, results, take

app_name = "exams"
urlpatterns = [
    path("", index.index, name="index"),
    *take.urlpatterns,
    *practice.urlpatterns,
    *banks.urlpatterns,
    *papers.urlpatterns,
    *manage.urlpatterns,
    *grading.urlpatterns,
    *results.urlpatterns,
    *contests.urlpatterns,
    *live.urlpatterns,
]

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "learning"
urlpatterns = [
    # The menu links here, so that every learning page highlights it.
    path("", RedirectView.as_view(pattern_name="learning:summary"), name="index"),
    path("me/", views.my_hours, name="my_hours"),
    path("members/<int:pk>/", views.member_hours, name="member_hours"),
    path("summary/", views.summary, name="summary"),
    path("summary/categories/", views.summary_categories, name="summary_categories"),
    path("summary/export/", views.summary_export, name="summary_export"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("resources/<int:pk>/file/", views.resource_file, name="resource_file"),
    path("resources/<int:pk>/heartbeat/", views.resource_heartbeat, name="resource_heartbeat"),
    path("resources/<int:pk>/publish/", views.resource_publish, name="resource_publish"),
]

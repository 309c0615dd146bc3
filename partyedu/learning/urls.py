from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "learning"
urlpatterns = [
    # The menu links here, so that every learning page highlights it.
    path("", RedirectView.as_view(pattern_name="learning:summary"), name="index"),
    path("me/", views.my_hours, name="my_hours"),
    path("members/<int:pk>/", views.member_hours, name="member_hours"),
    path("members/<int:pk>/manual/", views.manual_record, name="manual_record"),
    path("members/<int:pk>/manual/<int:entry_pk>/reverse/", views.manual_reverse, name="manual_reverse"),
    path("summary/", views.summary, name="summary"),
    path("summary/categories/", views.summary_categories, name="summary_categories"),
    path("summary/export/", views.summary_export, name="summary_export"),
    path("candidates/", views.candidate_list, name="candidate_list"),
    path("candidates/export/", views.candidate_export, name="candidate_export"),
    path("requirements/", views.requirement_list, name="requirement_list"),
    path("requirements/set/", views.requirement_set, name="requirement_set"),
    path("requirements/<int:pk>/delete/", views.requirement_delete, name="requirement_delete"),
    path("credit-rules/", views.credit_rule_list, name="credit_rules"),
    path("credit-rules/set/", views.credit_rule_set, name="credit_rule_set"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("resources/<int:pk>/file/", views.resource_file, name="resource_file"),
    path("resources/<int:pk>/heartbeat/", views.resource_heartbeat, name="resource_heartbeat"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("resources/<int:pk>/delete/", views.resource_delete, name="resource_delete"),
    path("resources/<int:pk>/publish/", views.resource_publish, name="resource_publish"),
]

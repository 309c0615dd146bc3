from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "study"
urlpatterns = [
    # The menu links here, so that every study page highlights it.
    path("", RedirectView.as_view(pattern_name="study:activity_list"), name="index"),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    # The roster part of the record page, redrawn when the type or organisation changes.
    path("activities/new/roster/", views.activity_roster_preview, name="activity_roster_preview"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("activities/<int:pk>/attendance/", views.attendance, name="attendance"),
    path(
        "activities/<int:pk>/attendance/<int:attendance_pk>/makeup/",
        views.attendance_makeup,
        name="attendance_makeup",
    ),
    path("activities/<int:pk>/qr/", views.activity_qr, name="activity_qr"),
    path("activities/<int:pk>/files/<int:file_pk>/", views.activity_file, name="activity_file"),
    # The address in the QR code (checkin.CHECKIN_PATH).
    path("checkin/", views.checkin, name="checkin"),
    path("scan/", views.scan, name="scan"),
    # A member's own menu: 我的活动, and the 补学 they report from it.
    path("my/", views.my_activities, name="my_activities"),
    path("my/<int:attendance_pk>/makeup/", views.my_makeup, name="my_makeup"),
    path("stats/", views.stats, name="stats"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/new/", views.class_create, name="class_create"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("classes/<int:pk>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:pk>/enroll/", views.class_enroll, name="class_enroll"),
    path(
        "classes/<int:pk>/enrollees/<int:member_pk>/unenroll/",
        views.class_unenroll,
        name="class_unenroll",
    ),
    path("classes/<int:pk>/sessions/new/", views.class_session_create, name="class_session_create"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("bases/", views.base_list, name="base_list"),
    path("bases/new/", views.base_create, name="base_create"),
    path("bases/<int:pk>/", views.base_detail, name="base_detail"),
    path("bases/<int:pk>/edit/", views.base_edit, name="base_edit"),
    path("cadence/", views.cadence, name="cadence"),
    path("cadence/rules/", views.cadence_rule_list, name="cadence_rules"),
    path("cadence/rules/set/", views.cadence_rule_set, name="cadence_rule_set"),
    path("cadence/rules/<int:pk>/delete/", views.cadence_rule_delete, name="cadence_rule_delete"),
    path("materials/", views.material_list, name="material_list"),
    path("materials/new/", views.material_create, name="material_create"),
    path("materials/<int:pk>/", views.material_detail, name="material_detail"),
    path("materials/<int:pk>/edit/", views.material_edit, name="material_edit"),
    path("materials/<int:pk>/distribute/", views.material_distribute, name="material_distribute"),
    path("central-groups/", views.central_group_index, name="central_group_index"),
    path("central-groups/<int:org_pk>/", views.central_group_detail, name="central_group_detail"),
    path("central-groups/<int:org_pk>/add/", views.central_group_add, name="central_group_add"),
    path(
        "central-groups/<int:org_pk>/members/<int:pk>/edit/",
        views.central_group_edit,
        name="central_group_edit",
    ),
    path(
        "central-groups/<int:org_pk>/members/<int:pk>/remove/",
        views.central_group_remove,
        name="central_group_remove",
    ),
]

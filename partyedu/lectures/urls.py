from django.urls import path

from . import views

app_name = "lectures"
urlpatterns = [
    # The menu links here: lecture records for those who manage them, 我的党课 for members.
    path("", views.index, name="index"),
    path("me/", views.my, name="my"),
    path("lecturers/", views.lecturer_list, name="lecturer_list"),
    path("lecturers/new/", views.lecturer_create, name="lecturer_create"),
    path("lecturers/<int:pk>/", views.lecturer_detail, name="lecturer_detail"),
    path("lecturers/<int:pk>/edit/", views.lecturer_edit, name="lecturer_edit"),
    path("lecturers/<int:pk>/active/", views.lecturer_toggle, name="lecturer_toggle"),
    path("lectures/", views.lecture_list, name="lecture_list"),
    path("lectures/<int:pk>/", views.lecture_detail, name="lecture_detail"),
    path("lectures/<int:pk>/rate/", views.lecture_rate, name="lecture_rate"),
    path("lectures/<int:pk>/delete/", views.lecture_delete, name="lecture_delete"),
    path("lectures/<int:pk>/files/<int:file_pk>/", views.lecture_file, name="lecture_file"),
    # Linked from the study activity page of a 党课: record (or edit) its lecture.
    path("activities/<int:activity_pk>/lecture/", views.activity_lecture, name="activity_lecture"),
    path("duty/", views.duty, name="duty"),
    path("duty/export/", views.duty_export, name="duty_export"),
    path("stats/", views.stats, name="stats"),
    path("stats/export/", views.stats_export, name="stats_export"),
    path("rotations/", views.rotation_list, name="rotation_list"),
    path("rotations/new/", views.rotation_create, name="rotation_create"),
    path("rotations/<int:pk>/", views.rotation_detail, name="rotation_detail"),
    path("rotations/<int:pk>/regenerate/", views.rotation_regenerate, name="rotation_regenerate"),
    path("rotations/<int:pk>/delete/", views.rotation_delete, name="rotation_delete"),
    path("rotations/<int:pk>/slots/<int:slot_pk>/", views.rotation_slot, name="rotation_slot"),
    path("calls/", views.call_list, name="call_list"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/submit/", views.call_submit, name="call_submit"),
    path("calls/<int:pk>/close/", views.call_close, name="call_close"),
    path("proposals/<int:pk>/key/", views.proposal_key, name="proposal_key"),
    path("proposals/<int:pk>/assign/", views.proposal_assign, name="proposal_assign"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/decline/", views.task_decline, name="task_decline"),
    path("library/", views.library, name="library"),
    path("library/publish/", views.library_publish, name="library_publish"),
    path("library/items/<int:pk>/edit/", views.library_item_edit, name="library_item_edit"),
    path("library/items/<int:pk>/published/", views.library_item_toggle, name="library_item_toggle"),
    path("library/series/", views.series_list, name="series_list"),
    path("library/series/new/", views.series_create, name="series_create"),
    path("library/series/<int:pk>/", views.series_detail, name="series_detail"),
    path("library/series/<int:pk>/edit/", views.series_edit, name="series_edit"),
]

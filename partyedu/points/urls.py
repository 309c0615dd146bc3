from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("", views.index, name="index"),
    path("my/", views.my_points, name="my"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/manual/", views.manual_record, name="manual"),
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/new/", views.scheme_create, name="scheme_create"),
    path("schemes/<int:pk>/", views.scheme_edit, name="scheme_edit"),
]

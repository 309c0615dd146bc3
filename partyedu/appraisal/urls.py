from django.urls import path

from . import views

app_name = "appraisal"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("overview/", views.overview, name="overview"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/close/", views.follow_up_close, name="follow_up_close"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/participants/add/", views.participant_add, name="participant_add"),
    path("<int:pk>/steps/<slug:code>/open/", views.step_open, name="step_open"),
    path("<int:pk>/steps/<slug:code>/close/", views.step_close, name="step_close"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    # A participant's pages (phone): through their membership, never through a role.
    path("my/", views.my, name="my"),
    path("my/<int:pk>/", views.participate, name="participate"),
    path("my/<int:pk>/self/", views.self_evaluation, name="self_evaluation"),
    path("my/<int:pk>/peer/", views.peer, name="peer"),
    path("my/<int:pk>/ballot/", views.ballot, name="ballot"),
]

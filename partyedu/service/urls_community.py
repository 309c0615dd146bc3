"""Pages of the service app's community area (included by ``urls.py``)."""

from django.urls import URLPattern, path

from . import views_community as views

urlpatterns: list[URLPattern] = [
    # 我为群众办实事
    path("pledges/", views.pledge_list, name="pledge_list"),
    path("pledges/new/", views.pledge_create, name="pledge_create"),
    path("pledges/stats/", views.pledge_stats, name="pledge_stats"),
    path("pledges/<int:pk>/", views.pledge_detail, name="pledge_detail"),
    path("pledges/<int:pk>/progress/", views.pledge_progress, name="pledge_progress"),
    path("pledges/<int:pk>/complete/", views.pledge_complete, name="pledge_complete"),
    path("pledges/<int:pk>/confirm/", views.pledge_confirm, name="pledge_confirm"),
    path("pledges/<int:pk>/photos/<int:photo_pk>/", views.pledge_photo, name="pledge_photo"),
    path("my/pledges/", views.my_pledges, name="my_pledges"),
    path("my/pledges/new/", views.my_pledge_create, name="my_pledge_create"),
    # 联户 grid and residents' requests
    path("grid/", views.grid_index, name="grid_index"),
    path("grid/stats/", views.request_stats, name="request_stats"),
    path("grid/<int:pk>/", views.grid_detail, name="grid_detail"),
    path("grid/<int:pk>/units/new/", views.grid_unit_create, name="grid_unit_create"),
    path("grid/units/<int:pk>/edit/", views.grid_unit_edit, name="grid_unit_edit"),
    path("grid/units/<int:pk>/requests/new/", views.request_create, name="request_create"),
    path("grid/requests/", views.request_list, name="request_list"),
    path("grid/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("grid/requests/<int:pk>/start/", views.request_start, name="request_start"),
    path("grid/requests/<int:pk>/resolve/", views.request_resolve, name="request_resolve"),
    # party service centres and bookings
    path("centres/", views.centre_list, name="centre_list"),
    path("centres/new/", views.centre_create, name="centre_create"),
    path("centres/<int:pk>/", views.centre_detail, name="centre_detail"),
    path("centres/<int:pk>/edit/", views.centre_edit, name="centre_edit"),
    path("centres/<int:pk>/usage/", views.centre_usage, name="centre_usage"),
    path("centres/<int:pk>/rooms/new/", views.room_create, name="room_create"),
    path("rooms/<int:pk>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<int:pk>/day/", views.room_day, name="room_day"),
    path("rooms/<int:pk>/book/", views.booking_create, name="booking_create"),
    path("bookings/", views.booking_list, name="booking_list"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/decide/", views.booking_decide, name="booking_decide"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/link/", views.booking_link, name="booking_link"),
    # the service summary (all areas' figures)
    path("summary/", views.summary, name="summary"),
]

"""The service app's pages: 双报到, records and volunteer service (``urls_registration``); talks,
care and political birthdays (``urls_care``); pledges, the 联户 grid and centre bookings
(``urls_community``)."""

from django.urls import path

from . import views
from .urls_care import urlpatterns as care_urls
from .urls_community import urlpatterns as community_urls
from .urls_registration import urlpatterns as registration_urls

app_name = "service"

urlpatterns = [
    path("", views.index, name="index"),
    *registration_urls,
    *care_urls,
    *community_urls,
]

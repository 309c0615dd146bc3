"""API routes of the service app's community area (included by ``api/urls.py``): pledges,
bookings, centres, and the service summary under the organisations' address."""

from django.urls import URLPattern, URLResolver

from .views_community import router

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

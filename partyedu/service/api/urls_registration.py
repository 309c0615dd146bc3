"""API routes of the service app's registration area (included by ``api/urls.py``):
``service/registrations/`` and ``service/records/`` (with ``confirm`` and ``reject``)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from .views_registration import RecordViewSet, RegistrationViewSet

router = SimpleRouter()
router.register("service/registrations", RegistrationViewSet, basename="service-registration")
router.register("service/records", RecordViewSet, basename="service-record")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

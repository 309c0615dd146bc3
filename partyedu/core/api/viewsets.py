"""The base of every viewset over organisational data."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from rest_framework import viewsets

from .permissions import ScopedActionPermission, scope_action


class ScopedViewSet(viewsets.GenericViewSet):
    """Subclasses set ``scope_model`` and build ``get_queryset`` from a selector called with
    ``action=self.scope_action``, so GET reads the "view" scope, POST "add", PUT/PATCH "change":
    an object outside that scope is not found (404). Callers whose roles grant the action nowhere
    are refused earlier (403) by ``ScopedActionPermission``."""

    scope_model: ClassVar[type[models.Model]]
    permission_classes = [ScopedActionPermission]
    lookup_value_regex = r"[0-9]+"

    @property
    def scope_action(self) -> str:
        request = getattr(self, "request", None)
        return scope_action(request.method if request is not None else None)

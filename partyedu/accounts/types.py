"""The types of who acts and who looks, for every app above accounts.

- ``Actor``: the user a service acts for, or ``None`` for the system itself (management commands,
  background jobs, demo seeding) — ``core.scope.require`` lets only ``None`` through unchecked.
- ``Viewer``: whoever a selector or page reads for; a request's user may be anonymous (public pages,
  a token that failed), and an anonymous viewer holds no right.
- ``AuthenticatedHttpRequest`` / ``AuthenticatedRequest``: the request of a page behind
  ``login_required`` (``core.views.action_required``) or of an API view whose permission requires
  sign-in: its user is a ``User``, so it may be passed as a service's ``actor``. Annotations only:
  Django and DRF build the request; the decorator or permission class makes the promise true.

Apps below accounts (core, organizations) type the same parameters with Django's own classes
(``partyedu.core.types``: ``AbstractBaseUser | AnonymousUser``) and never import this module.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.request import Request

from .models import User

Actor: TypeAlias = User | None
Viewer: TypeAlias = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class AuthenticatedRequest(Request):
    user: User


__all__ = ["Actor", "AuthenticatedHttpRequest", "AuthenticatedRequest", "User", "Viewer"]

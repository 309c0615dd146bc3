"""The types of who acts and who looks, for the apps below accounts (core, organizations).

These apps may not name ``accounts.User`` (apps import downward only), so they use Django's own
classes; the apps above accounts use ``accounts.types`` (``Actor``, ``Viewer``), whose types fit
into these.

- ``BaseViewer``: whoever a check or a read is for; a request's user may be anonymous, and an
  anonymous viewer holds no right.
- ``BaseActor``: whoever a service of these apps acts for: a request's user, whose rights the
  service checks (an anonymous one holds none and is refused), or ``None`` for the system itself
  (management commands, background jobs, demo seeding).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

BaseViewer: TypeAlias = AbstractBaseUser | AnonymousUser
BaseActor: TypeAlias = BaseViewer | None

__all__ = ["BaseActor", "BaseViewer"]

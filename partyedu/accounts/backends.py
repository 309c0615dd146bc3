from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from .models import User, mobile_index


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the user name or the registered mobile number."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None or password is None:
            return None
        username = username.strip()
        user = User.objects.filter(username=username).first()
        if user is None and username.isdigit() and len(username) == 11:
            user = User.objects.filter(mobile_hash=mobile_index(username)).first()
        if user is None:
            User().set_password(password)  # same work as a real check, against user enumeration by timing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

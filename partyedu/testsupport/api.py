"""Helpers for API tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.test import APIClient

from partyedu.accounts.services import api_token_issue

if TYPE_CHECKING:
    from partyedu.accounts.models import User


def api_client(user: User | None = None) -> APIClient:
    """A client that authenticates as ``user`` with an API token, the way the mobile app does."""
    client = APIClient()
    if user is not None:
        _token, key = api_token_issue(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client

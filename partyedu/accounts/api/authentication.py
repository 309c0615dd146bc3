"""``Authorization: Token <key>`` against our own ``ApiToken`` (accounts.models): the header is
the one DRF's ``TokenAuthentication`` reads (so clients and the OpenAPI ``tokenAuth`` scheme stay as
they were), the key is looked up by its SHA-256 hash, and a token ends like a web session — at its
expiry, after ``API_TOKEN_IDLE_HOURS`` without use, on revocation, password change or a disabled
account. Every refusal is a 401 with a Chinese ``detail``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from partyedu.accounts.models import ApiToken
from partyedu.accounts.selectors import api_token_for_key

# last_used_at is written at most this often per token: one UPDATE a minute instead of one per
# request, at the price of an idle limit that is precise to the minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = api_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效，请重新登录获取")
        now = timezone.now()
        reason = token.ended_reason(now)
        if reason:
            raise exceptions.AuthenticationFailed(reason)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("账号已停用")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

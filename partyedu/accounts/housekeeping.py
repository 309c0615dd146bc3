"""Nightly cleaning of the accounts app (run by ``partyedu.core.housekeeping``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from partyedu.core.housekeeping import housekeeping_step

from .models import ApiToken

# Ended tokens stay listed on 我的登录令牌 this long, then go.
ENDED_TOKEN_KEEP_DAYS = 30


@housekeeping_step("ended_api_tokens")
def ended_api_tokens() -> int:
    cutoff = timezone.now() - timedelta(days=ENDED_TOKEN_KEEP_DAYS)
    deleted, _ = ApiToken.objects.filter(ApiToken.ended_q(cutoff)).delete()
    return deleted

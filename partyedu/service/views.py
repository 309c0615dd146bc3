"""The service app's home page; each area's pages are in ``views_<area>.py``."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.views import action_required

APP = "service"


@action_required("view", APP)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """服务与关怀: the entry to every area the user may reach."""
    return render(request, "service/index.html", {})

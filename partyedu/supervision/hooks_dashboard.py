"""Hooks registered by the dashboard area: the key-figures panel of an org_admin's home page."""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import reverse

from partyedu.core.hooks import hooks
from partyedu.core.scope import has_role
from partyedu.core.types import BaseViewer

ORG_ADMIN = "org_admin"


def home_panels(*, user: BaseViewer) -> dict[str, Any]:
    """An org_admin's home page shows the key figures of their organisation with a chart, loaded
    after the page from ``supervision:home_figures`` (which checks scope itself)."""
    if not has_role(user, ORG_ADMIN):
        return {}
    return {
        "home_panels": [
            {
                "url": reverse("supervision:home_figures"),
                "title": "本年度主要数据",
                "scripts": [static("vendor/echarts/echarts.min.js"), static("js/supervision-home.js")],
            }
        ]
    }


def register() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    hooks.register("core.home", home_panels)

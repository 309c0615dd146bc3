"""Hooks registered by the assessment area: the background scoring job kind, and the workbench
to-dos (``core.todo``) of the assessing level — a scheme of the year not yet scored, a scored
scheme still to publish (for information: publishing is the admin's decision), and, for an
assessed organisation, a result just published."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.urls import reverse
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.core.todo import TodoItem
from partyedu.core.types import BaseViewer

if TYPE_CHECKING:
    from partyedu.accounts.types import Viewer


def assessment_todos(*, user: BaseViewer) -> list[TodoItem]:
    from .models.assessment import SchemeStatus
    from .selectors.assessment import assessment_published_for_user, assessment_scheme_list

    if not getattr(user, "is_authenticated", False):
        return []
    items: list[TodoItem] = []
    today = timezone.localdate()
    viewer = cast("Viewer", user)  # signed in (checked above)
    schemes = assessment_scheme_list(user=viewer).filter(
        year__gte=today.year - 1, status__in=[SchemeStatus.DRAFT, SchemeStatus.SCORED]
    )
    for scheme in schemes[:10]:
        draft = scheme.status == SchemeStatus.DRAFT
        items.append(
            TodoItem(
                key=f"supervision.assessment:{scheme.pk}:{scheme.status}",
                section="年度考评",
                title=f"{'为' if draft else '发布'}“{scheme.title}”{'计分' if draft else '结果'}",
                url=reverse("supervision:assessment_detail", args=[scheme.pk]),
                detail=scheme.organization.name,
                priority=2 if draft else 3,
                icon="clipboard-check",
            )
        )
    recent = timezone.now() - timedelta(days=30)
    for scheme in assessment_published_for_user(user=viewer).filter(published_at__gte=recent)[:5]:
        items.append(
            TodoItem(
                key=f"supervision.assessment_published:{scheme.pk}",
                section="年度考评",
                title=f"查看“{scheme.title}”本组织结果",
                url=reverse("supervision:assessment_detail", args=[scheme.pk]),
                detail=scheme.organization.name,
                priority=3,
                icon="clipboard-check",
            )
        )
    return items


def register() -> None:
    """Called once from ``SupervisionConfig.ready``."""
    # Importing the services registers the scoring job kind (``core.jobs.job_kind``).
    from .services import assessment  # noqa: F401

    hooks.register("core.todo", assessment_todos)

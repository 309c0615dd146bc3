"""Reads of the audit log. The log is read only by holders of ``core.view_audit`` (审计管理员),
whose scope is the whole system: audit rows belong to no organisation."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import AuditLog, Job
from .scope import has_action
from .types import BaseViewer


def audit_object_types() -> list[tuple[str, str]]:
    """``(label_lower, verbose name)`` of every model of the project, for the object-type filter."""
    return [
        (model._meta.label_lower, str(model._meta.verbose_name))
        for model in apps.get_models()
        if model.__module__.startswith("partyedu.")
    ]


def audit_list(*, user: BaseViewer, filters: dict[str, Any] | None = None) -> QuerySet[AuditLog]:
    if not has_action(user, "view_audit", "core"):
        raise PermissionDenied("您无权查看审计日志")
    filters = filters or {}
    qs = AuditLog.objects.all()
    if filters.get("username"):
        qs = qs.filter(username__icontains=filters["username"].strip())
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"])
    date_from: date | None = filters.get("date_from")
    date_to: date | None = filters.get("date_to")
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    if filters.get("success") in (True, False):
        qs = qs.filter(success=filters["success"])
    return qs.order_by("-created_at", "-id")


def job_list(*, user: BaseViewer) -> QuerySet[Job]:
    """The jobs a person started, newest first. Jobs belong to their starter, not to an
    organisation: nobody else sees their progress or their files."""
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    return Job.objects.filter(created_by_id=user.pk).order_by("-created_at")


def job_get(*, user: BaseViewer, pk: Any) -> Job:
    """One of the person's jobs (Http404 for anyone else's). A job whose worker has died is put
    back in the queue or failed here too, so its page never shows "running" forever."""
    from django.http import Http404

    from .jobs import jobs_reap

    job = job_list(user=user).filter(pk=pk).first()
    if job is None:
        raise Http404
    if not job.finished and jobs_reap(job_ids=[job.pk]):
        job.refresh_from_db()
    return job

"""Reads of the audit log. The log is read only by holders of ``core.view_audit`` (审计管理员),
whose scope is the whole system: audit rows belong to no organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

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


def audit_get(*, user: BaseViewer, pk: int) -> AuditLog:
    """One audit row (Http404 when there is none). Only holders of ``core.view_audit`` read it."""
    row = audit_list(user=user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def audit_names(
    *, user: BaseViewer, refs: Iterable[tuple[str, str]], at: datetime | None = None
) -> dict[tuple[str, str], str]:
    """The names the audit log itself recorded for objects, ``{(object_type, object_id): name}``:
    the name recorded last at or before ``at`` (the name the object had then), else the first one
    recorded after it; an object the log never named is absent. One query, whatever the number of
    objects; the log is the source, so a deleted object keeps its name and the auditor reads no
    data outside the log."""
    by_type: dict[str, set[str]] = {}
    for object_type, object_id in refs:
        by_type.setdefault(object_type, set()).add(object_id)
    if not by_type:
        return {}
    condition = Q()
    for object_type, ids in by_type.items():
        condition |= Q(object_type=object_type, object_id__in=sorted(ids))
    rows = (
        audit_list(user=user)
        .filter(condition)
        .exclude(object_repr="")
        .order_by("created_at", "id")
        .values_list("object_type", "object_id", "object_repr", "created_at")
    )
    names: dict[tuple[str, str], str] = {}
    for object_type, object_id, name, created_at in rows:
        key = (object_type, object_id)
        if at is None or created_at <= at or key not in names:
            names[key] = name
    return names


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

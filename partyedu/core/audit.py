"""Writing the audit log. Services call ``audit_record`` inside their transaction, so an audited
change and its audit row commit or roll back together."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from .choices import AuditAction
from .models import AuditLog
from .types import BaseActor


@dataclass(frozen=True)
class RequestMeta:
    ip_address: str | None
    user_agent: str = ""


_request_meta: contextvars.ContextVar[RequestMeta | None] = contextvars.ContextVar(
    "request_meta", default=None
)


def set_request_meta(meta: RequestMeta | None) -> contextvars.Token[RequestMeta | None]:
    return _request_meta.set(meta)


def reset_request_meta(token: contextvars.Token[RequestMeta | None]) -> None:
    _request_meta.reset(token)


def client_ip(request: Any) -> str | None:
    """The client address; X-Forwarded-For is trusted only when a proxy count is configured."""
    from django.conf import settings

    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            return parts[-hops]
    return request.META.get("REMOTE_ADDR") or None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The audited fields of an instance as JSON-ready values (FKs by id)."""
    data = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        data[name] = _plain(getattr(instance, attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def audit_record(
    *,
    actor: BaseActor,
    action: AuditAction | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    success: bool = True,
    message: str = "",
    username: str = "",
    ip_address: str | None = None,
) -> AuditLog:
    meta = _request_meta.get()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    user = actor if isinstance(actor, get_user_model()) and actor.is_authenticated else None
    return AuditLog.objects.create(
        user=user,
        username=username or (user.get_username() if user else ""),
        action=str(action),
        success=success,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        ip_address=ip_address or (meta.ip_address if meta else None),
        changes=changes or {},
        message=message[:500],
    )

"""Online study resources: columns, a resource's file checks, creating, editing, deleting,
publishing and withdrawing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..choices import MEDIA_KINDS, ResourceKind
from ..media import duration_seconds_of, media_duration, stored_duration
from ..models import Column, OnlineResource
from ._common import APP, SCOPE_MESSAGE
from .ledger import learning_hours_sync_resource

# --- online resources -----------------------------------------------------------------------------

MB = 1024 * 1024
# Extensions, the check of the file's first bytes, and a size limit, per kind.
ALLOWED_FILES: dict[str, dict[str, Callable[[bytes], bool]]] = {
    ResourceKind.VIDEO: {
        ".mp4": lambda head: head[4:8] == b"ftyp",
        ".webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    },
    ResourceKind.AUDIO: {
        ".mp3": lambda head: (
            head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
        ),
        ".m4a": lambda head: head[4:8] == b"ftyp",
    },
    ResourceKind.COURSEWARE: {".pdf": lambda head: head[:5] == b"%PDF-"},
}
MAX_FILE_BYTES: dict[str, int] = {
    ResourceKind.VIDEO: 2048 * MB,
    ResourceKind.AUDIO: 200 * MB,
    ResourceKind.COURSEWARE: 100 * MB,
}
FORMAT_NAMES: dict[str, str] = {
    ResourceKind.VIDEO: "MP4、WebM",
    ResourceKind.AUDIO: "MP3、M4A",
    ResourceKind.COURSEWARE: "PDF",
}
RESOURCE_FIELDS = ("title", "column", "issue_no", "body", "duration_seconds", "credit_hours")
AUDITED_RESOURCE_FIELDS = ("organization", "kind", *RESOURCE_FIELDS, "is_published")


def validate_resource_file(kind: str, file: Any) -> None:
    """A file of the kind's formats: by name and by its first bytes (a renamed file is refused)."""
    if kind == ResourceKind.ARTICLE:
        if file:
            raise ValidationError({"file": ["文章不需要上传文件，请填写正文"]})
        return
    if not file:
        raise ValidationError({"file": ["请上传文件"]})
    name = (getattr(file, "name", "") or "").lower()
    checks = ALLOWED_FILES[kind]
    extension = next((ext for ext in checks if name.endswith(ext)), None)
    message = f"{ResourceKind(kind).label}只支持{FORMAT_NAMES[kind]}格式"
    if extension is None:
        raise ValidationError({"file": [message]})
    size = getattr(file, "size", None)
    if size is not None and size > MAX_FILE_BYTES[kind]:
        raise ValidationError({"file": [f"文件不能超过{MAX_FILE_BYTES[kind] // MB}MB"]})
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(16)
    if hasattr(file, "seek"):
        file.seek(0)
    if not head or not checks[extension](head):
        raise ValidationError({"file": [f"文件内容不是有效的{extension[1:].upper()}文件。{message}"]})


def _file_duration(kind: str, file: Any, typed: int | None) -> int | None:
    """The duration to store: for audio and video the file's own length whenever it can be read
    (whatever was typed); otherwise the typed one, which media then must have."""
    if kind not in MEDIA_KINDS or not file:
        return typed
    length = media_duration(file)
    if length is not None:
        return duration_seconds_of(length)
    if not typed:
        raise ValidationError({"duration_seconds": ["无法从文件中读取播放时长，请填写时长"]})
    return typed


def _check_resource(resource: OnlineResource) -> None:
    errors: dict[str, list[str]] = {}
    if not (resource.title or "").strip():
        errors["title"] = ["请填写标题"]
    if resource.kind == ResourceKind.ARTICLE and not (resource.body or "").strip():
        errors["body"] = ["请填写文章正文"]
    if not resource.duration_seconds or resource.duration_seconds < 1:
        errors["duration_seconds"] = ["请填写时长（秒）"]
    elif resource.duration_seconds > 24 * 3600:
        errors["duration_seconds"] = ["时长不能超过24小时"]
    if resource.credit_hours is None or Decimal(resource.credit_hours) <= 0:
        errors["credit_hours"] = ["完成计入学时应大于0"]
    elif Decimal(resource.credit_hours) > 8:
        errors["credit_hours"] = ["单个资源计入学时不超过8"]
    if resource.column_id and resource.column is not None:
        column_path = resource.column.organization.path
        if not resource.organization.path.startswith(column_path):
            errors["column"] = ["栏目须属于发布组织或其上级组织"]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def column_create(*, actor: Actor, organization: Organization, name: str, description: str = "") -> Column:
    require(actor, "add", organization, app_label=APP, message=SCOPE_MESSAGE)
    column = Column(organization=organization, name=name.strip(), description=description.strip())
    column.full_clean()
    column.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=column)
    return column


@transaction.atomic
def resource_create(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    kind: str,
    duration_seconds: int | None = None,
    file: Any = None,
    body: str = "",
    column: Column | None = None,
    issue_no: int | None = None,
    credit_hours: Any = Decimal("1"),
) -> OnlineResource:
    """A draft resource for the organisation's subtree (publish it with ``resource_publish``).
    Audio and video last as long as their file says when it can be read (``duration_seconds`` is
    then ignored); otherwise, and for courseware and articles (the reading time), as typed."""
    require(actor, "add", organization, app_label=APP, message=SCOPE_MESSAGE)
    if kind not in ResourceKind.values:
        raise ValidationError({"kind": ["请选择资源类型"]})
    validate_resource_file(kind, file)
    duration_seconds = _file_duration(kind, file, duration_seconds)
    resource = OnlineResource(
        organization=organization,
        column=column,
        issue_no=issue_no,
        title=(title or "").strip(),
        kind=kind,
        body=body or "",
        duration_seconds=duration_seconds or 0,  # 0: refused below as missing
        credit_hours=credit_hours,
    )
    _check_resource(resource)
    if file:
        resource.file = file
    resource.full_clean()
    resource.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=resource,
        changes={"after": snapshot(resource, AUDITED_RESOURCE_FIELDS)},
    )
    return resource


@transaction.atomic
def resource_update(*, actor: Actor, resource: OnlineResource, data: dict[str, Any]) -> OnlineResource:
    """Change a resource's description. A new number of hours re-credits members who completed it
    (by correcting lines). The duration of audio or video whose file can be read stays the
    file's."""
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    require(actor, "change", resource.organization, app_label=APP, message=SCOPE_MESSAGE)
    unknown = [name for name in data if name not in RESOURCE_FIELDS]
    if unknown:
        raise ValidationError({name: ["该字段不能在此修改"] for name in unknown})
    if "duration_seconds" in data and resource.kind in MEDIA_KINDS and resource.file:
        data = {**data, "duration_seconds": _stored_file_duration(resource, data["duration_seconds"])}
    before = snapshot(resource, AUDITED_RESOURCE_FIELDS)
    for name, value in data.items():
        setattr(resource, name, value)
    _check_resource(resource)
    resource.full_clean()
    resource.save()
    changes = diff(before, snapshot(resource, AUDITED_RESOURCE_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=resource, changes=changes)
    if "credit_hours" in changes:
        completed = list(resource.progress.filter(completed_at__isnull=False).values_list("pk", flat=True))
        learning_hours_sync_resource(progress_ids=completed, actor=actor)
    return resource


def _stored_file_duration(resource: OnlineResource, typed: int | None) -> int | None:
    length = stored_duration(resource.file)
    if length is not None:
        return duration_seconds_of(length)
    if not typed:
        raise ValidationError({"duration_seconds": ["无法从文件中读取播放时长，请填写时长"]})
    return typed


@transaction.atomic
def resource_delete(*, actor: Actor, resource: OnlineResource) -> None:
    """Delete a resource that nobody has studied yet, with its file (after commit). A resource
    with progress rows is kept, since those rows are the sources of ledger lines and of what
    members see of their study: withdraw it with ``resource_unpublish`` instead."""
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    require(actor, "delete", resource.organization, app_label=APP, message="您无权删除该组织的学习资源")
    # Ledger lines of a resource name its progress rows (source_id), so no progress, no lines.
    usage = resource.progress.aggregate(learners=Count("pk"), completed=Count("completed_at"))
    if usage["learners"]:
        raise ValidationError(
            {
                "resource": [
                    f"已有{usage['learners']}名党员学习过该资源（{usage['completed']}人已学完并计入学时），"
                    "学习记录和学时须保留，不能删除。如不再使用，请下架：党员将看不到该资源，已计入的学时不变。"
                ]
            }
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=resource,
        changes={"before": snapshot(resource, AUDITED_RESOURCE_FIELDS)},
    )
    file = resource.file
    resource.delete()
    if file:
        # The stored file goes once the deletion has committed (a rollback keeps it).
        transaction.on_commit(partial(file.storage.delete, file.name))


def _set_published(actor: Actor, resource: OnlineResource, published: bool) -> OnlineResource:
    resource = OnlineResource.objects.select_for_update().select_related("organization").get(pk=resource.pk)
    require(actor, "change", resource.organization, app_label=APP, message=SCOPE_MESSAGE)
    if resource.is_published == published:
        return resource
    resource.is_published = published
    if published and resource.published_at is None:
        resource.published_at = timezone.now()
    resource.save(update_fields=["is_published", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=resource,
        changes={"is_published": [not published, published]},
        message="发布学习资源" if published else "撤回学习资源",
    )
    return resource


@transaction.atomic
def resource_publish(*, actor: Actor, resource: OnlineResource) -> OnlineResource:
    """Publish to the organisation's whole subtree."""
    return _set_published(actor, resource, True)


@transaction.atomic
def resource_unpublish(*, actor: Actor, resource: OnlineResource) -> OnlineResource:
    """Withdraw; hours already credited for completions stay."""
    return _set_published(actor, resource, False)

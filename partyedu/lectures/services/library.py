"""The lecture library (播党课): series, and lectures published as online study resources of the
learning app for an organisation's subtree, with their showing dates (展播)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require, scope_for
from partyedu.organizations.models import Organization, ancestor_paths

from ..models import Lecture, Lecturer, LectureSeries, LibraryItem
from ..selectors import lecture_list, lecturer_choices
from ._common import APP, _check_fields, _clean_strings, _resolve, _same_pk

SERIES_FIELDS = ("organization", "title", "description")
ITEM_FIELDS = ("series", "lecturer", "lecture", "honour", "show_from", "show_until", "sort_order")
AUDITED_ITEM_FIELDS = ("resource", *ITEM_FIELDS)
LIBRARY_KINDS = {".mp4": "video", ".webm": "video", ".mp3": "audio", ".m4a": "audio", ".pdf": "courseware"}


@transaction.atomic
def library_series_create(*, actor: Actor, data: dict[str, Any]) -> LectureSeries:
    """A series of the library (精品党课系列), owned by an organisation."""
    data = _clean_strings(dict(data))
    _check_fields(data, SERIES_FIELDS)
    org = _resolve(Organization.objects.all(), data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择出品组织"]})
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义建立党课系列")
    series = LectureSeries(
        organization=org, title=data.get("title") or "", description=data.get("description") or ""
    )
    if not series.title:
        raise ValidationError({"title": ["请填写系列名称"]})
    series.full_clean()
    series.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=series, changes={"after": snapshot(series, SERIES_FIELDS)}
    )
    return series


@transaction.atomic
def library_series_update(*, actor: Actor, series: LectureSeries, data: dict[str, Any]) -> LectureSeries:
    series = (
        LectureSeries.objects.select_for_update(of=("self",)).select_related("organization").get(pk=series.pk)
    )
    require(actor, "change", series.organization, app_label=APP, message="您无权修改该党课系列")
    data = _clean_strings(dict(data))
    _check_fields(data, SERIES_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), series.organization_id):
        raise ValidationError({"organization": ["出品组织不能修改"]})
    before = snapshot(series, SERIES_FIELDS)
    for name, value in data.items():
        setattr(series, name, value or "")
    if not series.title:
        raise ValidationError({"title": ["请填写系列名称"]})
    series.full_clean()
    series.save()
    changes = diff(before, snapshot(series, SERIES_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=series, changes=changes)
    return series


@transaction.atomic
def library_series_delete(*, actor: Actor, series: LectureSeries) -> None:
    """Delete a series; its items stay in the library, outside any series."""
    series = LectureSeries.objects.select_related("organization").get(pk=series.pk)
    require(actor, "delete", series.organization, app_label=APP, message="您无权删除该党课系列")
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=series,
        changes={"before": snapshot(series, SERIES_FIELDS)},
    )
    series.delete()


def _item_refs(actor: Actor, org: Organization, data: dict[str, Any]) -> dict[str, Any]:
    """Resolve and check the references of a library item shown to ``org``'s subtree: a series of
    the organisation or one above it (or in the actor's scope); a lecturer the actor may use; a
    lecture the actor may see."""
    out = dict(data)
    if "series" in data:
        series_qs = LectureSeries.objects.all()
        if actor is not None:
            series_qs = series_qs.filter(
                Q(organization__path__in=ancestor_paths(org.path))
                | scope_for(actor, "view", APP).q("organization__path")
            )
        out["series"] = _resolve(series_qs, data["series"], "series", "党课系列")
    if "lecturer" in data:
        choices = (
            Lecturer.objects.all()
            if actor is None
            else lecturer_choices(user=actor, organization=org, include_inactive=True)
        )
        out["lecturer"] = _resolve(choices, data["lecturer"], "lecturer", "讲师")
    if "lecture" in data:
        lectures = Lecture.objects.all() if actor is None else lecture_list(user=actor)
        out["lecture"] = _resolve(lectures, data["lecture"], "lecture", "党课")
    for name in ("honour",):
        if name in out and out[name] is None:
            out[name] = ""
    return out


def _item_errors(item: LibraryItem) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if item.show_from and item.show_until and item.show_until < item.show_from:
        errors["show_until"] = ["展播结束日期不能早于开始日期"]
    return errors


@transaction.atomic
def library_publish(  # noqa: PLR0913 - one keyword per field of the publishing form
    *,
    actor: Actor,
    organization: Organization,
    title: str = "",
    file: Any = None,
    resource: Any = None,
    series: Any = None,
    lecturer: Any = None,
    lecture: Any = None,
    honour: str = "",
    show_from: date | None = None,
    show_until: date | None = None,
    credit_hours: Any = Decimal("1"),
    duration_seconds: int | None = None,
    sort_order: int = 0,
) -> LibraryItem:
    """Publish a lecture to the library for ``organization``'s subtree: either a new file (a video,
    an audio recording or a PDF, made into a learning resource with ``resource_create``) or an
    existing ``resource`` (an OnlineResource of that organisation the actor may change). The
    resource is published, so studying it credits 网络学习 hours by the learning rules; the item
    carries its series, lecturer, lecture, honour (2026年全市优秀党课 …) and showing dates (展播).
    The actor needs ``lectures.add`` and ``learning.add`` over the organisation."""
    from partyedu.learning.models import OnlineResource
    from partyedu.learning.services import resource_create, resource_publish

    org = Organization.objects.get(pk=organization.pk)
    require(actor, "add", org, app_label=APP, message="您无权向该组织发布党课")
    refs = _item_refs(actor, org, {"series": series, "lecturer": lecturer, "lecture": lecture})
    item = LibraryItem(
        series=refs["series"],
        lecturer=refs["lecturer"],
        lecture=refs["lecture"],
        honour=(honour or "").strip(),
        show_from=show_from,
        show_until=show_until,
        sort_order=sort_order or 0,
    )
    errors = _item_errors(item)
    if bool(file) == (resource not in (None, "")):
        errors["file"] = ["请上传党课视频，或选择已有的学习资源（二者选一）"]
    if errors:
        raise ValidationError(errors)
    if file:
        if not (title or "").strip():
            raise ValidationError({"title": ["请填写标题"]})
        kind = LIBRARY_KINDS.get(PurePath((getattr(file, "name", "") or "").lower()).suffix)
        if kind is None:
            raise ValidationError({"file": ["党课只支持 MP4、WebM 视频，MP3、M4A 音频或 PDF 课件"]})
        made = resource_create(
            actor=actor,
            organization=org,
            title=title,
            kind=kind,
            file=file,
            duration_seconds=duration_seconds,
            credit_hours=credit_hours,
        )
    else:
        resources = (
            OnlineResource.objects.all()
            if actor is None
            else OnlineResource.objects.restrict(actor, "change")
        )
        found = _resolve(resources.select_related("organization"), resource, "resource", "学习资源")
        assert found is not None
        made = found
        if made.organization_id != org.pk:
            raise ValidationError({"resource": ["该学习资源由其他组织发布，展播范围须与其发布组织一致"]})
        if LibraryItem.objects.filter(resource=made).exists():
            raise ValidationError({"resource": ["该学习资源已在党课库中"]})
    item.resource = resource_publish(actor=actor, resource=made)
    item.full_clean()
    item.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=item,
        changes={"after": snapshot(item, AUDITED_ITEM_FIELDS), "organization": org.pk},
    )
    return item


@transaction.atomic
def library_item_update(*, actor: Actor, item: LibraryItem, data: dict[str, Any]) -> LibraryItem:
    """Change an item's series, lecturer, lecture, honour, showing dates or order."""
    item = (
        LibraryItem.objects.select_for_update(of=("self",))
        .select_related("resource__organization")
        .get(pk=item.pk)
    )
    org = item.resource.organization
    require(actor, "change", org, app_label=APP, message="您无权修改该党课库条目")
    data = _clean_strings(dict(data))
    _check_fields(data, ITEM_FIELDS)
    before = snapshot(item, AUDITED_ITEM_FIELDS)
    for name, value in _item_refs(actor, org, data).items():
        setattr(item, name, value)
    if item.sort_order is None:
        item.sort_order = 0
    errors = _item_errors(item)
    if errors:
        raise ValidationError(errors)
    item.full_clean()
    item.save()
    changes = diff(before, snapshot(item, AUDITED_ITEM_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=item, changes=changes)
    return item


@transaction.atomic
def library_item_withdraw(*, actor: Actor, item: LibraryItem) -> LibraryItem:
    """Take an item off the library: its resource is withdrawn (hours already credited stay)."""
    from partyedu.learning.services import resource_unpublish

    item = LibraryItem.objects.select_related("resource__organization").get(pk=item.pk)
    require(actor, "change", item.resource.organization, app_label=APP, message="您无权修改该党课库条目")
    resource_unpublish(actor=actor, resource=item.resource)
    item.refresh_from_db()
    return item


@transaction.atomic
def library_item_republish(*, actor: Actor, item: LibraryItem) -> LibraryItem:
    from partyedu.learning.services import resource_publish

    item = LibraryItem.objects.select_related("resource__organization").get(pk=item.pk)
    require(actor, "change", item.resource.organization, app_label=APP, message="您无权修改该党课库条目")
    resource_publish(actor=actor, resource=item.resource)
    item.refresh_from_db()
    return item

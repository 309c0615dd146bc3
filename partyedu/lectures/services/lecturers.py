"""The lecturer pool (师资库) of each organisation, with expertise tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.choices import MemberCategory
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..choices import LecturerCategory
from ..models import ExpertiseTag, Lecturer
from ..summaries import lectures_sync
from ._common import APP, _check_fields, _clean_strings, _lock, _resolve, _same_pk

MAX_TAGS = 10
LECTURER_FIELDS = ("organization", "member", "name", "category", "unit", "title", "tags", "bio")
AUDITED_LECTURER_FIELDS = ("organization", "member", "name", "category", "unit", "title", "bio", "is_active")


def category_of_member(member: Member) -> str:
    """The pool category a member lecturer starts with, from their member categories."""
    categories = set(member.categories or [])
    if MemberCategory.LEADER in categories:
        return LecturerCategory.LEADER
    if MemberCategory.SECRETARY in categories:
        return LecturerCategory.SECRETARY
    return LecturerCategory.MEMBER


def _resolve_tags(values: Iterable[Any] | None) -> list[ExpertiseTag]:
    """Tags given as instances, ids (int) or names (str); unknown names become new tags."""
    tags: dict[int, ExpertiseTag] = {}
    names: list[str] = []
    for value in values or []:
        if isinstance(value, ExpertiseTag):
            tags[value.pk] = value
        elif isinstance(value, int):
            tag = ExpertiseTag.objects.filter(pk=value).first()
            if tag is None:
                raise ValidationError({"tags": [f"专长标签不存在：{value}"]})
            tags[tag.pk] = tag
        else:
            name = str(value).strip()
            if not name:
                continue
            if len(name) > 30:
                raise ValidationError({"tags": [f"专长“{name[:10]}…”太长，每个专长不超过30个字"]})
            names.append(name)
    for name in dict.fromkeys(names):
        tag, _created = ExpertiseTag.objects.get_or_create(name=name)
        tags[tag.pk] = tag
    if len(tags) > MAX_TAGS:
        raise ValidationError({"tags": [f"专长最多填写{MAX_TAGS}个"]})
    return list(tags.values())


def _lecturer_errors(lecturer: Lecturer) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not lecturer.name:
        errors["name"] = ["请填写讲师姓名，或选择对应的党员"]
    if lecturer.category not in LecturerCategory.values:
        errors["category"] = ["请选择讲师类别"]
    return errors


@transaction.atomic
def lecturer_create(*, actor: Actor, data: dict[str, Any]) -> Lecturer:
    """Add a lecturer to an organisation's pool (师资库): a member of the system (``member``, an id
    the actor may see; the name is then the member's, and the category follows the member's
    categories unless given), or an outside person (``name`` and ``category``). ``tags`` are
    expertise names (new ones are created) or tag ids."""
    data = _clean_strings(dict(data))
    _check_fields(data, LECTURER_FIELDS)
    tags = data.pop("tags", None)
    org = _resolve(Organization.objects.all(), data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择师资库所属组织"]})
    require(actor, "add", org, app_label=APP, message="您无权管理该组织的师资库")
    if not org.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})
    members = Member.objects.all() if actor is None else Member.objects.restrict(actor, "view")
    member = _resolve(members.select_related("organization"), data.pop("member", None), "member", "党员")
    lecturer = Lecturer(organization=org, member=member)
    for name, value in data.items():
        setattr(lecturer, name, "" if value is None and name != "category" else value)
    if member is not None:
        if not member.is_active:
            raise ValidationError({"member": ["该党员已离册"]})
        lecturer.name = member.name
        if not data.get("category"):
            lecturer.category = category_of_member(member)
        if Lecturer.objects.filter(organization=org, member=member).exists():
            raise ValidationError({"member": [f"{member.name}已在{org.name}的师资库中"]})
    elif not data.get("category"):
        lecturer.category = LecturerCategory.OTHER
    errors = _lecturer_errors(lecturer)
    if errors:
        raise ValidationError(errors)
    tag_rows = _resolve_tags(tags)
    lecturer.full_clean()
    lecturer.save()
    lecturer.tags.set(tag_rows)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=lecturer,
        changes={
            "after": snapshot(lecturer, AUDITED_LECTURER_FIELDS),
            "tags": sorted(t.name for t in tag_rows),
        },
    )
    return lecturer


@transaction.atomic
def lecturer_update(*, actor: Actor, lecturer: Lecturer, data: dict[str, Any]) -> Lecturer:
    """Change a lecturer's category, unit, title (金牌讲师 …), expertise tags and introduction; an
    outside person's name too. The pool and the member a lecturer stands for are fixed: their
    record of lectures hangs on them."""
    lecturer = _lock(Lecturer, lecturer.pk)
    require(actor, "change", lecturer.organization, app_label=APP, message="您无权修改该师资库的讲师")
    data = _clean_strings(dict(data))
    _check_fields(data, LECTURER_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), lecturer.organization_id):
        raise ValidationError({"organization": ["讲师所属师资库不能修改"]})
    if "member" in data and not _same_pk(data.pop("member"), lecturer.member_id):
        raise ValidationError({"member": ["讲师对应的党员不能修改，如有错误请另行添加"]})
    if lecturer.member_id is not None and "name" in data and data.pop("name") != lecturer.name:
        raise ValidationError({"name": ["党员讲师的姓名随党员档案，不能在此修改"]})
    tags = data.pop("tags", None)
    before = snapshot(lecturer, AUDITED_LECTURER_FIELDS)
    old_tags = sorted(lecturer.tags.values_list("name", flat=True))
    for name, value in data.items():
        setattr(lecturer, name, "" if value is None else value)
    errors = _lecturer_errors(lecturer)
    if errors:
        raise ValidationError(errors)
    lecturer.full_clean()
    lecturer.save()
    changes: dict[str, Any] = diff(before, snapshot(lecturer, AUDITED_LECTURER_FIELDS))
    if "category" in changes:
        lectures_sync(lecture_ids=lecturer.speakings.values_list("lecture_id", flat=True))
    if tags is not None:
        tag_rows = _resolve_tags(tags)
        lecturer.tags.set(tag_rows)
        new_tags = sorted(t.name for t in tag_rows)
        if new_tags != old_tags:
            changes["tags"] = [old_tags, new_tags]
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=lecturer, changes=changes)
    return lecturer


def _set_lecturer_active(actor: Actor, lecturer: Lecturer, active: bool) -> Lecturer:
    lecturer = _lock(Lecturer, lecturer.pk)
    require(actor, "change", lecturer.organization, app_label=APP, message="您无权修改该师资库的讲师")
    if lecturer.is_active == active:
        return lecturer
    lecturer.is_active = active
    lecturer.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=lecturer,
        changes={"is_active": [not active, active]},
        message="讲师重新入库" if active else "讲师移出师资库",
    )
    return lecturer


@transaction.atomic
def lecturer_deactivate(*, actor: Actor, lecturer: Lecturer) -> Lecturer:
    """Take a lecturer out of the pool: they are no longer offered for new lectures or topics; the
    lectures they gave and their record stay."""
    return _set_lecturer_active(actor, lecturer, False)


@transaction.atomic
def lecturer_activate(*, actor: Actor, lecturer: Lecturer) -> Lecturer:
    """Put a lecturer taken out of the pool back in."""
    return _set_lecturer_active(actor, lecturer, True)

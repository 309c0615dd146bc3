"""Writes to lectures: the lecturer pool, lectures given at 党课 activities with their speakers and
materials, attendees' ratings, the "大家讲" rotation of a branch, topic calls with their proposals and
assigned topics (点题), the lecture library (播党课), and the xlsx exports of the statistics pages.

Every service runs in one transaction, validates everything before it writes, checks the actor's
``lectures.<action>`` scope on the organisation it writes to (``PermissionDenied``), raises
``ValidationError({field: [中文]})`` for bad input — an id the actor may not use is answered like an
id that does not exist — and writes its audit row in the same transaction. ``actor=None`` is the
system (commands, demo seed) and passes every scope check.

Rules encoded here (see docs/lectures.md):

- A lecture belongs to an activity of type 党课; its time, place and attendees are the activity's.
- 交叉讲党课: a speaker is "cross" when they are a member categorised 基层党组织书记 or 领导干部 and the
  activity's organisation lies outside their own branch's subtree (a member registered in a party
  group counts as belonging to the group's branch). Decided when the speaker is added.
- Ratings: only an attendee (出席, 迟到, confirmed 补学) rates, 1–5 with an optional comment, once
  (rating again changes their own rating); a speaker does not rate their own lecture. Nobody is
  ever shown who gave which rating (the audit row does not carry the score or the comment).
- Rotation: members who have lectured least (rotation weeks + lectures given) go first, ties by
  name then id; nobody lectures twice before everyone has lectured once; exempt members (年老体弱)
  are left out unless asked for.
- Statistics: every service that changes what the statistics count (a lecture, its speakers, its
  ratings, a lecturer's category) ends with ``summaries.lectures_sync`` in its transaction, which
  keeps the summary rows the statistics pages read (``summaries`` says how).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import PurePath
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import EXPORT_PROGRESS_EVERY
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.scope import path_in, subtree_q, user_scope
from partyedu.members.choices import PARTY_STATUSES, MemberCategory
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.organizations.services import ancestor_paths
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity

from .choices import CallStatus, LectureFileKind, LecturerCategory, LectureType, TaskStatus
from .models import (
    ExpertiseTag,
    Lecture,
    LectureFile,
    Lecturer,
    LectureRating,
    LectureSeries,
    LectureSpeaker,
    LibraryItem,
    Rotation,
    RotationSlot,
    TopicCall,
    TopicProposal,
    TopicTask,
)
from .selectors import (
    DUTY_CATEGORIES,
    lecture_duty,
    lecture_list,
    lecture_stats,
    lecturer_choices,
    rating_member,
    rating_refusal,
)
from .summaries import lectures_sync

APP = "lectures"
M = TypeVar("M", bound=models.Model)

# --- shared helpers ------------------------------------------------------------------------------


def _user(actor: Any) -> Any:
    """The actor as a value for a user foreign key (None for the system or an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _paths(actor: Any, action: str) -> tuple[str, ...]:
    return user_scope(actor, action, APP).paths


def _require_org(actor: Any, action: str, org: Organization, message: str) -> None:
    if actor is None:
        return
    if not path_in(org.path, _paths(actor, action)):
        raise PermissionDenied(message)


def _resolve(qs: models.QuerySet[M], value: Any, field_name: str, label: str) -> M | None:
    """An instance of ``qs`` given as itself or by primary key; anything else (unknown, or outside
    what the actor may use) is the same field error, so ids cannot be probed."""
    if value is None or value == "":
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return qs.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise ValidationError({field_name: [f"{label}不存在或不在您的管理范围内"]}) from None


def _ids(values: Iterable[Any] | None, field_name: str, label: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        pk = value.pk if isinstance(value, models.Model) else value
        try:
            out.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError({field_name: [f"无效的{label}编号：{value}"]}) from None
    return list(dict.fromkeys(out))


def _check_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})


def _clean_strings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _same_pk(value: Any, current: int | None) -> bool:
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return (None if pk in (None, "") else int(pk)) == current
    except (TypeError, ValueError):
        return False


def _lock(model: type[M], pk: Any) -> M:
    return model._default_manager.select_for_update(of=("self",)).get(pk=pk)


# --- expertise tags and the lecturer pool --------------------------------------------------------

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
def lecturer_create(*, actor: Any, data: dict[str, Any]) -> Lecturer:
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
    _require_org(actor, "add", org, "您无权管理该组织的师资库")
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
def lecturer_update(*, actor: Any, lecturer: Lecturer, data: dict[str, Any]) -> Lecturer:
    """Change a lecturer's category, unit, title (金牌讲师 …), expertise tags and introduction; an
    outside person's name too. The pool and the member a lecturer stands for are fixed: their
    record of lectures hangs on them."""
    lecturer = _lock(Lecturer, lecturer.pk)
    _require_org(actor, "change", lecturer.organization, "您无权修改该师资库的讲师")
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


def _set_lecturer_active(actor: Any, lecturer: Lecturer, active: bool) -> Lecturer:
    lecturer = _lock(Lecturer, lecturer.pk)
    _require_org(actor, "change", lecturer.organization, "您无权修改该师资库的讲师")
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
def lecturer_deactivate(*, actor: Any, lecturer: Lecturer) -> Lecturer:
    """Take a lecturer out of the pool: they are no longer offered for new lectures or topics; the
    lectures they gave and their record stay."""
    return _set_lecturer_active(actor, lecturer, False)


@transaction.atomic
def lecturer_activate(*, actor: Any, lecturer: Lecturer) -> Lecturer:
    """Put a lecturer taken out of the pool back in."""
    return _set_lecturer_active(actor, lecturer, True)


# --- lecture records -----------------------------------------------------------------------------

MB = 1024 * 1024
MAX_FILES = 10
# Per kind of material: accepted extensions with a check of the file's first bytes, and a size
# limit. A renamed file (a .exe called .pptx) is refused by the content check.
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Office container (.ppt, .doc, .wps)
ZIP = b"PK\x03\x04"  # the OOXML/ODF container (.pptx, .docx, .odp, .odt)
MAGIC: dict[str, Any] = {
    ".pdf": lambda head: head[:5] == b"%PDF-",
    ".ppt": lambda head: head[:8] == OLE,
    ".doc": lambda head: head[:8] == OLE,
    ".wps": lambda head: head[:8] == OLE,
    ".pptx": lambda head: head[:4] == ZIP,
    ".docx": lambda head: head[:4] == ZIP,
    ".odp": lambda head: head[:4] == ZIP,
    ".odt": lambda head: head[:4] == ZIP,
    ".txt": lambda head: b"\x00" not in head,
    ".mp4": lambda head: head[4:8] == b"ftyp",
    ".webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
}
FILE_RULES: dict[str, tuple[tuple[str, ...], int, str]] = {
    LectureFileKind.SLIDES: ((".pptx", ".ppt", ".pdf", ".odp"), 100 * MB, "PPT、PPTX、PDF、ODP"),
    LectureFileKind.SCRIPT: (
        (".docx", ".doc", ".pdf", ".txt", ".wps", ".odt"),
        20 * MB,
        "Word、WPS、PDF、TXT",
    ),
    LectureFileKind.VIDEO: ((".mp4", ".webm"), 2048 * MB, "MP4、WebM"),
}
LECTURE_FIELDS = ("title", "lecture_type", "lecturers", "summary", "task", "files", "remove_files")
AUDITED_LECTURE_FIELDS = ("activity", "title", "lecture_type", "task")


@dataclass(frozen=True)
class UploadedMaterial:
    """A file of a lecture as the services take it."""

    kind: str
    file: Any


def validate_lecture_file(kind: str, file: Any) -> None:
    """A slide deck, script or video of an accepted format, by name and by content, within the
    size limit. Messages name the file."""
    if kind not in FILE_RULES:
        raise ValidationError({"files": ["请选择资料类型（课件、讲稿或视频）"]})
    extensions, limit, formats = FILE_RULES[kind]
    name = PurePath(getattr(file, "name", "") or "").name
    label = LectureFileKind(kind).label
    extension = PurePath(name.lower()).suffix
    if extension not in extensions:
        raise ValidationError({"files": [f"“{name}”：{label}只支持{formats}格式"]})
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError({"files": [f"“{name}”超过{limit // MB}MB，请压缩后再上传"]})
    if size == 0:
        raise ValidationError({"files": [f"“{name}”是空文件"]})
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(512)
    if hasattr(file, "seek"):
        file.seek(0)
    if not head or not MAGIC[extension](head):
        raise ValidationError({"files": [f"“{name}”的内容不是有效的{extension[1:].upper()}文件"]})


def _materials(values: Iterable[Any] | None) -> list[UploadedMaterial]:
    out = []
    for value in values or []:
        if isinstance(value, UploadedMaterial):
            item = value
        elif isinstance(value, dict):
            item = UploadedMaterial(kind=value.get("kind", ""), file=value.get("file"))
        else:
            kind, file = value
            item = UploadedMaterial(kind=kind, file=file)
        if item.file:
            validate_lecture_file(item.kind, item.file)
            out.append(item)
    return out


def home_branch_path(member: Member) -> str:
    """The subtree a member belongs to for cross-lecturing: their organisation, or the branch
    above when they are registered in a party group (a group is part of its branch)."""
    org = member.organization
    if org.level == OrgLevel.GROUP and len(org.path) > SEGMENT_WIDTH:
        return org.path[:-SEGMENT_WIDTH]
    return org.path


def is_cross_lecture(lecturer: Lecturer, activity_org_path: str) -> bool:
    """交叉讲党课: a member who is a secretary or a leading cadre, lecturing at an activity of an
    organisation outside their own branch's subtree. Outside people never count."""
    member = lecturer.member
    if member is None or not set(member.categories or []) & set(DUTY_CATEGORIES):
        return False
    return not activity_org_path.startswith(home_branch_path(member))


def _speakers(actor: Any, activity: Activity, values: Any, current: set[int]) -> list[Lecturer]:
    """The lecturers named for a lecture: at least one; each usable by the actor for the activity's
    organisation (their pools, or pools above it) and still in the pool unless already a speaker."""
    ids = _ids(values, "lecturers", "讲师")
    if not ids:
        raise ValidationError({"lecturers": ["请选择主讲人"]})
    qs = (
        Lecturer.objects.all()
        if actor is None
        else lecturer_choices(user=actor, organization=activity.organization, include_inactive=True)
    )
    found = {
        lecturer.pk: lecturer for lecturer in qs.filter(pk__in=ids).select_related("member__organization")
    }
    errors = []
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        errors.append(f"以下讲师不存在或不在您的管理范围内：ID {'、'.join(unknown)}")
    retired = [found[pk].name for pk in ids if pk in found and not found[pk].is_active and pk not in current]
    if retired:
        errors.append(f"以下讲师已移出师资库：{'、'.join(retired)}")
    if errors:
        raise ValidationError({"lecturers": errors})
    return [found[pk] for pk in ids]


def _task(actor: Any, value: Any, current: int | None) -> TopicTask | None:
    if value in (None, ""):
        return None
    qs = TopicTask.objects.all() if actor is None else TopicTask.objects.restrict(actor, "view")
    task = _resolve(qs.select_related("proposal"), value, "task", "点题任务")
    if task is not None and task.pk != current and task.status != TaskStatus.ASSIGNED:
        raise ValidationError(
            {"task": [f"点题任务“{task.proposal.title}”{task.get_status_display()}，不能再对应新的党课"]}
        )
    return task


def _task_done(task_id: int | None) -> None:
    if task_id:
        TopicTask.objects.filter(pk=task_id, status=TaskStatus.ASSIGNED).update(
            status=TaskStatus.DONE, updated_at=timezone.now()
        )


def _task_undone(task_id: int | None, lecture_id: int) -> None:
    """A task no lecture fulfils any more goes back to being assigned."""
    if task_id and not Lecture.objects.filter(task_id=task_id).exclude(pk=lecture_id).exists():
        TopicTask.objects.filter(pk=task_id, status=TaskStatus.DONE).update(
            status=TaskStatus.ASSIGNED, updated_at=timezone.now()
        )


def _apply_lecture(lecture: Lecture, data: dict[str, Any]) -> None:
    for name in ("title", "lecture_type", "summary"):
        if name in data:
            setattr(lecture, name, data[name] if data[name] is not None else "")
    errors: dict[str, list[str]] = {}
    if not lecture.title:
        errors["title"] = ["请填写党课题目"]
    if lecture.lecture_type not in LectureType.values:
        errors["lecture_type"] = ["请选择党课类型"]
    if errors:
        raise ValidationError(errors)


def _save_files(lecture: Lecture, items: Sequence[UploadedMaterial]) -> list[LectureFile]:
    rows = []
    for item in items:
        row = LectureFile(
            lecture=lecture,
            kind=item.kind,
            file=item.file,
            name=PurePath(getattr(item.file, "name", "") or "").name[:200],
        )
        row.full_clean(exclude=["lecture"])
        row.save()
        rows.append(row)
    return rows


def lecture_activity_lock(activity: Activity | int) -> Activity:
    pk = activity.pk if isinstance(activity, Activity) else activity
    return Activity.objects.select_for_update(of=("self",)).select_related("organization").get(pk=pk)


@transaction.atomic
def lecture_record(*, actor: Any, activity: Activity, data: dict[str, Any]) -> Lecture:
    """Record the lecture given at a 党课 activity: ``title``, ``lecture_type``, ``lecturers`` (one
    or more Lecturer ids usable by the actor), ``summary``, an optional ``task`` (a TopicTask the
    lecture fulfils; it is marked done) and ``files`` (``UploadedMaterial`` or ``{"kind", "file"}``
    items: slides, script, video). Each speaker's ``is_cross`` is decided now."""
    activity = lecture_activity_lock(activity)
    _require_org(actor, "add", activity.organization, "您无权为该组织登记党课")
    if activity.activity_type != ActivityType.PARTY_LECTURE:
        label = ActivityType(activity.activity_type).label
        raise ValidationError({"activity": [f"只有“党课”类型的活动才能登记党课，该活动的类型是“{label}”"]})
    if Lecture.objects.filter(activity=activity).exists():
        raise ValidationError({"activity": ["该活动已登记党课，请在原记录上修改"]})
    data = _clean_strings(dict(data))
    _check_fields(data, LECTURE_FIELDS)
    data.pop("remove_files", None)
    lecture = Lecture(
        activity=activity,
        organization=activity.organization,
        start=activity.start,
        lecture_type=data.get("lecture_type") or LectureType.STANDARD,
    )
    _apply_lecture(lecture, data)
    speakers = _speakers(actor, activity, data.get("lecturers"), set())
    task = _task(actor, data.get("task"), None)
    files = _materials(data.get("files"))
    if len(files) > MAX_FILES:
        raise ValidationError({"files": [f"每次党课最多上传{MAX_FILES}个资料"]})
    lecture.task = task
    lecture.full_clean()
    lecture.save()
    path = activity.organization.path
    LectureSpeaker.objects.bulk_create(
        [LectureSpeaker(lecture=lecture, lecturer=s, is_cross=is_cross_lecture(s, path)) for s in speakers]
    )
    _save_files(lecture, files)
    _task_done(lecture.task_id)
    lectures_sync(lecture_ids=[lecture.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=lecture,
        changes={
            "after": snapshot(lecture, AUDITED_LECTURE_FIELDS),
            "lecturers": [s.pk for s in speakers],
            "files": len(files),
        },
    )
    return lecture


@transaction.atomic
def lecture_update(*, actor: Any, lecture: Lecture, data: dict[str, Any]) -> Lecture:
    """Change a lecture. ``lecturers``, when given, replaces the speakers (a speaker kept keeps the
    cross flag decided when they were added); ``files`` are added and ``remove_files`` (ids of this
    lecture's files) removed, the stored files once the change has committed. Changing the task
    puts the old one back to 已点题 unless another lecture fulfils it."""
    activity = lecture_activity_lock(lecture.activity_id)
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    _require_org(actor, "change", activity.organization, "您无权修改该组织的党课")
    data = _clean_strings(dict(data))
    _check_fields(data, LECTURE_FIELDS)
    before = snapshot(lecture, AUDITED_LECTURE_FIELDS)
    old_summary = lecture.summary
    _apply_lecture(lecture, data)
    current = {s.lecturer_id: s for s in lecture.speakers.all()}
    speakers = _speakers(actor, activity, data["lecturers"], set(current)) if "lecturers" in data else None
    old_task = lecture.task_id
    if "task" in data:
        lecture.task = _task(actor, data["task"], old_task)
    files = _materials(data.get("files"))
    remove_ids = _ids(data.get("remove_files"), "remove_files", "资料")
    removed = list(LectureFile.objects.filter(lecture=lecture, pk__in=remove_ids))
    kept = LectureFile.objects.filter(lecture=lecture).exclude(pk__in=remove_ids).count()
    if kept + len(files) > MAX_FILES:
        raise ValidationError({"files": [f"每次党课最多保存{MAX_FILES}个资料，已有{kept}个"]})
    lecture.full_clean()
    lecture.save()
    changes: dict[str, Any] = diff(before, snapshot(lecture, AUDITED_LECTURE_FIELDS))
    if lecture.summary != old_summary:
        changes["summary"] = ["…", "…"]
    if speakers is not None:
        wanted = {s.pk for s in speakers}
        gone = [pk for pk in current if pk not in wanted]
        new = [s for s in speakers if s.pk not in current]
        if gone:
            LectureSpeaker.objects.filter(lecture=lecture, lecturer_id__in=gone).delete()
        path = activity.organization.path
        LectureSpeaker.objects.bulk_create(
            [LectureSpeaker(lecture=lecture, lecturer=s, is_cross=is_cross_lecture(s, path)) for s in new]
        )
        if gone or new:
            changes["lecturers"] = {"added": [s.pk for s in new], "removed": gone}
    for old in removed:
        transaction.on_commit(partial(old.file.storage.delete, old.file.name))
        old.delete()
    _save_files(lecture, files)
    if files or removed:
        changes["files"] = {"added": len(files), "removed": len(removed)}
    if lecture.task_id != old_task:
        _task_undone(old_task, lecture.pk)
        _task_done(lecture.task_id)
    lectures_sync(lecture_ids=[lecture.pk])
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=lecture, changes=changes)
    return lecture


@transaction.atomic
def lecture_delete(*, actor: Any, lecture: Lecture) -> None:
    """Delete a lecture record with its speakers, materials and ratings (the activity stays). A
    task it fulfilled goes back to 已点题."""
    activity = lecture_activity_lock(lecture.activity_id)
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    _require_org(actor, "delete", activity.organization, "您无权删除该组织的党课")
    files = [(f.file.storage, f.file.name) for f in lecture.files.all()]
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=lecture,
        changes={
            "before": snapshot(lecture, AUDITED_LECTURE_FIELDS),
            "lecturers": list(lecture.speakers.values_list("lecturer_id", flat=True)),
            "ratings": lecture.ratings.count(),
        },
    )
    task_id, pk = lecture.task_id, lecture.pk
    lecture.delete()
    _task_undone(task_id, pk)
    lectures_sync(lecture_ids=[pk])
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))


# --- ratings -------------------------------------------------------------------------------------

MAX_COMMENT = 500


@transaction.atomic
def lecture_rate(*, actor: Any, lecture: Lecture, score: Any, comment: str = "") -> LectureRating:
    """The signed-in member rates a lecture they attended: ``score`` 1–5 and an optional comment.
    Rating again replaces their own rating. Ratings of one lecture are serialised by a lock on the
    lecture row. The audit row says that a rating was given, not what it said."""
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    refusal = rating_refusal(rating_member(actor), lecture)
    if refusal:
        raise PermissionDenied(refusal)
    member = rating_member(actor)
    assert member is not None  # checked by rating_refusal
    errors: dict[str, list[str]] = {}
    try:
        value = int(score)
        if str(score).strip() not in (str(value), f"{value}.0"):
            raise ValueError
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = ["请评1到5分"]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"评语不能超过{MAX_COMMENT}字"]
    if errors:
        raise ValidationError(errors)
    rating = LectureRating.objects.filter(lecture=lecture, member=member).first()
    created = rating is None
    if rating is None:
        rating = LectureRating(lecture=lecture, member=member)
    elif rating.score == value and rating.comment == comment:
        return rating
    old_score = None if created else rating.score
    rating.score, rating.comment = value, comment
    rating.full_clean()
    rating.save()
    if rating.score != old_score:
        lectures_sync(lecture_ids=[lecture.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=lecture,
        message="评价党课" if created else "修改党课评价",
    )
    return rating


# --- "支部党课大家讲" rotation ---------------------------------------------------------------------

MAX_WEEKS = 52
ROTATION_LEVELS = (OrgLevel.BRANCH, OrgLevel.GENERAL_BRANCH, OrgLevel.GROUP)


def _rotation_pool(
    actor: Any, organization: Organization, members: Iterable[Any] | None, include_exempt: bool
) -> list[Member]:
    """The members to rotate: the given ones (each active, in the organisation's subtree and
    visible to the actor), else the party members (full and probationary) of the subtree, without
    the exempt unless ``include_exempt``."""
    in_subtree = Member.objects.filter(subtree_q("org_path", [organization.path]), is_active=True)
    if members is not None:
        ids = _ids(members, "members", "党员")
        visible = (
            in_subtree if actor is None else in_subtree.filter(pk__in=Member.objects.restrict(actor, "view"))
        )
        found = {m.pk: m for m in visible.filter(pk__in=ids)}
        refused = [str(pk) for pk in ids if pk not in found]
        if refused:
            raise ValidationError(
                {"members": [f"以下党员不存在、已离册或不在本组织及您的管理范围内：ID {'、'.join(refused)}"]}
            )
        pool = [found[pk] for pk in ids]
    else:
        qs = in_subtree.filter(status__in=PARTY_STATUSES)
        if not include_exempt:
            qs = qs.filter(is_exempt=False)
        pool = list(qs)
    if not pool:
        raise ValidationError({"members": ["没有可以安排主讲的党员"]})
    return pool


def _lecture_load(member_ids: list[int], exclude_slots: Iterable[int] = ()) -> dict[int, int]:
    """How often each member has lectured: weeks of rotations (other than the excluded slots) plus
    lectures given. Two grouped queries."""
    load = dict.fromkeys(member_ids, 0)
    slots = (
        RotationSlot.objects.filter(member_id__in=member_ids)
        .exclude(pk__in=list(exclude_slots))
        .values("member_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in slots:
        load[row["member_id"]] += row["n"]
    given = (
        LectureSpeaker.objects.filter(lecturer__member_id__in=member_ids)
        .values("lecturer__member_id")
        .annotate(n=Count("lecture", distinct=True))
        .order_by()
    )
    for row in given:
        load[row["lecturer__member_id"]] += row["n"]
    return load


def fair_order(pool: list[Member], load: dict[int, int]) -> list[Member]:
    """Least lectured first; ties by name, then id. Sorted here rather than by the database, so
    that the order does not depend on the database's collation of Chinese names."""
    return sorted(pool, key=lambda m: (load.get(m.pk, 0), m.name, m.pk))


def _topics(values: Iterable[Any] | None, weeks: int) -> list[str]:
    topics = [str(t).strip() for t in values or [] if str(t).strip()]
    if not topics:
        raise ValidationError({"topics": ["请至少填写一个主题"]})
    if len(topics) > weeks:
        raise ValidationError({"topics": [f"主题有{len(topics)}个，多于周数（{weeks}周）"]})
    too_long = [t[:10] for t in topics if len(t) > 200]
    if too_long:
        raise ValidationError({"topics": [f"主题“{too_long[0]}…”太长，不超过200字"]})
    return topics


@transaction.atomic
def rotation_generate(
    *,
    actor: Any,
    organization: Organization,
    title: str,
    start_date: date,
    weeks: int,
    topics: Sequence[str],
    members: Iterable[Any] | None = None,
    include_exempt: bool = False,
) -> Rotation:
    """Generate a "支部党课大家讲" rotation of a branch (or general branch, or party group): one slot
    a week from ``start_date`` for ``weeks`` weeks, topics in turn (repeated when fewer than the
    weeks), and a member for each week, fairly: members who have lectured least so far (in
    rotations and lectures given) go first, ties by name then id, and nobody lectures twice before
    everyone has once. ``members`` (ids) limits the pool; by default it is the subtree's party
    members without the exempt (年老体弱, unless ``include_exempt``)."""
    org = Organization.objects.get(pk=organization.pk)
    _require_org(actor, "add", org, "您无权为该组织安排党课轮讲")
    errors: dict[str, list[str]] = {}
    if not org.is_active:
        errors["organization"] = ["该党组织已撤销"]
    elif org.level not in ROTATION_LEVELS:
        errors["organization"] = ["轮讲由党支部、党总支或党小组安排"]
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写名称"]
    if not isinstance(start_date, date):
        errors["start_date"] = ["请填写首次日期"]
    try:
        weeks = int(weeks)
    except (TypeError, ValueError):
        weeks = 0
    if not 1 <= weeks <= MAX_WEEKS:
        errors["weeks"] = [f"周数应在1到{MAX_WEEKS}之间"]
    if errors:
        raise ValidationError(errors)
    topic_list = _topics(topics, weeks)
    pool = _rotation_pool(actor, org, members, include_exempt)
    order = fair_order(pool, _lecture_load([m.pk for m in pool]))
    rotation = Rotation(
        organization=org, title=title, start_date=start_date, weeks=weeks, created_by=_user(actor)
    )
    rotation.full_clean()
    rotation.save()
    slots = [
        RotationSlot(
            rotation=rotation,
            date=start_date + timedelta(weeks=week),
            topic=topic_list[week % len(topic_list)],
            member=order[week % len(order)],
        )
        for week in range(weeks)
    ]
    RotationSlot.objects.bulk_create(slots)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=rotation,
        changes={
            "after": snapshot(rotation, ("organization", "title", "start_date", "weeks")),
            "slots": [[s.date.isoformat(), s.member_id] for s in slots],
        },
    )
    return rotation


@transaction.atomic
def rotation_regenerate(
    *,
    actor: Any,
    rotation: Rotation,
    members: Iterable[Any] | None = None,
    include_exempt: bool = False,
    from_date: date | None = None,
) -> Rotation:
    """Assign the weeks from ``from_date`` (default today) afresh, by the same fair order, e.g.
    after members joined or left the branch. Earlier weeks, dates and topics stay."""
    rotation = (
        Rotation.objects.select_for_update(of=("self",)).select_related("organization").get(pk=rotation.pk)
    )
    _require_org(actor, "change", rotation.organization, "您无权修改该组织的党课轮讲")
    from_date = from_date or timezone.localdate()
    slots = list(rotation.slots.filter(date__gte=from_date).order_by("date", "id"))
    if not slots:
        raise ValidationError({"rotation": ["该轮讲已没有尚未到期的安排"]})
    pool = _rotation_pool(actor, rotation.organization, members, include_exempt)
    order = fair_order(pool, _lecture_load([m.pk for m in pool], exclude_slots=[s.pk for s in slots]))
    log = {}
    for index, slot in enumerate(slots):
        member = order[index % len(order)]
        if slot.member_id != member.pk:
            log[slot.date.isoformat()] = [slot.member_id, member.pk]
            slot.member = member
    RotationSlot.objects.bulk_update(slots, ["member", "updated_at"])
    if log:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rotation,
            changes={"slots": log},
            message="重新安排轮讲",
        )
    return rotation


@transaction.atomic
def rotation_slot_replace(
    *, actor: Any, slot: RotationSlot, member: Any, topic: str | None = None
) -> RotationSlot:
    """Give one week to another member (an active member of the rotation's subtree whom the actor
    may see), and optionally change its topic."""
    slot = (
        RotationSlot.objects.select_for_update(of=("self",))
        .select_related("rotation__organization")
        .get(pk=slot.pk)
    )
    org = slot.rotation.organization
    _require_org(actor, "change", org, "您无权修改该组织的党课轮讲")
    new = _rotation_pool(actor, org, [member], include_exempt=True)[0]
    changes: dict[str, Any] = {}
    if new.pk != slot.member_id:
        changes["member"] = [slot.member_id, new.pk]
        slot.member = new
    if topic is not None:
        topic = topic.strip()
        if not topic:
            raise ValidationError({"topic": ["请填写主题"]})
        if topic != slot.topic:
            changes["topic"] = [slot.topic, topic]
            slot.topic = topic
    if changes:
        slot.full_clean()
        slot.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=slot.rotation,
            changes={slot.date.isoformat(): changes},
            message="调整轮讲安排",
        )
    return slot


@transaction.atomic
def rotation_delete(*, actor: Any, rotation: Rotation) -> None:
    rotation = Rotation.objects.select_related("organization").get(pk=rotation.pk)
    _require_org(actor, "delete", rotation.organization, "您无权删除该组织的党课轮讲")
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=rotation,
        changes={"before": snapshot(rotation, ("organization", "title", "start_date", "weeks"))},
    )
    rotation.delete()


# --- topic calls (选题征集) and assigned topics (点题) ------------------------------------------------


@transaction.atomic
def topic_call_open(
    *, actor: Any, organization: Organization, title: str, deadline: date, description: str = ""
) -> TopicCall:
    """Open a call for lecture topics to the organisation's subtree, until ``deadline`` (inclusive)."""
    _require_org(actor, "add", organization, "您无权以该组织名义征集选题")
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写征集名称"]
    if not isinstance(deadline, date):
        errors["deadline"] = ["请填写截止日期"]
    elif deadline < timezone.localdate():
        errors["deadline"] = ["截止日期不能早于今天"]
    if errors:
        raise ValidationError(errors)
    call = TopicCall(
        organization=organization,
        title=title,
        description=(description or "").strip(),
        deadline=deadline,
        created_by=_user(actor),
    )
    call.full_clean()
    call.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=call,
        changes={"after": snapshot(call, ("organization", "title", "deadline"))},
    )
    return call


@transaction.atomic
def topic_call_close(*, actor: Any, call: TopicCall) -> TopicCall:
    """Close a call before (or after) its deadline; no more topics are taken."""
    call = TopicCall.objects.select_for_update(of=("self",)).select_related("organization").get(pk=call.pk)
    _require_org(actor, "change", call.organization, "您无权管理该选题征集")
    if call.status == CallStatus.CLOSED:
        return call
    call.status = CallStatus.CLOSED
    call.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=call,
        changes={"status": ["open", "closed"]},
        message="结束征集",
    )
    return call


def call_is_open(call: TopicCall, today: date | None = None) -> bool:
    return call.status == CallStatus.OPEN and (today or timezone.localdate()) <= call.deadline


@transaction.atomic
def topic_proposal_submit(
    *, actor: Any, call: TopicCall, organization: Organization, title: str, description: str = ""
) -> TopicProposal:
    """A branch or department in the call's subtree submits a topic, until the deadline."""
    call = TopicCall.objects.select_for_update(of=("self",)).select_related("organization").get(pk=call.pk)
    _require_org(actor, "add", organization, "您无权以该组织名义申报选题")
    if call.status != CallStatus.OPEN:
        raise ValidationError({"call": ["该选题征集已结束，不能再提交"]})
    if timezone.localdate() > call.deadline:
        raise ValidationError({"call": [f"该选题征集已于{call.deadline:%Y年%m月%d日}截止，不能再提交"]})
    errors: dict[str, list[str]] = {}
    if not organization.path.startswith(call.organization.path):
        errors["organization"] = [f"提交组织须是{call.organization.name}或其下级组织"]
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写选题"]
    if errors:
        raise ValidationError(errors)
    proposal = TopicProposal(
        call=call,
        organization=organization,
        title=title,
        description=(description or "").strip(),
        submitted_by=_user(actor),
    )
    proposal.full_clean()
    proposal.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=proposal,
        changes={"after": snapshot(proposal, ("call", "organization", "title"))},
    )
    return proposal


@transaction.atomic
def topic_proposal_mark_key(*, actor: Any, proposal: TopicProposal, is_key: bool = True) -> TopicProposal:
    """The calling organisation marks (or unmarks) a submitted topic as a key topic (重点选题)."""
    proposal = (
        TopicProposal.objects.select_for_update(of=("self",))
        .select_related("call__organization")
        .get(pk=proposal.pk)
    )
    _require_org(actor, "change", proposal.call.organization, "您无权管理该选题征集")
    if proposal.is_key == is_key:
        return proposal
    proposal.is_key = is_key
    proposal.save(update_fields=["is_key", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=proposal,
        changes={"is_key": [not is_key, is_key]},
        message="标为重点选题" if is_key else "取消重点选题",
    )
    return proposal


@transaction.atomic
def topic_assign(
    *,
    actor: Any,
    proposal: TopicProposal,
    organization: Organization | int | None = None,
    lecturer: Lecturer | int | None = None,
    due_date: date | None = None,
) -> TopicTask:
    """点题: the calling organisation assigns a topic to an organisation of its subtree and/or a
    lecturer (of a pool it may use), with an optional due date. The task belongs to the named
    organisation, or to the calling organisation when only a lecturer is named; the lecturer sees
    it among their own tasks."""
    proposal = TopicProposal.objects.select_related("call__organization").get(pk=proposal.pk)
    call = proposal.call
    _require_org(actor, "change", call.organization, "您无权为该选题征集点题")
    in_call = Organization.objects.filter(subtree_q("path", [call.organization.path]), is_active=True)
    org = _resolve(in_call, organization, "organization", "承接组织")
    choices = (
        Lecturer.objects.filter(is_active=True)
        if actor is None
        else lecturer_choices(user=actor, organization=call.organization)
    )
    speaker = _resolve(choices, lecturer, "lecturer", "讲师")
    errors: dict[str, list[str]] = {}
    if org is None and speaker is None:
        errors["organization"] = ["请指定承接的组织或讲师"]
    if due_date is not None and due_date < timezone.localdate():
        errors["due_date"] = ["完成期限不能早于今天"]
    if errors:
        raise ValidationError(errors)
    task_org = org or call.organization
    duplicate = TopicTask.objects.filter(
        proposal=proposal, organization=task_org, lecturer=speaker, status=TaskStatus.ASSIGNED
    )
    if duplicate.exists():
        raise ValidationError({"organization": ["已就该选题向该组织（讲师）点题"]})
    task = TopicTask(proposal=proposal, organization=task_org, lecturer=speaker, due_date=due_date)
    task.full_clean()
    task.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=task,
        changes={"after": snapshot(task, ("proposal", "organization", "lecturer", "due_date"))},
    )
    return task


@transaction.atomic
def topic_task_decline(*, actor: Any, task: TopicTask) -> TopicTask:
    """The assigned lecturer (or an administrator of the task's organisation) hands a task back."""
    task = (
        TopicTask.objects.select_for_update(of=("self",))
        .select_related("organization", "lecturer__member")
        .get(pk=task.pk)
    )
    own = (
        actor is not None
        and task.lecturer is not None
        and task.lecturer.member is not None
        and task.lecturer.member.user_id == getattr(actor, "pk", None)
    )
    if not own:
        _require_org(actor, "change", task.organization, "您无权退回该点题任务")
    if task.status != TaskStatus.ASSIGNED:
        raise ValidationError({"task": [f"该任务{task.get_status_display()}，不能退回"]})
    task.status = TaskStatus.DECLINED
    task.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        changes={"status": [TaskStatus.ASSIGNED, TaskStatus.DECLINED]},
        message="退回点题任务",
    )
    return task


# --- the lecture library (播党课) ------------------------------------------------------------------

SERIES_FIELDS = ("organization", "title", "description")
ITEM_FIELDS = ("series", "lecturer", "lecture", "honour", "show_from", "show_until", "sort_order")
AUDITED_ITEM_FIELDS = ("resource", *ITEM_FIELDS)
LIBRARY_KINDS = {".mp4": "video", ".webm": "video", ".mp3": "audio", ".m4a": "audio", ".pdf": "courseware"}


@transaction.atomic
def library_series_create(*, actor: Any, data: dict[str, Any]) -> LectureSeries:
    """A series of the library (精品党课系列), owned by an organisation."""
    data = _clean_strings(dict(data))
    _check_fields(data, SERIES_FIELDS)
    org = _resolve(Organization.objects.all(), data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择出品组织"]})
    _require_org(actor, "add", org, "您无权以该组织名义建立党课系列")
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
def library_series_update(*, actor: Any, series: LectureSeries, data: dict[str, Any]) -> LectureSeries:
    series = (
        LectureSeries.objects.select_for_update(of=("self",)).select_related("organization").get(pk=series.pk)
    )
    _require_org(actor, "change", series.organization, "您无权修改该党课系列")
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
def library_series_delete(*, actor: Any, series: LectureSeries) -> None:
    """Delete a series; its items stay in the library, outside any series."""
    series = LectureSeries.objects.select_related("organization").get(pk=series.pk)
    _require_org(actor, "delete", series.organization, "您无权删除该党课系列")
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=series,
        changes={"before": snapshot(series, SERIES_FIELDS)},
    )
    series.delete()


def _item_refs(actor: Any, org: Organization, data: dict[str, Any]) -> dict[str, Any]:
    """Resolve and check the references of a library item shown to ``org``'s subtree: a series of
    the organisation or one above it (or in the actor's scope); a lecturer the actor may use; a
    lecture the actor may see."""
    out = dict(data)
    if "series" in data:
        series_qs = LectureSeries.objects.all()
        if actor is not None:
            series_qs = series_qs.filter(
                Q(organization__path__in=ancestor_paths(org.path))
                | subtree_q("organization__path", _paths(actor, "view"))
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
def library_publish(
    *,
    actor: Any,
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
    _require_org(actor, "add", org, "您无权向该组织发布党课")
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
            duration_seconds=duration_seconds,  # type: ignore[arg-type]
            credit_hours=credit_hours,
        )
    else:
        resources = (
            OnlineResource.objects.all()
            if actor is None
            else OnlineResource.objects.restrict(actor, "change")
        )
        made = _resolve(resources.select_related("organization"), resource, "resource", "学习资源")  # type: ignore[assignment]
        assert made is not None
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
def library_item_update(*, actor: Any, item: LibraryItem, data: dict[str, Any]) -> LibraryItem:
    """Change an item's series, lecturer, lecture, honour, showing dates or order."""
    item = (
        LibraryItem.objects.select_for_update(of=("self",))
        .select_related("resource__organization")
        .get(pk=item.pk)
    )
    org = item.resource.organization
    _require_org(actor, "change", org, "您无权修改该党课库条目")
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
def library_item_withdraw(*, actor: Any, item: LibraryItem) -> LibraryItem:
    """Take an item off the library: its resource is withdrawn (hours already credited stay)."""
    from partyedu.learning.services import resource_unpublish

    item = LibraryItem.objects.select_related("resource__organization").get(pk=item.pk)
    _require_org(actor, "change", item.resource.organization, "您无权修改该党课库条目")
    resource_unpublish(actor=actor, resource=item.resource)
    item.refresh_from_db()
    return item


@transaction.atomic
def library_item_republish(*, actor: Any, item: LibraryItem) -> LibraryItem:
    from partyedu.learning.services import resource_publish

    item = LibraryItem.objects.select_related("resource__organization").get(pk=item.pk)
    _require_org(actor, "change", item.resource.organization, "您无权修改该党课库条目")
    resource_publish(actor=actor, resource=item.resource)
    item.refresh_from_db()
    return item


# --- exports -------------------------------------------------------------------------------------

STATS_COLUMNS = (
    ExportColumn("组织", 30),
    ExportColumn("党课次数", 10),
    ExportColumn("交叉讲党课次数", 14),
    ExportColumn("评价人次", 10),
    ExportColumn("平均评分", 10),
)
COMPETITION_STATS_COLUMNS = (
    ExportColumn("组织", 30),
    ExportColumn("参赛作品", 10),
    ExportColumn("完成评审", 10),
    ExportColumn("优秀党课", 10),
    ExportColumn("优秀主讲人", 10),
    ExportColumn("优秀组织单位", 12),
)
DUTY_COLUMNS = (
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 30),
    ExportColumn("类别", 24),
    ExportColumn("本年讲党课次数", 14),
    ExportColumn("其中交叉讲党课", 14),
    ExportColumn("情况", 14),
)


def duty_state(*, is_exempt: bool, lecture_count: int) -> str:
    if is_exempt:
        return "免于要求"
    return "已讲党课" if lecture_count else "尚未讲党课"


def _require_export(actor: Any, organization: Organization, message: str) -> None:
    if actor is not None and not path_in(organization.path, _paths(actor, "export")):
        raise PermissionDenied(message)


def lecture_stats_export(*, actor: Any, organization: Organization, year: int) -> bytes:
    """The statistics page as xlsx (summary, by type, by lecturer category, per organisation
    below, and the competitions of the year per organisation below); one audit row."""
    _require_export(actor, organization, "您无权导出该组织的党课统计")
    stats = lecture_stats(user=actor, organization=organization, year=year)
    if stats is None:
        raise PermissionDenied("您无权导出该组织的党课统计")
    book = XlsxExport()
    summary = book.sheet("汇总", [ExportColumn("项目", 24), ExportColumn("数值", 12)])
    for label, value in (
        ("组织", organization.name),
        ("年度", year),
        ("党课次数", stats.lectures),
        ("交叉讲党课次数", stats.cross_lectures),
        ("书记、领导干部人数", stats.duty.total),
        ("其中已讲党课", stats.duty.lectured),
        ("其中尚未讲党课", stats.duty.not_lectured),
        ("其中免于要求", stats.duty.exempt),
        ("评价人次", stats.ratings),
        ("平均评分", stats.rating_average if stats.rating_average is not None else ""),
        ("评选参赛作品", stats.competitions.entries),
        ("评选完成评审", stats.competitions.reviews),
        *((f"获{row.label}", row.count) for row in stats.competitions.awards),
    ):
        summary.append([label, value])
    by_type = book.sheet("按党课类型", [ExportColumn("党课类型", 16), ExportColumn("次数", 10)])
    for row in stats.by_type:
        by_type.append([row.label, row.count])
    by_category = book.sheet("按主讲人类别", [ExportColumn("主讲人类别", 16), ExportColumn("党课次数", 10)])
    for row in stats.by_category:
        by_category.append([row.label, row.count])
    below = book.sheet("下级组织", STATS_COLUMNS)
    for org_row in stats.rows:
        name = f"{org_row.organization.name}（本级）" if org_row.own_level else org_row.organization.name
        average = org_row.rating_average if org_row.rating_average is not None else ""
        below.append([name, org_row.lectures, org_row.cross_lectures, org_row.ratings, average])
    contests = book.sheet("党课评选", COMPETITION_STATS_COLUMNS)
    for org_row in stats.rows:
        name = f"{org_row.organization.name}（本级）" if org_row.own_level else org_row.organization.name
        contests.append(
            [
                name,
                org_row.entries,
                org_row.reviews,
                org_row.lecture_awards,
                org_row.lecturer_awards,
                org_row.organization_awards,
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Lecture._meta.label_lower,
        object_repr=f"{organization.name} {year}年党课统计"[:255],
        changes={"organization": organization.pk, "year": year},
        message="导出党课统计",
    )
    return book.to_bytes()


def lecture_duty_export(
    *, actor: Any, organization: Organization, year: int, progress: Callable[[int], None] | None = None
) -> bytes:
    """The secretaries and leading cadres of the subtree with the lectures they gave in the year
    (names only, no other personal data); one audit row. ``progress`` is told the number of rows
    written, every EXPORT_PROGRESS_EVERY rows and at the end (a background export shows it)."""
    _require_export(actor, organization, "您无权导出该组织的讲党课情况")
    labels = dict(MemberCategory.choices)
    book = XlsxExport()
    sheet = book.sheet(f"{year}年书记讲党课情况", DUTY_COLUMNS)
    member: Any
    for member in lecture_duty(user=actor, organization=organization, year=year).iterator(chunk_size=2000):
        categories = "、".join(str(labels[c]) for c in member.categories or [] if c in DUTY_CATEGORIES)
        state = duty_state(is_exempt=member.is_exempt, lecture_count=member.lecture_count)
        sheet.append(
            [
                member.name,
                member.organization.name,
                categories,
                member.lecture_count,
                member.cross_count,
                state,
            ]
        )
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Lecture._meta.label_lower,
        object_repr=f"{organization.name} {year}年书记讲党课情况"[:255],
        changes={"organization": organization.pk, "year": year, "rows": sheet.rows},
        message=f"导出书记讲党课情况{sheet.rows}人",
    )
    return book.to_bytes()

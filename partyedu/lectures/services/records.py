"""Lecture records: the lecture given at a 党课 activity, its speakers (with the 交叉讲党课 rule)
and its materials (slides, script, video, checked by name and content)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.hooks import hooks
from partyedu.core.scope import require
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity

from ..choices import LectureFileKind, LectureType, TaskStatus
from ..models import Lecture, LectureFile, Lecturer, LectureSpeaker, TopicTask
from ..selectors import DUTY_CATEGORIES, lecturer_choices
from ..summaries import lectures_sync
from ._common import APP, _check_fields, _clean_strings, _ids, _resolve

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


def _speakers(actor: Actor, activity: Activity, values: Any, current: set[int]) -> list[Lecturer]:
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


def _task(actor: Actor, value: Any, current: int | None) -> TopicTask | None:
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


def _lectures_changed(lecture_id: int, start: datetime, member_ids: Iterable[int | None]) -> None:
    """Points (a higher app) credit lectures given: tell it which speakers' (member, year) changed
    (``lectures.lectures_changed``). A lecture's date is its activity's and changes only there."""
    members = sorted({m for m in member_ids if m is not None})
    if members:
        hooks.call(
            "lectures.lectures_changed",
            lecture_ids=[lecture_id],
            member_ids=members,
            years=[timezone.localtime(start).year],
        )


@transaction.atomic
def lecture_record(*, actor: Actor, activity: Activity, data: dict[str, Any]) -> Lecture:
    """Record the lecture given at a 党课 activity: ``title``, ``lecture_type``, ``lecturers`` (one
    or more Lecturer ids usable by the actor), ``summary``, an optional ``task`` (a TopicTask the
    lecture fulfils; it is marked done) and ``files`` (``UploadedMaterial`` or ``{"kind", "file"}``
    items: slides, script, video). Each speaker's ``is_cross`` is decided now."""
    activity = lecture_activity_lock(activity)
    require(actor, "add", activity.organization, app_label=APP, message="您无权为该组织登记党课")
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
    _lectures_changed(lecture.pk, lecture.start, (s.member_id for s in speakers))
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
def lecture_update(*, actor: Actor, lecture: Lecture, data: dict[str, Any]) -> Lecture:
    """Change a lecture. ``lecturers``, when given, replaces the speakers (a speaker kept keeps the
    cross flag decided when they were added); ``files`` are added and ``remove_files`` (ids of this
    lecture's files) removed, the stored files once the change has committed. Changing the task
    puts the old one back to 已点题 unless another lecture fulfils it."""
    activity = lecture_activity_lock(lecture.activity_id)
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    require(actor, "change", activity.organization, app_label=APP, message="您无权修改该组织的党课")
    data = _clean_strings(dict(data))
    _check_fields(data, LECTURE_FIELDS)
    before = snapshot(lecture, AUDITED_LECTURE_FIELDS)
    old_summary = lecture.summary
    _apply_lecture(lecture, data)
    current = {s.lecturer_id: s for s in lecture.speakers.select_related("lecturer")}
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
            _lectures_changed(
                lecture.pk,
                lecture.start,
                [current[pk].lecturer.member_id for pk in gone] + [s.member_id for s in new],
            )
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
def lecture_delete(*, actor: Actor, lecture: Lecture) -> None:
    """Delete a lecture record with its speakers, materials and ratings (the activity stays). A
    task it fulfilled goes back to 已点题."""
    activity = lecture_activity_lock(lecture.activity_id)
    lecture = Lecture.objects.select_for_update(of=("self",)).get(pk=lecture.pk)
    require(actor, "delete", activity.organization, app_label=APP, message="您无权删除该组织的党课")
    files = [(f.file.storage, f.file.name) for f in lecture.files.all()]
    speakers = list(lecture.speakers.values_list("lecturer_id", "lecturer__member_id"))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=lecture,
        changes={
            "before": snapshot(lecture, AUDITED_LECTURE_FIELDS),
            "lecturers": [lecturer_id for lecturer_id, _member_id in speakers],
            "ratings": lecture.ratings.count(),
        },
    )
    task_id, pk = lecture.task_id, lecture.pk
    lecture.delete()
    _task_undone(task_id, pk)
    lectures_sync(lecture_ids=[pk])
    _lectures_changed(pk, lecture.start, (member_id for _lecturer_id, member_id in speakers))
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))

"""Dispatch and feedback (调度/反馈) and the quarterly feedback note (季度反馈): the writes.

Rules (issue 12, "Dispatch and feedback"; docs/supervision.md):
- Only an org_admin holding the issuer organisation dispatches; a due date in the past is refused;
  the recipients (every active organisation of the target level in the issuer's subtree) are fixed
  at creation. A retried creation (same issuer, title and due date) returns the first task.
- Feedback comes from a user who may change the recipient organisation, and only for a dispatch
  that organisation received. Feedback may be edited until the due date (inclusive); a first
  feedback after it is still accepted and shows as 逾期反馈, but it cannot be edited afterwards.
  ``feedback_at`` is the time of the first answer: later edits do not move it.
- A reminder goes to the secretaries/admins of the recipients without feedback, at most once per
  recipient and day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import RoleAssignment, User
from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.notifications import notify
from partyedu.core.scope import is_system, require, role_paths
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity, RequiredTopic

from ..models.dispatch import (
    TARGET_LEVELS,
    Dispatch,
    DispatchAttachment,
    DispatchFeedback,
    DispatchRecipient,
    DispatchTarget,
    QuarterlyNote,
)

APP = "supervision"
MB = 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * MB
# Accepted attachments, by name and by their first bytes: a renamed executable is refused.
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (.doc, .xls, .wps)
ZIP = b"PK\x03\x04"  # OOXML (.docx, .xlsx, .pptx)
ATTACHMENT_MAGIC: dict[str, Any] = {
    ".pdf": lambda head: head[:5] == b"%PDF-",
    ".doc": lambda head: head[:8] == OLE,
    ".xls": lambda head: head[:8] == OLE,
    ".wps": lambda head: head[:8] == OLE,
    ".docx": lambda head: head[:4] == ZIP,
    ".xlsx": lambda head: head[:4] == ZIP,
    ".pptx": lambda head: head[:4] == ZIP,
    ".jpg": lambda head: head[:3] == b"\xff\xd8\xff",
    ".jpeg": lambda head: head[:3] == b"\xff\xd8\xff",
    ".png": lambda head: head[:8] == b"\x89PNG\r\n\x1a\n",
    ".txt": lambda head: b"\x00" not in head,
}
ATTACHMENT_FORMATS = "PDF、Word、WPS、Excel、PPTX、JPG、PNG、TXT"
# Who answers for a recipient organisation and is reminded: its secretaries and administrators.
ANSWERING_ROLES = (RoleCode.BRANCH_ADMIN, RoleCode.ORG_ADMIN)
ISSUE_MESSAGE = "只有本组织的组织部门管理员可以下发调度任务"


# --- helpers ---------------------------------------------------------------------------------------
def _require_org_admin(actor: Actor, organization: Organization, action: str, message: str) -> None:
    """The actor holds ``action`` on supervision at ``organization`` through the org_admin role."""
    require(actor, action, organization, app_label=APP, message=message)
    if is_system(actor):
        return
    if not any(organization.path.startswith(p) for p in role_paths(actor, RoleCode.ORG_ADMIN)):
        raise PermissionDenied(message)


def answering_users(org_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active users holding a secretary/admin role at exactly each organisation."""
    result: dict[int, list[User]] = {}
    rows = (
        RoleAssignment.objects.filter(
            organization_id__in=list(org_ids), role__code__in=ANSWERING_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("organization_id", "user_id")
    )
    for row in rows:
        users = result.setdefault(row.organization_id, [])
        if row.user not in users:
            users.append(row.user)
    return result


def _clean_text(value: Any, field: str, label: str, *, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: [f"请填写{label}"]})
    if len(text) > max_length:
        raise ValidationError({field: [f"{label}不能超过{max_length}个字"]})
    return text


def validate_attachment(file: Any) -> None:
    """An attachment of an accepted format, by name and by content, within the size limit."""
    name = PurePath(getattr(file, "name", "") or "").name
    extension = PurePath(name.lower()).suffix
    if extension not in ATTACHMENT_MAGIC:
        raise ValidationError({"files": [f"附件“{name}”的格式不支持，请上传{ATTACHMENT_FORMATS}文件"]})
    size = getattr(file, "size", None)
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"files": [f"附件“{name}”超过{MAX_ATTACHMENT_BYTES // MB}MB，请压缩后再上传"]})
    if size == 0:
        raise ValidationError({"files": [f"附件“{name}”是空文件"]})
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(512)
    if hasattr(file, "seek"):
        file.seek(0)
    if not head or not ATTACHMENT_MAGIC[extension](head):
        raise ValidationError({"files": [f"附件“{name}”的内容不是有效的{extension[1:].upper()}文件"]})


def dispatch_url(dispatch: Dispatch) -> str:
    return reverse("supervision:dispatch_detail", args=[dispatch.pk])


# --- dispatch --------------------------------------------------------------------------------------
def _recipient_orgs(issuer: Organization, target_level: str) -> list[Organization]:
    return list(
        Organization.objects.filter(
            issuer.subtree_q("path"), level__in=list(TARGET_LEVELS[target_level]), is_active=True
        )
        .exclude(pk=issuer.pk)
        .order_by("path")
    )


def _topic(value: Any, issuer: Organization) -> RequiredTopic | None:
    """A required topic of a plan issued by the issuer or one of its ancestors (a plan that binds
    every recipient)."""
    if value in (None, ""):
        return None
    topic_id = value.pk if isinstance(value, RequiredTopic) else value
    topic = (
        RequiredTopic.objects.filter(pk=topic_id, plan__organization__path__in=ancestor_paths(issuer.path))
        .select_related("plan")
        .first()
        if str(topic_id).isdigit()
        else None
    )
    if topic is None:
        raise ValidationError({"required_topic": ["所选必修专题不属于本组织或上级下发的学习计划"]})
    return topic


@transaction.atomic
def dispatch_create(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    due: date,
    target_level: str,
    description: str = "",
    activity_type: str = "",
    required_topic: Any = None,
    today: date | None = None,
) -> Dispatch:
    """Dispatch a task to every organisation of ``target_level`` in the issuer's subtree. A retry
    of the same task (issuer, title, due) returns the existing one and writes nothing."""
    _require_org_admin(actor, organization, "add", ISSUE_MESSAGE)
    today = today or timezone.localdate()
    title = _clean_text(title, "title", "任务名称", max_length=200)
    description = _clean_text(description, "description", "任务说明", max_length=5000, required=False)
    if not isinstance(due, date):
        raise ValidationError({"due": ["请填写反馈期限"]})
    if due < today:
        raise ValidationError({"due": [f"反馈期限不能早于今天（{today:%Y-%m-%d}）"]})
    if target_level not in DispatchTarget.values:
        raise ValidationError({"target_level": ["请选择下发层级：党支部、党总支或党委"]})
    if activity_type and activity_type not in ActivityType.values:
        raise ValidationError({"activity_type": ["所选活动类型不存在"]})
    topic = _topic(required_topic, organization)

    existing = Dispatch.objects.filter(organization=organization, title=title, due=due).first()
    if existing is not None:
        if existing.target_level != target_level:
            raise ValidationError({"title": ["本组织已下发过同名且同一反馈期限的任务"]})
        return existing
    orgs = _recipient_orgs(organization, target_level)
    if not orgs:
        level = DispatchTarget(target_level).label
        raise ValidationError({"target_level": [f"“{organization.name}”下没有{level}，任务无人接收"]})

    dispatch = Dispatch(
        organization=organization,
        title=title,
        description=description,
        due=due,
        target_level=target_level,
        activity_type=activity_type or "",
        required_topic=topic,
        created_by=actor,
    )
    dispatch.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            dispatch.save()
    except IntegrityError:
        # A concurrent identical request won the insert: answer with its task.
        return Dispatch.objects.get(organization=organization, title=title, due=due)
    DispatchRecipient.objects.bulk_create(
        [DispatchRecipient(dispatch=dispatch, organization=o) for o in orgs]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=dispatch,
        changes={"title": [None, title], "due": [None, due.isoformat()], "recipients": [None, len(orgs)]},
    )
    users = [u for group in answering_users(o.pk for o in orgs).values() for u in group]
    notify(
        users=users,
        kind="supervision.dispatch",
        title=f"调度任务：{title}",
        url=dispatch_url(dispatch),
        body=f"请于{due:%Y年%m月%d日}前反馈。{description[:200]}",
        key=f"supervision.dispatch:{dispatch.pk}",
    )
    return dispatch


def matching_activities(dispatch: Dispatch, organization: Organization) -> list[Activity]:
    """The recipient's activities (its subtree's) held between the dispatch's creation day and its
    due date that match what the task names: its activity type and/or its required topic."""
    if not dispatch.links_records:
        return []
    start = timezone.make_aware(
        datetime.combine(timezone.localdate(dispatch.created_at), datetime.min.time())
    )
    end = timezone.make_aware(datetime.combine(dispatch.due, datetime.max.time()))
    condition = Q(start__gte=start, start__lte=end)
    if dispatch.activity_type:
        condition &= Q(activity_type=dispatch.activity_type)
    if dispatch.required_topic_id:
        condition &= Q(required_topic_id=dispatch.required_topic_id)
    return list(
        Activity.objects.filter(organization.subtree_q("organization__path"), condition).order_by("start")
    )


@transaction.atomic
def dispatch_feedback_submit(
    *,
    actor: Actor,
    dispatch: Dispatch,
    organization: Organization | int,
    text: str,
    files: Sequence[Any] = (),
    remove_files: Iterable[int] = (),
    now: datetime | None = None,
) -> DispatchFeedback:
    """Answer (or, until the due date, correct the answer to) a dispatch for a recipient
    organisation. Matching activities are linked afresh on every save."""
    now = now or timezone.now()
    org_id = organization.pk if isinstance(organization, Organization) else organization
    recipient = (
        DispatchRecipient.objects.select_for_update()
        .select_related("organization", "dispatch")
        .filter(dispatch=dispatch, organization_id=org_id)
        .first()
    )
    if recipient is None:
        raise ValidationError({"organization": ["该组织没有收到此调度任务，不能反馈"]})
    require(
        actor,
        "change",
        recipient.organization,
        app_label=APP,
        message="只有接收组织的书记或管理员可以反馈",
    )
    text = _clean_text(text, "text", "反馈内容", max_length=5000)
    dispatch = recipient.dispatch
    today = timezone.localdate(now)
    feedback = DispatchFeedback.objects.filter(recipient=recipient).first()
    if feedback is not None and today > dispatch.due:
        raise ValidationError({"text": ["已过反馈期限，已提交的反馈不能再修改"]})
    files = [f for f in files if f]
    for file in files:
        validate_attachment(file)
    removed = set(remove_files or ())
    kept = 0 if feedback is None else feedback.attachments.exclude(pk__in=removed).count()
    if kept + len(files) > MAX_ATTACHMENTS:
        raise ValidationError({"files": [f"每条反馈最多{MAX_ATTACHMENTS}个附件"]})

    before = "" if feedback is None else feedback.text
    if feedback is None:
        feedback = DispatchFeedback(recipient=recipient, text=text, submitted_by=actor)
        feedback.full_clean(exclude=["recipient"], validate_unique=False)
        feedback.save()
        recipient.feedback_at = now
        recipient.save(update_fields=["feedback_at", "updated_at"])
        action = AuditAction.CREATE
    else:
        feedback.text = text
        feedback.submitted_by = actor
        feedback.full_clean(exclude=["recipient"], validate_unique=False)
        feedback.save(update_fields=["text", "submitted_by", "updated_at"])
        action = AuditAction.UPDATE
    if removed:
        for old in feedback.attachments.filter(pk__in=removed):
            transaction.on_commit(partial(old.file.storage.delete, old.file.name))
            old.delete()
    for file in files:
        row = DispatchAttachment(
            feedback=feedback, file=file, name=PurePath(getattr(file, "name", "") or "").name[:200]
        )
        row.full_clean(exclude=["feedback"])
        row.save()
    feedback.linked_activities.set(matching_activities(dispatch, recipient.organization))
    audit_record(
        actor=actor,
        action=action,
        obj=feedback,
        object_repr=f"{dispatch.title} · {recipient.organization.name}",
        changes={"text": [before, text]} if before != text else {},
    )
    return feedback


@transaction.atomic
def dispatch_remind(*, actor: Actor, dispatch: Dispatch, now: datetime | None = None) -> int:
    """Remind the recipients without feedback (not started or overdue) through their
    secretaries/admins, each at most once per day; returns how many recipients were reminded."""
    _require_org_admin(actor, dispatch.organization, "change", "只有下发组织的管理员可以催办")
    now = now or timezone.now()
    today = timezone.localdate(now)
    recipients = list(
        DispatchRecipient.objects.select_for_update()
        .filter(dispatch=dispatch, feedback_at__isnull=True)
        .order_by("id")
    )
    due_now = [r for r in recipients if r.reminded_at is None or timezone.localdate(r.reminded_at) < today]
    if not due_now:
        return 0
    users = answering_users(r.organization_id for r in due_now)
    late = today > dispatch.due
    for recipient in due_now:
        notify(
            users=users.get(recipient.organization_id, []),
            kind="supervision.dispatch_remind",
            title=f"{'逾期' if late else ''}催办：{dispatch.title}",
            url=dispatch_url(dispatch),
            body=f"反馈期限：{dispatch.due:%Y年%m月%d日}",
            key=f"supervision.dispatch_remind:{recipient.pk}:{today.isoformat()}",
        )
    DispatchRecipient.objects.filter(pk__in=[r.pk for r in due_now]).update(reminded_at=now, updated_at=now)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=dispatch,
        message=f"催办{len(due_now)}个组织",
        changes={"reminded": [None, len(due_now)]},
    )
    return len(due_now)


# --- quarterly feedback note ---------------------------------------------------------------------
def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, first_month + 3, 1)
    return start, end


# Figures that add up over the months of a quarter; the others (members, hours of the year,
# cadence, competitions of the year) are read as of the quarter's last elapsed month.
ADDITIVE_FIGURES = (
    "activities",
    "attendance_person_times",
    "lectures",
    "lectures_by_secretaries",
    "cross_lectures",
    "theme_day_months",
    "months_elapsed",
    "online_hours",
)


def quarter_figures(organization: Organization, year: int, quarter: int, *, today: date) -> dict[str, Any]:
    """The quarter's figures of the organisation's whole subtree, JSON-ready, from the shared
    figures engine (``partyedu.supervision.figures.subtree_figures``, one call per elapsed month
    of the quarter). Children are not listed: the note goes to the whole subtree, and comparing
    siblings is for the level above only (DESIGN §3.5)."""
    from .. import figures

    first = 3 * (quarter - 1) + 1
    months = [m for m in range(first, first + 3) if date(year, m, 1) <= today]
    monthly = [
        figures.subtree_figures(organizations=[organization], year=year, month=m, today=today)[
            organization.pk
        ].indicators()
        for m in months
    ]
    total: dict[str, Any] = dict(monthly[-1])
    for name in ADDITIVE_FIGURES:
        total[name] = (
            round(sum(m.get(name, 0) for m in monthly), 1)
            if name == "online_hours"
            else sum(int(m.get(name, 0)) for m in monthly)
        )
    by_type: dict[str, int] = {}
    for m in monthly:
        for code, count in m.get("activities_by_type", {}).items():
            by_type[code] = by_type.get(code, 0) + int(count)
    total["activities_by_type"] = dict(sorted(by_type.items()))
    return {
        "year": year,
        "quarter": quarter,
        "as_of": min(today, quarter_bounds(year, quarter)[1] - timedelta(days=1)).isoformat(),
        "organization": organization.pk,
        "indicators": total,
        "months": [
            {
                "month": month,
                "activities": row.get("activities", 0),
                "attendance_person_times": row.get("attendance_person_times", 0),
                "lectures": row.get("lectures", 0),
                "theme_day_months": row.get("theme_day_months", 0),
            }
            for month, row in zip(months, monthly, strict=True)
        ],
    }


@transaction.atomic
def quarterly_note_publish(
    *,
    actor: Actor,
    organization: Organization,
    year: int,
    quarter: int,
    title: str,
    body: str,
    now: datetime | None = None,
) -> QuarterlyNote:
    """Publish the quarterly feedback note of ``organization`` for a quarter to its subtree, with
    the quarter's figures frozen now. One note per organisation and quarter."""
    _require_org_admin(actor, organization, "add", "只有本组织的组织部门管理员可以发布季度反馈")
    now = now or timezone.now()
    today = timezone.localdate(now)
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": ["季度应为1至4"]})
    if not isinstance(year, int) or not 2000 <= year <= today.year:
        raise ValidationError({"year": [f"年度应在2000至{today.year}之间"]})
    if quarter_bounds(year, quarter)[0] > today:
        raise ValidationError({"quarter": ["该季度尚未开始，不能发布季度反馈"]})
    title = _clean_text(title, "title", "标题", max_length=200)
    body = _clean_text(body, "body", "反馈内容", max_length=20000)
    # Lock the publisher's row so that two concurrent publications of one quarter serialise.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if QuarterlyNote.objects.filter(organization=organization, year=year, quarter=quarter).exists():
        raise ValidationError({"quarter": [f"“{organization.name}”{year}年第{quarter}季度的季度反馈已发布"]})
    note = QuarterlyNote(
        organization=organization,
        year=year,
        quarter=quarter,
        title=title,
        body=body,
        figures=quarter_figures(organization, year, quarter, today=today),
        published_at=now,
        published_by=actor,
    )
    note.full_clean(validate_unique=False, validate_constraints=False)
    note.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=note,
        changes={"year": [None, year], "quarter": [None, quarter], "title": [None, title]},
    )
    children = Organization.objects.filter(parent=organization, is_active=True).values_list("pk", flat=True)
    users = [u for group in answering_users(children).values() for u in group]
    notify(
        users=users,
        kind="supervision.quarterly_note",
        title=f"季度反馈：{title}",
        url=reverse("supervision:quarterly_detail", args=[note.pk]),
        key=f"supervision.quarterly_note:{note.pk}",
    )
    return note


# --- export ----------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("组织", "组织代码", "状态", "反馈时间", "最近催办", "反馈内容", "关联活动数")


def dispatch_export(*, actor: Actor, dispatch: Dispatch, today: date | None = None) -> bytes:
    """The completion table of a dispatch as an xlsx workbook (the recipients the actor sees);
    one audit row."""
    from partyedu.core.exporting import xlsx_bytes

    from ..selectors.dispatch import dispatch_export_rows

    rows = dispatch_export_rows(user=actor, dispatch=dispatch, today=today) if actor is not None else []
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=dispatch,
        changes={"rows": len(rows)},
        message="导出调度任务完成情况",
    )
    return xlsx_bytes("完成情况", list(EXPORT_COLUMNS), rows)

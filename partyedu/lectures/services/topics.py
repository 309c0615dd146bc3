"""Topic calls (选题征集) with their proposals, and assigned topics (点题任务)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..choices import CallStatus, TaskStatus
from ..models import Lecturer, TopicCall, TopicProposal, TopicTask
from ..selectors import lecturer_choices
from ._common import APP, _resolve, _user


@transaction.atomic
def topic_call_open(
    *, actor: Actor, organization: Organization, title: str, deadline: date, description: str = ""
) -> TopicCall:
    """Open a call for lecture topics to the organisation's subtree, until ``deadline`` (inclusive)."""
    require(actor, "add", organization, app_label=APP, message="您无权以该组织名义征集选题")
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
def topic_call_close(*, actor: Actor, call: TopicCall) -> TopicCall:
    """Close a call before (or after) its deadline; no more topics are taken."""
    call = TopicCall.objects.select_for_update(of=("self",)).select_related("organization").get(pk=call.pk)
    require(actor, "change", call.organization, app_label=APP, message="您无权管理该选题征集")
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
    *, actor: Actor, call: TopicCall, organization: Organization, title: str, description: str = ""
) -> TopicProposal:
    """A branch or department in the call's subtree submits a topic, until the deadline."""
    call = TopicCall.objects.select_for_update(of=("self",)).select_related("organization").get(pk=call.pk)
    require(actor, "add", organization, app_label=APP, message="您无权以该组织名义申报选题")
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
def topic_proposal_mark_key(*, actor: Actor, proposal: TopicProposal, is_key: bool = True) -> TopicProposal:
    """The calling organisation marks (or unmarks) a submitted topic as a key topic (重点选题)."""
    proposal = (
        TopicProposal.objects.select_for_update(of=("self",))
        .select_related("call__organization")
        .get(pk=proposal.pk)
    )
    require(actor, "change", proposal.call.organization, app_label=APP, message="您无权管理该选题征集")
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
    actor: Actor,
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
    require(actor, "change", call.organization, app_label=APP, message="您无权为该选题征集点题")
    in_call = Organization.objects.filter(call.organization.subtree_q(), is_active=True)
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
def topic_task_decline(*, actor: Actor, task: TopicTask) -> TopicTask:
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
        require(actor, "change", task.organization, app_label=APP, message="您无权退回该点题任务")
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

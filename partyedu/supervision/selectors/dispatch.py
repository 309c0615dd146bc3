"""Dispatch and feedback (调度/反馈) and quarterly notes: the reads.

Who sees what:
- a dispatch is seen by the users whose supervision view scope holds its issuer (the issuing side:
  every recipient, the completion table) or one of its recipients (the receiving side: only the
  recipients in their scope, never the others' feedback);
- a quarterly note is seen in its publisher's subtree: by users whose scope holds the publisher or
  lies below it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.types import Viewer
from partyedu.core.scope import role_paths, scope_for, subtree_q
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.models import Activity, RequiredTopic

from ..models.dispatch import (
    Dispatch,
    DispatchAttachment,
    DispatchFeedback,
    DispatchRecipient,
    DispatchStatus,
    QuarterlyNote,
)

APP = "supervision"


@dataclass(frozen=True)
class Completion:
    """The issuer's completion figures of one dispatch: each recipient counts once."""

    total: int
    done: int
    late: int
    not_started: int
    overdue: int

    @property
    def answered(self) -> int:
        return self.done + self.late

    @property
    def unanswered(self) -> int:
        return self.not_started + self.overdue

    @classmethod
    def of(cls, recipients: list[DispatchRecipient], due: date, today: date) -> Completion:
        """Count the given recipients by their state on ``today``."""
        counts = Counter(r.status_on(today, due) for r in recipients)
        return cls(
            total=len(recipients),
            done=counts[DispatchStatus.DONE],
            late=counts[DispatchStatus.LATE],
            not_started=counts[DispatchStatus.NOT_STARTED],
            overdue=counts[DispatchStatus.OVERDUE],
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "done": self.done,
            "late": self.late,
            "not_started": self.not_started,
            "overdue": self.overdue,
        }


# --- dispatches ------------------------------------------------------------------------------------
def dispatch_visible(*, user: Viewer, action: str = "view") -> QuerySet[Dispatch]:
    """Dispatches issued within the user's scope or received by an organisation within it."""
    scope = scope_for(user, action, APP)
    if not scope.paths:
        return Dispatch.objects.none()
    received = DispatchRecipient.objects.filter(scope.q("organization__path"), dispatch=OuterRef("pk"))
    return Dispatch.objects.filter(scope.q("organization__path") | Q(Exists(received)))


def dispatch_get(*, user: Viewer, pk: Any, action: str = "view") -> Dispatch:
    dispatch = (
        dispatch_visible(user=user, action=action)
        .select_related("organization", "required_topic", "created_by")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if dispatch is None:
        raise Http404("调度任务不存在或不在您的权限范围内")
    return dispatch


def dispatch_is_issuer(*, user: Viewer, dispatch: Dispatch, action: str = "view") -> bool:
    """Whether the user sees the dispatch from the issuing side (its issuer lies in their scope)."""
    return scope_for(user, action, APP).covers(dispatch.organization.path)


def can_issue(*, user: Viewer, organization: Organization | None = None) -> bool:
    """Whether the user may dispatch (anywhere, or from ``organization``): an org_admin with add."""
    paths = [p for p in role_paths(user, RoleCode.ORG_ADMIN) if scope_for(user, "add", APP).covers(p)]
    if organization is None:
        return bool(paths)
    return any(organization.path.startswith(p) for p in paths)


def dispatch_issued_list(*, user: Viewer) -> QuerySet[Dispatch]:
    """Dispatches issued by organisations in the user's scope, newest first, with their counts."""
    return (
        Dispatch.objects.restrict(user, "view", app_label=APP)
        .select_related("organization")
        .annotate(
            recipient_total=Count("recipients", distinct=True),
            answered_total=Count(
                "recipients", filter=Q(recipients__feedback_at__isnull=False), distinct=True
            ),
        )
        .order_by("-created_at", "-id")
    )


def dispatch_received_list(*, user: Viewer) -> QuerySet[DispatchRecipient]:
    """What organisations in the user's scope received from above (dispatches whose issuer lies
    outside the scope), most urgent first: unanswered by due date, then answered, newest first."""
    scope = scope_for(user, "view", APP)
    if not scope.paths:
        return DispatchRecipient.objects.none()
    return (
        DispatchRecipient.objects.filter(scope.q("organization__path"))
        .exclude(scope.q("dispatch__organization__path"))
        .select_related("dispatch", "dispatch__organization", "organization")
        .annotate(_answered=ExpressionWrapper(Q(feedback_at__isnull=False), output_field=BooleanField()))
        .order_by("_answered", "dispatch__due", "-dispatch_id", "organization__path")
    )


def dispatch_recipients(*, user: Viewer, dispatch: Dispatch) -> list[DispatchRecipient]:
    """The recipients the user sees on a dispatch's page: every one from the issuing side, else
    those in their scope; with feedback and attachments (three queries)."""
    qs = DispatchRecipient.objects.filter(dispatch=dispatch)
    if not dispatch_is_issuer(user=user, dispatch=dispatch):
        qs = qs.filter(scope_for(user, "view", APP).q("organization__path"))
    rows = list(
        qs.select_related("organization", "feedback", "feedback__submitted_by").order_by("organization__path")
    )
    feedback_ids = [r.feedback.pk for r in rows if _has_feedback(r)]
    attachments: dict[int, list[DispatchAttachment]] = {}
    for item in DispatchAttachment.objects.filter(feedback_id__in=feedback_ids).order_by("id"):
        attachments.setdefault(item.feedback_id, []).append(item)
    links: dict[int, list[Activity]] = {}
    if dispatch.links_records and feedback_ids:
        through = DispatchFeedback.linked_activities.through
        for row in through.objects.filter(dispatchfeedback_id__in=feedback_ids).select_related("activity"):
            links.setdefault(row.dispatchfeedback_id, []).append(row.activity)
    for r in rows:
        if _has_feedback(r):
            r.feedback.attachment_list = attachments.get(r.feedback.pk, [])  # type: ignore[attr-defined]
            r.feedback.activity_list = sorted(  # type: ignore[attr-defined]
                links.get(r.feedback.pk, []), key=lambda a: a.start
            )
    return rows


def _has_feedback(recipient: DispatchRecipient) -> bool:
    try:
        return recipient.feedback is not None
    except DispatchFeedback.DoesNotExist:
        return False


def dispatch_completion(*, user: Viewer, dispatch: Dispatch, today: date | None = None) -> Completion:
    """The completion figures over every recipient (issuing side) or those in scope."""
    today = today or timezone.localdate()
    qs = DispatchRecipient.objects.filter(dispatch=dispatch)
    if not dispatch_is_issuer(user=user, dispatch=dispatch):
        qs = qs.filter(scope_for(user, "view", APP).q("organization__path"))
    return Completion.of(list(qs.only("pk", "feedback_at")), dispatch.due, today)


def dispatch_recipient_for_feedback(*, user: Viewer, dispatch: Dispatch, org_pk: Any) -> DispatchRecipient:
    """A recipient of the dispatch that the user may answer for (change scope), else 404."""
    scope = scope_for(user, "change", APP)
    recipient = (
        DispatchRecipient.objects.filter(
            scope.q("organization__path"), dispatch=dispatch, organization_id=org_pk
        )
        .select_related("organization")
        .first()
        if str(org_pk).isdigit() and scope.paths
        else None
    )
    if recipient is None:
        raise Http404("该组织没有收到此调度任务，或不在您的权限范围内")
    return recipient


def dispatch_answerable(
    *, user: Viewer, dispatch: Dispatch, recipients: list[DispatchRecipient], today: date
) -> set[int]:
    """The ids of the recipients the user may answer for on ``today``: the rule of
    ``dispatch_recipient_for_feedback`` and ``dispatch_feedback_submit`` (change scope over the
    recipient organisation; an answer given may be corrected only until the due date)."""
    scope = scope_for(user, "change", APP)
    if not scope.paths:
        return set()
    return {
        r.pk
        for r in recipients
        if scope.covers(r.organization.path) and (r.feedback_at is None or today <= dispatch.due)
    }


def dispatch_feedback_of(*, user: Viewer, recipient: DispatchRecipient) -> DispatchFeedback | None:
    if not scope_for(user, "view", APP).covers(recipient.organization.path):
        return None
    return (
        DispatchFeedback.objects.filter(recipient=recipient)
        .prefetch_related(Prefetch("attachments", queryset=DispatchAttachment.objects.order_by("id")))
        .first()
    )


def dispatch_attachment_get(*, user: Viewer, pk: Any) -> DispatchAttachment:
    """An attachment, to those who see its recipient (receiving side) or its dispatch's issuer."""
    scope = scope_for(user, "view", APP)
    item = (
        DispatchAttachment.objects.filter(
            scope.q("feedback__recipient__organization__path")
            | scope.q("feedback__recipient__dispatch__organization__path"),
            pk=pk,
        ).first()
        if str(pk).isdigit() and scope.paths
        else None
    )
    if item is None:
        raise Http404("附件不存在")
    return item


def dispatch_export_rows(*, user: Viewer, dispatch: Dispatch, today: date | None = None) -> list[list[Any]]:
    """The completion table as rows: organisation, code, status, feedback time, reminded, feedback."""
    today = today or timezone.localdate()
    rows = []
    for r in dispatch_recipients(user=user, dispatch=dispatch):
        feedback = r.feedback if _has_feedback(r) else None
        rows.append(
            [
                r.organization.name,
                r.organization.code,
                str(r.status_on(today, dispatch.due).label),
                timezone.localtime(r.feedback_at).strftime("%Y-%m-%d %H:%M") if r.feedback_at else "",
                timezone.localtime(r.reminded_at).strftime("%Y-%m-%d %H:%M") if r.reminded_at else "",
                feedback.text if feedback else "",
                len(getattr(feedback, "activity_list", [])) if feedback else 0,
            ]
        )
    return rows


def dispatch_issuer_choices(*, user: Viewer) -> QuerySet[Organization]:
    """Organisations the user may dispatch from: where they hold org_admin with supervision.add."""
    paths = [p for p in role_paths(user, RoleCode.ORG_ADMIN) if scope_for(user, "add", APP).covers(p)]
    if not paths:
        return Organization.objects.none()
    return Organization.objects.filter(subtree_q("path", paths), is_active=True).order_by("path")


def dispatch_topic_choices(*, user: Viewer, year: int) -> QuerySet[RequiredTopic]:
    """Required topics of the year's plans issued at or above the organisations the user may
    dispatch from (the service checks the chosen issuer again)."""
    paths = [p for p in role_paths(user, RoleCode.ORG_ADMIN) if scope_for(user, "add", APP).covers(p)]
    above = {a for p in paths for a in ancestor_paths(p)}
    return (
        RequiredTopic.objects.filter(
            Q(plan__organization__path__in=above) | scope_for(user, "add", APP).q("plan__organization__path"),
            plan__year__in=[year - 1, year, year + 1],
        )
        .select_related("plan")
        .order_by("-plan__year", "plan_id", "sort_order", "id")
    )


def dispatch_open_for(*, user: Viewer) -> list[DispatchRecipient]:
    """Dispatches the user must answer: received by an organisation where they hold a role with
    supervision.change (exactly there, not every organisation below), not yet answered."""
    paths = scope_for(user, "change", APP).paths
    if not paths:
        return []
    return list(
        DispatchRecipient.objects.filter(organization__path__in=paths, feedback_at__isnull=True)
        .select_related("dispatch", "organization")
        .order_by("dispatch__due", "dispatch_id")[:50]
    )


# --- quarterly notes -------------------------------------------------------------------------------
def quarterly_note_list(*, user: Viewer) -> QuerySet[QuarterlyNote]:
    """Notes published in the user's scope or by an organisation above it."""
    scope = scope_for(user, "view", APP)
    if not scope.paths:
        return QuarterlyNote.objects.none()
    above = {a for p in scope.paths for a in ancestor_paths(p)}
    return (
        QuarterlyNote.objects.filter(scope.q("organization__path") | Q(organization__path__in=above))
        .select_related("organization")
        .order_by("-year", "-quarter", "organization__path", "-id")
    )


def quarterly_note_get(*, user: Viewer, pk: Any) -> QuarterlyNote:
    note = quarterly_note_list(user=user).filter(pk=pk).first() if str(pk).isdigit() else None
    if note is None:
        raise Http404("季度反馈不存在或不在您的权限范围内")
    return note

"""The appraisal's items on the workbench (``core.todo``):

- a participant: the self-evaluation to write while step 1 is open (请完成自我评价), the ballot to
  cast while the vote is open (请参加民主测评, voters only) — each only while it is still to do;
- a secretary: the follow-ups of members rated 不合格 that are open past their deadline, within
  the organisations where they may change appraisals (民主评议：N 项不合格党员整改待跟进).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_action
from partyedu.core.todo import TodoItem

from .choices import FollowUpStatus, StepCode
from .models import AppraisalStep, BallotReceipt, FollowUp, Participant

SECTION = "民主评议"


def appraisal_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for appraisals: see the module's docstring."""
    if user is None or not user.is_authenticated:
        return []
    return [*_participant_items(user), *_secretary_items(user)]


def _open_step(code: str) -> Exists:
    return Exists(
        AppraisalStep.objects.filter(
            appraisal=OuterRef("appraisal"), code=code, opened_at__isnull=False, closed_at__isnull=True
        )
    )


def _participant_items(user: Viewer) -> list[TodoItem]:
    mine = Participant.objects.filter(member__user_id=int(user.pk or 0))
    items: list[TodoItem] = []
    to_write = (
        mine.filter(_open_step(StepCode.SELF), self_evaluation="")
        .select_related("appraisal__organization")
        .order_by("appraisal_id")[:3]
    )
    for p in to_write:
        items.append(
            TodoItem(
                key=f"appraisal.self:{p.appraisal_id}",
                section=SECTION,
                title="请完成自我评价",
                detail=f"{p.appraisal.organization.name}{p.appraisal.year}年度民主评议党员",
                url=reverse("appraisal:self_evaluation", args=[p.appraisal_id]),
                priority=1,
                icon="pencil-square",
            )
        )
    to_vote = (
        mine.filter(_open_step(StepCode.VOTE), is_voter=True)
        .exclude(
            Exists(BallotReceipt.objects.filter(appraisal=OuterRef("appraisal"), voter=OuterRef("member")))
        )
        .select_related("appraisal__organization")
        .order_by("appraisal_id")[:3]
    )
    for p in to_vote:
        items.append(
            TodoItem(
                key=f"appraisal.vote:{p.appraisal_id}",
                section=SECTION,
                title="请参加民主测评",
                detail=f"{p.appraisal.organization.name}{p.appraisal.year}年度民主评议党员，投票不记名",
                url=reverse("appraisal:ballot", args=[p.appraisal_id]),
                priority=1,
                icon="check2-square",
            )
        )
    return items


def _secretary_items(user: Viewer) -> list[TodoItem]:
    if not has_action(user, "change", "appraisal"):
        return []
    overdue = (
        FollowUp.objects.restrict(user, "change")
        .filter(status=FollowUpStatus.OPEN, deadline__lt=timezone.localdate())
        .count()
    )
    if not overdue:
        return []
    return [
        TodoItem(
            key="appraisal.follow_ups",
            section=SECTION,
            title=f"民主评议：{overdue} 项不合格党员整改待跟进",
            detail="整改期限已过，请了解整改情况并办结",
            url=reverse("appraisal:follow_up_list") + "?status=open",
            count=overdue,
            priority=0,
            icon="exclamation-triangle",
        )
    ]

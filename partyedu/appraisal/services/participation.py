"""What participants write: their self-evaluation (step 1), anonymous peer comments (step 2) and
their anonymous ballot (step 3). A participant acts through their own member record: an account
that is not a participant of the appraisal gets ``Http404`` (it learns nothing of it).

Ballots and comments are stored without their author (``anonymity``); their audit rows name the
appraisal only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction

from ..anonymity import ballot_key, ballot_keys, comment_key, comment_keys
from ..choices import Grade, StepCode
from ..models import (
    COMMENT_MAX,
    SELF_EVALUATION_MAX,
    Appraisal,
    AppraisalStep,
    BallotReceipt,
    Participant,
    PeerComment,
    Vote,
)

NOT_A_PARTICIPANT = "您不是该民主评议的参评党员"


def participant_of(*, actor: Actor, appraisal: Appraisal) -> Participant:
    """The actor's own participation in the appraisal, else 404."""
    if actor is None or not actor.is_authenticated:
        raise Http404(NOT_A_PARTICIPANT)
    participant = (
        Participant.objects.filter(appraisal_id=appraisal.pk, member__user=actor)
        .select_related("member")
        .first()
    )
    if participant is None:
        raise Http404(NOT_A_PARTICIPANT)
    return participant


def _locked(appraisal: Appraisal) -> Appraisal:
    # Every write of a participant takes the appraisal's row, as opening and closing a step does,
    # so a ballot is never written after the vote closed in another transaction.
    return Appraisal.objects.select_for_update().get(pk=appraisal.pk)


def _require_open(appraisal: Appraisal, code: str, field: str) -> AppraisalStep:
    step = AppraisalStep.objects.get(appraisal=appraisal, code=code)
    label = step.get_code_display()
    if step.opened_at is None:
        raise ValidationError({field: f"{label}环节尚未开始"})
    if step.closed_at is not None:
        raise ValidationError({field: f"{label}环节已经结束，不能再提交或修改"})
    return step


def _clean_text(text: Any, *, field: str, label: str, limit: int, required: bool) -> str:
    value = str(text or "").strip()
    if required and not value:
        raise ValidationError({field: f"{label}不能为空"})
    if len(value) > limit:
        raise ValidationError({field: f"{label}最多{limit}个字（现有{len(value)}个字）"})
    try:
        control_chars.check_text(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return value


@transaction.atomic
def self_evaluation_save(*, actor: Actor, appraisal: Appraisal, text: Any) -> Participant:
    """Write or rewrite the actor's own self-evaluation while step 1 is open."""
    appraisal = _locked(appraisal)
    participant = participant_of(actor=actor, appraisal=appraisal)
    _require_open(appraisal, StepCode.SELF, "text")
    value = _clean_text(text, field="text", label="自我评价", limit=SELF_EVALUATION_MAX, required=True)
    first = not participant.self_evaluation
    participant.self_evaluation = value
    participant.self_evaluated_at = timezone.now()
    participant.save(update_fields=["self_evaluation", "self_evaluated_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if first else AuditAction.UPDATE,
        obj=participant,
        object_repr=f"{participant.member.name}的自我评价",
        changes={"appraisal": appraisal.pk, "self_evaluation": f"{len(value)}字"},
    )
    return participant


@transaction.atomic
def peer_comment_save(*, actor: Actor, appraisal: Appraisal, appraisee: Any, text: Any) -> PeerComment | None:
    """Leave (or replace) the actor's anonymous comment on another participant while step 2 is
    open; an empty text withdraws it (returns None)."""
    appraisal = _locked(appraisal)
    author = participant_of(actor=actor, appraisal=appraisal)
    _require_open(appraisal, StepCode.PEER, "text")
    target = member_id_of(appraisee, field="appraisee")
    if target == author.member_id:
        raise ValidationError({"appraisee": "互评是对其他参评党员的评议，不评议自己"})
    if not Participant.objects.filter(appraisal=appraisal, member_id=target).exists():
        raise ValidationError({"appraisee": "该党员不是本次民主评议的参评党员"})
    value = _clean_text(text, field="text", label="评议意见", limit=COMMENT_MAX, required=False)
    PeerComment.objects.filter(
        appraisal=appraisal, appraisee_id=target, author_key__in=comment_keys(appraisal.pk, author.member_id)
    ).delete()
    comment = None
    if value:
        comment = PeerComment.objects.create(
            appraisal=appraisal,
            appraisee_id=target,
            text=value,
            author_key=comment_key(appraisal.pk, author.member_id),
        )
    # The appraisal only: naming the appraisee would tie the author to the comment.
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=appraisal,
        changes={"peer_comment": "submitted" if value else "withdrawn"},
    )
    return comment


def member_id_of(value: Any, *, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: "党员编号有误"})
    try:
        number = int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        raise ValidationError({field: "党员编号有误"}) from None
    if not 0 < number < 2**63:
        raise ValidationError({field: "党员编号有误"})
    return number


@dataclass(frozen=True)
class BallotResult:
    receipt: BallotReceipt
    created: bool  # False: a ballot the voter had cast was replaced


def _clean_votes(
    votes: Iterable[Mapping[str, Any]], participants: dict[int, Participant], voter: int
) -> dict[int, str]:
    """The ballot's grades by appraisee, checked against the participants: every item names a
    participant other than the voter once, with one of the four grades. A participant left out is
    an abstention on them (no row)."""
    cleaned: dict[int, str] = {}
    items = list(votes or [])
    if not items:
        raise ValidationError({"votes": "选票不能为空：请为其他参评党员选择等次"})
    for n, item in enumerate(items, start=1):
        where = f"第{n}项"
        if not isinstance(item, Mapping):
            raise ValidationError({"votes": f"{where}：格式有误"})
        member_id = (
            member_id_of(item.get("member"), field="votes") if item.get("member") is not None else None
        )
        if member_id is None:
            raise ValidationError({"votes": f"{where}：请指明被测评的党员"})
        if member_id == voter:
            raise ValidationError({"votes": f"{where}：不能给自己投票"})
        participant = participants.get(member_id)
        if participant is None:
            raise ValidationError({"votes": f"{where}：该党员不是本次民主评议的参评党员"})
        if member_id in cleaned:
            raise ValidationError(
                {"votes": f"{where}：{participant.member.name}重复出现，每人只能评一个等次"}
            )
        grade = item.get("grade")
        if grade not in Grade.values:
            raise ValidationError(
                {
                    "votes": f"{where}：等次须为优秀、合格、基本合格或不合格（excellent、qualified、basically_qualified、unqualified）"
                }
            )
        cleaned[member_id] = str(grade)
    return cleaned


@transaction.atomic
def ballot_submit(*, actor: Actor, appraisal: Appraisal, votes: Iterable[Mapping[str, Any]]) -> BallotResult:
    """Cast or replace the actor's ballot while the vote is open: one grade per other participant
    (``[{"member": id, "grade": code}]``). A replaced ballot's rows are deleted and the new ones
    written (never added). 预备党员 take part in the appraisal but do not vote."""
    appraisal = _locked(appraisal)
    voter = participant_of(actor=actor, appraisal=appraisal)
    if not voter.is_voter:
        raise ValidationError({"votes": "预备党员参加民主评议，但不参加民主测评投票（没有表决权）"})
    _require_open(appraisal, StepCode.VOTE, "votes")
    participants = {
        p.member_id: p for p in Participant.objects.filter(appraisal=appraisal).select_related("member")
    }
    grades = _clean_votes(votes, participants, voter.member_id)
    now = timezone.now()
    receipt = (
        BallotReceipt.objects.select_for_update()
        .filter(appraisal=appraisal, voter_id=voter.member_id)
        .first()
    )
    created = receipt is None
    if receipt is None:
        receipt = BallotReceipt.objects.create(
            appraisal=appraisal, voter_id=voter.member_id, submitted_at=now, updated_at=now
        )
    else:
        receipt.updated_at = now
        receipt.save(update_fields=["updated_at"])
    Vote.objects.filter(
        appraisal=appraisal, ballot_key__in=ballot_keys(appraisal.pk, voter.member_id)
    ).delete()
    key = ballot_key(appraisal.pk, voter.member_id)
    Vote.objects.bulk_create(
        Vote(appraisal=appraisal, appraisee_id=member_id, grade=grade, ballot_key=key)
        for member_id, grade in grades.items()
    )
    # "A ballot was cast" and nothing of its content: the audit log may not link voter and grade.
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=appraisal,
        changes={"ballot": "submitted" if created else "replaced"},
    )
    return BallotResult(receipt=receipt, created=created)

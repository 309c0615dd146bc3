"""The branch committee's decision (step 4) and the follow-ups of members rated 不合格.

Rules: the committee (``appraisal.change`` at the branch) grades participants while step 4 is
open, and may change a grade until it closes; when more than ``excellent_share`` of the
participants are rated 优秀 the decision needs a written reason for the level above; a 不合格
needs its follow-up — the measure (限期改正 with a deadline, 劝其退党, 组织处置) — which the
secretary tracks to closure. A follow-up whose member is no longer rated 不合格 is removed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from partyedu.accounts.types import Actor
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require

from ..choices import FollowUpMeasure, FollowUpStatus, Grade, StepCode
from ..models import Appraisal, AppraisalStep, FollowUp, Participant
from .appraisals import APP, NO_RIGHT, excess_excellent, excess_message
from .participation import member_id_of

REASON_MAX = 2000
NOTE_MAX = 500


def _deadline(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({"grades": f"{where}：整改期限须为日期，如2026-06-30"})
    return parsed


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


def _line(value: Any, *, field: str, label: str, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError({field: f"{label}最多{limit}个字"})
    try:
        control_chars.check_text(text)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return text


def _clean_grades(
    grades: Iterable[Mapping[str, Any]], participants: dict[int, Participant], follow_ups: dict[int, FollowUp]
) -> dict[int, dict[str, Any]]:
    cleaned: dict[int, dict[str, Any]] = {}
    items = list(grades or [])
    if not items:
        raise ValidationError({"grades": "请为参评党员评定等次"})
    for n, item in enumerate(items, start=1):
        where = f"第{n}项"
        if not isinstance(item, Mapping) or item.get("member") is None:
            raise ValidationError({"grades": f"{where}：请指明党员"})
        member_id = member_id_of(item.get("member"), field="grades")
        participant = participants.get(member_id)
        if participant is None:
            raise ValidationError({"grades": f"{where}：该党员不是本次民主评议的参评党员"})
        name = participant.member.name
        if member_id in cleaned:
            raise ValidationError({"grades": f"{where}：{name}重复出现"})
        grade = item.get("grade")
        if grade not in Grade.values:
            raise ValidationError({"grades": f"{where}（{name}）：等次须为优秀、合格、基本合格或不合格"})
        entry: dict[str, Any] = {"grade": grade}
        if grade == Grade.UNQUALIFIED:
            measure = item.get("measure") or None
            existing = follow_ups.get(member_id)
            if measure is None and existing is None:
                raise ValidationError(
                    {"grades": f"{where}（{name}）：评为不合格须确定处置措施（限期改正、劝其退党或组织处置）"}
                )
            if measure is not None:
                if measure not in FollowUpMeasure.values:
                    raise ValidationError(
                        {"grades": f"{where}（{name}）：处置措施须为限期改正、劝其退党或组织处置"}
                    )
                deadline = _deadline(item.get("deadline"), f"{where}（{name}）")
                if measure == FollowUpMeasure.RECTIFY_BY_DEADLINE and deadline is None:
                    raise ValidationError({"grades": f"{where}（{name}）：限期改正须填写整改期限"})
                entry["follow_up"] = {
                    "measure": measure,
                    "deadline": deadline,
                    "note": _line(
                        item.get("note"), field="grades", label=f"{where}（{name}）说明", limit=NOTE_MAX
                    ),
                }
        cleaned[member_id] = entry
    return cleaned


@transaction.atomic
def appraisal_decide(
    *,
    actor: Actor,
    appraisal: Appraisal,
    grades: Iterable[Mapping[str, Any]],
    reason: str | None = None,
) -> Appraisal:
    """Set the committee's grade of the participants named in ``grades`` (``[{"member", "grade",
    and for 不合格 "measure", "deadline", "note"}]``) while step 4 is open. ``reason`` replaces the
    stored reason (None keeps it); it is required when 优秀 then exceeds the share."""
    appraisal = Appraisal.objects.select_for_update().select_related("organization").get(pk=appraisal.pk)
    require(actor, "change", appraisal.organization, app_label=APP, message=NO_RIGHT)
    step = AppraisalStep.objects.get(appraisal=appraisal, code=StepCode.DECIDE)
    if step.opened_at is None:
        raise ValidationError({"grades": "支部委员会研究决定环节尚未开启：须在民主测评投票结束后开启"})
    if step.closed_at is not None:
        raise ValidationError({"grades": "支部委员会研究决定环节已经结束，不能再修改等次"})
    participants = {
        p.member_id: p for p in Participant.objects.filter(appraisal=appraisal).select_related("member")
    }
    follow_ups = {f.member_id: f for f in FollowUp.objects.filter(appraisal=appraisal)}
    cleaned = _clean_grades(grades, participants, follow_ups)
    new_reason = (
        appraisal.reason if reason is None else _line(reason, field="reason", label="理由", limit=REASON_MAX)
    )
    after = {m: cleaned[m]["grade"] if m in cleaned else p.grade for m, p in participants.items()}
    excess = excess_excellent(appraisal, after)
    if excess and not new_reason:
        raise ValidationError({"reason": excess_message(*excess, appraisal.excellent_share)})

    now = timezone.now()
    user = actor if actor is not None and actor.is_authenticated else None
    changed: dict[str, list[str]] = {}
    for member_id, entry in cleaned.items():
        participant = participants[member_id]
        if participant.grade != entry["grade"]:
            changed[str(member_id)] = [participant.grade, entry["grade"]]
            participant.grade = entry["grade"]
            participant.decided_at = now
            participant.decided_by = user
            participant.save(update_fields=["grade", "decided_at", "decided_by", "updated_at"])
        _follow_up_sync(
            actor=actor,
            appraisal=appraisal,
            participant=participant,
            entry=entry,
            existing=follow_ups.get(member_id),
        )
    audit_changes: dict[str, Any] = {}
    if changed:
        audit_changes["grades"] = changed
    if new_reason != appraisal.reason:
        audit_changes["reason"] = [appraisal.reason, new_reason]
        appraisal.reason = new_reason
        appraisal.save(update_fields=["reason", "updated_at"])
    if audit_changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=appraisal, changes=audit_changes)
    return appraisal


def _follow_up_sync(
    *,
    actor: Actor,
    appraisal: Appraisal,
    participant: Participant,
    entry: dict[str, Any],
    existing: FollowUp | None,
) -> None:
    name = participant.member.name
    data = entry.get("follow_up")
    if entry["grade"] != Grade.UNQUALIFIED:
        # An open follow-up goes with the grade it followed; a closed one stays as history.
        if existing is not None and existing.status == FollowUpStatus.OPEN:
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                obj=existing,
                object_repr=f"{name}（不合格党员跟进）",
                changes={"appraisal": appraisal.pk, "reason": "等次改为非不合格"},
            )
            existing.delete()
        return
    if data is None:
        return  # 不合格 again, the follow-up already decided stays as it is
    if existing is None:
        follow_up = FollowUp(
            appraisal=appraisal,
            member_id=participant.member_id,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **data,
        )
        follow_up.full_clean()
        follow_up.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=follow_up,
            object_repr=f"{name}（不合格党员跟进）",
            changes={"appraisal": appraisal.pk, **_plain(data)},
        )
        return
    before = {k: getattr(existing, k) for k in data}
    if before == data:
        return
    for field, value in data.items():
        setattr(existing, field, value)
    existing.full_clean()
    existing.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=existing,
        object_repr=f"{name}（不合格党员跟进）",
        changes={k: [_plain(before)[k], _plain(data)[k]] for k in data if before[k] != data[k]},
    )


@transaction.atomic
def follow_up_close(*, actor: Actor, follow_up: FollowUp, closing_note: Any) -> FollowUp:
    """Close a follow-up with a note on the outcome (整改情况, 处置结果)."""
    follow_up = (
        FollowUp.objects.select_for_update()
        .select_related("appraisal__organization", "member")
        .get(pk=follow_up.pk)
    )
    require(actor, "change", follow_up.appraisal.organization, app_label=APP, message=NO_RIGHT)
    if follow_up.status == FollowUpStatus.CLOSED:
        raise ValidationError({"closing_note": "该跟进事项已经办结"})
    note = _line(closing_note, field="closing_note", label="办结情况", limit=NOTE_MAX)
    if not note:
        raise ValidationError({"closing_note": "请填写办结情况（整改结果或处置结果）"})
    follow_up.status = FollowUpStatus.CLOSED
    follow_up.closing_note = note
    follow_up.closed_at = timezone.now()
    follow_up.closed_by = actor if actor is not None and actor.is_authenticated else None
    follow_up.save(update_fields=["status", "closing_note", "closed_at", "closed_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=follow_up,
        object_repr=f"{follow_up.member.name}（不合格党员跟进）",
        changes={"status": [FollowUpStatus.OPEN, FollowUpStatus.CLOSED], "closing_note": note},
    )
    return follow_up

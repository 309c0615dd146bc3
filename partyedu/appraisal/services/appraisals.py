"""Creating an appraisal, its schedule and participants, and opening and closing its steps.

Rules: one appraisal per branch and year; the participants are the branch's 预备党员 and 正式党员
(in the branch itself and its 党小组) when it is created, and a member who joined later may be
added until the vote opens; the steps open in their fixed order, each after the previous one
closed; closing 研究决定 needs a grade for every participant (and the reason when 优秀 exceeds the
share); closing 上报 marks the appraisal reported. Every write is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.choices import PARTY_STATUSES, MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.study.models import Activity

from ..choices import STEP_ORDER, AppraisalStatus, Grade, StepCode
from ..models import DEFAULT_EXCELLENT_SHARE, Appraisal, AppraisalStep, Participant
from .participation import member_id_of

APP = "appraisal"
SHARE_ROUNDING = Decimal("0.00005")
NO_RIGHT = "您无权管理该党支部的民主评议"


@dataclass(frozen=True)
class PlannedDates:
    """The planned start and end of one step (either may be unknown)."""

    start: date | None = None
    end: date | None = None


def branch_members(organization: Organization) -> QuerySet[Member]:
    """The organisation's 预备党员 and 正式党员 on the roll: those in it directly and in its 党小组
    (a 党小组 belongs to its branch; 条例 第二十五条)."""
    return Member.objects.filter(
        Q(organization=organization)
        | Q(organization__parent=organization, organization__level=OrgLevel.GROUP),
        status__in=PARTY_STATUSES,
        is_active=True,
    )


def is_exempt(member: Member) -> bool:
    """免于硬性要求: marked exempt or of the 年老体弱 category (the rule of the points app)."""
    return bool(member.is_exempt or MemberCategory.FRAIL in (member.categories or ()))


def _participant(appraisal: Appraisal, member: Member) -> Participant:
    return Participant(
        appraisal=appraisal,
        member=member,
        status_at_snapshot=member.status,
        is_voter=member.status == MemberStatus.FULL,
        exempt=is_exempt(member),
    )


def _check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "年度须为整数"}) from None
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise ValidationError({"year": f"年度须在{YEAR_MIN}到{YEAR_MAX}之间"})
    return value


def _check_share(value: Any) -> Decimal:
    if value in (None, ""):
        return DEFAULT_EXCELLENT_SHARE
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"excellent_share": "优秀比例上限须为0到1之间的小数，如0.3333"}) from None
    if not share.is_finite() or not Decimal("0") < share <= Decimal("1"):
        raise ValidationError({"excellent_share": "优秀比例上限须大于0且不超过1，如0.3333（三分之一）"})
    return share.quantize(Decimal("0.0001"))


def _check_schedule(schedule: dict[str, PlannedDates] | None) -> dict[str, PlannedDates]:
    schedule = dict(schedule or {})
    unknown = set(schedule) - set(STEP_ORDER)
    if unknown:
        raise ValidationError({"schedule": f"环节代码有误：{'、'.join(sorted(unknown))}"})
    previous: tuple[str, date] | None = None
    for code in STEP_ORDER:
        dates = schedule.get(code) or PlannedDates()
        label = StepCode(code).label
        if dates.start and dates.end and dates.end < dates.start:
            raise ValidationError({"schedule": f"{label}：计划结束日期不能早于开始日期"})
        first = dates.start or dates.end
        if first is None:
            continue
        if previous is not None and first < previous[1]:
            raise ValidationError(
                {"schedule": f"{label}的计划日期不能早于{StepCode(previous[0]).label}：各环节依次进行"}
            )
        previous = (code, first)
    return schedule


def _check_meeting(organization: Organization, meeting: Activity | None) -> Activity | None:
    if meeting is None:
        return None
    if meeting.organization_id != organization.pk:
        raise ValidationError({"meeting": "民主测评会议须是本支部的活动"})
    return meeting


@transaction.atomic
def appraisal_create(
    *,
    actor: Actor,
    organization: Organization,
    year: Any,
    excellent_share: Any = None,
    schedule: dict[str, PlannedDates] | None = None,
    meeting: Activity | None = None,
) -> Appraisal:
    """Start the branch's 民主评议党员 of ``year``: the five steps with their planned dates, and
    the participants snapshotted from the branch's members."""
    if organization is None:
        raise ValidationError({"organization": "党支部不能为空"})
    require(actor, "add", organization, app_label=APP, message="您无权为该组织开展民主评议")
    year = _check_year(year)
    share = _check_share(excellent_share)
    planned = _check_schedule(schedule)
    meeting = _check_meeting(organization, meeting)
    if not organization.is_active:
        raise ValidationError({"organization": "该组织已撤销"})
    members = list(branch_members(organization).order_by("name", "id"))
    if not members:
        raise ValidationError(
            {"organization": "民主评议以党支部为单位开展：所选组织没有直接隶属的预备党员或正式党员"}
        )
    if Appraisal.objects.filter(organization=organization, year=year).exists():
        raise ValidationError({"year": f"{organization.name}已有{year}年度的民主评议党员"})
    appraisal = Appraisal(
        organization=organization,
        year=year,
        excellent_share=share,
        meeting=meeting,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    appraisal.full_clean()
    appraisal.save()
    AppraisalStep.objects.bulk_create(
        AppraisalStep(
            appraisal=appraisal,
            code=code,
            position=position,
            planned_start=(planned.get(code) or PlannedDates()).start,
            planned_end=(planned.get(code) or PlannedDates()).end,
        )
        for position, code in enumerate(STEP_ORDER, start=1)
    )
    Participant.objects.bulk_create(_participant(appraisal, m) for m in members)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=appraisal,
        object_repr=f"{organization.name}{year}年度民主评议党员",
        changes={
            "organization": organization.pk,
            "year": year,
            "excellent_share": str(share),
            "participants": len(members),
            "voters": sum(1 for m in members if m.status == MemberStatus.FULL),
            "meeting": meeting.pk if meeting else None,
        },
    )
    return appraisal


def _locked(appraisal: Appraisal) -> Appraisal:
    return Appraisal.objects.select_for_update().select_related("organization").get(pk=appraisal.pk)


def _steps(appraisal: Appraisal) -> dict[str, AppraisalStep]:
    return {s.code: s for s in AppraisalStep.objects.filter(appraisal=appraisal).order_by("position")}


@transaction.atomic
def appraisal_update(
    *,
    actor: Actor,
    appraisal: Appraisal,
    schedule: dict[str, PlannedDates] | None = None,
    meeting: Activity | None = None,
) -> Appraisal:
    """Change the planned dates and the link to the meeting that held the vote (any time before
    the appraisal is reported)."""
    appraisal = _locked(appraisal)
    require(actor, "change", appraisal.organization, app_label=APP, message=NO_RIGHT)
    if appraisal.status == AppraisalStatus.REPORTED:
        raise ValidationError({"schedule": "该民主评议已上报，不能再修改"})
    planned = _check_schedule(schedule)
    meeting = _check_meeting(appraisal.organization, meeting)
    changes: dict[str, Any] = {}
    for code, step in _steps(appraisal).items():
        dates = planned.get(code) or PlannedDates()
        if (step.planned_start, step.planned_end) != (dates.start, dates.end):
            changes[f"{code}_planned"] = [
                [str(step.planned_start or ""), str(step.planned_end or "")],
                [str(dates.start or ""), str(dates.end or "")],
            ]
            step.planned_start, step.planned_end = dates.start, dates.end
            step.save(update_fields=["planned_start", "planned_end", "updated_at"])
    if appraisal.meeting_id != (meeting.pk if meeting else None):
        changes["meeting"] = [appraisal.meeting_id, meeting.pk if meeting else None]
        appraisal.meeting = meeting
        appraisal.save(update_fields=["meeting", "updated_at"])
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=appraisal, changes=changes)
    return appraisal


@transaction.atomic
def participant_add(*, actor: Actor, appraisal: Appraisal, member: Member | int | None) -> Participant:
    """Add a member who joined the branch after the appraisal was created; only before the
    vote opens (the ballot covers the participants known when voting starts)."""
    appraisal = _locked(appraisal)
    require(actor, "change", appraisal.organization, app_label=APP, message=NO_RIGHT)
    vote = _steps(appraisal)[StepCode.VOTE]
    if vote.opened_at is not None:
        raise ValidationError({"member": "民主测评投票已经开始，不能再增加参评党员"})
    if member is None:
        raise ValidationError({"member": "请选择党员"})
    found = branch_members(appraisal.organization).filter(pk=member_id_of(member, field="member")).first()
    if found is None:
        raise ValidationError({"member": "只能增加本支部（含党小组）的预备党员或正式党员"})
    if Participant.objects.filter(appraisal=appraisal, member=found).exists():
        raise ValidationError({"member": f"{found.name}已是参评党员"})
    participant = _participant(appraisal, found)
    participant.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=appraisal,
        changes={"participant_added": found.pk, "is_voter": participant.is_voter},
    )
    return participant


def excess_excellent(appraisal: Appraisal, grades: dict[int, str]) -> tuple[int, int, int] | None:
    """(excellent count, participants, the share's limit in people) when 优秀 exceeds the
    appraisal's share, else None. ``grades`` is each participant's grade by member id."""
    total = len(grades)
    excellent = sum(1 for g in grades.values() if g == Grade.EXCELLENT)
    limit = excellent_limit(appraisal.excellent_share, total)
    if excellent > limit:
        return excellent, total, limit
    return None


def excellent_limit(share: Decimal, total: int) -> int:
    """How many of ``total`` participants may be rated 优秀 without a reason. The share is kept to
    four decimals (⅓ as 0.3333), so it is read as the fraction it rounds: one of three is within
    0.3333, as it is within ⅓."""
    return int((share + SHARE_ROUNDING) * total)


def excess_message(excellent: int, total: int, limit: int, share: Decimal) -> str:
    percent = (share * 100).quantize(Decimal("0.1"))
    return (
        f"评为优秀的有{excellent}人，超过参评党员{total}人的{percent.normalize():f}%（{limit}人），"
        "须写明理由，随评议结果报上级党组织"
    )


@transaction.atomic
def step_open(*, actor: Actor, appraisal: Appraisal, code: str) -> AppraisalStep:
    """Open a step: the first one, or the one after a closed step."""
    appraisal = _locked(appraisal)
    require(actor, "change", appraisal.organization, app_label=APP, message=NO_RIGHT)
    steps = _steps(appraisal)
    step = steps.get(code)
    if step is None:
        raise ValidationError({"step": f"环节代码有误：{code}"})
    label = step.get_code_display()
    if step.opened_at is not None:
        raise ValidationError({"step": f"{label}环节已经开启过"})
    index = STEP_ORDER.index(code)
    if index:
        previous = steps[STEP_ORDER[index - 1]]
        if previous.closed_at is None:
            raise ValidationError(
                {"step": f"须先结束{previous.get_code_display()}环节，才能开启{label}环节：各环节依次进行"}
            )
    step.opened_at = timezone.now()
    step.opened_by = actor if actor is not None and actor.is_authenticated else None
    step.save(update_fields=["opened_at", "opened_by", "updated_at"])
    if appraisal.status == AppraisalStatus.PLANNED:
        appraisal.status = AppraisalStatus.IN_PROGRESS
        appraisal.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=appraisal,
        changes={"step": code, "opened": step.opened_at.isoformat()},
    )
    return step


@transaction.atomic
def step_close(*, actor: Actor, appraisal: Appraisal, code: str) -> AppraisalStep:
    """Close an open step. Closing 研究决定 needs a grade for every participant (and the reason
    when 优秀 exceeds the share); closing 上报 marks the appraisal reported and finished."""
    appraisal = _locked(appraisal)
    require(actor, "change", appraisal.organization, app_label=APP, message=NO_RIGHT)
    step = _steps(appraisal).get(code)
    if step is None:
        raise ValidationError({"step": f"环节代码有误：{code}"})
    label = step.get_code_display()
    if step.opened_at is None:
        raise ValidationError({"step": f"{label}环节尚未开启"})
    if step.closed_at is not None:
        raise ValidationError({"step": f"{label}环节已经结束"})
    if code == StepCode.DECIDE:
        grades = dict(Participant.objects.filter(appraisal=appraisal).values_list("member_id", "grade"))
        missing = [m for m, g in grades.items() if not g]
        if missing:
            raise ValidationError(
                {
                    "step": f"还有{len(missing)}名参评党员未评定等次：须为每名参评党员评定等次后才能结束研究决定环节"
                }
            )
        excess = excess_excellent(appraisal, grades)
        if excess and not appraisal.reason.strip():
            raise ValidationError({"reason": excess_message(*excess, appraisal.excellent_share)})
    now = timezone.now()
    step.closed_at = now
    step.closed_by = actor if actor is not None and actor.is_authenticated else None
    step.save(update_fields=["closed_at", "closed_by", "updated_at"])
    changes: dict[str, Any] = {"step": code, "closed": now.isoformat()}
    if code == StepCode.REPORT:
        appraisal.status = AppraisalStatus.REPORTED
        appraisal.reported_at = now
        appraisal.save(update_fields=["status", "reported_at", "updated_at"])
        changes["status"] = AppraisalStatus.REPORTED
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=appraisal, changes=changes)
    return step

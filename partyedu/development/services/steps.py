"""Confirming the steps of a development case.

``step_confirm`` is the one way a case moves on and the one way the person's member record changes
status (入党积极分子 → 发展对象 → 预备党员 → 正式党员). It locks the case, checks the order of the
steps, the dates, the people, the meeting's record (quorum and vote) and the timing rules of the
policy that applies; an org_admin of a higher level may set a timing rule aside with a written
reason, which is kept on the step and in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import can_act_above, is_system, require, require_above
from partyedu.learning.candidates import candidate_training_for
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.members.services import member_create, member_leave_roll, member_update
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity
from partyedu.study.selectors import activity_quorum

from ..choices import (
    ABOVE_STEPS,
    VOTE_STEPS,
    ConversionOutcome,
    Recommendation,
    Stage,
    Step,
)
from ..models import NOTE_MAX, CaseStep, DevelopmentCase
from ..policy import add_months, policy_for_path
from ..timing import Violation, extension_used, next_steps, timing_violations

APP = "development"
NOT_YOURS = "您无权办理该党组织的发展党员工作"
ABOVE_ONLY = "该步骤由上级党委办理：须由上级党组织的组织部门管理员确认"
OVERRIDE_ONLY = "只有上级党组织的组织部门管理员可以破例确认，并须写明理由"
OVERRIDE_MAX = 500

# The member record's status at each stage of the case (from 入党积极分子 on).
MEMBER_STATUS: dict[str, str] = {
    Stage.ACTIVIST: MemberStatus.ACTIVIST,
    Stage.CANDIDATE: MemberStatus.CANDIDATE,
    Stage.ADMISSION_VOTED: MemberStatus.CANDIDATE,
    Stage.PROBATIONARY: MemberStatus.PROBATIONARY,
    Stage.CONVERSION_VOTED: MemberStatus.PROBATIONARY,
    Stage.FULL: MemberStatus.FULL,
}

STEP_FIELDS = frozenset(
    {
        "step",
        "date",
        "meeting",
        "yes_votes",
        "recommendation",
        "mentors",
        "sponsors",
        "outcome",
        "extension_months",
        "start_on",
        "people",
        "note",
        "override_reason",
    }
)


class RuleError(ValidationError):
    """A confirmation refused by a rule: the message names the field and ``rules`` the codes."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        errors: dict[str, list[str]] = {}
        for v in violations:
            errors.setdefault(v.field, []).append(v.message)
        errors["rule"] = [v.rule for v in violations]
        super().__init__(errors)
        self.rules = [v.rule for v in violations]


@dataclass
class _Input:
    step: str
    day: date
    meeting: Activity | None
    yes_votes: int | None
    recommendation: str
    mentors: list[Member] | None
    sponsors: list[Member] | None
    outcome: str
    extension_months: int | None
    start_on: date | None
    people: str
    note: str
    override_reason: str
    quorum: tuple[int, int] | None = None


def _int_or_none(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: ["请填写整数"]}) from None
    if number < 0:
        raise ValidationError({field: ["不能为负数"]})
    return number


def _date_or_none(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: ["日期格式应为 YYYY-MM-DD"]}) from None


def _members(case: DevelopmentCase, value: Any, field: str) -> list[Member] | None:
    """Members named by id (or given) for mentors or sponsors: on the roll, in the case's branch's
    subtree's parent tree (any organisation in the same party committee's subtree may lend one)."""
    if value is None:
        return None
    ids: list[int] = []
    for item in value:
        pk = item.pk if isinstance(item, Member) else _int_or_none(item, field)
        if pk is not None and pk not in ids:
            ids.append(pk)
    found = {m.pk: m for m in Member.objects.filter(pk__in=ids, is_active=True)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError({field: [f"找不到在册党员（编号 {', '.join(map(str, missing))}）"]})
    if case.member_id is not None and case.member_id in found:
        raise ValidationError({field: ["不能由本人担任"]})
    return [found[pk] for pk in ids]


def _parse(case: DevelopmentCase, data: dict[str, Any]) -> _Input:
    unknown = sorted(set(data) - STEP_FIELDS)
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})
    step = str(data.get("step") or "")
    if step not in Step.values:
        raise ValidationError({"step": ["请选择要确认的步骤"]})
    day = _date_or_none(data.get("date"), "date")
    if day is None:
        raise ValidationError({"date": ["请填写日期"]})
    if day > timezone.localdate():
        raise ValidationError({"date": ["日期不能晚于今天"]})
    meeting = data.get("meeting")
    if meeting not in (None, "") and not isinstance(meeting, Activity):
        pk = _int_or_none(meeting, "meeting")
        meeting = Activity.objects.filter(pk=pk or 0).select_related("organization").first()
        if meeting is None:
            raise ValidationError({"meeting": ["会议记录不存在"]})
    recommendation = str(data.get("recommendation") or "")
    if recommendation and recommendation not in Recommendation.values:
        raise ValidationError({"recommendation": ["推荐方式应为党员推荐或群团组织推优"]})
    outcome = str(data.get("outcome") or "")
    if outcome and outcome not in ConversionOutcome.values:
        raise ValidationError({"outcome": ["讨论结果应为按期转正、延长预备期或取消预备党员资格"]})
    note = str(data.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"情况记录不能超过{NOTE_MAX}字"]})
    people = str(data.get("people") or "").strip()
    if len(people) > 200:
        raise ValidationError({"people": ["相关人员不能超过200字"]})
    reason = str(data.get("override_reason") or "").strip()
    if len(reason) > OVERRIDE_MAX:
        raise ValidationError({"override_reason": [f"破例说明不能超过{OVERRIDE_MAX}字"]})
    return _Input(
        step=step,
        day=day,
        meeting=meeting or None,
        yes_votes=_int_or_none(data.get("yes_votes"), "yes_votes"),
        recommendation=recommendation,
        mentors=_members(case, data.get("mentors"), "mentors"),
        sponsors=_members(case, data.get("sponsors"), "sponsors"),
        outcome=outcome,
        extension_months=_int_or_none(data.get("extension_months"), "extension_months"),
        start_on=_date_or_none(data.get("start_on"), "start_on"),
        people=people,
        note=note,
        override_reason=reason,
    )


def _check_order(case: DevelopmentCase, steps: Sequence[CaseStep], given: _Input, rules: Any) -> None:
    allowed = next_steps(case, steps, rules)
    if given.step in {n.step for n in allowed}:
        return
    if not allowed:
        message = f"该发展党员已{case.get_stage_display()}，不能再确认步骤"
    else:
        names = "或".join(f"“{n.label}”" for n in allowed)
        done = any(s.step == given.step for s in steps)
        prefix = f"“{Step(given.step).label}”已确认；" if done and given.step != Step.ASSESSMENT else ""
        message = f"{prefix}当前阶段为{case.get_stage_display()}，下一步应为{names}，不能跳过或重复"
    raise RuleError([Violation("order", "step", message, overridable=False)])


def _check_date(steps: Sequence[CaseStep], case: DevelopmentCase, given: _Input) -> None:
    last = steps[-1].date if steps else case.applied_on
    if given.day < last:
        what = f"上一步（{steps[-1].get_step_display()}）" if steps else "申请入党日期"
        raise RuleError([Violation("date_order", "date", f"日期不能早于{what} {last:%Y-%m-%d}", False)])


def _check_people(case: DevelopmentCase, given: _Input, rules: Any, problems: list[Violation]) -> None:
    if given.step == Step.ACTIVIST:
        mentors = given.mentors or []
        if not 1 <= len(mentors) <= rules.mentors_max:
            problems.append(
                Violation(
                    "mentors", "mentors", f"请指定1至{rules.mentors_max}名培养联系人（正式党员）", False
                )
            )
        if not given.recommendation:
            problems.append(
                Violation(
                    "recommendation", "recommendation", "请选择推荐方式（党员推荐或群团组织推优）", False
                )
            )
    if given.step in (Step.ACTIVIST, Step.CANDIDATE, Step.COMMITTEE_REVIEW):
        for field, people in (("mentors", given.mentors), ("sponsors", given.sponsors)):
            not_full = [m.name for m in people or [] if m.status != MemberStatus.FULL]
            if not_full:
                label = "培养联系人" if field == "mentors" else "入党介绍人"
                problems.append(
                    Violation(field, field, f"{label}应为正式党员：{'、'.join(not_full)}不是正式党员", False)
                )
    if given.step == Step.COMMITTEE_REVIEW:
        sponsors = given.sponsors if given.sponsors is not None else list(case.sponsors.all())
        if len(sponsors) != rules.sponsors_required:
            problems.append(
                Violation(
                    "sponsors",
                    "sponsors",
                    f"发展对象应有{rules.sponsors_required}名正式党员作入党介绍人，目前为{len(sponsors)}名",
                    False,
                )
            )
        if not given.note:
            problems.append(
                Violation("political_review", "note", "请填写政治审查结论和支委会审查意见", False)
            )


def _check_meeting(case: DevelopmentCase, given: _Input, problems: list[Violation]) -> None:
    """The vote steps read the quorum and the vote against the meeting's record (支部条例: more
    than half of the voting members present; yes from more than half of those expected)."""
    if given.step not in VOTE_STEPS:
        return
    meeting = given.meeting
    if meeting is None:
        problems.append(Violation("meeting", "meeting", "请选择讨论的支部党员大会（活动记录）", False))
        return
    if (
        meeting.activity_type != ActivityType.BRANCH_ASSEMBLY
        or meeting.organization_id != case.organization_id
    ):
        problems.append(Violation("meeting", "meeting", "应选择本支部的支部党员大会", False))
        return
    if timezone.localdate(meeting.start) != given.day:
        problems.append(
            Violation(
                "meeting",
                "date",
                f"日期应为支部党员大会召开的日期 {timezone.localdate(meeting.start):%Y-%m-%d}",
                False,
            )
        )
    quorum = activity_quorum(user=None, activity=meeting)
    expected, present = quorum["voting_expected"], quorum["voting_present"]
    if not quorum["quorum_met"]:
        problems.append(
            Violation(
                "quorum",
                "meeting",
                f"到会有表决权的正式党员{present}人，未超过应到会{expected}人的半数，会议不能作出决议",
                False,
            )
        )
    votes = given.yes_votes
    if votes is None:
        problems.append(Violation("vote", "yes_votes", "请填写赞成票数", False))
    elif votes > present:
        problems.append(
            Violation("vote", "yes_votes", f"赞成票{votes}张多于到会有表决权党员{present}人", False)
        )
    elif votes * 2 <= expected:
        problems.append(
            Violation(
                "vote",
                "yes_votes",
                f"赞成票{votes}张，未超过应到会有表决权党员{expected}人的半数，不能通过",
                False,
            )
        )
    given.quorum = (expected, present)


def _check_training(case: DevelopmentCase, given: _Input, problems: list[Violation]) -> None:
    """短期集中培训: the 集中培训 hours and days of the hours ledger in the candidate period (from
    becoming 发展对象 to the day confirmed) against the subtree's rule (24 学时 or 3 days)."""
    if given.step != Step.TRAINING_DONE or case.member is None:
        return
    member = case.member
    training = candidate_training_for(user=None, members=[member], today=given.day).get(member.pk)
    if training is None:
        problems.append(Violation("training", "date", "无法读取该发展对象的培训学时"))
    elif not training.met:
        problems.append(
            Violation(
                "training",
                "date",
                f"发展对象期间（{training.start:%Y-%m-%d}起）集中培训{training.hours.normalize():f}学时、"
                f"{training.days}天，未达到{training.required_hours.normalize():f}学时或"
                f"{training.required_days}天",
            )
        )


def _check_conversion(
    case: DevelopmentCase, steps: Sequence[CaseStep], given: _Input, rules: Any
) -> list[Violation]:
    problems: list[Violation] = []
    if given.step != Step.CONVERSION_VOTE:
        return problems
    outcome = given.outcome or ConversionOutcome.CONVERT
    given.outcome = outcome
    if outcome == ConversionOutcome.EXTEND:
        months = given.extension_months
        if extension_used(steps):
            problems.append(Violation("extension_once", "outcome", "预备期只能延长一次", False))
        elif months is None or not rules.extension_min_months <= months <= rules.extension_max_months:
            problems.append(
                Violation(
                    "extension_months",
                    "extension_months",
                    f"延长预备期应为{rules.extension_min_months}至{rules.extension_max_months}个月",
                    False,
                )
            )
    elif given.extension_months:
        problems.append(
            Violation("extension_months", "extension_months", "只有延长预备期时填写延长月数", False)
        )
    return problems


def _locked_case(case: DevelopmentCase) -> DevelopmentCase:
    return (
        DevelopmentCase.objects.select_for_update(of=("self",))
        .select_related("organization", "member")
        .get(pk=case.pk)
    )


def step_confirm(*, actor: Actor, case: DevelopmentCase, data: dict[str, Any]) -> CaseStep:
    """Confirm the next step of ``case`` (see the module docstring). Two confirmations of the same
    step at once produce one step: the second waits for the lock and then finds it done, or — where
    the database takes no row locks — fails on the (case, seq) constraint; both say so in Chinese."""
    try:
        with transaction.atomic():
            return _confirm(actor, case, data)
    except IntegrityError:
        raise RuleError(
            [Violation("order", "step", "该步骤刚刚已由他人确认，请刷新后查看", overridable=False)]
        ) from None


def _confirm(actor: Actor, case: DevelopmentCase, data: dict[str, Any]) -> CaseStep:
    case = _locked_case(case)
    require(actor, "change", case.organization, app_label=APP, message=NOT_YOURS)
    given = _parse(case, data)
    steps = list(case.steps.order_by("seq"))
    if given.step in ABOVE_STEPS:
        require_above(actor, case.organization, ABOVE_ONLY)
    rules = policy_for_path(case.organization.path)
    _check_order(case, steps, given, rules)
    _check_date(steps, case, given)
    problems: list[Violation] = []
    _check_people(case, given, rules, problems)
    _check_meeting(case, given, problems)
    problems += _check_conversion(case, steps, given, rules)
    fixed = [p for p in problems if not p.overridable]
    if fixed:
        raise RuleError(fixed)
    timing = timing_violations(case, steps, rules, given.step, given.day)
    _check_training(case, given, timing)
    if given.override_reason and not timing:
        raise ValidationError({"override_reason": ["没有需要破例的时限规则，请不要填写破例说明"]})
    if timing:
        if not given.override_reason:
            raise RuleError(timing)
        if not (is_system(actor) or can_act_above(actor, case.organization)):
            raise PermissionDenied(OVERRIDE_ONLY)
    row = CaseStep(
        case=case,
        seq=(steps[-1].seq + 1) if steps else 1,
        step=given.step,
        date=given.day,
        meeting=given.meeting,
        voting_expected=given.quorum[0] if given.quorum else None,
        voting_present=given.quorum[1] if given.quorum else None,
        yes_votes=given.yes_votes if given.step in VOTE_STEPS else None,
        recommendation=given.recommendation if given.step == Step.ACTIVIST else "",
        outcome=given.outcome if given.step == Step.CONVERSION_VOTE else "",
        extension_months=given.extension_months if given.outcome == ConversionOutcome.EXTEND else None,
        start_on=given.start_on,
        people=given.people,
        note=given.note,
        confirmed_by=None if is_system(actor) else actor,
        override_reason=given.override_reason if timing else "",
        overridden=[v.rule for v in timing],
    )
    if given.step == Step.PUBLICITY:
        _check_publicity(row, rules)
    if given.step == Step.CONVERSION_APPROVAL:
        vote = [s for s in steps if s.step == Step.CONVERSION_VOTE][-1]
        row.outcome = vote.outcome
        row.extension_months = vote.extension_months
    row.full_clean(exclude=["case", "confirmed_by", "meeting"])
    row.save()
    before = case.stage
    _advance(case, row, given, rules)
    case.last_step_on = row.date
    case.next_due = _next_due(case, [*steps, row], rules)
    case.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        changes={"stage": [before, case.stage], "step": [None, row.step]},
        message=(
            f"确认“{row.get_step_display()}”（{row.date:%Y-%m-%d}）"
            + (f"；破例：{'、'.join(row.overridden)}，理由：{row.override_reason}" if row.overridden else "")
        ),
    )
    return row


def _check_publicity(row: CaseStep, rules: Any) -> None:
    """公示: at least the policy's days (calendar days, the start and end day both counted); the
    step's date is the day the publicity ended."""
    if row.start_on is None:
        raise RuleError([Violation("publicity", "start_on", "请填写公示开始日期", False)])
    if row.start_on > row.date:
        raise RuleError([Violation("publicity", "start_on", "公示开始日期不能晚于结束日期", False)])
    days = (row.date - row.start_on).days + 1
    if days < rules.publicity_days:
        raise RuleError(
            [Violation("publicity", "date", f"公示{days}天，不足{rules.publicity_days}天", False)]
        )


def _member_data(case: DevelopmentCase) -> dict[str, Any]:
    return {
        "status": MEMBER_STATUS[case.stage],
        "candidate_on": case.candidate_on,
        "joined_on": case.admitted_on,
        "full_member_on": case.full_member_on,
    }


def _advance(case: DevelopmentCase, row: CaseStep, given: _Input, rules: Any) -> None:
    """Move the case to the stage the step reaches and the member record with it (written only
    when one of its fields changes: most steps move the case within a member status)."""
    step = row.step
    if step == Step.TALK:
        case.stage = Stage.TALKED
    elif step == Step.ACTIVIST:
        case.stage = Stage.ACTIVIST
        case.activist_on = row.date
        case.mentors.set(given.mentors or [])
        case.member = _member_for(case)
    elif step == Step.CANDIDATE:
        case.stage = Stage.CANDIDATE
        case.candidate_on = row.date
        if given.sponsors is not None:
            case.sponsors.set(given.sponsors)
    elif step == Step.COMMITTEE_REVIEW and given.sponsors is not None:
        case.sponsors.set(given.sponsors)
    elif step == Step.ADMISSION_VOTE:
        case.stage = Stage.ADMISSION_VOTED
    elif step == Step.APPROVAL:
        vote = case.steps.filter(step=Step.ADMISSION_VOTE).order_by("-seq").first()
        assert vote is not None
        case.stage = Stage.PROBATIONARY
        # The probation runs from the day the branch meeting admitted them (细则).
        case.admitted_on = vote.date
        case.probation_end = add_months(vote.date, rules.probation_months)
    elif step == Step.CONVERSION_VOTE:
        case.stage = Stage.CONVERSION_VOTED
    elif step == Step.CONVERSION_APPROVAL:
        if row.outcome == ConversionOutcome.EXTEND:
            assert case.probation_end is not None and row.extension_months
            case.stage = Stage.PROBATIONARY
            case.extension_months = row.extension_months
            case.probation_end = add_months(case.probation_end, row.extension_months)
        elif row.outcome == ConversionOutcome.CANCEL:
            case.stage = Stage.CLOSED
            case.closed_on = row.date
            case.closed_reason = "取消预备党员资格"
        else:
            case.stage = Stage.FULL
            # Full membership dates from the end of the probation (细则), not from the approval.
            case.full_member_on = case.probation_end
    if case.member is not None and case.stage in MEMBER_STATUS:
        data = _member_data(case)
        if any(getattr(case.member, field) != value for field, value in data.items()):
            member_update(actor=None, member=case.member, data=data)
    elif case.member is not None and case.stage == Stage.CLOSED and case.member.is_active:
        member_leave_roll(actor=None, member=case.member, reason=case.closed_reason)


def _member_for(case: DevelopmentCase) -> Member:
    """The activist's record on the roll: the one already registered with this ID number in the
    branch, or a new one in the branch. A number registered elsewhere is refused."""
    existing = Member.objects.filter(id_number_hash=case.id_number_hash).first()
    if existing is not None:
        if existing.organization_id != case.organization_id:
            raise ValidationError({"step": ["该身份证号已登记在其他党组织，请先办理组织关系转接"]})
        if existing.status not in (MemberStatus.ACTIVIST, MemberStatus.CANDIDATE):
            raise ValidationError({"step": [f"该身份证号已登记为{existing.get_status_display()}"]})
        return existing
    return member_create(
        actor=None,
        data={
            "organization": case.organization,
            "name": case.name,
            "id_number": case.id_number,
            "status": MemberStatus.ACTIVIST,
        },
    )


def _next_due(case: DevelopmentCase, steps: Sequence[CaseStep], rules: Any) -> date | None:
    dues = [n.due for n in next_steps(case, steps, rules) if n.due]
    return min(dues) if dues else None

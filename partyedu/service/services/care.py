"""Writes of the care area: 谈心谈话 and the branch's rule of which pairs count, 关怀帮扶 (cases,
visits and aid with the approval — or refusal — of the level above, pairs, the aid approval
threshold), the 主题党日 held for the month's political birthdays, and the exports of talks and care records.

Private notes (of talks, cases and visits) are written here and read only through the selectors'
visibility rules: they never go into the audit log (its readers are not the branch committee) nor
into an export. Each write locks the row it hangs on (the members, the visit, the organisation) so
that a retried request finds the first one's row and is refused instead of doubling it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.scope import can, has_action, require, require_above, require_policy, scope_for
from partyedu.core.years import YEAR_MIN
from partyedu.members.choices import PARTY_STATUSES
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity

from ..choices import AidKind, DifficultyKind, FundSource, PairKind, TalkKind
from ..models import CareCase, CarePair, CareVisit, ServicePolicy, Talk, TalkRule
from ..selectors_care import aid_threshold, care_case_list, care_visit_list, talk_list

APP = "service"
AMOUNT_MAX = Decimal("99999999.99")
NOT_ALLOWED_TALK = "您无权为该组织登记谈心谈话"
NOT_ALLOWED_CARE = "您无权为该党员登记关怀帮扶（须有关怀帮扶权限）"
# Talks are held in a branch (its coverage counts the branch's subtree, party groups included).
TALK_LEVELS = (OrgLevel.BRANCH, OrgLevel.GROUP)


def _user(actor: Actor) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _check_day(value: Any, field: str, label: str) -> date:
    if not isinstance(value, date):
        raise ValidationError({field: [f"请填写{label}"]})
    if value > timezone.localdate():
        raise ValidationError({field: [f"{label}不能晚于今天"]})
    if value.year < YEAR_MIN:
        raise ValidationError({field: [f"{label}有误：不能早于{YEAR_MIN}年"]})
    return value


def _lock_members(ids: Sequence[int]) -> dict[int, Member]:
    """The members, locked in id order (two writers locking the same pair cannot deadlock)."""
    return {
        m.pk: m for m in Member.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    }


def _member_id(value: Member | int | str | None) -> int | None:
    if isinstance(value, Member):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


# --- 谈心谈话 -----------------------------------------------------------------------------------


@transaction.atomic
def talk_record(
    *,
    actor: Actor,
    organization: Organization,
    parties: Sequence[Member | int | str],
    date: date | None,
    kind: str,
    note: str = "",
) -> Talk:
    """Record a 谈心谈话 between two members of ``organization``'s subtree (its branch and party
    groups). A secretary records any talk of their branch (``service.add`` there); a member only a
    talk they took part in, at their own branch. The first party is the one who talked (谈话人)."""
    own_party: int | None = None
    if not (actor is None or can(actor, "add", organization, app_label=APP)):
        own = (
            Member.objects.filter(user_id=actor.pk, is_active=True).first()
            if actor.is_authenticated
            else None
        )
        if (
            own is None
            or not scope_for(actor, "add", APP).own
            or not own.org_path.startswith(organization.path)
        ):
            raise PermissionDenied(NOT_ALLOWED_TALK)
        own_party = own.pk
    if not organization.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})
    if organization.level not in TALK_LEVELS:
        raise ValidationError({"organization": ["谈心谈话请登记在党支部（或其党小组）"]})
    errors: dict[str, list[str]] = {}
    ids = [_member_id(p) for p in parties or ()]
    if len(ids) != 2 or None in ids:
        errors["parties"] = ["请选择谈话双方两名党员"]
    elif ids[0] == ids[1]:
        errors["parties"] = ["不能与自己谈话：谈话双方须是两名不同的党员"]
    if kind not in TalkKind.values:
        errors["kind"] = ["请选择谈话类型"]
    try:
        day = _check_day(date, "date", "谈话日期")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    a, b = int(ids[0] or 0), int(ids[1] or 0)
    if own_party is not None and own_party not in (a, b):
        raise ValidationError({"parties": ["只能登记本人参加的谈话"]})
    members = _lock_members([a, b])
    if any(
        m is None
        or not m.is_active
        or m.status not in PARTY_STATUSES
        or not m.org_path.startswith(organization.path)
        for m in (members.get(a), members.get(b))
    ):
        raise ValidationError({"parties": [f"谈话双方须是{organization.name}（含所属党小组）在册的党员"]})
    pair = Q(party_a_id=a, party_b_id=b) | Q(party_a_id=b, party_b_id=a)
    if Talk.objects.filter(pair, date=day).exists():
        raise ValidationError({"parties": ["这两名党员在该日的谈话已经登记，无需重复登记"]})
    talk = Talk(
        organization=organization,
        date=day,
        kind=kind,
        party_a=members[a],
        party_b=members[b],
        note=(note or "").strip(),
        recorded_by=_user(actor),
    )
    talk.full_clean()
    talk.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=talk,
        # The note stays out of the log: its readers are not the branch committee.
        changes={
            **snapshot(talk, ["organization", "date", "kind", "party_a", "party_b"]),
            "note": bool(talk.note),
        },
    )
    return talk


@transaction.atomic
def talk_rule_set(*, actor: Actor, organization: Organization, member_pairs: bool) -> TalkRule:
    """Whether the branches of ``organization`` count 党员与党员 pairs too (the branch itself, or an
    organisation above for all its branches); set by whoever may change service data there."""
    require(actor, "change", organization, app_label=APP, message="您无权设置该组织的谈心谈话要求")
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    rule, created = TalkRule.objects.get_or_create(
        organization=organization, defaults={"member_pairs": member_pairs}
    )
    before = not member_pairs if created else rule.member_pairs
    if not created and rule.member_pairs != member_pairs:
        rule.member_pairs = member_pairs
        rule.save(update_fields=["member_pairs", "updated_at"])
    if created or before != member_pairs:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=rule,
            changes={"member_pairs": [before, member_pairs]},
        )
    return rule


def talk_export(*, actor: User, organization: Organization | None = None, year: int | None = None) -> bytes:
    """The talks of the actor's export scope as xlsx: date, organisation, the two people and the
    kind. The private note is never exported, whoever asks."""
    scope = scope_for(actor, "export", APP)
    if not scope.paths:
        raise PermissionDenied("您无权导出谈心谈话记录")
    rows = talk_list(user=actor, organization=organization, year=year).filter(scope.q("organization__path"))
    book = XlsxExport()
    sheet = book.sheet(
        "谈心谈话",
        [
            ExportColumn("谈话日期", 12),
            ExportColumn("党组织", 24),
            "谈话人",
            "谈话对象",
            ExportColumn("谈话类型", 16),
        ],
    )
    for talk in rows.iterator(chunk_size=2000):
        sheet.append(
            [talk.date, talk.organization.name, talk.party_a.name, talk.party_b.name, talk.get_kind_display()]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Talk._meta.label_lower,
        object_repr="谈心谈话记录导出",
        changes={"rows": sheet.rows, "year": year, "organization": organization.pk if organization else None},
        message=f"导出谈心谈话记录{sheet.rows}条（不含谈话要点）",
    )
    return book.to_bytes()


# --- 关怀帮扶 -----------------------------------------------------------------------------------


@transaction.atomic
def care_case_create(
    *, actor: Actor, member: Member, kind: str, since: date | None, note: str = ""
) -> CareCase:
    """Record a member in difficulty; one open case of a kind per member."""
    require(actor, "care", member.org_path, app_label=APP, message=NOT_ALLOWED_CARE)
    errors: dict[str, list[str]] = {}
    if kind not in DifficultyKind.values:
        errors["kind"] = ["请选择困难类型"]
    try:
        day = _check_day(since, "since", "开始日期")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _lock_members([member.pk])
    if CareCase.objects.filter(member=member, kind=kind, ended_on__isnull=True).exists():
        raise ValidationError({"kind": [f"{member.name}已有“{DifficultyKind(kind).label}”的在办帮扶记录"]})
    case = CareCase(member=member, kind=kind, since=day, note=(note or "").strip())
    case.full_clean()
    case.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=case,
        changes={**snapshot(case, ["member", "kind", "since"]), "note": bool(case.note)},
    )
    return case


@transaction.atomic
def care_case_end(*, actor: Actor, case: CareCase, ended_on: date | None) -> CareCase:
    """Close a case (the difficulty is over)."""
    case = CareCase.objects.select_for_update().select_related("member").get(pk=case.pk)
    require(actor, "care", case.member.org_path, app_label=APP, message=NOT_ALLOWED_CARE)
    if case.ended_on is not None:
        raise ValidationError({"ended_on": ["该帮扶记录已经结束"]})
    day = _check_day(ended_on, "ended_on", "结束日期")
    if day < case.since:
        raise ValidationError({"ended_on": ["结束日期不能早于开始日期"]})
    case.ended_on = day
    case.save(update_fields=["ended_on", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=case, changes={"ended_on": [None, day.isoformat()]}
    )
    return case


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": ["金额须为数字"]}) from None
    if not amount.is_finite() or amount < 0 or amount > AMOUNT_MAX:
        raise ValidationError({"amount": ["金额须为0到99999999.99之间的数字"]})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def care_visit_record(
    *,
    actor: Actor,
    member: Member,
    date: date | None,
    aid_kind: str,
    amount: Any = 0,
    fund_source: str = "",
    occasion: str = "",
    visitors: str = "",
    note: str = "",
    case: CareCase | None = None,
) -> CareVisit:
    """Record a care visit or aid. An amount above the subtree's approval threshold (the nearest
    ``ServicePolicy`` up the tree, default ¥500) is recorded as waiting for the level above to
    approve it, and counts in no total until then."""
    require(actor, "care", member.org_path, app_label=APP, message=NOT_ALLOWED_CARE)
    errors: dict[str, list[str]] = {}
    if aid_kind not in AidKind.values:
        errors["aid_kind"] = ["请选择帮扶方式"]
    try:
        day = _check_day(date, "date", "走访日期")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        money = _amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        money = Decimal("0")
    if aid_kind == AidKind.CASH and "amount" not in errors and money == 0:
        errors["amount"] = ["发放慰问金请填写金额"]
    if money > 0 and fund_source not in FundSource.values:
        errors["fund_source"] = ["有金额的帮扶须写明资金来源"]
    if fund_source and fund_source not in FundSource.values:
        errors["fund_source"] = ["请选择资金来源"]
    if case is not None and case.member_id != member.pk:
        errors["case"] = ["所选帮扶记录不是该党员的"]
    if errors:
        raise ValidationError(errors)
    _lock_members([member.pk])
    occasion = (occasion or "").strip()
    if CareVisit.objects.filter(
        member=member, date=day, occasion=occasion, aid_kind=aid_kind, amount=money
    ).exists():
        raise ValidationError({"date": [f"{member.name}在该日的这条关怀记录已经登记，无需重复登记"]})
    threshold = aid_threshold(user=actor, path=member.org_path)
    visit = CareVisit(
        member=member,
        case=case,
        date=day,
        occasion=occasion,
        visitors=(visitors or "").strip(),
        aid_kind=aid_kind,
        amount=money,
        fund_source=fund_source if money > 0 or fund_source else "",
        needs_approval=money > threshold,
        note=(note or "").strip(),
        recorded_by=_user(actor),
    )
    visit.full_clean()
    visit.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=visit,
        changes={
            **snapshot(
                visit, ["member", "date", "occasion", "aid_kind", "amount", "fund_source", "needs_approval"]
            ),
            "threshold": str(threshold),
            "note": bool(visit.note),
        },
    )
    return visit


def _pending_decision(actor: Actor, visit: CareVisit) -> CareVisit:
    """Lock ``visit`` for the approver's decision: an org_admin of the level above holding the care
    action, on aid above the threshold not yet approved or refused."""
    visit = CareVisit.objects.select_for_update().select_related("member").get(pk=visit.pk)
    require_above(actor, visit.member.org_path, "超过审批线的帮扶金额须由上级党组织的组织部门审批")
    require(actor, "care", visit.member.org_path, app_label=APP, message=NOT_ALLOWED_CARE)
    if not visit.needs_approval:
        raise ValidationError({"visit": ["该笔帮扶未超过审批线，无需审批"]})
    if visit.approved_at is not None:
        raise ValidationError({"visit": ["该笔帮扶已经审批"]})
    if visit.rejected_at is not None:
        raise ValidationError({"visit": ["该笔帮扶已不予批准"]})
    return visit


@transaction.atomic
def care_visit_approve(*, actor: Actor, visit: CareVisit) -> CareVisit:
    """Approve aid above the threshold: an org_admin of the level above the member's organisation
    (``require_above``); from then on it counts in the totals. Approving twice is refused."""
    visit = _pending_decision(actor, visit)
    visit.approved_by = _user(actor)
    visit.approved_at = timezone.now()
    visit.save(update_fields=["approved_by", "approved_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=visit, changes={"approved": [False, True]})
    return visit


REJECTION_REASON_MAX = CareVisit._meta.get_field("rejection_reason").max_length or 200


@transaction.atomic
def care_visit_reject(*, actor: Actor, visit: CareVisit, reason: str | None) -> CareVisit:
    """Refuse (不予批准) aid above the threshold, with a reason: the same approver as
    :func:`care_visit_approve` (an org_admin of the level above holding the care action). A refused
    visit is no longer pending and never counts in the totals; it cannot be approved afterwards."""
    visit = _pending_decision(actor, visit)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": ["请填写不予批准的理由"]})
    if len(reason) > REJECTION_REASON_MAX:
        raise ValidationError({"reason": [f"不予批准的理由不能超过{REJECTION_REASON_MAX}字"]})
    visit.rejected_by = _user(actor)
    visit.rejected_at = timezone.now()
    visit.rejection_reason = reason
    visit.save(update_fields=["rejected_by", "rejected_at", "rejection_reason", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=visit,
        changes={"rejected": [False, True], "reason": reason},
    )
    return visit


@transaction.atomic
def service_policy_set(
    *, actor: Actor, organization: Organization, aid_approval_threshold: Any
) -> ServicePolicy:
    """Set the aid approval threshold of ``organization``'s subtree (the organisation department's
    policy: an org_admin over the subtree)."""
    require_policy(actor, organization, "帮扶金额审批线由组织部门（组织部/工委管理员）设定")
    try:
        value = Decimal(str(aid_approval_threshold))
    except (InvalidOperation, ValueError):
        raise ValidationError({"aid_approval_threshold": ["审批线须为数字"]}) from None
    if not value.is_finite() or value < 0 or value > AMOUNT_MAX:
        raise ValidationError({"aid_approval_threshold": ["审批线须为0到99999999.99之间的金额"]})
    value = value.quantize(Decimal("0.01"))
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    policy = ServicePolicy.objects.filter(organization=organization).first()
    before = snapshot(policy, ["aid_approval_threshold"]) if policy else {}
    if policy is None:
        policy = ServicePolicy(organization=organization)
    policy.aid_approval_threshold = value
    policy.full_clean()
    policy.save()
    after = snapshot(policy, ["aid_approval_threshold"])
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=policy,
            changes=diff(before, after),
        )
    return policy


@transaction.atomic
def care_pair_create(
    *, actor: Actor, elder: Member, younger: Member, kind: str, since: date | None
) -> CarePair:
    """Pair an older and a younger member (老带青: the elder guides; 青帮老: the younger helps)."""
    for member in (elder, younger):
        require(actor, "care", member.org_path, app_label=APP, message=NOT_ALLOWED_CARE)
    errors: dict[str, list[str]] = {}
    if elder.pk == younger.pk:
        errors["younger"] = ["结对双方须是两名不同的党员"]
    elif elder.birth_date > younger.birth_date:
        errors["elder"] = [f"老党员一方应比青年党员一方年长：{elder.name}比{younger.name}年轻"]
    if kind not in PairKind.values:
        errors["kind"] = ["请选择结对类型"]
    try:
        day = _check_day(since, "since", "结对日期")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _lock_members([elder.pk, younger.pk])
    if CarePair.objects.filter(elder=elder, younger=younger, ended_on__isnull=True).exists():
        raise ValidationError({"younger": [f"{elder.name}和{younger.name}已经结对"]})
    pair = CarePair(elder=elder, younger=younger, kind=kind, since=day)
    pair.full_clean()
    pair.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=pair,
        changes=snapshot(pair, ["elder", "younger", "kind", "since"]),
    )
    return pair


def care_export(*, actor: User, organization: Organization | None = None, year: int | None = None) -> bytes:
    """Care records as xlsx — the cases and the year's visits — for a user who holds both
    ``service.care`` and ``service.export`` (rows where both reach). Private notes are left out,
    whoever asks: an exported file leaves the committee's hands."""
    if not has_action(actor, "care", APP):
        raise PermissionDenied("关怀帮扶记录只有持关怀帮扶权限的人员才能导出")
    scope = scope_for(actor, "export", APP)
    if not scope.paths:
        raise PermissionDenied("您无权导出关怀帮扶记录")
    cases = care_case_list(user=actor, organization=organization).filter(scope.q("member__org_path"))
    visits = care_visit_list(user=actor, organization=organization, year=year).filter(
        scope.q("member__org_path")
    )
    book = XlsxExport()
    sheet = book.sheet(
        "困难党员",
        [
            "姓名",
            ExportColumn("党组织", 24),
            "困难类型",
            ExportColumn("开始日期", 12),
            ExportColumn("结束日期", 12),
        ],
    )
    for case in cases.iterator(chunk_size=2000):
        sheet.append(
            [
                case.member.name,
                case.member.organization.name,
                case.get_kind_display(),
                case.since,
                case.ended_on,
            ]
        )
    cases_rows = sheet.rows
    sheet = book.sheet(
        "关怀走访",
        [
            ExportColumn("日期", 12),
            "姓名",
            ExportColumn("党组织", 24),
            "事由",
            "走访人",
            "帮扶方式",
            "金额（元）",
            "资金来源",
            "审批",
        ],
    )
    for visit in visits.iterator(chunk_size=2000):
        status = visit.approval_label
        sheet.append(
            [
                visit.date,
                visit.member.name,
                visit.member.organization.name,
                visit.occasion,
                visit.visitors,
                visit.get_aid_kind_display(),
                visit.amount,
                visit.get_fund_source_display() if visit.fund_source else "",
                status,
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=CareVisit._meta.label_lower,
        object_repr="关怀帮扶记录导出",
        changes={"cases": cases_rows, "visits": sheet.rows, "year": year},
        message=f"导出困难党员{cases_rows}名、关怀走访{sheet.rows}次（不含情况说明）",
    )
    return book.to_bytes()


# --- 政治生日 -----------------------------------------------------------------------------------

THEME_DAY_TOPIC = "过政治生日、重温入党誓词主题党日"


@transaction.atomic
def birthday_theme_day_record(
    *,
    actor: Actor,
    organization: Organization,
    day: date | None,
    start: time | None,
    end: time | None,
    topic: str = "",
) -> Activity:
    """Hold a 主题党日 for the month's political birthdays: an ordinary 主题党日 of the branch,
    recorded by the study service with the branch's default roster (it counts as the month's
    主题党日 like any other). The same one twice (same topic and start) is refused."""
    from partyedu.study.services import activity_record

    require(actor, "add", organization, app_label="study", message="您无权为该组织登记活动")
    errors: dict[str, list[str]] = {}
    if organization.level not in (OrgLevel.BRANCH, OrgLevel.GENERAL_BRANCH):
        errors["organization"] = ["主题党日由党支部举办，请选择党支部"]
    if not isinstance(day, date):
        errors["day"] = ["请填写日期"]
    if start is None:
        errors["start"] = ["请填写开始时间"]
    if end is None:
        errors["end"] = ["请填写结束时间"]
    elif start is not None and end <= start:
        errors["end"] = ["结束时间应晚于开始时间"]
    if errors:
        raise ValidationError(errors)
    assert isinstance(day, date) and start is not None and end is not None
    topic = (topic or "").strip() or THEME_DAY_TOPIC
    starts = timezone.make_aware(datetime.combine(day, start))
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if Activity.objects.filter(
        organization=organization, activity_type=ActivityType.THEME_DAY, topic=topic, start=starts
    ).exists():
        raise ValidationError({"topic": ["这次主题党日已经登记，无需重复登记"]})
    return activity_record(
        actor=actor,
        data={
            "organization": organization,
            "activity_type": ActivityType.THEME_DAY,
            "topic": topic,
            "start": starts,
            "end": timezone.make_aware(datetime.combine(day, end)),
        },
    )

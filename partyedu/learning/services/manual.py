"""Manual records of hours that no activity or resource produced, and their cancellation."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member

from ..choices import HourKind, SourceType
from ..models import LearningHourEntry
from ._common import APP, _actor_user, _hours_text
from .summaries import _apply_hours, _lock_members, _members_refresh

MAX_MANUAL_HOURS = Decimal("100")


# --- manual records -------------------------------------------------------------------------------


def _check_manual(year: int, kind: str, hours: Any, description: str) -> Decimal:
    errors: dict[str, list[str]] = {}
    try:
        amount = Decimal(str(hours))
    except (InvalidOperation, TypeError):
        raise ValidationError({"hours": ["请输入学时数"]}) from None
    if not amount.is_finite() or amount <= 0:
        errors["hours"] = ["学时应大于0"]
    elif amount > MAX_MANUAL_HOURS:
        errors["hours"] = [f"单次登记不超过{MAX_MANUAL_HOURS}学时"]
    elif amount != amount.quantize(Decimal("0.1")):
        errors["hours"] = ["学时最多一位小数"]
    if kind not in HourKind.values:
        errors["kind"] = ["请选择学时类别"]
    this_year = timezone.localdate().year
    if not isinstance(year, int) or not 2000 <= year <= this_year:
        errors["year"] = [f"年度应在2000到{this_year}之间"]
    if not description.strip():
        errors["description"] = ["请填写学习内容"]
    elif len(description.strip()) > 200:
        errors["description"] = ["学习内容不超过200字"]
    if errors:
        raise ValidationError(errors)
    return amount


@transaction.atomic
def learning_hours_record_manual(
    *, actor: Actor, member: Member, year: int, kind: str, hours: Any, description: str
) -> LearningHourEntry:
    """Record hours that no activity or resource in the system produced (自学, a course at another
    party school …). The source of the line is the audit row that records who entered it."""
    member = Member.objects.select_related("organization").get(pk=member.pk)
    require(actor, "add", member.org_path, app_label=APP, message="您无权为该党员登记学时")
    amount = _check_manual(year, kind, hours, description)
    if not member.is_active:
        raise ValidationError({"member": ["该党员已离册"]})
    locked = _lock_members([member.pk])
    audit = audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=LearningHourEntry._meta.label_lower,
        object_repr=f"{member.name} {year} {HourKind(kind).label} {_hours_text(amount)}学时"[:255],
        changes={"member": member.pk, "year": year, "kind": kind, "hours": str(amount)},
        message=description.strip(),
    )
    entry = LearningHourEntry(
        member=member,
        year=year,
        kind=kind,
        hours=amount,
        source_type=SourceType.MANUAL,
        source_id=audit.pk,
        version=1,
        description=f"{description.strip()}（手工登记）"[:255],
        actor=_actor_user(actor),
    )
    entry.full_clean()
    entry.save()
    _apply_hours([entry])
    _members_refresh(locked)
    return entry


@transaction.atomic
def learning_hours_manual_reverse(
    *, actor: Actor, entry: LearningHourEntry, reason: str
) -> LearningHourEntry:
    """Cancel a manual record that was entered by mistake, by a correcting line (the original
    line stays)."""
    entry = LearningHourEntry.objects.select_related("member").get(pk=entry.pk)
    if entry.source_type != SourceType.MANUAL:
        raise ValidationError({"entry": ["只能撤销手工登记的学时；活动、网上学习学时随来源自动更正"]})
    require(actor, "change", entry.member.org_path, app_label=APP, message="您无权更正该党员的学时")
    if not reason.strip():
        raise ValidationError({"reason": ["请填写撤销原因"]})
    locked = _lock_members([entry.member_id])
    key = {
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "member_id": entry.member_id,
        "kind": entry.kind,
        "year": entry.year,
    }
    agg = LearningHourEntry.objects.filter(**key).aggregate(net=Sum("hours"), last=Max("version"))
    net = Decimal(agg["net"] or 0)
    if net <= 0:
        raise ValidationError({"entry": ["该登记已撤销"]})
    correction = LearningHourEntry(
        **key,
        hours=-net,
        version=agg["last"] + 1,
        description=f"{entry.description.rsplit('（', 1)[0]}（撤销：{reason.strip()}）"[:255],
        actor=_actor_user(actor),
    )
    correction.save()
    _apply_hours([correction])
    _members_refresh(locked)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=entry,
        changes={"hours": [str(net), "0"]},
        message=reason.strip(),
    )
    return correction

"""一票否决 (veto): whoever may change points at the member's organisation sets the member's year
aside with a category and a reason; the year's total then reads 0 everywhere while the ledger's
lines stay as they are (the veto is not a line). Lifted with a reason; both audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.core.years import YEAR_MIN
from partyedu.members.models import Member

from ..choices import VetoCategory
from ..models import PointsVeto
from .distribution import counted_refresh
from .ledger import lock_members

REASON_MAX = 255


def _user(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _reason(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"{label}不能为空"})
    if len(value) > REASON_MAX:
        raise ValidationError({field: f"{label}最多{REASON_MAX}字"})
    return value


@transaction.atomic
def veto_record(*, actor: Actor, member: Member, year: Any, category: str, reason: str) -> PointsVeto:
    """Set the member's year aside (违纪, 违法 or 其他) with the reason. One veto in force per
    member and year: a second is refused (lift the first to change it)."""
    require(actor, "change", member.org_path, app_label="points", message="您无权对该党员作出一票否决")
    today = timezone.localdate()
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "年度须为整数"}) from None
    if not YEAR_MIN <= year <= today.year:
        raise ValidationError({"year": f"年度须在{YEAR_MIN}到{today.year}之间"})
    if category not in VetoCategory.values:
        raise ValidationError({"category": "否决情形须为 discipline（违纪）、crime（违法）或 other（其他）"})
    reason = _reason(reason, "reason", "否决理由")
    # The member's row serialises two vetoes of the same year at once (the constraint backs it).
    locked = lock_members([member.pk])
    if not locked:
        raise ValidationError({"member": "党员不存在"})
    if PointsVeto.objects.filter(member=member, year=year, lifted_at__isnull=True).exists():
        raise ValidationError({"year": f"{member.name}{year}年度已有一票否决记录，如需更改请先撤销"})
    veto = PointsVeto(member=member, year=year, category=category, reason=reason, recorded_by=_user(actor))
    veto.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            veto.save()
    except IntegrityError:
        raise ValidationError({"year": f"{member.name}{year}年度已有一票否决记录"}) from None
    counted_refresh(locked, {(member.pk, year)})  # the year's total now counts 0
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=veto,
        object_repr=f"{member.name} {year}年 一票否决",
        changes={"member": member.pk, "year": year, "category": category, "reason": reason},
    )
    return veto


@transaction.atomic
def veto_lift(*, actor: Actor, veto: PointsVeto, reason: str) -> PointsVeto:
    """Lift a veto in force, with the reason: the year's total counts again. Kept on record."""
    # The member's lock first, as every writer of their points takes it.
    locked = lock_members(PointsVeto.objects.filter(pk=veto.pk).values_list("member_id", flat=True))
    veto = PointsVeto.objects.select_for_update(of=("self",)).select_related("member").get(pk=veto.pk)
    require(actor, "change", veto.member.org_path, app_label="points", message="您无权撤销该一票否决")
    if veto.lifted_at is not None:
        raise ValidationError({"reason": "该一票否决已撤销"})
    reason = _reason(reason, "reason", "撤销理由")
    veto.lifted_at = timezone.now()
    veto.lifted_by = _user(actor)
    veto.lift_reason = reason
    veto.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "updated_at"])
    counted_refresh(locked, {(veto.member_id, veto.year)})  # the year's total counts again
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=veto,
        object_repr=f"{veto.member.name} {veto.year}年 一票否决",
        changes={"lifted": [False, True], "reason": reason},
    )
    return veto

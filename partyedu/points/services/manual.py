"""A secretary's manual award or deduction: a ``ManualPoints`` record (the source) with its
required reason, audited, and the ledger line it credits under the item's cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member

from ..choices import ItemKind, ItemSource
from ..models import ManualPoints, PointsItem
from .derive import is_exempt, schemes_for
from .ledger import lock_members, points_sync_members


def manual_items_for(member: Member, year: int) -> list[PointsItem]:
    """The manual items of the scheme in force for the member's year (none without a scheme)."""
    state = {
        member.pk: {
            "id": member.pk,
            "org_path": member.org_path,
            "is_exempt": member.is_exempt,
            "categories": member.categories,
            "status": member.status,
        }
    }
    scheme = schemes_for(state, {year}).get((member.pk, year))
    if scheme is None:
        return []
    return [i for i in scheme.item_list if i.source == ItemSource.MANUAL]  # type: ignore[attr-defined]


@transaction.atomic
def points_manual_record(
    *,
    actor: Actor,
    member: Member,
    item: PointsItem | str | int,
    points: Any,
    reason: str,
    on_date: date | None = None,
) -> ManualPoints:
    """Award (an ``earn`` item) or deduct (a ``deduct`` item, 负面清单) points by hand, with a
    required reason, for the member's year; the ledger line follows under the item's cap."""
    require(actor, "change", member.org_path, app_label="points", message="您无权为该党员记录积分")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "理由不能为空：手工加分或扣分须写明理由"})
    try:
        amount = Decimal(str(points))
    except (InvalidOperation, ValueError):
        raise ValidationError({"points": "分值须为数字"}) from None
    if not amount.is_finite() or amount <= 0 or amount > Decimal("1000"):
        raise ValidationError({"points": "分值须为大于0、不超过1000的数字（扣分请选择扣分项目）"})
    on = on_date or timezone.localdate()
    year = on.year
    state = lock_members([member.pk]).get(member.pk)
    if state is None:
        raise ValidationError({"member": "党员不存在"})
    items = manual_items_for(member, year)
    chosen = None
    for candidate in items:
        if (isinstance(item, PointsItem) and candidate.pk == item.pk) or str(item) in (
            str(candidate.pk),
            candidate.code,
        ):
            chosen = candidate
    if chosen is None:
        raise ValidationError(
            {"item": f"积分项目不存在：请选择该党员{year}年度积分方案中的手工加分或扣分项目"}
        )
    if chosen.kind == ItemKind.DEDUCT and is_exempt(state):
        raise ValidationError({"member": "该党员属于年老体弱等免于硬性要求的党员，不扣分"})
    record = ManualPoints(
        member=member,
        item=chosen,
        year=year,
        on_date=on,
        points=amount.quantize(Decimal("0.1")),
        reason=reason[:255],
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        object_repr=f"{member.name} {chosen.name}",
        changes={
            "item": chosen.code,
            "kind": chosen.kind,
            "points": str(record.points),
            "reason": record.reason,
        },
    )
    points_sync_members(pairs={(member.pk, year)}, actor=actor)
    return record

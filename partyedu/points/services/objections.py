"""Objections (异议) to a publication: a member raises one on one of their own ledger lines (or on
an item where a line is missing) while the publication runs; the publishing organisation's
secretary answers. Upheld, the correction is a ledger line of source ``objection`` that the
derivation reads from the objection itself (``derive._objection_units``), so the rebuild finds
it too; rejected, the answer is the reason the member reads. Both audited, the member notified."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.notifications import notify
from partyedu.core.scope import is_system, require
from partyedu.members.models import Member

from ..choices import ItemKind, ObjectionStatus
from ..models import PointsEntry, PointsItem, PointsObjection, PointsPublication
from .derive import MEMBER_FIELDS, is_exempt, schemes_for
from .figures import period_end
from .ledger import lock_members, points_sync_members

REASON_MAX = 500
# The largest correction one answer may make (either way).
CORRECTION_MAX = Decimal("100")
NOTIFY_KIND = "points.objection"
ENTRY_NOT_FOUND = "积分记录不存在"


def _items_of(member_state: dict[str, Any], year: int, member: Member) -> list[PointsItem]:
    """The items a member may object on for the year: the scheme in force and those of their lines."""
    scheme = schemes_for({member.pk: member_state}, {year}).get((member.pk, year))
    items = list(scheme.item_list) if scheme is not None else []  # type: ignore[attr-defined]
    known = {i.pk for i in items}
    items += list(
        PointsItem.objects.filter(entries__member=member, entries__year=year)
        .exclude(pk__in=known)
        .distinct()
        .order_by("pk")
    )
    return items


def objection_items(*, member: Member, year: int) -> list[PointsItem]:
    """The items the member may object on for the year (the form's choices)."""
    state = {name: getattr(member, name) for name in MEMBER_FIELDS}
    return _items_of(state, year, member)


def _resolve_item(items: list[PointsItem], item: PointsItem | str | int | None) -> PointsItem | None:
    if item is None or item == "":
        return None
    for candidate in items:
        if (isinstance(item, PointsItem) and candidate.pk == item.pk) or str(item) in (
            str(candidate.pk),
            candidate.code,
        ):
            return candidate
    return None


@transaction.atomic
def objection_raise(
    *,
    actor: Actor,
    publication: PointsPublication,
    member: Member,
    item: PointsItem | str | int | None,
    reason: str,
    entry: PointsEntry | int | str | None = None,
) -> PointsObjection:
    """A member's objection to their figures in a running publication: on one of their own lines
    (``entry``; another member's line is not found) or on an item where a line is missing. The
    reason (at most 500 characters) and the item are required; the line, when given, must be of
    the publication's period and of that item. One open objection per line (or missing item)."""
    if not is_system(actor) and (not actor.is_authenticated or member.user_id != actor.pk):
        raise PermissionDenied("只有党员本人可以对自己的积分提出异议")
    state = lock_members([member.pk]).get(member.pk)
    if state is None:
        raise Http404("党员不存在")
    publication = PointsPublication.objects.select_related("organization").get(pk=publication.pk)
    if not publication.rows.filter(member_id=member.pk).exists():
        raise Http404("积分公示不存在")
    if not publication.is_running(timezone.localdate()):
        raise ValidationError(
            {"publication": "公示已撤回" if publication.withdrawn_at else "不在公示期内，不能提出异议"}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "异议理由不能为空：请写明哪里有误"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"异议理由最多{REASON_MAX}字"})
    line = None
    if entry is not None:
        try:
            entry_id = entry.pk if isinstance(entry, PointsEntry) else int(entry)
        except (TypeError, ValueError):
            raise Http404(ENTRY_NOT_FOUND) from None
        # The member's own lines only: another member's line is "not found", never "forbidden".
        line = PointsEntry.objects.filter(pk=entry_id, member=member).select_related("item").first()
        if line is None:
            raise Http404(ENTRY_NOT_FOUND)
        if line.year != publication.year or line.source_date > publication.period_end:
            raise ValidationError({"entry": "该积分记录不在本次公示的范围内"})
    items = _items_of(state, publication.year, member)
    chosen = _resolve_item(items, item)
    if chosen is None:
        raise ValidationError({"item": "积分项目：请选择本人本年度积分方案中的项目"})
    if line is not None and line.item_id != chosen.pk:
        raise ValidationError({"item": "积分项目与所选积分记录不一致"})
    duplicate = PointsObjection.objects.filter(
        publication=publication, member=member, status=ObjectionStatus.OPEN, item=chosen, entry=line
    ).exists()
    if duplicate:
        raise ValidationError({"entry" if line else "item": "您已对此提出异议，正在等待答复"})
    objection = PointsObjection(
        publication=publication,
        member=member,
        entry=line,
        item=chosen,
        reason=reason,
        raised_by=actor if actor is not None and actor.is_authenticated else None,
    )
    objection.full_clean()
    objection.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=objection,
        object_repr=f"{member.name} {chosen.name}",
        changes={
            "publication": publication.pk,
            "entry": line.pk if line else None,
            "item": chosen.code,
            "reason": reason,
        },
    )
    return objection


def _correction(value: Any) -> Decimal:
    message = f"更正分值须为不等于0的数字（正数加分、负数减分），绝对值不超过{CORRECTION_MAX}"
    if value in (None, ""):
        raise ValidationError({"points": "异议成立时须填写更正分值（正数加分、负数减分）"})
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"points": message}) from None
    if not number.is_finite() or number == 0 or abs(number) > CORRECTION_MAX:
        raise ValidationError({"points": message})
    number = number.quantize(Decimal("0.1"))
    if number == 0:
        raise ValidationError({"points": message})
    return number


@transaction.atomic
def objection_answer(
    *,
    actor: Actor,
    objection: PointsObjection,
    decision: str,
    answer: str,
    points: Any = None,
) -> PointsObjection:
    """The secretary's answer: ``upheld`` appends the correction (``points``, signed as it counts
    in the total) to the member's ledger with the answer as its description; ``rejected`` needs
    the reason, shown to the member. Answered once; audited; the member notified."""
    objection = (
        PointsObjection.objects.select_for_update(of=("self",))
        .select_related("publication__organization", "member", "entry", "item")
        .get(pk=objection.pk)
    )
    publication = objection.publication
    require(actor, "change", publication.organization, app_label="points", message="您无权答复该异议")
    if objection.status != ObjectionStatus.OPEN:
        raise ValidationError({"decision": "该异议已答复，不能重复答复"})
    if decision not in (ObjectionStatus.UPHELD, ObjectionStatus.REJECTED):
        raise ValidationError({"decision": "处理结果须为 upheld（异议成立）或 rejected（异议不成立）"})
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError(
            {
                "answer": "请填写答复：异议成立时答复作为更正记录的说明"
                if decision == ObjectionStatus.UPHELD
                else "请填写异议不成立的理由，党员本人可以看到"
            }
        )
    if len(answer) > REASON_MAX:
        raise ValidationError({"answer": f"答复最多{REASON_MAX}字"})
    member = objection.member
    year = publication.year
    if decision == ObjectionStatus.UPHELD:
        amount = _correction(points)
        state = lock_members([member.pk]).get(member.pk)
        scheme = schemes_for({member.pk: state}, {year}).get((member.pk, year)) if state else None
        in_force = scheme is not None and any(
            i.pk == objection.item_id
            for i in scheme.item_list  # type: ignore[attr-defined]
        )
        if not in_force:
            raise ValidationError(
                {"points": "该积分项目不在该党员本年度适用的积分方案中，无法记入更正；请答复为不成立并说明"}
            )
        if objection.item.kind == ItemKind.DEDUCT and state is not None and is_exempt(state):
            raise ValidationError({"points": "该党员免于扣分，扣分项目没有可更正的分值"})
        objection.points = amount
        objection.correction_date = (
            objection.entry.source_date if objection.entry else period_end(year, publication.period)
        )
    objection.status = decision
    objection.answer = answer
    objection.answered_by = actor if actor is not None and actor.is_authenticated else None
    objection.answered_at = timezone.now()
    objection.full_clean()
    objection.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=objection,
        object_repr=f"{member.name} {objection.item.name}",
        changes={
            "status": [ObjectionStatus.OPEN, decision],
            "answer": answer,
            "points": str(objection.points) if objection.points is not None else None,
        },
    )
    if decision == ObjectionStatus.UPHELD:
        points_sync_members(pairs={(member.pk, year)}, actor=actor)
    if member.user_id:
        outcome = "异议成立，已更正积分" if decision == ObjectionStatus.UPHELD else "异议不成立"
        notify(
            users=[member.user],
            kind=NOTIFY_KIND,
            title=f"您对{year}年积分公示提出的异议已答复：{outcome}",
            body=answer,
            url=reverse("points:objection_detail", args=[objection.pk]),
            key=f"{NOTIFY_KIND}:{objection.pk}",
        )
    return objection

"""The "支部党课大家讲" rotation of a branch: who lectures which week, fairly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.choices import PARTY_STATUSES
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..models import LectureSpeaker, Rotation, RotationSlot
from ._common import APP, _ids, _user

MAX_WEEKS = 52
ROTATION_LEVELS = (OrgLevel.BRANCH, OrgLevel.GENERAL_BRANCH, OrgLevel.GROUP)


def _rotation_pool(
    actor: Actor, organization: Organization, members: Iterable[Any] | None, include_exempt: bool
) -> list[Member]:
    """The members to rotate: the given ones (each active, in the organisation's subtree and
    visible to the actor), else the party members (full and probationary) of the subtree, without
    the exempt unless ``include_exempt``."""
    in_subtree = Member.objects.filter(organization.subtree_q("org_path"), is_active=True)
    if members is not None:
        ids = _ids(members, "members", "党员")
        visible = (
            in_subtree if actor is None else in_subtree.filter(pk__in=Member.objects.restrict(actor, "view"))
        )
        found = {m.pk: m for m in visible.filter(pk__in=ids)}
        refused = [str(pk) for pk in ids if pk not in found]
        if refused:
            raise ValidationError(
                {"members": [f"以下党员不存在、已离册或不在本组织及您的管理范围内：ID {'、'.join(refused)}"]}
            )
        pool = [found[pk] for pk in ids]
    else:
        qs = in_subtree.filter(status__in=PARTY_STATUSES)
        if not include_exempt:
            qs = qs.filter(is_exempt=False)
        pool = list(qs)
    if not pool:
        raise ValidationError({"members": ["没有可以安排主讲的党员"]})
    return pool


def _lecture_load(member_ids: list[int], exclude_slots: Iterable[int] = ()) -> dict[int, int]:
    """How often each member has lectured: weeks of rotations (other than the excluded slots) plus
    lectures given. Two grouped queries."""
    load = dict.fromkeys(member_ids, 0)
    slots = (
        RotationSlot.objects.filter(member_id__in=member_ids)
        .exclude(pk__in=list(exclude_slots))
        .values("member_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in slots:
        load[row["member_id"]] += row["n"]
    given = (
        LectureSpeaker.objects.filter(lecturer__member_id__in=member_ids)
        .values("lecturer__member_id")
        .annotate(n=Count("lecture", distinct=True))
        .order_by()
    )
    for row in given:
        load[row["lecturer__member_id"]] += row["n"]
    return load


def fair_order(pool: list[Member], load: dict[int, int]) -> list[Member]:
    """Least lectured first; ties by name, then id. Sorted here rather than by the database, so
    that the order does not depend on the database's collation of Chinese names."""
    return sorted(pool, key=lambda m: (load.get(m.pk, 0), m.name, m.pk))


def _topics(values: Iterable[Any] | None, weeks: int) -> list[str]:
    topics = [str(t).strip() for t in values or [] if str(t).strip()]
    if not topics:
        raise ValidationError({"topics": ["请至少填写一个主题"]})
    if len(topics) > weeks:
        raise ValidationError({"topics": [f"主题有{len(topics)}个，多于周数（{weeks}周）"]})
    too_long = [t[:10] for t in topics if len(t) > 200]
    if too_long:
        raise ValidationError({"topics": [f"主题“{too_long[0]}…”太长，不超过200字"]})
    return topics


@transaction.atomic
def rotation_generate(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    start_date: date,
    weeks: int,
    topics: Sequence[str],
    members: Iterable[Any] | None = None,
    include_exempt: bool = False,
) -> Rotation:
    """Generate a "支部党课大家讲" rotation of a branch (or general branch, or party group): one slot
    a week from ``start_date`` for ``weeks`` weeks, topics in turn (repeated when fewer than the
    weeks), and a member for each week, fairly: members who have lectured least so far (in
    rotations and lectures given) go first, ties by name then id, and nobody lectures twice before
    everyone has once. ``members`` (ids) limits the pool; by default it is the subtree's party
    members without the exempt (年老体弱, unless ``include_exempt``)."""
    org = Organization.objects.get(pk=organization.pk)
    require(actor, "add", org, app_label=APP, message="您无权为该组织安排党课轮讲")
    errors: dict[str, list[str]] = {}
    if not org.is_active:
        errors["organization"] = ["该党组织已撤销"]
    elif org.level not in ROTATION_LEVELS:
        errors["organization"] = ["轮讲由党支部、党总支或党小组安排"]
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写名称"]
    if not isinstance(start_date, date):
        errors["start_date"] = ["请填写首次日期"]
    try:
        weeks = int(weeks)
    except (TypeError, ValueError):
        weeks = 0
    if not 1 <= weeks <= MAX_WEEKS:
        errors["weeks"] = [f"周数应在1到{MAX_WEEKS}之间"]
    if errors:
        raise ValidationError(errors)
    topic_list = _topics(topics, weeks)
    pool = _rotation_pool(actor, org, members, include_exempt)
    order = fair_order(pool, _lecture_load([m.pk for m in pool]))
    rotation = Rotation(
        organization=org, title=title, start_date=start_date, weeks=weeks, created_by=_user(actor)
    )
    rotation.full_clean()
    rotation.save()
    slots = [
        RotationSlot(
            rotation=rotation,
            date=start_date + timedelta(weeks=week),
            topic=topic_list[week % len(topic_list)],
            member=order[week % len(order)],
        )
        for week in range(weeks)
    ]
    RotationSlot.objects.bulk_create(slots)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=rotation,
        changes={
            "after": snapshot(rotation, ("organization", "title", "start_date", "weeks")),
            "slots": [[s.date.isoformat(), s.member_id] for s in slots],
        },
    )
    return rotation


@transaction.atomic
def rotation_regenerate(
    *,
    actor: Actor,
    rotation: Rotation,
    members: Iterable[Any] | None = None,
    include_exempt: bool = False,
    from_date: date | None = None,
) -> Rotation:
    """Assign the weeks from ``from_date`` (default today) afresh, by the same fair order, e.g.
    after members joined or left the branch. Earlier weeks, dates and topics stay."""
    rotation = (
        Rotation.objects.select_for_update(of=("self",)).select_related("organization").get(pk=rotation.pk)
    )
    require(actor, "change", rotation.organization, app_label=APP, message="您无权修改该组织的党课轮讲")
    from_date = from_date or timezone.localdate()
    slots = list(rotation.slots.filter(date__gte=from_date).order_by("date", "id"))
    if not slots:
        raise ValidationError({"rotation": ["该轮讲已没有尚未到期的安排"]})
    pool = _rotation_pool(actor, rotation.organization, members, include_exempt)
    order = fair_order(pool, _lecture_load([m.pk for m in pool], exclude_slots=[s.pk for s in slots]))
    log = {}
    for index, slot in enumerate(slots):
        member = order[index % len(order)]
        if slot.member_id != member.pk:
            log[slot.date.isoformat()] = [slot.member_id, member.pk]
            slot.member = member
    RotationSlot.objects.bulk_update(slots, ["member", "updated_at"])
    if log:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rotation,
            changes={"slots": log},
            message="重新安排轮讲",
        )
    return rotation


@transaction.atomic
def rotation_slot_replace(
    *, actor: Actor, slot: RotationSlot, member: Any, topic: str | None = None
) -> RotationSlot:
    """Give one week to another member (an active member of the rotation's subtree whom the actor
    may see), and optionally change its topic."""
    slot = (
        RotationSlot.objects.select_for_update(of=("self",))
        .select_related("rotation__organization")
        .get(pk=slot.pk)
    )
    org = slot.rotation.organization
    require(actor, "change", org, app_label=APP, message="您无权修改该组织的党课轮讲")
    new = _rotation_pool(actor, org, [member], include_exempt=True)[0]
    changes: dict[str, Any] = {}
    if new.pk != slot.member_id:
        changes["member"] = [slot.member_id, new.pk]
        slot.member = new
    if topic is not None:
        topic = topic.strip()
        if not topic:
            raise ValidationError({"topic": ["请填写主题"]})
        if topic != slot.topic:
            changes["topic"] = [slot.topic, topic]
            slot.topic = topic
    if changes:
        slot.full_clean()
        slot.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=slot.rotation,
            changes={slot.date.isoformat(): changes},
            message="调整轮讲安排",
        )
    return slot


@transaction.atomic
def rotation_delete(*, actor: Actor, rotation: Rotation) -> None:
    rotation = Rotation.objects.select_related("organization").get(pk=rotation.pk)
    require(actor, "delete", rotation.organization, app_label=APP, message="您无权删除该组织的党课轮讲")
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=rotation,
        changes={"before": snapshot(rotation, ("organization", "title", "start_date", "weeks"))},
    )
    rotation.delete()

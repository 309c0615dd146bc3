"""Play progress on online resources: the heartbeat the player sends, the seconds that count (the
range arithmetic is in ``learning.ranges``), the daily cap and completion, which credits hours."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import User
from partyedu.core.hooks import hooks
from partyedu.members.models import Member
from partyedu.members.selectors import member_of_user

from ..models import DailyOnlineStudy, OnlineResource, ResourceProgress
from ..ranges import merge_ranges, take_seconds, uncovered
from ..selectors import published_for_member_q, rule_for_path
from .ledger import learning_hours_sync_resource

# Completing a resource: at least this share of it actually played or read.
COMPLETION_SHARE = 0.95
# Seconds a heartbeat may claim beyond the wall time since the previous one (network jitter).
HEARTBEAT_TOLERANCE_SECONDS = 2


@dataclass
class HeartbeatResult:
    progress: ResourceProgress
    credited_seconds: int
    daily_seconds: int
    daily_cap_seconds: int
    just_completed: bool = False


def _resources_for_member(member: Member) -> QuerySet[OnlineResource]:
    """Published resources of the member's organisation and of every organisation above it: those
    a member records progress on (the caller's own member record)."""
    return (
        OnlineResource.objects.filter(published_for_member_q(member))
        .select_related("column")
        .order_by("-published_at", "-id")
    )


def _position(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({name: ["请提交播放位置（秒）"]}) from None
    if not math.isfinite(number):
        raise ValidationError({name: ["播放位置无效"]})
    return number


@transaction.atomic
def resource_heartbeat(
    *, user: User, resource: OnlineResource, start: Any, end: Any, at: datetime | None = None
) -> HeartbeatResult:
    """Record that the caller (their own member record) played or read [start, end] seconds of a
    resource. Counted: only seconds not counted before, within the resource's length, no more than
    the wall time since the previous heartbeat (plus a small tolerance — a jump or a page left
    open earns nothing), and within the day's cap of the member's organisation. At 95 % the
    resource is completed and credits its 网络学习 hours once."""
    member = member_of_user(user=user)
    if member is None:
        raise PermissionDenied("只有党员本人可以记录学习进度")
    if not _resources_for_member(member).filter(pk=resource.pk).exists():
        raise Http404("学习资源不存在")
    start_f, end_f = _position(start, "start"), _position(end, "end")
    if end_f < start_f:
        raise ValidationError({"end": ["结束位置不能早于开始位置"]})
    at = at or timezone.now()
    duration = int(resource.duration_seconds)
    lo = max(0, min(round(start_f), duration))
    hi = max(0, min(round(end_f), duration))

    try:
        with transaction.atomic():
            ResourceProgress.objects.get_or_create(member=member, resource=resource)
    except IntegrityError:
        pass  # created by a concurrent heartbeat
    progress = ResourceProgress.objects.select_for_update().get(member=member, resource=resource)
    covered = merge_ranges(progress.ranges or [])
    if progress.last_heartbeat_at is not None:
        wall = max(0.0, (at - progress.last_heartbeat_at).total_seconds())
    else:
        wall = 0.0
    budget = int(wall) + HEARTBEAT_TOLERANCE_SECONDS
    new_parts = uncovered(lo, hi, covered)
    budget = min(budget, sum(b - a for a, b in new_parts))

    cap = rule_for_path(member.org_path).online_daily_cap_minutes * 60
    day = timezone.localdate(at)
    DailyOnlineStudy.objects.bulk_create([DailyOnlineStudy(member=member, day=day)], ignore_conflicts=True)
    daily = DailyOnlineStudy.objects.select_for_update().get(member=member, day=day)
    if cap:
        budget = min(budget, max(0, cap - daily.seconds))
    credited = take_seconds(new_parts, budget) if budget > 0 else []
    credited_seconds = sum(b - a for a, b in credited)
    if credited_seconds:
        DailyOnlineStudy.objects.filter(pk=daily.pk).update(seconds=F("seconds") + credited_seconds)
        covered = merge_ranges([*covered, *credited])
    progress.ranges = covered
    progress.played_seconds = sum(b - a for a, b in covered)
    progress.last_heartbeat_at = at
    just_completed = False
    if progress.completed_at is None and progress.played_seconds >= COMPLETION_SHARE * duration:
        progress.completed_at = at
        just_completed = True
    progress.save(
        update_fields=["ranges", "played_seconds", "last_heartbeat_at", "completed_at", "updated_at"]
    )
    if just_completed:
        learning_hours_sync_resource(progress_ids=[progress.pk], actor=user)
        hooks.call(
            "learning.resources_completed",
            progress_ids=[progress.pk],
            member_ids=[member.pk],
            years=[(timezone.localtime(at) if timezone.is_aware(at) else at).year],
        )
    return HeartbeatResult(
        progress=progress,
        credited_seconds=credited_seconds,
        daily_seconds=daily.seconds + credited_seconds,
        daily_cap_seconds=cap,
        just_completed=just_completed,
    )

"""Demo data of the workbench area (the home page's to-dos and the notification centre), written
after the rest of the demo city. The to-dos need nothing of their own: every item is derived from
the records the other seeds wrote (a 主题党日 not yet held this month, attendance not marked, 补学
reported, members short of hours, reviews open, the supervision items). What is seeded here is
what a person would otherwise have been told: a notification for every reviewer with reviews
still open in an open round ("评审任务已分配"), and a welcome note to each demo account saying
where its to-dos are. Every notification has a key, so running the seed again adds nothing.

The demo's study year ends before the day the demo is built, so member1 would see no activity to
come: one 现场教学 of member1's branch five days ahead is recorded (once; not a 主题党日, so
branch_sec is still asked for this month's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.competitions.choices import RoundStatus
from partyedu.competitions.models import Review
from partyedu.core.notifications import notify
from partyedu.members.models import Member
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity
from partyedu.study.services import activity_record

from .seed import DEMO_USERNAMES

WELCOME_TITLE = "首页已改为工作台：待办事项按轻重缓急排列"
WELCOME_BODY = "每条待办都链接到处理它的页面；交办给您的任务、退回的月报、分配的评审会在这里通知您。"


UPCOMING_TOPIC = "参观红色教育基地（现场教学）"


def _upcoming_activity(today: date) -> int:
    """member1's branch: one activity to come (once)."""
    member = Member.objects.filter(user__username="member1").select_related("organization").first()
    if (
        member is None
        or Activity.objects.filter(organization=member.organization, topic=UPCOMING_TOPIC).exists()
    ):
        return 0
    start = timezone.make_aware(datetime.combine(today + timedelta(days=5), time(9, 0)))
    activity_record(
        actor=None,
        data={
            "organization": member.organization,
            "activity_type": ActivityType.SITE_VISIT,
            "topic": UPCOMING_TOPIC,
            "start": start,
            "end": start + timedelta(hours=3),
        },
    )
    return 1


@transaction.atomic
def seed_workbench(*, seed: int, today: date, say: Callable[[str], object] = print) -> list[str]:
    """Notifications of the demo accounts; returns the summary lines."""
    users = list(User.objects.filter(username__in=DEMO_USERNAMES, is_active=True).order_by("username"))
    welcomed = notify(
        users=users,
        kind="core.welcome",
        title=WELCOME_TITLE,
        body=WELCOME_BODY,
        url=reverse("core:home"),
        key=f"demo.welcome:{today.year}",
    )
    open_reviews = (
        Review.objects.filter(
            submitted_at__isnull=True,
            round_entry__round__status=RoundStatus.OPEN,
            round_entry__entry__withdrawn=False,
        )
        .values("reviewer_id", "round_entry__round_id", "round_entry__round__name")
        .annotate(n=Count("id"))
        .order_by("reviewer_id", "round_entry__round_id")
    )
    reviewers = {u.pk: u for u in User.objects.filter(pk__in={r["reviewer_id"] for r in open_reviews})}
    assigned = 0
    for row in open_reviews:
        assigned += notify(
            users=[reviewers[row["reviewer_id"]]],
            kind="competitions.review_assigned",
            title=f"评审任务已分配：{row['round_entry__round__name']} {row['n']} 件作品",
            url=reverse("competitions:my_reviews"),
            key=f"competitions.review_assigned:{row['round_entry__round_id']}",
        )
    upcoming = _upcoming_activity(today)
    lines = [f"工作台：{welcomed} 个演示账号收到欢迎通知，{assigned} 条评审任务通知，{upcoming} 场近期活动"]
    for line in lines:
        say(line)
    return lines

"""Demo data of the dispatch area (调度/反馈, 季度反馈), written after the rest of the demo city:

- the district's 本月主题党日 task to its branches (dated a month back so that the 主题党日 held
  since are linked to the feedback), answered by most branches but not yet by branch_sec's, which
  therefore finds it on its home page;
- the city's data request to the committees below it, answered by about half, the others
  reminded once;
- the city's quarterly feedback note for the last quarter with study data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.organizations.models import Organization
from partyedu.supervision.models.dispatch import Dispatch, QuarterlyNote
from partyedu.supervision.services.dispatch import (
    dispatch_create,
    dispatch_feedback_submit,
    dispatch_remind,
    quarterly_note_publish,
)

THEME_TITLE = "本月主题党日学习四中全会精神"
DATA_TITLE = "报送本季度党员教育培训开展情况"
FEEDBACK_TEXTS = (
    "已按要求组织党员集中学习，并结合本单位实际开展讨论。",
    "已召开主题党日，党员交流学习体会，缺席党员已安排补学。",
    "学习已完成，形成学习记录和照片，下一步将开展专题研讨。",
)
DATA_TEXTS = (
    "本季度开展主题党日3次、党课1次，参学率92%，数据表随后补报。",
    "本季度各支部均按要求开展组织生活，学时达标情况已核对。",
)


def _org_of(username: str, fallback: Organization) -> Organization:
    row = (
        RoleAssignment.objects.filter(user__username=username)
        .select_related("organization")
        .order_by("id")
        .first()
    )
    return row.organization if row is not None else fallback


def _answer(dispatch: Dispatch, org_id: int, text: str, at: datetime) -> None:
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=org_id, text=text, now=at)


def seed_dispatch(*, seed: int, today: date, say: Callable[[str], Any] = print) -> list[str]:
    """Two dispatches with partial feedback and one quarterly note; returns summary lines."""
    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        return []
    rng = random.Random(f"{seed}-dispatch")
    district = _org_of("district_admin", root)
    sec_branch = _org_of("branch_sec", district)
    now = timezone.now()
    lines: list[str] = []
    with transaction.atomic():
        # 1. The district's 主题党日 task, issued a month back: matching activities are linked.
        theme = dispatch_create(
            actor=None,
            organization=district,
            title=THEME_TITLE,
            description="各支部结合主题党日组织学习四中全会精神，反馈学习情况，附活动照片或记录。",
            due=today + timedelta(days=10),
            target_level="branch",
            activity_type="theme_day",
            today=today,
        )
        issued_on = min(today, date(today.year, 11, 15)) - timedelta(days=30)
        Dispatch.objects.filter(pk=theme.pk).update(
            created_at=timezone.make_aware(datetime.combine(issued_on, time(9, 0)))
        )
        theme.refresh_from_db()
        recipients = list(
            theme.recipients.order_by("organization__path").values_list("organization_id", flat=True)
        )
        answered = [org for org in recipients if org != sec_branch.pk and rng.random() < 0.7]
        for org_id in answered:
            _answer(theme, org_id, rng.choice(FEEDBACK_TEXTS), now)
        linked = sum(f.linked_activities.count() for f in _feedbacks(theme))
        say(f"调度任务“{THEME_TITLE}”：{len(answered)}/{len(recipients)}个支部已反馈，关联主题党日{linked}次")
        lines.append(
            f"调度任务 {theme.organization.name}“{THEME_TITLE}”：发给{len(recipients)}个支部，"
            f"已反馈{len(answered)}个（关联活动{linked}次）"
        )

        # 2. The city's data request to the committees below it: about half answer, the rest reminded.
        data = dispatch_create(
            actor=None,
            organization=root,
            title=DATA_TITLE,
            description="请各党委汇总本季度党员教育培训开展情况，简要说明做法和问题。",
            due=today + timedelta(days=5),
            target_level="committee",
            today=today,
        )
        committees = list(
            data.recipients.order_by("organization__path").values_list("organization_id", flat=True)
        )
        replied = [org for org in committees if org != district.pk and rng.random() < 0.5]
        for org_id in replied:
            _answer(data, org_id, rng.choice(DATA_TEXTS), now)
        reminded = dispatch_remind(actor=None, dispatch=data, now=now)
        lines.append(
            f"调度任务 {root.name}“{DATA_TITLE}”：发给{len(committees)}个党委，已反馈{len(replied)}个，"
            f"催办{reminded}个"
        )

        # 3. The city's quarterly note for the last quarter of this year with data.
        quarter = (min(today, date(today.year, 11, 15)).month - 1) // 3  # the quarter before
        year = today.year
        if quarter == 0:
            quarter = 1
        note = QuarterlyNote.objects.filter(organization=root, year=year, quarter=quarter).first()
        if note is None:
            note = quarterly_note_publish(
                actor=None,
                organization=root,
                year=year,
                quarter=quarter,
                title=f"{year}年第{quarter}季度党员教育培训工作反馈",
                body=(
                    "本季度全市各级党组织按照“每月一调度、每季度一反馈”的要求推进党员教育培训。"
                    "主题党日总体开展正常，少数支部存在活动记录不完整、缺席党员补学不及时的问题。"
                    "下季度请各党委重点督促学时不足的党员补学，并按时报送月报。"
                ),
                now=now,
            )
        figures = note.figures.get("indicators", {})
        lines.append(
            f"季度反馈 {note.title}：活动{figures.get('activities', 0)}次、参加{figures.get('attendance_person_times', 0)}人次"
        )
    return lines


def _feedbacks(dispatch: Dispatch) -> list[Any]:
    from partyedu.supervision.models.dispatch import DispatchFeedback

    return list(
        DispatchFeedback.objects.filter(recipient__dispatch=dispatch).prefetch_related("linked_activities")
    )

"""The study app's items on the workbench (``core.todo``): what a branch secretary should do next
about organisational life, and for an organisation department the branches below with a gap.

Where the user may change study data (``scope_for(user, "change", "study")``) each subtree root
decides the view: at a 党总支, 党支部 or 党小组 the user runs the branches themselves (a 支部书记)
and gets an item per thing to do; above (a 党委's organisation department) one item counts the
branches with a cadence gap and links to the cadence report. Bounded queries whatever the size of
the scope: the roots (1), the cadence of at most ``MAX_BRANCHES`` branches (≤ 5), unmarked
attendance (2), 补学 waiting (2); an organisation department's cadence summary (2–3) per root,
at most ``MAX_ROOTS`` roots. A 党员 sees their next activities (1)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_role, scope_for, subtree_q
from partyedu.core.todo import TodoItem
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from .choices import ActivityType, AttendanceStatus, CadenceLevel
from .models import Activity, Attendance
from .selectors import attendance_makeup_pending, cadence_for, cadence_summary, my_activities_upcoming

APP = "study"
SECTION = "组织生活"
# A secretary's own levels: they hold the activities themselves.
SECRETARY_LEVELS = (OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH, OrgLevel.GROUP)
MAX_ROOTS = 5
MAX_BRANCHES = 20
SHOWN = 5
# Activities older than this (or than the year's start, if earlier) no longer ask for attendance.
UNMARKED_WINDOW_DAYS = 60


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _activity_day(activity_start: datetime) -> str:
    day = timezone.localdate(activity_start)
    return f"{day.month}月{day.day}日"


def _theme_day_items(user: Viewer, roots: list[Organization], today: date) -> list[TodoItem]:
    branches = list(
        Organization.objects.filter(
            subtree_q("path", [r.path for r in roots]), level=OrgLevel.BRANCH, is_active=True
        ).order_by("path")[:MAX_BRANCHES]
    )
    items = []
    due = _month_end(today)
    for row in cadence_for(user=user, organizations=branches, year=today.year, as_of=today):
        cadence = row.item(ActivityType.THEME_DAY)
        if cadence is None or cadence.kind != CadenceLevel.BRANCH or not cadence.pending:
            continue
        org = row.organization
        # The record page starts with 主题党日 and the secretary's own branch.
        url = reverse("study:activity_create")
        items.append(
            TodoItem(
                key=f"study.theme_day_missing:{org.pk}:{today:%Y-%m}",
                section=SECTION,
                title=f"本月尚未开展主题党日（{org.name}）",
                detail=f"{today.month}月还没有登记主题党日，请在{due.month}月{due.day}日前开展并登记",
                url=url,
                due=due,
                priority=1 if (due - today).days <= 7 else 2,
                icon="flag",
            )
        )
    return items


def _unmarked_items(user: Viewer, roots: list[Organization], today: date) -> list[TodoItem]:
    since = min(date(today.year, 1, 1), today - timedelta(days=UNMARKED_WINDOW_DAYS))
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    rows = Attendance.objects.filter(activity=OuterRef("pk"))
    qs = (
        Activity.objects.restrict(user, "change")
        .filter(subtree_q("organization__path", [r.path for r in roots]))
        .filter(start__gte=start, end__lt=timezone.now())
        .filter(Exists(rows), ~Exists(rows.exclude(status=AttendanceStatus.UNMARKED)))
    )
    found = list(qs.select_related("organization").order_by("start", "id")[: SHOWN + 1])
    if not found:
        return []
    items = [
        TodoItem(
            key=f"study.attendance_unmarked:{a.pk}",
            section=SECTION,
            title=f"登记出勤：{a.topic}",
            detail=f"{_activity_day(a.start)} · {a.organization.name} · 活动已结束，尚未登记出勤",
            url=reverse("study:attendance", args=[a.pk]),
            priority=1,
            icon="person-check",
        )
        for a in found[:SHOWN]
    ]
    if len(found) > SHOWN:
        total = qs.count()
        items.append(
            TodoItem(
                key="study.attendance_unmarked:more",
                section=SECTION,
                title=f"另有 {total - SHOWN} 场已结束的活动尚未登记出勤",
                url=reverse("study:activity_list"),
                count=total - SHOWN,
                priority=2,
                icon="person-check",
            )
        )
    return items


def _makeup_items(user: Viewer, roots: list[Organization]) -> list[TodoItem]:
    pending = attendance_makeup_pending(user=user).filter(
        subtree_q("activity__organization__path", [r.path for r in roots])
    )
    groups = list(
        pending.order_by()
        .values("activity_id", "activity__topic", "activity__start")
        .annotate(n=Count("id"))
        .order_by("activity__start", "activity_id")[: SHOWN + 1]
    )
    items = [
        TodoItem(
            key=f"study.makeup_pending:{g['activity_id']}",
            section=SECTION,
            title=f"确认补学：{g['activity__topic']}",
            detail=f"{_activity_day(g['activity__start'])} · {g['n']} 名党员已报告补学，待确认",
            url=reverse("study:attendance", args=[g["activity_id"]]),
            count=g["n"],
            priority=1,
            icon="journal-check",
        )
        for g in groups[:SHOWN]
    ]
    if len(groups) > SHOWN:
        total = pending.values("activity_id").distinct().count()
        items.append(
            TodoItem(
                key="study.makeup_pending:more",
                section=SECTION,
                title=f"另有 {total - SHOWN} 场活动的补学待确认",
                url=reverse("study:activity_list"),
                count=total - SHOWN,
                priority=2,
                icon="journal-check",
            )
        )
    return items


def _cadence_gap_items(user: Viewer, roots: list[Organization], today: date) -> list[TodoItem]:
    items = []
    for root in roots:
        summary = cadence_summary(user=user, organization=root, year=today.year, as_of=today)
        figures = summary.figures.get(CadenceLevel.BRANCH)
        if figures is None or not figures.noncompliant:
            continue
        query = urlencode({"organization": root.pk, "year": today.year, "missing": 1})
        items.append(
            TodoItem(
                key=f"study.cadence_gaps:{root.pk}:{today.year}",
                section=SECTION,
                title=f"{figures.noncompliant} 个党支部组织生活有缺项（{root.name}）",
                detail=f"{today.year}年已结束的月份或季度中，未按要求开展主题党日、党员大会、党课等",
                url=f"{reverse('study:cadence')}?{query}",
                count=figures.noncompliant,
                priority=2,
                icon="calendar-x",
            )
        )
    return items


def _upcoming_items(user: Viewer, today: date) -> list[TodoItem]:
    rows = my_activities_upcoming(user=user, today=today)[:SHOWN]
    return [
        TodoItem(
            key=f"study.upcoming:{row.activity_id}",
            section="近期活动",
            title=row.activity.topic,
            detail=f"{_activity_day(row.activity.start)} {timezone.localtime(row.activity.start):%H:%M}"
            f" · {row.activity.organization.name}",
            url=reverse("study:my_activities"),
            due=timezone.localdate(row.activity.start),
            priority=2 if timezone.localdate(row.activity.start) <= today + timedelta(days=2) else 3,
            icon="calendar-event",
        )
        for row in rows
    ]


def study_todos(*, user: Viewer, today: date | None = None) -> list[TodoItem]:
    """``core.todo`` for study: see the module's docstring; a 党员 also sees their next activities."""
    today = today or timezone.localdate()
    upcoming = _upcoming_items(user, today) if has_role(user, RoleCode.MEMBER) else []
    paths = scope_for(user, "change", APP).paths
    if not paths:
        return upcoming
    roots = list(Organization.objects.filter(path__in=paths[:MAX_ROOTS], is_active=True).order_by("path"))
    own = [r for r in roots if r.level in SECRETARY_LEVELS]
    above = [r for r in roots if r.level not in SECRETARY_LEVELS]
    items: list[TodoItem] = []
    if own:
        items += _theme_day_items(user, own, today)
        items += _unmarked_items(user, own, today)
        items += _makeup_items(user, own)
    if above:
        items += _cadence_gap_items(user, above, today)
    return items + upcoming

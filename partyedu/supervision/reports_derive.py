"""The derivation of the monthly report (党建活动月报): its figures and detail rows from the
records, the sum of children's approved reports, and the difference between frozen and fresh
figures. System reads: the report services and selectors call them after checking scope.

How every figure is derived is documented in ``docs/supervision.md``. In short, for an
organisation and a month (local time, ``[first day 00:00, next month's first day 00:00)``):

* its *own records* are those of the organisation itself and of its party groups (党小组 hold no
  report of their own; their activities count for their branch, as in the cadence report);
* a higher organisation (one with reporting children) adds the frozen figures of its children's
  APPROVED reports for the month; children without one are listed, never counted from records
  (a report is never retyped nor recounted behind the child's back).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment
from partyedu.appraisal.selectors import appraisals_reported
from partyedu.core.scope import POLICY_ROLE
from partyedu.learning.choices import SourceType
from partyedu.learning.models import LearningHourEntry, ResourceProgress
from partyedu.lectures.models import Lecture
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study import selectors as study_selectors
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus, CadencePeriod
from partyedu.study.models import Activity, Attendance

from .figures import own_service_figures
from .models.reports import MonthlyReport, ReportStatus

APP = "supervision"

# A month's report is late when the month ended more than this many days ago without submission.
LATE_AFTER_DAYS = 10

# Detail rows kept on a report (absentees can be many in a large branch; the count is exact).
DETAIL_ROWS_MAX = 300

# Figures that add up across children and own records.
SUM_KEYS = (
    "activities_total",
    "attendance_expected",
    "attendance_person_times",
    "absentees",
    "makeup_confirmed",
    "makeup_pending",
    "lectures",
    "required_topics_covered",
    "online_completions",
    "cadence_gaps",
    "appraisals_reported",
    "services",
    "pledges_planned",
    "pledges_done",
    "requests_solved",
    "households_benefited",
)
DECIMAL_KEYS = ("hours_credited", "online_hours", "service_hours")

FIGURE_LABELS = {
    "activities_total": "活动总数",
    "attendance_expected": "应到人次",
    "attendance_person_times": "参加人次",
    "attendance_rate": "参加率",
    "absentees": "缺勤人次",
    "makeup_confirmed": "已补学",
    "makeup_pending": "待补学",
    "hours_credited": "认定学时",
    "online_hours": "网络学习学时",
    "online_completions": "网上学习完成人次",
    "lectures": "党课",
    "required_topics_covered": "覆盖必修专题",
    "cadence_gaps": "组织生活缺项",
    "appraisals_reported": "民主评议已上报",
    "services": "服务群众次数",
    "service_hours": "服务时长",
    "pledges_planned": "本月应办结实事",
    "pledges_done": "其中已办结",
    "requests_solved": "解决群众诉求",
    "households_benefited": "受益户数",
    "children_approved": "下级已审核月报",
    "children_missing": "下级未报或未审核",
}


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month as a half-open range of aware datetimes in local time."""
    tz = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(value: str) -> tuple[int, int] | None:
    """ "YYYY-MM" → (year, month), or None when it is not a valid month."""
    try:
        year_text, month_text = str(value).split("-")
        year, month = int(year_text), int(month_text)
    except (TypeError, ValueError):
        return None
    if len(year_text) != 4 or not 1 <= month <= 12 or year < 2000:
        return None
    return year, month


def reporting_children(organization: Organization) -> QuerySet[Organization]:
    """The organisations whose approved reports a higher organisation's report aggregates: its
    active direct children except party groups (a group's records count for its branch)."""
    return (
        Organization.objects.filter(parent=organization, is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .order_by("path")
    )


def _own_orgs(organization: Organization) -> tuple[list[int], list[str]]:
    """The organisation and its party groups, whose records its report counts itself: their ids
    and paths."""
    groups = list(
        Organization.objects.filter(parent=organization, level=OrgLevel.GROUP).values_list("pk", "path")
    )
    return [organization.pk, *(pk for pk, _path in groups)], [
        organization.path,
        *(path for _pk, path in groups),
    ]


def _cadence_gaps(organization: Organization, year: int, month: int) -> list[dict[str, Any]]:
    """The cadence requirements (study's cadence logic and rules) whose period ends with this
    month and was not met. Computed as of the next month's first day, so a regeneration from the
    same records gives the same gaps whenever it runs. Weekly rules are left to the cadence page."""
    as_of = month_last_day(year, month) + timedelta(days=1)
    # The cadence logic without a viewer: the report is the system's (its caller decided scope).
    rows = study_selectors.cadence_for(user=None, organizations=[organization], year=year, as_of=as_of)
    gaps: list[dict[str, Any]] = []
    for row in rows:
        for item in row.items:
            size = study_selectors.MONTHS_PER_PERIOD.get(CadencePeriod(item.period)) if item.period else None
            if not size or month % size:
                continue
            number = (month - 1) // size + 1
            if number in item.missing:
                gaps.append(
                    {
                        "activity_type": item.activity_type,
                        "label": str(item.label),
                        "period": study_selectors.period_label(item.period, number),
                        "required": item.min_count,
                        "held": item.counts[number - 1] if number <= len(item.counts) else 0,
                    }
                )
    return gaps


def _date(value: datetime) -> str:
    return timezone.localtime(value).date().isoformat()


def own_figures(organization: Organization, year: int, month: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, details) of the organisation's own records for the month. A handful of queries,
    each answered from the activity (organisation, start) index and the attendance activity key."""
    start, end = month_bounds(year, month)
    own, own_paths = _own_orgs(organization)
    activities = Activity.objects.filter(organization_id__in=own, start__gte=start, start__lt=end)
    activity_rows = list(
        activities.order_by("start", "id").values(
            "id",
            "activity_type",
            "topic",
            "start",
            "organization__name",
            "required_topic_id",
            "required_topic__title",
        )
    )
    # The month's activities are few: their ids go into the attendance queries as a list, so each
    # is answered from the attendance activity key whatever the table statistics say (a nested
    # ``IN (subquery)`` let PostgreSQL with stale statistics, just after a bulk load such as the
    # demo seed, scan the attendance table for minutes).
    activity_ids = [row["id"] for row in activity_rows]
    per_activity = {
        row["activity_id"]: row
        for row in Attendance.objects.filter(activity_id__in=activity_ids)
        .values("activity_id")
        .annotate(
            expected=Count("id"),
            attended=Count("id", filter=Q(status__in=ATTENDED_STATUSES)),
        )
    }
    by_type: dict[str, int] = {}
    for row in activity_rows:
        by_type[row["activity_type"]] = by_type.get(row["activity_type"], 0) + 1
    expected = sum(r["expected"] for r in per_activity.values())
    attended = sum(r["attended"] for r in per_activity.values())

    absent_qs = Attendance.objects.filter(
        activity_id__in=activity_ids,
        status__in=(AttendanceStatus.LEAVE, AttendanceStatus.ABSENT, AttendanceStatus.MAKEUP),
    )
    absent_counts = absent_qs.aggregate(
        total=Count("id"),
        confirmed=Count("id", filter=Q(status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False)),
    )
    absentees = [
        {
            "activity": a["activity_id"],
            "date": _date(a["activity__start"]),
            "activity_topic": a["activity__topic"],
            "member": a["member__name"],
            "status": a["status"],
            "makeup": "confirmed"
            if a["status"] == AttendanceStatus.MAKEUP and a["makeup_confirmed_at"]
            else ("pending" if a["status"] == AttendanceStatus.MAKEUP else "none"),
        }
        for a in absent_qs.order_by("activity__start", "activity_id", "id").values(
            "activity_id",
            "activity__start",
            "activity__topic",
            "member__name",
            "status",
            "makeup_confirmed_at",
        )[:DETAIL_ROWS_MAX]
    ]

    # The month's own sources are few (one organisation's month): their ids are read first and the
    # ledger is summed by its (source type, source id) index. A nested ``IN (subquery)`` left the
    # choice of plan to the table statistics, and PostgreSQL with stale ones (just after a bulk
    # load) chose to scan the ledger once per attendance row.
    attendance_ids = list(
        Attendance.objects.filter(activity_id__in=activity_ids).values_list("id", flat=True)
    )
    hours = _ledger_sum(SourceType.ATTENDANCE, attendance_ids)
    progress = ResourceProgress.objects.filter(
        member__organization_id__in=own, completed_at__gte=start, completed_at__lt=end
    )
    progress_ids = list(progress.values_list("id", flat=True))
    online_completions = len(progress_ids)
    online_hours = _ledger_sum(SourceType.RESOURCE, progress_ids)

    lectures = list(
        Lecture.objects.filter(organization_id__in=own, start__gte=start, start__lt=end)
        .order_by("start", "id")
        .values("id", "title", "lecture_type", "start", "activity_id")
    )
    topics: dict[int, dict[str, Any]] = {}
    for row in activity_rows:
        if row["required_topic_id"]:
            topic = topics.setdefault(
                row["required_topic_id"],
                {"id": row["required_topic_id"], "title": row["required_topic__title"], "activities": []},
            )
            topic["activities"].append(row["id"])
    gaps = _cadence_gaps(organization, year, month)
    appraisals = appraisals_reported(organization_ids=own, start=start, end=end)
    service = own_service_figures(paths=own_paths, year=year, month=month)

    figures: dict[str, Any] = {
        "activities_total": len(activity_rows),
        "activities_by_type": dict(sorted(by_type.items())),
        "attendance_expected": expected,
        "attendance_person_times": attended,
        "absentees": absent_counts["total"],
        "makeup_confirmed": absent_counts["confirmed"],
        "makeup_pending": absent_counts["total"] - absent_counts["confirmed"],
        "hours_credited": str(hours + online_hours),
        "online_completions": online_completions,
        "online_hours": str(online_hours),
        "lectures": len(lectures),
        "required_topics_covered": len(topics),
        "cadence_gaps": len(gaps),
        "appraisals_reported": len(appraisals),
        **{key: str(value) if key in DECIMAL_KEYS else value for key, value in service.items()},
    }
    details: dict[str, Any] = {
        "appraisals": appraisals,
        "activities": [
            {
                "id": r["id"],
                "activity_type": r["activity_type"],
                "date": _date(r["start"]),
                "topic": r["topic"],
                "organization": r["organization__name"],
                "expected": per_activity.get(r["id"], {}).get("expected", 0),
                "attended": per_activity.get(r["id"], {}).get("attended", 0),
                "required_topic": r["required_topic__title"] or "",
            }
            for r in activity_rows
        ],
        "absentees": absentees,
        "required_topics": list(topics.values()),
        "cadence_gaps": gaps,
        "lectures": [
            {
                "id": r["id"],
                "title": r["title"],
                "lecture_type": r["lecture_type"],
                "date": _date(r["start"]),
                "activity": r["activity_id"],
            }
            for r in lectures
        ],
    }
    return figures, details


def add_figures(total: dict[str, Any], figures: dict[str, Any]) -> None:
    for key in SUM_KEYS:
        total[key] = total.get(key, 0) + int(figures.get(key, 0) or 0)
    for key in DECIMAL_KEYS:
        total[key] = str(Decimal(str(total.get(key, "0"))) + Decimal(str(figures.get(key, "0") or "0")))
    by_type = total.setdefault("activities_by_type", {})
    for code, count in (figures.get("activities_by_type") or {}).items():
        by_type[code] = by_type.get(code, 0) + int(count)
    total["activities_by_type"] = dict(sorted(by_type.items()))


def with_rate(figures: dict[str, Any]) -> dict[str, Any]:
    expected = int(figures.get("attendance_expected", 0) or 0)
    attended = int(figures.get("attendance_person_times", 0) or 0)
    figures["attendance_rate"] = round(attended / expected, 4) if expected else 0.0
    return figures


def report_figures(
    organization: Organization, year: int, month: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures and detail rows of the organisation's report for the month, as generated now:
    its own records plus, for a higher organisation, its children's approved reports. Private to
    the report services and the frozen-vs-fresh comparison (callers have checked the scope)."""
    figures, details = own_figures(organization, year, month)
    children = list(reporting_children(organization).values("pk", "name"))
    if children:
        approved = {
            r.organization_id: r
            for r in MonthlyReport.objects.filter(
                organization_id__in=[c["pk"] for c in children],
                year=year,
                month=month,
                status=ReportStatus.APPROVED,
            ).only("id", "organization_id", "figures")
        }
        own = dict(figures)
        total: dict[str, Any] = {}
        add_figures(total, own)
        rows = []
        for child in children:
            report = approved.get(child["pk"])
            if report is not None:
                add_figures(total, report.figures)
            rows.append(
                {
                    "organization": child["pk"],
                    "name": child["name"],
                    "report": report.pk if report else None,
                    "approved": report is not None,
                    "activities_total": int(report.figures.get("activities_total", 0)) if report else None,
                    "attendance_person_times": int(report.figures.get("attendance_person_times", 0))
                    if report
                    else None,
                }
            )
        figures = total
        figures["children_approved"] = len(approved)
        figures["children_missing"] = len(children) - len(approved)
        details["own_figures"] = with_rate(own)
        details["children"] = rows
    return with_rate(figures), details


def figures_difference(frozen: dict[str, Any], fresh: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures that differ between a report's frozen figures and a regeneration now:
    [{"key", "label", "frozen", "fresh"}], activity types as "activities_by_type.<code>"."""
    diff: list[dict[str, Any]] = []
    for key in sorted(set(frozen) | set(fresh)):
        if key == "activities_by_type":
            old, new = frozen.get(key) or {}, fresh.get(key) or {}
            for code in sorted(set(old) | set(new)):
                if old.get(code, 0) != new.get(code, 0):
                    label = f"活动：{ActivityType(code).label}" if code in ActivityType.values else code
                    diff.append(
                        {
                            "key": f"{key}.{code}",
                            "label": label,
                            "frozen": old.get(code, 0),
                            "fresh": new.get(code, 0),
                        }
                    )
        elif key not in frozen:
            # A figure the report did not have when it was frozen (added to reports since) is
            # not a change of the records the report counted.
            continue
        elif frozen.get(key) != fresh.get(key):
            diff.append(
                {
                    "key": key,
                    "label": FIGURE_LABELS.get(key, key),
                    "frozen": frozen.get(key),
                    "fresh": fresh.get(key),
                }
            )
    return diff


def latest_due_month(today: date) -> tuple[int, int]:
    """The most recent month whose report is already late if not submitted."""
    day = today - timedelta(days=LATE_AFTER_DAYS)
    # the month that ended before ``day``
    first = date(day.year, day.month, 1) - timedelta(days=1)
    return first.year, first.month


def report_reviewers(organization: Organization) -> list[Any]:
    """The users who review the organisation's reports: the org_admins of its nearest ancestor
    that has any (the parent's department first). Used by the services to notify them."""
    ancestors = ancestor_paths(organization.path)[:-1]
    rows = list(
        RoleAssignment.objects.filter(
            role__code=POLICY_ROLE, organization__path__in=ancestors, user__is_active=True
        ).select_related("user", "organization")
    )
    if not rows:
        return []
    nearest = max(r.organization.path for r in rows)
    return [r.user for r in rows if r.organization.path == nearest]


# Source ids per ledger query (one organisation's month holds far fewer).
LEDGER_IDS_CHUNK = 2000


def _ledger_sum(source_type: str, source_ids: list[int]) -> Decimal:
    """The net hours the ledger credits for the given sources (corrections included)."""
    total = Decimal("0")
    for at in range(0, len(source_ids), LEDGER_IDS_CHUNK):
        chunk = source_ids[at : at + LEDGER_IDS_CHUNK]
        found = LearningHourEntry.objects.filter(source_type=source_type, source_id__in=chunk).aggregate(
            total=Sum("hours")
        )["total"]
        total += found or Decimal("0")
    return total

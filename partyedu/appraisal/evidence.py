"""The year's record beside each member in the democratic appraisal (民主评议党员): derived, never
typed again (issue 14, "Grounded in the record").

Each figure is the one the app that owns it computes, read for many members at once:

- hours: the learning ledger's lines of the year summed by kind (what ``member_learning_hours``
  sums for one member), the requirement and the hours that count from the learning app's own
  rules (``member_requirement``, ``MemberHours.counted``);
- organisational life: 三会一课 (支部党员大会, 支委会, 党小组会, 党课) and 主题党日 held in the year
  by the member's branch — the branch itself and its 党小组, so that a member of a 党小组 counts the
  branch's 党员大会 and a member of the branch the 党小组会 — at which the member was on the roster
  (``AttendanceCounts``: expected = roster rows, invitees apart; attended = 出席 and 迟到);
- 补学: confirmed make-up study of the year's activities, counted apart from attendance (as the
  points derivation reads it);
- lectures: the distinct lectures of the year the member gave as a speaker (as ``lecture_duty``);
- exams: the exams (never practice sets or contest rounds) whose counted attempt — the exam's
  grading rule, ``exams.credit.counted_of``, as the points derivation decides a pass — falls in the
  year, and of them those passed; an exam still waiting for grading counts as taken;
- points: the year's total (``points.selectors.year_totals``), None where no scheme applies;
- exempt: ``is_exempt`` or the 年老体弱 category, the points derivation's rule.

An internal building block: the appraisal's selectors decide access first, so it takes no user.
It runs a fixed number of queries whatever the number of members (nine at most).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from partyedu.exams.choices import ExamKind
from partyedu.exams.credit import Result, counted_of
from partyedu.exams.models import Attempt
from partyedu.learning.choices import HourKind
from partyedu.learning.models import LearningHourEntry
from partyedu.learning.selectors import MemberHours, member_requirement, rules_for_paths
from partyedu.lectures.models import LectureSpeaker
from partyedu.lectures.selectors import year_range
from partyedu.members.choices import PARTY_STATUSES, MemberCategory
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.points.selectors import year_totals
from partyedu.points.services.derive import is_exempt
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus
from partyedu.study.models import Attendance

ZERO = Decimal("0")
# 三会一课 and 主题党日, in the order of the activity types.
ORGANISATIONAL_LIFE_TYPES: tuple[str, ...] = (
    ActivityType.BRANCH_ASSEMBLY,
    ActivityType.BRANCH_COMMITTEE,
    ActivityType.GROUP_MEETING,
    ActivityType.PARTY_LECTURE,
    ActivityType.THEME_DAY,
)


@dataclass(frozen=True)
class MemberEvidence:
    """One member's year as the evaluators see it, and the same as short lines for a card."""

    member_id: int
    exempt: bool
    hours_earned: Decimal  # every kind
    hours_counted: Decimal  # what counts toward the requirement
    hours_required: Decimal | None  # None: no requirement applies (or exempt)
    attendance: tuple[tuple[str, int, int], ...]  # (activity type label, attended, expected)
    makeups: int
    lectures: int
    exams_taken: int
    exams_passed: int
    points_total: Decimal | None  # None: no points scheme applies
    lines: tuple[str, ...]


def branch_evidence(
    *, organization: Organization, year: int, member_ids: list[int] | None = None
) -> dict[int, MemberEvidence]:
    """Evidence for the members directly in ``organization`` (预备党员 and 正式党员 on the roll),
    or for the given member ids (which may be anywhere), for the calendar year; by member id, in
    tree then name order. No access check: the caller decided it."""
    if member_ids is not None:
        qs = Member.objects.filter(pk__in=sorted(set(member_ids)))
    else:
        qs = Member.objects.filter(organization=organization, status__in=PARTY_STATUSES, is_active=True)
    members = list(
        qs.select_related("organization")
        .only(
            "id",
            "name",
            "org_path",
            "status",
            "categories",
            "is_exempt",
            "exempt_reason",
            "organization__level",
            "organization__path",
        )
        .order_by("org_path", "name", "id")
    )
    if not members:
        return {}
    ids = [m.pk for m in members]
    start, end = year_range(year)
    rules = rules_for_paths({m.org_path for m in members})
    by_kind = _hours_by_kind(ids, year)
    attendance, makeups = _attendance(members, start, min(end, timezone.now()))
    lectures = _lectures(ids, start, end)
    exams = _exams(ids, year)
    totals = year_totals(members=members, year=year)

    result = {}
    for member in members:
        kinds = by_kind.get(member.pk, {})
        hours = MemberHours(
            member=member,
            year=year,
            requirement=member_requirement(member, rules[member.org_path]),
            earned=sum(kinds.values(), ZERO),
            by_kind={kind: kinds.get(kind, ZERO) for kind in HourKind.values},
            entries=[],
        )
        exempt = is_exempt({"is_exempt": member.is_exempt, "categories": member.categories})
        taken, passed = exams.get(member.pk, (0, 0))
        evidence = MemberEvidence(
            member_id=member.pk,
            exempt=exempt,
            hours_earned=hours.earned,
            hours_counted=hours.counted,
            hours_required=hours.required if hours.requirement.is_required and not exempt else None,
            attendance=attendance.get(member.pk, ()),
            makeups=makeups.get(member.pk, 0),
            lectures=lectures.get(member.pk, 0),
            exams_taken=taken,
            exams_passed=passed,
            points_total=totals.get(member.pk),
            lines=(),
        )
        result[member.pk] = _with_lines(evidence, _exempt_reason(member) if exempt else "")
    return result


def _hours_by_kind(ids: list[int], year: int) -> dict[int, dict[str, Decimal]]:
    """The year's ledger by member and kind, corrections included. One query."""
    found: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = (
        LearningHourEntry.objects.filter(member_id__in=ids, year=year)
        .values("member_id", "kind")
        .annotate(hours=Sum("hours"))
        .order_by()
    )
    for row in rows:
        found[row["member_id"]][row["kind"]] = Decimal(row["hours"] or ZERO)
    return found


def _branch_path(member: Member) -> str:
    """The path of the member's branch: the member's organisation, or the branch above a 党小组."""
    path = member.org_path
    if member.organization.level == OrgLevel.GROUP and len(path) > SEGMENT_WIDTH:
        return path[:-SEGMENT_WIDTH]
    return path


def _attendance(
    members: list[Member], start: datetime, end: datetime
) -> tuple[dict[int, tuple[tuple[str, int, int], ...]], dict[int, int]]:
    """Organisational life by member and type — (label, attended, expected) for each type with
    an expected row — and confirmed 补学 by member, for activities held from ``start`` until
    ``end``. One query grouped by member, type and holding organisation."""
    ids = [m.pk for m in members]
    branches = {m.pk: _branch_path(m) for m in members}
    rows = (
        Attendance.objects.filter(member_id__in=ids, activity__start__gte=start, activity__start__lt=end)
        .values("member_id", "activity__activity_type", "activity__organization__path")
        .annotate(
            expected=Count("id", filter=Q(is_invitee=False)),
            attended=Count("id", filter=Q(is_invitee=False, status__in=ATTENDED_STATUSES)),
            makeups=Count("id", filter=Q(status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False)),
        )
        .order_by()
    )
    counts: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    makeups: dict[int, int] = defaultdict(int)
    for row in rows:
        member_id = row["member_id"]
        makeups[member_id] += row["makeups"]
        activity_type = row["activity__activity_type"]
        if (
            activity_type in ORGANISATIONAL_LIFE_TYPES
            and row["expected"]
            and row["activity__organization__path"].startswith(branches[member_id])
        ):
            pair = counts[member_id][activity_type]
            pair[0] += row["attended"]
            pair[1] += row["expected"]
    attendance = {
        member_id: tuple(
            (str(ActivityType(t).label), by_type[t][0], by_type[t][1])
            for t in ORGANISATIONAL_LIFE_TYPES
            if t in by_type
        )
        for member_id, by_type in counts.items()
    }
    return attendance, dict(makeups)


def _lectures(ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Distinct lectures given as a speaker (through any lecturer entry of the member). One query."""
    return dict(
        LectureSpeaker.objects.filter(
            lecturer__member_id__in=ids, lecture__start__gte=start, lecture__start__lt=end
        )
        .values("lecturer__member_id")
        .annotate(n=Count("lecture_id", distinct=True))
        .order_by()
        .values_list("lecturer__member_id", "n")
    )


def _exams(ids: list[int], year: int) -> dict[int, tuple[int, int]]:
    """(taken, passed) by member: the exams whose counted attempt was submitted in the year (the
    latest submission while none is graded yet), and those whose counted attempt passed. Every
    submitted attempt is read, as the counted one may lie in another year. One query."""
    rows = (
        Attempt.objects.filter(member_id__in=ids, exam__kind=ExamKind.EXAM, submitted_at__isnull=False)
        .order_by()
        .values_list(
            "pk",
            "exam_id",
            "member_id",
            "number",
            "score",
            "passed",
            "submitted_at",
            "exam__grading",
            "exam__attempts_allowed",
        )
    )
    groups: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row[1], row[2])].append(row)
    found: dict[int, tuple[int, int]] = {}
    for (_exam_id, member_id), attempts in groups.items():
        results = [Result(r[0], r[3], r[4], r[5], r[6]) for r in attempts if r[4] is not None]
        counted = counted_of(results, grading=attempts[0][7], attempts_allowed=attempts[0][8])
        on = counted.submitted_at if counted is not None else max(r[6] for r in attempts)
        if timezone.localtime(on).year != year:
            continue
        taken, passed = found.get(member_id, (0, 0))
        found[member_id] = (taken + 1, passed + (1 if counted is not None and counted.passed else 0))
    return found


def _exempt_reason(member: Member) -> str:
    reason = (member.exempt_reason or "").strip()
    if reason:
        return reason
    if MemberCategory.FRAIL in (member.categories or ()):
        return str(MemberCategory.FRAIL.label)
    return ""


def _plain(value: Decimal) -> str:
    """32 for 32.0, 32.5 for 32.50."""
    return f"{value.normalize():f}"


def _with_lines(evidence: MemberEvidence, exempt_reason: str) -> MemberEvidence:
    """The card's lines: hours and attendance always, the rest only when there is something."""
    e = evidence
    counted = f"计入 {e.hours_counted:.1f}"
    if e.hours_required is not None:
        counted += f" / 应 {_plain(e.hours_required)}"
    lines = [f"学时 {e.hours_earned:.1f}（{counted}）"]
    if e.exempt:
        lines.append(f"免于学时要求（{exempt_reason}）" if exempt_reason else "免于学时要求")
    attended = sum(a for _label, a, _e in e.attendance)
    expected = sum(x for _label, _a, x in e.attendance)
    lines.append(f"组织生活出勤 {attended}/{expected}")
    if e.makeups:
        lines.append(f"补学 {e.makeups} 次")
    if e.lectures:
        lines.append(f"讲党课 {e.lectures} 次")
    if e.exams_taken:
        lines.append(f"考试 {e.exams_taken} 次，合格 {e.exams_passed} 次")
    if e.points_total:
        lines.append(f"积分 {e.points_total:.1f}")
    return replace(e, lines=tuple(lines))

"""Reads of 发展对象 training over the candidate period.

Rule (细则; DOMAIN_RULES "发展对象 training window"): a development candidate (发展对象) takes short
concentrated training (短期集中培训) of at least three days or 24 学时 between being determined a
发展对象 and admission as 预备党员. The window runs across calendar years, so it is not the annual
requirement of ``selectors.requirement_of`` (which counts the concentrated hours of one year): it is
``[candidate_on, joined_on)`` once admitted, ``[candidate_on, today]`` before. A member with no
registered ``candidate_on`` is counted from 1 January of the year the window ends (this year for a
发展对象 not yet admitted), and the pages say the date is missing.

What counts: 集中培训 (``HourKind.CONCENTRATED``) ledger lines dated in the window — an attendance
line by its activity's local start date, a manual line by the local date it was recorded (a record
for an earlier year on 31 December of that year; a cancellation by its original's date, so that the
pair nets to nothing) — and the distinct local days of the concentrated activities the ledger
credits (net hours > 0) that fall in the window. Manual records carry no days, only hours.

Every function is built for many members at once: the rules in one query, the ledger lines in one
more per ``MEMBER_CHUNK`` members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, OuterRef, Subquery, When
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for
from partyedu.members.choices import MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.study.models import Attendance

from .choices import HourKind, SourceType
from .conversion import OVERNIGHT_MAX
from .models import LearningHourEntry
from .selectors import rules_for_paths

APP = "learning"
ZERO = Decimal("0")
# 细则's "三天": short concentrated training of at least three days meets the rule whatever the
# hours (the other way is ``HourRequirement.candidate_hours``, 24 学时 by default).
CANDIDATE_TRAINING_DAYS = 3
# Members whose ledger lines are read in one query.
MEMBER_CHUNK = 500
# The member fields the functions read (``candidate_training_for`` takes members loaded with them).
MEMBER_FIELDS = ("id", "user", "org_path", "status", "candidate_on", "joined_on")


@dataclass(frozen=True)
class CandidateTraining:
    """A member's 发展对象 training in the window: concentrated hours and days against the rule."""

    member_id: int
    # First and last day counted (``end`` before ``start``: an empty window).
    start: date
    end: date
    # False: ``candidate_on`` is not registered and ``start`` is the fallback, 1 January.
    start_registered: bool
    # The window was closed by admission as 预备党员 (``joined_on``).
    admitted: bool
    hours: Decimal
    days: int
    required_hours: Decimal
    required_days: int = CANDIDATE_TRAINING_DAYS

    @property
    def met(self) -> bool:
        """≥ the subtree's candidate hours, or ≥ three days (a rule of 0 hours: the days only)."""
        hours_met = self.required_hours > 0 and self.hours >= self.required_hours
        return hours_met or self.days >= self.required_days

    @property
    def missing_hours(self) -> Decimal:
        return max(ZERO, self.required_hours - self.hours)

    @property
    def missing_days(self) -> int:
        return max(0, self.required_days - self.days)

    @property
    def requirement_text(self) -> str:
        """要求24学时或3天 (the days alone under a rule of 0 hours)."""
        days = f"{self.required_days}天"
        return f"{_hours_text(self.required_hours)}学时或{days}" if self.required_hours > 0 else days

    @property
    def shortfall_text(self) -> str:
        """尚差…: what is still missing either way (empty when the rule is met)."""
        if self.met:
            return ""
        days = f"{self.missing_days}天"
        return f"{_hours_text(self.missing_hours)}学时或{days}" if self.required_hours > 0 else days


def _hours_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def candidate_window(member: Any, today: date) -> tuple[date, date, bool, bool]:
    """``(start, end, start_registered, admitted)`` of a member's training window, ``end``
    inclusive. Admission (``joined_on``) closes it the day before; a ``joined_on`` still in the
    future does not (the window runs to today)."""
    admitted = member.joined_on is not None and member.joined_on <= today
    end = member.joined_on - timedelta(days=1) if admitted else today
    if member.candidate_on is not None:
        return member.candidate_on, end, True, admitted
    return date(end.year, 1, 1), end, False, admitted


def _one_year_before(today: date) -> date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def shows_candidate_training(member: Any, today: date | None = None) -> bool:
    """Whether a member's pages show the 发展对象 training: a 发展对象, or a 预备党员 admitted within
    the last year (whose training the conversion to full member looks back on)."""
    today = today or timezone.localdate()
    if member.status == MemberStatus.CANDIDATE:
        return True
    return (
        member.status == MemberStatus.PROBATIONARY
        and member.joined_on is not None
        and _one_year_before(today) <= member.joined_on <= today
    )


def _visible(user: Viewer | None, members: Iterable[Any]) -> list[Any]:
    """The members whose hours ``user`` may see (its learning scope, and its own record)."""
    if user is None:
        return list(members)
    scope = scope_for(user, "view", APP)
    me = getattr(user, "pk", None)
    return [m for m in members if scope.covers(m.org_path) or (me is not None and m.user_id == me)]


def _local_day(value: datetime) -> date:
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


def _activity_days(start: datetime | None, end: datetime | None) -> set[date]:
    """The local days an activity takes: each day it touches, except that an evening session past
    midnight is one day (as ``conversion.activity_hours`` counts it as one session)."""
    if start is None:
        return set()
    first = _local_day(start)
    if end is None or end <= start or end - start <= OVERNIGHT_MAX:
        return {first}
    last = _local_day(end - timedelta(microseconds=1))
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _manual_day(created_at: datetime, year: int) -> date:
    day = _local_day(created_at)
    return day if day.year <= year else date(year, 12, 31)


def candidate_training_for(
    *, user: Viewer | None, members: Iterable[Any], today: date | None = None
) -> dict[int, CandidateTraining]:
    """The 发展对象 training of each member, by member id, for any number of members: the rules in
    one query, the ledger lines in one query per ``MEMBER_CHUNK`` members. ``members`` carry
    ``MEMBER_FIELDS`` (Member instances or objects with those attributes); those ``user`` may not
    see are left out (``user=None``: the system, e.g. the yearly summaries)."""
    today = today or timezone.localdate()
    visible = _visible(user, members)
    if not visible:
        return {}
    windows = {m.id: candidate_window(m, today) for m in visible}
    rules = rules_for_paths({m.org_path for m in visible})
    hours: dict[int, Decimal] = defaultdict(Decimal)
    days: dict[int, set[date]] = defaultdict(set)
    ids = sorted(windows)
    first_year = min(w[0].year for w in windows.values())
    last_year = max(w[1].year for w in windows.values()) + 1
    for at in range(0, len(ids), MEMBER_CHUNK):
        _add_lines(ids[at : at + MEMBER_CHUNK], windows, (first_year, last_year), hours, days)
    result = {}
    for member in visible:
        start, end, registered, admitted = windows[member.id]
        result[member.id] = CandidateTraining(
            member_id=member.id,
            start=start,
            end=end,
            start_registered=registered,
            admitted=admitted,
            hours=hours[member.id],
            days=len(days[member.id]),
            required_hours=Decimal(rules[member.org_path].candidate_hours),
        )
    return result


def _add_lines(
    ids: Sequence[int],
    windows: dict[int, tuple[date, date, bool, bool]],
    years: tuple[int, int],
    hours: dict[int, Decimal],
    days: dict[int, set[date]],
) -> None:
    """Add the members' concentrated lines dated in their windows to ``hours``, and the days of
    the concentrated activities the ledger credits to ``days`` (one query)."""

    def activity(field: str) -> Case:
        value = Subquery(Attendance.objects.filter(pk=OuterRef("source_id")).values(f"activity__{field}")[:1])
        return Case(When(source_type=SourceType.ATTENDANCE, then=value), default=None)

    rows = (
        LearningHourEntry.objects.filter(
            member_id__in=list(ids),
            kind=HourKind.CONCENTRATED,
            # An attendance line may be in the year after its activity started (a course across
            # 31 December is split); a manual line is dated within its own year.
            year__gte=years[0],
            year__lte=years[1],
        )
        .annotate(activity_start=activity("start"), activity_end=activity("end"))
        .order_by()
        .values_list(
            "member_id",
            "source_type",
            "source_id",
            "year",
            "hours",
            "created_at",
            "activity_start",
            "activity_end",
        )
    )
    dated: list[tuple[int, Decimal, date | None]] = []
    manual_first: dict[tuple[int, int], datetime] = {}
    manual_rows = []
    # Net hours and span of each attendance source: its days count while it credits hours.
    attended: dict[tuple[int, int], list[Any]] = {}
    for member_id, source_type, source_id, year, amount, created_at, start, end in rows:
        if source_type == SourceType.MANUAL:
            key = (member_id, source_id)
            if key not in manual_first or created_at < manual_first[key]:
                manual_first[key] = created_at
            manual_rows.append((member_id, source_id, year, amount))
        elif source_type == SourceType.ATTENDANCE and start is not None:
            dated.append((member_id, amount, _local_day(start)))
            entry = attended.setdefault((member_id, source_id), [ZERO, start, end])
            entry[0] += amount
        else:
            dated.append((member_id, amount, _local_day(created_at)))
    for member_id, source_id, year, amount in manual_rows:
        dated.append((member_id, amount, _manual_day(manual_first[(member_id, source_id)], year)))
    for member_id, amount, day in dated:
        start_day, end_day = windows[member_id][:2]
        if day is not None and start_day <= day <= end_day:
            hours[member_id] += amount
    for (member_id, _source), (net, start, end) in attended.items():
        if net <= 0:
            continue
        start_day, end_day = windows[member_id][:2]
        days[member_id].update(d for d in _activity_days(start, end) if start_day <= d <= end_day)


def candidate_training_get(
    *, user: Viewer, member: Member, today: date | None = None
) -> CandidateTraining | None:
    """The box of a member's hours page: the member's 发展对象 training, or None when the page
    does not show it (see ``shows_candidate_training``) or the user may not see the member's hours."""
    today = today or timezone.localdate()
    if not shows_candidate_training(member, today):
        return None
    return candidate_training_for(user=user, members=[member], today=today).get(member.pk)


@dataclass(frozen=True)
class CandidateRow:
    """One 发展对象 of the list, with the figures."""

    member: Member
    training: CandidateTraining


def candidate_training_list(
    *, user: Viewer, organization: Organization, only_short: bool = False, today: date | None = None
) -> list[CandidateRow]:
    """The 发展对象 on the roll of the organisation's subtree (within the user's learning scope)
    with their training, those who have not met the rule first, then in tree order; ``only_short``:
    those only. An organisation outside the scope is a 404. Three queries (members, rules, lines)
    for up to ``MEMBER_CHUNK`` 发展对象."""
    scope = scope_for(user, "view", APP)
    if not scope.covers(organization.path):
        raise Http404("党组织不存在")
    members = list(
        Member.objects.filter(
            organization.subtree_q("org_path"),
            scope.q("org_path"),
            is_active=True,
            status=MemberStatus.CANDIDATE,
        )
        .select_related("organization")
        # No personal data: the encrypted columns would be decrypted for nothing.
        .only(*MEMBER_FIELDS, "name", "organization", "organization__name", "organization__short_name")
        .order_by("org_path", "name", "id")
    )
    training = candidate_training_for(user=user, members=members, today=today)
    rows = [CandidateRow(m, training[m.pk]) for m in members if m.pk in training]
    if only_short:
        rows = [r for r in rows if not r.training.met]
    # Stable: tree order within each of the two groups.
    return sorted(rows, key=lambda r: r.training.met)


@dataclass(frozen=True)
class CandidateCounts:
    """The 发展对象 of a subtree and how many of them have met the training rule: the row the
    learning summary shows beside the annual requirement groups."""

    members: int
    met: int

    @property
    def short(self) -> int:
        return self.members - self.met


def candidate_training_counts(
    *, user: Viewer, organization: Organization, today: date | None = None
) -> CandidateCounts:
    """How many 发展对象 are on the roll of the organisation's subtree (within the user's learning
    scope) and how many have met the training rule over their candidate period — the figures of
    ``candidate_training_list``, without loading names. 发展对象 are a small share of a subtree's
    members; the cost is two queries per ``MEMBER_CHUNK`` of them, plus one."""
    scope = scope_for(user, "view", APP)
    if not scope.covers(organization.path):
        raise Http404("党组织不存在")
    members = list(
        Member.objects.filter(
            organization.subtree_q("org_path"),
            scope.q("org_path"),
            is_active=True,
            status=MemberStatus.CANDIDATE,
        )
        .only(*MEMBER_FIELDS)
        .order_by()
    )
    training = candidate_training_for(user=None, members=members, today=today)
    return CandidateCounts(members=len(training), met=sum(1 for t in training.values() if t.met))

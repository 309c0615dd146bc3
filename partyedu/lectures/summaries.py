"""The summary rows of the lecture statistics, so that the statistics page and the duty summary
of a city read a few rows instead of aggregating every lecture, rating and member on each request.

``LectureFigure`` holds each figure of an organisation *and everything below it* (cumulative, like
``Organization.member_count``): the page of an organisation reads its own rows and its direct
children's, whatever the size of the subtree. The figures are kept by increments, inside the
transaction of the change, from two mirrors that remember what was last counted:

- ``LectureTally``, one per lecture: where and when it was held, its type, whether it was a cross
  lecture, its speakers' categories and members, its ratings. ``lectures_sync`` recomputes the
  tally of the given lectures from the sources and adds the difference to the figures. The
  lectures services call it after every change; the study app calls ``lectures_activities_changed``
  after an activity's date changed or it was deleted (its lecture with it).
- ``LectureDutyMember``, one per member on the duty list (an active 基层党组织书记 or 领导干部):
  their organisation and exemption. ``duty_members_sync`` compares it with the member; the members
  services call it (through their hook) after every change of a member.

Whether a duty member has lectured in a year is not mirrored: it changes only when lectures change,
and it is counted then from the sources under the member's row lock, so two lectures recorded at
once for the same speaker cannot both count them as newly lectured.

An organisation moved under another parent takes its cumulative rows with it
(``figures_org_moved``, called by the organisations service). ``lecture_figures_rebuild`` recomputes
everything from the sources and reports (or repairs) the differences; after correct operation there
are none.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.hooks import hooks
from partyedu.members.choices import MemberCategory
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.models import Organization, all_lineage_ids, lineage_ids
from partyedu.study.models import Activity

from .models import Lecture, LectureDutyMember, LectureFigure, LectureRating, LectureSpeaker, LectureTally

logger = logging.getLogger(__name__)

# The names of the figures (``LectureFigure.name``).
LECTURES = "lectures"  # lectures held in the subtree in the year
CROSS = "cross"  # of them, with a speaker lecturing across (交叉讲党课)
RATINGS = "ratings"  # ratings of those lectures
RATING_TOTAL = "rating_total"  # the sum of their scores
TYPE = "type:"  # + a LectureType: lectures of that type
CATEGORY = "category:"  # + a LecturerCategory: lectures with a speaker of that category
MONTH = "month:"  # + "{m}:" + one of the names above (lectures, cross, category:…): the same, held in month m
DUTY = "duty"  # (year 0) members on the duty list
DUTY_EXEMPT = "duty_exempt"  # (year 0) of them, exempt
DUTY_LECTURED = "duty_lectured"  # not exempt and lectured in the year
DUTY_EXEMPT_LECTURED = "duty_exempt_lectured"  # exempt and lectured all the same
ALL_YEARS = 0
DUTY_FIGURES = (DUTY, DUTY_EXEMPT, DUTY_LECTURED, DUTY_EXEMPT_LECTURED)

CHUNK = 1000
UPSERT_ROWS = 200  # rows per INSERT … ON CONFLICT (4 parameters each)
SAMPLE_LINES = 20

Key = tuple[int, int, str]  # (organization id, year, figure name)


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- what one lecture and one duty member count ------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What the statistics count of one lecture (see ``LectureTally``)."""

    activity_id: int
    organization_id: int
    year: int
    month: int
    lecture_type: str
    is_cross: bool
    categories: tuple[str, ...]
    speakers: tuple[int, ...]  # the members among the speakers
    ratings: int
    rating_total: int

    @classmethod
    def of_row(cls, row: LectureTally) -> Tally:
        return cls(
            activity_id=row.activity_id,
            organization_id=row.organization_id,
            year=row.year,
            month=row.month,
            lecture_type=row.lecture_type,
            is_cross=row.is_cross,
            categories=tuple(row.categories),
            speakers=tuple(row.speakers),
            ratings=row.ratings,
            rating_total=row.rating_total,
        )

    def row(self, lecture_id: int) -> LectureTally:
        return LectureTally(
            lecture_id=lecture_id,
            activity_id=self.activity_id,
            organization_id=self.organization_id,
            year=self.year,
            month=self.month,
            lecture_type=self.lecture_type,
            is_cross=self.is_cross,
            categories=list(self.categories),
            speakers=list(self.speakers),
            ratings=self.ratings,
            rating_total=self.rating_total,
        )

    def figures(self) -> Counter[Key]:
        """The lecture's part of its organisation's own figures."""
        org, year = self.organization_id, self.year
        out: Counter[Key] = Counter(
            {
                (org, year, LECTURES): 1,
                (org, year, CROSS): int(self.is_cross),
                (org, year, RATINGS): self.ratings,
                (org, year, RATING_TOTAL): self.rating_total,
                (org, year, TYPE + self.lecture_type): 1,
            }
        )
        month = f"{MONTH}{self.month}:"
        out[(org, year, month + LECTURES)] += 1
        out[(org, year, month + CROSS)] += int(self.is_cross)
        for category in self.categories:
            out[(org, year, CATEGORY + category)] += 1
            out[(org, year, month + CATEGORY + category)] += 1
        return out


def tallies_from_sources(lecture_ids: list[int] | None = None) -> dict[int, Tally]:
    """The tallies of the given lectures (every lecture for None) as the sources say now. Three
    queries per chunk of lectures."""
    out: dict[int, Tally] = {}
    chunks: Iterable[list[int] | None] = [None] if lecture_ids is None else _chunks(sorted(set(lecture_ids)))
    for chunk in chunks:
        lectures = Lecture.objects.all() if chunk is None else Lecture.objects.filter(pk__in=chunk)
        speakers = (
            LectureSpeaker.objects.all()
            if chunk is None
            else LectureSpeaker.objects.filter(lecture_id__in=chunk)
        )
        ratings = (
            LectureRating.objects.all()
            if chunk is None
            else LectureRating.objects.filter(lecture_id__in=chunk)
        )
        categories: dict[int, set[str]] = {}
        members: dict[int, set[int]] = {}
        cross: set[int] = set()
        for lecture_id, category, member_id, is_cross in speakers.values_list(
            "lecture_id", "lecturer__category", "lecturer__member_id", "is_cross"
        ).iterator(chunk_size=5000):
            categories.setdefault(lecture_id, set()).add(category)
            if member_id is not None:
                members.setdefault(lecture_id, set()).add(member_id)
            if is_cross:
                cross.add(lecture_id)
        scores = {
            row["lecture_id"]: (row["n"], row["total"] or 0)
            for row in ratings.values("lecture_id").annotate(n=Count("id"), total=Sum("score")).order_by()
        }
        rows = lectures.annotate(
            year=ExtractYear("activity__start"), month=ExtractMonth("activity__start")
        ).values_list("pk", "activity_id", "activity__organization_id", "year", "month", "lecture_type")
        for pk, activity_id, org_id, year, month, lecture_type in rows.iterator(chunk_size=5000):
            n, total = scores.get(pk, (0, 0))
            out[pk] = Tally(
                activity_id=activity_id,
                organization_id=org_id,
                year=year,
                month=month,
                lecture_type=lecture_type,
                is_cross=pk in cross,
                categories=tuple(sorted(categories.get(pk, ()))),
                speakers=tuple(sorted(members.get(pk, ()))),
                ratings=n,
                rating_total=total,
            )
    return out


@dataclass(frozen=True)
class DutyState:
    """A member on the duty list, as the duty figures count them."""

    organization_id: int
    is_exempt: bool

    def figures(self, lectured_years: Iterable[int]) -> Counter[Key]:
        org = self.organization_id
        out: Counter[Key] = Counter(
            {(org, ALL_YEARS, DUTY): 1, (org, ALL_YEARS, DUTY_EXEMPT): int(self.is_exempt)}
        )
        name = DUTY_EXEMPT_LECTURED if self.is_exempt else DUTY_LECTURED
        for year in lectured_years:
            out[(org, year, name)] += 1
        return out


def _on_duty_list() -> Q:
    """Active members who are 基层党组织书记 or 领导干部 (the duty list of ``lecture_duty``)."""
    return (has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.LEADER)) & Q(
        is_active=True
    )


def _lectured_years(member_ids: list[int], years: Iterable[int] | None = None) -> dict[tuple[int, int], int]:
    """(member, year) → the number of lectures the member gave in that year, through any of their
    lecturer entries, from the sources."""
    out: dict[tuple[int, int], int] = {}
    wanted = sorted(set(years)) if years is not None else None
    for chunk in _chunks(sorted(set(member_ids))):
        qs = LectureSpeaker.objects.filter(lecturer__member_id__in=chunk).annotate(
            year=ExtractYear("lecture__activity__start")
        )
        if wanted is not None:
            qs = qs.filter(year__in=wanted)
        rows = (
            qs.values("lecturer__member_id", "year").annotate(n=Count("lecture_id", distinct=True)).order_by()
        )
        for row in rows:
            out[(row["lecturer__member_id"], row["year"])] = row["n"]
    return out


def _lock_members(member_ids: Iterable[int]) -> None:
    """Lock the members' rows (in id order, as every writer of members does), so the duty figures
    of one member are changed by one transaction at a time."""
    for chunk in _chunks(sorted(set(member_ids))):
        list(
            Member.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


# --- applying differences ----------------------------------------------------------------------------


def _rolled_up(deltas: Counter[Key]) -> Counter[Key]:
    """The differences of organisations' own figures, added to them and to every ancestor."""
    deltas = Counter({key: value for key, value in deltas.items() if value})
    if not deltas:
        return deltas
    lineage = lineage_ids(key[0] for key in deltas)
    out: Counter[Key] = Counter()
    for (org_id, year, name), value in deltas.items():
        for pk in lineage[org_id]:
            out[(pk, year, name)] += value
    return Counter({key: value for key, value in out.items() if value})


def _increment(totals: Counter[Key]) -> None:
    """Add to the stored figures, creating the rows that are missing, in key order (so that two
    transactions lock shared rows in the same order). One statement per UPSERT_ROWS rows; the
    increment happens in the database, so concurrent writers never lose each other's changes."""
    rows = sorted((key, value) for key, value in totals.items() if value)
    if not rows:
        return
    table = connection.ops.quote_name(LectureFigure._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, UPSERT_ROWS):
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = [
                item for (org_id, year, name), value in chunk for item in (org_id, year, name, value)
            ]
            cursor.execute(
                f"INSERT INTO {table} (organization_id, year, name, value) VALUES {values} "
                f"ON CONFLICT (organization_id, year, name) DO UPDATE SET value = {table}.value + excluded.value",
                params,
            )


def figures_add(deltas: Counter[Key]) -> None:
    """Apply differences of organisations' own figures to the cumulative figures of each of them
    and of every organisation above it. Call inside the transaction of the change."""
    _increment(_rolled_up(deltas))


def _difference(after: Counter[Key], before: Counter[Key]) -> Counter[Key]:
    out = Counter(after)
    out.subtract(before)
    return out


# --- keeping in step -----------------------------------------------------------------------------------


@transaction.atomic
def lectures_sync(*, lecture_ids: Iterable[int]) -> None:
    """Bring the figures in line with the current state of these lectures (recorded, changed,
    rated, deleted, their activity moved to another date or deleted, a speaker's category
    changed). Call inside the transaction that made the change, after it."""
    ids = sorted(set(lecture_ids))
    if not ids:
        return
    stored: dict[int, Tally] = {}
    for chunk in _chunks(ids):
        for row in (
            LectureTally.objects.select_for_update().filter(lecture_id__in=chunk).order_by("lecture_id")
        ):
            stored[row.lecture_id] = Tally.of_row(row)
    current = tallies_from_sources(ids)
    deltas: Counter[Key] = Counter()
    member_years: Counter[tuple[int, int]] = Counter()
    changed: list[int] = []
    for pk in ids:
        before, after = stored.get(pk), current.get(pk)
        if before == after:
            continue
        changed.append(pk)
        if after is not None:
            deltas.update(after.figures())
            member_years.update((member_id, after.year) for member_id in after.speakers)
        if before is not None:
            deltas.subtract(before.figures())
            member_years.subtract((member_id, before.year) for member_id in before.speakers)
    if not changed:
        return
    gone = [pk for pk in changed if pk not in current]
    for chunk in _chunks(gone):
        LectureTally.objects.filter(lecture_id__in=chunk).delete()
    LectureTally.objects.bulk_create(
        [current[pk].row(pk) for pk in changed if pk in current],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["lecture_id"],
        update_fields=[
            "activity_id",
            "organization_id",
            "year",
            "month",
            "lecture_type",
            "is_cross",
            "categories",
            "speakers",
            "ratings",
            "rating_total",
        ],
    )
    deltas.update(_duty_lectured_changes(member_years))
    figures_add(deltas)


def _duty_lectured_changes(member_years: Counter[tuple[int, int]]) -> Counter[Key]:
    """The duty figures that change because members gave more or fewer lectures in a year:
    ``member_years`` is (member, year) → lectures added (or, negative, taken away) by this change,
    which the sources already hold. A member newly lectured, or no longer, counts one more or one
    fewer in their organisation's figure of that year."""
    member_years = Counter({key: value for key, value in member_years.items() if value})
    if not member_years:
        return Counter()
    member_ids = sorted({member_id for member_id, _year in member_years})
    _lock_members(member_ids)
    duty: dict[int, DutyState] = {}
    for chunk in _chunks(member_ids):
        for row in LectureDutyMember.objects.filter(member_id__in=chunk):
            duty[row.member_id] = DutyState(row.organization_id, row.is_exempt)
    relevant = {key: value for key, value in member_years.items() if key[0] in duty}
    if not relevant:
        return Counter()
    counts = _lectured_years(
        sorted({member_id for member_id, _year in relevant}), {year for _member, year in relevant}
    )
    out: Counter[Key] = Counter()
    for (member_id, year), added in relevant.items():
        after = counts.get((member_id, year), 0)
        before = after - added
        if (before > 0) == (after > 0):
            continue
        state = duty[member_id]
        name = DUTY_EXEMPT_LECTURED if state.is_exempt else DUTY_LECTURED
        out[(state.organization_id, year, name)] += 1 if after > 0 else -1
    return out


@transaction.atomic
def lectures_activities_changed(*, activity_ids: Iterable[int]) -> None:
    """The study app's hook: these activities changed (their date: their lecture's copy of it
    follows) or were deleted (with their lecture). Call inside the same transaction, after the
    change."""
    ids = sorted(set(activity_ids))
    if not ids:
        return
    lecture_ids: set[int] = set()
    # The speakers' members and the years before (the tallies, not yet synced) and after, for the
    # points a lecture given credits (``lectures.lectures_changed``); a date move keeps the speakers.
    member_ids: set[int] = set()
    years: set[int] = set()
    activity_start = Activity.objects.filter(pk=OuterRef("activity_id")).values("start")[:1]
    for chunk in _chunks(ids):
        Lecture.objects.filter(activity_id__in=chunk).update(start=Subquery(activity_start))
        for pk, start in Lecture.objects.filter(activity_id__in=chunk).values_list("pk", "start"):
            lecture_ids.add(pk)
            years.add(timezone.localtime(start).year)
        for pk, year, speakers in LectureTally.objects.filter(activity_id__in=chunk).values_list(
            "lecture_id", "year", "speakers"
        ):
            lecture_ids.add(pk)
            years.add(year)
            member_ids.update(speakers)
    lectures_sync(lecture_ids=lecture_ids)
    if member_ids:
        hooks.call(
            "lectures.lectures_changed",
            lecture_ids=sorted(lecture_ids),
            member_ids=sorted(member_ids),
            years=sorted(years),
        )


@transaction.atomic
def duty_members_sync(*, member_ids: Iterable[int]) -> None:
    """The members app's hook: these members changed in a way the duty list may depend on
    (created, categories, exemption, organisation, taken off the roll). Call inside the same
    transaction, after the change."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    # Only members on the list, or on it until now, matter: a few in a hundred.
    wanted: dict[int, DutyState] = {}
    stored: dict[int, DutyState] = {}
    for chunk in _chunks(ids):
        for pk, org_id, is_exempt in Member.objects.filter(_on_duty_list(), pk__in=chunk).values_list(
            "pk", "organization_id", "is_exempt"
        ):
            wanted[pk] = DutyState(org_id, is_exempt)
        for row in LectureDutyMember.objects.filter(member_id__in=chunk):
            stored[row.member_id] = DutyState(row.organization_id, row.is_exempt)
    changed = [pk for pk in ids if wanted.get(pk) != stored.get(pk)]
    if not changed:
        return
    # The members services hold these rows already; the lock orders this change before (or
    # after) a lecture's count of whether the member lectured (``_duty_lectured_changes``).
    _lock_members(changed)
    years: dict[int, list[int]] = {}
    for (member_id, year), n in _lectured_years(changed).items():
        if n:
            years.setdefault(member_id, []).append(year)
    deltas: Counter[Key] = Counter()
    for pk in changed:
        before, after = stored.get(pk), wanted.get(pk)
        if after is not None:
            deltas.update(after.figures(years.get(pk, [])))
        if before is not None:
            deltas.subtract(before.figures(years.get(pk, [])))
    for chunk in _chunks([pk for pk in changed if pk not in wanted]):
        LectureDutyMember.objects.filter(member_id__in=chunk).delete()
    LectureDutyMember.objects.bulk_create(
        [
            LectureDutyMember(
                member_id=pk, organization_id=wanted[pk].organization_id, is_exempt=wanted[pk].is_exempt
            )
            for pk in changed
            if pk in wanted
        ],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["member"],
        update_fields=["organization_id", "is_exempt"],
    )
    figures_add(deltas)


@transaction.atomic
def figures_org_moved(*, organization: Organization, old_parent_path: str, new_parent_path: str) -> None:
    """The organisations service's hook: ``organization`` (with its subtree) now hangs under the
    organisation at ``new_parent_path``. Its cumulative figures leave its old ancestors and join
    the new ones. Call inside the same transaction, after the move."""
    parents = dict(
        Organization.objects.filter(
            path__in=[p for p in (old_parent_path, new_parent_path) if p]
        ).values_list("path", "pk")
    )
    deltas: Counter[Key] = Counter()
    for year, name, value in (
        LectureFigure.objects.filter(organization=organization)
        .exclude(value=0)
        .values_list("year", "name", "value")
    ):
        if old_parent_path in parents:
            deltas[(parents[old_parent_path], year, name)] -= value
        if new_parent_path in parents:
            deltas[(parents[new_parent_path], year, name)] += value
    figures_add(deltas)


# --- reading -----------------------------------------------------------------------------------------


def figures_of(organization_ids: Iterable[int], years: Iterable[int]) -> dict[int, Counter[str]]:
    """Organisation → figure name → value, for the given organisations, summed over the given
    years (pass one year, with ALL_YEARS for the duty list). One query."""
    out: dict[int, Counter[str]] = {}
    rows = LectureFigure.objects.filter(organization_id__in=list(organization_ids), year__in=list(years))
    for org_id, name, value in rows.values_list("organization_id", "name", "value"):
        out.setdefault(org_id, Counter())[name] += value
    return out


# --- the rebuild ---------------------------------------------------------------------------------------


@dataclass
class FiguresRebuildReport:
    """Differences between the stored summary rows and a recomputation from the sources. After
    correct operation every count is 0."""

    applied: bool
    copies: int = 0  # lectures whose copy of their activity's start or organisation differs
    tallies: int = 0  # lectures whose LectureTally differs from the lecture (or is missing, or stale)
    duty_members: int = 0  # members whose LectureDutyMember differs from the member
    figures: int = 0  # (organisation, year, figure) whose stored value differs
    samples: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.copies + self.tallies + self.duty_members + self.figures

    def note(self, line: str) -> None:
        if len(self.samples) < SAMPLE_LINES:
            self.samples.append(line)


def expected_figures(tallies: dict[int, Tally], duty: dict[int, DutyState]) -> Counter[Key]:
    """Every cumulative figure as the sources say (rolled up to every ancestor)."""
    own: Counter[Key] = Counter()
    for tally in tallies.values():
        own.update(tally.figures())
    years: dict[int, list[int]] = {}
    for (member_id, year), n in _lectured_years(list(duty)).items():
        if n:
            years.setdefault(member_id, []).append(year)
    for member_id, state in duty.items():
        own.update(state.figures(years.get(member_id, [])))
    lineage = all_lineage_ids()
    out: Counter[Key] = Counter()
    for (org_id, year, name), value in own.items():
        if value:
            for pk in lineage[org_id]:
                out[(pk, year, name)] += value
    return Counter({key: value for key, value in out.items() if value})


def _duty_from_sources() -> dict[int, DutyState]:
    return {
        pk: DutyState(org_id, is_exempt)
        for pk, org_id, is_exempt in Member.objects.filter(_on_duty_list())
        .values_list("pk", "organization_id", "is_exempt")
        .iterator(chunk_size=5000)
    }


def lecture_figures_rebuild(
    *, apply: bool, progress: Callable[[int, int, str], None] | None = None, build: bool = False
) -> FiguresRebuildReport:
    """Recompute the tallies, the duty list and every figure from the sources (lectures, their
    speakers and ratings, activities, members) and compare them with what is stored. With
    ``apply`` the stored rows are overwritten with the recomputed values, in one transaction (the
    members' and lectures' writers wait until it commits: it locks the tables it rewrites).
    A difference is logged as a warning (the services should have kept the rows) unless
    ``build``: the rows are being built for sources written in bulk (the demo seed)."""
    step = progress or (lambda done, total, message: None)
    report = FiguresRebuildReport(applied=apply)
    with transaction.atomic():
        if apply and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (LectureTally, LectureDutyMember, LectureFigure):
                    cursor.execute(
                        f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN EXCLUSIVE MODE"
                    )
        step(0, 3, "正在核对党课统计计数")
        wrong = list(
            Lecture.objects.exclude(
                start=F("activity__start"), organization=F("activity__organization")
            ).values_list("pk", flat=True)
        )
        report.copies = len(wrong)
        if apply and wrong:
            activity = Activity.objects.filter(pk=OuterRef("activity_id"))
            for chunk in _chunks(wrong):
                Lecture.objects.filter(pk__in=chunk).update(
                    start=Subquery(activity.values("start")[:1]),
                    organization=Subquery(activity.values("organization_id")[:1]),
                )
        tallies = tallies_from_sources()
        stored_tallies = {
            row.lecture_id: Tally.of_row(row) for row in LectureTally.objects.iterator(chunk_size=5000)
        }
        wrong_tallies = sorted(
            pk for pk in set(tallies) | set(stored_tallies) if tallies.get(pk) != stored_tallies.get(pk)
        )
        report.tallies = len(wrong_tallies)
        for pk in wrong_tallies[:5]:
            report.note(f"党课 {pk}：计数 {stored_tallies.get(pk)} 应为 {tallies.get(pk)}")

        step(1, 3, "正在核对讲党课责任人")
        duty = _duty_from_sources()
        stored_duty = {
            row.member_id: DutyState(row.organization_id, row.is_exempt)
            for row in LectureDutyMember.objects.iterator(chunk_size=5000)
        }
        wrong_duty = sorted(pk for pk in set(duty) | set(stored_duty) if duty.get(pk) != stored_duty.get(pk))
        report.duty_members = len(wrong_duty)
        for pk in wrong_duty[:5]:
            report.note(f"党员 {pk}：责任人 {stored_duty.get(pk)} 应为 {duty.get(pk)}")

        step(2, 3, "正在核对党课统计汇总")
        figures = expected_figures(tallies, duty)
        stored_figures: dict[Key, int] = {
            (org_id, year, name): value
            for org_id, year, name, value in LectureFigure.objects.values_list(
                "organization_id", "year", "name", "value"
            ).iterator(chunk_size=5000)
        }
        wrong_figures = sorted(
            key
            for key in set(figures) | set(stored_figures)
            if figures.get(key, 0) != stored_figures.get(key, 0)
        )
        report.figures = len(wrong_figures)
        for key in wrong_figures[:5]:
            report.note(f"汇总 {key}：{stored_figures.get(key, 0)} 应为 {figures.get(key, 0)}")

        if apply and report.differences:
            _overwrite(
                tallies=tallies,
                wrong_tallies=wrong_tallies,
                duty=duty,
                wrong_duty=wrong_duty,
                figures=figures,
                wrong_figures=wrong_figures,
            )
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type=LectureFigure._meta.label_lower,
                object_repr="党课统计核对重算",
                changes={
                    "copies": report.copies,
                    "tallies": report.tallies,
                    "duty_members": report.duty_members,
                    "figures": report.figures,
                },
                message=f"党课统计核对重算：更正{report.differences}处",
            )
        step(3, 3, "核对完毕")
    if report.differences and not build:
        logger.warning("lecture figures rebuild found %s differences: %s", report.differences, report.samples)
    return report


def _overwrite(
    *,
    tallies: dict[int, Tally],
    wrong_tallies: list[int],
    duty: dict[int, DutyState],
    wrong_duty: list[int],
    figures: Counter[Key],
    wrong_figures: list[Key],
) -> None:
    for chunk in _chunks(wrong_tallies):
        LectureTally.objects.filter(lecture_id__in=chunk).delete()
    LectureTally.objects.bulk_create(
        [tallies[pk].row(pk) for pk in wrong_tallies if pk in tallies], batch_size=1000
    )
    for chunk in _chunks(wrong_duty):
        LectureDutyMember.objects.filter(member_id__in=chunk).delete()
    LectureDutyMember.objects.bulk_create(
        [
            LectureDutyMember(
                member_id=pk, organization_id=duty[pk].organization_id, is_exempt=duty[pk].is_exempt
            )
            for pk in wrong_duty
            if pk in duty
        ],
        batch_size=1000,
    )
    LectureFigure.objects.bulk_create(
        [
            LectureFigure(
                organization_id=org_id, year=year, name=name, value=figures.get((org_id, year, name), 0)
            )
            for org_id, year, name in wrong_figures
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["organization", "year", "name"],
        update_fields=["value"],
    )

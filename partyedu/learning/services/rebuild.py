"""The rebuild: recompute everything derived from the sources and compare it with what is stored
(and, when asked, correct it: ledger rows appended, summaries overwritten)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Max, Q, Sum

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths

from ..choices import HourKind, RequirementGroup, SourceType
from ..models import (
    LearningHourEntry,
    MemberRequirement,
    MemberYearHours,
    OrgCategoryCounts,
    OrgRequirementCounts,
    OrgYearCategoryCompletion,
    OrgYearCompletion,
)
from ..selectors import (
    FIGURE_FIELDS,
    KIND_FIELDS,
    ZERO,
    YearFigures,
    _class_counts,
    requirement_met,
    requirement_of,
    rules_for_paths,
)
from ._common import CHUNK, COMPLETION_FIELDS, COUNT_FIELDS, GROUP_FIELD, YEAR_FIELDS, _chunks, _hours_text
from .ledger import (
    DesiredFn,
    _correction_rows,
    _ledger_nets,
    _Line,
    _sync_sources,
    hour_sources,
)
from .online import online_rebuild
from .summaries import (
    CATEGORY_COUNT_FIELDS,
    MEMBER_STATE_FIELDS,
    _apply_category_deltas,
    _apply_org_deltas,
    _categories,
    _cumulate,
    _requirement_tuple,
    _save_flags,
    _save_states,
    _state_for,
    _state_tuple,
)

# Sources per step of the rebuild (a city's year is millions of attendance rows).
REBUILD_CHUNK = 10_000
K = TypeVar("K")
R = TypeVar("R", bound=models.Model)


def _differences(
    wanted: Mapping[K, Mapping[str, Any]],
    stored: Mapping[K, R],
    fields: Sequence[str],
    zero: Any = 0,
    read: Callable[[Any], Any] = lambda value: value,
) -> Iterator[tuple[K, R | None, dict[str, Any], dict[str, Any]]]:
    """Every key, in order, whose stored summary row (or its absence) differs from what the
    sources say: ``(key, row, have, want)``, a missing field or row counting as ``zero``."""
    for key in sorted(set(wanted) | set(stored)):  # type: ignore[type-var]  # keys are tuples or ints
        source = wanted.get(key, {})
        want = {name: source.get(name, zero) for name in fields}
        row = stored.get(key)
        have = {name: read(getattr(row, name)) for name in fields} if row else dict.fromkeys(fields, zero)
        if want != have:
            yield key, row, have, want


def _put(
    row: R | None,
    want: Mapping[str, Any],
    new: type[R],
    key: Mapping[str, Any],
    *,
    create: list[R],
    fix: list[R],
) -> None:
    """Queue the correction of one summary row: a new ``new(**key, **want)``, or the stored row set
    to ``want``."""
    if row is None:
        create.append(new(**key, **want))
        return
    for name, value in want.items():
        setattr(row, name, value)
    fix.append(row)


# --- the rebuild ------------------------------------------------------------------------------------

SAMPLE_LINES = 20


@dataclass
class RebuildReport:
    """Differences between the stored derived data and a recomputation from the sources. After
    correct operation every count is 0."""

    applied: bool
    ledger: int = 0  # (source, member, kind, year) whose ledger net differs from the source
    ledger_rows_appended: int = 0
    year_hours: int = 0  # MemberYearHours rows that differ from the ledger
    requirements: int = 0  # MemberRequirement rows and completion flags that differ
    # The same differences by what they concern: members counted under another requirement, and
    # member-years whose completion flag changed.
    requirement_states: int = 0
    completion_flags: int = 0
    # OrgRequirementCounts / OrgYearCompletion (and their by-category rows) that differ
    summaries: int = 0
    # member-years' online copies and the kept online figures (learning.online) that differ
    online: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.ledger + self.year_hours + self.requirements + self.summaries + self.online

    def note(self, line: str) -> None:
        if len(self.samples) < SAMPLE_LINES:
            self.samples.append(line)


def _id_ranges(max_id: int, size: int = CHUNK) -> Iterable[tuple[int, int]]:
    for lo in range(0, max_id + 1, size):
        yield lo, lo + size


def _rebuild_ledger(report: RebuildReport, source_type: str, source_max: int, desired_fn: DesiredFn) -> None:
    """Compare what every source credits with the ledger. Checking reads without locks; applying
    works in one pass per chunk under the members' locks, as the services do (``_sync_sources``),
    so what it finds different is what it appends, with the summaries kept in step."""
    ledger_max = (
        LearningHourEntry.objects.filter(source_type=source_type).aggregate(m=Max("source_id"))["m"] or 0
    )
    label = SourceType(source_type).label

    def found(rows: list[_Line]) -> None:
        report.ledger += len(rows)
        for row in rows:
            if len(report.samples) >= SAMPLE_LINES:
                break
            report.note(
                f"{label}#{row.source_id} 党员#{row.member_id} {row.year} {HourKind(row.kind).label}："
                f"台账差 {_hours_text(row.hours)} 学时"
            )

    for lo, hi in _id_ranges(max(source_max, ledger_max), REBUILD_CHUNK):
        ids = range(lo, hi)
        if report.applied:
            report.ledger_rows_appended += _sync_sources(
                source_type=source_type,
                ids=ids,
                desired_fn=desired_fn,
                actor=None,
                word="核对更正",
                chunk_size=REBUILD_CHUNK,
                on_rows=found,
            )
            continue
        desired = desired_fn(ids)
        nets = _ledger_nets(source_type, ids)
        if not desired and not nets:
            continue
        found(_correction_rows(source_type=source_type, ids=ids, desired=desired, nets=nets, actor=None))


# What ``_rebuild_year_hours`` compares: the hours from the ledger, the classes from attendance.
YEAR_SUMMARY_FIELDS = (*YEAR_FIELDS, "classes_completed")


def _rebuild_year_hours(report: RebuildReport) -> None:
    """``MemberYearHours`` against the ledger (hours by kind) and the attendance of training
    classes (the classes completed, by the year of the class's end date)."""
    max_member = Member.objects.aggregate(m=Max("pk"))["m"] or 0
    for lo, hi in _id_ranges(max_member, 2000):
        expected: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
            lambda: dict.fromkeys(YEAR_SUMMARY_FIELDS, ZERO)
        )
        sums = (
            LearningHourEntry.objects.filter(member_id__gte=lo, member_id__lt=hi)
            .values("member_id", "year", "kind")
            .annotate(s=Sum("hours"))
            .order_by()
        )
        for row in sums:
            values = expected[(row["member_id"], row["year"])]
            values[KIND_FIELDS[HourKind(row["kind"])]] += Decimal(row["s"])
            values["total"] += Decimal(row["s"])
        for key, n in _class_counts(Q(member_id__gte=lo, member_id__lt=hi)).items():
            expected[key]["classes_completed"] = Decimal(n)
        stored = {
            (r.member_id, r.year): r
            for r in MemberYearHours.objects.filter(member_id__gte=lo, member_id__lt=hi)
        }
        fix: list[MemberYearHours] = []
        create: list[MemberYearHours] = []
        for key, row, have, want in _differences(expected, stored, YEAR_SUMMARY_FIELDS, ZERO, Decimal):
            report.year_hours += 1
            if have["classes_completed"] != want["classes_completed"]:
                report.note(
                    f"党员#{key[0]} {key[1]} 结业培训班：{have['classes_completed']}，"
                    f"按出勤 {want['classes_completed']}"
                )
            else:
                report.note(
                    f"党员#{key[0]} {key[1]} 年度学时汇总：{_hours_text(have['total'])}，"
                    f"台账合计 {_hours_text(want['total'])}"
                )
            want["classes_completed"] = int(want["classes_completed"])
            _put(row, want, MemberYearHours, {"member_id": key[0], "year": key[1]}, create=create, fix=fix)
        if report.applied:
            MemberYearHours.objects.bulk_create(create)
            MemberYearHours.objects.bulk_update(fix, list(YEAR_SUMMARY_FIELDS))


def _member_batches(path: str | None) -> Iterable[tuple[Q, Q]]:
    """Members (of a subtree, or all) in batches of 2000: conditions on members and on their
    requirement states (for all members, by id range, so that states of members that no longer
    exist are found too)."""
    if path is None:
        max_member = Member.objects.aggregate(m=Max("pk"))["m"] or 0
        for lo, hi in _id_ranges(max_member, 2000):
            yield Q(pk__gte=lo, pk__lt=hi), Q(member_id__gte=lo, member_id__lt=hi)
        return
    ids = list(
        Member.objects.filter(subtree_q("org_path", [path])).order_by("pk").values_list("pk", flat=True)
    )
    for chunk in _chunks(ids, 2000):
        yield Q(pk__in=chunk), Q(member_id__in=chunk)


def _rebuild_requirements(report: RebuildReport, path: str | None = None) -> None:
    """Recompute each member's requirement state and completion flags (of a subtree, or all), then
    the organisation counts from them; compare with what is stored; overwrite when applying. For a
    subtree the members are locked as they are read, and the ancestors get the difference."""
    direct_counts: dict[str, Counter[str]] = defaultdict(Counter)
    direct_years: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    direct_categories: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    direct_category_years: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    for member_q, state_q in _member_batches(path):
        member_qs = Member.objects.filter(member_q).order_by("pk")
        if path is not None:
            member_qs = member_qs.select_for_update()
        members = list(member_qs.values(*MEMBER_STATE_FIELDS))
        ids = [m["id"] for m in members]
        states = {s.member_id: s for s in MemberRequirement.objects.filter(state_q)}
        rules = rules_for_paths({m["org_path"] for m in members if m["is_active"]})
        year_rows: dict[int, list[Any]] = defaultdict(list)
        for row in MemberYearHours.objects.filter(member_id__in=ids).values(
            "id", "member_id", "year", *FIGURE_FIELDS, "completed"
        ):
            year_rows[row["member_id"]].append(row)
        create: list[MemberRequirement] = []
        update: list[MemberRequirement] = []
        delete: list[int] = []
        moved: set[int] = set()
        flags: dict[bool, list[int]] = {True: [], False: []}
        for m in members:
            old = states.get(m["id"])
            req = None
            want = None
            categories = _categories(m["categories"])
            if m["is_active"]:
                req = requirement_of(
                    status=m["status"],
                    categories=m["categories"],
                    is_exempt=m["is_exempt"],
                    rule=rules[m["org_path"]],
                )
                want = _requirement_tuple(m["organization_id"], req, m["categories"])
                direct_counts[m["org_path"]]["members"] += 1
                direct_counts[m["org_path"]][GROUP_FIELD[RequirementGroup(req.group)]] += 1
                for category in categories:
                    direct_categories[(m["org_path"], category)]["members"] += 1
                    direct_categories[(m["org_path"], category)]["required"] += req.group in COMPLETION_FIELDS
            if _state_tuple(old) != want:
                report.requirements += 1
                report.requirement_states += 1
                report.note(f"党员#{m['id']} 学时要求：{_state_tuple(old)} → {want}")
                if req is None:
                    delete.append(m["id"])
                else:
                    state = _state_for(m["id"], m["organization_id"], req, m["categories"])
                    (update if old is not None else create).append(state)
                    if old is not None and old.organization_id != m["organization_id"]:
                        moved.add(m["id"])
            for row in year_rows[m["id"]]:
                done = req is not None and requirement_met(req, YearFigures.of(row))
                if done and req is not None:
                    direct_years[(m["org_path"], row["year"])][req.group] += 1
                    for category in categories:
                        direct_category_years[(m["org_path"], row["year"], category)]["completed"] += 1
                if done != row["completed"]:
                    report.requirements += 1
                    report.completion_flags += 1
                    report.note(f"党员#{m['id']} {row['year']} 达标标记：{row['completed']} → {done}")
                    flags[done].append(row["id"])
        present = set(ids)
        orphans = [mid for mid in states if mid not in present]
        if report.applied:
            _save_states(create, update, delete + orphans, moved)
            _save_flags(flags)

    _rebuild_org_counts(report, direct_counts, direct_years, path)
    _rebuild_category_counts(report, direct_categories, direct_category_years, path)


def _rebuild_category_counts(
    report: RebuildReport,
    direct: dict[tuple[str, str], Counter[str]],
    direct_years: dict[tuple[str, int, str], Counter[str]],
    path: str | None = None,
) -> None:
    """Compare the counts by member category (of a subtree, or all) with the recomputed member
    states; overwrite when applying (and, for a subtree, add the change to the ancestors)."""
    prefix = path or ""
    orgs = (
        Organization.objects.all() if path is None else Organization.objects.filter(subtree_q("path", [path]))
    )
    org_ids = dict(orgs.values_list("path", "pk"))
    path_of = {pk: p for p, pk in org_ids.items()}
    wanted: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for (member_path, category), delta in direct.items():
        for p in ancestor_paths(member_path):
            if p.startswith(prefix) and p in org_ids:
                wanted[(org_ids[p], category)].update(delta)
    wanted_years: dict[tuple[int, int, str], Counter[str]] = defaultdict(Counter)
    for (member_path, year, category), delta in direct_years.items():
        for p in ancestor_paths(member_path):
            if p.startswith(prefix) and p in org_ids:
                wanted_years[(org_ids[p], year, category)].update(delta)

    count_qs = OrgCategoryCounts.objects.all()
    year_qs = OrgYearCategoryCompletion.objects.all()
    if path is not None:
        count_qs = count_qs.filter(organization_id__in=list(path_of))
        year_qs = year_qs.filter(organization_id__in=list(path_of))
    stored = {(row.organization_id, row.category): row for row in count_qs}
    stored_years = {(row.organization_id, row.year, row.category): row for row in year_qs}
    root_pk = org_ids.get(path) if path is not None else None
    root_delta: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    root_year_delta: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    parent = path[:-SEGMENT_WIDTH] if path is not None else ""

    create: list[OrgCategoryCounts] = []
    fix: list[OrgCategoryCounts] = []
    for key, row, have, want in _differences(wanted, stored, CATEGORY_COUNT_FIELDS):
        report.summaries += 1
        report.note(f"组织{path_of.get(key[0], key[0])} 类别{key[1]} 人数：{have} → {want}")
        if key[0] == root_pk:
            root_delta[(parent, key[1])].update({n: want[n] - have[n] for n in CATEGORY_COUNT_FIELDS})
        _put(
            row,
            want,
            OrgCategoryCounts,
            {"organization_id": key[0], "category": key[1]},
            create=create,
            fix=fix,
        )
    create_years: list[OrgYearCategoryCompletion] = []
    fix_years: list[OrgYearCategoryCompletion] = []
    for year_key in sorted(set(wanted_years) | set(stored_years)):
        completed = wanted_years[year_key]["completed"] if year_key in wanted_years else 0
        year_row = stored_years.get(year_key)
        had = year_row.completed if year_row else 0
        if completed == had:
            continue
        report.summaries += 1
        report.note(
            f"组织{path_of.get(year_key[0], year_key[0])} {year_key[1]} 类别{year_key[2]} 达标：{had} → {completed}"
        )
        if year_key[0] == root_pk:
            root_year_delta[(parent, year_key[1], year_key[2])]["completed"] += completed - had
        if year_row is None:
            create_years.append(
                OrgYearCategoryCompletion(
                    organization_id=year_key[0], year=year_key[1], category=year_key[2], completed=completed
                )
            )
        else:
            year_row.completed = completed
            fix_years.append(year_row)
    if report.applied and path is not None and len(path) > SEGMENT_WIDTH:
        # The subtree's change, measured at its root, goes to every ancestor.
        _apply_category_deltas(root_delta, root_year_delta)
    if report.applied:
        OrgCategoryCounts.objects.bulk_create(create, batch_size=1000)
        OrgCategoryCounts.objects.bulk_update(fix, list(CATEGORY_COUNT_FIELDS), batch_size=1000)
        OrgYearCategoryCompletion.objects.bulk_create(create_years, batch_size=1000)
        OrgYearCategoryCompletion.objects.bulk_update(fix_years, ["completed"], batch_size=1000)


def _rebuild_org_counts(
    report: RebuildReport,
    direct_counts: dict[str, Counter[str]],
    direct_years: dict[tuple[str, int], Counter[str]],
    path: str | None = None,
) -> None:
    """Compare the organisation counts (of a subtree, or all) with the recomputed member states;
    overwrite when applying (and, for a subtree, add the change to the ancestors)."""
    prefix = path or ""
    counts = {k: v for k, v in _cumulate(direct_counts, lambda key: key).items() if k[0].startswith(prefix)}
    years = {k: v for k, v in _cumulate(direct_years, lambda key: key[0]).items() if k[0].startswith(prefix)}
    orgs = (
        Organization.objects.all() if path is None else Organization.objects.filter(subtree_q("path", [path]))
    )
    org_ids = dict(orgs.values_list("path", "pk"))
    path_of = {pk: p for p, pk in org_ids.items()}

    count_qs = OrgRequirementCounts.objects.all()
    year_qs = OrgYearCompletion.objects.all()
    if path is not None:
        count_qs = count_qs.filter(organization_id__in=list(path_of))
        year_qs = year_qs.filter(organization_id__in=list(path_of))
    stored_counts = {row.organization_id: row for row in count_qs}
    stored_years = {(row.organization_id, row.year): row for row in year_qs}
    # What the subtree's root held before any fix, for the ancestors' share of the change.
    root_pk = org_ids.get(path) if path is not None else None
    old_root = (
        {name: getattr(stored_counts[root_pk], name) for name in COUNT_FIELDS}
        if root_pk in stored_counts
        else {}
    )
    old_root_years = {
        year: {name: getattr(row, name) for name in COMPLETION_FIELDS}
        for (pk, year), row in stored_years.items()
        if pk == root_pk
    }
    fix_counts: list[OrgRequirementCounts] = []
    new_counts: list[OrgRequirementCounts] = []
    wanted = {org_ids[path]: counter for (path, _none), counter in counts.items() if path in org_ids}
    for pk, count_row, have, want in _differences(wanted, stored_counts, COUNT_FIELDS):
        report.summaries += 1
        report.note(f"组织{path_of.get(pk, pk)} 学时要求人数：{have} → {want}")
        _put(
            count_row, want, OrgRequirementCounts, {"organization_id": pk}, create=new_counts, fix=fix_counts
        )

    fix_years: list[OrgYearCompletion] = []
    new_years: list[OrgYearCompletion] = []
    wanted_years = {
        (org_ids[path], year): counter for (path, year), counter in years.items() if path in org_ids
    }
    for key, year_row, have, want in _differences(wanted_years, stored_years, COMPLETION_FIELDS):
        report.summaries += 1
        report.note(f"组织{path_of.get(key[0], key[0])} {key[1]} 达标人数：{have} → {want}")
        _put(
            year_row,
            want,
            OrgYearCompletion,
            {"organization_id": key[0], "year": key[1]},
            create=new_years,
            fix=fix_years,
        )
    if report.applied and path is not None and root_pk is not None and len(path) > SEGMENT_WIDTH:
        # The subtree's change, measured at its root, goes to every ancestor.
        parent = path[:-SEGMENT_WIDTH]
        new_root = wanted.get(root_pk, Counter())
        delta = Counter({name: new_root[name] - old_root.get(name, 0) for name in COUNT_FIELDS})
        year_deltas: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for year in {y for (pk, y) in wanted_years if pk == root_pk} | set(old_root_years):
            new_year = wanted_years.get((root_pk, year), Counter())
            old_year = old_root_years.get(year, {})
            for name in COMPLETION_FIELDS:
                year_deltas[(parent, year)][name] += new_year[name] - old_year.get(name, 0)
        _apply_org_deltas({parent: delta}, year_deltas)
    if report.applied:
        OrgRequirementCounts.objects.bulk_create(new_counts, batch_size=1000)
        OrgRequirementCounts.objects.bulk_update(fix_counts, list(COUNT_FIELDS), batch_size=1000)
        OrgYearCompletion.objects.bulk_create(new_years, batch_size=1000)
        OrgYearCompletion.objects.bulk_update(fix_years, list(COMPLETION_FIELDS), batch_size=1000)


def learning_hours_rebuild(
    *, apply: bool, progress: Callable[[int, int, str], None] | None = None
) -> RebuildReport:
    """Recompute everything derived from the sources and compare it with what is stored:
    the ledger's net for every attendance row, every resource progress and every source a higher
    app keeps (``learning.hour_sources``: exams that credit hours; manual lines stand as recorded), ``MemberYearHours`` from the ledger, each member's requirement state and completion
    flags, and the organisation counts. With ``apply`` the ledger gets correcting lines (never an
    update), and the summaries are overwritten with the recomputed values, in one transaction.
    ``progress(done, total, message)`` is told each step as it starts (for the 系统维护 page)."""
    # Attendance (by far the most rows) is the first step; every other source — resource progress,
    # then those higher apps keep (exams) — the second, each announced as it starts.
    sources = hour_sources()
    messages = {
        SourceType.ATTENDANCE.value: "正在核对出勤记录的学时台账",
        SourceType.RESOURCE.value: "正在核对网上学习的学时台账",
    }

    def step(done: int, message: str) -> None:
        if progress is not None:
            progress(done, 4, message)

    report = RebuildReport(applied=apply)
    with transaction.atomic():
        maxima = {source_type: max_fn() for source_type, (max_fn, _fn) in sources.items()}
        for source_type, (_max_fn, desired_fn) in sources.items():
            label = SourceType(source_type).label
            step(
                0 if source_type == SourceType.ATTENDANCE else 1,
                messages.get(source_type, f"正在核对{label}的学时台账"),
            )
            _rebuild_ledger(report, source_type, maxima[source_type], desired_fn)
        step(2, "正在核对年度学时汇总")
        _rebuild_year_hours(report)
        step(3, "正在核对学时要求、达标标记和组织人数")
        _rebuild_requirements(report)
        report.online, samples = online_rebuild(apply=apply)
        for line in samples:
            report.note(line)
        if apply and report.differences:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type=LearningHourEntry._meta.label_lower,
                object_repr="学时核对重算",
                changes={
                    "ledger": report.ledger,
                    "ledger_rows_appended": report.ledger_rows_appended,
                    "year_hours": report.year_hours,
                    "requirements": report.requirements,
                    "summaries": report.summaries,
                    "online": report.online,
                },
                message=f"学时核对重算：更正{report.differences}处",
            )
    return report

"""Writes to competitions: competitions and their rubric, rounds, entries (recommended, or
self-nominated and endorsed), reviewer panels, automatic and manual assignment, scoring,
advancement, awards and certificates, and the awarded lectures published to the lecture library.

Every service runs in one transaction, validates before it writes, checks the actor's scope on the
organisation it writes to (``PermissionDenied``), raises ``ValidationError({field: [中文]})`` and
writes its audit row in the same transaction. ``actor=None`` is the system (demo seed, commands).

Rules encoded here (docs/competitions.md):
- a rubric's weights sum to 100; every criterion is scored 0–100; the total is Σ score × weight / 100;
- automatic assignment never gives a reviewer an entry whose organisation, or whose lecturer's
  organisation, lies in one of the reviewer's own organisation subtrees, nor their own entry;
  neither does a manual assignment;
- assignment keeps the reviewers' loads balanced (greedy least-loaded, most constrained entry
  first, ties broken by user id, so the same input gives the same assignment);
- a round advances only when every assigned review is submitted, unless the organiser overrides
  with a stated reason, which is audited; ties at the cut-off all advance.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import RoleAssignment, User
from partyedu.accounts.types import Actor, Viewer
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import can, require
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.lectures.models import Lecture, LibraryItem
from partyedu.lectures.selectors import lecture_list, lecturer_of_member, library_item_for_honour
from partyedu.lectures.services import LIBRARY_KINDS, library_publish
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from .choices import Aggregation, AwardKind, CompetitionStatus, EntrySource, RoundStatus
from .models import (
    Award,
    Category,
    Certificate,
    Competition,
    Criterion,
    Entry,
    Review,
    Round,
    RoundEntry,
    RoundReviewer,
)

APP = "competitions"
SCORE_PLACES = Decimal("0.001")
MAX_CRITERIA = 10
# Certificate codes avoid characters that read alike (0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


# --- shared helpers ------------------------------------------------------------------------------


def _user(actor: Actor) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _lock_round(round_: Round) -> Round:
    return Round.objects.select_for_update().select_related("competition__organization").get(pk=round_.pk)


def _decimal(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: [f"{label}必须是数字"]}) from None
    if not number.is_finite():
        raise ValidationError({field: [f"{label}必须是数字"]})
    return number


def _positive_int(value: Any, field: str, label: str, *, allow_none: bool = False) -> int | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationError({field: [f"请填写{label}"]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: [f"{label}必须是整数"]}) from None
    if number < 1:
        raise ValidationError({field: [f"{label}至少为1"]})
    return number


# --- competitions and rubric ---------------------------------------------------------------------


def _clean_criteria(criteria: Any) -> list[dict[str, Any]]:
    if not isinstance(criteria, list | tuple) or not criteria:
        raise ValidationError({"criteria": ["请至少设置一个评分项"]})
    if len(criteria) > MAX_CRITERIA:
        raise ValidationError({"criteria": [f"评分项最多{MAX_CRITERIA}个"]})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(criteria, start=1):
        if not isinstance(item, dict):
            raise ValidationError({"criteria": [f"第{i}个评分项格式有误，应包含名称和权重"]})
        name = str(item.get("name") or "").strip()
        if not name:
            raise ValidationError({"criteria": [f"第{i}个评分项缺少名称"]})
        try:
            control_chars.check_line(name)
        except ValidationError as exc:
            raise ValidationError({"criteria": [f"第{i}个评分项名称{exc.messages[0]}"]}) from None
        if len(name) > 30:
            raise ValidationError({"criteria": [f"评分项“{name}”名称过长（最多30字）"]})
        if name in seen:
            raise ValidationError({"criteria": [f"评分项“{name}”重复"]})
        seen.add(name)
        weight: Any = item.get("weight")
        try:
            weight_int = int(weight)
        except (TypeError, ValueError):
            raise ValidationError({"criteria": [f"评分项“{name}”的权重必须是整数"]}) from None
        if weight_int < 1 or str(weight).strip() not in (str(weight_int), f"{weight_int}.0"):
            raise ValidationError({"criteria": [f"评分项“{name}”的权重必须是正整数"]})
        cleaned.append(
            {
                "name": name,
                "weight": weight_int,
                "description": str(item.get("description") or "").strip()[:200],
            }
        )
    total = sum(c["weight"] for c in cleaned)
    if total != 100:
        raise ValidationError({"criteria": [f"各评分项权重之和必须为100，当前为{total}"]})
    return cleaned


@transaction.atomic
def competition_create(*, actor: Actor, data: dict[str, Any]) -> Competition:
    """Create a competition over the organiser's subtree with its rubric and categories."""
    org: Any = data.get("organization")
    if not isinstance(org, Organization):
        try:
            org = Organization.objects.get(pk=org, is_active=True)
        except (Organization.DoesNotExist, ValueError, TypeError):
            raise ValidationError({"organization": ["主办组织不存在或不在您的管理范围内"]}) from None
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义举办评选")
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationError({"title": ["请填写评选名称"]})
    criteria = _clean_criteria(data.get("criteria"))
    year = data.get("year") or timezone.localdate().year
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": ["年度必须是整数"]}) from None
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError({"year": ["年度超出范围"]})
    categories = [str(c).strip() for c in data.get("categories") or [] if str(c).strip()]
    if len(set(categories)) != len(categories):
        raise ValidationError({"categories": ["组别名称重复"]})
    competition = Competition(
        organization=org,
        title=title[:200],
        year=year,
        description=str(data.get("description") or "").strip(),
        created_by=_user(actor),
    )
    competition.refuse_control_characters()
    for name in categories:
        Category(name=name).refuse_control_characters()
    competition.save()
    Criterion.objects.bulk_create(
        Criterion(competition=competition, sort_order=i, **c) for i, c in enumerate(criteria)
    )
    Category.objects.bulk_create(Category(competition=competition, name=name[:50]) for name in categories)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=competition, changes={"criteria": criteria})
    return competition


@transaction.atomic
def competition_criteria_set(*, actor: Actor, competition: Competition, criteria: Any) -> list[Criterion]:
    """Replace the rubric; refused once any review has been submitted."""
    require(actor, "change", competition.organization, app_label=APP)
    cleaned = _clean_criteria(criteria)
    if Review.objects.filter(
        round_entry__round__competition=competition, submitted_at__isnull=False
    ).exists():
        raise ValidationError({"criteria": ["已有评委提交评分，不能再修改评分细则"]})
    competition.criteria.all().delete()
    rows = Criterion.objects.bulk_create(
        Criterion(competition=competition, sort_order=i, **c) for i, c in enumerate(cleaned)
    )
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=competition, changes={"criteria": cleaned})
    return rows


# --- rounds --------------------------------------------------------------------------------------


def _round_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationError({"name": ["请填写轮次名称"]})
        values["name"] = name[:100]
    if "reviews_per_entry" in data:
        n = _positive_int(data.get("reviews_per_entry"), "reviews_per_entry", "每件作品评审人数")
        if n is not None and n > 50:
            raise ValidationError({"reviews_per_entry": ["每件作品评审人数最多50"]})
        values["reviews_per_entry"] = n
    if "aggregation" in data:
        aggregation = data.get("aggregation") or Aggregation.MEAN
        if aggregation not in Aggregation.values:
            raise ValidationError({"aggregation": ["计分方法应为 mean、trimmed_mean 或 zscore"]})
        values["aggregation"] = aggregation
    if "advance_count" in data:
        values["advance_count"] = _positive_int(
            data.get("advance_count"), "advance_count", "晋级名额", allow_none=True
        )
    if "advance_min_score" in data:
        raw = data.get("advance_min_score")
        values["advance_min_score"] = (
            None
            if raw in (None, "")
            else _decimal(raw, "advance_min_score", "晋级分数线").quantize(SCORE_PLACES)
        )
    if "spread_threshold" in data and data.get("spread_threshold") not in (None, ""):
        spread = _decimal(data["spread_threshold"], "spread_threshold", "分歧提示阈值")
        if not Decimal(0) < spread <= Decimal(100):
            raise ValidationError({"spread_threshold": ["分歧提示阈值应在0到100之间"]})
        values["spread_threshold"] = spread
    return values


@transaction.atomic
def round_create(*, actor: Actor, competition: Competition, data: dict[str, Any]) -> Round:
    """Add the next round. The first round opens at once; later rounds wait for the entries that
    advance into them."""
    require(actor, "change", competition.organization, app_label=APP)
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    if competition.status == CompetitionStatus.FINISHED:
        raise ValidationError({"competition": ["评选已结束，不能再增加轮次"]})
    values = _round_values({"reviews_per_entry": 3, "aggregation": Aggregation.MEAN, **data})
    if "name" not in values:
        raise ValidationError({"name": ["请填写轮次名称"]})
    previous = competition.rounds.aggregate(m=Max("sequence"))["m"] or 0
    status = RoundStatus.OPEN if previous == 0 else RoundStatus.PENDING
    round_ = Round(competition=competition, sequence=previous + 1, status=status, **values)
    round_.refuse_control_characters()
    round_.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=round_, changes={k: str(v) for k, v in values.items()}
    )
    return round_


@transaction.atomic
def round_update(*, actor: Actor, round_: Round, data: dict[str, Any]) -> Round:
    require(actor, "change", round_.competition.organization, app_label=APP)
    round_ = _lock_round(round_)
    if round_.status == RoundStatus.CLOSED:
        raise ValidationError({"round": ["该轮次已结束，不能修改"]})
    values = _round_values(data)
    if "reviews_per_entry" in values and Review.objects.filter(round_entry__round=round_).exists():
        raise ValidationError({"reviews_per_entry": ["已分配评审任务，不能修改每件作品评审人数"]})
    for key, value in values.items():
        setattr(round_, key, value)
    round_.refuse_control_characters()
    round_.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=round_, changes={k: str(v) for k, v in values.items()}
    )
    return round_


def first_open_round(competition: Competition) -> Round | None:
    return competition.rounds.filter(status=RoundStatus.OPEN).order_by("sequence").first()


# --- entries -------------------------------------------------------------------------------------


def _entry_org(actor: Actor, value: Any, competition: Competition) -> Organization:
    if isinstance(value, Organization):
        org = value
    else:
        try:
            org = Organization.objects.get(pk=value, is_active=True)
        except (Organization.DoesNotExist, ValueError, TypeError):
            raise ValidationError({"organization": ["报送组织不存在或不在您的管理范围内"]}) from None
    if not org.path.startswith(competition.organization.path):
        raise ValidationError({"organization": ["报送组织不在本次评选的范围内"]})
    return org


def _entry_lecturer(value: Any, competition: Competition) -> Member:
    if isinstance(value, Member):
        member = value
    else:
        try:
            member = Member.objects.get(pk=value)
        except (Member.DoesNotExist, ValueError, TypeError):
            raise ValidationError({"lecturer": ["主讲人不存在或不在您的管理范围内"]}) from None
    if not member.is_active:
        raise ValidationError({"lecturer": ["主讲人已离册"]})
    if not member.org_path.startswith(competition.organization.path):
        raise ValidationError({"lecturer": ["主讲人不在本次评选的范围内"]})
    return member


def _entry_common(competition: Competition, data: dict[str, Any], member: Member) -> dict[str, Any]:
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationError({"title": ["请填写党课题目"]})
    if competition.status == CompetitionStatus.FINISHED:
        raise ValidationError({"competition": ["评选已结束"]})
    if Entry.objects.filter(competition=competition, lecturer=member, title=title, withdrawn=False).exists():
        raise ValidationError({"title": [f"{member.name}的《{title}》已报名本次评选"]})
    category: Any = data.get("category")
    if category not in (None, ""):
        try:
            category = competition.categories.get(
                pk=category.pk if isinstance(category, Category) else category
            )
        except (Category.DoesNotExist, ValueError, TypeError):
            raise ValidationError({"category": ["组别不属于本次评选"]}) from None
    else:
        category = None
    values = {
        "title": title[:200],
        "category": category,
        "summary": str(data.get("summary") or "").strip(),
        "lecturer": member,
        "lecturer_path": member.org_path,
    }
    Entry(title=values["title"], summary=values["summary"]).refuse_control_characters()
    for name in ("video", "materials", "lecture"):
        if data.get(name):
            values[name] = data[name]
    return values


def _join_first_round(competition: Competition, entry: Entry) -> RoundEntry:
    round_ = first_open_round(competition)
    if round_ is None:
        raise ValidationError({"competition": ["本次评选没有正在报名的轮次"]})
    return RoundEntry.objects.create(round=round_, entry=entry)


@transaction.atomic
def entry_create(*, actor: Actor, competition: Competition, data: dict[str, Any]) -> Entry:
    """An organisation recommends a lecture (基层推荐); it joins the first open round."""
    org = _entry_org(actor, data.get("organization"), competition)
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义报送作品")
    member = _entry_lecturer(data.get("lecturer"), competition)
    if actor is not None and not Member.objects.restrict(actor, "view").filter(pk=member.pk).exists():
        raise ValidationError({"lecturer": ["主讲人不存在或不在您的管理范围内"]})
    values = _entry_common(competition, data, member)
    entry = Entry.objects.create(
        competition=competition,
        organization=org,
        source=EntrySource.RECOMMENDED,
        endorsed_at=timezone.now(),
        endorsed_by=_user(actor),
        **values,
    )
    _join_first_round(competition, entry)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=entry, changes={"source": "recommended"})
    return entry


@transaction.atomic
def entry_self_nominate(*, actor: Actor, competition: Competition, data: dict[str, Any]) -> Entry:
    """A member nominates their own lecture (个人自荐). It waits for their branch's endorsement
    before it joins a round."""
    member = Member.objects.filter(user=actor, is_active=True).first() if actor is not None else None
    if member is None:
        raise PermissionDenied("只有在册党员可以自荐参赛")
    member = _entry_lecturer(member, competition)
    values = _entry_common(competition, data, member)
    if first_open_round(competition) is None:
        raise ValidationError({"competition": ["本次评选没有正在报名的轮次"]})
    entry = Entry.objects.create(
        competition=competition, organization=member.organization, source=EntrySource.SELF, **values
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=entry, changes={"source": "self"})
    return entry


@transaction.atomic
def entry_endorse(*, actor: Actor, entry: Entry) -> Entry:
    """The branch endorses a self-nomination (基层推荐); the entry joins the first open round."""
    entry = (
        Entry.objects.select_for_update()
        .select_related("competition__organization", "organization")
        .get(pk=entry.pk)
    )
    require(actor, "change", entry.organization, app_label=APP, message="只有主讲人所在支部可以推荐该作品")
    if entry.withdrawn:
        raise ValidationError({"entry": ["作品已撤回"]})
    if entry.endorsed_at is not None:
        return entry
    entry.endorsed_at = timezone.now()
    entry.endorsed_by = _user(actor)
    entry.save(update_fields=["endorsed_at", "endorsed_by", "updated_at"])
    _join_first_round(entry.competition, entry)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=entry, changes={"endorsed": True})
    return entry


@transaction.atomic
def entry_withdraw(*, actor: Actor, entry: Entry, reason: str = "") -> Entry:
    """Withdraw an entry before any review of it is submitted."""
    entry = Entry.objects.select_for_update().select_related("organization").get(pk=entry.pk)
    own = actor is not None and entry.lecturer.user_id == getattr(actor, "pk", None)
    if not own:
        require(actor, "change", entry.organization, app_label=APP)
    if Review.objects.filter(round_entry__entry=entry, submitted_at__isnull=False).exists():
        raise ValidationError({"entry": ["已有评委评分，不能撤回"]})
    entry.withdrawn = True
    entry.save(update_fields=["withdrawn", "updated_at"])
    Review.objects.filter(round_entry__entry=entry).delete()
    RoundEntry.objects.filter(entry=entry).delete()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=entry, changes={"withdrawn": True}, message=reason
    )
    return entry


# --- reviewers and assignment --------------------------------------------------------------------


def reviewer_paths(user_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Each reviewer's own organisation subtrees: where they hold the reviewer role, and their own
    member record's organisation."""
    ids = list(user_ids)
    paths: dict[int, set[str]] = {pk: set() for pk in ids}
    for user_id, path in RoleAssignment.objects.filter(
        user_id__in=ids, role__code=RoleCode.REVIEWER
    ).values_list("user_id", "organization__path"):
        paths[user_id].add(path)
    for user_id, path in Member.objects.filter(user_id__in=ids).values_list("user_id", "org_path"):
        paths[user_id].add(path)
    return {pk: tuple(sorted(p)) for pk, p in paths.items()}


def conflicts(
    reviewer_id: int, own_paths: Sequence[str], entry_path: str, lecturer_path: str, lecturer_user: int | None
) -> bool:
    """Whether giving this entry to this reviewer is a conflict of interest."""
    if lecturer_user is not None and lecturer_user == reviewer_id:
        return True
    return any(entry_path.startswith(p) or lecturer_path.startswith(p) for p in own_paths)


@transaction.atomic
def round_reviewers_set(*, actor: Actor, round_: Round, users: Iterable[Any]) -> list[RoundReviewer]:
    """Set a round's panel to exactly these users, each holding the reviewer role within the
    organiser's scope. A reviewer who has already submitted a score stays on the panel."""
    require(actor, "change", round_.competition.organization, app_label=APP)
    round_ = _lock_round(round_)
    if round_.status == RoundStatus.CLOSED:
        raise ValidationError({"users": ["该轮次已结束，不能调整评委"]})
    ids: list[int] = []
    for value in users:
        try:
            ids.append(int(value.pk if isinstance(value, User) else value))
        except (TypeError, ValueError):
            raise ValidationError({"users": [f"无效的用户编号：{value}"]}) from None
    ids = list(dict.fromkeys(ids))
    from .selectors import reviewer_roles

    eligible = set(reviewer_roles(user=actor).filter(user_id__in=ids).values_list("user_id", flat=True))
    unknown = [str(pk) for pk in ids if pk not in eligible]
    if unknown:
        raise ValidationError({"users": [f"以下用户不是您管理范围内的评委：ID {'、'.join(unknown)}"]})
    current = set(round_.panel.values_list("user_id", flat=True))
    removed = current - set(ids)
    busy = set(
        Review.objects.filter(
            round_entry__round=round_, reviewer_id__in=removed, submitted_at__isnull=False
        ).values_list("reviewer_id", flat=True)
    )
    if busy:
        names = "、".join(User.objects.filter(pk__in=busy).order_by("pk").values_list("username", flat=True))
        raise ValidationError({"users": [f"以下评委已提交评分，不能移出：{names}"]})
    Review.objects.filter(round_entry__round=round_, reviewer_id__in=removed).delete()
    round_.panel.filter(user_id__in=removed).delete()
    RoundReviewer.objects.bulk_create(
        RoundReviewer(round=round_, user_id=pk) for pk in ids if pk not in current
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=round_,
        changes={"panel": sorted(ids), "removed": sorted(removed)},
        message="设置评委",
    )
    return list(round_.panel.select_related("user").order_by("user_id"))


@transaction.atomic
def round_assign(*, actor: Actor, round_: Round) -> int:
    """Give every entry of the round its missing reviews, balanced across the panel and free of
    conflicts of interest. Existing assignments are kept, so running it twice changes nothing.
    Returns the number of new assignments (``selectors.round_assignments`` lists them all)."""
    require(actor, "change", round_.competition.organization, app_label=APP)
    round_ = _lock_round(round_)
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["只有进行中的轮次可以分配评审"]})
    panel = list(round_.panel.order_by("user_id").values_list("user_id", flat=True))
    if not panel:
        raise ValidationError({"users": ["请先为本轮设置评委"]})
    own = reviewer_paths(panel)
    load: dict[int, int] = dict.fromkeys(panel, 0)
    have: dict[int, set[int]] = defaultdict(set)
    for re_id, reviewer_id in Review.objects.filter(round_entry__round=round_).values_list(
        "round_entry_id", "reviewer_id"
    ):
        have[re_id].add(reviewer_id)
        if reviewer_id in load:
            load[reviewer_id] += 1
    slots: list[tuple[int, int, list[int]]] = []  # (round entry, reviews needed, eligible reviewers)
    rows = RoundEntry.objects.filter(round=round_, entry__withdrawn=False).values_list(
        "pk", "entry__organization__path", "entry__lecturer_path", "entry__lecturer__user_id", "entry__title"
    )
    shortages: list[str] = []
    for re_id, entry_path, lecturer_path, lecturer_user, title in rows.order_by("pk"):
        need = round_.reviews_per_entry - len(have[re_id])
        if need <= 0:
            continue
        eligible = [
            r
            for r in panel
            if r not in have[re_id] and not conflicts(r, own[r], entry_path, lecturer_path, lecturer_user)
        ]
        if len(eligible) < need:
            shortages.append(f"《{title}》可回避后的评委只有{len(eligible) + len(have[re_id])}人")
            continue
        slots.append((re_id, need, eligible))
    if shortages:
        raise ValidationError(
            {
                "users": [
                    f"评委人数不足（每件作品需{round_.reviews_per_entry}人）：" + "；".join(shortages[:10])
                ]
            }
        )
    # Most constrained first, so that entries with few eligible reviewers are served before the
    # loads fill up; then least-loaded reviewers, ties by user id.
    slots.sort(key=lambda slot: (len(slot[2]) - slot[1], slot[0]))
    new: list[tuple[int, int]] = []
    for re_id, need, eligible in slots:
        chosen = sorted(eligible, key=lambda r: (load[r], r))[:need]
        for reviewer_id in chosen:
            load[reviewer_id] += 1
            new.append((re_id, reviewer_id))
    _insert_assignments(new)
    if new:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=round_,
            changes={"assigned": len(new)},
            message="自动分配评审任务",
        )
    return len(new)


def _insert_assignments(pairs: list[tuple[int, int]]) -> None:
    """Insert new, empty reviews. One prepared INSERT run for every row: a city round makes
    thousands, and building each as a model (with its JSON default) costs more than the
    assignment itself."""
    if not pairs:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Review._meta.db_table)
    sql = (
        f"INSERT INTO {table} (round_entry_id, reviewer_id, scores, comment, manual, created_at, updated_at) "
        "VALUES (%s, %s, '{}', '', %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(re_id, reviewer_id, False, now, now) for re_id, reviewer_id in pairs])


@transaction.atomic
def review_assign_manual(
    *,
    actor: Actor,
    round_entry: RoundEntry,
    reviewer: User | int | str,
    reason: str,
    replace: Review | None = None,
) -> Review:
    """Assign a reviewer to an entry by hand, optionally in place of an unsubmitted review. The
    reviewer must be on the panel and free of conflict; the reason is kept in the audit log."""
    round_ = _lock_round(round_entry.round)
    require(actor, "change", round_.competition.organization, app_label=APP)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请说明人工调整的原因"]})
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["只有进行中的轮次可以调整评审"]})
    reviewer_id = int(reviewer.pk if isinstance(reviewer, User) else reviewer)
    if not round_.panel.filter(user_id=reviewer_id).exists():
        raise ValidationError({"reviewer": ["该用户不是本轮评委"]})
    entry = Entry.objects.get(pk=round_entry.entry_id)
    lecturer_user = Member.objects.filter(pk=entry.lecturer_id).values_list("user_id", flat=True).first()
    entry_path = Organization.objects.get(pk=entry.organization_id).path
    if conflicts(
        reviewer_id,
        reviewer_paths([reviewer_id])[reviewer_id],
        entry_path,
        entry.lecturer_path,
        lecturer_user,
    ):
        raise ValidationError({"reviewer": ["该评委与作品来自同一组织，须回避"]})
    if Review.objects.filter(round_entry=round_entry, reviewer_id=reviewer_id).exists():
        raise ValidationError({"reviewer": ["该评委已在评审这件作品"]})
    replaced = None
    if replace is not None:
        if replace.round_entry_id != round_entry.pk:
            raise ValidationError({"replace": ["被替换的评审不属于这件作品"]})
        if replace.submitted_at is not None:
            raise ValidationError({"replace": ["该评委已提交评分，不能替换"]})
        replaced = replace.reviewer_id
        replace.delete()
    review = Review.objects.create(round_entry=round_entry, reviewer_id=reviewer_id, manual=True)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=review,
        changes={"reviewer": reviewer_id, "replaced": replaced, "entry": entry.pk},
        message=f"人工指派评审：{reason}",
    )
    return review


# --- scoring -------------------------------------------------------------------------------------


def weighted_total(scores: dict[str, Decimal], criteria: Sequence[Criterion]) -> Decimal:
    total = sum((scores[c.name] * c.weight for c in criteria), Decimal(0)) / Decimal(100)
    return total.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def _clean_scores(raw: Any, criteria: Sequence[Criterion]) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        raise ValidationError({"scores": ["评分格式有误，应为“评分项: 分数”"]})
    names = {c.name for c in criteria}
    unknown = [str(k) for k in raw if k not in names]
    if unknown:
        raise ValidationError({"scores": [f"不存在的评分项：{'、'.join(unknown)}"]})
    missing = [c.name for c in criteria if raw.get(c.name) in (None, "")]
    if missing:
        raise ValidationError({"scores": [f"请为以下评分项打分：{'、'.join(missing)}"]})
    cleaned: dict[str, Decimal] = {}
    for c in criteria:
        value = raw[c.name]
        if isinstance(value, bool):
            raise ValidationError({"scores": [f"“{c.name}”的分数必须是数字"]})
        number = _decimal(value, "scores", f"“{c.name}”的分数")
        if not Decimal(0) <= number <= Decimal(100):
            raise ValidationError({"scores": [f"“{c.name}”的分数应在0到100之间"]})
        if number != number.quantize(Decimal("0.1")):
            raise ValidationError({"scores": [f"“{c.name}”的分数最多保留一位小数"]})
        cleaned[c.name] = number
    return cleaned


@transaction.atomic
def review_submit(*, actor: Actor, review: Review, scores: Any, comment: str = "") -> Review:
    """A reviewer scores an entry assigned to them; they may revise it while the round is open.
    The review row is locked, so a double submit or two reviewers at once never lose a score."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if actor is not None and review.reviewer_id != getattr(actor, "pk", None):
        raise PermissionDenied("这不是分配给您的评审任务")
    round_ = Round.objects.select_related("competition").get(pk=review.round_entry.round_id)
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["本轮评审已结束，不能再提交评分"]})
    criteria = list(round_.competition.criteria.order_by("sort_order", "id"))
    cleaned = _clean_scores(scores, criteria)
    review.scores = {name: str(value) for name, value in cleaned.items()}
    review.total = weighted_total(cleaned, criteria)
    review.comment = str(comment or "").strip()[:2000]
    review.refuse_control_characters()
    first = review.submitted_at is None
    review.submitted_at = timezone.now()
    review.save(update_fields=["scores", "total", "comment", "submitted_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=review,
        changes={"total": str(review.total), "first": first},
        message="提交评分" if first else "修改评分",
    )
    return review


# --- results, advancement, awards ----------------------------------------------------------------


def _freeze(actor: Actor, round_: Round) -> list[Any]:
    """Write the round's results (as ``actor``, who holds ``change`` over it) onto its entries."""
    from .selectors import round_results

    results = round_results(user=actor, round_=round_, action="change")
    by_id = {row.round_entry_id: row for row in results}
    round_entries = list(RoundEntry.objects.filter(round=round_, pk__in=by_id))
    for re in round_entries:
        row = by_id[re.pk]
        re.score = row.score
        re.rank = row.rank
    RoundEntry.objects.bulk_update(round_entries, ["score", "rank"])
    return results


def _check_complete(actor: Actor, round_: Round, override: bool, reason: str) -> str:
    pending = Review.objects.filter(round_entry__round=round_, submitted_at__isnull=True).count()
    if not pending:
        return ""
    if not override:
        raise ValidationError(
            {"round": [f"还有{pending}份评审未提交；如确需提前结束，请选择强制执行并说明原因"]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["强制执行须说明原因"]})
    return f"强制执行（{pending}份评审未提交）：{reason}"


@transaction.atomic
def round_advance(
    *, actor: Actor, round_: Round, override: bool = False, reason: str = ""
) -> list[RoundEntry]:
    """Freeze the round's results and move the top ``advance_count`` entries (and/or those at or
    above ``advance_min_score``) to the next round, which opens. Entries tied at the cut-off all
    advance. Returns the new round entries of the next round."""
    require(actor, "change", round_.competition.organization, app_label=APP)
    round_ = _lock_round(round_)
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["该轮次不在进行中"]})
    following = round_.competition.rounds.filter(sequence__gt=round_.sequence).order_by("sequence").first()
    if following is None:
        raise ValidationError({"round": ["这是最后一轮，请结束本轮并评定奖项"]})
    if round_.advance_count is None and round_.advance_min_score is None:
        raise ValidationError({"advance_count": ["请先设置晋级名额或晋级分数线"]})
    note = _check_complete(actor, round_, override, reason)
    results = [row for row in _freeze(actor, round_) if row.score is not None]
    chosen = []
    for row in results:
        if round_.advance_count is not None and row.rank > round_.advance_count:
            continue
        if round_.advance_min_score is not None and row.score < round_.advance_min_score:
            continue
        chosen.append(row.round_entry_id)
    RoundEntry.objects.filter(pk__in=chosen).update(advanced=True)
    entry_ids = RoundEntry.objects.filter(pk__in=chosen).values_list("entry_id", flat=True)
    created = RoundEntry.objects.bulk_create(RoundEntry(round=following, entry_id=e) for e in entry_ids)
    round_.status = RoundStatus.CLOSED
    round_.closed_at = timezone.now()
    round_.save(update_fields=["status", "closed_at", "updated_at"])
    following.status = RoundStatus.OPEN
    following.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=round_,
        changes={"advanced": len(created), "override": bool(note)},
        message=note or "晋级",
    )
    return created


@transaction.atomic
def round_close(*, actor: Actor, round_: Round, override: bool = False, reason: str = "") -> list[Any]:
    """Freeze the results of the last round (no advancement)."""
    require(actor, "change", round_.competition.organization, app_label=APP)
    round_ = _lock_round(round_)
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["该轮次不在进行中"]})
    if round_.competition.rounds.filter(sequence__gt=round_.sequence).exists():
        raise ValidationError({"round": ["还有后续轮次，请用“晋级”结束本轮"]})
    note = _check_complete(actor, round_, override, reason)
    results = _freeze(actor, round_)
    round_.status = RoundStatus.CLOSED
    round_.closed_at = timezone.now()
    round_.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=round_,
        changes={"closed": True},
        message=note or "结束评审",
    )
    return results


def _new_code(year: int) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{year}{body}"


def _certify(award: Award) -> Certificate:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    award=award, code=_new_code(award.competition.year), issued_at=timezone.now()
                )
        except IntegrityError:  # a code collision: draw again
            continue
    raise RuntimeError("could not draw a unique certificate code")


def _count(data: dict[str, Any], name: str, label: str) -> int:
    value = data.get(name) or 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: [f"{label}必须是整数"]}) from None
    if number < 0:
        raise ValidationError({name: [f"{label}不能为负数"]})
    return number


def _unit_of(path: str, competition_path: str, depth: int) -> str:
    """The organisation ``depth`` levels below the organiser on the way to ``path`` (the path
    itself when it is shallower)."""
    return path[: len(competition_path) + depth * SEGMENT_WIDTH]


@transaction.atomic
def awards_grant(*, actor: Actor, competition: Competition, data: dict[str, Any]) -> list[Award]:
    """Name the awards from the closed final round and issue their certificates:
    - 优秀党课: entries ranked within the top ``lecture_count`` (ties included);
    - 优秀主讲人: the lecturers of entries ranked within the top ``lecturer_count``;
    - 优秀组织单位: the organisations one level below the organiser with the most 优秀党课, ties
      broken by their best rank, the top ``organization_count`` of them (rule stated on the award).
    """
    require(actor, "change", competition.organization, app_label=APP)
    competition = (
        Competition.objects.select_for_update().select_related("organization").get(pk=competition.pk)
    )
    if competition.awards.exists():
        raise ValidationError({"competition": ["本次评选已评定奖项"]})
    final = competition.rounds.order_by("-sequence").first()
    if final is None or final.status != RoundStatus.CLOSED:
        raise ValidationError({"competition": ["请先结束最后一轮评审"]})
    lectures = _count(data, "lecture_count", "优秀党课名额")
    lecturers = _count(data, "lecturer_count", "优秀主讲人名额")
    units = _count(data, "organization_count", "优秀组织单位名额")
    if not (lectures or lecturers or units):
        raise ValidationError({"lecture_count": ["请至少设置一类奖项的名额"]})
    awarded_on = data.get("awarded_on") or timezone.localdate()
    if not isinstance(awarded_on, date):
        try:
            awarded_on = date.fromisoformat(str(awarded_on))
        except ValueError:
            raise ValidationError({"awarded_on": ["日期格式应为 YYYY-MM-DD"]}) from None
    ranked = list(
        RoundEntry.objects.filter(round=final, rank__isnull=False, entry__withdrawn=False)
        .select_related("entry__lecturer", "entry__organization")
        .order_by("rank", "entry_id")
    )
    awards: list[Award] = []
    prefix = f"{competition.title}"
    for re in ranked:
        if re.rank is not None and re.rank <= lectures:
            awards.append(
                Award(
                    competition=competition,
                    kind=AwardKind.LECTURE,
                    entry=re.entry,
                    organization=re.entry.organization,
                    recipient=f"《{re.entry.title}》（主讲人：{re.entry.lecturer.name}）",
                    basis=f"{prefix}最终轮第{re.rank}名",
                    awarded_on=awarded_on,
                )
            )
    seen_lecturers: set[int] = set()
    for re in ranked:
        if re.rank is not None and re.rank <= lecturers and re.entry.lecturer_id not in seen_lecturers:
            seen_lecturers.add(re.entry.lecturer_id)
            awards.append(
                Award(
                    competition=competition,
                    kind=AwardKind.LECTURER,
                    entry=re.entry,
                    organization=re.entry.organization,
                    recipient=re.entry.lecturer.name,
                    basis=f"主讲《{re.entry.title}》，最终轮第{re.rank}名",
                    awarded_on=awarded_on,
                )
            )
    if units:
        tally: dict[str, list[int]] = defaultdict(list)
        for re in ranked:
            if re.rank is not None and re.rank <= max(lectures, 1):
                unit = _unit_of(re.entry.organization.path, competition.organization.path, 1)
                tally[unit].append(re.rank)
        order = sorted(tally.items(), key=lambda kv: (-len(kv[1]), min(kv[1]), kv[0]))
        orgs = {o.path: o for o in Organization.objects.filter(path__in=[p for p, _ in order[:units]])}
        for path, ranks in order[:units]:
            org = orgs.get(path)
            if org is None:
                continue
            awards.append(
                Award(
                    competition=competition,
                    kind=AwardKind.ORGANIZATION,
                    organization=org,
                    recipient=org.name,
                    basis=f"所属作品获优秀党课{len(ranks)}件，最好名次第{min(ranks)}名",
                    awarded_on=awarded_on,
                )
            )
    created = Award.objects.bulk_create(awards)
    for award in created:
        _certify(award)
    competition.status = CompetitionStatus.FINISHED
    competition.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=competition,
        changes={
            "awards": len(created),
            "lecture_count": lectures,
            "lecturer_count": lecturers,
            "organization_count": units,
        },
        message="评定奖项并颁发证书",
    )
    return created


@transaction.atomic
def certificate_revoke(*, actor: Actor, certificate: Certificate, reason: str) -> Certificate:
    certificate = (
        Certificate.objects.select_for_update()
        .select_related("award__competition__organization")
        .get(pk=certificate.pk)
    )
    require(actor, "change", certificate.award.competition.organization, app_label=APP)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请说明撤销原因"]})
    if certificate.revoked_at is not None:
        raise ValidationError({"certificate": ["该证书已撤销"]})
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason[:200]
    certificate.save(update_fields=["revoked_at", "revoked_reason", "updated_at"])
    audit_record(actor=actor, action=AuditAction.REVOKE, obj=certificate, message=reason)
    return certificate


# --- awarded lectures into the library (播党课) --------------------------------------------------

# Entry videos the lecture library takes (an entry may also be MOV, M4V or OGV).
LIBRARY_VIDEO_SUFFIXES = frozenset(ext for ext, kind in LIBRARY_KINDS.items() if kind == "video")
# Publishing an award's lecture to the organiser's library needs, over the organiser, the right to
# run the competition and the rights ``lectures.services.library_publish`` checks (a library item
# is a learning resource).
PUBLISH_RIGHTS = (("competitions", "change"), ("lectures", "add"), ("learning", "add"))
PUBLISH_REFUSED = "您无权向该组织的党课库发布党课"


def library_honour(competition: Competition, award: Award) -> str:
    """The honour a library item published from an award carries, e.g. “2026年全市优秀党课评选
    优秀党课”. With the resource's title (the entry's) and the organiser, it is how the library
    remembers which entries were published (``lectures.selectors.library_item_for_honour``):
    lectures stay independent of competitions, so a library item has no reference to an entry."""
    return f"{competition.title} {award.get_kind_display()}"[
        : LibraryItem._meta.get_field("honour").max_length
    ]


def award_publish_allowed(user: Viewer, competition: Competition) -> bool:
    """Whether ``user`` may publish the competition's awarded lectures to the organiser's library
    (``PUBLISH_RIGHTS`` over the organiser)."""
    org = competition.organization
    return all(can(user, action, org, app_label=app_label) for app_label, action in PUBLISH_RIGHTS)


def award_publish_refusal(award: Award) -> str:
    """Why this award's lecture cannot go to the library ("" when it can)."""
    if award.kind != AwardKind.LECTURE or award.entry is None:
        return "只有“优秀党课”奖项的作品可以发布到党课库"
    certificate = getattr(award, "certificate", None)
    if certificate is not None and certificate.revoked_at is not None:
        return "该奖项的证书已撤销，不能发布到党课库"
    if not award.entry.video:
        return "该作品没有上传授课视频，不能发布到党课库"
    suffix = PurePath(award.entry.video.name).suffix.lower()
    if suffix not in LIBRARY_VIDEO_SUFFIXES:
        return f"该作品的视频为{suffix.lstrip('.').upper() or '未知'}格式，党课库只支持 MP4、WebM 视频"
    return ""


def already_published_message(title: str) -> str:
    return f"“{title}”已发布到党课库，不能重复发布；如已下架，请在党课库中重新上架"


@transaction.atomic
def award_publish(
    *,
    actor: Actor,
    award: Award,
    series: Any = None,
    show_from: date | None = None,
    show_until: date | None = None,
    credit_hours: Any = Decimal("1"),
    duration_seconds: int | None = None,
) -> LibraryItem:
    """发布到党课库: the video of a 优秀党课 becomes an online study resource of the organiser's
    subtree (``lectures.services.library_publish``: studying it credits 网络学习 hours), titled as
    the entry, with the honour “<competition> 优秀党课”, the actor's pool lecturer of the entry's
    member when there is one, and the recorded lecture when the actor may see it. The award row
    is locked first, so two clicks at once publish it once; the library is then asked again
    whether the entry is already there. An entry is published once. The library gets a copy of the
    video: the entry keeps its own file."""
    award = (
        Award.objects.select_for_update(of=("self",))
        .select_related("competition__organization", "certificate", "entry")
        .get(pk=award.pk)
    )
    competition = award.competition
    org = competition.organization
    for app_label, action in PUBLISH_RIGHTS:
        require(actor, action, org, app_label=app_label, message=PUBLISH_REFUSED)
    refusal = award_publish_refusal(award)
    if refusal:
        raise ValidationError(refusal)
    entry = award.entry
    assert entry is not None
    honour = library_honour(competition, award)
    if library_item_for_honour(
        user=actor, organization=org, honour=honour, title=entry.title, member=entry.lecturer_id, action="add"
    ):
        raise ValidationError(already_published_message(entry.title))
    lecturer = lecturer_of_member(user=actor, member=entry.lecturer_id, organization=org)
    lecture = None
    lectures = Lecture.objects.all() if actor is None else lecture_list(user=actor)
    if entry.lecture_id and lectures.filter(pk=entry.lecture_id).exists():
        lecture = entry.lecture_id
    with entry.video.open("rb") as handle:
        video = File(handle, name=PurePath(entry.video.name).name)
        return library_publish(
            actor=actor,
            organization=org,
            title=entry.title,
            file=video,
            lecturer=lecturer.pk if lecturer is not None else None,
            lecture=lecture,
            honour=honour,
            series=series,
            show_from=show_from,
            show_until=show_until,
            credit_hours=credit_hours,
            duration_seconds=duration_seconds,
        )


# --- exports (added with the web UI) -------------------------------------------------------------


def round_results_export(*, actor: Actor, round_: Round) -> bytes:
    """The round's results as an xlsx workbook (rank, ties, score, each review's total, spread,
    flag, advancement); the export is written to the audit log."""
    from partyedu.core.exporting import ExportColumn, XlsxExport

    from .selectors import round_results

    require(actor, "export", round_.competition.organization, app_label=APP, message="您无权导出该评选的结果")
    rows = round_results(user=actor, round_=round_, action="export")
    book = XlsxExport()
    sheet = book.sheet(
        f"{round_.name}结果",
        [
            ExportColumn("名次", 8),
            ExportColumn("并列", 6),
            ExportColumn("党课题目", 36),
            ExportColumn("主讲人", 12),
            ExportColumn("报送组织", 24),
            ExportColumn("已评/应评", 10),
            ExportColumn("得分", 12),
            ExportColumn("各评委总分", 30),
            ExportColumn("分差", 10),
            ExportColumn("分歧较大", 10),
            ExportColumn("晋级", 8),
        ],
    )
    for row in rows:
        sheet.append(
            [
                row.rank,
                "并列" if row.tied else "",
                row.title,
                row.lecturer,
                row.organization,
                f"{row.submitted}/{row.assigned}",
                float(row.score) if row.score is not None else None,
                "、".join(str(t) for t in row.totals),
                float(row.spread) if row.spread is not None else None,
                "是" if row.flagged else "",
                "是" if row.advanced else "",
            ]
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=round_,
        changes={"rows": sheet.rows},
        message=f"导出评审结果{sheet.rows}条",
    )
    return book.to_bytes()

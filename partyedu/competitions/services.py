"""Writes to competitions: competitions and their rubric, rounds, entries (recommended, or
self-nominated and endorsed), reviewer panels, automatic and manual assignment, scoring,
advancement, awards and certificates, and the awarded lectures published to the lecture library.

Every service runs in one transaction, validates before it writes, checks the actor's scope on the
organisation it writes to (``PermissionDenied``), raises ``ValidationError({field: [中文]})`` and
writes its audit row in the same transaction. ``actor=None`` is the system (demo seed, commands).

Rules encoded here (docs/competitions.md):
- a rubric's weights sum to 100; every criterion is scored 0–100; the total is Σ score × weight / 100;
- no assignment (automatic or manual) and no score submission gives a reviewer an entry whose
  organisation, or whose lecturer's organisation, lies in a subtree they must avoid under the
  competition's 回避 rule (their own subtrees, or their whole unit one level below the organiser:
  ``conflicts.py``), nor their own entry;
- assignment keeps the reviewers' loads balanced (greedy least-loaded, most constrained entry
  first, ties broken by user id, so the same input gives the same assignment);
- a round advances only when every assigned review is submitted, unless the organiser overrides
  with a stated reason, which is audited; ties at the cut-off all advance;
- awards follow the award plan: grades per award category, each category ranking its own entries
  with cumulative cut-offs (ties included); 优秀组织单位 are units one level below the organiser,
  by the rule or chosen with a reason (required when the unit holds no award), audited.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.accounts.types import Actor, Viewer
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.notifications import notify
from partyedu.core.scope import can, require
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.lectures.choices import LectureType
from partyedu.lectures.models import Lecture, LibraryItem
from partyedu.lectures.selectors import lecture_list, lecturer_of_member, library_item_for_honour
from partyedu.lectures.services import LIBRARY_KINDS, library_publish
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from .choices import (
    GRADE_PRESETS,
    Aggregation,
    AwardKind,
    CompetitionStatus,
    ConflictRule,
    EntrySource,
    GradeSet,
    RoundStatus,
)
from .conflicts import (
    conflict_cause,
    conflict_message,
    conflicts,
    reviewer_avoided,
)
from .models import (
    Award,
    AwardCategory,
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
    conflict_rule = _clean_conflict_rule(data.get("conflict_rule"))
    grade_set, grades = _clean_grades(data.get("grade_set"), data.get("grades"))
    competition = Competition(
        organization=org,
        title=title[:200],
        year=year,
        description=str(data.get("description") or "").strip(),
        created_by=_user(actor),
        conflict_rule=conflict_rule,
        grade_set=grade_set,
        grades=grades,
    )
    competition.refuse_control_characters()
    for name in categories:
        Category(name=name).refuse_control_characters()
    competition.save()
    Criterion.objects.bulk_create(
        Criterion(competition=competition, sort_order=i, **c) for i, c in enumerate(criteria)
    )
    Category.objects.bulk_create(Category(competition=competition, name=name[:50]) for name in categories)
    plan = _write_award_categories(competition, data.get("award_categories") or [])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=competition,
        changes={
            "criteria": criteria,
            "conflict_rule": conflict_rule,
            "grades": grades,
            "award_categories": plan,
        },
    )
    return competition


# --- 回避 rule and award plan (评奖方案) -----------------------------------------------------------

MAX_GRADES = 5
MAX_AWARD_CATEGORIES = 10
MAX_GRADE_COUNT = 999


def _clean_conflict_rule(value: Any) -> str:
    value = value or ConflictRule.SUBTREE
    if value not in ConflictRule.values:
        raise ValidationError(
            {"conflict_rule": ["回避规则应为 subtree（本人所在组织及下级）或 unit（本人所在单位）"]}
        )
    return str(value)


def _clean_grades(grade_set: Any, grades: Any) -> tuple[str, list[str]]:
    """The grade set and its grades, best first: a preset's, or the organiser's own (custom)."""
    grade_set = grade_set or GradeSet.SINGLE
    if grade_set not in GradeSet.values:
        raise ValidationError({"grade_set": ["奖项等次应为 single、ranked、quality 或 custom"]})
    if grade_set != GradeSet.CUSTOM:
        return str(grade_set), list(GRADE_PRESETS[grade_set])
    if isinstance(grades, str):
        grades = grades.splitlines()
    if not isinstance(grades, list | tuple):
        raise ValidationError({"grades": ["请按从高到低填写等次名称"]})
    names = [str(g).strip() for g in grades if str(g).strip()]
    if not names:
        raise ValidationError({"grades": ["自定义等次时，请按从高到低填写等次名称，如：特等奖、一等奖"]})
    if len(names) > MAX_GRADES:
        raise ValidationError({"grades": [f"等次最多{MAX_GRADES}个"]})
    for name in names:
        if len(name) > 20:
            raise ValidationError({"grades": [f"等次“{name}”名称过长（最多20字）"]})
        try:
            control_chars.check_line(name)
        except ValidationError as exc:
            raise ValidationError({"grades": [f"等次名称{exc.messages[0]}"]}) from None
    if len(set(names)) != len(names):
        raise ValidationError({"grades": ["等次名称重复"]})
    return str(grade_set), names


def award_title(grade: str, category: str) -> str:
    """The name an award is printed under: a grade that is a prize (一等奖, 金奖) follows the
    category (微党课一等奖); a grade that qualifies (精品, 优秀) precedes it (精品微党课, 优秀党课)."""
    return f"{category}{grade}" if grade.endswith("奖") else f"{grade}{category}"


def _clean_award_categories(
    competition: Competition, rows: Any, grades: Sequence[str]
) -> list[dict[str, Any]]:
    if not isinstance(rows, list | tuple):
        raise ValidationError({"award_categories": ["评奖类别格式有误"]})
    if len(rows) > MAX_AWARD_CATEGORIES:
        raise ValidationError({"award_categories": [f"评奖类别最多{MAX_AWARD_CATEGORIES}个"]})
    own_categories = {c.pk: c for c in competition.categories.all()}
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ValidationError({"award_categories": [f"第{i}个评奖类别格式有误"]})
        name = str(row.get("name") or "").strip()
        if not name:
            raise ValidationError({"award_categories": [f"第{i}个评奖类别缺少名称"]})
        if len(name) > 50:
            raise ValidationError({"award_categories": [f"评奖类别“{name}”名称过长（最多50字）"]})
        try:
            control_chars.check_line(name)
        except ValidationError as exc:
            raise ValidationError({"award_categories": [f"评奖类别名称{exc.messages[0]}"]}) from None
        if name in seen:
            raise ValidationError({"award_categories": [f"评奖类别“{name}”重复"]})
        seen.add(name)
        entry_category = _own_category(own_categories, row.get("entry_category"), name)
        lecture_type = str(row.get("lecture_type") or "")
        if lecture_type and lecture_type not in LectureType.values:
            raise ValidationError({"award_categories": [f"评奖类别“{name}”所限的党课类型不存在"]})
        raw_counts = row.get("counts") or {}
        if not isinstance(raw_counts, dict):
            raise ValidationError({"award_categories": [f"评奖类别“{name}”的名额应为“等次: 人数”"]})
        unknown = [str(g) for g in raw_counts if g not in grades]
        if unknown:
            raise ValidationError(
                {"award_categories": [f"“{'、'.join(unknown)}”不是本次评选的等次（{'、'.join(grades)}）"]}
            )
        counts: dict[str, int] = {}
        for grade in grades:
            value = raw_counts.get(grade)
            if value in (None, ""):
                continue
            try:
                number = int(str(value).strip().removesuffix(".0"))
            except (TypeError, ValueError):
                raise ValidationError({"award_categories": [f"“{name}”的{grade}名额必须是整数"]}) from None
            if isinstance(value, bool) or str(value).strip() not in (str(number), f"{number}.0"):
                raise ValidationError({"award_categories": [f"“{name}”的{grade}名额必须是整数"]})
            if not 0 <= number <= MAX_GRADE_COUNT:
                raise ValidationError(
                    {"award_categories": [f"“{name}”的{grade}名额应在0到{MAX_GRADE_COUNT}之间"]}
                )
            if number:
                counts[grade] = number
        if not counts:
            raise ValidationError({"award_categories": [f"请为评奖类别“{name}”至少设置一个等次的名额"]})
        cleaned.append(
            {"name": name, "entry_category": entry_category, "lecture_type": lecture_type, "counts": counts}
        )
    return cleaned


def _own_category(own: dict[int, Category], value: Any, award_category: str) -> Category | None:
    """The competition's entry category given as itself, its id or its name (None for none)."""
    if value in (None, ""):
        return None
    if isinstance(value, Category):
        value = value.pk
    by_name = {c.name: c for c in own.values()}
    if isinstance(value, str) and value.strip() in by_name:
        return by_name[value.strip()]
    try:
        return own[int(value)]
    except (KeyError, TypeError, ValueError):
        raise ValidationError(
            {"award_categories": [f"评奖类别“{award_category}”所限的参赛组别不属于本次评选"]}
        ) from None


def _write_award_categories(competition: Competition, rows: Any) -> list[dict[str, Any]]:
    """Replace the competition's award categories with ``rows`` (validated); returns what the
    audit row keeps of them."""
    cleaned = _clean_award_categories(competition, rows, competition.grades)
    competition.award_categories.all().delete()
    AwardCategory.objects.bulk_create(
        AwardCategory(competition=competition, sort_order=i, **row) for i, row in enumerate(cleaned)
    )
    return [
        {
            "name": row["name"],
            "entry_category": row["entry_category"].name if row["entry_category"] else "",
            "lecture_type": row["lecture_type"],
            "counts": row["counts"],
        }
        for row in cleaned
    ]


@transaction.atomic
def award_plan_set(
    *, actor: Actor, competition: Competition, grade_set: Any, grades: Any = None, categories: Any
) -> list[AwardCategory]:
    """Set the award plan (评奖方案): the grades (a preset, or the organiser's own, best first) and
    the award categories with their number of awards per grade. Until the awards are granted."""
    require(actor, "change", competition.organization, app_label=APP)
    competition = (
        Competition.objects.select_for_update().select_related("organization").get(pk=competition.pk)
    )
    if competition.awards.exists() or competition.status == CompetitionStatus.FINISHED:
        raise ValidationError({"award_categories": ["本次评选已评定奖项，不能再修改评奖方案"]})
    competition.grade_set, competition.grades = _clean_grades(grade_set, grades)
    competition.save(update_fields=["grade_set", "grades", "updated_at"])
    plan = _write_award_categories(competition, categories)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=competition,
        changes={"grades": competition.grades, "award_categories": plan},
        message="设置评奖方案",
    )
    return list(competition.award_categories.select_related("entry_category"))


@transaction.atomic
def competition_conflict_rule_set(*, actor: Actor, competition: Competition, rule: Any) -> int:
    """Change the competition's 回避 rule, until its first score is submitted. Unsubmitted
    assignments that the new rule forbids are removed (run 自动分配 again to replace them);
    returns how many."""
    require(actor, "change", competition.organization, app_label=APP)
    competition = (
        Competition.objects.select_for_update().select_related("organization").get(pk=competition.pk)
    )
    rule = _clean_conflict_rule(rule)
    if Review.objects.filter(
        round_entry__round__competition=competition, submitted_at__isnull=False
    ).exists():
        raise ValidationError({"conflict_rule": ["已有评委提交评分，不能再修改回避规则"]})
    previous = competition.conflict_rule
    competition.conflict_rule = rule
    competition.save(update_fields=["conflict_rule", "updated_at"])
    pending = list(
        Review.objects.filter(
            round_entry__round__competition=competition, round_entry__round__status=RoundStatus.OPEN
        ).values_list(
            "pk",
            "reviewer_id",
            "round_entry__entry__organization__path",
            "round_entry__entry__lecturer_path",
            "round_entry__entry__lecturer__user_id",
        )
    )
    avoided = reviewer_avoided({row[1] for row in pending}, competition)
    removed = [
        pk
        for pk, reviewer_id, entry_path, lecturer_path, lecturer_user in pending
        if conflicts(reviewer_id, avoided[reviewer_id], entry_path, lecturer_path, lecturer_user)
    ]
    Review.objects.filter(pk__in=removed).delete()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=competition,
        changes={"conflict_rule": [previous, rule], "removed_assignments": len(removed)},
        message=f"回避规则改为：{ConflictRule(rule).label}",
    )
    return len(removed)


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


def _entry_conflict(reviewer_id: int, entry: Entry, competition: Competition) -> tuple[str, str]:
    lecturer_user = Member.objects.filter(pk=entry.lecturer_id).values_list("user_id", flat=True).first()
    entry_path = Organization.objects.get(pk=entry.organization_id).path
    avoided = reviewer_avoided([reviewer_id], competition)[reviewer_id]
    return conflict_cause(reviewer_id, avoided, entry_path, entry.lecturer_path, lecturer_user)


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
    own = reviewer_avoided(panel, round_.competition)
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
        _notify_reviewers(round_, Counter(reviewer_id for _re, reviewer_id in new))
    return len(new)


def _notify_reviewers(round_: Round, counts: Counter[int]) -> None:
    """Tell each reviewer given new reviews (once per round and number assigned: a retry adds
    nothing)."""
    users = {u.pk: u for u in User.objects.filter(pk__in=list(counts))}
    for reviewer_id, n in sorted(counts.items()):
        notify(
            users=[users[reviewer_id]],
            kind="competitions.review_assigned",
            title=f"评审任务已分配：{round_.name} {n} 件作品",
            url=reverse("competitions:my_reviews"),
            key=f"competitions.review_assigned:{round_.pk}:{reviewer_id}:{n}",
        )


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
    cause = _entry_conflict(reviewer_id, entry, round_.competition)
    if cause[0]:
        raise ValidationError({"reviewer": [f"该评委须回避：{conflict_message(cause)}"]})
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
    round_ = Round.objects.select_related("competition__organization").get(pk=review.round_entry.round_id)
    if round_.status != RoundStatus.OPEN:
        raise ValidationError({"round": ["本轮评审已结束，不能再提交评分"]})
    # 回避 is checked again here: the rule, a role or a member record may have changed since the
    # review was assigned.
    cause = _entry_conflict(review.reviewer_id, review.round_entry.entry, round_.competition)
    if cause[0]:
        raise ValidationError(
            {"review": [f"您须回避这件作品（{conflict_message(cause)}），不能评分；请联系主办单位改派"]}
        )
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


def certificate_issue(award: Award) -> Certificate:
    """The award's certificate, under a fresh unguessable code (year + 10 characters of an
    alphabet without look-alikes); also used by knowledge contests (exams) for their awards."""
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


def _chosen_units(value: Any) -> list[tuple[int, str]]:
    """The units the organiser chose as 优秀组织单位: (organisation id, reason) pairs."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError({"units": ["选定的优秀组织单位格式有误"]})
    out: list[tuple[int, str]] = []
    raw: Any
    for i, item in enumerate(value, start=1):
        if isinstance(item, dict):
            raw, reason = item.get("organization"), item.get("reason")
        else:
            raw, reason = item, ""
        try:
            pk = int(raw.pk if isinstance(raw, Organization) else raw)
        except (TypeError, ValueError):
            raise ValidationError({"units": [f"第{i}个选定单位无效"]}) from None
        reason = str(reason or "").strip()
        if len(reason) > 200:
            raise ValidationError({"units": ["评定理由最多200字"]})
        try:
            control_chars.check_text(reason)
        except ValidationError as exc:
            raise ValidationError({"units": [f"评定理由{exc.messages[0]}"]}) from None
        if pk in {o for o, _ in out}:
            raise ValidationError({"units": ["同一单位选了两次"]})
        out.append((pk, reason))
    return out


def _awarded_on(value: Any) -> date:
    value = value or timezone.localdate()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"awarded_on": ["日期格式应为 YYYY-MM-DD"]}) from None


def _unit_basis(unit: Any, lecture_label: str) -> str:
    parts = [f"报送作品{unit.entries}件"]
    if unit.lectures is not None:
        parts.append(f"开展党课{unit.lectures}场")
    if unit.awards:
        parts.append(f"所属作品获{lecture_label}{unit.awards}件，最好名次第{unit.best_rank}名")
    return "，".join(parts)


@transaction.atomic
def awards_grant(*, actor: Actor, competition: Competition, data: dict[str, Any]) -> list[Award]:
    """Name the awards from the closed final round and issue their certificates (once):
    - lecture awards by the award plan (``selectors._rank_categories``): per award category its
      entries ranked within it, the grades filling cumulative cut-offs, ties included; without a
      plan, ``lecture_count`` entries of the best grade among all (优秀党课 by default);
    - 优秀主讲人: the lecturers of entries ranked within the top ``lecturer_count``;
    - 优秀组织单位: the first ``organization_count`` units one level below the organiser holding
      lecture awards (most, then best rank), and the ``units`` the organiser chose from the
      suggestion, each with a reason — required when the unit holds no lecture award. Each chosen
      unit is audited with its reason.
    """
    from .selectors import DEFAULT_AWARD_CATEGORY, award_suggestion

    require(actor, "change", competition.organization, app_label=APP)
    competition = (
        Competition.objects.select_for_update().select_related("organization").get(pk=competition.pk)
    )
    if competition.awards.exists():
        raise ValidationError({"competition": ["本次评选已评定奖项"]})
    final = competition.rounds.order_by("-sequence").first()
    if final is None or final.status != RoundStatus.CLOSED:
        raise ValidationError({"competition": ["请先结束最后一轮评审"]})
    has_plan = competition.award_categories.exists()
    lectures = _count(data, "lecture_count", "优秀党课名额")
    if has_plan and lectures:
        raise ValidationError({"lecture_count": ["本次评选已设置评奖方案，请在评奖方案中调整各等次名额"]})
    lecturers = _count(data, "lecturer_count", "优秀主讲人名额")
    units = _count(data, "organization_count", "优秀组织单位名额")
    chosen = _chosen_units(data.get("units"))
    if not (has_plan or lectures or lecturers or units or chosen):
        raise ValidationError({"lecture_count": ["请至少设置一类奖项的名额"]})
    awarded_on = _awarded_on(data.get("awarded_on"))
    if not has_plan and lectures:
        # The plan a competition without one is granted by, kept with its awards.
        AwardCategory.objects.create(
            competition=competition, name=DEFAULT_AWARD_CATEGORY, counts={competition.grades[0]: lectures}
        )
    suggestion = award_suggestion(
        user=actor,
        competition=competition,
        action="change",
        lecturer_count=lecturers,
        organization_count=units,
    )
    awards: list[Award] = []
    prefix = f"{competition.title}"
    for category_suggestion, row in suggestion.lecture_awards:
        c, category = row.candidate, category_suggestion.category
        basis = f"{prefix}最终轮第{c.rank}名"
        if row.category_rank != c.rank:
            basis += f"，{category.name}类第{row.category_rank}名"
        awards.append(
            Award(
                competition=competition,
                kind=AwardKind.LECTURE,
                entry_id=c.entry_id,
                organization_id=c.organization_id,
                recipient=f"《{c.title}》（主讲人：{c.lecturer}）",
                basis=basis[:200],
                awarded_on=awarded_on,
                title=award_title(row.grade, category.name)[:100],
                grade=row.grade,
                award_category=category,
                rank=row.category_rank,
            )
        )
    for c in suggestion.lecturers:
        awards.append(
            Award(
                competition=competition,
                kind=AwardKind.LECTURER,
                entry_id=c.entry_id,
                organization_id=c.organization_id,
                recipient=c.lecturer,
                basis=f"主讲《{c.title}》，最终轮第{c.rank}名"[:200],
                awarded_on=awarded_on,
                title=str(AwardKind.LECTURER.label),
                rank=c.rank,
            )
        )
    by_id = {u.organization_id: u for u in suggestion.units}
    reasons: dict[int, str] = {}
    for pk, reason in chosen:
        unit = by_id.get(pk)
        if unit is None:
            raise ValidationError({"units": ["优秀组织单位只能从主办组织的下一级单位中选定"]})
        if not unit.awards and not reason:
            raise ValidationError({"units": [f"“{unit.name}”没有获奖作品，选定为优秀组织单位须填写评定理由"]})
        reasons[pk] = reason
    single = len(competition.grades) == 1
    lecture_label = f"{competition.grades[0]}党课" if single else "党课奖项"
    unit_awards: dict[int, Award] = {}
    for unit in suggestion.units:
        if unit.automatic or unit.organization_id in reasons:
            basis = (
                f"所属作品获{lecture_label}{unit.credited}件，最好名次第{unit.credited_rank}名"
                if unit.automatic and unit.awards
                else f"所属作品获第{unit.credited_rank}名"
                if unit.automatic
                else _unit_basis(unit, lecture_label)
            )
            unit_awards[unit.organization_id] = Award(
                competition=competition,
                kind=AwardKind.ORGANIZATION,
                organization_id=unit.organization_id,
                recipient=unit.name,
                basis=basis[:200],
                awarded_on=awarded_on,
                title=str(AwardKind.ORGANIZATION.label),
                reason=reasons.get(unit.organization_id, "")[:200],
            )
    # Units named by the rule first (most awards), then those the organiser chose, in the
    # suggestion's order.
    automatic = sorted(
        (u for u in suggestion.units if u.automatic),
        key=lambda u: (-u.credited, u.credited_rank or 0, u.path),
    )
    order = [u.organization_id for u in automatic] + [
        u.organization_id for u in suggestion.units if not u.automatic and u.organization_id in reasons
    ]
    awards.extend(unit_awards[pk] for pk in order)
    if not awards:
        raise ValidationError({"competition": ["按所设名额没有可评定的奖项，请检查评奖方案和名额"]})
    for award in awards:
        award.refuse_control_characters()
    created = Award.objects.bulk_create(awards)
    for award in created:
        certificate_issue(award)
    for award in created:
        if award.kind == AwardKind.ORGANIZATION and award.organization_id in reasons:
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=award,
                changes={"organization": award.organization_id, "reason": award.reason},
                message=f"选定优秀组织单位：{award.recipient}；理由：{award.reason or '（有获奖作品）'}",
            )
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
            "grades": competition.grades,
            "award_categories": [
                {"name": c.category.name, "counts": dict(c.counts), "awarded": len(c.awarded)}
                for c in suggestion.categories
            ],
            "units_chosen": [{"organization": pk, "reason": reason} for pk, reason in chosen],
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

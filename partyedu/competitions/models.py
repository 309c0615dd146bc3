"""Tiered lecture competitions (优秀党课评选): rounds by level, entries, reviewer panels with
conflict-of-interest exclusion, weighted rubrics, aggregated results, awards and verifiable
certificates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.lectures.choices import LectureType

from .choices import (
    GRADE_PRESETS,
    Aggregation,
    AwardKind,
    CompetitionKind,
    CompetitionStatus,
    ConflictRule,
    EntrySource,
    GradeSet,
    RoundStatus,
)


def default_grades() -> list[str]:
    """The grades of a competition that has not chosen any: one grade, 优秀 (优秀党课)."""
    return list(GRADE_PRESETS[GradeSet.SINGLE])


class Competition(TimeStampedModel, ScopedModel):
    """A competition held by an organisation over its subtree, e.g. 2026年全市优秀党课评选."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="competitions",
    )
    title = models.CharField(_("评选名称"), max_length=200)
    kind = models.CharField(
        _("类别"),
        max_length=16,
        choices=CompetitionKind.choices,
        default=CompetitionKind.LECTURE,
        help_text=_("知识竞赛的记录只保存其奖项和证书，不出现在党课评选中"),
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=CompetitionStatus.choices, default=CompetitionStatus.RUNNING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    conflict_rule = models.CharField(
        _("回避规则"),
        max_length=16,
        choices=ConflictRule.choices,
        default=ConflictRule.SUBTREE,
        help_text=_("评委不评哪些作品：本人所在组织及下级的，或本人所在单位（主办组织的下一级）的全部作品"),
    )
    grade_set = models.CharField(
        _("奖项等次"), max_length=16, choices=GradeSet.choices, default=GradeSet.SINGLE
    )
    grades = models.JSONField(
        _("等次（从高到低）"),
        default=default_grades,
        blank=True,
        help_text=_("如 一等奖、二等奖、三等奖，或 精品、优秀"),
    )

    class Meta:
        verbose_name = _("党课评选")
        verbose_name_plural = _("党课评选")
        ordering = ["-year", "-id"]

    def __str__(self) -> str:
        return self.title


class Criterion(TimeStampedModel):
    """One criterion of a competition's rubric; the weights of a competition sum to 100."""

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="criteria"
    )
    name = models.CharField(_("评分项"), max_length=30)
    weight = models.PositiveSmallIntegerField(_("权重"))
    description = models.CharField(_("评分要点"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("评分项")
        verbose_name_plural = _("评分项")
        ordering = ["competition_id", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="criterion_name_unique")]

    def __str__(self) -> str:
        return f"{self.name}（{self.weight}）"


class Category(TimeStampedModel):
    """A category entries compete in (e.g. 微党课, 情景党课)."""

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(_("组别"), max_length=50)

    class Meta:
        verbose_name = _("参赛组别")
        verbose_name_plural = _("参赛组别")
        ordering = ["competition_id", "id"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="category_name_unique")]

    def __str__(self) -> str:
        return self.name


class Round(TimeStampedModel, ScopedModel):
    """A round (轮次) of a competition, e.g. 区县初评 then 市级评审. Entries join the first open
    round; later rounds receive the entries that advance."""

    scope_path = "competition__organization__path"

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="rounds"
    )
    sequence = models.PositiveSmallIntegerField(_("轮次序号"))
    name = models.CharField(_("轮次名称"), max_length=100)
    reviews_per_entry = models.PositiveSmallIntegerField(_("每件作品评审人数"), default=3)
    aggregation = models.CharField(
        _("计分方法"), max_length=16, choices=Aggregation.choices, default=Aggregation.MEAN
    )
    advance_count = models.PositiveIntegerField(_("晋级名额"), null=True, blank=True)
    advance_min_score = models.DecimalField(
        _("晋级分数线"), max_digits=7, decimal_places=3, null=True, blank=True
    )
    spread_threshold = models.DecimalField(
        _("分歧提示阈值"),
        max_digits=5,
        decimal_places=2,
        default=20,
        help_text=_("同一作品最高分与最低分之差达到此值时提示"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评选轮次")
        verbose_name_plural = _("评选轮次")
        ordering = ["competition_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "sequence"], name="round_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.competition} · {self.name}"


class Entry(TimeStampedModel, ScopedModel):
    """A lecture entered into a competition, by self-nomination (endorsed by the lecturer's
    branch) or by an organisation's recommendation."""

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="entries"
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("报送组织"), on_delete=models.PROTECT, related_name="+"
    )
    lecturer = models.ForeignKey(
        "members.Member",
        verbose_name=_("主讲人"),
        on_delete=models.PROTECT,
        related_name="competition_entries",
    )
    lecturer_path = models.CharField(_("主讲人组织路径"), max_length=255, editable=False, default="")
    title = models.CharField(_("党课题目"), max_length=200)
    category = models.ForeignKey(
        Category,
        verbose_name=_("组别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    lecture = models.ForeignKey(
        "lectures.Lecture",
        verbose_name=_("对应党课"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        _("参赛方式"), max_length=16, choices=EntrySource.choices, default=EntrySource.RECOMMENDED
    )
    endorsed_at = models.DateTimeField(_("支部推荐时间"), null=True, blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("推荐人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    video = models.FileField(_("授课视频"), upload_to="competitions/%Y/%m/", blank=True)
    materials = models.FileField(_("讲稿/课件"), upload_to="competitions/%Y/%m/", blank=True)
    summary = models.TextField(_("内容简介"), blank=True)
    withdrawn = models.BooleanField(_("已撤回"), default=False)

    class Meta:
        verbose_name = _("参赛作品")
        verbose_name_plural = _("参赛作品")
        ordering = ["competition_id", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def endorsed(self) -> bool:
        return self.source == EntrySource.RECOMMENDED or self.endorsed_at is not None


class RoundEntry(TimeStampedModel, ScopedModel):
    """An entry's place in one round. The score and rank are written when the round's results are
    frozen (on advancing or closing); until then they are computed from the reviews."""

    scope_path = "entry__organization__path"

    round = models.ForeignKey(
        Round, verbose_name=_("轮次"), on_delete=models.CASCADE, related_name="round_entries"
    )
    entry = models.ForeignKey(
        Entry, verbose_name=_("作品"), on_delete=models.CASCADE, related_name="round_entries"
    )
    score = models.DecimalField(_("得分"), max_digits=9, decimal_places=4, null=True, blank=True)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    advanced = models.BooleanField(_("晋级"), default=False)

    class Meta:
        verbose_name = _("轮次作品")
        verbose_name_plural = _("轮次作品")
        ordering = ["round_id", "entry_id"]
        constraints = [models.UniqueConstraint(fields=["round", "entry"], name="round_entry_unique")]

    def __str__(self) -> str:
        return f"{self.round} · {self.entry}"


class RoundReviewer(TimeStampedModel):
    """A reviewer (评委) on a round's panel."""

    round = models.ForeignKey(Round, verbose_name=_("轮次"), on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评委"),
        on_delete=models.PROTECT,
        related_name="review_panels",
    )

    class Meta:
        verbose_name = _("轮次评委")
        verbose_name_plural = _("轮次评委")
        ordering = ["round_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="round_reviewer_unique")]

    def __str__(self) -> str:
        return f"{self.round} · {self.user}"


class Review(TimeStampedModel, ScopedModel):
    """One reviewer's assignment to one entry in a round and, once submitted, their scores per
    criterion (0–100) and the weighted total. A reviewer reaches only their own reviews."""

    scope_path = "round_entry__round__competition__organization__path"
    scope_assigned = "reviewer"

    round_entry = models.ForeignKey(
        RoundEntry, verbose_name=_("轮次作品"), on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评委"), on_delete=models.PROTECT, related_name="reviews"
    )
    scores = models.JSONField(_("各项得分"), default=dict, blank=True)
    total = models.DecimalField(_("加权总分"), max_digits=7, decimal_places=3, null=True, blank=True)
    comment = models.TextField(_("评语"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    manual = models.BooleanField(_("人工指派"), default=False)

    class Meta:
        verbose_name = _("评审")
        verbose_name_plural = _("评审")
        ordering = ["round_entry_id", "id"]
        constraints = [models.UniqueConstraint(fields=["round_entry", "reviewer"], name="review_unique")]
        indexes = [models.Index(fields=["reviewer", "submitted_at"], name="review_reviewer_idx")]

    def __str__(self) -> str:
        return f"{self.round_entry} · {self.reviewer}"


class AwardCategory(TimeStampedModel):
    """An award category (评奖类别) of a competition's award plan, e.g. 微党课 or 辅导性质专题党课:
    the entries it ranks (every entry, or only those of one entry category and/or lecture type)
    and how many awards of each of the competition's grades it names (``counts``: grade → number).
    With the grade 精品 it names 精品微党课; with 一等奖, 微党课一等奖."""

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="award_categories"
    )
    name = models.CharField(_("评奖类别"), max_length=50, help_text=_("如：微党课、辅导性质专题党课"))
    entry_category = models.ForeignKey(
        Category,
        verbose_name=_("限参赛组别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="award_categories",
    )
    # A ``lectures.choices.LectureType`` value (checked by the services; no ``choices`` here, so
    # that a new lecture type needs no migration of this app).
    lecture_type = models.CharField(
        _("限党课类型"),
        max_length=16,
        blank=True,
        help_text=_("只评这一党课类型的作品（按所对应的党课记录）"),
    )
    counts = models.JSONField(_("各等次名额"), default=dict, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("评奖类别")
        verbose_name_plural = _("评奖类别")
        ordering = ["competition_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "name"], name="award_category_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def grade_counts(self) -> list[tuple[str, int]]:
        """(grade, number) in the competition's grade order (a JSON object's keys have no order in
        PostgreSQL's jsonb)."""
        counts = self.counts or {}
        return [(grade, int(counts[grade])) for grade in self.competition.grades if counts.get(grade)]

    @property
    def lecture_type_label(self) -> str:
        return str(LectureType(self.lecture_type).label) if self.lecture_type in LectureType.values else ""


class Award(TimeStampedModel, ScopedModel):
    """An award named by a competition's final round: a lecture award of a grade in an award
    category (e.g. 精品微党课, 微党课一等奖, 优秀党课: an entry), 优秀主讲人 (its lecturer) or
    优秀组织单位 (an organisation, by the rule stated in ``basis``, or chosen by the organiser
    with a ``reason``). ``title`` is the award's name as printed, fixed when it is granted."""

    scope_path = "competition__organization__path"

    competition = models.ForeignKey(
        Competition, verbose_name=_("评选"), on_delete=models.CASCADE, related_name="awards"
    )
    kind = models.CharField(_("奖项"), max_length=16, choices=AwardKind.choices)
    entry = models.ForeignKey(
        Entry, verbose_name=_("作品"), null=True, blank=True, on_delete=models.PROTECT, related_name="awards"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("获奖组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipient = models.CharField(_("获奖者"), max_length=200)
    basis = models.CharField(_("评定依据"), max_length=200, blank=True)
    awarded_on = models.DateField(_("授予日期"))
    title = models.CharField(_("奖项名称"), max_length=100, blank=True, help_text=_("如：精品微党课"))
    grade = models.CharField(_("等次"), max_length=20, blank=True)
    award_category = models.ForeignKey(
        AwardCategory,
        verbose_name=_("评奖类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="awards",
    )
    rank = models.PositiveIntegerField(_("类别内名次"), null=True, blank=True)
    reason = models.CharField(
        _("评定理由"), max_length=200, blank=True, help_text=_("主办单位选定优秀组织单位时填写")
    )

    class Meta:
        verbose_name = _("奖项")
        verbose_name_plural = _("奖项")
        ordering = ["competition_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.label} · {self.recipient}"

    @property
    def label(self) -> str:
        """The award's name as printed: its title, else the kind (awards granted before titles)."""
        return self.title or str(self.get_kind_display())


class Certificate(TimeStampedModel):
    """The certificate of an award; its code is printed with a QR pointing to the public
    verification page. Revoking keeps the row so the page can say it was revoked."""

    award = models.OneToOneField(
        Award, verbose_name=_("奖项"), on_delete=models.CASCADE, related_name="certificate"
    )
    code = models.CharField(_("证书编号"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("颁发时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.code

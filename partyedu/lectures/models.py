"""「我来讲党课」: the lecturer pool, lectures given at 党课 activities and their ratings, the weekly
"大家讲" rotation of a branch, topic calls (选题征集) with assigned topics (点题), and the lecture
library (播党课) whose items are online study resources."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import CallStatus, LectureFileKind, LecturerCategory, LectureType, TaskStatus


class ExpertiseTag(TimeStampedModel):
    """A subject a lecturer can teach (党史, 乡村振兴, 廉政 …); shared by every pool."""

    name = models.CharField(_("名称"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("专长标签")
        verbose_name_plural = _("专长标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lecturer(TimeStampedModel, ScopedModel):
    """A lecturer kept in an organisation's pool (师资库): a party member of the system, or an
    outside person (党校/高校教师, 先进模范, 老党员, 业务骨干). Their record — lectures given, ratings,
    awards — is derived from lectures and competitions, never typed."""

    scope_self = "member__user"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属师资库"),
        on_delete=models.PROTECT,
        related_name="lecturers",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("对应党员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lecturer_entries",
    )
    name = models.CharField(_("姓名"), max_length=50)
    category = models.CharField(
        _("讲师类别"), max_length=16, choices=LecturerCategory.choices, default=LecturerCategory.MEMBER
    )
    unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    title = models.CharField(_("称号"), max_length=50, blank=True, help_text=_("如 金牌讲师、优秀党课主讲人"))
    tags = models.ManyToManyField(ExpertiseTag, verbose_name=_("专长"), blank=True, related_name="lecturers")
    bio = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("在库"), default=True)

    class Meta:
        verbose_name = _("讲师")
        verbose_name_plural = _("讲师")
        ordering = ["organization_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member"],
                condition=models.Q(member__isnull=False),
                name="lecturer_one_per_member_per_pool",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Lecture(TimeStampedModel, ScopedModel):
    """A party lecture given at an activity of type 党课: who lectured, on what, in which style.
    The time, place and attendees are the activity's (``organization`` and ``start`` are copies of
    the activity's, kept by the services); hours come from its attendance."""

    scope_path = "organization__path"

    activity = models.OneToOneField(
        "study.Activity", verbose_name=_("党课活动"), on_delete=models.CASCADE, related_name="lecture"
    )
    title = models.CharField(_("党课题目"), max_length=200)
    lecture_type = models.CharField(
        _("党课类型"), max_length=16, choices=LectureType.choices, default=LectureType.STANDARD
    )
    task = models.ForeignKey(
        "TopicTask",
        verbose_name=_("点题任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lectures",
    )
    summary = models.TextField(_("内容摘要"), blank=True)
    # The activity's organisation (which never changes) and start, kept here so that lists scope,
    # sort and filter lectures with indexes of their own instead of joining every activity of the
    # city (most of which are not lectures).
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text=_("党课活动的组织"),
    )
    start = models.DateTimeField(_("党课时间"), editable=False, help_text=_("党课活动的开始时间"))

    class Meta:
        verbose_name = _("党课")
        verbose_name_plural = _("党课")
        ordering = ["-id"]
        indexes = [models.Index(fields=["start", "id"], name="lecture_start_idx")]

    def __str__(self) -> str:
        return self.title


class LectureSpeaker(TimeStampedModel):
    """One lecturer of a lecture. ``is_cross`` marks a secretary lecturing outside their own
    organisation subtree (交叉讲党课), decided when the lecture is recorded."""

    lecture = models.ForeignKey(
        Lecture, verbose_name=_("党课"), on_delete=models.CASCADE, related_name="speakers"
    )
    lecturer = models.ForeignKey(
        Lecturer, verbose_name=_("讲师"), on_delete=models.PROTECT, related_name="speakings"
    )
    is_cross = models.BooleanField(_("交叉讲党课"), default=False)

    class Meta:
        verbose_name = _("主讲人")
        verbose_name_plural = _("主讲人")
        constraints = [models.UniqueConstraint(fields=["lecture", "lecturer"], name="lecture_speaker_unique")]

    def __str__(self) -> str:
        return f"{self.lecturer} · {self.lecture}"


class LectureFile(TimeStampedModel):
    """Material of a lecture: slides, a script or a video."""

    lecture = models.ForeignKey(
        Lecture, verbose_name=_("党课"), on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=LectureFileKind.choices)
    file = models.FileField(_("文件"), upload_to="lectures/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)

    class Meta:
        verbose_name = _("党课资料")
        verbose_name_plural = _("党课资料")
        ordering = ["lecture_id", "kind", "id"]

    def __str__(self) -> str:
        return self.name


class LectureRating(TimeStampedModel, ScopedModel):
    """An attendee's rating of a lecture (1–5 and a comment). Lecturers see only the aggregate."""

    scope_path = "lecture__organization__path"
    scope_self = "member__user"

    lecture = models.ForeignKey(
        Lecture, verbose_name=_("党课"), on_delete=models.CASCADE, related_name="ratings"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("评价人"), on_delete=models.CASCADE, related_name="lecture_ratings"
    )
    score = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("评语"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("党课评价")
        verbose_name_plural = _("党课评价")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "member"], name="lecture_rating_once"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="lecture_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lecture} · {self.score}"


class Rotation(TimeStampedModel, ScopedModel):
    """A branch's "支部党课大家讲" rotation: a weekly topic and a member lecturer for each week."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="rotations",
    )
    title = models.CharField(_("名称"), max_length=100)
    start_date = models.DateField(_("首次日期"))
    weeks = models.PositiveSmallIntegerField(_("周数"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("党课轮讲")
        verbose_name_plural = _("党课轮讲")
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return self.title


class RotationSlot(TimeStampedModel, ScopedModel):
    """One week of a rotation: its date, topic and the member who lectures."""

    scope_path = "rotation__organization__path"
    scope_self = "member__user"

    rotation = models.ForeignKey(
        Rotation, verbose_name=_("轮讲"), on_delete=models.CASCADE, related_name="slots"
    )
    date = models.DateField(_("日期"))
    topic = models.CharField(_("主题"), max_length=200)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("主讲党员"), on_delete=models.CASCADE, related_name="rotation_slots"
    )

    class Meta:
        verbose_name = _("轮讲安排")
        verbose_name_plural = _("轮讲安排")
        ordering = ["rotation_id", "date", "id"]

    def __str__(self) -> str:
        return f"{self.date} {self.topic}"


class TopicCall(TimeStampedModel, ScopedModel):
    """A call for lecture topics (选题征集) opened by an organisation to its subtree."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("征集组织"),
        on_delete=models.PROTECT,
        related_name="topic_calls",
    )
    title = models.CharField(_("征集名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    deadline = models.DateField(_("截止日期"))
    status = models.CharField(_("状态"), max_length=16, choices=CallStatus.choices, default=CallStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("选题征集")
        verbose_name_plural = _("选题征集")
        ordering = ["-deadline", "-id"]

    def __str__(self) -> str:
        return self.title


class TopicProposal(TimeStampedModel, ScopedModel):
    """A topic submitted to a call by a branch or department; the caller may mark it a key topic."""

    scope_path = "organization__path"

    call = models.ForeignKey(
        TopicCall, verbose_name=_("选题征集"), on_delete=models.CASCADE, related_name="proposals"
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("提交组织"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("选题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    is_key = models.BooleanField(_("重点选题"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("申报选题")
        verbose_name_plural = _("申报选题")
        ordering = ["call_id", "-is_key", "id"]

    def __str__(self) -> str:
        return self.title


class TopicTask(TimeStampedModel, ScopedModel):
    """A topic assigned (点题) to a lecturer or an organisation, who sees it as a task until a
    lecture on it is recorded."""

    scope_path = "organization__path"
    scope_self = "lecturer__member__user"

    proposal = models.ForeignKey(
        TopicProposal, verbose_name=_("选题"), on_delete=models.CASCADE, related_name="tasks"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("承接组织"),
        on_delete=models.PROTECT,
        related_name="topic_tasks",
    )
    lecturer = models.ForeignKey(
        Lecturer,
        verbose_name=_("承接讲师"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    due_date = models.DateField(_("完成期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED
    )

    class Meta:
        verbose_name = _("点题任务")
        verbose_name_plural = _("点题任务")
        ordering = ["status", "due_date", "id"]

    def __str__(self) -> str:
        return str(self.proposal)


class LectureSeries(TimeStampedModel, ScopedModel):
    """A series of lectures in the library (精品党课系列)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("出品组织"),
        on_delete=models.PROTECT,
        related_name="lecture_series",
    )
    title = models.CharField(_("系列名称"), max_length=200)
    description = models.TextField(_("简介"), blank=True)

    class Meta:
        verbose_name = _("党课系列")
        verbose_name_plural = _("党课系列")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class LibraryItem(TimeStampedModel, ScopedModel):
    """A lecture published to the library (播党课). It is shown as an online study resource of the
    target subtree, so studying it credits 网络学习 hours by the resource's rules; the showing
    (展播) runs between the two dates."""

    scope_path = "resource__organization__path"

    resource = models.OneToOneField(
        "learning.OnlineResource",
        verbose_name=_("学习资源"),
        on_delete=models.PROTECT,
        related_name="library_item",
    )
    series = models.ForeignKey(
        LectureSeries,
        verbose_name=_("所属系列"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    lecturer = models.ForeignKey(
        Lecturer, verbose_name=_("主讲人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lecture = models.ForeignKey(
        Lecture, verbose_name=_("党课"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    honour = models.CharField(_("荣誉"), max_length=200, blank=True, help_text=_("如 2026年全市优秀党课"))
    show_from = models.DateField(_("展播开始"), null=True, blank=True)
    show_until = models.DateField(_("展播结束"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("党课库条目")
        verbose_name_plural = _("党课库条目")
        ordering = ["series_id", "sort_order", "id"]

    def __str__(self) -> str:
        return str(self.resource)


# --- summary rows of the statistics (kept by ``summaries``, proved by ``lecture_figures_rebuild``) --


class LectureFigure(models.Model):
    """One figure of the lecture statistics of an organisation *and everything below it*, for a
    year: cumulative, like ``Organization.member_count``, so a page reads an organisation and its
    direct children instead of aggregating a city. ``name`` says which figure (``summaries.
    FIGURE_NAMES``: lectures, cross lectures, ratings and their total score, lectures per type and
    per lecturer category, and the secretaries and leading cadres of the duty to lecture).
    ``year`` 0 holds the figures that do not depend on a year (who is on the duty list). Only
    ``summaries`` writes these rows, by increments inside the transaction of the change."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="lecture_figures",
    )
    year = models.PositiveSmallIntegerField(_("年度"), help_text=_("0 表示不分年度的数字"))
    name = models.CharField(_("指标"), max_length=40)
    value = models.BigIntegerField(_("数值"), default=0)

    class Meta:
        verbose_name = _("党课统计汇总")
        verbose_name_plural = _("党课统计汇总")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "name"], name="lecture_figure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.name}={self.value}"


class LectureTally(models.Model):
    """What the statistics count of one lecture, as last added into ``LectureFigure``: where and
    when it was held, its type, whether a speaker lectured across (交叉讲), its speakers'
    categories and members, and its ratings. A change to the lecture — made here, or to its
    activity in the study app — is applied as the difference between this row and the lecture's
    new state. The ids are plain numbers, not foreign keys, so the row outlives a lecture deleted
    with its activity until that deletion is synced."""

    lecture_id = models.BigIntegerField(_("党课"), primary_key=True)
    activity_id = models.BigIntegerField(_("活动"), db_index=True)
    organization_id = models.BigIntegerField(_("党组织"))
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), default=0)
    lecture_type = models.CharField(_("党课类型"), max_length=16)
    is_cross = models.BooleanField(_("交叉讲党课"), default=False)
    categories = models.JSONField(_("主讲人类别"), default=list)
    speakers = models.JSONField(_("主讲党员"), default=list, help_text=_("主讲党员的 ID"))
    ratings = models.PositiveIntegerField(_("评价人次"), default=0)
    rating_total = models.PositiveIntegerField(_("评分合计"), default=0)

    class Meta:
        verbose_name = _("党课统计计数")
        verbose_name_plural = _("党课统计计数")

    def __str__(self) -> str:
        return f"{self.lecture_id} {self.year}"


class LectureDutyMember(models.Model):
    """A member on the duty list (an active 基层党组织书记 or 领导干部), as last added into the duty
    figures of ``LectureFigure``: their organisation and whether they are exempt. A change to the
    member in the members app is applied as the difference between this row and the member's new
    state."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("党员"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    organization_id = models.BigIntegerField(_("党组织"))
    is_exempt = models.BooleanField(_("免于要求"), default=False)

    class Meta:
        verbose_name = _("讲党课责任人")
        verbose_name_plural = _("讲党课责任人")

    def __str__(self) -> str:
        return str(self.member_id)

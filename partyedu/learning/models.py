"""Learning hours (学时) as an append-only ledger derived from sources, the annual requirements,
and online study resources with server-side progress."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.ledger import ScopedAppendOnlyModel
from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.study.choices import ActivityType

from .choices import CreditMode, HourKind, RequirementGroup, ResourceKind, SourceType


class LearningHourEntry(ScopedAppendOnlyModel):
    """One line of a member's learning-hours ledger: hours of one kind, in one year, credited (or
    corrected, with a negative amount) because of one source — an attendance row, a completed
    online resource, or a manual record. Rows are never changed or deleted (``core.ledger``
    refuses it in the model, the queryset and, on PostgreSQL, the database): when a source
    changes, a correcting row is appended, so every total is explained line by line. ``version``
    numbers the rows of the same (source, member, kind, year), and the unique key makes a double
    award impossible even under concurrent writers or retries. A member or account that has
    ledger lines cannot be deleted (``PROTECT``): members leave the register, they are not erased."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="hour_entries"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("学时类别"), max_length=16, choices=HourKind.choices)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1)
    source_type = models.CharField(_("来源类型"), max_length=16, choices=SourceType.choices)
    source_id = models.PositiveBigIntegerField(_("来源编号"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    description = models.CharField(_("来源说明"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记账人"),
        null=True,
        blank=True,
        # Not SET_NULL: clearing the field would change the line.
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("学时记录")
        verbose_name_plural = _("学时记录")
        ordering = ["member_id", "year", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "member", "kind", "year", "version"],
                name="hour_entry_unique",
            )
        ]
        indexes = [
            models.Index(fields=["member", "year"], name="hour_member_year_idx"),
            models.Index(fields=["source_type", "source_id"], name="hour_source_idx"),
            # The month's online hours of the supervision dashboards: lines written in the month.
            models.Index(
                fields=["created_at"], condition=models.Q(kind="online"), name="hour_online_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year} {self.get_kind_display()} {self.hours}"


class MemberYearHours(models.Model):
    """A member's hours for one year, by kind, and the training classes the member completed
    (结业) that year: a summary kept in the same transaction as the ledger and the attendance that
    changes it (``learning_hours_rebuild`` proves it equals the ledger and the attendance)."""

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="year_hours"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    total = models.DecimalField(_("合计"), max_digits=7, decimal_places=1, default=Decimal("0"))
    concentrated = models.DecimalField(_("集中培训"), max_digits=7, decimal_places=1, default=Decimal("0"))
    collective = models.DecimalField(_("集体学习"), max_digits=7, decimal_places=1, default=Decimal("0"))
    online = models.DecimalField(_("网络学习"), max_digits=7, decimal_places=1, default=Decimal("0"))
    self_study = models.DecimalField(_("自学"), max_digits=7, decimal_places=1, default=Decimal("0"))
    classes_completed = models.PositiveSmallIntegerField(
        _("结业培训班"),
        default=0,
        help_text=_(
            "结业日期在本年度、出勤（出席、迟到、已确认补学）达到结业比例的培训班个数，随出勤在同一事务中更新"
        ),
    )
    completed = models.BooleanField(
        _("已达标"),
        default=False,
        help_text=_("组织汇总（OrgYearCompletion）是否把本人本年度计为已达标，随台账在同一事务中更新"),
    )
    # What the kept figure ``learning.online`` (organizations.SubtreeFigure) holds of this row: the
    # online hours and the organisation they were added under (services.online_refresh).
    online_counted = models.DecimalField(
        _("已计入组织的网络学习学时"),
        max_digits=7,
        decimal_places=1,
        default=Decimal("0"),
        db_default=Decimal("0"),  # the summaries' raw upserts name only the hours' columns
    )
    online_org = models.BigIntegerField(_("网络学习学时计入的组织"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度学时汇总")
        verbose_name_plural = _("年度学时汇总")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="member_year_hours_unique")]

    def __str__(self) -> str:
        return f"{self.member} {self.year}: {self.total}"


class MemberRequirement(models.Model):
    """The requirement a member is counted under by the organisation summaries: group (党员 32,
    书记/委员 56, 发展对象 24, exempt, none), threshold, which kinds of hours count (and their caps),
    the condition of one concentrated training, and organisation, derived from the member's
    status, categories, exemption and the nearest ``HourRequirement``. Kept in the same transaction
    as the ledger and by ``learning_members_changed``; ``learning_hours_rebuild`` proves it."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("党员"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="learning_requirement",
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("计入组织"), on_delete=models.CASCADE, related_name="+"
    )
    group = models.CharField(_("要求类别"), max_length=16, choices=RequirementGroup.choices)
    required_hours = models.DecimalField(_("应修学时"), max_digits=5, decimal_places=1)
    needs_concentrated = models.BooleanField(_("须有集中培训"), default=False)
    concentrated_min_hours = models.DecimalField(
        _("集中培训最少学时"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        help_text=_("须有集中培训的：未结业培训班时，本年度集中培训须达到的学时"),
    )
    counts_online = models.BooleanField(_("计入网络学习"), default=False)
    online_cap = models.DecimalField(
        _("网络学习计入上限"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    counts_self = models.BooleanField(_("计入自学"), default=False)
    self_cap = models.DecimalField(_("自学计入上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    categories = models.JSONField(
        _("党员类别"),
        default=list,
        blank=True,
        help_text=_("按党员类别统计（OrgCategoryCounts）时计入的类别，即党员本人登记的类别"),
    )

    class Meta:
        verbose_name = _("党员学时要求")
        verbose_name_plural = _("党员学时要求")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.get_group_display()} {self.required_hours}"


class OrgRequirementCounts(models.Model):
    """Members of an organisation and all its descendants by requirement group (cumulative, like
    ``Organization.member_count``), kept in step with ``MemberRequirement``."""

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("党组织"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="requirement_counts",
    )
    members = models.IntegerField(_("在册党员"), default=0)
    general = models.IntegerField(_("党员"), default=0)
    cadre = models.IntegerField(_("书记、委员"), default=0)
    candidate = models.IntegerField(_("发展对象"), default=0)
    exempt = models.IntegerField(_("免于要求"), default=0)
    not_required = models.IntegerField(_("不作要求"), default=0)

    class Meta:
        verbose_name = _("组织学时要求人数")
        verbose_name_plural = _("组织学时要求人数")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.members}"


class OrgYearCompletion(models.Model):
    """Members of an organisation and all its descendants who met their annual requirement in a
    year, by group (cumulative), kept in step with ``MemberYearHours.completed``. 发展对象 are not
    here: their training runs over the candidate period (``learning.candidates``)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="year_completions",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    general = models.IntegerField(_("党员达标"), default=0)
    cadre = models.IntegerField(_("书记、委员达标"), default=0)

    class Meta:
        verbose_name = _("组织年度学时达标人数")
        verbose_name_plural = _("组织年度学时达标人数")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="org_year_completion_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}"


class OrgCategoryCounts(models.Model):
    """Members of an organisation and all its descendants holding one member category (一名党员可
    属于多个类别), and how many of them have an hour requirement — cumulative, kept in step with
    ``MemberRequirement`` (its group and categories) like ``OrgRequirementCounts``."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="category_counts",
    )
    category = models.CharField(_("党员类别"), max_length=16)
    members = models.IntegerField(_("在册党员"), default=0)
    required = models.IntegerField(_("有学时要求"), default=0)

    class Meta:
        verbose_name = _("组织分类别学时要求人数")
        verbose_name_plural = _("组织分类别学时要求人数")
        constraints = [
            models.UniqueConstraint(fields=["organization", "category"], name="org_category_counts_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.category}: {self.members}"


class OrgYearCategoryCompletion(models.Model):
    """Members of an organisation and all its descendants holding one member category who met
    their requirement in a year (cumulative), kept in step with ``MemberYearHours.completed``."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="year_category_completions",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    category = models.CharField(_("党员类别"), max_length=16)
    completed = models.IntegerField(_("达标"), default=0)

    class Meta:
        verbose_name = _("组织分类别年度学时达标人数")
        verbose_name_plural = _("组织分类别年度学时达标人数")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "category"], name="org_year_category_completion_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.category}"


class HourRequirement(TimeStampedModel, ScopedModel):
    """Annual hour requirements for an organisation subtree (lawful defaults from DOMAIN_RULES; the
    nearest rule up the tree applies). 集中培训 and 集体学习 always count towards the hours (they are
    the 集中学习培训 of 条例 第二十条); 网络学习 and 自学 count only where the rule says so, each up
    to its cap. The "one concentrated training" of secretaries and committee members is a
    completed training class or ``cadre_concentrated_min_hours`` of 集中培训 in the year. Exempt
    members (年老体弱 …) are reported apart."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("适用组织"),
        on_delete=models.CASCADE,
        related_name="hour_requirements",
    )
    general_hours = models.DecimalField(
        _("党员每年学时"), max_digits=5, decimal_places=1, default=Decimal("32")
    )
    cadre_hours = models.DecimalField(
        _("基层党组织书记、班子成员每年学时"), max_digits=5, decimal_places=1, default=Decimal("56")
    )
    cadre_needs_concentrated = models.BooleanField(_("书记、班子成员须参加集中培训"), default=True)
    cadre_concentrated_min_hours = models.DecimalField(
        _("书记、班子成员集中培训最少学时"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("8"),
        help_text=_("结业一个培训班即为参加过集中培训；否则本年度集中培训须达到的学时，默认8学时（一整天）"),
    )
    counts_online = models.BooleanField(
        _("网络学习计入学时要求"),
        default=False,
        help_text=_("条例要求的是集中学习培训：默认只计集中培训和集体学习，网络学习单独显示"),
    )
    online_cap = models.DecimalField(
        _("网络学习每年最多计入（学时）"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("留空表示不设上限"),
    )
    counts_self = models.BooleanField(
        _("自学计入学时要求"), default=False, help_text=_("默认不计入，自学学时单独显示")
    )
    self_cap = models.DecimalField(
        _("自学每年最多计入（学时）"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("留空表示不设上限"),
    )
    candidate_hours = models.DecimalField(
        _("发展对象集中培训学时"), max_digits=5, decimal_places=1, default=Decimal("24")
    )
    online_daily_cap_minutes = models.PositiveIntegerField(
        _("网络学习每日计入上限（分钟）"), default=120, help_text=_("防止刷学时；0 表示不限")
    )

    class Meta:
        verbose_name = _("学时要求")
        verbose_name_plural = _("学时要求")
        constraints = [models.UniqueConstraint(fields=["organization"], name="hour_requirement_unique")]

    def __str__(self) -> str:
        return f"{self.organization} 学时要求"


class Column(TimeStampedModel, ScopedModel):
    """A column of online study material (e.g. 教育学习园地), published in numbered issues."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="columns",
    )
    name = models.CharField(_("栏目名称"), max_length=100)
    description = models.CharField(_("简介"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("学习栏目")
        verbose_name_plural = _("学习栏目")
        ordering = ["organization_id", "name"]

    def __str__(self) -> str:
        return self.name


class OnlineResource(TimeStampedModel, ScopedModel):
    """A video, audio, courseware (PDF) or article published by an organisation to its subtree.
    Completing it (played or read in full, as measured by the server) credits 网络学习 hours once."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("发布组织"),
        on_delete=models.PROTECT,
        related_name="online_resources",
    )
    column = models.ForeignKey(
        Column,
        verbose_name=_("栏目"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resources",
    )
    issue_no = models.PositiveIntegerField(_("期号"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=ResourceKind.choices)
    file = models.FileField(_("文件"), upload_to="resources/%Y/%m/", blank=True)
    body = models.TextField(_("正文"), blank=True)
    duration_seconds = models.PositiveIntegerField(
        _("时长（秒）"), help_text=_("音视频的播放时长；文章、课件为需要的阅读时长")
    )
    credit_hours = models.DecimalField(
        _("完成计入学时"), max_digits=4, decimal_places=1, default=Decimal("1")
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    is_published = models.BooleanField(_("已发布"), default=False)

    class Meta:
        verbose_name = _("网上学习资源")
        verbose_name_plural = _("网上学习资源")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ResourceProgress(TimeStampedModel, ScopedModel):
    """How much of a resource a member has actually played or read: merged ranges of seconds,
    reported by heartbeats and checked by the server against wall-clock time."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="resource_progress"
    )
    resource = models.ForeignKey(
        OnlineResource, verbose_name=_("资源"), on_delete=models.CASCADE, related_name="progress"
    )
    ranges = models.JSONField(_("已学区间"), default=list, blank=True)
    played_seconds = models.PositiveIntegerField(_("有效学习秒数"), default=0)
    last_heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("学习进度")
        verbose_name_plural = _("学习进度")
        constraints = [
            models.UniqueConstraint(fields=["member", "resource"], name="resource_progress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.resource}"


class DailyOnlineStudy(models.Model):
    """Seconds of online study counted for a member on one day, to apply the daily cap."""

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("日期"))
    seconds = models.PositiveIntegerField(_("秒数"), default=0)

    class Meta:
        verbose_name = _("每日网络学习")
        verbose_name_plural = _("每日网络学习")
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="daily_online_unique")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}: {self.seconds}s"


class ActivityCreditRule(TimeStampedModel, ScopedModel):
    """Whether attending one type of activity credits learning hours in an organisation's
    subtree: by clock time (full), only the study part the recorder enters (``study_minutes``),
    or not at all. The nearest rule up the tree wins; without one the DOMAIN_RULES defaults apply
    (``conversion.DEFAULT_CREDIT_MODES``: 支委会, 组织生活会, 民主评议 credit nothing; 支部党员大会
    and 党小组会 only their study part; everything else by time). An activity's own 认定学时
    (``Activity.credited_hours``) overrides the table. Set by the organisation departments; a
    change re-derives the ledger through correcting rows (``services.activity_credit_rule_set``)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("适用组织"),
        on_delete=models.CASCADE,
        related_name="activity_credit_rules",
    )
    activity_type = models.CharField(_("活动类型"), max_length=32, choices=ActivityType.choices)
    mode = models.CharField(_("学时认定"), max_length=16, choices=CreditMode.choices)

    class Meta:
        verbose_name = _("活动学时认定规则")
        verbose_name_plural = _("活动学时认定规则")
        ordering = ["organization_id", "activity_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "activity_type"], name="activity_credit_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_activity_type_display()}：{self.get_mode_display()}"

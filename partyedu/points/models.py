"""积分 (points): a scheme per organisation subtree and year, and the append-only ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.ledger import ScopedAppendOnlyModel
from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import (
    Audience,
    CapPeriod,
    EntrySource,
    ItemKind,
    ItemSource,
    ObjectionStatus,
    PublicationPeriod,
    VetoCategory,
)


class PointsScheme(TimeStampedModel, ScopedModel):
    """A points scheme (积分方案): the base score and the items that earn or deduct points for
    the members of an organisation's subtree in one year — party members, or (a candidates'
    scheme) the 入党积极分子 and 发展对象 being developed. The nearest scheme up the tree for the
    member's audience applies: a lower level's scheme replaces the upper one for its subtree,
    within what the upper one allows (``allow_refine``, the same base, its locked items kept)."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("制定组织"),
        on_delete=models.PROTECT,
        related_name="points_schemes",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    name = models.CharField(_("方案名称"), max_length=100)
    base = models.DecimalField(
        _("基础分"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("60"),
        help_text=_("每名党员年初的基础分"),
    )
    audience = models.CharField(
        _("适用对象"), max_length=12, choices=Audience.choices, default=Audience.MEMBERS
    )
    allow_refine = models.BooleanField(
        _("允许下级细化"),
        default=True,
        help_text=_("下级组织可在本方案基础上制定本级方案：基础分相同，锁定的项目不得改动"),
    )

    class Meta:
        verbose_name = _("积分方案")
        verbose_name_plural = _("积分方案")
        ordering = ["-year", "organization__path", "audience"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "audience"], name="points_scheme_org_year_audience_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class PointsItem(TimeStampedModel):
    """One item of a scheme: where its points come from (a kept record or a manual award), how
    many points one unit is worth, and the cap per month, quarter or year. A deduction item
    (负面清单) takes points off; members of exempt categories are never deducted. Items change
    only with their scheme (``scheme_update`` saves it): the scheme's ``updated_at`` versions its
    items, and the API keeps them in memory by it (``selectors.member_points_brief``)."""

    scheme = models.ForeignKey(
        PointsScheme, verbose_name=_("积分方案"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("项目名称"), max_length=100)
    kind = models.CharField(_("加分/扣分"), max_length=8, choices=ItemKind.choices, default=ItemKind.EARN)
    source = models.CharField(_("积分来源"), max_length=16, choices=ItemSource.choices)
    activity_types = models.JSONField(
        _("活动类型"), default=list, blank=True, help_text=_("参加活动类：计入的活动类型，留空为全部类型")
    )
    statuses = models.JSONField(
        _("出勤状态"),
        default=list,
        blank=True,
        help_text=_("参加活动类：计入的出勤状态，留空时加分项计出席和迟到、扣分项计缺席"),
    )
    points = models.DecimalField(_("每次分值"), max_digits=6, decimal_places=1)
    cap = models.DecimalField(
        _("上限"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("每个周期最多计的分值，留空不设上限"),
    )
    cap_period = models.CharField(
        _("上限周期"), max_length=8, choices=CapPeriod.choices, default=CapPeriod.YEAR
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    locked = models.BooleanField(
        _("下级不得改动"), default=False, help_text=_("下级细化方案时须原样保留本项目")
    )

    class Meta:
        verbose_name = _("积分项目")
        verbose_name_plural = _("积分项目")
        ordering = ["scheme_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="points_item_code_unique")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_deduct(self) -> bool:
        return self.kind == ItemKind.DEDUCT


class ManualPoints(TimeStampedModel, ScopedModel):
    """A secretary's manual award or deduction (the source of a ``manual`` item's ledger lines):
    the amount, the required reason, who recorded it and when. Visible to the member."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="manual_points"
    )
    item = models.ForeignKey(
        PointsItem, verbose_name=_("积分项目"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    on_date = models.DateField(_("日期"))
    points = models.DecimalField(
        _("分值"), max_digits=6, decimal_places=1, help_text=_("正数；扣分项按扣分计")
    )
    reason = models.CharField(_("理由"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("手工积分")
        verbose_name_plural = _("手工积分")
        ordering = ["-on_date", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.item.name} {self.points}"


class PointsEntry(ScopedAppendOnlyModel):
    """One line of a member's points ledger: points of one item, in one year, credited (or
    corrected, with the opposite sign) because of one source — an attendance row, a lecture
    given, a passed exam, a completed resource, a manual record. Written once (``core.ledger``);
    a change of a source, a cap or a scheme appends a correcting line with ``version + 1``. The
    unique key (source, member, item, year, version) makes a double credit impossible under
    retries and concurrent writers. ``source_date`` is the source's date, which decides the cap
    period; the description says the cap used when a line was capped."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="points_entries"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    item = models.ForeignKey(
        PointsItem, verbose_name=_("积分项目"), on_delete=models.PROTECT, related_name="entries"
    )
    points = models.DecimalField(_("分值"), max_digits=7, decimal_places=1)
    source_type = models.CharField(_("来源类型"), max_length=16, choices=EntrySource.choices)
    source_id = models.PositiveBigIntegerField(_("来源编号"))
    source_date = models.DateField(_("来源日期"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    description = models.CharField(_("来源说明"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记账人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        ordering = ["member_id", "year", "source_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "member", "item", "year", "version"],
                name="points_entry_unique",
            )
        ]
        indexes = [
            models.Index(fields=["member", "year"], name="points_member_year_idx"),
            models.Index(fields=["source_type", "source_id"], name="points_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year} {self.item_id} {self.points}"


class PointsPublication(TimeStampedModel, ScopedModel):
    """A publication (公示) of the points of an organisation's members — the first half-year or
    the whole year — to those members, from ``starts_on`` to ``ends_on`` inclusive. The figures
    are frozen when it is published (``PointsPublicationRow``), so the page always shows what was
    published, with the current figure beside it where the ledger has changed since. While it
    runs a member may object (异议) to one of their own entries. Withdrawn or ended, it stays on
    record as history. The organisation's members on the roll at publication see it (their row
    is their membership); organisation roles see it through their points scope."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("公示组织"),
        on_delete=models.PROTECT,
        related_name="points_publications",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    period = models.CharField(_("公示范围"), max_length=8, choices=PublicationPeriod.choices)
    starts_on = models.DateField(_("公示开始日期"))
    ends_on = models.DateField(_("公示截止日期"), help_text=_("含当天"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤回人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("积分公示")
        verbose_name_plural = _("积分公示")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["organization", "year", "period"], name="points_pub_org_year_idx")]

    def __str__(self) -> str:
        return f"{self.year}年{self.get_period_display()}积分公示"

    @property
    def period_end(self) -> date:
        return date(self.year, 6, 30) if self.period == PublicationPeriod.H1 else date(self.year, 12, 31)

    def is_running(self, today: date) -> bool:
        """Published, not withdrawn, and ``today`` within its days."""
        return self.withdrawn_at is None and self.starts_on <= today <= self.ends_on


class PointsPublicationRow(models.Model):
    """One member's figures as published (frozen at publication): base, earned, deducted, total
    (0 under a veto, with its reason) and the points by item. Read only through its publication."""

    publication = models.ForeignKey(
        PointsPublication, verbose_name=_("积分公示"), on_delete=models.CASCADE, related_name="rows"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.PROTECT,
        related_name="points_publication_rows",
    )
    name = models.CharField(_("姓名"), max_length=50)
    base = models.DecimalField(_("基础分"), max_digits=6, decimal_places=1)
    earned = models.DecimalField(_("加分"), max_digits=8, decimal_places=1)
    deducted = models.DecimalField(_("扣分"), max_digits=8, decimal_places=1)
    total = models.DecimalField(_("合计"), max_digits=8, decimal_places=1)
    exempt = models.BooleanField(_("免于扣分"), default=False)
    vetoed = models.BooleanField(_("一票否决"), default=False)
    veto_reason = models.CharField(_("否决理由"), max_length=255, blank=True)
    items = models.JSONField(
        _("按项目"), default=list, blank=True, help_text=_("[{code, name, kind, points}]，公示时的分值")
    )

    class Meta:
        verbose_name = _("积分公示明细")
        verbose_name_plural = _("积分公示明细")
        ordering = ["publication_id", "name", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "member"], name="points_pub_row_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.total}"


class PointsObjection(TimeStampedModel, ScopedModel):
    """An objection (异议) a member raises while a publication runs: to one of their own ledger
    lines, or to an item where a line is missing (``entry`` empty), with a reason. The secretary
    answers: upheld, a correcting ledger line (source ``objection``, derived from this record by
    the ledger's sync and the rebuild) of ``points`` with the answer as its description; rejected,
    the answer is the reason shown to the member. Handled by the publishing organisation."""

    scope_path = "publication__organization__path"
    scope_self = "member__user"

    publication = models.ForeignKey(
        PointsPublication, verbose_name=_("积分公示"), on_delete=models.PROTECT, related_name="objections"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="points_objections"
    )
    entry = models.ForeignKey(
        PointsEntry,
        verbose_name=_("积分记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("对某条积分记录提出异议；漏记的项目可不选"),
    )
    item = models.ForeignKey(
        PointsItem, verbose_name=_("积分项目"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("异议理由"), max_length=500)
    status = models.CharField(
        _("处理状态"), max_length=8, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    answer = models.CharField(_("答复"), max_length=500, blank=True)
    points = models.DecimalField(
        _("更正分值"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("异议成立时计入合计的更正：正数加分，负数减分"),
    )
    correction_date = models.DateField(_("更正记录日期"), null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("积分异议")
        verbose_name_plural = _("积分异议")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "status"], name="points_objection_member_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=ObjectionStatus.UPHELD)
                | models.Q(points__isnull=False, correction_date__isnull=False),
                name="points_objection_upheld_has_points",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_status_display()}"


class PointsVeto(TimeStampedModel, ScopedModel):
    """一票否决: a member's year set aside (discipline, crime or another cause), with the reason.
    The year's total reads 0 everywhere (DOMAIN_RULES: veto conditions set the year to 0) while
    the ledger's lines stay as they are: the veto is not a line. Lifted with a reason, it stays on
    record; one veto in force per member and year."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="points_vetoes"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    category = models.CharField(_("否决情形"), max_length=12, choices=VetoCategory.choices)
    reason = models.CharField(_("否决理由"), max_length=255)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.CharField(_("撤销理由"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("一票否决")
        verbose_name_plural = _("一票否决")
        ordering = ["-year", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                condition=models.Q(lifted_at__isnull=True),
                name="points_veto_in_force_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year} {self.get_category_display()}"


class PointsRankingSetting(TimeStampedModel, ScopedModel):
    """Whether a branch's members see a rank beside the totals on the branch's list and its
    publications (off by default: DESIGN.md §3.5). Turned on for one branch by the organisation
    department (``scope.can_set_policy``), never across branches."""

    scope_path = "organization__path"

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("党支部"),
        on_delete=models.PROTECT,
        related_name="points_ranking",
    )
    enabled = models.BooleanField(_("支部内排名"), default=False)
    enabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开启人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    enabled_at = models.DateTimeField(_("开启时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支部内积分排名设置")
        verbose_name_plural = _("支部内积分排名设置")

    def __str__(self) -> str:
        return f"{self.organization} {'开启' if self.enabled else '关闭'}"


class PointsYearTotal(models.Model):
    """A member's points year as the organisation figures count it: the net points (the sum of
    their ledger lines of the year) and, copied beside it, what the distribution of their
    organisations counts — their organisation's path, whether they are counted (a 党员 or 预备党员
    on the roll), the total (base of the scheme in force + net, 0 under a veto) and the veto.
    One row per member and year of a members' scheme (and any year their ledger holds). Kept so
    that a city's distribution reads a few cumulative rows (``PointsOrgYear``) instead of
    summing millions of lines: the copy is the "before" of every change, whose difference goes
    up the tree. Written only by the ledger's sync and ``services.distribution``, in the
    transaction and under the member lock of the change; ``points_rebuild`` compares it with
    the ledger and the records and, with ``--apply``, rewrites it. A summary, not a ledger: it
    is updated in place."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.CASCADE,
        related_name="points_year_totals",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    net = models.DecimalField(_("加减分合计"), max_digits=8, decimal_places=1, default=Decimal("0"))
    org_path = models.CharField(_("组织路径"), max_length=255, blank=True, default="")
    counted = models.BooleanField(_("计入组织统计"), default=False)
    total = models.DecimalField(_("年度积分"), max_digits=8, decimal_places=1, default=Decimal("0"))
    vetoed = models.BooleanField(_("一票否决"), default=False)

    class Meta:
        verbose_name = _("年度积分合计")
        verbose_name_plural = _("年度积分合计")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="points_year_total_unique")]
        indexes = [models.Index(fields=["year", "member"], name="points_total_year_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year} {self.net}"


class PointsOrgYear(models.Model):
    """The points of the party members on the roll of an organisation *and everything below
    it*, for a year: how many, the sum and the number under a veto, and how many fall in each
    band of ``choices.TOTAL_BANDS`` — cumulative, like ``Organization.member_count``, so that
    the distribution of a city's districts reads nine rows instead of a hundred thousand
    members. Only ``services.distribution`` writes these rows, by increments from the members'
    ``PointsYearTotal`` copies, inside the transaction of the change."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="points_years",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    members = models.IntegerField(_("党员数"), default=0)
    total_sum = models.DecimalField(_("积分之和"), max_digits=14, decimal_places=1, default=Decimal("0"))
    vetoed = models.IntegerField(_("一票否决人数"), default=0)
    band_0 = models.IntegerField(_("60分以下"), default=0)
    band_1 = models.IntegerField(_("60–69分"), default=0)
    band_2 = models.IntegerField(_("70–79分"), default=0)
    band_3 = models.IntegerField(_("80–89分"), default=0)
    band_4 = models.IntegerField(_("90分及以上"), default=0)

    class Meta:
        verbose_name = _("组织年度积分汇总")
        verbose_name_plural = _("组织年度积分汇总")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="points_org_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.members}"

"""积分 (points): a scheme per organisation subtree and year, and the append-only ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.ledger import ScopedAppendOnlyModel
from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import CapPeriod, ItemKind, ItemSource


class PointsScheme(TimeStampedModel, ScopedModel):
    """A points scheme (积分方案): the base score and the items that earn or deduct points for
    the members of an organisation's subtree in one year. The nearest scheme up the tree applies
    to a member: a lower level's scheme replaces the upper one for its subtree."""

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

    class Meta:
        verbose_name = _("积分方案")
        verbose_name_plural = _("积分方案")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="points_scheme_org_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class PointsItem(TimeStampedModel):
    """One item of a scheme: where its points come from (a kept record or a manual award), how
    many points one unit is worth, and the cap per month, quarter or year. A deduction item
    (负面清单) takes points off; members of exempt categories are never deducted."""

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
    source_type = models.CharField(_("来源类型"), max_length=16, choices=ItemSource.choices)
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

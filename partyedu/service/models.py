"""Service and care (服务与关怀): 双报到 with the 共驻共建 agreements and their three lists, members'
registrations in the communities where they live and the services they record, 我为群众办实事
pledges, volunteer service activities (study activities of the type 志愿服务, with sign-up), a
community's 联户 grid and the residents' requests it solves, 谈心谈话, care for members in
difficulty with its visits and aid, 老带青/青帮老 pairs, and the booking of party service centres.

Every figure of the service pages, the dashboards and the monthly report is counted from these
rows; none is typed in."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import (
    AidKind,
    BookingStatus,
    DifficultyKind,
    FundSource,
    GridRole,
    ItemStatus,
    ListKind,
    PairKind,
    PledgeStatus,
    RecordStatus,
    RequestStatus,
    ServiceKind,
    TalkKind,
)

NOTE_MAX = 1000
PRIVATE_NOTE_MAX = 500
DAY_HOURS_MAX = Decimal("24")


class ServicePolicy(TimeStampedModel, ScopedModel):
    """The service rules of an organisation's subtree set by the organisation department; the
    nearest one up the tree applies, the defaults where none is set."""

    scope_path = "organization__path"

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="service_policy",
    )
    aid_approval_threshold = models.DecimalField(
        _("帮扶金额审批线（元）"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("500"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("单次帮扶金额超过此数须经上级党组织审批"),
    )

    class Meta:
        verbose_name = _("服务关怀规则")
        verbose_name_plural = _("服务关怀规则")

    def __str__(self) -> str:
        return f"{self.organization}"


# --- 双报到 ------------------------------------------------------------------------------------------


class Agreement(TimeStampedModel, ScopedModel):
    """A 共驻共建 agreement: a unit's party organisation registers with a community (a community
    party organisation in the tree, or an outside community by name) and agrees the three lists.
    Kept by the unit; the community side sees the agreements made with it."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("报到单位党组织"),
        on_delete=models.PROTECT,
        related_name="service_agreements",
    )
    community = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("社区党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="community_agreements",
    )
    community_name = models.CharField(
        _("社区名称"), max_length=100, blank=True, help_text=_("不在本系统组织树中的社区")
    )
    signed_on = models.DateField(_("签订日期"))
    ends_on = models.DateField(_("有效期至"), null=True, blank=True)
    note = models.TextField(_("说明"), max_length=NOTE_MAX, blank=True)

    class Meta:
        verbose_name = _("共驻共建协议")
        verbose_name_plural = _("共驻共建协议")
        ordering = ["organization_id", "-signed_on", "id"]

    def __str__(self) -> str:
        return f"{self.organization} — {self.community or self.community_name}"

    @property
    def community_label(self) -> str:
        return self.community.name if self.community_id and self.community else self.community_name


class AgreementItem(TimeStampedModel, ScopedModel):
    """One line of an agreement's three lists: a community need, a resource the unit offers, or an
    agreed project with its owner, due date and progress."""

    scope_path = "agreement__organization__path"

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("协议"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("清单"), max_length=16, choices=ListKind.choices)
    title = models.CharField(_("事项"), max_length=200)
    detail = models.TextField(_("内容"), max_length=NOTE_MAX, blank=True)
    owner = models.CharField(_("负责人"), max_length=50, blank=True)
    due = models.DateField(_("完成时限"), null=True, blank=True)
    status = models.CharField(
        _("进度"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.PLANNED
    )
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("清单事项")
        verbose_name_plural = _("清单事项")
        ordering = ["agreement_id", "kind", "id"]

    def __str__(self) -> str:
        return self.title


class Registration(TimeStampedModel, ScopedModel):
    """An in-service member's 报到 with the community where they live: the community (in the tree
    or by name), the post or project they chose, from when, until they end it. One registration
    in force per member."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.CASCADE,
        related_name="service_registrations",
    )
    community = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("居住地社区党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="community_registrations",
    )
    community_name = models.CharField(_("社区名称"), max_length=100, blank=True)
    agreement_item = models.ForeignKey(
        AgreementItem,
        verbose_name=_("认领项目"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    post = models.CharField(_("服务岗位"), max_length=100, blank=True)
    registered_on = models.DateField(_("报到日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("社区报到")
        verbose_name_plural = _("社区报到")
        ordering = ["member_id", "-registered_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(ended_on__isnull=True), name="registration_one_in_force"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.community_label}"

    @property
    def community_label(self) -> str:
        return self.community.name if self.community_id and self.community else self.community_name


class ServiceRecord(TimeStampedModel, ScopedModel):
    """A service a member did (in their community or elsewhere): the day, the hours, what it was;
    the community side confirms it. Hours of volunteer activities come from their attendance and
    are not recorded here a second time."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="service_records"
    )
    registration = models.ForeignKey(
        Registration,
        verbose_name=_("社区报到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
    )
    date = models.DateField(_("服务日期"))
    hours = models.DecimalField(
        _("服务时长（小时）"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(DAY_HOURS_MAX)],
    )
    kind = models.CharField(_("服务类型"), max_length=16, choices=ServiceKind.choices)
    description = models.CharField(_("服务内容"), max_length=200, blank=True)
    status = models.CharField(
        _("确认状态"), max_length=16, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    reject_reason = models.CharField(_("未确认原因"), max_length=200, blank=True)
    # The organisation under which the kept figures ``service.records`` / ``service.record_hours``
    # (organizations.SubtreeFigure) count this record now: the member's, while it is confirmed;
    # null when it counts nowhere (services.figures.records_refresh).
    counted_org = models.BigIntegerField(_("计入统计的组织"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["member", "date"], name="servicerecord_member_date_idx")]

    def __str__(self) -> str:
        return f"{self.member} {self.date} {self.hours}h"


class VolunteerActivity(TimeStampedModel, ScopedModel):
    """The volunteer side of a study activity of the type 志愿服务: what service it is, how many
    may sign up and until when. Members sign up onto the activity's roster; attendance (by the
    organiser or by QR check-in) gives each member's service hours. It credits no learning hours
    unless an organisation's credit table says so."""

    scope_path = "activity__organization__path"

    activity = models.OneToOneField(
        "study.Activity", verbose_name=_("活动"), on_delete=models.CASCADE, related_name="volunteer"
    )
    kind = models.CharField(_("服务类型"), max_length=16, choices=ServiceKind.choices)
    capacity = models.PositiveIntegerField(_("招募人数"), null=True, blank=True)
    signup_until = models.DateTimeField(_("报名截止"), null=True, blank=True)
    open_to_subtree = models.BooleanField(
        _("向下级党员开放报名"), default=True, help_text=_("本组织及下级组织的党员均可报名")
    )

    class Meta:
        verbose_name = _("志愿服务活动")
        verbose_name_plural = _("志愿服务活动")

    def __str__(self) -> str:
        return f"{self.activity}"


# --- 我为群众办实事 -----------------------------------------------------------------------------------


class Pledge(TimeStampedModel, ScopedModel):
    """我为群众办实事: what an organisation or a member pledges to do, for whom, by when; completed
    with a note and a few photos, and confirmed by the level or community that benefits."""

    scope_path = "organization__path"
    scope_self = "member__user"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.PROTECT,
        related_name="pledges",
        help_text=_("组织承诺的承诺组织；党员承诺的所在党组织"),
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("承诺党员"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pledges",
    )
    title = models.CharField(_("实事内容"), max_length=200)
    beneficiary = models.CharField(_("服务对象"), max_length=100, blank=True)
    community = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("受益社区党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="community_pledges",
        help_text=_("服务对象所在的社区党组织（可选）：该社区也可以确认办结"),
    )
    due = models.DateField(_("承诺完成时间"))
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=16, choices=PledgeStatus.choices, default=PledgeStatus.OPEN
    )
    progress = models.TextField(_("进展"), max_length=NOTE_MAX, blank=True)
    completed_on = models.DateField(_("办结日期"), null=True, blank=True)
    completion_note = models.TextField(_("办结说明"), max_length=NOTE_MAX, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Where the kept figures ``service.pledges*`` (organizations.SubtreeFigure) count this pledge
    # now, by its due month: the organisation and the status counted (services.figures).
    counted_org = models.BigIntegerField(_("计入统计的组织"), null=True, blank=True, editable=False)
    counted_status = models.CharField(_("计入统计的状态"), max_length=16, blank=True, editable=False)

    class Meta:
        verbose_name = _("为群众办实事")
        verbose_name_plural = _("为群众办实事")
        ordering = ["-year", "due", "id"]
        indexes = [models.Index(fields=["organization", "year"], name="pledge_org_year_idx")]

    def __str__(self) -> str:
        return self.title


class PledgePhoto(TimeStampedModel):
    """A photo of a completed pledge (light evidence: a few at most)."""

    pledge = models.ForeignKey(
        Pledge, verbose_name=_("实事"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("照片"), upload_to="pledges/%Y/%m/")

    class Meta:
        verbose_name = _("办结照片")
        verbose_name_plural = _("办结照片")
        ordering = ["pledge_id", "id"]

    def __str__(self) -> str:
        return f"{self.pledge} #{self.pk}"


# --- 关键小事 / 联户 -----------------------------------------------------------------------------------


class GridUnit(TimeStampedModel, ScopedModel):
    """A cell of a community's 联户 grid (片 → 组 → 楼) with its party-member contact and the
    number of households it covers. Residents appear only as household labels, never by name."""

    scope_path = "community__path"

    community = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("社区党组织"),
        on_delete=models.CASCADE,
        related_name="grid_units",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级网格"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    role = models.CharField(_("网格层级"), max_length=16, choices=GridRole.choices)
    label = models.CharField(_("网格名称"), max_length=50)
    contact = models.ForeignKey(
        "members.Member",
        verbose_name=_("联系党员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_units",
    )
    households = models.PositiveIntegerField(_("联系户数"), default=0)

    class Meta:
        verbose_name = _("联户网格")
        verbose_name_plural = _("联户网格")
        ordering = ["community_id", "parent_id", "label", "id"]

    def __str__(self) -> str:
        return self.label


class ResidentRequest(TimeStampedModel, ScopedModel):
    """A resident's request (关键小事) logged by a grid contact and followed to resolution."""

    scope_path = "unit__community__path"

    unit = models.ForeignKey(
        GridUnit, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="requests"
    )
    household = models.CharField(
        _("住户"), max_length=50, help_text=_("只写门牌等住户标识，不写居民姓名和证件")
    )
    summary = models.CharField(_("诉求"), max_length=200)
    logged_on = models.DateField(_("受理日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    handler = models.CharField(_("办理人"), max_length=50, blank=True)
    resolved_on = models.DateField(_("解决日期"), null=True, blank=True)
    resolution = models.CharField(_("办理结果"), max_length=200, blank=True)
    households_benefited = models.PositiveIntegerField(_("受益户数"), default=1)

    class Meta:
        verbose_name = _("群众诉求")
        verbose_name_plural = _("群众诉求")
        ordering = ["-logged_on", "-id"]

    def __str__(self) -> str:
        return self.summary


# --- 谈心谈话 -------------------------------------------------------------------------------------------


class Talk(TimeStampedModel, ScopedModel):
    """One 谈心谈话 between two people of a branch: the kind and the day; the short private note is
    seen only by the two and the branch committee."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="talks"
    )
    date = models.DateField(_("谈话日期"))
    kind = models.CharField(_("谈话类型"), max_length=24, choices=TalkKind.choices)
    party_a = models.ForeignKey(
        "members.Member", verbose_name=_("谈话人"), on_delete=models.CASCADE, related_name="+"
    )
    party_b = models.ForeignKey(
        "members.Member", verbose_name=_("谈话对象"), on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(_("谈话要点（不公开）"), max_length=PRIVATE_NOTE_MAX, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("谈心谈话")
        verbose_name_plural = _("谈心谈话")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["organization", "date"], name="talk_org_date_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(party_a=models.F("party_b")), name="talk_two_people")
        ]

    def __str__(self) -> str:
        return f"{self.party_a}—{self.party_b} {self.date}"


class TalkRule(TimeStampedModel, ScopedModel):
    """Which 谈心谈话 pairs an organisation's branches must hold each year (支部条例: each pair at
    least once). By default every committee member (支部委员, 书记) with every other committee
    member and with every member; the pairs of two ordinary members (党员与党员) only where the
    branch turns them on — in a branch of 50 that is 1,225 pairs. The nearest rule up the tree
    applies; without one, the default."""

    scope_path = "organization__path"

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="talk_rule",
    )
    member_pairs = models.BooleanField(
        _("党员与党员之间也须两两谈话"),
        default=False,
        help_text=_("不勾选时，只统计委员与委员、委员与党员之间的谈话"),
    )

    class Meta:
        verbose_name = _("谈心谈话要求")
        verbose_name_plural = _("谈心谈话要求")

    def __str__(self) -> str:
        return f"{self.organization}"


# --- 关怀帮扶 -------------------------------------------------------------------------------------------


class CareCase(TimeStampedModel, ScopedModel):
    """A member in difficulty the branch cares for: why, since when, until when. Sensitive: seen
    only with the care action, every view audited."""

    scope_path = "member__org_path"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="care_cases"
    )
    kind = models.CharField(_("困难类型"), max_length=16, choices=DifficultyKind.choices)
    since = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("情况说明（不公开）"), max_length=PRIVATE_NOTE_MAX, blank=True)

    class Meta:
        verbose_name = _("困难党员")
        verbose_name_plural = _("困难党员")
        ordering = ["member_id", "-since", "id"]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()}"


class CareVisit(TimeStampedModel, ScopedModel):
    """A care visit or aid to a member (节日走访, 慰问金, 慰问品, 帮扶): the day, who went, the kind,
    the amount and where the money came from. An amount above the subtree's threshold needs the
    approval of the level above before it counts as given; the level above may instead refuse it
    (不予批准) with a reason, and then it never counts."""

    scope_path = "member__org_path"

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="care_visits"
    )
    case = models.ForeignKey(
        CareCase,
        verbose_name=_("困难党员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    date = models.DateField(_("日期"))
    occasion = models.CharField(_("事由"), max_length=50, blank=True, help_text=_("如 春节走访、七一慰问"))
    visitors = models.CharField(_("走访人"), max_length=100, blank=True)
    aid_kind = models.CharField(_("帮扶方式"), max_length=16, choices=AidKind.choices)
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices, blank=True)
    needs_approval = models.BooleanField(_("须审批"), default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("不予批准人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rejected_at = models.DateTimeField(_("不予批准时间"), null=True, blank=True)
    rejection_reason = models.CharField(_("不予批准理由"), max_length=200, blank=True)
    note = models.CharField(_("情况（不公开）"), max_length=PRIVATE_NOTE_MAX, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("关怀走访")
        verbose_name_plural = _("关怀走访")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.date}"

    @property
    def awaiting_decision(self) -> bool:
        """Above the threshold and neither approved nor refused by the level above yet."""
        return self.needs_approval and self.approved_at is None and self.rejected_at is None

    @property
    def approval_label(self) -> str:
        """Where the visit stands with the level above, in words (pages and exports)."""
        if not self.needs_approval:
            return "无需审批"
        if self.approved_at is not None:
            return "已审批"
        if self.rejected_at is not None:
            return f"不予批准（{self.rejection_reason}）"
        return "待上级审批"


class CarePair(TimeStampedModel, ScopedModel):
    """老带青 / 青帮老: an older and a younger member paired to guide or help each other."""

    scope_path = "elder__org_path"

    elder = models.ForeignKey(
        "members.Member", verbose_name=_("老党员"), on_delete=models.CASCADE, related_name="+"
    )
    younger = models.ForeignKey(
        "members.Member", verbose_name=_("青年党员"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("结对类型"), max_length=20, choices=PairKind.choices)
    since = models.DateField(_("结对日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["elder_id", "-since", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(elder=models.F("younger")), name="carepair_two_people")
        ]

    def __str__(self) -> str:
        return f"{self.elder}—{self.younger}"


# --- 党群服务中心 ---------------------------------------------------------------------------------------


class Centre(TimeStampedModel, ScopedModel):
    """A party service centre (党群活动服务中心) or teaching site that lends rooms to units."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("管理党组织"),
        on_delete=models.PROTECT,
        related_name="service_centres",
    )
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    requires_approval = models.BooleanField(_("预约须审核"), default=True)
    is_active = models.BooleanField(_("开放"), default=True)

    class Meta:
        verbose_name = _("党群服务中心")
        verbose_name_plural = _("党群服务中心")
        ordering = ["organization_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Room(TimeStampedModel, ScopedModel):
    """A room of a centre and how many people it holds."""

    scope_path = "centre__organization__path"

    centre = models.ForeignKey(
        Centre, verbose_name=_("服务中心"), on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(_("名称"), max_length=100)
    capacity = models.PositiveIntegerField(_("容纳人数"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("开放"), default=True)

    class Meta:
        verbose_name = _("活动室")
        verbose_name_plural = _("活动室")
        ordering = ["centre_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.centre} {self.name}"


class Booking(TimeStampedModel, ScopedModel):
    """A unit's booking of a room for a slot: refused when it overlaps a booking that holds the
    room or exceeds its capacity; approved by the centre where it requires approval; the activity
    held there takes the room as its place."""

    # Kept by the booking unit; the centre sees the bookings of its rooms (selectors).
    scope_path = "organization__path"

    room = models.ForeignKey(
        Room, verbose_name=_("活动室"), on_delete=models.PROTECT, related_name="bookings"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("预约单位"),
        on_delete=models.PROTECT,
        related_name="room_bookings",
    )
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    attendees = models.PositiveIntegerField(_("人数"), validators=[MinValueValidator(1)])
    purpose = models.CharField(_("用途"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预约人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    activity = models.OneToOneField(
        "study.Activity",
        verbose_name=_("活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booking",
    )

    class Meta:
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        ordering = ["room_id", "start", "id"]
        indexes = [models.Index(fields=["room", "start"], name="booking_room_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.start:%Y-%m-%d %H:%M}"

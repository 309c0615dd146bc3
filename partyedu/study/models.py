"""Organisational life and study: plans issued from above, activities held by organisations, the
attendance of each expected member, training classes, and the places where study happens."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel

from .choices import (
    ActivityType,
    AttendanceMethod,
    AttendanceStatus,
    CadenceLevel,
    CadencePeriod,
    CentralGroupRole,
    FileKind,
    PlanKind,
    SiteKind,
    TeachingFormat,
)


class StudyPlan(TimeStampedModel, ScopedModel):
    """A study plan (年度学习计划 or 专题学习计划) issued by an organisation to its whole subtree;
    every branch below sees it and covers its required topics with activities."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("下发组织"),
        on_delete=models.PROTECT,
        related_name="study_plans",
    )
    title = models.CharField(_("计划名称"), max_length=200)
    kind = models.CharField(_("计划类型"), max_length=16, choices=PlanKind.choices, default=PlanKind.ANNUAL)
    year = models.PositiveSmallIntegerField(_("年度"))
    description = models.TextField(_("说明"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("学习计划")
        verbose_name_plural = _("学习计划")
        ordering = ["-year", "-id"]

    def __str__(self) -> str:
        return self.title


class RequiredTopic(TimeStampedModel):
    """A required topic (必修课) of a study plan, to be covered by every branch by its deadline."""

    plan = models.ForeignKey(
        StudyPlan, verbose_name=_("学习计划"), on_delete=models.CASCADE, related_name="topics"
    )
    title = models.CharField(_("专题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    due_date = models.DateField(_("完成期限"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("必修专题")
        verbose_name_plural = _("必修专题")
        ordering = ["plan_id", "sort_order", "id"]

    def __str__(self) -> str:
        return self.title


class TeachingSite(TimeStampedModel, ScopedModel):
    """A place of teaching in a party school network, kept by the organisation that runs it.
    "1+5+N": one main party school (主阵地), five teaching sites (教学点), N 现场教学点 (on-site
    teaching points such as a community service station). 流动课堂 is a teaching format of an
    activity (``Activity.teaching_format``), not a place."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        related_name="teaching_sites",
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=SiteKind.choices, default=SiteKind.SITE)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("可容纳人数"), null=True, blank=True)
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("教学点")
        verbose_name_plural = _("教学点")
        ordering = ["organization_id", "name"]

    def __str__(self) -> str:
        return self.name


class EducationBase(TimeStampedModel, ScopedModel):
    """An education base (红色教育基地, 廉政教育基地 …) registered by an organisation; visits are
    activities of type 现场教学 held there."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("登记组织"),
        on_delete=models.PROTECT,
        related_name="education_bases",
    )
    name = models.CharField(_("名称"), max_length=100)
    base_type = models.CharField(_("基地类型"), max_length=50, default="红色教育基地")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("教育基地")
        verbose_name_plural = _("教育基地")
        ordering = ["organization_id", "name"]

    def __str__(self) -> str:
        return self.name


class TrainingClass(TimeStampedModel, ScopedModel):
    """A training class (培训班) run by an organisation: enrolled members, a schedule of sessions
    (each session an activity of type 培训班), and a completion rule."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="training_classes",
    )
    name = models.CharField(_("班次名称"), max_length=200)
    start_date = models.DateField(_("开班日期"))
    end_date = models.DateField(_("结业日期"))
    schedule = models.CharField(
        _("上课安排"), max_length=200, blank=True, help_text=_("如：每周二、周四晚 19:00–21:00")
    )
    site = models.ForeignKey(
        TeachingSite,
        verbose_name=_("教学点"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="classes",
    )
    completion_ratio = models.DecimalField(
        _("结业出勤比例"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        help_text=_("如 0.80 表示出勤不少于80%"),
    )
    is_online = models.BooleanField(_("网上班级"), default=False)

    class Meta:
        verbose_name = _("培训班")
        verbose_name_plural = _("培训班")
        ordering = ["-start_date", "id"]

    def __str__(self) -> str:
        return self.name


class ClassEnrollment(TimeStampedModel, ScopedModel):
    """A member enrolled in a training class."""

    scope_path = "training_class__organization__path"

    training_class = models.ForeignKey(
        TrainingClass, verbose_name=_("培训班"), on_delete=models.CASCADE, related_name="enrollments"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("学员"), on_delete=models.CASCADE, related_name="class_enrollments"
    )

    class Meta:
        verbose_name = _("培训班学员")
        verbose_name_plural = _("培训班学员")
        constraints = [
            models.UniqueConstraint(fields=["training_class", "member"], name="class_enrollment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.training_class} · {self.member}"


class Activity(TimeStampedModel, ScopedModel):
    """One occurrence of organisational life or study held by an organisation (a meeting, a
    lecture, a themed party day, a class session, study brought to a frail member's home …);
    attendance is recorded per expected member, and learning hours are derived from it."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    activity_type = models.CharField(_("活动类型"), max_length=32, choices=ActivityType.choices)
    teaching_format = models.CharField(
        _("教学形式"),
        max_length=16,
        choices=TeachingFormat.choices,
        blank=True,
        help_text=_("讲授式、研讨式、现场教学、流动课堂等，可不填"),
    )
    topic = models.CharField(_("主题"), max_length=200)
    start = models.DateTimeField(_("开始时间"), db_index=True)
    end = models.DateTimeField(_("结束时间"))
    site = models.ForeignKey(
        TeachingSite,
        verbose_name=_("教学点"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    education_base = models.ForeignKey(
        EducationBase,
        verbose_name=_("教育基地"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    place = models.CharField(_("地点"), max_length=200, blank=True)
    host = models.CharField(_("主持人"), max_length=50, blank=True)
    recorder = models.CharField(_("记录人"), max_length=50, blank=True)
    required_topic = models.ForeignKey(
        RequiredTopic,
        verbose_name=_("对应必修专题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    minutes = models.TextField(_("会议记录"), blank=True)
    credited_hours = models.DecimalField(
        _("认定学时"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("留空则按时长折算：1小时=1学时，半天=4，全天=8"),
    )
    # Meetings whose type credits only their study part (支部党员大会, 党小组会 by default): the
    # recorder enters how long the study took; none counts as 0 (learning.conversion).
    study_minutes = models.PositiveIntegerField(
        _("学习时长（分钟）"),
        null=True,
        blank=True,
        help_text=_("支部党员大会、党小组会只计其中集中学习的时间；不填则不计学时"),
    )
    checkin_opens_at = models.DateTimeField(_("签到开始"), null=True, blank=True)
    checkin_closes_at = models.DateTimeField(_("签到截止"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("学习活动")
        verbose_name_plural = _("学习活动")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["organization", "start"], name="activity_org_start_idx"),
            # The coverage of a plan's topics reads (topic, organisation) pairs from the index alone.
            models.Index(fields=["required_topic", "organization"], name="activity_topic_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_type_display()}：{self.topic}"


class ActivityFile(TimeStampedModel):
    """A photo (up to 9) or the sign-in sheet scan of an activity: light evidence, no more."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=FileKind.choices, default=FileKind.PHOTO)
    file = models.ImageField(_("图片"), upload_to="activities/%Y/%m/")

    class Meta:
        verbose_name = _("活动图片")
        verbose_name_plural = _("活动图片")
        ordering = ["activity_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.activity} · {self.get_kind_display()}"


class Attendance(TimeStampedModel, ScopedModel):
    """One expected participant of an activity (a member of the roster, or an invitee 列席) and
    how they attended. Learning hours are derived from these rows."""

    scope_path = "activity__organization__path"
    scope_self = "member__user"

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="attendances"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="attendances"
    )
    is_invitee = models.BooleanField(_("列席"), default=False)
    status = models.CharField(
        _("出勤情况"),
        max_length=16,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.UNMARKED,
        blank=True,
    )
    method = models.CharField(_("登记方式"), max_length=16, choices=AttendanceMethod.choices, blank=True)
    marked_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    makeup_confirmed_at = models.DateTimeField(_("补学确认时间"), null=True, blank=True)
    makeup_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("补学确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("出勤")
        verbose_name_plural = _("出勤")
        ordering = ["activity_id", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="attendance_unique")]
        indexes = [models.Index(fields=["member", "activity"], name="attendance_member_idx")]

    def __str__(self) -> str:
        return f"{self.activity} · {self.member} · {self.get_status_display()}"


class StudyMaterial(TimeStampedModel, ScopedModel):
    """Printed study material handed out to members (人手一册); distribution is recorded per member."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("发放组织"),
        on_delete=models.PROTECT,
        related_name="study_materials",
    )
    title = models.CharField(_("材料名称"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))

    class Meta:
        verbose_name = _("学习材料")
        verbose_name_plural = _("学习材料")
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return self.title


class MaterialDistribution(TimeStampedModel, ScopedModel):
    """One copy of a study material handed to one member."""

    scope_path = "member__org_path"

    material = models.ForeignKey(
        StudyMaterial, verbose_name=_("学习材料"), on_delete=models.CASCADE, related_name="distributions"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.CASCADE,
        related_name="material_distributions",
    )
    distributed_on = models.DateField(_("发放日期"))

    class Meta:
        verbose_name = _("材料发放")
        verbose_name_plural = _("材料发放")
        constraints = [
            models.UniqueConstraint(fields=["material", "member"], name="material_distribution_unique")
        ]

    def __str__(self) -> str:
        return f"{self.material} · {self.member}"


class CadenceRule(TimeStampedModel, ScopedModel):
    """How often each organisation of one kind (every 党支部, every 党小组, or every 党委/党组/党工委)
    in an organisation's subtree must hold an activity type: at least ``min_count`` times in every
    period. It overrides the DOMAIN_RULES defaults (``selectors.DEFAULT_CADENCE``: 主题党日 monthly,
    支部党员大会 and 党课 quarterly, 党小组会 monthly, 中心组学习 twice a quarter …) and any rule
    set above; the nearest rule up the tree wins, and ``min_count`` 0 lifts the requirement. Set by
    the organisation departments (policy), never by a branch for itself."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("适用组织"),
        on_delete=models.CASCADE,
        related_name="cadence_rules",
    )
    applies_to = models.CharField(
        _("适用于"),
        max_length=16,
        choices=CadenceLevel.choices,
        default=CadenceLevel.BRANCH,
        help_text=_("该组织及其下级组织中哪一类组织应开展"),
    )
    activity_type = models.CharField(_("活动类型"), max_length=32, choices=ActivityType.choices)
    period = models.CharField(_("周期"), max_length=16, choices=CadencePeriod.choices)
    min_count = models.PositiveSmallIntegerField(
        _("每个周期至少（次）"), default=1, help_text=_("0 表示不要求开展")
    )

    class Meta:
        verbose_name = _("组织生活频次")
        verbose_name_plural = _("组织生活频次")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "applies_to", "activity_type"], name="cadence_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_activity_type_display()}"


MONTH_FIELDS = tuple(f"m{n}" for n in range(1, 13))


class ActivityMonthCount(models.Model):
    """How many activities of one type were held in each month of a year for an organisation, as
    the cadence report counts them: a party group's 党小组会 for the group itself (each group must
    hold its own), the group's other activities for its branch (they count toward the branch's
    requirements), every other organisation's for itself. A summary kept by the activity services
    in the activity's transaction (and by the organisation move of a party group);
    ``services.activity_counts_rebuild`` proves it equals the activities. The cadence report of a
    city reads these rows instead of grouping a year of activities on every view."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("计入组织"),
        on_delete=models.CASCADE,
        related_name="activity_month_counts",
        help_text=_("举办活动的组织；党小组的党小组会计入党小组本身，其他活动计入所在党支部"),
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    activity_type = models.CharField(_("活动类型"), max_length=32, choices=ActivityType.choices)
    m1 = models.IntegerField(_("1月"), default=0)
    m2 = models.IntegerField(_("2月"), default=0)
    m3 = models.IntegerField(_("3月"), default=0)
    m4 = models.IntegerField(_("4月"), default=0)
    m5 = models.IntegerField(_("5月"), default=0)
    m6 = models.IntegerField(_("6月"), default=0)
    m7 = models.IntegerField(_("7月"), default=0)
    m8 = models.IntegerField(_("8月"), default=0)
    m9 = models.IntegerField(_("9月"), default=0)
    m10 = models.IntegerField(_("10月"), default=0)
    m11 = models.IntegerField(_("11月"), default=0)
    m12 = models.IntegerField(_("12月"), default=0)

    class Meta:
        verbose_name = _("组织生活开展次数")
        verbose_name_plural = _("组织生活开展次数")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "activity_type"], name="activity_month_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.activity_type}"

    @property
    def months(self) -> list[int]:
        return [getattr(self, name) for name in MONTH_FIELDS]


ATTENDED_FIELDS = tuple(f"a{n}" for n in range(1, 13))


class ActivityFigures(models.Model):
    """The activities an organisation *and everything below it* held of one type in each month of
    a year (``m1``–``m12``, by start in local time, scheduled ones included) and the attendance
    person-times (人次: rows marked 出席 or 迟到, ``ATTENDED_STATUSES``) of those activities
    (``a1``–``a12``): cumulative, like ``Organization.member_count``, so that a supervision
    dashboard reads an organisation's rows and its children's instead of adding up a city. Kept
    by ``services.activity_figures_sync`` in the transaction of every change to an activity or
    its attendance, by increments added to the holding organisation and every ancestor, from
    ``ActivityTally``; a moved subtree takes its figures along (``activity_figures_org_moved``);
    ``activity_figures_rebuild`` proves it."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("举办组织"),
        on_delete=models.CASCADE,
        related_name="activity_figures",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    activity_type = models.CharField(_("活动类型"), max_length=32, choices=ActivityType.choices)
    m1 = models.IntegerField(_("1月活动"), default=0)
    m2 = models.IntegerField(_("2月活动"), default=0)
    m3 = models.IntegerField(_("3月活动"), default=0)
    m4 = models.IntegerField(_("4月活动"), default=0)
    m5 = models.IntegerField(_("5月活动"), default=0)
    m6 = models.IntegerField(_("6月活动"), default=0)
    m7 = models.IntegerField(_("7月活动"), default=0)
    m8 = models.IntegerField(_("8月活动"), default=0)
    m9 = models.IntegerField(_("9月活动"), default=0)
    m10 = models.IntegerField(_("10月活动"), default=0)
    m11 = models.IntegerField(_("11月活动"), default=0)
    m12 = models.IntegerField(_("12月活动"), default=0)
    a1 = models.IntegerField(_("1月出勤人次"), default=0)
    a2 = models.IntegerField(_("2月出勤人次"), default=0)
    a3 = models.IntegerField(_("3月出勤人次"), default=0)
    a4 = models.IntegerField(_("4月出勤人次"), default=0)
    a5 = models.IntegerField(_("5月出勤人次"), default=0)
    a6 = models.IntegerField(_("6月出勤人次"), default=0)
    a7 = models.IntegerField(_("7月出勤人次"), default=0)
    a8 = models.IntegerField(_("8月出勤人次"), default=0)
    a9 = models.IntegerField(_("9月出勤人次"), default=0)
    a10 = models.IntegerField(_("10月出勤人次"), default=0)
    a11 = models.IntegerField(_("11月出勤人次"), default=0)
    a12 = models.IntegerField(_("12月出勤人次"), default=0)

    class Meta:
        verbose_name = _("组织活动与出勤月度汇总")
        verbose_name_plural = _("组织活动与出勤月度汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "activity_type"], name="activity_figures_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.activity_type}"


class ActivityTally(models.Model):
    """What ``ActivityFigures`` counts of one activity, as last added: its organisation, month and
    type, and its attendance person-times. A change to the activity or its attendance is applied
    as the difference between this row and the activity's new state; the ids are plain numbers,
    not foreign keys, so the row outlives a deleted activity until that deletion is applied."""

    activity_id = models.BigIntegerField(_("活动"), primary_key=True)
    organization_id = models.BigIntegerField(_("举办组织"))
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    activity_type = models.CharField(_("活动类型"), max_length=32)
    attended = models.PositiveIntegerField(_("出勤人次"), default=0)

    class Meta:
        verbose_name = _("活动计数")
        verbose_name_plural = _("活动计数")

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.attended}"


class CentralGroupMembership(TimeStampedModel, ScopedModel):
    """A place in the standing 理论学习中心组 of a 党委, 党组 or 党工委: the leaders who study
    together at its 中心组学习 (组长 — usually the secretary —, 副组长, 成员), and standing 列席.
    Its members may belong to branches anywhere in the organisation's subtree (a leader is
    registered in the branch of the office they work in). The list is the default roster of the
    organisation's 中心组学习; scoped by the organisation's path."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党委（党组）"),
        on_delete=models.CASCADE,
        related_name="central_group_memberships",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("成员"),
        on_delete=models.CASCADE,
        related_name="central_group_memberships",
    )
    role = models.CharField(
        _("中心组职务"), max_length=16, choices=CentralGroupRole.choices, default=CentralGroupRole.MEMBER
    )
    since = models.DateField(_("加入日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("如：党委副书记、纪委书记"))

    class Meta:
        verbose_name = _("中心组成员")
        verbose_name_plural = _("中心组成员")
        ordering = ["organization_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "member"], name="central_group_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.member} · {self.get_role_display()}"

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemKind(models.TextChoices):
    EARN = "earn", _("加分")
    DEDUCT = "deduct", _("扣分（负面清单）")


class ItemSource(models.TextChoices):
    """Where an item's points come from: a record the platform already keeps, or a secretary's
    manual award or deduction. Nothing that rewards time online, logins or check-in streaks
    (``FORBIDDEN_SOURCES``)."""

    ATTENDANCE = "attendance", _("参加组织生活/学习活动")
    MAKEUP = "makeup", _("补学（已确认）")
    LECTURE = "lecture", _("讲党课")
    EXAM_PASS = "exam_pass", _("考试合格")
    RESOURCE = "resource", _("网上学习资源学完")
    # Per hour of service: the community-confirmed service records and the clock hours of the
    # volunteer activities attended (服务与关怀). Never time online.
    SERVICE_HOURS = "service_hours", _("志愿服务时长")
    MANUAL = "manual", _("书记手工加减分")


class Audience(models.TextChoices):
    """Whom a scheme scores: party members (预备党员 and 正式党员), or the people the branch is
    developing (入党积极分子 and 发展对象), whose ordered totals are one input of 积分择优."""

    MEMBERS = "members", _("党员")
    CANDIDATES = "candidates", _("入党积极分子和发展对象")


# Member statuses each audience covers (members.choices.MemberStatus values).
AUDIENCE_STATUSES: dict[str, tuple[str, ...]] = {
    "members": ("probationary", "full"),
    "candidates": ("activist", "candidate"),
}


class CapPeriod(models.TextChoices):
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


# Codes and words that name what central rules forbid rewarding (no online-time points, no forced
# daily logins or check-in streaks: DESIGN.md §3.5, DOMAIN_RULES "Points schemes"). A scheme item
# whose source, code or name matches one of them is refused, whatever the source field says.
FORBIDDEN_SOURCES: tuple[str, ...] = (
    "online_time",
    "time_online",
    "online_duration",
    "online_minutes",
    "study_time",
    "login",
    "logon",
    "signin",
    "sign_in",
    "streak",
    "daily_checkin",
    "daily_check_in",
    "checkin_streak",
    "daily",
)
FORBIDDEN_WORDS: tuple[str, ...] = (
    "在线时长",
    "在线时间",
    "登录",
    "登陆",
    "连续签到",
    "每日签到",
    "打卡",
    "连签",
)

# Attendance statuses an attendance item counts by default: present or late earns, absent deducts.
DEFAULT_EARN_STATUSES = ("present", "late")
DEFAULT_DEDUCT_STATUSES = ("absent",)


class EntrySource(models.TextChoices):
    """Where a ledger line comes from: an item's source (``ItemSource``, the same values), or an
    upheld objection to a publication (异议更正), which is never an item's source: a scheme cannot
    choose it, only the secretary's answer to an objection creates one."""

    ATTENDANCE = "attendance", _("参加组织生活/学习活动")
    MAKEUP = "makeup", _("补学（已确认）")
    LECTURE = "lecture", _("讲党课")
    EXAM_PASS = "exam_pass", _("考试合格")
    RESOURCE = "resource", _("网上学习资源学完")
    # An item of source SERVICE_HOURS credits two kinds of source with ids of their own: a
    # confirmed service record (this one) and an attendance at a volunteer activity (VOLUNTEER).
    SERVICE_HOURS = "service_hours", _("志愿服务时长")
    VOLUNTEER = "volunteer", _("志愿服务活动")
    MANUAL = "manual", _("书记手工加减分")
    OBJECTION = "objection", _("异议更正")


class PublicationPeriod(models.TextChoices):
    """What a publication (公示) shows: the first half of the year (January to June) or the year."""

    H1 = "h1", _("上半年")
    YEAR = "year", _("全年")


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    UPHELD = "upheld", _("异议成立，已更正")
    REJECTED = "rejected", _("异议不成立")


class VetoCategory(models.TextChoices):
    """Why a member's year is set aside (一票否决, DOMAIN_RULES: veto conditions set the year to 0)."""

    DISCIPLINE = "discipline", _("违纪")
    CRIME = "crime", _("违法")
    OTHER = "other", _("其他")


# Publication length in days: the default and the bounds a branch may choose.
PUBLICATION_DAYS_DEFAULT = 7
PUBLICATION_DAYS_MIN = 1
PUBLICATION_DAYS_MAX = 30
# The bands of the distribution by child organisation: (lower bound or None, upper bound or None,
# label); a total falls in the band with lower <= total < upper.
TOTAL_BANDS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 60, "60分以下"),
    (60, 70, "60–69分"),
    (70, 80, "70–79分"),
    (80, 90, "80–89分"),
    (90, None, "90分及以上"),
)

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
    MANUAL = "manual", _("书记手工加减分")


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

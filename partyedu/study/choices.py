from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityType(models.TextChoices):
    BRANCH_ASSEMBLY = "branch_assembly", _("支部党员大会")
    BRANCH_COMMITTEE = "branch_committee", _("支委会")
    GROUP_MEETING = "group_meeting", _("党小组会")
    PARTY_LECTURE = "party_lecture", _("党课")
    THEME_DAY = "theme_day", _("主题党日")
    ORG_LIFE_MEETING = "org_life_meeting", _("组织生活会")
    DEMOCRATIC_EVALUATION = "democratic_evaluation", _("民主评议")
    CENTRAL_GROUP_STUDY = "central_group_study", _("中心组学习")
    READING_CLASS = "reading_class", _("专题读书班")
    TRAINING_SESSION = "training_session", _("培训班")
    SITE_VISIT = "site_visit", _("现场教学")
    HOME_DELIVERY = "home_delivery", _("送学上门")
    ONLINE_CLASS = "online_class", _("网上班级")
    VOLUNTEER_SERVICE = "volunteer_service", _("志愿服务")
    OTHER = "other", _("其他")


class AttendanceStatus(models.TextChoices):
    UNMARKED = "", _("未登记")
    PRESENT = "present", _("出席")
    LATE = "late", _("迟到")
    LEAVE = "leave", _("请假")
    ABSENT = "absent", _("缺席")
    MAKEUP = "makeup", _("补学")


# Statuses that credit hours (补学 only once the secretary has confirmed it).
ATTENDED_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class AttendanceMethod(models.TextChoices):
    ROSTER = "roster", _("名册登记")
    QR = "qr", _("扫码签到")
    IMPORT = "import", _("导入")
    API = "api", _("接口")


class PlanKind(models.TextChoices):
    ANNUAL = "annual", _("年度学习计划")
    THEMATIC = "thematic", _("专题学习计划")


class SiteKind(models.TextChoices):
    """The places of a "1+5+N" party school network: one main school (主阵地), its teaching sites
    (教学点) and N on-site teaching points (现场教学点). 流动课堂 is a way of teaching (a
    ``TeachingFormat``), not a kind of place."""

    MAIN = "main", _("主阵地（党校）")
    SITE = "site", _("教学点")
    FIELD_SITE = "field_site", _("现场教学点")
    OTHER = "other", _("其他")


class TeachingFormat(models.TextChoices):
    """How an activity teaches (教学形式), recorded per activity and counted in the statistics;
    blank when not recorded (未填)."""

    LECTURE = "lecture", _("讲授式")
    SEMINAR = "seminar", _("研讨式")
    CASE = "case", _("案例式")
    SCENARIO = "scenario", _("情景式")
    ON_SITE = "on_site", _("现场教学")
    EXPERIENCE = "experience", _("体验式")
    CONVERSATION = "conversation", _("谈话式")
    MOBILE = "mobile", _("流动课堂（项目拉练、现场观摩）")


# The filter value (lists, statistics, API) for activities whose format was not recorded (未填):
# the stored value is blank, and a blank filter means "any format".
FORMAT_BLANK = "none"


def stored_format(value: str) -> str:
    """The stored teaching format that a filter value stands for."""
    return "" if value == FORMAT_BLANK else value


class FileKind(models.TextChoices):
    PHOTO = "photo", _("现场照片")
    SIGN_IN_SHEET = "sign_in_sheet", _("签到表")


MAX_PHOTOS = 9


class CentralGroupRole(models.TextChoices):
    """A place in a 党委(党组)理论学习中心组: 组长 (usually the secretary), 副组长, 成员, and
    列席 — standing invitees who attend without being members."""

    LEADER = "leader", _("组长")
    DEPUTY = "deputy", _("副组长")
    MEMBER = "member", _("成员")
    ATTENDEE = "attendee", _("列席")


# The roles that make up the roster of a 中心组学习; 列席 are invitees.
CENTRAL_GROUP_ROSTER_ROLES = (CentralGroupRole.LEADER, CentralGroupRole.DEPUTY, CentralGroupRole.MEMBER)


class CadencePeriod(models.TextChoices):
    """The period a cadence rule counts over: ISO weeks (GB/T 7408), or months, quarters and
    halves of the calendar year, or the whole year."""

    WEEK = "week", _("每周")
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    HALF_YEAR = "half_year", _("每半年")
    YEAR = "year", _("每年")


class CadenceLevel(models.TextChoices):
    """The kind of organisation a cadence rule applies to: every 党支部, every 党小组 (each on
    its own), or every 党委, 党组 and 党工委 of the subtree."""

    BRANCH = "branch", _("党支部")
    GROUP = "group", _("党小组")
    COMMITTEE = "committee", _("党委（党组、党工委）")


# The activity types a party group holds for itself: they count for the group (each group must
# hold its own), while the group's other activities count for its branch.
GROUP_OWN_TYPES: frozenset[str] = frozenset({ActivityType.GROUP_MEETING})

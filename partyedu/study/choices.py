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
    MAIN = "main", _("主阵地（党校）")
    SITE = "site", _("教学点")
    CLASSROOM = "classroom", _("流动课堂")
    OTHER = "other", _("其他")


class FileKind(models.TextChoices):
    PHOTO = "photo", _("现场照片")
    SIGN_IN_SHEET = "sign_in_sheet", _("签到表")


MAX_PHOTOS = 9

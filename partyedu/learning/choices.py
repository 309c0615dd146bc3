from django.db import models
from django.utils.translation import gettext_lazy as _


class HourKind(models.TextChoices):
    CONCENTRATED = "concentrated", _("集中培训")
    COLLECTIVE = "collective", _("集体学习")
    ONLINE = "online", _("网络学习")
    SELF = "self", _("自学")


class SourceType(models.TextChoices):
    ATTENDANCE = "attendance", _("活动出勤")
    RESOURCE = "resource", _("网上学习")
    MANUAL = "manual", _("手工登记")
    # A passed exam that its organiser set to credit hours (exams, through the
    # ``learning.hour_sources`` hook); the source id is the member's first attempt at the exam.
    EXAM = "exam", _("考试")


class ResourceKind(models.TextChoices):
    VIDEO = "video", _("视频")
    AUDIO = "audio", _("音频")
    COURSEWARE = "courseware", _("课件（PDF）")
    ARTICLE = "article", _("文章")


# Kinds whose duration is the playing time of their file (read from it where possible).
MEDIA_KINDS = (ResourceKind.VIDEO, ResourceKind.AUDIO)


class RequirementGroup(models.TextChoices):
    """Which annual requirement applies to a member (DOMAIN_RULES: 学时)."""

    GENERAL = "general", _("党员")
    CADRE = "cadre", _("基层党组织书记、支部委员")
    CANDIDATE = "candidate", _("发展对象")
    EXEMPT = "exempt", _("免于硬性要求")
    NONE = "none", _("不作要求")


# Groups that have an annual (calendar-year) requirement to meet: exempt members are reported
# apart, never as short; 发展对象 too, because their training is counted over the candidate period
# (确定为发展对象 → 接收为预备党员, across years: ``learning.candidates``), not per calendar year.
REQUIRED_GROUPS = (RequirementGroup.GENERAL, RequirementGroup.CADRE)


class CreditMode(models.TextChoices):
    """How attending an activity of a type credits learning hours (DOMAIN_RULES 学时 "Activities
    that credit hours"; local, set per subtree in ``ActivityCreditRule``)."""

    FULL = "full", _("按时长计学时")
    STUDY_PART = "study_part", _("只计学习部分")
    NONE = "none", _("不计学时")

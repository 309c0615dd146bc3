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


class ResourceKind(models.TextChoices):
    VIDEO = "video", _("视频")
    AUDIO = "audio", _("音频")
    COURSEWARE = "courseware", _("课件（PDF）")
    ARTICLE = "article", _("文章")

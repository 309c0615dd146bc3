from django.db import models
from django.utils.translation import gettext_lazy as _


class CompetitionStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    FINISHED = "finished", _("已结束")


class RoundStatus(models.TextChoices):
    PENDING = "pending", _("未开始")
    OPEN = "open", _("报名/评审中")
    CLOSED = "closed", _("已结束")


class Aggregation(models.TextChoices):
    MEAN = "mean", _("平均分")
    TRIMMED_MEAN = "trimmed_mean", _("去掉最高最低分后平均")
    ZSCORE = "zscore", _("评委标准分（z 分数）")


class EntrySource(models.TextChoices):
    SELF = "self", _("个人自荐")
    RECOMMENDED = "recommended", _("组织推荐")


class AwardKind(models.TextChoices):
    LECTURE = "lecture", _("优秀党课")
    LECTURER = "lecturer", _("优秀主讲人")
    ORGANIZATION = "organization", _("优秀组织单位")

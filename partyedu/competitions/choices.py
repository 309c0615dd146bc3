from django.db import models
from django.utils.translation import gettext_lazy as _


class CompetitionKind(models.TextChoices):
    """What a competition record is for: a 党课 competition run here, or the award record of a
    knowledge contest (知识竞赛, run by the exams app), which only holds its awards and certificates."""

    LECTURE = "lecture", _("党课评选")
    CONTEST = "contest", _("知识竞赛")


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


class GradeSet(models.TextChoices):
    """The grades (等次) an organiser names awards in, chosen per competition."""

    SINGLE = "single", _("不分等次（优秀）")
    RANKED = "ranked", _("一等奖、二等奖、三等奖")
    QUALITY = "quality", _("精品、优秀")
    CUSTOM = "custom", _("自定义等次")


# The grades of each preset, best first. SINGLE is how every competition named its awards before
# grades existed: one grade, so “优秀” + “党课” reads 优秀党课.
GRADE_PRESETS: dict[str, list[str]] = {
    GradeSet.SINGLE: ["优秀"],
    GradeSet.RANKED: ["一等奖", "二等奖", "三等奖"],
    GradeSet.QUALITY: ["精品", "优秀"],
}


class ConflictRule(models.TextChoices):
    """Which entries a reviewer must not score (回避)."""

    SUBTREE = "subtree", _("本人所在组织及其下级的作品回避")
    UNIT = "unit", _("本人所在单位（主办组织的下一级）的作品整体回避")

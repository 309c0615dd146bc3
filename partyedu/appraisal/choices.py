from django.db import models
from django.utils.translation import gettext_lazy as _


class StepCode(models.TextChoices):
    """The steps of 民主评议党员 in their fixed order (条例 第十八条; DOMAIN_RULES "Cadence")."""

    SELF = "self", _("自我评价")
    PEER = "peer", _("民主评议（党员互评）")
    VOTE = "vote", _("民主测评投票")
    DECIDE = "decide", _("支部委员会研究决定")
    REPORT = "report", _("上报上级党组织")


# The order a step opens in: a step opens only after the one before it closed.
STEP_ORDER: tuple[str, ...] = tuple(StepCode.values)


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASICALLY_QUALIFIED = "basically_qualified", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")


# When the most-voted grade of an appraisee is tied, the decide form proposes the more moderate
# one (合格 before the extremes): the committee decides, the default only saves typing.
TIE_PREFERENCE: dict[str, int] = {
    Grade.QUALIFIED: 3,
    Grade.BASICALLY_QUALIFIED: 2,
    Grade.EXCELLENT: 1,
    Grade.UNQUALIFIED: 0,
}


class AppraisalStatus(models.TextChoices):
    PLANNED = "planned", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    REPORTED = "reported", _("已上报")


class FollowUpMeasure(models.TextChoices):
    """What the branch does about a member rated 不合格 (条例 第十八条; 党章 第九条)."""

    RECTIFY_BY_DEADLINE = "rectify_by_deadline", _("限期改正")
    PERSUADE_TO_LEAVE = "persuade_to_leave", _("劝其退党")
    OTHER_DISPOSAL = "other_disposal", _("组织处置")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("跟进中")
    CLOSED = "closed", _("已办结")

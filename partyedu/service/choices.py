from django.db import models
from django.utils.translation import gettext_lazy as _


class ListKind(models.TextChoices):
    """The three lists of a 共驻共建 agreement between a unit and a community (三张清单)."""

    NEED = "need", _("需求清单")
    RESOURCE = "resource", _("资源清单")
    PROJECT = "project", _("项目清单")


class ItemStatus(models.TextChoices):
    PLANNED = "planned", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")


class ServiceKind(models.TextChoices):
    """What a service was (志愿服务 and 双报到 services share the list)."""

    VACCINATION = "vaccination", _("疫苗接种服务")
    POLICY = "policy", _("政策宣传")
    ELDERLY = "elderly", _("扶老助困")
    ENVIRONMENT = "environment", _("环境整治")
    SAFETY = "safety", _("平安建设")
    CULTURE = "culture", _("文明实践")
    OTHER = "other", _("其他服务")


class RecordStatus(models.TextChoices):
    """A member's service record waits for the community side to confirm it."""

    PENDING = "pending", _("待社区确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("未确认")


class PledgeStatus(models.TextChoices):
    """我为群众办实事: a pledge is open until the pledger completes it (with light evidence) and the
    level or community that benefits confirms it."""

    OPEN = "open", _("办理中")
    COMPLETED = "completed", _("已办结待确认")
    CONFIRMED = "confirmed", _("已确认办结")


class TalkKind(models.TextChoices):
    """谈心谈话 by who talks with whom (支部条例: each pair at least once a year)."""

    COMMITTEE_COMMITTEE = "committee_committee", _("委员与委员")
    COMMITTEE_MEMBER = "committee_member", _("委员与党员")
    MEMBER_MEMBER = "member_member", _("党员与党员")
    CARE = "care", _("与困难党员谈心")


class DifficultyKind(models.TextChoices):
    """Why a member is cared for (关怀帮扶)."""

    ILLNESS = "illness", _("重病")
    HARDSHIP = "hardship", _("生活困难")
    ALONE = "alone", _("独居老人")
    VETERAN = "veteran", _("老党员")
    DISABILITY = "disability", _("残疾")
    OTHER = "other", _("其他")


class AidKind(models.TextChoices):
    VISIT = "visit", _("走访慰问")
    CASH = "cash", _("慰问金")
    GOODS = "goods", _("慰问品")
    HELP = "help", _("帮扶服务")


class FundSource(models.TextChoices):
    DUES = "dues", _("党费")
    BUDGET = "budget", _("党建工作经费")
    UNION = "union", _("工会经费")
    DONATION = "donation", _("社会捐助")
    OTHER = "other", _("其他")


class PairKind(models.TextChoices):
    OLD_GUIDES_YOUNG = "old_guides_young", _("老带青")
    YOUNG_HELPS_OLD = "young_helps_old", _("青帮老")


class GridRole(models.TextChoices):
    """The contacts of a community's 联户 grid (12580 联户: 片长, 组长, 楼长)."""

    AREA = "area", _("片长")
    GROUP = "group", _("组长")
    BUILDING = "building", _("楼长")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("待办理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已解决")


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已确认")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已取消")


# Bookings that hold their slot (a pending one holds it until the centre decides).
HOLDING_STATUSES: tuple[str, ...] = (BookingStatus.PENDING, BookingStatus.APPROVED)

from django.db import models
from django.utils.translation import gettext_lazy as _


class LecturerCategory(models.TextChoices):
    MEMBER = "member", _("普通党员")
    SECRETARY = "secretary", _("党组织书记")
    LEADER = "leader", _("领导干部")
    PARTY_SCHOOL = "party_school", _("党校教师")
    UNIVERSITY = "university", _("高校教师")
    MODEL = "model", _("先进模范")
    VETERAN = "veteran", _("老党员")
    EXPERT = "expert", _("业务骨干")
    OTHER = "other", _("其他")


class LectureType(models.TextChoices):
    STANDARD = "standard", _("常规党课")
    MICRO = "micro", _("微党课")
    RURAL = "rural", _("乡味党课")
    FIELD = "field", _("田坎党课")
    WORKSHOP = "workshop", _("车间党课")
    SCENARIO = "scenario", _("情景党课")
    EXPERIENCE = "experience", _("体验党课")
    WALKING = "walking", _("行走党课")
    IMMERSIVE = "immersive", _("沉浸党课")
    # Seed 000: 党课 "采取讲座式、谈话式、情景式等多种形式".
    LECTURE = "lecture", _("讲座式党课")
    DIALOGUE = "dialogue", _("谈话式党课")


class LectureFileKind(models.TextChoices):
    SLIDES = "slides", _("课件")
    SCRIPT = "script", _("讲稿")
    VIDEO = "video", _("视频")


class CallStatus(models.TextChoices):
    OPEN = "open", _("征集中")
    CLOSED = "closed", _("已截止")


class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("已点题")
    DONE = "done", _("已讲授")
    DECLINED = "declined", _("已退回")

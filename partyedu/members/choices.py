from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class MemberStatus(models.TextChoices):
    ACTIVIST = "activist", _("入党积极分子")
    CANDIDATE = "candidate", _("发展对象")
    PROBATIONARY = "probationary", _("预备党员")
    FULL = "full", _("正式党员")
    SUSPENDED = "suspended", _("停止党籍")
    REMOVED = "removed", _("已出党")


class MemberCategory(models.TextChoices):
    EMPLOYED = "employed", _("在职")
    RETIRED = "retired", _("离退休")
    FLOATING = "floating", _("流动党员")
    NEW_SECTOR = "new_sector", _("两新组织")
    FARMER = "farmer", _("农民")
    STUDENT = "student", _("学生")
    FRAIL = "frail", _("年老体弱")
    LEADER = "leader", _("领导干部")
    SECRETARY = "secretary", _("基层党组织书记")
    COMMITTEE = "committee", _("支部委员")


class Education(models.TextChoices):
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中/中专")
    COLLEGE = "college", _("大专")
    BACHELOR = "bachelor", _("大学本科")
    MASTER = "master", _("硕士研究生")
    DOCTOR = "doctor", _("博士研究生")


# Statuses that count as belonging to the party (for head counts and requirements).
PARTY_STATUSES = (MemberStatus.PROBATIONARY, MemberStatus.FULL)

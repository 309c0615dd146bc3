from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """Where a development case (发展党员) stands: each stage is reached by confirming a step."""

    APPLIED = "applied", _("申请入党")
    TALKED = "talked", _("已谈话")
    ACTIVIST = "activist", _("入党积极分子")
    CANDIDATE = "candidate", _("发展对象")
    ADMISSION_VOTED = "admission_voted", _("支部大会已通过，待上级审批")
    PROBATIONARY = "probationary", _("预备党员")
    CONVERSION_VOTED = "conversion_voted", _("转正已讨论，待上级审批")
    FULL = "full", _("正式党员")
    CLOSED = "closed", _("已终止")


# Stages of a case still in progress (the overview's pipeline, the alerts).
OPEN_STAGES: tuple[str, ...] = tuple(s for s in Stage.values if s not in (Stage.FULL, Stage.CLOSED))


class Step(models.TextChoices):
    """The steps a case goes through, in order (DOMAIN_RULES "Development of members"; 细则)."""

    TALK = "talk", _("党组织派人谈话")
    ACTIVIST = "activist", _("确定为入党积极分子")
    ASSESSMENT = "assessment", _("培养教育考察")
    CANDIDATE = "candidate", _("确定为发展对象")
    TRAINING_DONE = "training_done", _("短期集中培训")
    COMMITTEE_REVIEW = "committee_review", _("政治审查和支委会审查")
    PRE_REVIEW = "pre_review", _("上级党委预审")
    PUBLICITY = "publicity", _("公示")
    ADMISSION_VOTE = "admission_vote", _("支部党员大会讨论接收")
    APPROVAL = "approval", _("上级党委派人谈话和审批")
    OATH = "oath", _("入党宣誓")
    CONVERSION_VOTE = "conversion_vote", _("支部党员大会讨论转正")
    CONVERSION_APPROVAL = "conversion_approval", _("上级党委审批转正")


# The candidate stage's steps, each after the one before it.
CANDIDATE_SEQUENCE: tuple[str, ...] = (
    Step.TRAINING_DONE,
    Step.COMMITTEE_REVIEW,
    Step.PRE_REVIEW,
    Step.PUBLICITY,
    Step.ADMISSION_VOTE,
)

# Steps taken by the party committee above the branch (an org_admin at a strict ancestor).
ABOVE_STEPS: frozenset[str] = frozenset({Step.PRE_REVIEW, Step.APPROVAL, Step.CONVERSION_APPROVAL})

# Steps decided at a branch meeting whose record (attendance) gives the quorum and the vote.
VOTE_STEPS: frozenset[str] = frozenset({Step.ADMISSION_VOTE, Step.CONVERSION_VOTE})


class Recommendation(models.TextChoices):
    """How an applicant was put forward as 入党积极分子."""

    MEMBERS = "members", _("党员推荐")
    MASS_ORG = "mass_org", _("群团组织推优")


class ConversionOutcome(models.TextChoices):
    """The branch meeting's decision on a 预备党员 at the end of probation."""

    CONVERT = "convert", _("按期转为正式党员")
    EXTEND = "extend", _("延长预备期")
    CANCEL = "cancel", _("取消预备党员资格")


class DocumentKind(models.TextChoices):
    """The papers of a development dossier (发展党员档案材料)."""

    APPLICATION = "application", _("入党申请书")
    TALK_RECORD = "talk_record", _("谈话记录")
    RECOMMENDATION = "recommendation", _("推荐材料（党员推荐/推优表）")
    ACTIVIST_REGISTER = "activist_register", _("入党积极分子培养教育考察登记表")
    ASSESSMENT = "assessment", _("培养考察意见")
    POLITICAL_REVIEW = "political_review", _("政治审查材料")
    TRAINING = "training", _("培训结业证明")
    COMMITTEE_REVIEW = "committee_review", _("支委会审查意见")
    PRE_REVIEW = "pre_review", _("上级党委预审意见")
    PUBLICITY = "publicity", _("公示情况报告")
    VOLUNTEER_FORM = "volunteer_form", _("入党志愿书")
    APPROVAL = "approval", _("上级党委审批意见")
    CONVERSION_APPLICATION = "conversion_application", _("转正申请书")
    CONVERSION_APPROVAL = "conversion_approval", _("转正审批意见")
    OTHER = "other", _("其他材料")


# The papers the dossier checklist expects once a step is confirmed.
STEP_DOCUMENTS: dict[str, tuple[str, ...]] = {
    Step.TALK: (DocumentKind.TALK_RECORD,),
    Step.ACTIVIST: (DocumentKind.RECOMMENDATION, DocumentKind.ACTIVIST_REGISTER),
    Step.ASSESSMENT: (DocumentKind.ASSESSMENT,),
    Step.TRAINING_DONE: (DocumentKind.TRAINING,),
    Step.COMMITTEE_REVIEW: (DocumentKind.POLITICAL_REVIEW, DocumentKind.COMMITTEE_REVIEW),
    Step.PRE_REVIEW: (DocumentKind.PRE_REVIEW,),
    Step.PUBLICITY: (DocumentKind.PUBLICITY,),
    Step.ADMISSION_VOTE: (DocumentKind.VOLUNTEER_FORM,),
    Step.APPROVAL: (DocumentKind.APPROVAL,),
    Step.CONVERSION_VOTE: (DocumentKind.CONVERSION_APPLICATION,),
    Step.CONVERSION_APPROVAL: (DocumentKind.CONVERSION_APPROVAL,),
}

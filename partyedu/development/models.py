"""发展党员 (member development): one case per person from the application to full membership,
the steps confirmed on it with their dates, people, meetings and papers, the timing rules of a
subtree and the yearly development plan.

The case holds the applicant's identity until the branch makes them 入党积极分子; from then on the
person is also a ``members.Member`` whose status (入党积极分子 → 发展对象 → 预备党员 → 正式党员)
follows the steps and changes through them only."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.fields import EncryptedTextField
from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.members.choices import Gender

from .choices import ConversionOutcome, DocumentKind, Recommendation, Stage, Step

NOTE_MAX = 2000


class DevelopmentPolicy(TimeStampedModel, ScopedModel):
    """The timing rules of member development over an organisation's subtree, set by the
    organisation department (an org_admin). The nearest policy above a branch applies; with none,
    the defaults of DOMAIN_RULES (细则) do. Intervals whose article is not verified are here so that
    a subtree can follow its own reading; docs/development.md lists each."""

    scope_path = "organization__path"

    organization = models.OneToOneField(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="development_policy",
    )
    min_age = models.PositiveSmallIntegerField(
        _("申请入党最低年龄"), default=18, validators=[MinValueValidator(16), MaxValueValidator(30)]
    )
    talk_within_months = models.PositiveSmallIntegerField(
        _("收到申请后谈话期限（月）"), default=1, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    assessment_interval_months = models.PositiveSmallIntegerField(
        _("培养考察间隔（月）"), default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    activist_min_months = models.PositiveSmallIntegerField(
        _("入党积极分子最短培养期（月）"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
    )
    sponsors_required = models.PositiveSmallIntegerField(
        _("入党介绍人人数"), default=2, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    mentors_max = models.PositiveSmallIntegerField(
        _("培养联系人人数上限"), default=2, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("公示天数"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("发展对象公示的最少天数（自然日）"),
    )
    approval_within_months = models.PositiveSmallIntegerField(
        _("上级党委审批期限（月）"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("自支部党员大会通过之日起，上级党委应在此期限内审批"),
    )
    probation_months = models.PositiveSmallIntegerField(
        _("预备期（月）"), default=12, validators=[MinValueValidator(6), MaxValueValidator(24)]
    )
    extension_min_months = models.PositiveSmallIntegerField(
        _("延长预备期最短（月）"), default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    extension_max_months = models.PositiveSmallIntegerField(
        _("延长预备期最长（月）"), default=12, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    applicant_wait_days = models.PositiveSmallIntegerField(
        _("申请人无进展提醒（天）"),
        default=180,
        validators=[MinValueValidator(30), MaxValueValidator(730)],
        help_text=_("申请人或入党积极分子超过此天数没有任何步骤时，列为停滞并提醒"),
    )
    warn_days = models.PositiveSmallIntegerField(
        _("到期前提醒（天）"), default=30, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )

    class Meta:
        verbose_name = _("发展党员时限规则")
        verbose_name_plural = _("发展党员时限规则")

    def __str__(self) -> str:
        return f"{self.organization}"


class DevelopmentPlan(TimeStampedModel, ScopedModel):
    """The number of new members an organisation plans to admit in a year (发展党员计划), set by the
    level that plans; the overview sets it against the 预备党员 actually admitted."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党组织"),
        on_delete=models.CASCADE,
        related_name="development_plans",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    planned = models.PositiveIntegerField(_("计划发展人数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("发展党员计划")
        verbose_name_plural = _("发展党员计划")
        ordering = ["organization_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="development_plan_org_year_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}"


class DevelopmentCase(TimeStampedModel, ScopedModel):
    """One person's way from the application (申请入党) to full membership, kept by their branch.

    Until the branch makes them 入党积极分子 the case holds the applicant's identity (the ID number
    encrypted, with a blind index and a masked copy); from then on ``member`` is their record on the
    roll, whose status follows the case. ``stage`` is where the last confirmed step left the case;
    ``last_step_on`` and ``next_due`` are kept by the step service for the alerts and the stalled
    list."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党支部"),
        on_delete=models.PROTECT,
        related_name="development_cases",
    )
    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("党员档案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="development_case",
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_number = EncryptedTextField(_("身份证号"))
    id_number_hash = models.CharField(_("身份证号索引"), max_length=64, editable=False, db_index=True)
    id_number_masked = models.CharField(_("身份证号（脱敏）"), max_length=32, editable=False, default="")
    applied_on = models.DateField(_("申请入党日期"))
    stage = models.CharField(_("发展阶段"), max_length=20, choices=Stage.choices, default=Stage.APPLIED)
    last_step_on = models.DateField(_("最近步骤日期"))
    next_due = models.DateField(_("下一步期限"), null=True, blank=True)
    activist_on = models.DateField(_("确定为入党积极分子日期"), null=True, blank=True)
    candidate_on = models.DateField(_("确定为发展对象日期"), null=True, blank=True)
    admitted_on = models.DateField(_("接收为预备党员日期"), null=True, blank=True)
    probation_end = models.DateField(_("预备期满日期"), null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(_("延长预备期（月）"), default=0)
    full_member_on = models.DateField(_("转为正式党员日期"), null=True, blank=True)
    mentors = models.ManyToManyField(
        "members.Member", verbose_name=_("培养联系人"), blank=True, related_name="mentored_cases"
    )
    sponsors = models.ManyToManyField(
        "members.Member", verbose_name=_("入党介绍人"), blank=True, related_name="sponsored_cases"
    )
    closed_on = models.DateField(_("终止日期"), null=True, blank=True)
    closed_reason = models.CharField(_("终止原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("发展党员")
        verbose_name_plural = _("发展党员")
        ordering = ["organization_id", "applied_on", "id"]
        indexes = [
            models.Index(fields=["stage", "next_due"], name="devcase_stage_due_idx"),
            models.Index(fields=["organization", "stage"], name="devcase_org_stage_idx"),
        ]
        constraints = [
            # One case in progress per person: a closed case may be followed by a new application.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~models.Q(stage="closed"),
                name="devcase_one_open_per_person",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CaseStep(TimeStampedModel, ScopedModel):
    """One confirmed step of a case: its date, who confirmed it and, by step, the meeting, the vote
    read from the meeting's record, the people and a note. A step is never edited: a wrong one is
    followed by a correction of the case by the level above (audited). ``overridden`` names the
    timing rules an org_admin of a higher level set aside, with ``override_reason``."""

    scope_path = "case__organization__path"

    case = models.ForeignKey(
        DevelopmentCase, verbose_name=_("发展党员"), on_delete=models.CASCADE, related_name="steps"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    step = models.CharField(_("步骤"), max_length=24, choices=Step.choices)
    date = models.DateField(_("日期"))
    meeting = models.ForeignKey(
        "study.Activity",
        verbose_name=_("会议"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="development_steps",
    )
    voting_expected = models.PositiveIntegerField(_("应到会有表决权党员"), null=True, blank=True)
    voting_present = models.PositiveIntegerField(_("实到会有表决权党员"), null=True, blank=True)
    yes_votes = models.PositiveIntegerField(_("赞成票"), null=True, blank=True)
    recommendation = models.CharField(
        _("推荐方式"), max_length=16, choices=Recommendation.choices, blank=True
    )
    outcome = models.CharField(_("讨论结果"), max_length=16, choices=ConversionOutcome.choices, blank=True)
    extension_months = models.PositiveSmallIntegerField(_("延长预备期（月）"), null=True, blank=True)
    start_on = models.DateField(_("开始日期"), null=True, blank=True, help_text=_("公示开始日期"))
    people = models.CharField(_("相关人员"), max_length=200, blank=True, help_text=_("谈话人、审批谈话人等"))
    note = models.TextField(_("情况记录"), max_length=NOTE_MAX, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_reason = models.CharField(_("破例说明"), max_length=500, blank=True)
    overridden = models.JSONField(_("破例的时限规则"), default=list, blank=True)

    class Meta:
        verbose_name = _("发展步骤")
        verbose_name_plural = _("发展步骤")
        ordering = ["case_id", "seq"]
        constraints = [
            # Two confirmations of the same next step at once: the second insert fails here.
            models.UniqueConstraint(fields=["case", "seq"], name="casestep_case_seq_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_step_display()} {self.date}"


class CaseDocument(TimeStampedModel, ScopedModel):
    """A paper of the dossier: an uploaded scan (入党申请书, 入党志愿书, 政审材料 …), filed under
    its kind and, where it belongs to one, the step."""

    scope_path = "case__organization__path"

    case = models.ForeignKey(
        DevelopmentCase, verbose_name=_("发展党员"), on_delete=models.CASCADE, related_name="documents"
    )
    step = models.ForeignKey(
        CaseStep,
        verbose_name=_("步骤"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    kind = models.CharField(_("材料类型"), max_length=24, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to="development/%Y/%m/", max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("发展材料")
        verbose_name_plural = _("发展材料")
        ordering = ["case_id", "kind", "id"]

    def __str__(self) -> str:
        return self.name

"""民主评议党员 (the annual democratic appraisal of members): one appraisal per branch and year, its
five steps, the participants snapshotted at creation, the anonymous peer comments and ballots, the
committee's decisions and the follow-ups of members rated 不合格.

Votes and peer comments carry no author, no timestamp and a random primary key, so that neither
their content nor their order can be joined to the receipts or the audit log (``anonymity``)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import CleanTextMixin, TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.members.choices import MemberStatus

from .choices import AppraisalStatus, FollowUpMeasure, FollowUpStatus, Grade, StepCode

SELF_EVALUATION_MAX = 2000
COMMENT_MAX = 500
DEFAULT_EXCELLENT_SHARE = Decimal("0.3333")


class Appraisal(TimeStampedModel, ScopedModel):
    """The 民主评议党员 of one branch in one year (条例 第十八条): five steps in a fixed order, each
    opened and closed by the secretary; the participants are the branch's 预备党员 and 正式党员 when
    it was created. The committee may rate at most ``excellent_share`` of them 优秀 without a
    written ``reason``, which the level above reads with the report."""

    scope_path = "organization__path"

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("党支部"),
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=16, choices=AppraisalStatus.choices, default=AppraisalStatus.PLANNED
    )
    excellent_share = models.DecimalField(
        _("优秀比例上限"),
        max_digits=5,
        decimal_places=4,
        default=DEFAULT_EXCELLENT_SHARE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("评为优秀的人数超过参评党员数的这一比例时，须写明理由报上级党组织（默认三分之一）"),
    )
    meeting = models.ForeignKey(
        "study.Activity",
        verbose_name=_("民主测评会议"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("进行民主测评投票的支部党员大会或组织生活会"),
    )
    reason = models.TextField(
        _("优秀超比例理由"), blank=True, max_length=2000, help_text=_("优秀人数超过比例时必填，报上级党组织")
    )
    reported_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("民主评议党员")
        verbose_name_plural = _("民主评议党员")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="appraisal_org_year_unique")
        ]
        indexes = [models.Index(fields=["year", "status"], name="appraisal_year_status_idx")]

    def __str__(self) -> str:
        return f"{self.organization.name}{self.year}年度民主评议党员"


class AppraisalStep(TimeStampedModel):
    """One step of an appraisal with its planned dates and when (and by whom) it was opened and
    closed. Steps open in ``position`` order, each after the previous one closed; a closed step
    stays closed."""

    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="steps"
    )
    code = models.CharField(_("环节"), max_length=8, choices=StepCode.choices)
    position = models.PositiveSmallIntegerField(_("顺序"))
    planned_start = models.DateField(_("计划开始"), null=True, blank=True)
    planned_end = models.DateField(_("计划结束"), null=True, blank=True)
    opened_at = models.DateTimeField(_("开启时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开启人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("民主评议环节")
        verbose_name_plural = _("民主评议环节")
        ordering = ["appraisal_id", "position"]
        constraints = [models.UniqueConstraint(fields=["appraisal", "code"], name="appraisal_step_unique")]

    def __str__(self) -> str:
        return f"{self.appraisal_id} {self.get_code_display()}"

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Participant(TimeStampedModel, ScopedModel):
    """A member taking part in an appraisal, as they were when it was created (or when the
    secretary added them before the vote): a 预备党员 takes part but does not vote (``is_voter``
    only for 正式党员); an exempt member (免于硬性要求, 年老体弱) is marked so and still graded. The
    member writes ``self_evaluation``; the committee's decided ``grade`` is kept here."""

    scope_path = "appraisal__organization__path"

    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="participants"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.PROTECT,
        related_name="appraisal_participations",
    )
    status_at_snapshot = models.CharField(_("参评时党员状态"), max_length=16, choices=MemberStatus.choices)
    is_voter = models.BooleanField(_("参加投票"), default=True, help_text=_("正式党员投票，预备党员不投票"))
    exempt = models.BooleanField(_("免于硬性要求"), default=False)
    self_evaluation = models.TextField(_("自我评价"), blank=True, max_length=SELF_EVALUATION_MAX)
    self_evaluated_at = models.DateTimeField(_("自我评价时间"), null=True, blank=True)
    grade = models.CharField(_("评定等次"), max_length=24, choices=Grade.choices, blank=True)
    decided_at = models.DateTimeField(_("评定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("参评党员")
        verbose_name_plural = _("参评党员")
        ordering = ["appraisal_id", "member__name", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "member"], name="appraisal_participant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.appraisal_id} {self.member_id}"


class BallotReceipt(models.Model):
    """That a voter has cast their ballot in an appraisal, and when — never what it said. One per
    voter (the unique constraint), so turnout and "you have voted" can be shown."""

    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="receipts"
    )
    voter = models.ForeignKey(
        "members.Member", verbose_name=_("投票人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("投票时间"))
    updated_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("投票回执")
        verbose_name_plural = _("投票回执")
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "voter"], name="appraisal_receipt_unique")
        ]

    def __str__(self) -> str:
        return f"{self.appraisal_id} {self.voter_id}"


class Vote(CleanTextMixin, models.Model):
    """One grade given to one appraisee on one ballot. Without the voter: ``ballot_key`` is an
    HMAC of the voter under the site's secret key (``anonymity.ballot_key``), which lets a
    replaced ballot remove its own rows and nobody reading the tables link a row to a voter. A
    random id and no timestamp keep the order of writing out of the table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="votes"
    )
    appraisee = models.ForeignKey(
        "members.Member", verbose_name=_("被测评党员"), on_delete=models.PROTECT, related_name="+"
    )
    grade = models.CharField(_("等次"), max_length=24, choices=Grade.choices)
    ballot_key = models.CharField(_("选票标识"), max_length=64)

    class Meta:
        verbose_name = _("测评票")
        verbose_name_plural = _("测评票")
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "appraisee", "ballot_key"], name="appraisal_vote_unique"
            )
        ]
        indexes = [models.Index(fields=["appraisal", "ballot_key"], name="appraisal_vote_key_idx")]

    def __str__(self) -> str:
        return f"{self.appraisal_id} {self.appraisee_id} {self.grade}"


class PeerComment(CleanTextMixin, models.Model):
    """A participant's short comment on another participant in the peer step (党员互评), stored
    like a vote: without the author (``author_key``, an HMAC), without a timestamp, one per author
    and appraisee, replaceable while the step is open. Read by the committee."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="comments"
    )
    appraisee = models.ForeignKey(
        "members.Member", verbose_name=_("被评议党员"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.CharField(_("评议意见"), max_length=COMMENT_MAX)
    author_key = models.CharField(_("评议人标识"), max_length=64)

    class Meta:
        verbose_name = _("互评意见")
        verbose_name_plural = _("互评意见")
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "appraisee", "author_key"], name="appraisal_comment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appraisal_id} {self.appraisee_id}"


class FollowUp(TimeStampedModel, ScopedModel):
    """What the branch does about a member its committee rated 不合格 (限期改正 with a deadline,
    劝其退党, or another disposal), tracked by the secretary until closed with a note on the
    outcome. One per appraisal and member."""

    scope_path = "appraisal__organization__path"

    appraisal = models.ForeignKey(
        Appraisal, verbose_name=_("民主评议"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("党员"),
        on_delete=models.PROTECT,
        related_name="appraisal_follow_ups",
    )
    measure = models.CharField(_("处置措施"), max_length=24, choices=FollowUpMeasure.choices)
    deadline = models.DateField(_("整改期限"), null=True, blank=True, help_text=_("限期改正时必填"))
    note = models.CharField(_("说明"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closing_note = models.CharField(_("办结情况"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("不合格党员跟进")
        verbose_name_plural = _("不合格党员跟进")
        ordering = ["status", "deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "member"], name="appraisal_followup_unique")
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="appraisal_followup_due_idx")]

    def __str__(self) -> str:
        return f"{self.member.name} {self.get_measure_display()}"

"""Exams (理论测试、知识测试): question banks shared down the organisation tree, versioned questions,
papers fixed or drawn by rule, exams targeted to a subtree, a training class or listed members,
and attempts whose every answer is saved on the server as it is given.

A question's text and key live in ``QuestionVersion`` rows; an attempt points at the versions it
drew, so editing a question that has been answered (a new version) never changes what a past
attempt saw or how it was scored. Only a key correction (``question_key_correct``) changes an
answered version, and it re-scores every attempt that saw it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from partyedu.core.models import TimeStampedModel
from partyedu.core.scope import ScopedModel
from partyedu.learning.choices import HourKind

from .choices import (
    AdvanceUnit,
    AttemptStatus,
    ContestGrade,
    ExamKind,
    Grading,
    LiveStatus,
    PaperKind,
    QuestionType,
    ShowAnswers,
    TargetKind,
)


class QuestionBank(TimeStampedModel, ScopedModel):
    """A question bank (题库) kept by an organisation. It is managed within the organisation's
    subtree and shared down the tree: organisations below may draw its questions into their papers."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        related_name="question_banks",
    )
    title = models.CharField(_("题库名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("题库")
        verbose_name_plural = _("题库")
        ordering = ["organization_id", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "title"], name="question_bank_title_unique")
        ]

    def __str__(self) -> str:
        return self.title


class QuestionTag(TimeStampedModel):
    """A tag of questions (a topic such as 党史, or a required topic of a study plan), used to
    filter the bank and to draw questions by rule. Tags are a shared vocabulary: one name, one row."""

    name = models.CharField(_("标签"), max_length=50, unique=True)
    required_topic = models.ForeignKey(
        "study.RequiredTopic",
        verbose_name=_("对应必修专题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="question_tags",
    )

    class Meta:
        verbose_name = _("试题标签")
        verbose_name_plural = _("试题标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Question(TimeStampedModel, ScopedModel):
    """A question of a bank. What it says and its key are in its versions; ``current_version`` is
    the one new papers and attempts use. ``normalized_stem`` (full-width folded, spaces and
    punctuation removed) finds duplicates within a bank."""

    scope_path = "bank__organization__path"

    bank = models.ForeignKey(
        QuestionBank, verbose_name=_("题库"), on_delete=models.PROTECT, related_name="questions"
    )
    qtype = models.CharField(_("题型"), max_length=16, choices=QuestionType.choices)
    difficulty = models.PositiveSmallIntegerField(
        _("难度"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1（最易）至5（最难）"),
    )
    tags = models.ManyToManyField(QuestionTag, verbose_name=_("标签"), blank=True, related_name="questions")
    normalized_stem = models.CharField(_("规范化题干"), max_length=500, editable=False, db_index=True)
    current_version = models.ForeignKey(
        "QuestionVersion",
        verbose_name=_("当前版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("出题人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("试题")
        verbose_name_plural = _("试题")
        ordering = ["bank_id", "id"]
        indexes = [models.Index(fields=["bank", "qtype", "difficulty"], name="question_draw_idx")]

    def __str__(self) -> str:
        stem = self.current_version.stem if self.current_version_id and self.current_version else ""
        return stem[:40] or f"试题{self.pk}"


class QuestionVersion(models.Model):
    """One version of a question: stem, options, key, explanation (解析) and, for short answers,
    the reference answer and rubric. Immutable once an attempt has drawn it, except for a key
    correction, which re-scores the attempts.

    ``answer`` by type: single "B"; multiple "AC" (letters in order); judge true/false; fill a
    list of accepted answers; essay null."""

    question = models.ForeignKey(
        Question, verbose_name=_("试题"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    stem = models.TextField(_("题干"))
    options = models.JSONField(_("选项"), default=list, blank=True)
    answer = models.JSONField(_("答案"), null=True, blank=True)
    explanation = models.TextField(_("解析"), blank=True)
    reference_answer = models.TextField(_("参考答案"), blank=True)
    rubric = models.TextField(_("评分要点"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("试题版本")
        verbose_name_plural = _("试题版本")
        ordering = ["question_id", "number"]
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="question_version_unique")]

    def __str__(self) -> str:
        return f"{self.stem[:40]}（第{self.number}版）"


class Paper(TimeStampedModel, ScopedModel):
    """A paper (试卷): chosen questions with their points (fixed), or rules that draw questions per
    attempt (e.g. 10 single-choice questions tagged 党史 of difficulty ≤ 3, 2 points each)."""

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("试卷名称"), max_length=200)
    kind = models.CharField(_("组卷方式"), max_length=16, choices=PaperKind.choices, default=PaperKind.FIXED)
    shuffle_questions = models.BooleanField(_("题目乱序"), default=False)
    shuffle_options = models.BooleanField(_("选项乱序"), default=True)

    class Meta:
        verbose_name = _("试卷")
        verbose_name_plural = _("试卷")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class PaperItem(models.Model):
    """A question chosen for a fixed paper, with its points."""

    paper = models.ForeignKey(Paper, verbose_name=_("试卷"), on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(Question, verbose_name=_("试题"), on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    position = models.PositiveIntegerField(_("序号"))

    class Meta:
        verbose_name = _("试卷题目")
        verbose_name_plural = _("试卷题目")
        ordering = ["paper_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "question"], name="paper_item_question_unique"),
            models.UniqueConstraint(fields=["paper", "position"], name="paper_item_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.paper} · {self.position}"


class PaperRule(models.Model):
    """A drawing rule of a paper: ``count`` questions of a type (and optionally a tag, a bank and a
    difficulty range), ``score_each`` points each, drawn afresh for every attempt."""

    paper = models.ForeignKey(Paper, verbose_name=_("试卷"), on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(_("序号"))
    qtype = models.CharField(_("题型"), max_length=16, choices=QuestionType.choices)
    bank = models.ForeignKey(
        QuestionBank,
        verbose_name=_("题库"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tag = models.ForeignKey(
        QuestionTag, verbose_name=_("标签"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    difficulty_min = models.PositiveSmallIntegerField(_("最低难度"), default=1)
    difficulty_max = models.PositiveSmallIntegerField(_("最高难度"), default=5)
    count = models.PositiveIntegerField(_("题数"))
    score_each = models.DecimalField(_("每题分值"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("抽题规则")
        verbose_name_plural = _("抽题规则")
        ordering = ["paper_id", "position"]

    def __str__(self) -> str:
        return f"{self.get_qtype_display()} × {self.count}"


class Exam(TimeStampedModel, ScopedModel):
    """An exam (or a practice set) an organisation gives to its subtree, to a training class (结业考试)
    or to listed members, in a window with a time limit, a number of attempts and a pass mark.
    Members exempt from hard requirements (年老体弱) are left out of subtree and class targets unless
    named in ``ExamTarget``. Results are recorded for the member's year and are not learning hours
    unless ``counts_as_hours`` says so (then a member's passed counted attempt credits
    ``credit_hours`` of ``credit_kind`` once: ``exams.hours``). A class exam marked
    ``completion_required`` is a condition of completing the class (结业)."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="exams",
    )
    title = models.CharField(_("考试名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=ExamKind.choices, default=ExamKind.EXAM)
    paper = models.ForeignKey(Paper, verbose_name=_("试卷"), on_delete=models.PROTECT, related_name="exams")
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    time_limit_minutes = models.PositiveIntegerField(_("答题时长（分钟）"), null=True, blank=True)
    grace_seconds = models.PositiveIntegerField(
        _("交卷宽限（秒）"), default=60, help_text=_("到时后仍接受答案的秒数，应对网络延迟")
    )
    attempts_allowed = models.PositiveIntegerField(_("允许次数"), default=1, help_text=_("0 表示不限"))
    grading = models.CharField(_("成绩取法"), max_length=16, choices=Grading.choices, default=Grading.HIGHEST)
    pass_score = models.DecimalField(_("及格分"), max_digits=7, decimal_places=2, default=Decimal(60))
    show_answers = models.CharField(
        _("答案与解析"), max_length=16, choices=ShowAnswers.choices, default=ShowAnswers.AFTER_CLOSE
    )
    target_kind = models.CharField(
        _("参考范围"), max_length=16, choices=TargetKind.choices, default=TargetKind.SUBTREE
    )
    training_class = models.ForeignKey(
        "study.TrainingClass",
        verbose_name=_("培训班"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exams",
    )
    counts_as_hours = models.BooleanField(
        _("计入学时"),
        default=False,
        help_text=_("默认不计入：考试成绩记入党员年度记录；选中后，及格的党员按下方学时记入学时台账一次"),
    )
    credit_hours = models.DecimalField(
        _("计入学时数"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("1.0"),
        help_text=_("每名及格党员计入的学时（计入学时时有效）"),
    )
    credit_kind = models.CharField(
        _("学时类别"),
        max_length=16,
        choices=HourKind.choices,
        default=HourKind.ONLINE,
        help_text=_("在手机上参加的考试一般为网络学习；培训班集中组织的结业考试可选集中培训"),
    )
    completion_required = models.BooleanField(
        _("作为结业条件"),
        default=False,
        help_text=_("只用于面向培训班的考试：学员出勤达到结业比例且本考试及格，才算结业"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("考试")
        verbose_name_plural = _("考试")
        ordering = ["-opens_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ExamTarget(models.Model):
    """A member named for an exam: the whole list when the exam targets listed members, otherwise
    an addition to its subtree or class (an exempt member named here takes it too)."""

    exam = models.ForeignKey(Exam, verbose_name=_("考试"), on_delete=models.CASCADE, related_name="targets")
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.CASCADE, related_name="exam_targets"
    )

    class Meta:
        verbose_name = _("指定参考党员")
        verbose_name_plural = _("指定参考党员")
        constraints = [models.UniqueConstraint(fields=["exam", "member"], name="exam_target_unique")]

    def __str__(self) -> str:
        return f"{self.exam} · {self.member}"


class Attempt(TimeStampedModel, ScopedModel):
    """One attempt (答卷) of a member at an exam. ``seed`` fixes the draw and the option order, so
    the attempt can always be reproduced. Visible to the member and to the levels above them."""

    scope_path = "member__org_path"
    scope_self = "member__user"

    exam = models.ForeignKey(Exam, verbose_name=_("考试"), on_delete=models.PROTECT, related_name="attempts")
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="exam_attempts"
    )
    number = models.PositiveIntegerField(_("第几次"))
    seed = models.BigIntegerField(_("随机种子"))
    started_at = models.DateTimeField(_("开始时间"))
    deadline = models.DateTimeField(_("截止时间"))
    submitted_at = models.DateTimeField(_("交卷时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    max_score = models.DecimalField(_("满分"), max_digits=7, decimal_places=2, default=Decimal(0))
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(_("是否及格"), null=True, blank=True)

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        ordering = ["exam_id", "member_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "member", "number"], name="attempt_number_unique")
        ]
        indexes = [models.Index(fields=["exam", "status"], name="attempt_exam_status_idx")]

    def __str__(self) -> str:
        return f"{self.exam} · {self.member_id} · 第{self.number}次"


class AttemptQuestion(models.Model):
    """A question as an attempt drew it: the version seen, its position, its points and the order
    its options were shown in (indexes into the version's options)."""

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("答卷"), on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveIntegerField(_("序号"))
    version = models.ForeignKey(
        QuestionVersion,
        verbose_name=_("试题版本"),
        on_delete=models.PROTECT,
        related_name="attempt_questions",
    )
    score = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    option_order = models.JSONField(_("选项顺序"), default=list, blank=True)

    class Meta:
        verbose_name = _("答卷试题")
        verbose_name_plural = _("答卷试题")
        ordering = ["attempt_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attempt_question_position_unique"),
            models.UniqueConstraint(fields=["attempt", "version"], name="attempt_question_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} · {self.position}"


class Answer(models.Model):
    """The member's answer to one question of an attempt, as shown to them (option letters in the
    shown order). One row per attempt question: saving again replaces it. ``points`` is set by
    automatic grading or, for short answers, by a grader."""

    attempt_question = models.OneToOneField(
        AttemptQuestion, verbose_name=_("答卷试题"), on_delete=models.CASCADE, related_name="answer"
    )
    response = models.JSONField(_("作答"), null=True, blank=True)
    saved_at = models.DateTimeField(_("保存时间"))
    is_correct = models.BooleanField(_("是否正确"), null=True, blank=True)
    points = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("阅卷人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    graded_at = models.DateTimeField(_("阅卷时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("作答")
        verbose_name_plural = _("作答")

    def __str__(self) -> str:
        return f"{self.attempt_question_id}"


# --- contests (知识竞赛) -------------------------------------------------------------------------------


class Contest(TimeStampedModel, ScopedModel):
    """A knowledge contest (知识竞赛) an organisation holds over its subtree in a period, in rounds
    (e.g. weekly sets, or a branch round then a district final). Each round is an exam of kind
    "contest"; a member's contest score is the sum of their rounds' graded scores, an
    organisation's is its participation rate and the mean score of its participants. Rankings of
    organisations are seen by the organiser only until ``results_published``."""

    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="contests",
    )
    title = models.CharField(_("竞赛名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    tiered = models.BooleanField(
        _("逐级晋级"), default=False, help_text=_("各单位优胜者晋级下一轮（如支部初赛、区级决赛）")
    )
    results_published = models.BooleanField(
        _("公布成绩"), default=False, help_text=_("公布前，组织排名仅主办组织可见")
    )
    competition = models.OneToOneField(
        "competitions.Competition",
        verbose_name=_("证书评选记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contest",
        help_text=_("颁发证书时建立，证书与公开查验沿用评选的证书机制"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("知识竞赛")
        verbose_name_plural = _("知识竞赛")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ContestRound(TimeStampedModel, ScopedModel):
    """One round of a contest, taken as its exam (kind "contest"; the exam's ``attempts_allowed``
    is the cap per member). In a tiered contest a round after the first is for the members
    named from the previous round's results: the best ``advance_value`` (a count, or a share in
    per cent) of each unit one level below the organiser."""

    scope_path = "contest__organization__path"

    contest = models.ForeignKey(
        Contest, verbose_name=_("竞赛"), on_delete=models.CASCADE, related_name="rounds"
    )
    sequence = models.PositiveSmallIntegerField(_("轮次序号"))
    name = models.CharField(_("轮次名称"), max_length=100)
    exam = models.OneToOneField(
        Exam, verbose_name=_("答题考试"), on_delete=models.PROTECT, related_name="contest_round"
    )
    advance_by = models.CharField(
        _("晋级方式"), max_length=8, choices=AdvanceUnit.choices, default=AdvanceUnit.COUNT
    )
    advance_value = models.PositiveIntegerField(
        _("晋级名额"), null=True, blank=True, help_text=_("每个单位前N名，或前百分之N")
    )
    advanced_at = models.DateTimeField(_("确定晋级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("竞赛轮次")
        verbose_name_plural = _("竞赛轮次")
        ordering = ["contest_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "sequence"], name="contest_round_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contest} · {self.name}"


class ContestAward(TimeStampedModel, ScopedModel):
    """A member's award in a contest (一等奖 … 优秀奖), chosen by the organiser from the ranked
    results. Its certificate is a ``competitions.Certificate`` of the award row in ``award``
    (publicly verifiable at /verify/)."""

    scope_path = "contest__organization__path"

    contest = models.ForeignKey(
        Contest, verbose_name=_("竞赛"), on_delete=models.CASCADE, related_name="awards"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("获奖党员"), on_delete=models.PROTECT, related_name="contest_awards"
    )
    grade = models.CharField(_("等次"), max_length=8, choices=ContestGrade.choices)
    score = models.DecimalField(_("竞赛得分"), max_digits=8, decimal_places=2)
    rank = models.PositiveIntegerField(_("名次"))
    award = models.OneToOneField(
        "competitions.Award",
        verbose_name=_("证书奖项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contest_award",
    )

    class Meta:
        verbose_name = _("竞赛奖项")
        verbose_name_plural = _("竞赛奖项")
        ordering = ["contest_id", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "member"], name="contest_award_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contest} · {self.get_grade_display()} · {self.member_id}"


# --- live contest in a meeting room (现场知识竞赛) --------------------------------------------------


class LiveSession(TimeStampedModel, ScopedModel):
    """A live contest in a meeting room: the host's screen shows the questions of a contest
    round's paper one at a time with a countdown, the host enters each team's answer on a
    control page, the screen shows the running scoreboard. All state is here, so a reload of
    either page resumes where it was."""

    scope_path = "contest__organization__path"

    contest = models.ForeignKey(
        Contest, verbose_name=_("竞赛"), on_delete=models.CASCADE, related_name="live_sessions"
    )
    title = models.CharField(_("现场竞赛名称"), max_length=200)
    seconds_per_question = models.PositiveIntegerField(_("每题限时（秒）"), default=30)
    versions = models.JSONField(_("题目版本"), default=list, help_text=_("按出题顺序的试题版本编号"))
    scores = models.JSONField(_("各题分值"), default=list)
    status = models.CharField(
        _("状态"), max_length=16, choices=LiveStatus.choices, default=LiveStatus.WAITING
    )
    current = models.PositiveIntegerField(_("当前题序"), default=0, help_text=_("从1开始，0表示未开始"))
    question_started_at = models.DateTimeField(_("本题开始时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("主持人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("现场竞赛")
        verbose_name_plural = _("现场竞赛")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class LiveTeam(models.Model):
    """A team of a live contest: a participating organisation, or a named team."""

    session = models.ForeignKey(
        LiveSession, verbose_name=_("现场竞赛"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("队名"), max_length=100)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("代表组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("序号"))

    class Meta:
        verbose_name = _("参赛队")
        verbose_name_plural = _("参赛队")
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="live_team_position_unique"),
            models.UniqueConstraint(fields=["session", "name"], name="live_team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class LiveAnswer(models.Model):
    """A team's answer to one question of a live contest as the host entered it (the answer
    given, or only right/wrong); entering it again replaces it."""

    team = models.ForeignKey(
        LiveTeam, verbose_name=_("参赛队"), on_delete=models.CASCADE, related_name="answers"
    )
    position = models.PositiveIntegerField(_("题序"))
    response = models.JSONField(_("作答"), null=True, blank=True)
    is_correct = models.BooleanField(_("是否正确"))
    points = models.DecimalField(_("得分"), max_digits=6, decimal_places=2)
    entered_at = models.DateTimeField(_("录入时间"), auto_now=True)

    class Meta:
        verbose_name = _("现场作答")
        verbose_name_plural = _("现场作答")
        ordering = ["team_id", "position"]
        constraints = [models.UniqueConstraint(fields=["team", "position"], name="live_answer_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.position}"

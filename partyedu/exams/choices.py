from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionType(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    JUDGE = "judge", _("判断题")
    FILL = "fill", _("填空题")
    ESSAY = "essay", _("简答题")


# Types whose answer is one or more option letters; their options may be shuffled per attempt.
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE})
# Types graded by a person (a reference answer and a rubric), never automatically.
MANUAL_TYPES = frozenset({QuestionType.ESSAY})


class PaperKind(models.TextChoices):
    FIXED = "fixed", _("固定组卷")
    RULE = "rule", _("随机抽题")


class ExamKind(models.TextChoices):
    EXAM = "exam", _("考试")
    PRACTICE = "practice", _("练习")
    CONTEST = "contest", _("竞赛轮次")


class TargetKind(models.TextChoices):
    SUBTREE = "subtree", _("本组织及下级全体党员")
    TRAINING_CLASS = "training_class", _("培训班学员")
    MEMBERS = "members", _("指定党员")


class Grading(models.TextChoices):
    HIGHEST = "highest", _("取最高分")
    LAST = "last", _("取最后一次")
    FIRST = "first", _("取第一次")


class ShowAnswers(models.TextChoices):
    IMMEDIATELY = "immediately", _("交卷后立即显示")
    AFTER_CLOSE = "after_close", _("考试结束后显示")
    NEVER = "never", _("不显示")


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("答题中")
    PENDING = "pending", _("待阅卷")
    GRADED = "graded", _("已评分")


class ContestGrade(models.TextChoices):
    """The grade of a contest award, best first (chosen by the organiser from the ranked results)."""

    FIRST = "first", _("一等奖")
    SECOND = "second", _("二等奖")
    THIRD = "third", _("三等奖")
    MERIT = "merit", _("优秀奖")


class AdvanceUnit(models.TextChoices):
    """How the members advancing from a tiered round are chosen."""

    COUNT = "count", _("每个单位前N名")
    SHARE = "share", _("每个单位前百分之N")


class LiveStatus(models.TextChoices):
    """Where a live contest in a meeting room stands."""

    WAITING = "waiting", _("等待开始")
    QUESTION = "question", _("答题中")
    REVEAL = "reveal", _("公布答案")
    FINISHED = "finished", _("已结束")

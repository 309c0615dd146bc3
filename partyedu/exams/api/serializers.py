from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partyedu.core.api.fields import IdField
from partyedu.exams import keys
from partyedu.exams.choices import (
    MANUAL_TYPES,
    ExamKind,
    Grading,
    QuestionType,
    ShowAnswers,
)
from partyedu.exams.models import Attempt, AttemptQuestion, Exam, Question, QuestionBank
from partyedu.exams.services import MAX_PAPER_QUESTIONS, MAX_TAGS, MAX_TARGET_MEMBERS


def score_field(**kwargs: Any) -> serializers.DecimalField:
    """A score or points value (two decimals)."""
    return serializers.DecimalField(max_digits=7, decimal_places=2, **kwargs)


class QuestionBankSerializer(serializers.ModelSerializer):
    organization = IdField(source="organization_id", label="所属组织ID")
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    question_count = serializers.IntegerField(read_only=True, default=0, label="试题数")

    class Meta:
        model = QuestionBank
        fields = [
            "id",
            "organization",
            "organization_name",
            "title",
            "description",
            "is_active",
            "question_count",
        ]
        read_only_fields = ["id", "is_active"]
        extra_kwargs = {"description": {"required": False}}


class QuestionSerializer(serializers.Serializer):
    """A question with its current version. ``answer`` by type: single "B"; multiple "AC"; judge
    true/false; fill a list of accepted answers; essay null (give reference_answer and rubric)."""

    id = serializers.IntegerField(read_only=True)
    organization = IdField(label="组织ID", help_text="未指定题库时，试题放入该组织的默认题库", required=False)
    bank = IdField(required=False, label="题库ID")
    bank_title = serializers.CharField(source="bank.title", read_only=True)
    qtype = serializers.ChoiceField(choices=QuestionType.choices, label="题型")
    stem = serializers.CharField(max_length=5000, label="题干")
    options = serializers.ListField(
        child=serializers.CharField(max_length=keys.MAX_OPTION_LENGTH, allow_blank=True),
        required=False,
        max_length=keys.MAX_OPTIONS,
        label="选项",
    )
    answer = serializers.JSONField(required=False, allow_null=True, label="答案")
    explanation = serializers.CharField(max_length=5000, required=False, allow_blank=True, label="解析")
    reference_answer = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, label="参考答案"
    )
    rubric = serializers.CharField(max_length=5000, required=False, allow_blank=True, label="评分要点")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=MAX_TAGS, label="标签"
    )
    difficulty = serializers.IntegerField(min_value=1, max_value=5, default=3, label="难度")
    version = serializers.IntegerField(read_only=True, label="当前版本号")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("bank") and not attrs.get("organization"):
            raise serializers.ValidationError({"organization": ["请指定组织或题库"]})
        return attrs

    def to_representation(self, instance: Question) -> dict[str, Any]:
        version = instance.current_version
        return {
            "id": instance.pk,
            "organization": instance.bank.organization_id,
            "bank": instance.bank_id,
            "bank_title": instance.bank.title,
            "qtype": instance.qtype,
            "stem": version.stem if version else "",
            "options": list(version.options or []) if version else [],
            "answer": version.answer if version else None,
            "explanation": version.explanation if version else "",
            "reference_answer": version.reference_answer if version else "",
            "rubric": version.rubric if version else "",
            "tags": [t.name for t in instance.tags.all()],
            "difficulty": instance.difficulty,
            "version": version.number if version else 0,
        }


class PaperQuestionSerializer(serializers.Serializer):
    question = IdField(label="试题ID")
    score = score_field(min_value=0, max_value=1000, label="分值")


class PaperRuleSerializer(serializers.Serializer):
    qtype = serializers.ChoiceField(choices=QuestionType.choices, label="题型")
    tag = serializers.CharField(max_length=50, required=False, allow_blank=True, label="标签")
    difficulty_min = serializers.IntegerField(min_value=1, max_value=5, default=1, label="最低难度")
    difficulty_max = serializers.IntegerField(min_value=1, max_value=5, default=5, label="最高难度")
    count = serializers.IntegerField(min_value=1, max_value=MAX_PAPER_QUESTIONS, label="题数")
    score = score_field(min_value=0, max_value=1000, label="每题分值")


class ExamSerializer(serializers.ModelSerializer):
    """An exam with a fixed paper (``questions``) or a drawn one (``rules``). It is for the
    organisation's subtree unless ``target_members`` lists members (or ``training_class`` is given);
    members exempt from hard requirements are left out unless listed."""

    organization = IdField(source="organization_id", label="主办组织ID")
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    kind = serializers.ChoiceField(choices=ExamKind.choices, default=ExamKind.EXAM, label="类型")
    grading = serializers.ChoiceField(choices=Grading.choices, default=Grading.HIGHEST, label="成绩取法")
    show_answers = serializers.ChoiceField(
        choices=ShowAnswers.choices, default=ShowAnswers.AFTER_CLOSE, label="答案与解析"
    )
    time_limit_minutes = serializers.IntegerField(
        min_value=1, max_value=24 * 60, required=False, allow_null=True, label="答题时长（分钟）"
    )
    grace_seconds = serializers.IntegerField(min_value=0, max_value=600, default=60, label="交卷宽限（秒）")
    attempts_allowed = serializers.IntegerField(
        min_value=0, max_value=100, default=1, label="允许次数（0为不限）"
    )
    pass_score = score_field(min_value=0, max_value=1000, default=60, label="及格分")
    questions = PaperQuestionSerializer(
        many=True,
        required=False,
        write_only=True,
        max_length=MAX_PAPER_QUESTIONS,  # type: ignore[call-arg]  # ListSerializer takes it
        label="试题及分值",
    )
    rules = PaperRuleSerializer(
        many=True,
        required=False,
        write_only=True,
        max_length=20,  # type: ignore[call-arg]
        label="抽题规则",
    )
    target_members = serializers.ListField(
        child=IdField(), required=False, write_only=True, max_length=MAX_TARGET_MEMBERS, label="指定党员ID"
    )
    training_class = IdField(source="training_class_id", required=False, allow_null=True, label="培训班ID")
    max_score = serializers.SerializerMethodField(label="满分")

    class Meta:
        model = Exam
        fields = [
            "id",
            "organization",
            "organization_name",
            "title",
            "kind",
            "paper",
            "opens_at",
            "closes_at",
            "time_limit_minutes",
            "grace_seconds",
            "attempts_allowed",
            "grading",
            "pass_score",
            "show_answers",
            "target_kind",
            "training_class",
            "counts_as_hours",
            "credit_hours",
            "credit_kind",
            "completion_required",
            "questions",
            "rules",
            "target_members",
            "max_score",
        ]
        read_only_fields = ["id", "paper", "target_kind"]

    def get_max_score(self, obj: Exam) -> str | None:
        from partyedu.exams.drawing import paper_max_score

        value = paper_max_score(obj.paper)
        return None if value is None else str(value)


class AttemptQuestionSerializer(serializers.Serializer):
    """A question as the member sees it. ``options`` are in the order shown to this attempt;
    answers are option letters in that order."""

    id = serializers.IntegerField(label="试题ID")
    position = serializers.IntegerField(label="序号")
    qtype = serializers.ChoiceField(choices=QuestionType.choices, label="题型")
    stem = serializers.CharField(label="题干")
    options = serializers.ListField(child=serializers.CharField(), label="选项")
    score = score_field(label="分值")
    answer = serializers.JSONField(allow_null=True, label="本人作答")
    saved_at = serializers.DateTimeField(allow_null=True, label="保存时间")
    correct = serializers.BooleanField(allow_null=True, label="是否正确（交卷后）")
    points = score_field(allow_null=True, label="得分（交卷后）")
    key = serializers.JSONField(allow_null=True, label="正确答案（考试允许时，按显示顺序）")
    explanation = serializers.CharField(allow_null=True, label="解析（考试允许时）")


class AttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exam = serializers.IntegerField(source="exam_id", label="考试ID")
    exam_title = serializers.CharField(source="exam.title", label="考试名称")
    number = serializers.IntegerField(label="第几次")
    status = serializers.CharField(label="状态")
    started_at = serializers.DateTimeField(label="开始时间")
    deadline = serializers.DateTimeField(label="截止时间")
    submitted_at = serializers.DateTimeField(allow_null=True, label="交卷时间")
    max_score = score_field(label="满分")
    score = score_field(allow_null=True, label="得分")
    passed = serializers.BooleanField(allow_null=True, label="是否及格")
    questions = serializers.SerializerMethodField()

    def __init__(self, *args: Any, reveal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reveal = reveal

    def to_representation(self, instance: Attempt) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.submitted_at is None:
            data["score"] = data["passed"] = None
        return data

    @extend_schema_field(AttemptQuestionSerializer(many=True))
    def get_questions(self, obj: Attempt) -> Any:
        rows = [
            question_data(item, submitted=obj.submitted_at is not None, reveal=self.reveal)
            for item in obj.questions.all()
        ]
        return AttemptQuestionSerializer(rows, many=True).data


def question_data(item: AttemptQuestion, *, submitted: bool, reveal: bool) -> dict[str, Any]:
    """One question of an attempt as its member may see it: never a key or an explanation before
    submission, and after it only when ``reveal`` (the exam allows it)."""
    version = item.version
    qtype = version.question.qtype
    answer = getattr(item, "answer", None)
    key: Any = None
    if reveal:
        if qtype in MANUAL_TYPES:
            key = version.reference_answer
        elif item.option_order and isinstance(version.answer, str):
            shown = {original: keys.LETTERS[position] for position, original in enumerate(item.option_order)}
            key = "".join(sorted(shown[keys.LETTERS.index(ch)] for ch in version.answer))
        else:
            key = version.answer
    return {
        "id": version.question_id,
        "position": item.position,
        "qtype": qtype,
        "stem": version.stem,
        "options": keys.shown_options(list(version.options or []), item.option_order)
        if qtype != QuestionType.JUDGE
        else list(keys.JUDGE_OPTIONS),
        "score": item.score,
        "answer": answer.response if answer else None,
        "saved_at": answer.saved_at if answer else None,
        "correct": answer.is_correct if submitted and answer else None,
        "points": answer.points if submitted and answer else None,
        "key": key,
        "explanation": version.explanation if reveal else None,
    }


class AnswerSaveSerializer(serializers.Serializer):
    question = IdField(label="试题ID")
    answer = serializers.JSONField(
        allow_null=True, label="作答", help_text='单选 "B"；多选 "AC"；判断 true/false；填空、简答为文字'
    )


class AnswerSavedSerializer(serializers.Serializer):
    question = serializers.IntegerField(label="试题ID")
    answer = serializers.JSONField(allow_null=True, label="作答")
    saved_at = serializers.DateTimeField(label="保存时间")


class AttemptSubmitResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(label="状态")
    score = score_field(allow_null=True, label="得分")
    passed = serializers.BooleanField(allow_null=True, label="是否及格（待阅卷时为空）")
    submitted_at = serializers.DateTimeField(label="交卷时间")


class ExamOrganizationResultSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    name = serializers.CharField()
    targets = serializers.IntegerField(label="应考人数")
    attempted = serializers.IntegerField(label="参考人数")
    passed = serializers.IntegerField(label="及格人数")


class ExamItemResultSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    answered = serializers.IntegerField(label="作答人数")
    difficulty = serializers.FloatField(label="难度（得分率）")
    discrimination = serializers.FloatField(allow_null=True, label="区分度（点二列相关）")
    flagged = serializers.BooleanField(label="疑似有误")


class ExamResultsSerializer(serializers.Serializer):
    targets = serializers.IntegerField(label="应考人数")
    attempted = serializers.IntegerField(label="参考人数")
    passed = serializers.IntegerField(label="及格人数")
    mean_score = score_field(allow_null=True, label="平均分")
    by_organization = ExamOrganizationResultSerializer(many=True)
    items = ExamItemResultSerializer(many=True)

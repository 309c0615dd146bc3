"""Writes to exams: banks and questions (versioned), the xlsx import and export of questions,
papers, exams, attempts, answers, submission, grading and regrading.

Every service runs in one transaction, validates before it writes, checks the actor's scope on
the organisation it writes to (``PermissionDenied``; a member taking an exam they are not given
gets ``Http404``), raises ``ValidationError({field: [中文]})`` and writes its audit row in the same
transaction. ``actor=None`` is the system (demo seed, commands, jobs).

Rules encoded here:
- a question that an attempt has drawn is never edited in place: an edit makes a new version and
  past attempts keep the one they saw; only a key correction changes it, and it re-scores every
  attempt that saw it (one audit row names them);
- an attempt is started under a lock on the member's row, so two devices starting at once get the
  same open attempt and the attempts cap holds; the unique (exam, member, number) key backs it;
- an answer is saved under a lock on the attempt's row: one row per question (a save replaces the
  last), refused once the attempt is submitted or past its deadline plus the grace;
- a submit is idempotent: the second returns the first's result;
- objective questions are graded at submission (single and judge exact, multiple all or nothing,
  fill-in against every accepted answer after normalisation); short answers wait for a grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, Sum, When
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import xlsx_bytes
from partyedu.core.importing import (
    ImportFileError,
    ImportReport,
    RowError,
    Sheet,
    choice_maps,
    parse_row,
    run_import,
    sort_errors,
    validation_errors,
)
from partyedu.core.scope import has_action, is_system, require
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.study.models import TrainingClass

from .. import keys
from ..choices import MANUAL_TYPES, AttemptStatus, ExamKind, PaperKind, QuestionType, TargetKind
from ..drawing import banks_usable_at, draw, new_seed, questions_usable_at
from ..importing import FILL_SEPARATORS, HEADERS, OPTION_FIELDS, QUESTION_COLUMNS, TAG_SEPARATORS
from ..models import (
    Answer,
    Attempt,
    AttemptQuestion,
    Exam,
    ExamTarget,
    Paper,
    PaperItem,
    PaperRule,
    Question,
    QuestionBank,
    QuestionTag,
    QuestionVersion,
)
from ..targets import member_is_target
from .hours import attempts_results_changed, exam_credit_settings_changed, exam_results_changed

APP = "exams"
SCORE_PLACES = Decimal("0.01")
MAX_SCORE = Decimal("1000")
MAX_TAGS = 10
MAX_PAPER_QUESTIONS = 500
# Listed members per request: below the form-field cap a multipart body may carry (Django: 1000).
MAX_TARGET_MEMBERS = 500
MAX_STEM_LENGTH = 5000
NOT_FOUND = "考试不存在"


def _decimal(value: Any, name: str, label: str, *, low: Decimal = Decimal(0)) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({name: [f"{label}必须是数字"]}) from None
    if not number.is_finite() or number < low or number > MAX_SCORE:
        raise ValidationError({name: [f"{label}应在{low}到{MAX_SCORE}之间"]})
    return number.quantize(SCORE_PLACES)


def _text(
    data: dict[str, Any], name: str, label: str, *, required: bool = False, max_length: int = MAX_STEM_LENGTH
) -> str:
    value = data.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError({name: [f"请填写{label}"]})
    if len(text) > max_length:
        raise ValidationError({name: [f"{label}不能超过{max_length}个字符"]})
    try:
        control_chars.check_text(text)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
    return text


# --- banks ---------------------------------------------------------------------------------------------


@transaction.atomic
def bank_create(
    *, actor: Actor, organization: Organization, title: str, description: str = ""
) -> QuestionBank:
    require(actor, "add", organization, app_label=APP, message="您无权在该组织建立题库")
    bank = QuestionBank(organization=organization, title=title.strip(), description=description.strip())
    bank.full_clean()
    bank.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=bank)
    return bank


@transaction.atomic
def bank_default(*, actor: Actor, organization: Organization) -> QuestionBank:
    """The organisation's default bank (named after it), made on first use: questions added by
    organisation rather than by bank go there."""
    require(actor, "add", organization, app_label=APP, message="您无权在该组织建立题库")
    title = f"{organization.short_name or organization.name}题库"
    bank = QuestionBank.objects.filter(organization=organization, title=title).first()
    if bank is None:
        bank = bank_create(actor=actor, organization=organization, title=title)
    return bank


@transaction.atomic
def bank_update(*, actor: Actor, bank: QuestionBank, data: dict[str, Any]) -> QuestionBank:
    bank = QuestionBank.objects.select_for_update(of=("self",)).select_related("organization").get(pk=bank.pk)
    require(actor, "change", bank.organization, app_label=APP, message="您无权修改该题库")
    before = {f: getattr(bank, f) for f in ("title", "description", "is_active")}
    for name in before:
        if name in data:
            setattr(bank, name, data[name].strip() if isinstance(data[name], str) else data[name])
    bank.full_clean()
    bank.save()
    after = {f: getattr(bank, f) for f in before}
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=bank,
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    return bank


# --- questions -----------------------------------------------------------------------------------------


@dataclass
class CleanQuestion:
    qtype: str
    stem: str
    options: list[str]
    answer: Any
    explanation: str
    reference_answer: str
    rubric: str
    difficulty: int
    tags: list[str] = field(default_factory=list)


def clean_question(data: dict[str, Any]) -> CleanQuestion:
    """Every rule of a question's content, each problem under its field (``ValidationError``)."""
    errors: dict[str, list[str]] = {}
    qtype = data.get("qtype")
    if qtype not in QuestionType.values:
        errors["qtype"] = [f"题型应为：{'、'.join(str(label) for label in QuestionType.labels)}"]
    values: dict[str, Any] = {}
    for name, label, required in (
        ("stem", "题干", True),
        ("explanation", "解析", False),
        ("reference_answer", "参考答案", False),
        ("rubric", "评分要点", False),
    ):
        try:
            values[name] = _text(data, name, label, required=required)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    difficulty = data.get("difficulty", 3)
    if difficulty in (None, ""):
        difficulty = 3
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        errors["difficulty"] = ["难度应为1到5的整数"]
    tags = data.get("tags") or []
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = ["标签应为文字列表"]
        tags = []
    tags = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if len(tags) > MAX_TAGS:
        errors["tags"] = [f"标签最多{MAX_TAGS}个"]
    elif any(len(t) > QuestionTag._meta.get_field("name").max_length for t in tags):  # type: ignore[operator]
        errors["tags"] = ["每个标签不能超过50个字符"]
    options: list[str] = []
    answer: Any = None
    if "qtype" not in errors:
        try:
            options = keys.clean_options(str(qtype), data.get("options") or [])
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            try:
                answer = keys.clean_key(str(qtype), options, data.get("answer"))
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return CleanQuestion(
        qtype=str(qtype),
        stem=values["stem"],
        options=options,
        answer=answer,
        explanation=values["explanation"],
        reference_answer=values["reference_answer"],
        rubric=values["rubric"],
        difficulty=int(difficulty),
        tags=tags,
    )


def _tags(names: list[str]) -> list[QuestionTag]:
    existing = {t.name: t for t in QuestionTag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _ = QuestionTag.objects.get_or_create(name=name)
    return [existing[name] for name in names]


def _version_fields(clean: CleanQuestion) -> dict[str, Any]:
    return {
        "stem": clean.stem,
        "options": clean.options,
        "answer": clean.answer,
        "explanation": clean.explanation,
        "reference_answer": clean.reference_answer,
        "rubric": clean.rubric,
    }


def duplicate_of(bank: QuestionBank, stem: str, *, exclude: int | None = None) -> Question | None:
    """A question of the bank whose stem is the same once normalised."""
    found = Question.objects.filter(bank=bank, normalized_stem=keys.normalize_stem(stem))
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.order_by("pk").first()


def _question_write(bank: QuestionBank, clean: CleanQuestion, actor: Actor) -> Question:
    question = Question.objects.create(
        bank=bank,
        qtype=clean.qtype,
        difficulty=clean.difficulty,
        normalized_stem=keys.normalize_stem(clean.stem),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    version = QuestionVersion.objects.create(question=question, number=1, **_version_fields(clean))
    question.current_version = version
    question.save(update_fields=["current_version"])
    if clean.tags:
        question.tags.set(_tags(clean.tags))
    return question


@transaction.atomic
def question_create(*, actor: Actor, bank: QuestionBank, data: dict[str, Any]) -> Question:
    """Add a question to a bank; refused when the bank already holds the same stem."""
    require(actor, "add", bank.organization, app_label=APP, message="您无权向该题库添加试题")
    clean = clean_question(data)
    twin = duplicate_of(bank, clean.stem)
    if twin is not None:
        raise ValidationError({"stem": [f"题库中已有相同题干的试题（编号{twin.pk}）"]})
    question = _question_write(bank, clean, actor)
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=question, changes={"qtype": clean.qtype, "bank": bank.pk}
    )
    return question


def version_drawn(version_id: int | None) -> bool:
    return version_id is not None and AttemptQuestion.objects.filter(version_id=version_id).exists()


@transaction.atomic
def question_update(*, actor: Actor, question: Question, data: dict[str, Any]) -> Question:
    """Edit a question. One that an attempt has drawn gets a new version (past attempts keep the
    one they saw); one never drawn is edited in place. The type cannot change once drawn."""
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("bank__organization", "current_version")
        .get(pk=question.pk)
    )
    require(actor, "change", question.bank.organization, app_label=APP, message="您无权修改该试题")
    current = question.current_version
    assert current is not None  # every question is written with its first version
    merged = {
        "qtype": question.qtype,
        "difficulty": question.difficulty,
        "tags": list(question.tags.values_list("name", flat=True)),
        **{
            k: getattr(current, k)
            for k in ("stem", "options", "answer", "explanation", "reference_answer", "rubric")
        },
        **data,
    }
    if merged["qtype"] == QuestionType.JUDGE and "options" not in data:
        merged["options"] = []
    clean = clean_question(merged)
    drawn = version_drawn(current.pk)
    if drawn and clean.qtype != question.qtype:
        raise ValidationError({"qtype": ["已被作答的试题不能更改题型，请新建试题"]})
    twin = duplicate_of(question.bank, clean.stem, exclude=question.pk)
    if twin is not None:
        raise ValidationError({"stem": [f"题库中已有相同题干的试题（编号{twin.pk}）"]})
    fields = _version_fields(clean)
    changed = {k: [getattr(current, k), v] for k, v in fields.items() if getattr(current, k) != v}
    if drawn and changed:
        current = QuestionVersion.objects.create(question=question, number=current.number + 1, **fields)
        question.current_version = current
    elif changed:
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
    question.qtype = clean.qtype
    question.difficulty = clean.difficulty
    question.normalized_stem = keys.normalize_stem(clean.stem)
    question.save()
    question.tags.set(_tags(clean.tags))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=question,
        changes={**{k: [str(v[0]), str(v[1])] for k, v in changed.items()}, "version": current.number},
    )
    return question


# A key correction re-scores at most this many attempts in the request; more are re-scored by a
# background job with a progress page (``exams.jobs``; 100,000 attempts take about 11 s).
REGRADE_INLINE_MAX = 5000
# The audit row names the re-scored attempts up to this many (and always says how many).
AUDIT_IDS_MAX = 200


@dataclass
class KeyCorrection:
    """What a key correction did: the attempts re-scored now, or the job that re-scores them."""

    attempt_ids: list[int]
    job: Any = None  # core.models.Job when the re-scoring was left to a background job
    pending: int = 0  # attempts the job will re-score


def question_key_correct(*, actor: Actor, question: Question, answer: Any) -> list[int]:
    """Correct the key of the question's current version (a wrong key found after the exam) and
    re-score every attempt that saw that version, now. Returns the ids of the attempts re-scored."""
    return question_key_fix(actor=actor, question=question, answer=answer, inline_max=None).attempt_ids


@transaction.atomic
def question_key_fix(
    *, actor: Actor, question: Question, answer: Any, inline_max: int | None = REGRADE_INLINE_MAX
) -> KeyCorrection:
    """Correct the key of the question's current version and re-score the attempts that saw it:
    in this transaction up to ``inline_max`` of them (None: always), else by a background job
    queued in this transaction (it re-scores under the key then in force; running it again writes
    nothing, so a killed worker's retry is safe)."""
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("bank__organization", "current_version")
        .get(pk=question.pk)
    )
    require(actor, "change", question.bank.organization, app_label=APP, message="您无权修改该试题")
    version = question.current_version
    assert version is not None
    if question.qtype == QuestionType.ESSAY:
        raise ValidationError({"answer": ["简答题由阅卷人评分，没有标准答案可更正"]})
    new_key = keys.clean_key(question.qtype, version.options, answer)
    old_key = version.answer
    if new_key == old_key:
        return KeyCorrection([])
    version.answer = new_key
    version.save(update_fields=["answer"])
    affected = (
        AttemptQuestion.objects.filter(version=version, attempt__submitted_at__isnull=False).count()
        if inline_max is not None
        else 0
    )
    if inline_max is not None and affected > inline_max:
        from ..jobs import regrade_enqueue

        job = regrade_enqueue(actor=actor, version=version, label=f"更正答案后重新评分：{question}")
        result = KeyCorrection([], job=job, pending=affected)
        message = f"更正答案，{affected}份答卷由后台任务重新评分"
    else:
        result = KeyCorrection(_regrade_version(version))
        message = f"更正答案并重新评分{len(result.attempt_ids)}份答卷"
    changes: dict[str, Any] = {
        "answer": [old_key, new_key],
        "version": version.number,
        "regraded_count": len(result.attempt_ids) or affected,
    }
    if len(result.attempt_ids) <= AUDIT_IDS_MAX:
        changes["regraded_attempts"] = result.attempt_ids
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=question, changes=changes, message=message)
    return result


# --- import and export ---------------------------------------------------------------------------------


@dataclass
class _QuestionImportPlan:
    bank: QuestionBank
    new: list[CleanQuestion] = field(default_factory=list)
    changed: list[Any] = field(default_factory=list)
    matched: int = 0


def _row_question(values: dict[str, Any]) -> dict[str, Any]:
    qtype = values.get("qtype") or ""
    options = [values.get(name) or "" for name in OPTION_FIELDS]
    answer: Any = values.get("answer") or ""
    if qtype == QuestionType.FILL and answer:
        answer = [part for part in FILL_SEPARATORS.split(answer) if part.strip()]
    elif qtype == QuestionType.ESSAY:
        values = {**values, "reference_answer": answer}
        answer = None
    tags = [t for t in TAG_SEPARATORS.split(values.get("tags") or "") if t]
    return {
        "qtype": qtype,
        "stem": values.get("stem") or "",
        "options": options,
        "answer": answer,
        "explanation": values.get("explanation") or "",
        "reference_answer": values.get("reference_answer") or "",
        "difficulty": values.get("difficulty") if values.get("difficulty") is not None else 3,
        "tags": tags,
    }


def _question_import_check(bank: QuestionBank) -> Any:
    def check(actor: Actor, sheet: Sheet, report: ImportReport) -> _QuestionImportPlan:
        maps = choice_maps(sheet.columns)
        plan = _QuestionImportPlan(bank=bank)
        errors: list[RowError] = []
        existing = dict(Question.objects.filter(bank=bank).values_list("normalized_stem", "pk"))
        first_row_of: dict[str, int] = {}
        for row in sheet.rows:
            values, row_errors = parse_row(row, sheet.columns, maps)
            failed = {e.column for e in row_errors}
            try:
                clean = clean_question(_row_question(values))
            except ValidationError as exc:
                row_errors.extend(
                    e for e in validation_errors(row.number, exc, HEADERS) if e.column not in failed
                )
                errors.extend(row_errors)
                continue
            stem_key = keys.normalize_stem(clean.stem)
            if stem_key in existing:
                row_errors.append(
                    RowError(
                        row.number, HEADERS["stem"], f"题库中已有相同题干的试题（编号{existing[stem_key]}）"
                    )
                )
            first = first_row_of.setdefault(stem_key, row.number)
            if first != row.number:
                row_errors.append(RowError(row.number, HEADERS["stem"], f"与第{first}行题干重复"))
            errors.extend(row_errors)
            if not row_errors:
                plan.new.append(clean)
        report.errors = sort_errors(errors, QUESTION_COLUMNS)
        return plan

    return check


def questions_import(
    *, actor: Actor, bank: QuestionBank, file: Any, filename: str, dry_run: bool
) -> ImportReport:
    """Import questions into a bank from the published template (题型, 题干, 选项A–F, 答案, 解析,
    难度, 标签). A dry run reports every row's problems as ``第N行 列名: 问题``; a real run writes
    all rows or none, with one audit row. A stem already in the bank (normalised) is an error."""
    require(actor, "import", bank.organization, app_label=APP, message="您无权向该题库导入试题")

    def write(plan: Any) -> dict[str, Any]:
        for clean in plan.new:
            _question_write(plan.bank, clean, actor)
        return {"bank": plan.bank.pk}

    return run_import(
        actor=actor,
        file=file,
        filename=filename,
        dry_run=dry_run,
        columns=QUESTION_COLUMNS,
        check=_question_import_check(bank),
        write=write,
        object_type=Question._meta.label_lower,
        noun="试题",
        conflict_message="导入期间题库被他人修改，数据未写入，请重新导入",
    )


def questions_import_into(
    *, actor: Actor, bank_id: int, file: Any, filename: str, dry_run: bool
) -> ImportReport:
    """``questions_import`` by the bank's id: what the import page and its background job call (a
    job carries JSON parameters, not a bank). A bank deleted since the upload ends the import."""
    bank = QuestionBank.objects.filter(pk=bank_id, is_active=True).select_related("organization").first()
    if bank is None:
        raise ImportFileError("题库不存在或已停用，请重新选择题库后上传")
    return questions_import(actor=actor, bank=bank, file=file, filename=filename, dry_run=dry_run)


def questions_export(*, actor: Actor, bank: QuestionBank) -> bytes:
    """The bank's active questions in the import template's columns (audited as an export)."""
    require(actor, "export", bank.organization, app_label=APP, message="您无权导出该题库")
    rows = []
    questions = (
        Question.objects.filter(bank=bank, is_active=True)
        .select_related("current_version")
        .prefetch_related("tags")
        .order_by("pk")
    )
    for question in questions:
        version = question.current_version
        if version is None:
            continue
        options = list(version.options or []) + [""] * (len(OPTION_FIELDS) - len(version.options or []))
        answer = (
            version.reference_answer
            if question.qtype == QuestionType.ESSAY
            else keys.key_display(question.qtype, version.answer)
        )
        rows.append(
            [
                question.get_qtype_display(),
                version.stem,
                *options,
                answer,
                version.explanation,
                question.difficulty,
                "、".join(t.name for t in question.tags.all()),
            ]
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            obj=bank,
            changes={"rows": len(rows)},
            message=f"导出试题{len(rows)}道",
        )
    return xlsx_bytes("试题", [c.header for c in QUESTION_COLUMNS], rows)


# --- papers --------------------------------------------------------------------------------------------


def _clean_items(organization: Organization, items: Any) -> list[tuple[Question, Decimal]]:
    if not isinstance(items, list | tuple) or not items:
        raise ValidationError({"questions": ["请至少选择一道试题"]})
    if len(items) > MAX_PAPER_QUESTIONS:
        raise ValidationError({"questions": [f"一份试卷最多{MAX_PAPER_QUESTIONS}道题"]})
    ids = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "question" not in item or "score" not in item:
            raise ValidationError({"questions": [f"第{index}题应包含试题编号和分值"]})
        ids.append(item["question"])
    if len(set(ids)) != len(ids):
        raise ValidationError({"questions": ["同一道试题不能重复选入"]})
    usable = questions_usable_at(path=organization.path).in_bulk(ids)
    cleaned = []
    for index, item in enumerate(items, start=1):
        question = usable.get(item["question"])
        if question is None:
            raise ValidationError(
                {"questions": [f"第{index}题：试题{item['question']}不存在或不能在该组织使用"]}
            )
        score = _decimal(item["score"], "questions", f"第{index}题的分值")
        if score <= 0:
            raise ValidationError({"questions": [f"第{index}题的分值应大于0"]})
        cleaned.append((question, score))
    return cleaned


def _clean_rules(organization: Organization, rules: Any) -> list[PaperRule]:
    if not isinstance(rules, list | tuple) or not rules:
        raise ValidationError({"rules": ["请至少设置一条抽题规则"]})
    cleaned = []
    usable: set[int] | None = None
    for index, rule in enumerate(rules, start=1):
        prefix = f"第{index}条规则"
        if not isinstance(rule, dict):
            raise ValidationError({"rules": [f"{prefix}格式有误"]})
        bank_id = rule.get("bank")
        if bank_id in (None, ""):
            bank_id = None
        else:
            if usable is None:
                usable = set(banks_usable_at([organization.path]).values_list("pk", flat=True))
            if isinstance(bank_id, bool) or not isinstance(bank_id, int) or bank_id not in usable:
                raise ValidationError({"rules": [f"{prefix}：所选题库不能在该组织使用"]})
        if rule.get("qtype") not in QuestionType.values:
            raise ValidationError({"rules": [f"{prefix}：题型有误"]})
        tag = None
        if rule.get("tag"):
            tag = QuestionTag.objects.filter(name=str(rule["tag"]).strip()).first()
            if tag is None:
                raise ValidationError({"rules": [f"{prefix}：没有标签“{rule['tag']}”"]})
        low, high = rule.get("difficulty_min") or 1, rule.get("difficulty_max") or 5
        if not all(isinstance(v, int) and 1 <= v <= 5 for v in (low, high)) or low > high:
            raise ValidationError({"rules": [f"{prefix}：难度范围应在1到5之间且下限不高于上限"]})
        count = rule.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PAPER_QUESTIONS:
            raise ValidationError({"rules": [f"{prefix}：题数应为1到{MAX_PAPER_QUESTIONS}的整数"]})
        score = _decimal(rule.get("score"), "rules", f"{prefix}的每题分值")
        if score <= 0:
            raise ValidationError({"rules": [f"{prefix}的每题分值应大于0"]})
        cleaned.append(
            PaperRule(
                position=index,
                qtype=rule["qtype"],
                bank_id=bank_id,
                tag=tag,
                difficulty_min=low,
                difficulty_max=high,
                count=count,
                score_each=score,
            )
        )
    return cleaned


@transaction.atomic
def paper_create(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    questions: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    shuffle_questions: bool = False,
    shuffle_options: bool = True,
) -> Paper:
    """A fixed paper (``questions``: question and score) or a rule-drawn one (``rules``). A rule
    that the banks usable at the organisation cannot fill is refused with the rule named (the
    preview shows it as a warning before)."""
    require(actor, "add", organization, app_label=APP, message="您无权在该组织组卷")
    if bool(questions) == bool(rules):
        raise ValidationError({"questions": ["请选择试题或设置抽题规则（二者选一）"]})
    paper = Paper(
        organization=organization,
        title=title.strip(),
        kind=PaperKind.FIXED if questions else PaperKind.RULE,
        shuffle_questions=shuffle_questions,
        shuffle_options=shuffle_options,
    )
    paper.full_clean()
    if questions:
        items = _clean_items(organization, questions)
        paper.save()
        PaperItem.objects.bulk_create(
            PaperItem(paper=paper, question=q, score=s, position=i) for i, (q, s) in enumerate(items, start=1)
        )
    else:
        cleaned = _clean_rules(organization, rules)
        paper.save()
        for rule in cleaned:
            rule.paper = paper
        PaperRule.objects.bulk_create(cleaned)
        warnings = draw(paper, 0).warnings
        if warnings:
            raise ValidationError({"rules": warnings})
    audit_record(actor=actor, action=AuditAction.CREATE, obj=paper, changes={"kind": paper.kind})
    return paper


# --- exams ---------------------------------------------------------------------------------------------

EXAM_FIELDS = (
    "title",
    "kind",
    "opens_at",
    "closes_at",
    "time_limit_minutes",
    "grace_seconds",
    "attempts_allowed",
    "grading",
    "pass_score",
    "show_answers",
    "counts_as_hours",
    "credit_hours",
    "credit_kind",
    "completion_required",
)
# The most hours one exam may credit (a full day of study, DOMAIN_RULES 学时: full day = 8).
MAX_CREDIT_HOURS = Decimal(8)


def _targets(actor: Actor, exam: Exam, member_ids: list[int]) -> list[Member]:
    if len(member_ids) > MAX_TARGET_MEMBERS:
        raise ValidationError({"target_members": [f"一次最多指定{MAX_TARGET_MEMBERS}名党员"]})
    if len(set(member_ids)) != len(member_ids):
        raise ValidationError({"target_members": ["党员不能重复"]})
    members = Member.objects.filter(pk__in=member_ids, is_active=True)
    if not is_system(actor):
        members = members.restrict(actor, "view", app_label=APP)
    found = list(members)
    if len(found) != len(member_ids):
        raise ValidationError({"target_members": ["所列党员不存在或不在您的管理范围内"]})
    return found


def _apply_exam(exam: Exam, data: dict[str, Any]) -> None:
    for name in EXAM_FIELDS:
        if name in data:
            setattr(exam, name, data[name])
    exam.full_clean(exclude=["paper"])
    errors: dict[str, list[str]] = {}
    if exam.closes_at <= exam.opens_at:
        errors["closes_at"] = ["截止时间应晚于开始时间"]
    if exam.time_limit_minutes == 0:
        errors["time_limit_minutes"] = ["答题时长应大于0分钟，不限时请留空"]
    if exam.pass_score < 0:
        errors["pass_score"] = ["及格分不能为负数"]
    if exam.counts_as_hours:
        if exam.kind != ExamKind.EXAM:
            errors["counts_as_hours"] = ["练习和竞赛轮次不计入学时，只有考试可以计入"]
        elif not Decimal(0) < exam.credit_hours <= MAX_CREDIT_HOURS:
            errors["credit_hours"] = [f"计入学时数应大于0且不超过{MAX_CREDIT_HOURS}学时"]
    if errors:
        raise ValidationError(errors)


def _check_completion(exam: Exam) -> None:
    """作为结业条件 only for an exam of a training class (its targets are known by now)."""
    if exam.completion_required and (
        exam.kind != ExamKind.EXAM or exam.target_kind != TargetKind.TRAINING_CLASS
    ):
        raise ValidationError({"completion_required": ["只有面向培训班学员的考试才能作为结业条件"]})


@transaction.atomic
def exam_create(*, actor: Actor, organization: Organization, data: dict[str, Any]) -> Exam:
    """Create an exam with its paper: ``paper`` (an existing one of the organisation), or
    ``questions`` / ``rules`` for a new one named after the exam. ``target_members`` lists the
    members it is for (else the organisation's subtree, or ``training_class``'s members); members
    named there are in the targets even when exempt."""
    require(actor, "add", organization, app_label=APP, message="您无权在该组织发布考试")
    exam = Exam(
        organization=organization,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _apply_exam(exam, data)
    paper = data.get("paper")
    if paper is not None:
        if paper.organization_id != organization.pk:
            raise ValidationError({"paper": ["试卷应属于主办组织"]})
    else:
        paper = paper_create(
            actor=actor,
            organization=organization,
            title=exam.title,
            questions=data.get("questions"),
            rules=data.get("rules"),
            shuffle_questions=bool(data.get("shuffle_questions", False)),
            shuffle_options=bool(data.get("shuffle_options", True)),
        )
    exam.paper = paper
    training_class = data.get("training_class")
    member_ids = data.get("target_members") or []
    if training_class is not None:
        if not isinstance(training_class, TrainingClass) or not training_class.organization.path.startswith(
            organization.path
        ):
            raise ValidationError({"training_class": ["培训班应由主办组织或其下级举办"]})
        exam.training_class = training_class
        exam.target_kind = TargetKind.TRAINING_CLASS
    elif data.get("target_members") is not None and member_ids:
        exam.target_kind = TargetKind.MEMBERS
    if exam.kind == ExamKind.PRACTICE:
        exam.attempts_allowed = 0
    _check_completion(exam)
    exam.save()
    if member_ids:
        ExamTarget.objects.bulk_create(
            ExamTarget(exam=exam, member=m) for m in _targets(actor, exam, member_ids)
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=exam,
        changes={"paper": paper.pk, "target_kind": exam.target_kind, "targets": len(member_ids)},
    )
    if exam.completion_required:
        exam_credit_settings_changed(exam=exam, before={}, actor=actor)
    return exam


@transaction.atomic
def exam_update(*, actor: Actor, exam: Exam, data: dict[str, Any]) -> Exam:
    """Change an exam's window, limits, grading or display. Its paper stays once attempted."""
    exam = Exam.objects.select_for_update(of=("self",)).select_related("organization").get(pk=exam.pk)
    require(actor, "change", exam.organization, app_label=APP, message="您无权修改该考试")
    before = {name: getattr(exam, name) for name in EXAM_FIELDS}
    _apply_exam(exam, data)
    _check_completion(exam)
    exam.save()
    # A change of what the results credit (hours, kind, grading, completion condition) is carried
    # to the ledger and the classes completed here, or by a job for a large exam.
    exam_credit_settings_changed(exam=exam, before=before, actor=actor)
    changes = {
        k: [str(before[k]), str(getattr(exam, k))] for k in EXAM_FIELDS if before[k] != getattr(exam, k)
    }
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=exam, changes=changes)
    return exam


# --- attempts ------------------------------------------------------------------------------------------


def _taker(actor: Actor) -> Member:
    if actor is None or not actor.is_authenticated or not has_action(actor, "take", APP):
        raise Http404(NOT_FOUND)
    member = Member.objects.filter(user=actor, is_active=True).first()
    if member is None:
        raise Http404(NOT_FOUND)
    return member


def _expired(attempt: Attempt, now: datetime) -> bool:
    return now > attempt.deadline + timedelta(seconds=attempt.exam.grace_seconds)


@transaction.atomic
def attempt_start(*, actor: Actor, exam: Exam) -> Attempt:
    """Start (or resume) the actor's attempt at an exam they are given. An attempt still open is
    returned as it is, so a second device or a reload resumes it; an open one past its time is
    submitted first. A new attempt draws its questions from a fresh seed."""
    member = _taker(actor)
    exam = Exam.objects.select_related("paper__organization").get(pk=exam.pk)
    if not member_is_target(exam, member):
        raise Http404(NOT_FOUND)
    # The member's row is the lock: starts of one member are serialised, other members' are not.
    Member.objects.select_for_update(of=("self",)).filter(pk=member.pk).first()
    now = timezone.now()
    attempts = list(Attempt.objects.filter(exam=exam, member=member).order_by("number"))
    for attempt in attempts:
        if attempt.status == AttemptStatus.IN_PROGRESS:
            attempt.exam = exam
            if not _expired(attempt, now):
                return attempt
            _finalize(attempt, now)
    if now < exam.opens_at:
        raise ValidationError({"exam": ["考试尚未开始"]})
    if now >= exam.closes_at:
        raise ValidationError({"exam": ["考试已截止"]})
    if exam.attempts_allowed and len(attempts) >= exam.attempts_allowed:
        raise ValidationError({"exam": [f"您已用完本次考试的全部答题次数（{exam.attempts_allowed}次）"]})
    seed = new_seed()
    drawn = draw(exam.paper, seed)
    if not drawn.items:
        raise ValidationError({"exam": ["试卷没有可用的试题，请联系出题组织"]})
    deadline = exam.closes_at
    if exam.time_limit_minutes:
        deadline = min(deadline, now + timedelta(minutes=exam.time_limit_minutes))
    attempt = Attempt.objects.create(
        exam=exam,
        member=member,
        number=len(attempts) + 1,
        seed=seed,
        started_at=now,
        deadline=deadline,
        max_score=drawn.max_score,
    )
    AttemptQuestion.objects.bulk_create(
        AttemptQuestion(
            attempt=attempt,
            position=i,
            version_id=item.version_id,
            score=item.score,
            option_order=item.option_order,
        )
        for i, item in enumerate(drawn.items, start=1)
    )
    return attempt


def _lock_own(actor: Actor, attempt: Attempt) -> Attempt:
    """The actor's own attempt, locked (with its exam), else 404: saves and submissions of one
    attempt are serialised, other attempts' are not."""
    member = _taker(actor)
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("exam")
        .filter(pk=attempt.pk, member=member)
        .first()
    )
    if locked is None:
        raise Http404("答卷不存在")
    return locked


@transaction.atomic
def answer_save(*, actor: Actor, attempt: Attempt, question: Any, response: Any) -> Answer:
    """Save the member's answer to one question of their attempt (again replaces it). Refused for
    a question not in the attempt, after submission, and after the deadline plus the grace."""
    attempt = _lock_own(actor, attempt)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise ValidationError({"answer": ["本次答卷已交卷，不能再修改答案"]})
    now = timezone.now()
    if _expired(attempt, now):
        raise ValidationError({"answer": ["答题时间已到，答案未能保存"]})
    item = (
        AttemptQuestion.objects.select_related("version__question")
        .filter(attempt=attempt, version__question_id=question)
        .first()
        if isinstance(question, int) and not isinstance(question, bool)
        else None
    )
    if item is None:
        raise ValidationError({"question": ["该题不在本次答卷中"]})
    version = item.version
    value = keys.clean_response(version.question.qtype, len(version.options or []), response)
    # The attempt's row is locked, so nobody else writes its answers now: an UPDATE, else an INSERT
    # (no savepoint, no read first — the save is the hottest request of a live exam).
    answer = Answer(attempt_question=item, response=value, saved_at=now)
    if not Answer.objects.filter(attempt_question=item).update(response=value, saved_at=now):
        answer.save(force_insert=True)
    return answer


def _marked(item: AttemptQuestion, answer: Answer | None) -> tuple[bool, Decimal] | None:
    """(correct, points) of one question of a submitted attempt; None for a written short answer
    that waits for a grader (a blank one scores 0 at once; one already given points keeps them)."""
    qtype = item.version.question.qtype
    response = answer.response if answer else None
    if qtype in MANUAL_TYPES:
        if response not in (None, "") and str(response).strip():
            if answer is not None and answer.points is not None:  # already given (a practice self-check)
                return bool(answer.is_correct), answer.points
            return None
        return False, Decimal(0)
    marked = keys.mark(qtype, item.version.answer, response, item.option_order, item.score)
    assert marked is not None
    return marked


REGRADE_CHUNK = 5000


def _chunked(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + REGRADE_CHUNK] for i in range(0, len(ids), REGRADE_CHUNK)]


def _regrade_version(version: QuestionVersion) -> list[int]:
    """Re-mark every submitted answer to ``version`` under its (corrected) key and carry the
    change of each answer's points into its attempt's score; returns the ids of the attempts
    that saw the version. Set-based, so that an exam of 100,000 attempts is regraded in seconds:
    each distinct (response, option order, score) is marked once, only answers whose mark changes
    are written (by groups of equal marks), and scores move by their difference (by groups of
    equal differences) — never a re-sum of every answer. The attempts are locked first (in id
    order), so a grade given meanwhile waits and is counted."""
    qtype = version.question.qtype
    rows = list(
        AttemptQuestion.objects.filter(version=version, attempt__submitted_at__isnull=False)
        .order_by()
        .values_list(
            "pk",
            "attempt_id",
            "attempt__exam_id",
            "option_order",
            "score",
            "answer__pk",
            "answer__response",
            "answer__is_correct",
            "answer__points",
        )
    )
    attempt_ids = sorted({row[1] for row in rows})
    for chunk in _chunked(attempt_ids):
        list(
            Attempt.objects.select_for_update(of=("self",))
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk")
        )
    now = timezone.now()
    memo: dict[str, tuple[bool, Decimal]] = {}
    groups: dict[tuple[bool, Decimal], list[int]] = {}
    missing: list[Answer] = []
    moves: dict[tuple[int, Decimal], list[int]] = {}  # (exam, difference) -> attempts
    for item_id, attempt_id, exam_id, order, score, answer_id, response, was_correct, was_points in rows:
        memo_key = repr((response, order, score))
        if memo_key not in memo:
            marked = keys.mark(qtype, version.answer, response, order or [], score)
            assert marked is not None
            memo[memo_key] = marked
        correct, points = memo[memo_key]
        if answer_id is None:
            missing.append(
                Answer(
                    attempt_question_id=item_id,
                    response=None,
                    saved_at=now,
                    is_correct=correct,
                    points=points,
                )
            )
        elif (was_correct, was_points) == (correct, points):
            continue
        else:
            groups.setdefault((correct, points), []).append(answer_id)
        difference = points - (was_points or Decimal(0))
        if difference:
            moves.setdefault((exam_id, difference), []).append(attempt_id)
    for (correct, points), answer_ids in groups.items():
        for chunk in _chunked(answer_ids):
            Answer.objects.filter(pk__in=chunk).update(is_correct=correct, points=points)
    if missing:
        Answer.objects.bulk_create(missing, batch_size=REGRADE_CHUNK)
    pass_scores = dict(
        Exam.objects.filter(pk__in={exam for exam, _d in moves}).values_list("pk", "pass_score")
    )
    for (exam_id, difference), ids in moves.items():
        for chunk in _chunked(ids):
            attempts = Attempt.objects.filter(pk__in=chunk)
            attempts.update(score=F("score") + difference, updated_at=now)
            attempts.filter(status=AttemptStatus.GRADED).update(
                passed=Case(When(score__gte=pass_scores[exam_id], then=True), default=False)
            )
    # A pass that became a fail (or the reverse, or another counted attempt) corrects the hours
    # the exam credits and the classes it decides, in this transaction.
    attempts_results_changed(attempt_ids=sorted({a for (_e, _d), ids in moves.items() for a in ids}))
    return attempt_ids


def _total(attempt: Attempt) -> None:
    """The attempt's score from its answers; pending while a short answer waits for a grader."""
    totals = Answer.objects.filter(attempt_question__attempt=attempt).aggregate(points=Sum("points"))
    ungraded = (
        AttemptQuestion.objects.filter(attempt=attempt)
        .exclude(answer__points__isnull=False)
        .aggregate(n=Count("pk"))["n"]
    )
    attempt.score = (totals["points"] or Decimal(0)).quantize(SCORE_PLACES)
    if ungraded:
        attempt.status, attempt.passed = AttemptStatus.PENDING, None
    else:
        attempt.status = AttemptStatus.GRADED
        attempt.passed = attempt.score >= attempt.exam.pass_score
    attempt.save(update_fields=["score", "status", "passed", "updated_at"])


def _finalize(attempt: Attempt, now: datetime) -> None:
    """Submit a locked, open attempt: mark every objective question (unanswered ones score 0) and
    total it, in a fixed handful of statements whatever the number of questions (the marks are
    computed here and written by one bulk UPDATE and one INSERT)."""
    attempt.submitted_at = min(now, attempt.deadline + timedelta(seconds=attempt.exam.grace_seconds))
    items = list(
        AttemptQuestion.objects.filter(attempt=attempt).select_related("version__question", "answer")
    )
    changed: list[Answer] = []
    created: list[Answer] = []
    total, waiting = Decimal(0), False
    for item in items:
        answer: Answer | None = getattr(item, "answer", None)
        marked = _marked(item, answer)
        if marked is None:
            waiting = True
            continue
        correct, points = marked
        total += points
        if answer is None:
            created.append(
                Answer(attempt_question=item, response=None, saved_at=now, is_correct=correct, points=points)
            )
        else:
            answer.is_correct, answer.points = correct, points
            changed.append(answer)
    if changed:
        Answer.objects.bulk_update(changed, ["is_correct", "points"])
    if created:
        Answer.objects.bulk_create(created)
    attempt.score = total.quantize(SCORE_PLACES)
    if waiting:
        attempt.status, attempt.passed = AttemptStatus.PENDING, None
    else:
        attempt.status = AttemptStatus.GRADED
        attempt.passed = attempt.score >= attempt.exam.pass_score
    attempt.save(update_fields=["submitted_at", "score", "status", "passed", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        obj=attempt,
        username=attempt.member.user.get_username() if attempt.member.user_id and attempt.member.user else "",
        changes={"submitted": True, "score": str(attempt.score), "status": attempt.status},
        message="交卷",
    )
    exam_results_changed(exam=attempt.exam, member_ids=[attempt.member_id])


@transaction.atomic
def attempt_submit(*, actor: Actor, attempt: Attempt) -> Attempt:
    """Submit the actor's attempt and grade its objective questions. Submitting again (a retry
    after a timeout) returns the same result and changes nothing."""
    member = _taker(actor)
    # The member's row first, then the attempt: the order of attempt_start (which submits an expired
    # attempt under the member's lock), and submitting may credit hours, which locks the member.
    Member.objects.select_for_update(of=("self",)).filter(pk=member.pk).first()
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("exam", "member__user")
        .filter(pk=attempt.pk, member=member)
        .first()
    )
    if locked is None:
        raise Http404("答卷不存在")
    if locked.status == AttemptStatus.IN_PROGRESS:
        _finalize(locked, timezone.now())
    return locked


def attempts_close_expired(*, now: datetime | None = None) -> int:
    """Submit every open attempt past its deadline plus the grace (the per-minute step's work; a
    reading page does not write). Each attempt is submitted in its own transaction, and one being
    saved or submitted at that moment (locked) is left to its own request or the next run, so two
    schedulers at once never submit an attempt twice. Returns how many were submitted."""
    now = now or timezone.now()
    count = 0
    candidates = Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS, deadline__lt=now).values_list(
        "pk", "member_id"
    )
    for pk, member_id in list(candidates):
        with transaction.atomic():
            # The member's row before the attempt, as attempt_start and attempt_submit take them; a
            # member busy in another request is left to it or to the next run.
            member = (
                Member.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=member_id)
                .values_list("pk", flat=True)
                .first()
            )
            if member is None:
                continue
            attempt = (
                Attempt.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("exam", "member__user")
                .filter(pk=pk, status=AttemptStatus.IN_PROGRESS)
                .first()
            )
            if attempt is not None and _expired(attempt, now):
                _finalize(attempt, now)
                count += 1
    return count


@transaction.atomic
def answer_grade(*, actor: Actor, answer: Answer, points: Any) -> Answer:
    """A grader's score for a short answer, within the question's points; the attempt is graded
    when its last short answer is."""
    answer = (
        Answer.objects.select_for_update(of=("self",))
        .select_related(
            "attempt_question__attempt__exam__organization",
            "attempt_question__attempt__member",
            "attempt_question__version__question",
        )
        .get(pk=answer.pk)
    )
    item = answer.attempt_question
    attempt = item.attempt
    require(actor, "change", attempt.member.org_path, app_label=APP, message="您无权评阅该答卷")
    # An exam of a level above reaching the grader's members is graded by its owner.
    require(actor, "change", attempt.exam.organization, app_label=APP, message="您无权评阅该答卷")
    if item.version.question.qtype not in MANUAL_TYPES:
        raise ValidationError({"points": ["客观题自动评分，不能人工改分"]})
    if attempt.submitted_at is None:
        raise ValidationError({"points": ["答卷尚未交卷"]})
    value = _decimal(points, "points", "得分")
    if value > item.score:
        raise ValidationError({"points": [f"得分不能超过本题分值{item.score}"]})
    before = answer.points
    answer.points = value
    answer.is_correct = value == item.score
    answer.graded_by = actor if actor is not None and actor.is_authenticated else None
    answer.graded_at = timezone.now()
    answer.save()
    attempt = Attempt.objects.select_for_update(of=("self",)).select_related("exam").get(pk=attempt.pk)
    _total(attempt)
    exam_results_changed(exam=attempt.exam, member_ids=[attempt.member_id], actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=attempt,
        changes={"question": item.version.question_id, "points": [str(before), str(value)]},
        message="简答题评分",
    )
    return answer

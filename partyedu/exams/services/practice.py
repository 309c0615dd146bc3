"""Writes of practice sets (应知应会): an answer checked at once, and a round over the questions of
the member's wrong-answer book (再练错题).

Only a practice set ever marks an answer before submission: ``practice_answer`` refuses an exam,
so the instant marking can never leak an exam's key. A question is checked once per round (after
the key is shown, answering it again would prove nothing); a later round asks it again. The
marking is stored on the answer (``is_correct``, ``points``) so that the wrong-answer book works
from what was saved, even for a round the member never submits. Nothing here is reported upward:
practice is seen by organisers only as "has practised".
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.members.models import Member

from .. import keys
from ..choices import CHOICE_TYPES, MANUAL_TYPES, AttemptStatus, ExamKind
from ..drawing import new_seed
from ..models import Answer, Attempt, AttemptQuestion, Exam, Question
from ..selectors.take import wrong_question_ids
from ..targets import member_is_target
from . import _finalize, _lock_own, _taker, answer_save

NOT_PRACTICE = "只有练习可以即时查看对错"


@transaction.atomic
def practice_answer(*, actor: Actor, attempt: Attempt, question: Any, response: Any) -> Answer:
    """Save the member's answer to one question of their practice round and mark it at once (the
    page then shows ``selectors.take.practice_feedback``). Refused for an exam, for a question
    already checked in this round, and for an empty answer."""
    locked = _lock_own(actor, attempt)
    if locked.exam.kind != ExamKind.PRACTICE:
        raise ValidationError({"answer": [NOT_PRACTICE]})
    item = (
        AttemptQuestion.objects.select_related("version__question", "answer")
        .filter(attempt=locked, version__question_id=question)
        .first()
        if isinstance(question, int) and not isinstance(question, bool)
        else None
    )
    if item is None:
        raise ValidationError({"question": ["该题不在本次练习中"]})
    done = getattr(item, "answer", None)
    if done is not None and done.points is not None:
        raise ValidationError({"answer": ["本题已作答，请继续下一题"]})
    if response is None or (isinstance(response, str) and not response.replace("｜", "").strip()):
        raise ValidationError({"answer": ["请先作答再确定"]})
    answer = answer_save(actor=actor, attempt=locked, question=question, response=response)
    qtype = item.version.question.qtype
    if qtype in MANUAL_TYPES:
        # A short answer in practice is compared with the reference answer by the member; it
        # scores nothing and never waits for a grader.
        answer.is_correct, answer.points = None, Decimal(0)
    else:
        marked = keys.mark(qtype, item.version.answer, answer.response, item.option_order, item.score)
        assert marked is not None
        answer.is_correct, answer.points = marked
    answer.save(update_fields=["is_correct", "points"])
    return answer


@transaction.atomic
def practice_retry_start(*, actor: Actor, exam: Exam) -> Attempt:
    """A practice round over just the questions of the member's wrong-answer book for ``exam``
    (their current versions, options shuffled afresh). A round still open is submitted first so
    the member has one open round at a time; its answers are kept and marked."""
    member = _taker(actor)
    exam = Exam.objects.select_related("paper__organization").get(pk=exam.pk)
    if exam.kind != ExamKind.PRACTICE or not member_is_target(exam, member):
        raise Http404("练习不存在")
    Member.objects.select_for_update(of=("self",)).filter(pk=member.pk).first()
    now = timezone.now()
    if not exam.opens_at <= now < exam.closes_at:
        raise ValidationError({"exam": ["练习不在开放时间内"]})
    attempts = list(Attempt.objects.filter(exam=exam, member=member).order_by("number"))
    for open_attempt in attempts:
        if open_attempt.status == AttemptStatus.IN_PROGRESS:
            locked = (
                Attempt.objects.select_for_update(of=("self",))
                .select_related("exam", "member__user")
                .get(pk=open_attempt.pk)
            )
            if locked.status == AttemptStatus.IN_PROGRESS:
                _finalize(locked, now)
    assert actor is not None  # _taker let only a signed-in member through
    wrong = wrong_question_ids(user=actor, exam=exam)
    if not wrong:
        raise ValidationError({"exam": ["本练习没有需要再练的错题"]})
    last_scores = dict(
        AttemptQuestion.objects.filter(answer__pk__in=list(wrong.values())).values_list(
            "version__question_id", "score"
        )
    )
    questions = list(
        Question.objects.filter(pk__in=list(wrong), current_version__isnull=False)
        .select_related("current_version")
        .order_by("pk")
    )
    if not questions:
        raise ValidationError({"exam": ["错题已被出题人停用，暂时无法再练"]})
    seed = new_seed()
    rng = random.Random(seed)
    rng.shuffle(questions)
    deadline = exam.closes_at
    if exam.time_limit_minutes:
        deadline = min(deadline, now + timedelta(minutes=exam.time_limit_minutes))
    scores = [last_scores.get(q.pk, Decimal(1)) for q in questions]
    attempt = Attempt.objects.create(
        exam=exam,
        member=member,
        number=len(attempts) + 1,
        seed=seed,
        started_at=now,
        deadline=deadline,
        max_score=sum(scores, Decimal(0)),
    )
    items = []
    for position, (question, score) in enumerate(zip(questions, scores, strict=True), start=1):
        version = question.current_version
        assert version is not None
        order = list(range(len(version.options or []))) if question.qtype in CHOICE_TYPES else []
        if order and exam.paper.shuffle_options:
            rng.shuffle(order)
        items.append(
            AttemptQuestion(
                attempt=attempt, position=position, version=version, score=score, option_order=order
            )
        )
    AttemptQuestion.objects.bulk_create(items)
    return attempt

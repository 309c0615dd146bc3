"""Keeping the learning ledger and the completion of training classes in step with exam results
(``exams.credit`` says what results are worth). Called inside the transaction that changed the
results — a submission, a grade, a regrade — or an exam's crediting settings; the learning
services append the correcting ledger rows and refresh the summaries there, so a rolled-back
change leaves nothing behind.

Only exams that matter are looked at: a submission of an exam that credits no hours and decides
no class's completion costs nothing more."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.hooks import hooks
from partyedu.learning.services.ledger import learning_classes_sync, learning_hours_sync_source

from ..choices import ExamKind, TargetKind
from ..credit import HOURS_SOURCE
from ..models import Attempt, Exam

# First attempts re-derived inside the request that changed an exam's crediting; more go to a
# background job (``jobs.HOURS_KIND``).
HOURS_INLINE_MAX = 2000
# Settings whose change alters what an exam's results credit or which attempt counts.
CREDIT_FIELDS = ("kind", "counts_as_hours", "credit_hours", "credit_kind", "grading", "attempts_allowed")
# Settings whose change may alter whether a member passed the exam (the counted attempt).
COUNTED_FIELDS = ("kind", "grading", "attempts_allowed")


def _decides_completion(exam: Exam) -> bool:
    return bool(
        exam.completion_required
        and exam.kind == ExamKind.EXAM
        and exam.target_kind == TargetKind.TRAINING_CLASS
        and exam.training_class_id
    )


def _passes_changed(exam_ids: Iterable[int], member_ids: Iterable[int], actor: Actor) -> None:
    """Whether the members passed these exams may have changed: the apps above that credit a
    passed exam (points) re-derive it through ``exams.results_changed``."""
    hooks.call(
        "exams.results_changed",
        exam_ids=sorted(set(exam_ids)),
        member_ids=sorted(set(member_ids)),
        actor=actor,
    )


def exam_results_changed(*, exam: Exam, member_ids: Iterable[int], actor: Actor = None) -> None:
    """After the given members' results at ``exam`` changed (a submission, a grade): credit or
    correct the hours the exam credits them, and their classes completed when the exam is a
    completion condition; tell the apps above (points) through ``exams.results_changed``."""
    members = sorted(set(member_ids))
    if not members or exam.kind != ExamKind.EXAM:
        return
    _credit_results(exam, members, actor)
    _passes_changed([exam.pk], members, actor)


def _credit_results(exam: Exam, members: list[int], actor: Actor) -> None:
    if exam.counts_as_hours:
        anchors = list(
            Attempt.objects.filter(exam=exam, member_id__in=members, number=1)
            .order_by()
            .values_list("pk", flat=True)
        )
        if anchors:
            learning_hours_sync_source(source_type=HOURS_SOURCE, ids=anchors, actor=actor, member_ids=members)
    if _decides_completion(exam):
        learning_classes_sync(member_ids=members, actor=actor)


def attempts_results_changed(*, attempt_ids: Iterable[int], actor: Actor = None) -> None:
    """After a regrade changed the scores of ``attempt_ids`` (of any exams): the same for every
    member and exam concerned, an exam at a time (one query to find them)."""
    ids = sorted(set(attempt_ids))
    if not ids:
        return
    members: dict[int, set[int]] = defaultdict(set)
    crediting: set[int] = set()  # exams that credit hours or decide a class's completion
    for chunk in (ids[i : i + 5000] for i in range(0, len(ids), 5000)):
        for exam_id, member_id, counts_as_hours, completion_required in (
            Attempt.objects.filter(pk__in=chunk, exam__kind=ExamKind.EXAM)
            .order_by()
            .values_list("exam_id", "member_id", "exam__counts_as_hours", "exam__completion_required")
        ):
            members[exam_id].add(member_id)
            if counts_as_hours or completion_required:
                crediting.add(exam_id)
    if not members:
        return
    for exam in Exam.objects.filter(pk__in=sorted(crediting)).order_by("pk"):
        _credit_results(exam, sorted(members[exam.pk]), actor)
    _passes_changed(members, {m for ms in members.values() for m in ms}, actor)


def exam_hours_resync(*, exam: Exam, actor: Actor = None) -> int:
    """Re-derive what every member's results at ``exam`` credit (after its crediting settings
    changed: switched on or off, other hours or kind, another grading rule). Returns how many
    ledger rows were appended."""
    anchors = list(Attempt.objects.filter(exam=exam, number=1).order_by("pk").values_list("pk", flat=True))
    if not anchors:
        return 0
    return learning_hours_sync_source(source_type=HOURS_SOURCE, ids=anchors, actor=actor)


@transaction.atomic(savepoint=False)
def exam_credit_settings_changed(*, exam: Exam, before: dict[str, Any], actor: Actor = None) -> Any:
    """After ``exam_create`` / ``exam_update`` saved ``exam`` (``before``: its crediting settings
    before, empty for a new exam): re-derive its hours when they may have changed — in this
    transaction up to ``HOURS_INLINE_MAX`` members, else by a background job queued in it (it is
    returned) — and the completion of its class's members when it became, or stopped being, a
    completion condition (or its counted attempt may have changed)."""
    job = None
    if any(before.get(name, getattr(exam, name)) != getattr(exam, name) for name in COUNTED_FIELDS):
        # Another counted attempt: who passed may change. Inline up to HOURS_INLINE_MAX members;
        # a larger exam's points follow at the nightly recount (docs/points.md).
        takers = list(
            Attempt.objects.filter(exam=exam, number=1)
            .order_by()
            .values_list("member_id", flat=True)[: HOURS_INLINE_MAX + 1]
        )
        if 0 < len(takers) <= HOURS_INLINE_MAX:
            _passes_changed([exam.pk], takers, actor)
    hours_may_change = any(
        before.get(name, getattr(exam, name)) != getattr(exam, name) for name in CREDIT_FIELDS
    )
    if hours_may_change and (exam.counts_as_hours or before.get("counts_as_hours")):
        first_attempts = Attempt.objects.filter(exam=exam, number=1).count()
        if first_attempts > HOURS_INLINE_MAX:
            from ..jobs import hours_enqueue

            job = hours_enqueue(actor=actor, exam=exam)
        elif first_attempts:
            exam_hours_resync(exam=exam, actor=actor)
    was_condition = bool(before.get("completion_required")) and before.get("kind") == ExamKind.EXAM
    now_condition = _decides_completion(exam)
    if exam.training_class_id and (was_condition != now_condition or (now_condition and hours_may_change)):
        learning_classes_sync(class_ids=[exam.training_class_id], actor=actor)
    return job

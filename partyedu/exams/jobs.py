"""Background work of the exams app: re-scoring the attempts that saw a question version after
its key was corrected, when there are more than a request should carry
(``services.REGRADE_INLINE_MAX``), and re-deriving the learning hours of a large exam whose
crediting settings changed (``HOURS_KIND``).

The request corrects the key (locked, audited) and queues the job in its transaction; the job
starts once that commits and re-scores every submitted attempt of the version under the key then
in force (``services._regrade_version``: set-based, in one transaction). Running it again writes
nothing — it writes only answers whose mark differs and moves scores by the difference — so a
worker killed mid-way is simply run again. One job per version at a time (its key); a second
correction while it is queued is picked up by it, and one while it runs queues the next."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from partyedu.accounts.types import Actor
from partyedu.core.jobs import JobFailed, Progress, job_enqueue, job_kind
from partyedu.core.models import Job

from .models import Exam, QuestionVersion

REGRADE_KIND = "exams.regrade"
# Re-deriving the learning hours an exam's results credit after its crediting settings changed,
# when it has more members than a request should carry (``services.hours.HOURS_INLINE_MAX``).
# Like the regrade it computes from the settings then in force and appends only what differs, so
# running it again writes nothing.
HOURS_KIND = "exams.hours_resync"


def regrade_enqueue(*, actor: Actor, version: QuestionVersion, label: str) -> Job:
    """Queue the re-scoring of ``version``'s attempts (inside the transaction that corrected it)."""
    return job_enqueue(
        actor=actor,
        kind=REGRADE_KIND,
        label=label[:200],
        params={
            "version": version.pk,
            "back_url": reverse("exams:question_detail", args=[version.question_id]),
        },
        key=f"{REGRADE_KIND}:{version.pk}",
    )


@job_kind(REGRADE_KIND, "更正答案后重新评分")
def regrade_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from .services import _regrade_version

    version = QuestionVersion.objects.select_related("question").filter(pk=job.params.get("version")).first()
    if version is None:
        raise JobFailed("该试题版本已不存在，无需重新评分")
    progress(0, 1, "正在重新评分…")
    with transaction.atomic():
        attempt_ids = _regrade_version(version)
    progress(1, 1, "已完成")
    return {"regraded": len(attempt_ids), "summary": f"已按更正后的答案重新评分{len(attempt_ids)}份答卷"}


def hours_enqueue(*, actor: Actor, exam: Exam) -> Job:
    """Queue the re-derivation of ``exam``'s learning hours (inside the transaction that changed
    its crediting settings)."""
    return job_enqueue(
        actor=actor,
        kind=HOURS_KIND,
        label=f"考试学时重新核算：{exam.title}"[:200],
        params={"exam": exam.pk, "back_url": reverse("exams:exam_detail", args=[exam.pk])},
        key=f"{HOURS_KIND}:{exam.pk}",
    )


@job_kind(HOURS_KIND, "考试学时重新核算")
def hours_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from .services.hours import exam_hours_resync

    exam = Exam.objects.filter(pk=job.params.get("exam")).first()
    if exam is None:
        raise JobFailed("该考试已不存在，无需核算学时")
    progress(0, 1, "正在核算学时…")
    with transaction.atomic():
        appended = exam_hours_resync(exam=exam, actor=None)
    progress(1, 1, "已完成")
    return {"appended": appended, "summary": f"已按考试的学时设置更正{appended}条学时记录"}

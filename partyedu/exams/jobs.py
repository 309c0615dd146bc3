"""Background work of the exams app: re-scoring the attempts that saw a question version after
its key was corrected, when there are more than a request should carry
(``services.REGRADE_INLINE_MAX``).

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

from .models import QuestionVersion

REGRADE_KIND = "exams.regrade"


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

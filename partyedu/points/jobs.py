"""Background work of the points app: re-deriving a scheme's year for a subtree larger than a
request should carry (``services.ledger.SCHEME_INLINE_MAX`` members) after the scheme was
created or changed.

The request saves the scheme (locked, audited) and queues the job in its transaction; the job
starts once that commits and syncs the subtree's members in batches of ``SCHEME_CHUNK``, each
batch in its own transaction under the members' locks. A sync appends only what differs from the
ledger, so a worker killed mid-way is simply run again, and a second change while the job is
queued is picked up by it (one job per scheme at a time: its key)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from partyedu.accounts.types import Actor
from partyedu.core.jobs import JobFailed, Progress, job_enqueue, job_kind
from partyedu.core.models import Job

from .models import PointsScheme

SCHEME_KIND = "points.scheme_resync"


def scheme_resync_enqueue(*, actor: Actor, scheme: PointsScheme) -> Job:
    """Queue the re-derivation of ``scheme``'s year (inside the transaction that changed it)."""
    return job_enqueue(
        actor=actor,
        kind=SCHEME_KIND,
        label=f"积分重新核算：{scheme.name}"[:200],
        params={"scheme": scheme.pk, "back_url": reverse("points:scheme_edit", args=[scheme.pk])},
        key=f"{SCHEME_KIND}:{scheme.pk}",
    )


@job_kind(SCHEME_KIND, "积分方案调整后重新核算")
def scheme_resync_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from .services.ledger import points_sync_scheme_batches, scheme_member_ids

    scheme = PointsScheme.objects.select_related("organization").filter(pk=job.params.get("scheme")).first()
    if scheme is None:
        raise JobFailed("该积分方案已不存在，无需重新核算")
    ids = scheme_member_ids(scheme)
    progress(0, len(ids), "正在按调整后的方案重新核算积分…")
    appended = points_sync_scheme_batches(
        scheme=scheme, member_ids=ids, actor=None, each=lambda done, total: progress(done, total)
    )
    progress(len(ids), len(ids), "已完成")
    return {
        "members": len(ids),
        "appended": appended,
        "summary": f"已为{len(ids)}名党员重新核算积分，追加更正记录{appended}条",
    }

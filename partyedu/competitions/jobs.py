"""Background work of the competitions app: 下载全部证书, every valid certificate of a
competition in one ZIP (``competitions.certificate_batch``).

The job keeps who asked, the competition's id and the address the certificates' QR codes point
to, never a list of certificates: when it runs, the awards are selected again through the same
selectors and scope as the award list, so a certificate revoked or a role withdrawn meanwhile
is left out. It writes no rows (a retry after a crash builds the same file again and replaces
the earlier attempt's) and no audit row: a single certificate download writes none either.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import User, Viewer
from partyedu.core.jobs import JobFailed, Progress, job_enqueue, job_kind
from partyedu.core.models import Job

from . import selectors
from .certificates import UNSAFE_FILENAME, certificate_batch_zip
from .models import Award, Competition

BATCH_KIND = "competitions.certificate_batch"
NO_CERTIFICATES = "该评选没有可下载的有效证书（尚未评定奖项，或证书均已撤销）"


def certificate_batch_awards(*, user: Viewer, competition: Competition) -> QuerySet[Award]:
    """The awards of the competition the user may see whose certificate is valid (not revoked),
    in the award list's order, with what a certificate page needs."""
    return (
        selectors.award_list(user=user, competition=competition)
        .filter(certificate__isnull=False, certificate__revoked_at__isnull=True)
        .select_related("competition__organization")
    )


def certificate_batch_enqueue(*, actor: User, competition: Competition, count: int, verify_base: str) -> Job:
    """Queue the ZIP of the competition's certificates for ``actor``; the same person asking
    again while it is unfinished gets that job. ``verify_base``: the absolute address of the
    verification page, to which a certificate's code and "/" are appended."""
    return job_enqueue(
        actor=actor,
        kind=BATCH_KIND,
        label=f"下载全部证书：{competition.title}（{count}张）",
        params={
            "competition": competition.pk,
            "verify_base": verify_base,
            "back_url": reverse("competitions:award_list", args=[competition.pk]),
        },
        key=f"{BATCH_KIND}:{competition.pk}:{actor.pk}",
    )


@job_kind(BATCH_KIND, "下载全部证书")
def certificate_batch_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    starter = job.created_by_id
    user = None if starter is None else get_user_model().objects.filter(pk=starter, is_active=True).first()
    if user is None:
        raise JobFailed("发起下载的账号已不存在或已停用")
    try:
        competition = selectors.competition_get(user=user, pk=job.params.get("competition"))
    except Http404:
        raise JobFailed("该评选已不存在或不在您的权限范围内") from None
    awards = list(certificate_batch_awards(user=user, competition=competition))
    if not awards:
        raise JobFailed(NO_CERTIFICATES)
    total = len(awards)
    progress(done=0, total=total, message="正在生成证书")
    base = job.params["verify_base"]
    content = certificate_batch_zip(
        [award.certificate for award in awards],
        lambda code: f"{base}{code}/",
        title=competition.title,
        progress=lambda done: progress(done=done, message=f"已生成证书{done}张"),
    )
    name = UNSAFE_FILENAME.sub("_", competition.title).strip(" .")[:60] or "评选"
    progress.attach(f"证书_{name}_{timezone.localdate():%Y%m%d}.zip", content)
    return {"summary": f"已打包有效证书{total}张：每张一个PDF，另附一份合并打印的PDF", "count": total}

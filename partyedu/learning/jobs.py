"""Background work of the learning app: the recount of a subtree's members after its hour
requirement was set or removed (``learning.requirement_recount``), and the export of the members
still short of their requirement when the list is too long for a request
(``learning.short_export``, see ``partyedu.core.export_jobs``).

The request saves the rule (checks, audit) and queues the job in its transaction; the job starts
once that commits and counts every member of the subtree under the rule then in force
(``recount.requirements_recount``: set-based SQL, in short transactions that never lock members).
The job keeps the organisation's id, never its path (an organisation moved meanwhile is recounted
where it now is).

One recount per subtree and person at a time, and never one that misses a change: a queued
recount has not read the rules yet, so a second save returns it (locked until the save commits,
so that it cannot start before); a running one may have read them already, so a save meanwhile
queues the next one (keys ``…#2``, ``…#3``). The recount itself runs again when the rules changed
while it counted. Running it twice is harmless: it writes only differences.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse

from partyedu.accounts.types import Actor, User
from partyedu.core.choices import JobStatus
from partyedu.core.export_jobs import ExportFile, RowProgress, export_job_kind, export_job_or_none, query_int
from partyedu.core.jobs import JobFailed, Progress, job_enqueue, job_kind
from partyedu.core.models import Job
from partyedu.organizations.models import Organization

RECOUNT_KIND = "learning.requirement_recount"
SHORT_EXPORT_KIND = "learning.short_export"
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
# Recounts of one subtree by one person that can be running at once before a save gives up
# deduplicating (each running one read the rules before the save).
MAX_KEYS = 20


def _key(actor: Actor, organization: Organization) -> str:
    return f"{RECOUNT_KIND}:{organization.pk}:{getattr(actor, 'pk', None) or 0}"


def requirement_recount_unfinished(*, actor: Actor, organization: Organization) -> Job | None:
    """The person's recount of the subtree that is queued or running, if any (the newest)."""
    base = _key(actor, organization)
    return (
        Job.objects.filter(Q(key=base) | Q(key__startswith=f"{base}#"), status__in=UNFINISHED)
        .order_by("-created_at")
        .first()
    )


def requirement_recount_enqueue(*, actor: Actor, organization: Organization) -> Job:
    """Queue the recount of ``organization``'s subtree (call inside the transaction that changed
    its rule), or return the person's recount of it that is still queued."""
    base = _key(actor, organization)
    params = {"organization": organization.pk, "back_url": reverse("learning:requirement_list")}
    label = f"按学时要求重新核算“{organization.name}”"
    for n in range(1, MAX_KEYS + 1):
        key = base if n == 1 else f"{base}#{n}"
        queued = Job.objects.select_for_update().filter(key=key, status=JobStatus.QUEUED).first()
        if queued is not None:
            return queued
        if not Job.objects.filter(key=key, status=JobStatus.RUNNING).exists():
            return job_enqueue(actor=actor, kind=RECOUNT_KIND, label=label, params=params, key=key)
    return job_enqueue(actor=actor, kind=RECOUNT_KIND, label=label, params=params)


def recount_summary(name: str, members_changed: int, completions_changed: int) -> str:
    parts = [f"已按现行学时要求核算“{name}”及下级党员"]
    if members_changed:
        parts.append(f"{members_changed}名党员适用的学时要求随之调整")
    else:
        parts.append("没有党员适用的学时要求因此改变")
    if completions_changed:
        parts.append(f"{completions_changed}人次的年度达标情况随之改变")
    return "；".join(parts)


@job_kind(RECOUNT_KIND, "重新核算学时要求")
def requirement_recount_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from .recount import RecountTally, requirements_recount

    organization = Organization.objects.filter(pk=job.params.get("organization")).first()
    if organization is None:
        raise JobFailed("该党组织已不存在，无需核算")
    # What an interrupted earlier attempt counted: recorded with each batch it committed.
    done = job.result or {}
    tally = RecountTally(
        members_changed=int(done.get("members_changed", 0)),
        completions_changed=int(done.get("completions_changed", 0)),
    )

    def record(tally: RecountTally) -> None:
        Job.objects.filter(pk=job.pk).update(result=tally.as_dict())

    tally = requirements_recount(path=organization.path, tally=tally, progress=progress, on_batch=record)
    return {
        **tally.as_dict(),
        "summary": recount_summary(organization.name, tally.members_changed, tally.completions_changed),
    }


# --- the list of members short of their requirement, as xlsx -------------------------------------


def short_export_rows(*, user: User, organization: Organization, year: int) -> int:
    """The length of the short list from stored counts: required minus completed members in the
    summary rows when they are complete (and in the user's scope), else the subtree's member
    count (an upper bound)."""
    from .selectors import learning_summary_from_rows

    summary = learning_summary_from_rows(user=user, organization=organization, year=year)
    return summary.short if summary is not None else organization.member_count


def short_export_job_or_none(*, actor: User, organization: Organization, year: int) -> Job | None:
    """None when the short list of ``organization``'s subtree is short enough to download at once;
    otherwise its export job (the same one while unfinished)."""
    query = urlencode({"organization": organization.pk, "year": year})
    return export_job_or_none(
        actor=actor,
        kind=SHORT_EXPORT_KIND,
        label=f"导出“{organization.name}”{year}年学时未达标名单",
        query=query,
        rows=short_export_rows(user=actor, organization=organization, year=year),
        back_url=f"{reverse('learning:summary')}?{query}",
    )


@export_job_kind(SHORT_EXPORT_KIND, "导出学时未达标名单")
def short_export_job(*, user: User, query: QueryDict, progress: Progress) -> ExportFile:
    from .services import learning_short_export

    pk, year = query_int(query, "organization"), query_int(query, "year")
    organization = Organization.objects.filter(pk=pk).first() if pk is not None else None
    if organization is None or year is None:
        raise JobFailed("该党组织已不存在，无法导出")
    rows = RowProgress(
        progress,
        total=short_export_rows(user=user, organization=organization, year=year),
        message="正在生成学时未达标名单",
    )
    # The service checks the export scope again for ``user`` before it reads a row.
    content = learning_short_export(actor=user, organization=organization, year=year, progress=rows)
    return ExportFile(f"{year}年学时未达标名单", content, f"已导出学时未达标党员{rows.rows}名")


# --- the ledger after the table of which activities credit hours changed ---------------------------

CREDIT_RESYNC_KIND = "learning.credit_resync"


def _credit_key(actor: Actor, organization: Organization, activity_type: str) -> str:
    return f"{CREDIT_RESYNC_KIND}:{organization.pk}:{activity_type}:{getattr(actor, 'pk', None) or 0}"


def credit_resync_unfinished(*, actor: Actor, organization: Organization, activity_type: str) -> Job | None:
    """The person's re-sync of the subtree's activities of the type that is queued or running."""
    base = _credit_key(actor, organization, activity_type)
    return (
        Job.objects.filter(Q(key=base) | Q(key__startswith=f"{base}#"), status__in=UNFINISHED)
        .order_by("-created_at")
        .first()
    )


def credit_resync_enqueue(*, actor: Actor, organization: Organization, activity_type: str) -> Job:
    """Queue the re-sync of the attendance at the subtree's activities of the type (call inside
    the transaction that changed the rule), or return the person's one still queued: it has not
    read the rules yet. A running one may have, so a change meanwhile queues the next (``…#2``)."""
    from partyedu.study.choices import ActivityType

    base = _credit_key(actor, organization, activity_type)
    params = {
        "organization": organization.pk,
        "activity_type": activity_type,
        "back_url": f"{reverse('learning:credit_rules')}?organization={organization.pk}",
    }
    label = f"按学时认定规则重新核算“{organization.name}”的{ActivityType(activity_type).label}学时"
    for n in range(1, MAX_KEYS + 1):
        key = base if n == 1 else f"{base}#{n}"
        queued = Job.objects.select_for_update().filter(key=key, status=JobStatus.QUEUED).first()
        if queued is not None:
            return queued
        if not Job.objects.filter(key=key, status=JobStatus.RUNNING).exists():
            return job_enqueue(actor=actor, kind=CREDIT_RESYNC_KIND, label=label, params=params, key=key)
    return job_enqueue(actor=actor, kind=CREDIT_RESYNC_KIND, label=label, params=params)


def credit_resync_summary(name: str, type_label: str, attendance: int, rows: int) -> str:
    parts = [f"已按现行学时认定规则核对“{name}”及下级{type_label}的出勤记录{attendance}条"]
    parts.append(f"追加更正学时记录{rows}条" if rows else "学时无需更正")
    return "，".join(parts)


@job_kind(CREDIT_RESYNC_KIND, "按学时认定规则重新核算学时")
def credit_resync_job(*, job: Job, progress: Progress) -> dict[str, Any]:
    from partyedu.study.choices import ActivityType

    from .services import activity_credit_resync

    organization = Organization.objects.filter(pk=job.params.get("organization")).first()
    activity_type = str(job.params.get("activity_type", ""))
    if organization is None:
        raise JobFailed("该党组织已不存在，无需核算")
    if activity_type not in ActivityType.values:
        raise JobFailed("活动类型不存在，无需核算")
    tally = activity_credit_resync(
        actor=job.created_by, organization=organization, activity_type=activity_type, progress=progress
    )
    type_label = str(ActivityType(activity_type).label)
    return {
        "attendance": tally.attendance,
        "rows": tally.rows,
        "summary": credit_resync_summary(organization.name, type_label, tally.attendance, tally.rows),
    }

"""Which activities credit hours (DOMAIN_RULES 学时 "Activities that credit hours"): the per-type
table of a subtree (policy of the organisation departments) and the re-derivation of the ledger a
change of it starts.

A change never edits a ledger line. It re-syncs the attendance the change can affect — attended
rows of activities of that type in the subtree, without their own 认定学时, outside deeper
subtrees that set their own rule for the type — through the ledger's ordinary sync, which appends
correcting lines where what a row credits now differs from the ledger's net for it. A few hundred
rows are re-synced in the request's transaction; more by a background job
(``learning.credit_resync``) that starts once the change commits, reads the rules then in force
and syncs in short transactions. Running either again appends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.jobs import Progress
from partyedu.core.models import Job
from partyedu.core.scope import require, require_policy, subtree_q
from partyedu.organizations.models import Organization
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType, AttendanceStatus

from ..choices import CreditMode, SourceType
from ..credit_selectors import credit_modes_at
from ..jobs import credit_resync_enqueue, credit_resync_unfinished
from ..models import ActivityCreditRule
from ._common import APP, SCOPE_MESSAGE
from .ledger import _sync_sources, desired_for_attendance

CREDIT_POLICY_MESSAGE = "活动学时认定规则由组织部门（组织部/工委管理员）设定"
CREDIT_RULE_FIELDS = ("activity_type", "mode")
# Attendance rows re-synced within the request that changed the table; more go to a job.
CREDIT_INLINE_MAX = 300
# Attendance rows a job reads at a time (synced in the ledger's chunks, each its own transaction).
CREDIT_RESYNC_BATCH = 2000
# What the correcting lines say the correction was for.
CREDIT_WORD = "学时认定调整"


@dataclass(frozen=True)
class CreditRuleChange:
    """A type's rule set or removed at a subtree. ``changed``: the table differs from what was
    stored (saving the same mode again changes nothing). When the mode in force changed, the
    ledger follows: ``attendance`` rows re-synced and ``rows`` correcting lines appended in the
    request, or ``job`` (``learning.credit_resync``) doing it after commit for many rows; saving
    unchanged values returns the starter's re-sync still under way, if any."""

    rule: ActivityCreditRule | None
    changed: bool
    job: Job | None = None
    attendance: int = 0
    rows: int = 0


@dataclass(frozen=True)
class ResyncTally:
    """What a re-sync did: attendance rows looked at, correcting ledger lines appended."""

    attendance: int = 0
    rows: int = 0


def _mode_at(path: str, activity_type: str) -> str:
    return credit_modes_at(path)[activity_type]


def credit_affected_attendance(*, organization: Organization, activity_type: str) -> QuerySet[Any]:
    """The attendance rows whose hours follow the type's rule at the organisation: attended (or a
    confirmed 补学), at activities of the type in the subtree without their own 认定学时, outside
    deeper subtrees with their own rule for the type. In id order."""
    from partyedu.study.models import Attendance

    path = organization.path
    deeper = list(
        ActivityCreditRule.objects.filter(
            subtree_q("organization__path", [path]), activity_type=activity_type
        )
        .exclude(organization__path=path)
        .values_list("organization__path", flat=True)
    )
    rows = Attendance.objects.filter(
        subtree_q("activity__organization__path", [path]),
        Q(status__in=ATTENDED_STATUSES)
        | Q(status=AttendanceStatus.MAKEUP, makeup_confirmed_at__isnull=False),
        activity__activity_type=activity_type,
        activity__credited_hours__isnull=True,
    )
    if deeper:
        rows = rows.exclude(subtree_q("activity__organization__path", deeper))
    return rows.order_by("pk")


def activity_credit_resync(
    *, actor: Actor, organization: Organization, activity_type: str, progress: Progress | None = None
) -> ResyncTally:
    """Re-sync every attendance row the type's rule at the organisation governs, in batches, each
    chunk of the ledger sync in its own transaction (call outside a transaction: the job). Reads
    the rules in force as it goes; appends only differences, so a second run appends nothing."""
    rows = credit_affected_attendance(organization=organization, activity_type=activity_type)
    total = rows.count()
    if progress is not None:
        progress(0, total, "正在按新的学时认定规则核对出勤记录")
    last, done, appended = 0, 0, 0
    while True:
        ids = list(rows.filter(pk__gt=last).values_list("pk", flat=True)[:CREDIT_RESYNC_BATCH])
        if not ids:
            break
        appended += _sync_sources(
            source_type=SourceType.ATTENDANCE,
            ids=ids,
            desired_fn=desired_for_attendance,
            actor=actor,
            word=CREDIT_WORD,
        )
        last, done = ids[-1], done + len(ids)
        if progress is not None:
            progress(done, max(total, done))
    return ResyncTally(attendance=done, rows=appended)


def _follow(*, actor: Actor, organization: Organization, activity_type: str) -> tuple[Job | None, int, int]:
    """Bring the ledger in line with the changed rule: inline for a few hundred rows, else queue
    the job. Returns (job, attendance rows re-synced inline, lines appended inline)."""
    rows = credit_affected_attendance(organization=organization, activity_type=activity_type)
    ids = list(rows.values_list("pk", flat=True)[: CREDIT_INLINE_MAX + 1])
    if len(ids) > CREDIT_INLINE_MAX:
        return (
            credit_resync_enqueue(actor=actor, organization=organization, activity_type=activity_type),
            0,
            0,
        )
    appended = _sync_sources(
        source_type=SourceType.ATTENDANCE,
        ids=ids,
        desired_fn=desired_for_attendance,
        actor=actor,
        word=CREDIT_WORD,
    )
    return None, len(ids), appended


def _check(activity_type: str, mode: str) -> None:
    errors = {}
    if activity_type not in ActivityType.values:
        errors["activity_type"] = ["请选择活动类型"]
    if mode not in CreditMode.values:
        errors["mode"] = ["请选择学时认定方式"]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def activity_credit_rule_set(
    *, actor: Actor, organization: Organization, activity_type: str, mode: str
) -> CreditRuleChange:
    """Set how attending activities of ``activity_type`` credits hours in the organisation's
    subtree (overriding any rule above it; deeper rules for the type keep theirs), audited; the
    ledger of the affected attendance follows through correcting lines (inline or by a job, see
    the module). Saving the mode already stored is a no-op."""
    require(actor, "change", organization, app_label=APP, message=SCOPE_MESSAGE)
    require_policy(actor, organization, CREDIT_POLICY_MESSAGE)
    _check(activity_type, mode)
    rule = (
        ActivityCreditRule.objects.select_for_update()
        .filter(organization=organization, activity_type=activity_type)
        .first()
    )
    if rule is not None and rule.mode == mode:
        unfinished = credit_resync_unfinished(
            actor=actor, organization=organization, activity_type=activity_type
        )
        return CreditRuleChange(rule, False, unfinished)
    in_force = _mode_at(organization.path, activity_type)
    before = snapshot(rule, CREDIT_RULE_FIELDS) if rule is not None else {}
    rule = rule or ActivityCreditRule(organization=organization, activity_type=activity_type)
    rule.mode = mode
    rule.full_clean()
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        # Another department admin created the same rule a moment ago.
        raise ValidationError({"mode": ["该规则刚被其他人设定，请刷新后重试"]}) from None
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=rule,
        changes=diff(before, snapshot(rule, CREDIT_RULE_FIELDS)),
    )
    if mode == in_force:
        return CreditRuleChange(rule, True)
    job, attendance, rows = _follow(actor=actor, organization=organization, activity_type=activity_type)
    return CreditRuleChange(rule, True, job, attendance, rows)


@transaction.atomic
def activity_credit_rule_delete(*, actor: Actor, rule: ActivityCreditRule) -> CreditRuleChange:
    """Remove a subtree's own rule for a type: the rule above it (or the default) applies again,
    and the ledger follows as for ``activity_credit_rule_set``. A rule already removed (a double
    submit) is a no-op."""
    current = (
        ActivityCreditRule.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk=rule.pk)
        .first()
    )
    if current is None:
        return CreditRuleChange(None, False)
    organization = current.organization
    require(actor, "delete", organization, app_label=APP, message=SCOPE_MESSAGE)
    require_policy(actor, organization, CREDIT_POLICY_MESSAGE)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=current,
        changes={"before": snapshot(current, CREDIT_RULE_FIELDS)},
    )
    removed_mode, activity_type = current.mode, current.activity_type
    current.delete()
    if _mode_at(organization.path, activity_type) == removed_mode:
        return CreditRuleChange(None, True)
    job, attendance, rows = _follow(actor=actor, organization=organization, activity_type=activity_type)
    return CreditRuleChange(None, True, job, attendance, rows)


def activity_credit_org_moved(
    *, organization: Organization, old_parent_path: str, new_parent_path: str
) -> list[CreditRuleChange]:
    """A subtree moved under another parent (inside the move's transaction, paths rewritten): its
    activities of each type without a rule of its own now follow the rules of the new ancestors.
    Re-sync those whose mode in force changed, as a change of the table would."""
    before = credit_modes_at(old_parent_path or None)
    after = credit_modes_at(new_parent_path or None)
    own = set(
        ActivityCreditRule.objects.filter(organization=organization).values_list("activity_type", flat=True)
    )
    changes = []
    for activity_type in ActivityType.values:
        if activity_type in own or before[activity_type] == after[activity_type]:
            continue
        job, attendance, rows = _follow(actor=None, organization=organization, activity_type=activity_type)
        changes.append(CreditRuleChange(None, True, job, attendance, rows))
    return changes

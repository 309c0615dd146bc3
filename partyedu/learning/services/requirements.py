"""Hour requirements of subtrees (policy of the organisation departments) and the recount they start."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.models import Job
from partyedu.core.scope import require, require_policy
from partyedu.organizations.models import Organization

from ..jobs import requirement_recount_enqueue, requirement_recount_unfinished
from ..models import HourRequirement
from ..selectors import rule_for_path
from ._common import APP, SCOPE_MESSAGE

# Hour requirements are policy: set by the organisation departments (组织部/工委管理员) over their
# subtree, never by a branch for itself (DOMAIN_RULES), whatever actions other roles carry.
POLICY_MESSAGE = "学时要求由组织部门（组织部/工委管理员）设定"

# --- hour requirements ----------------------------------------------------------------------------

REQUIREMENT_FIELDS = (
    "general_hours",
    "cadre_hours",
    "cadre_needs_concentrated",
    "cadre_concentrated_min_hours",
    "candidate_hours",
    "counts_online",
    "online_cap",
    "counts_self",
    "self_cap",
    "online_daily_cap_minutes",
)
# Hour figures of a rule and the range each may take.
HOUR_LIMITS = {
    "general_hours": (Decimal("0"), Decimal("500")),
    "cadre_hours": (Decimal("0"), Decimal("500")),
    "candidate_hours": (Decimal("0"), Decimal("500")),
    "online_cap": (Decimal("0"), Decimal("500")),
    "self_cap": (Decimal("0"), Decimal("500")),
    # At least some 集中培训: 0 would make the condition of one concentrated training hold for all.
    "cadre_concentrated_min_hours": (Decimal("0.5"), Decimal("100")),
}


@dataclass(frozen=True)
class RuleChange:
    """A subtree's rule set or removed. ``changed``: the rule differs from what was stored (saving
    the same values again changes nothing). ``job``: the recount of the subtree's members
    (``learning.requirement_recount``, queued to start once the change commits), when the change
    can alter any member's requirement — not when only the daily online cap changed, or when the
    rule's hours equal those it replaces; saving unchanged values returns the starter's recount
    still under way, if any."""

    requirement: HourRequirement | None
    changed: bool
    job: Job | None


def _cap(counts: Any, cap: Any) -> Decimal | None:
    return Decimal(cap) if counts and cap is not None else None


def _requirement_values(rule: Any) -> tuple[Any, ...]:
    """What members' requirements depend on (not the daily online cap): the hours, the condition
    of one concentrated training, and which kinds count with their caps."""
    return (
        Decimal(rule.general_hours),
        Decimal(rule.cadre_hours),
        bool(rule.cadre_needs_concentrated),
        Decimal(rule.cadre_concentrated_min_hours),
        Decimal(rule.candidate_hours),
        bool(rule.counts_online),
        _cap(rule.counts_online, rule.online_cap),
        bool(rule.counts_self),
        _cap(rule.counts_self, rule.self_cap),
    )


def _same_values(requirement: HourRequirement, data: dict[str, Any]) -> bool:
    """Whether ``data`` (form or API values) equals what the rule holds."""
    for name, value in data.items():
        model_field: Any = HourRequirement._meta.get_field(name)
        try:
            if model_field.to_python(value) != getattr(requirement, name):
                return False
        except ValidationError:
            return False
    return True


@transaction.atomic
def hour_requirement_set(*, actor: Actor, organization: Organization, data: dict[str, Any]) -> RuleChange:
    """Set the hour requirement of an organisation's subtree (overriding any rule above it) and
    queue the recount of its members under the new rule; it runs after commit, outside this
    transaction (``recount.requirements_recount``). Saving the values already stored is a no-op."""
    require(actor, "change", organization, app_label=APP, message=SCOPE_MESSAGE)
    require_policy(actor, organization, POLICY_MESSAGE)
    unknown = [name for name in data if name not in REQUIREMENT_FIELDS]
    if unknown:
        raise ValidationError({name: ["该字段不能在此修改"] for name in unknown})
    requirement = HourRequirement.objects.select_for_update().filter(organization=organization).first()
    if requirement is not None and _same_values(requirement, data):
        # Saved again as it is (a double submit): nothing to write, audit or recount.
        return RuleChange(
            requirement, False, requirement_recount_unfinished(actor=actor, organization=organization)
        )
    before = snapshot(requirement, REQUIREMENT_FIELDS) if requirement else {}
    in_force = _requirement_values(rule_for_path(organization.path))
    requirement = requirement or HourRequirement(organization=organization)
    for name, value in data.items():
        setattr(requirement, name, value)
    for counts, cap in (("counts_online", "online_cap"), ("counts_self", "self_cap")):
        if getattr(requirement, cap) == "":
            setattr(requirement, cap, None)
        if not getattr(requirement, counts):
            # A cap of a kind that does not count means nothing: not kept, so that it cannot
            # apply unnoticed when the kind is counted later.
            setattr(requirement, cap, None)
    errors = {}
    for name, (low, high) in HOUR_LIMITS.items():
        value = getattr(requirement, name)
        if value is None and name in ("online_cap", "self_cap"):
            continue
        try:
            if not low <= Decimal(value) <= high:
                errors[name] = [f"学时应在{low}到{high}之间"]
        except (InvalidOperation, TypeError, ValueError):
            errors[name] = ["请输入数字"]
    if errors:
        raise ValidationError(errors)
    requirement.full_clean()
    for name in HOUR_LIMITS:
        # As stored (one decimal): the audit's diff then names only the fields that changed.
        value = getattr(requirement, name)
        if value is not None:
            setattr(requirement, name, Decimal(value).quantize(Decimal("0.1")))
    changes = diff(before, snapshot(requirement, REQUIREMENT_FIELDS))
    requirement.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=requirement,
        changes=changes,
    )
    job = None
    if _requirement_values(requirement) != in_force:
        job = requirement_recount_enqueue(actor=actor, organization=organization)
    return RuleChange(requirement, True, job)


@transaction.atomic
def hour_requirement_delete(*, actor: Actor, requirement: HourRequirement) -> RuleChange:
    """Remove a subtree's own rule: the rule above it (or the defaults) applies again; the recount
    of its members is queued as for ``hour_requirement_set``."""
    requirement = HourRequirement.objects.select_related("organization").get(pk=requirement.pk)
    organization = requirement.organization
    require(actor, "delete", organization, app_label=APP, message=SCOPE_MESSAGE)
    require_policy(actor, organization, POLICY_MESSAGE)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=requirement,
        changes={"before": snapshot(requirement, REQUIREMENT_FIELDS)},
    )
    requirement.delete()
    job = None
    if _requirement_values(rule_for_path(organization.path)) != _requirement_values(requirement):
        job = requirement_recount_enqueue(actor=actor, organization=organization)
    return RuleChange(None, True, job)

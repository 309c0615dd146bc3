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
    "candidate_hours",
    "online_daily_cap_minutes",
)


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


def _requirement_values(rule: Any) -> tuple[Any, ...]:
    """What members' requirements depend on (not the daily online cap)."""
    return (
        Decimal(rule.general_hours),
        Decimal(rule.cadre_hours),
        bool(rule.cadre_needs_concentrated),
        Decimal(rule.candidate_hours),
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
    errors = {}
    for name in ("general_hours", "cadre_hours", "candidate_hours"):
        value = getattr(requirement, name)
        try:
            if Decimal(value) < 0 or Decimal(value) > 500:
                errors[name] = ["学时应在0到500之间"]
        except (InvalidOperation, TypeError):
            errors[name] = ["请输入数字"]
    if errors:
        raise ValidationError(errors)
    requirement.full_clean()
    for name in ("general_hours", "cadre_hours", "candidate_hours"):
        # As stored (one decimal): the audit's diff then names only the fields that changed.
        setattr(requirement, name, Decimal(getattr(requirement, name)).quantize(Decimal("0.1")))
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

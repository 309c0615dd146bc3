"""Cadence rules: how often each organisation of one kind in a subtree (every 党支部, every 党小组,
or every 党委/党组/党工委) must hold an activity type — policy of the organisation departments."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require, require_policy
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..choices import GROUP_OWN_TYPES, ActivityType, CadenceLevel, CadencePeriod
from ..models import CadenceRule
from ._common import APP

# Cadence rules are policy: set by the organisation departments (组织部/工委管理员) over their
# subtree, never by a branch for itself.
POLICY_MESSAGE = "组织生活频次规定由组织部门（组织部/工委管理员）设置"
MAX_MIN_COUNT = 99
RULE_FIELDS = ("applies_to", "period", "min_count")

# Levels under which no organisation of the kind can stand (groups only under branches, 党委
# only under 党委): a rule there would apply to nothing.
_LEVELS_WITHOUT = {
    CadenceLevel.BRANCH: {OrgLevel.GROUP},
    CadenceLevel.GROUP: set(),
    CadenceLevel.COMMITTEE: {OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH, OrgLevel.GROUP},
}


def cadence_default_level(activity_type: str) -> str:
    """The kind of organisation a rule for ``activity_type`` applies to when none is named: 党小组
    for 党小组会, 党委 for 中心组学习, else 党支部."""
    if activity_type in GROUP_OWN_TYPES:
        return CadenceLevel.GROUP
    if activity_type == ActivityType.CENTRAL_GROUP_STUDY:
        return CadenceLevel.COMMITTEE
    return CadenceLevel.BRANCH


def _rule_errors(
    organization: Organization, applies_to: str, activity_type: str, period: str, min_count: int
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if activity_type not in ActivityType.values:
        errors["activity_type"] = ["请选择活动类型"]
    if applies_to not in CadenceLevel.values:
        errors["applies_to"] = ["请选择适用的组织类别"]
    elif organization.level in _LEVELS_WITHOUT[CadenceLevel(applies_to)]:
        errors["applies_to"] = [
            f"{organization.get_level_display()}及其下级没有{CadenceLevel(applies_to).label}，请重新选择"
        ]
    elif applies_to == CadenceLevel.GROUP and activity_type in ActivityType.values:
        if activity_type not in GROUP_OWN_TYPES:
            errors["activity_type"] = [
                "党小组只统计党小组会；党小组开展的其他活动计入所在党支部，请设置适用于党支部"
            ]
    elif activity_type in GROUP_OWN_TYPES:
        errors["applies_to"] = ["党小组会按各党小组分别统计，请选择适用于党小组"]
    if period not in CadencePeriod.values:
        errors["period"] = ["请选择周期：每周、每月、每季度、每半年或每年"]
    if min_count < 0:
        errors["min_count"] = ["次数不能为负数"]
    elif min_count > MAX_MIN_COUNT:
        errors["min_count"] = [f"次数不能超过{MAX_MIN_COUNT}"]
    return errors


@transaction.atomic
def cadence_rule_set(
    *,
    actor: Actor,
    organization: Organization,
    activity_type: str,
    period: str,
    min_count: int = 1,
    applies_to: str | None = None,
) -> CadenceRule:
    """Set how often each organisation of the kind ``applies_to`` (default: the kind the type
    belongs to, ``cadence_default_level``) in the organisation's subtree must hold an activity
    type: at least ``min_count`` times a ``period``. It overrides the DOMAIN_RULES default and any
    rule above; ``min_count=0`` lifts the requirement for the subtree. One rule per organisation,
    kind and type: setting it again replaces it."""
    require(actor, "change", organization, app_label=APP, message="您无权设置该组织的组织生活频次")
    require_policy(actor, organization, POLICY_MESSAGE)
    applies_to = applies_to or cadence_default_level(activity_type)
    errors = _rule_errors(organization, applies_to, activity_type, period, min_count)
    if errors:
        raise ValidationError(errors)
    rule = CadenceRule.objects.filter(
        organization=organization, applies_to=applies_to, activity_type=activity_type
    ).first()
    before = snapshot(rule, RULE_FIELDS) if rule else {}
    rule = rule or CadenceRule(organization=organization, applies_to=applies_to, activity_type=activity_type)
    rule.period, rule.min_count = period, min_count
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=rule,
        changes=diff(before, snapshot(rule, RULE_FIELDS)),
    )
    return rule


@transaction.atomic
def cadence_rule_delete(*, actor: Actor, rule: CadenceRule) -> None:
    """Remove an override; the rule above (or the default) applies again."""
    rule = CadenceRule.objects.select_related("organization").get(pk=rule.pk)
    require(actor, "change", rule.organization, app_label=APP, message="您无权设置该组织的组织生活频次")
    require_policy(actor, rule.organization, POLICY_MESSAGE)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=rule,
        changes={"before": snapshot(rule, ("organization", "activity_type", *RULE_FIELDS))},
    )
    rule.delete()

"""Cadence rules: how often a subtree must hold an activity type (policy of the organisation
departments)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require, require_policy
from partyedu.organizations.models import Organization

from ..choices import ActivityType
from ..models import CadenceRule
from ._common import APP

PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)
# Cadence rules are policy: set by the organisation departments (组织部/工委管理员) over their
# subtree, never by a branch for itself.
POLICY_MESSAGE = "组织生活频次规定由组织部门（组织部/工委管理员）设置"


@transaction.atomic
def cadence_rule_set(
    *, actor: Actor, organization: Organization, activity_type: str, per_months: int, times: int = 1
) -> CadenceRule:
    """Set how often the organisation's subtree must hold an activity type (overriding the
    DOMAIN_RULES default and any rule above). ``times=0`` lifts the requirement for the subtree."""
    require(actor, "change", organization, app_label=APP, message="您无权设置该组织的组织生活频次")
    require_policy(actor, organization, POLICY_MESSAGE)
    errors: dict[str, list[str]] = {}
    if activity_type not in ActivityType.values:
        errors["activity_type"] = ["请选择活动类型"]
    if per_months not in PERIOD_MONTHS:
        errors["per_months"] = ["周期应为1、2、3、4、6或12个月"]
    if times < 0:
        errors["times"] = ["次数不能为负数"]
    if errors:
        raise ValidationError(errors)
    rule = CadenceRule.objects.filter(organization=organization, activity_type=activity_type).first()
    before = snapshot(rule, ("per_months", "times")) if rule else {}
    rule = rule or CadenceRule(organization=organization, activity_type=activity_type)
    rule.per_months, rule.times = per_months, times
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=rule,
        changes=diff(before, snapshot(rule, ("per_months", "times"))),
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
        changes={"before": snapshot(rule, ("organization", "activity_type", "per_months", "times"))},
    )
    rule.delete()

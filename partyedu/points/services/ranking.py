"""The ranking switch and the ranks. Ranking is off by default (DESIGN.md §3.5, no abusive
rankings); the organisation department (an org_admin over the branch: ``scope.require_policy``)
may turn on a rank beside the totals for ONE branch — its own list and its publications, never
across branches. Audited. ``ranking_enabled`` reads the setting (configuration of an
organisation, no people's data); ``competition_ranks`` is arithmetic."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require_policy
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..models import PointsRankingSetting

POLICY_MESSAGE = "支部内积分排名由组织部门（组织部/工委管理员）开启或关闭"


@transaction.atomic
def ranking_set(*, actor: Actor, organization: Organization | None, enabled: bool) -> PointsRankingSetting:
    """Turn the rank inside one branch on or off (a setting of that branch only)."""
    if organization is None:
        raise ValidationError({"organization": "请选择党支部"})
    require_policy(actor, organization, POLICY_MESSAGE)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.level != OrgLevel.BRANCH:
        raise ValidationError({"organization": "排名只能在一个党支部内开启，请选择党支部（不能跨支部排名）"})
    setting = PointsRankingSetting.objects.select_for_update().filter(organization=organization).first()
    before = bool(setting and setting.enabled)
    if setting is None:
        setting = PointsRankingSetting(organization=organization)
    setting.enabled = bool(enabled)
    if enabled and not before:
        setting.enabled_by = actor if actor is not None and actor.is_authenticated else None
        setting.enabled_at = timezone.now()
    setting.full_clean()
    setting.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=setting,
        object_repr=f"{organization.name} 支部内积分排名",
        changes={"enabled": [before, setting.enabled]},
    )
    return setting


def ranking_enabled(*, organization: Organization) -> bool:
    """Whether the organisation (a branch) has its members' rank turned on (off by default)."""
    return PointsRankingSetting.objects.filter(organization=organization, enabled=True).exists()


def competition_ranks(totals: dict[int, Decimal]) -> dict[int, int]:
    """Ranks by total, highest first; equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals.values(), reverse=True)
    first: dict[Decimal, int] = {}
    for position, total in enumerate(ordered, start=1):
        first.setdefault(total, position)
    return {key: first[total] for key, total in totals.items()}

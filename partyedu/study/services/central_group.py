"""The standing 理论学习中心组 list of a 党委, 党组 or 党工委 (``CentralGroupMembership``): adding
members with their role, changing a member's role, date or note, and removing a member. The list
is the default roster of the organisation's 中心组学习 (``rosters.default_roster``); activities
already recorded keep their roster.

The list is kept by whoever may change study data at the organisation (``study.change``). Members
must be on the roll, visible to the actor and registered in a branch or group of the
organisation's subtree; a member outside it is refused by id, never by name."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..choices import CentralGroupRole
from ..models import CentralGroupMembership
from ..rosters import CENTRAL_GROUP_LEVELS
from ._common import APP, _check_fields, _clean_strings, _member_ids, _members_in_scope

CENTRAL_GROUP_FIELDS = ("role", "since", "note")
DENIED = "您无权管理该组织的中心组成员名单"


def _lock_organization(organization: Organization, actor: Actor) -> Organization:
    """The organisation, locked so that two secretaries editing the list at once take turns, after
    checking that it keeps a 中心组 and that the actor may change its study data."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    require(actor, "change", org, app_label=APP, message=DENIED)
    if org.level not in CENTRAL_GROUP_LEVELS:
        raise ValidationError({"organization": ["只有党委、党组、党工委设理论学习中心组"]})
    return org


def _check_data(membership: CentralGroupMembership, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "role" in data:
        if data["role"] not in CentralGroupRole.values:
            errors["role"] = ["请选择中心组职务"]
        else:
            membership.role = data["role"]
    if "since" in data:
        since = data["since"] or None
        if since is not None and not isinstance(since, date):
            errors["since"] = ["请填写正确的日期"]
        else:
            membership.since = since
    if "note" in data:
        membership.note = data["note"] or ""
        if len(membership.note) > 200:
            errors["note"] = ["备注最多200字"]
    if errors:
        raise ValidationError(errors)


def _members_in_subtree(org: Organization, ids: list[int]) -> None:
    outside = list(
        Member.objects.filter(pk__in=ids)
        .exclude(org.subtree_q("org_path"))
        .order_by("pk")
        .values_list("name", flat=True)
    )
    if outside:
        raise ValidationError(
            {"members": [f"以下党员不在{org.name}及其下级组织中，不能列入中心组：{'、'.join(outside)}"]}
        )


@transaction.atomic
def central_group_add(
    *,
    actor: Actor,
    organization: Organization,
    members: Iterable[Any],
    role: str = CentralGroupRole.MEMBER,
    since: date | None = None,
    note: str = "",
) -> list[CentralGroupMembership]:
    """Put members on the 中心组 list of a 党委/党组/党工委 with one role (and date and note).
    Members already on the list keep their place; adding them again changes nothing. Returns the
    memberships created."""
    org = _lock_organization(organization, actor)
    ids = _member_ids(members, "members")
    if not ids:
        raise ValidationError({"members": ["请选择要加入中心组的党员"]})
    existing = set(
        CentralGroupMembership.objects.filter(organization=org, member_id__in=ids).values_list(
            "member_id", flat=True
        )
    )
    new = [pk for pk in ids if pk not in existing]
    # Scope first: a member the actor may not see is named by id only.
    _members_in_scope(actor, new, "members")
    _members_in_subtree(org, new)
    data = _clean_strings({"role": role, "since": since, "note": note})
    created = []
    for pk in new:
        membership = CentralGroupMembership(organization=org, member_id=pk)
        _check_data(membership, data)
        membership.full_clean(exclude=["organization", "member"], validate_unique=False)
        created.append(membership)
    CentralGroupMembership.objects.bulk_create(created)
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=org,
            changes={"central_group": {"added": new, "role": data["role"]}},
            message=f"中心组成员名单：加入{len(created)}人",
        )
    return created


@transaction.atomic
def central_group_update(
    *, actor: Actor, membership: CentralGroupMembership, data: dict[str, Any]
) -> CentralGroupMembership:
    """Change a 中心组 member's role, date joined or note."""
    _lock_organization(membership.organization, actor)
    membership = CentralGroupMembership.objects.select_related("organization", "member").get(pk=membership.pk)
    data = _clean_strings(dict(data))
    _check_fields(data, CENTRAL_GROUP_FIELDS)
    before = snapshot(membership, CENTRAL_GROUP_FIELDS)
    _check_data(membership, data)
    membership.full_clean(exclude=["organization", "member"], validate_unique=False)
    membership.save()
    changes = diff(before, snapshot(membership, CENTRAL_GROUP_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=membership, changes=changes)
    return membership


@transaction.atomic
def central_group_remove(*, actor: Actor, membership: CentralGroupMembership) -> None:
    """Take a member off the 中心组 list. Activities already recorded keep their roster."""
    _lock_organization(membership.organization, actor)
    membership = CentralGroupMembership.objects.select_related("organization", "member").get(pk=membership.pk)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=membership,
        changes={"before": snapshot(membership, ("organization", "member", *CENTRAL_GROUP_FIELDS))},
    )
    membership.delete()

"""Printed study materials handed out to members (人手一册)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require, scope_for
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..models import MaterialDistribution, StudyMaterial
from ._common import APP, WRITE_BATCH, _check_fields, _clean_strings, _member_ids, _resolve, _same_pk

MATERIAL_FIELDS = ("organization", "title", "year")


def _material_errors(material: StudyMaterial) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not material.title:
        errors["title"] = ["请填写材料名称"]
    if not material.year or not 2000 <= int(material.year) <= 2100:
        errors["year"] = ["请填写正确的年度"]
    return errors


@transaction.atomic
def material_create(*, actor: Actor, data: dict[str, Any]) -> StudyMaterial:
    """Record a printed study material handed out to members (人手一册)."""
    data = _clean_strings(dict(data))
    _check_fields(data, MATERIAL_FIELDS)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择发放组织"]})
    require(actor, "add", org, app_label=APP, message="您无权以该组织名义发放学习材料")
    material = StudyMaterial(organization=org, **data)
    errors = _material_errors(material)
    if errors:
        raise ValidationError(errors)
    material.full_clean()
    material.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=material,
        changes={"after": snapshot(material, MATERIAL_FIELDS)},
    )
    return material


@transaction.atomic
def material_update(*, actor: Actor, material: StudyMaterial, data: dict[str, Any]) -> StudyMaterial:
    """Correct a study material's title or year. The issuing organisation is fixed: the copies
    handed out were counted against its subtree."""
    material = (
        StudyMaterial.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=material.pk)
    )
    require(actor, "change", material.organization, app_label=APP, message="您无权修改该学习材料")
    data = _clean_strings(dict(data))
    _check_fields(data, MATERIAL_FIELDS)
    if "organization" in data and not _same_pk(data.pop("organization"), material.organization_id):
        raise ValidationError({"organization": ["学习材料的发放组织不能修改"]})
    before = snapshot(material, MATERIAL_FIELDS)
    for name, value in data.items():
        setattr(material, name, value)
    errors = _material_errors(material)
    if errors:
        raise ValidationError(errors)
    material.full_clean()
    material.save()
    changes = diff(before, snapshot(material, MATERIAL_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=material, changes=changes)
    return material


@transaction.atomic
def material_distribute(
    *, actor: Actor, material: StudyMaterial, members: Iterable[Any], distributed_on: date | None = None
) -> list[int]:
    """Record that members received a copy. Members must lie within the material's organisation
    subtree and the actor's study scope (a branch secretary records the city's booklet for the
    branch). Recording a member again changes nothing. Returns the newly recorded member ids."""
    material = (
        StudyMaterial.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=material.pk)
    )
    ids = _member_ids(members, "members")
    if not ids:
        raise ValidationError({"members": ["请选择党员"]})
    qs = Member.objects.filter(pk__in=ids, is_active=True).filter(material.organization.subtree_q("org_path"))
    if actor is not None:
        qs = qs.filter(scope_for(actor, "add", APP).q("org_path"))
    allowed = set(qs.values_list("pk", flat=True))
    refused = [str(pk) for pk in ids if pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "members": [
                    f"以下党员不存在、已离册或不在本材料的发放范围及您的管理范围内：ID {'、'.join(refused)}"
                ]
            }
        )
    existing = set(
        MaterialDistribution.objects.filter(material=material, member_id__in=ids).values_list(
            "member_id", flat=True
        )
    )
    new = [pk for pk in ids if pk not in existing]
    day = distributed_on or timezone.localdate()
    MaterialDistribution.objects.bulk_create(
        [MaterialDistribution(material=material, member_id=pk, distributed_on=day) for pk in new],
        batch_size=WRITE_BATCH,
        ignore_conflicts=True,
    )
    if new:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=material,
            changes={"distributed": new},
            message=f"发放{len(new)}份",
        )
    return new

"""Teaching sites of the party school network and education bases."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from ..choices import SiteKind
from ..models import EducationBase, TeachingSite
from ._common import APP, _check_fields, _clean_strings, _resolve, _same_pk

SITE_FIELDS = ("organization", "name", "kind", "address", "capacity", "contact", "is_active")
BASE_FIELDS = ("organization", "name", "base_type", "address", "description", "is_active")


def _place_create(
    actor: Actor,
    model: type[TeachingSite] | type[EducationBase],
    data: dict[str, Any],
    fields: tuple[str, ...],
) -> Any:
    data = _clean_strings(dict(data))
    _check_fields(data, fields)
    org = _resolve(Organization, data.pop("organization", None), "organization", "组织")
    if org is None:
        raise ValidationError({"organization": ["请选择所属组织"]})
    require(actor, "add", org, app_label=APP, message="您无权为该组织登记")
    instance = model(organization=org, **data)
    if not instance.name:
        raise ValidationError({"name": ["请填写名称"]})
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=instance,
        changes={"after": snapshot(instance, fields)},
    )
    return instance


def _place_update(actor: Actor, instance: Any, data: dict[str, Any], fields: tuple[str, ...]) -> Any:
    instance = (
        type(instance)
        .objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=instance.pk)
    )
    require(actor, "change", instance.organization, app_label=APP, message="您无权修改")
    data = _clean_strings(dict(data))
    _check_fields(data, fields)
    if "organization" in data and not _same_pk(data.pop("organization"), instance.organization_id):
        raise ValidationError({"organization": ["所属组织不能修改"]})
    before = snapshot(instance, fields)
    for name, value in data.items():
        setattr(instance, name, value)
    if not instance.name:
        raise ValidationError({"name": ["请填写名称"]})
    instance.full_clean()
    instance.save()
    changes = diff(before, snapshot(instance, fields))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes)
    return instance


@transaction.atomic
def teaching_site_create(*, actor: Actor, data: dict[str, Any]) -> TeachingSite:
    """Register a teaching site of the party school network ("1+5+N")."""
    data = dict(data)
    data.setdefault("kind", SiteKind.SITE)
    site: TeachingSite = _place_create(actor, TeachingSite, data, SITE_FIELDS)
    return site


@transaction.atomic
def teaching_site_update(*, actor: Actor, site: TeachingSite, data: dict[str, Any]) -> TeachingSite:
    updated: TeachingSite = _place_update(actor, site, data, SITE_FIELDS)
    return updated


@transaction.atomic
def education_base_create(*, actor: Actor, data: dict[str, Any]) -> EducationBase:
    """Register an education base (红色教育基地 …); its visits are activities held there."""
    base: EducationBase = _place_create(actor, EducationBase, data, BASE_FIELDS)
    return base


@transaction.atomic
def education_base_update(*, actor: Actor, base: EducationBase, data: dict[str, Any]) -> EducationBase:
    updated: EducationBase = _place_update(actor, base, data, BASE_FIELDS)
    return updated

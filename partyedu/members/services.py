"""Writes to members: create, update, transfer, import. Each runs in one transaction, validates
everything before saving, checks scope, and writes its audit row."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.pinyin import initials
from partyedu.core.scope import path_in, user_scope
from partyedu.organizations.choices import MEMBER_LEVELS
from partyedu.organizations.models import Organization

from . import pii_index
from .choices import MemberCategory
from .idnumber import parse_id_number
from .models import Member, MemberTransfer

# Fields a service may set from input; id_number_hash, name_initials and user follow from them.
MEMBER_FIELDS = (
    "organization",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "education",
    "id_number",
    "phone",
    "joined_on",
    "full_member_on",
    "status",
    "categories",
    "is_exempt",
    "exempt_reason",
)
# Audited fields; personal data appears in the audit log only as "changed", never as values.
AUDITED_FIELDS = tuple(f for f in MEMBER_FIELDS if f not in ("id_number", "phone"))


def _require_org_scope(actor: Any, action: str, org: Organization) -> None:
    if actor is None:
        return
    if not path_in(org.path, user_scope(actor, action, "members").paths):
        raise PermissionDenied("您无权管理该组织的党员")


def _check_org(org: Organization | None) -> None:
    if org is None:
        raise ValidationError({"organization": ["请选择所在党组织"]})
    if org.level not in MEMBER_LEVELS:
        raise ValidationError({"organization": ["党员只能编入党支部或党小组"]})
    if not org.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})


def apply_member_data(member: Member, data: dict[str, Any]) -> None:
    """Set fields from input and derive what follows from them, raising ValidationError by field.
    Shared by the services and the import so that both apply the same rules."""
    errors: dict[str, list[str]] = {}
    for field in data:
        if field not in MEMBER_FIELDS:
            errors.setdefault(field, []).append("未知字段")
    if errors:
        raise ValidationError(errors)
    for field, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(member, field, value)

    if "id_number" in data or not member.id_number_hash:
        try:
            info = parse_id_number(member.id_number or "")
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from None
        member.id_number = info.number
        member.id_number_hash = pii_index.id_number_index(info.number)
        if not member.birth_date or "birth_date" not in data:
            member.birth_date = info.birth_date
        elif member.birth_date != info.birth_date:
            errors["birth_date"] = [f"出生日期与身份证号不符（身份证号为{info.birth_date:%Y-%m-%d}）"]
        if not member.gender or "gender" not in data:
            member.gender = info.gender
        elif member.gender != info.gender:
            errors["gender"] = [f"性别与身份证号不符（身份证号为{info.gender.label}）"]
    if member.phone:
        phone = str(member.phone).replace(" ", "").replace("-", "")
        if not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            errors["phone"] = ["手机号应为1开头的11位数字"]
        member.phone = phone
    categories = list(dict.fromkeys(member.categories or []))
    unknown = [c for c in categories if c not in MemberCategory.values]
    if unknown:
        errors["categories"] = [f"未知党员类别：{'、'.join(map(str, unknown))}"]
    member.categories = categories
    if member.is_exempt and not member.exempt_reason:
        errors["exempt_reason"] = ["免于硬性要求时须填写原因"]
    if not member.is_exempt:
        member.exempt_reason = ""
    if member.joined_on and member.birth_date and member.joined_on < member.birth_date:
        errors["joined_on"] = ["入党日期早于出生日期"]
    if member.full_member_on and member.joined_on and member.full_member_on < member.joined_on:
        errors["full_member_on"] = ["转正日期早于入党日期"]
    if errors:
        raise ValidationError(errors)
    member.name_initials = initials(member.name)


def _check_unique_id(member: Member) -> None:
    clash = Member.objects.filter(id_number_hash=member.id_number_hash).exclude(pk=member.pk).first()
    if clash is not None:
        # Say where only in terms the caller may already know; the org name is not secret here.
        raise ValidationError(
            {"id_number": [f"该身份证号已登记在“{clash.organization.name}”，一名党员只能编入一个党支部"]}
        )


@transaction.atomic
def member_create(*, actor: Any, data: dict[str, Any]) -> Member:
    member = Member()
    apply_member_data(member, data)
    _check_org(member.organization if member.organization_id else None)
    _require_org_scope(actor, "add", member.organization)
    _check_unique_id(member)
    member.full_clean(exclude=["user"])
    member.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=member, changes={"after": snapshot(member, AUDITED_FIELDS)}
    )
    return member


@transaction.atomic
def member_update(*, actor: Any, member: Member, data: dict[str, Any]) -> Member:
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    _require_org_scope(actor, "change", member.organization)
    if "organization" in data and data["organization"] != member.organization:
        raise ValidationError({"organization": ["变更所在党组织请办理组织关系转接"]})
    before = snapshot(member, AUDITED_FIELDS)
    old_id, old_phone = member.id_number, member.phone
    apply_member_data(member, data)
    _check_unique_id(member)
    member.full_clean(exclude=["user"])
    member.save()
    changes = diff(before, snapshot(member, AUDITED_FIELDS))
    if member.id_number != old_id:
        changes["id_number"] = ["***", "***"]
    if member.phone != old_phone:
        changes["phone"] = ["***", "***"]
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=member, changes=changes)
    return member


@transaction.atomic
def member_transfer(
    *, actor: Any, member: Member, to_organization: Organization, transferred_on: date | None = None, reason: str = ""
) -> MemberTransfer:
    """Move a member's organisational relationship to another branch or group and keep the
    history. Both ends must be within the actor's scope (a transfer across administrations goes
    through the administration that covers both)."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    _require_org_scope(actor, "change", member.organization)
    _check_org(to_organization)
    _require_org_scope(actor, "change", to_organization)
    if to_organization.pk == member.organization_id:
        raise ValidationError({"to_organization": ["转入组织与当前所在组织相同"]})
    transfer = MemberTransfer(
        member=member,
        from_organization=member.organization,
        to_organization=to_organization,
        transferred_on=transferred_on or date.today(),
        reason=reason.strip(),
        operator=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transfer.full_clean()
    transfer.save()
    member.organization = to_organization
    member.save(update_fields=["organization", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER,
        obj=member,
        changes={"organization": [transfer.from_organization_id, to_organization.pk]},
        message=transfer.reason,
    )
    return transfer


def require_member_scope(actor: Any, action: str, member: Member) -> None:
    _require_org_scope(actor, action, member.organization)

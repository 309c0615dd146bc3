"""Writes to the organisation tree. Only these functions write ``path``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr

from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.pinyin import initials
from partyedu.core.scope import PATH_END, path_in, subtree_q, user_scope

from .choices import ALLOWED_CHILD_LEVELS
from .models import SEGMENT_ALPHABET, SEGMENT_WIDTH, Organization

AUDITED_FIELDS = ("name", "short_name", "code", "level", "org_type", "parent", "sort_order", "is_active")
EDITABLE_FIELDS = ("name", "short_name", "code", "level", "org_type", "sort_order")


def encode_segment(number: int) -> str:
    if number >= len(SEGMENT_ALPHABET) ** SEGMENT_WIDTH:
        raise ValidationError("同一上级下的组织数量已达上限")
    digits = []
    for _ in range(SEGMENT_WIDTH):
        number, rem = divmod(number, len(SEGMENT_ALPHABET))
        digits.append(SEGMENT_ALPHABET[rem])
    return "".join(reversed(digits))


def decode_segment(segment: str) -> int:
    value = 0
    for char in segment:
        value = value * len(SEGMENT_ALPHABET) + SEGMENT_ALPHABET.index(char)
    return value


def _next_child_path(parent: Organization | None) -> str:
    prefix = parent.path if parent else ""
    depth = parent.depth + 1 if parent else 0
    last = (
        Organization.objects.filter(path__gte=prefix, path__lt=prefix + PATH_END, depth=depth)
        .aggregate(m=Max("path"))["m"]
    )
    number = decode_segment(last[-SEGMENT_WIDTH:]) + 1 if last else 1
    return prefix + encode_segment(number)


def _require_scope(actor: Any, action: str, org: Organization | None) -> None:
    """Raise unless the actor may perform ``action`` on organisations at ``org``. ``actor=None``
    is the system itself (management commands, demo seeding)."""
    if actor is None:
        return
    scope = user_scope(actor, action, "organizations")
    if org is None or not path_in(org.path, scope.paths):
        raise PermissionDenied("您无权在该组织下执行此操作")


def _check_level(parent: Organization | None, level: str) -> None:
    if parent is not None and level not in ALLOWED_CHILD_LEVELS.get(parent.level, set()):
        raise ValidationError(
            {"level": [f"{parent.get_level_display()}下不能设立{Organization(level=level).get_level_display()}"]}
        )


@transaction.atomic
def organization_create(
    *,
    actor: Any,
    parent: Organization | None,
    name: str,
    code: str,
    level: str,
    org_type: str,
    short_name: str = "",
    sort_order: int = 0,
) -> Organization:
    if parent is None and actor is not None:
        raise PermissionDenied("只有系统初始化可以创建顶级组织")
    if parent is not None:
        # Lock the parent so siblings created at the same moment get distinct paths.
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        if not parent.is_active:
            raise ValidationError({"parent": ["上级组织已撤销"]})
    _require_scope(actor, "add", parent)
    _check_level(parent, level)
    org = Organization(
        parent=parent,
        name=name.strip(),
        short_name=short_name.strip(),
        code=code.strip(),
        level=level,
        org_type=org_type,
        sort_order=sort_order,
        path=_next_child_path(parent),
        depth=parent.depth + 1 if parent else 0,
        name_initials=initials(name),
    )
    org.full_clean()
    org.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=org, changes={"after": snapshot(org, AUDITED_FIELDS)})
    return org


@transaction.atomic
def organization_update(*, actor: Any, org: Organization, data: dict[str, Any]) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require_scope(actor, "change", org)
    before = snapshot(org, AUDITED_FIELDS)
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            raise ValidationError({field: ["该字段不能在此修改"]})
        setattr(org, field, value.strip() if isinstance(value, str) else value)
    _check_level(org.parent, org.level)
    for child in org.children.all():
        if child.level not in ALLOWED_CHILD_LEVELS.get(org.level, set()):
            raise ValidationError({"level": [f"下级组织“{child.name}”与新的组织层级不相容"]})
    org.name_initials = initials(org.name)
    org.full_clean()
    org.save()
    changes = diff(before, snapshot(org, AUDITED_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=org, changes=changes)
    return org


@transaction.atomic
def organization_move(*, actor: Any, org: Organization, new_parent: Organization) -> Organization:
    """Move an organisation and its whole subtree under a new parent, rewriting paths in one
    statement. An organisation cannot become its own ancestor."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    new_parent = Organization.objects.select_for_update().get(pk=new_parent.pk)
    _require_scope(actor, "change", org)
    _require_scope(actor, "change", new_parent)
    if new_parent.path.startswith(org.path):
        raise ValidationError({"parent": ["不能把组织移到它自己或其下级组织之下"]})
    if not new_parent.is_active:
        raise ValidationError({"parent": ["目标上级组织已撤销"]})
    if org.parent_id == new_parent.pk:
        return org
    _check_level(new_parent, org.level)
    old_path, old_parent_id = org.path, org.parent_id
    new_path = _next_child_path(new_parent)
    delta = new_parent.depth + 1 - org.depth
    Organization.objects.filter(subtree_q("path", [old_path])).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    Organization.objects.filter(pk=org.pk).update(parent=new_parent)
    org.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.MOVE,
        obj=org,
        changes={"parent": [old_parent_id, new_parent.pk], "path": [old_path, org.path]},
    )
    return org


@transaction.atomic
def organization_deactivate(*, actor: Any, org: Organization) -> Organization:
    """Dissolve an organisation and its subtree. Members must be transferred out first."""
    from partyedu.members.models import Member

    org = Organization.objects.select_for_update().get(pk=org.pk)
    _require_scope(actor, "delete", org)
    remaining = Member.objects.filter(subtree_q("organization__path", [org.path]), is_active=True).count()
    if remaining:
        raise ValidationError({"is_active": [f"该组织及其下级仍有{remaining}名在册党员，请先办理组织关系转接"]})
    count = Organization.objects.filter(subtree_q("path", [org.path]), is_active=True).update(is_active=False)
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=org, changes={"is_active": [True, False]},
        message=f"撤销组织及下级共{count}个",
    )
    org.refresh_from_db()
    return org


def rebuild_org_paths() -> int:
    """Recompute every path and depth from the parent links (repair after manual data fixes).
    Returns how many rows changed."""
    changed = 0
    with transaction.atomic():
        rows = list(Organization.objects.order_by("sort_order", "id").values("id", "parent_id", "path", "depth"))
        children: dict[int | None, list[dict[str, Any]]] = {}
        for row in rows:
            children.setdefault(row["parent_id"], []).append(row)
        updates: list[Organization] = []
        # First move every row to a temporary unique path so the unique index never collides.
        stack: list[tuple[int | None, str, int]] = [(None, "", 0)]
        new_paths: dict[int, tuple[str, int]] = {}
        while stack:
            parent_id, prefix, depth = stack.pop()
            for number, row in enumerate(children.get(parent_id, []), start=1):
                path = prefix + encode_segment(number)
                new_paths[row["id"]] = (path, depth)
                stack.append((row["id"], path, depth + 1))
        for row in rows:
            path, depth = new_paths.get(row["id"], (row["path"], row["depth"]))
            if (path, depth) != (row["path"], row["depth"]):
                updates.append(Organization(id=row["id"], path=path, depth=depth))
        if updates:
            for tmp in updates:
                Organization.objects.filter(pk=tmp.pk).update(path=f"~tmp{tmp.pk}")
            Organization.objects.bulk_update(updates, ["path", "depth"], batch_size=1000)
            changed = len(updates)
    return changed


__all__ = [
    "organization_create",
    "organization_deactivate",
    "organization_move",
    "organization_update",
    "rebuild_org_paths",
]

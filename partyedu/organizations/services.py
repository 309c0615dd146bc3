"""Writes to the organisation tree. Only these functions write ``path``."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.export_jobs import EXPORT_PROGRESS_EVERY
from partyedu.core.exporting import XlsxExport
from partyedu.core.hooks import hooks
from partyedu.core.importing import (
    WRITE_BATCH,
    ImportReport,
    RowError,
    Sheet,
    batched,
    choice_maps,
    import_template,
    parse_row,
    run_import,
    sort_errors,
    validation_errors,
)
from partyedu.core.pinyin import initials
from partyedu.core.scope import PATH_END, has_action, require, scope_for, subtree_q
from partyedu.core.types import BaseActor

from .choices import ALLOWED_CHILD_LEVELS, OrgType
from .figures import subtree_figures_org_moved
from .importing import HEADERS, ORG_COLUMNS
from .importing import export_columns as org_export_columns
from .importing import export_row as org_export_row
from .importing import template_example_row as org_template_example
from .models import (
    SEGMENT_ALPHABET,
    SEGMENT_WIDTH,
    Organization,
    ancestor_paths,  # noqa: F401  (still imported from here by lectures)
)

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
    last = Organization.objects.filter(path__gte=prefix, path__lt=prefix + PATH_END, depth=depth).aggregate(
        m=Max("path")
    )["m"]
    number = decode_segment(last[-SEGMENT_WIDTH:]) + 1 if last else 1
    return prefix + encode_segment(number)


APP = "organizations"
NOT_HERE = "您无权在该组织下执行此操作"


def _check_level(parent: Organization | None, level: str) -> None:
    if parent is not None and level not in ALLOWED_CHILD_LEVELS.get(parent.level, set()):
        raise ValidationError(
            {
                "level": [
                    f"{parent.get_level_display()}下不能设立{Organization(level=level).get_level_display()}"
                ]
            }
        )


@transaction.atomic
def organization_create(
    *,
    actor: BaseActor,
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
    require(actor, "add", parent, app_label=APP, message=NOT_HERE)
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
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=org, changes={"after": snapshot(org, AUDITED_FIELDS)}
    )
    return org


@transaction.atomic
def organization_update(*, actor: BaseActor, org: Organization, data: dict[str, Any]) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    require(actor, "change", org, app_label=APP, message=NOT_HERE)
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
def organization_move(*, actor: BaseActor, org: Organization, new_parent: Organization) -> Organization:
    """Move an organisation and its whole subtree under a new parent, rewriting paths in one
    statement. An organisation cannot become its own ancestor."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    new_parent = Organization.objects.select_for_update().get(pk=new_parent.pk)
    require(actor, "change", org, app_label=APP, message=NOT_HERE)
    require(actor, "change", new_parent, app_label=APP, message=NOT_HERE)
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
    subtree_figures_org_moved(
        organization=org, old_parent_path=old_path[:-SEGMENT_WIDTH], new_parent_path=new_parent.path
    )
    # What is copied or summed from organisation paths belongs to the apps above — members' copies
    # of their organisation's path and the member counts, the learning, activity and lecture
    # summaries — and follows the move in this transaction (core.hooks).
    hooks.call(
        "organizations.moved",
        organization=org,
        old_path=old_path,
        old_parent_id=old_parent_id,
        old_parent_path=old_path[:-SEGMENT_WIDTH],
        new_parent_path=new_parent.path,
    )
    audit_record(
        actor=actor,
        action=AuditAction.MOVE,
        obj=org,
        changes={"parent": [old_parent_id, new_parent.pk], "path": [old_path, org.path]},
    )
    return org


@transaction.atomic
def organization_deactivate(*, actor: BaseActor, org: Organization) -> Organization:
    """Dissolve an organisation and its subtree. Members must be transferred out first (the
    members app refuses through the ``organizations.deactivating`` hook)."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    require(actor, "delete", org, app_label=APP, message=NOT_HERE)
    hooks.call("organizations.deactivating", organization=org)
    count = Organization.objects.filter(subtree_q("path", [org.path]), is_active=True).update(is_active=False)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=org,
        changes={"is_active": [True, False]},
        message=f"撤销组织及下级共{count}个",
    )
    org.refresh_from_db()
    return org


def rebuild_org_paths() -> int:
    """Recompute every path and depth from the parent links (repair after manual data fixes).
    Returns how many rows changed."""
    changed = 0
    with transaction.atomic():
        rows = list(
            Organization.objects.order_by("sort_order", "id").values("id", "parent_id", "path", "depth")
        )
        children: dict[int | None, list[int]] = {}
        for row in rows:
            children.setdefault(row["parent_id"], []).append(row["id"])
        updates: list[Organization] = []
        # First move every row to a temporary unique path so the unique index never collides.
        stack: list[tuple[int | None, str, int]] = [(None, "", 0)]
        new_paths: dict[int, tuple[str, int]] = {}
        while stack:
            parent_id, prefix, depth = stack.pop()
            for number, child_id in enumerate(children.get(parent_id, []), start=1):
                path = prefix + encode_segment(number)
                new_paths[child_id] = (path, depth)
                stack.append((child_id, path, depth + 1))
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


# --- Excel import / export ----------------------------------------------------------------------------

IMPORT_UPDATE_FIELDS = ("name", "short_name", "org_type", "sort_order", "name_initials")


@dataclasses.dataclass
class _NewOrg:
    row: int
    org: Organization
    parent_code: str
    parent: Organization | None  # an existing parent; None for a parent in the file or a root
    depth: int = 0  # ancestors created by the same file


@dataclasses.dataclass
class _OrgImportPlan:
    new: list[_NewOrg] = dataclasses.field(default_factory=list)
    changed: list[Organization] = dataclasses.field(default_factory=list)
    matched: int = 0


def _org_draft(data: dict[str, Any]) -> Organization:
    """The organisation a row describes, unsaved (a new one, or the row checked on its own)."""
    return Organization(
        code=data.get("code", ""),
        name=data.get("name", ""),
        short_name=data.get("short_name", ""),
        level=data.get("level", ""),
        org_type=data.get("org_type") or OrgType.OTHER,
        sort_order=data.get("sort_order") or 0,
    )


def _org_clean_errors(number: int, org: Organization, failed: set[str]) -> list[RowError]:
    """The model's own field checks on a row (cells that could not be read, ``failed``, were
    reported already)."""
    org.name_initials = initials(org.name)
    try:
        org.full_clean(exclude=["parent", "path", "code"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [e for e in validation_errors(number, exc, HEADERS) if e.column not in failed]
    return []


def _existing_org_errors(number: int, org: Organization, data: dict[str, Any]) -> list[RowError]:
    """An existing organisation's row may only rename, re-type and re-sort it: every other change
    is a problem of the row. The row's values are set on ``org``."""
    found = []
    parent_code = data.get("parent", "")
    if not org.is_active:
        found.append(RowError(number, HEADERS["code"], "该组织已撤销，不能通过导入修改"))
    if "level" in data and data["level"] != org.level:
        found.append(RowError(number, HEADERS["level"], "组织层级不能通过导入修改，请在党组织页面中修改"))
    if parent_code and parent_code != (org.parent.code if org.parent else ""):
        found.append(RowError(number, HEADERS["parent"], "变更上级组织请使用“移动组织”功能"))
    for name in ("name", "short_name", "org_type", "sort_order"):
        if name in data:
            setattr(org, name, data[name] if data[name] is not None else 0)
    return found


def _new_org_parent(
    number: int,
    org: Organization,
    parent_code: str,
    *,
    actor: BaseActor,
    existing: dict[str, Organization],
    in_file: dict[str, int],
    in_scope: Callable[[Organization], bool],
) -> tuple[Organization | None, list[RowError]]:
    """A new organisation's existing parent (None for a parent in the file, or none found) and
    the row's problems with it. A parent in the file is checked once every row is read."""
    parent_h = HEADERS["parent"]
    missing = f"上级组织代码 {parent_code} 不存在或不在您的管理范围内"
    if not parent_code:
        return None, [RowError(number, parent_h, "新建组织须填写上级组织代码")] if actor is not None else []
    if parent_code == org.code:
        return None, [RowError(number, parent_h, "上级组织不能是本组织")]
    if parent_code not in existing:
        return None, [] if parent_code in in_file else [RowError(number, parent_h, missing)]
    parent = existing[parent_code]
    if not in_scope(parent):
        return None, [RowError(number, parent_h, missing)]
    if not parent.is_active:
        return parent, [RowError(number, parent_h, "上级组织已撤销")]
    if org.level:
        try:
            _check_level(parent, org.level)
        except ValidationError as exc:
            return parent, validation_errors(number, exc, HEADERS)
    return parent, []


def _in_file_ancestors(item: _NewOrg, new_by_code: dict[str, _NewOrg]) -> tuple[list[_NewOrg], bool]:
    """The new organisations of the file above ``item``, nearest first, and whether the chain of
    parent codes loops."""
    chain: list[_NewOrg] = []
    seen = {item.org.code}
    cursor = new_by_code.get(item.parent_code) if item.parent is None else None
    while cursor is not None:
        if cursor.org.code in seen:
            return chain, True
        seen.add(cursor.org.code)
        chain.append(cursor)
        if cursor.parent is not None or not cursor.parent_code:
            break
        cursor = new_by_code.get(cursor.parent_code)
    return chain, False


def _in_file_parent_errors(
    new_by_code: dict[str, _NewOrg], bad_rows: set[int], errors: list[RowError]
) -> list[_NewOrg]:
    """Check the new organisations whose parent is a row of the same file — levels must fit, no
    chain may loop, and a row cannot be built under a row that has problems — adding every problem
    to ``errors`` and its row to ``bad_rows``; return the rows that can be written, each with its
    ``depth``. Every row is checked, including those with problems of their own."""
    parent_h = HEADERS["parent"]
    chains: dict[int, list[_NewOrg]] = {}
    for item in new_by_code.values():
        if item.parent is not None or not item.parent_code or item.parent_code == item.org.code:
            continue
        chain, looped = _in_file_ancestors(item, new_by_code)
        if looped:
            errors.append(RowError(item.row, parent_h, "上级组织代码形成循环引用"))
            bad_rows.add(item.row)
            continue
        chains[item.row] = chain
        if chain and item.org.level and chain[0].org.level:
            try:
                _check_level(chain[0].org, item.org.level)
            except ValidationError as exc:
                errors.extend(validation_errors(item.row, exc, HEADERS))
                bad_rows.add(item.row)
    # Once every row's own problems are known: a row under a row with problems cannot be built.
    blocked = {
        row: next(a.row for a in chain if a.row in bad_rows)
        for row, chain in chains.items()
        if any(a.row in bad_rows for a in chain)
    }
    for row, above in blocked.items():
        errors.append(RowError(row, parent_h, f"上级组织（第{above}行）有错误，无法创建"))
        bad_rows.add(row)
    valid = []
    for item in new_by_code.values():
        if item.row not in bad_rows:
            item.depth = len(chains.get(item.row, []))
            valid.append(item)
    return valid


def _org_import_check(actor: BaseActor, sheet: Sheet, report: ImportReport) -> _OrgImportPlan:
    """Validate every row and report every problem of every row in one pass, nothing written:
    codes unique in the file, existing organisations within the actor's import scope and only
    renamed/re-typed/re-sorted, new organisations under a parent that exists (in scope) or comes
    from the same file, levels that fit, no cycles. A row whose code repeats an earlier row's, or
    names an organisation outside the scope, is still checked for everything else it says."""
    scope = None if actor is None else scope_for(actor, "import", APP)
    maps = choice_maps(sheet.columns)
    errors: list[RowError] = []
    code_h = HEADERS["code"]

    parsed: list[tuple[int, dict[str, Any], set[str]]] = []
    first_row_of: dict[str, int] = {}
    for row in sheet.rows:
        data, cell_errors = parse_row(row, sheet.columns, maps)
        code = data.get("code")
        if code:
            first = first_row_of.setdefault(code, row.number)
            if first != row.number:
                cell_errors.append(RowError(row.number, code_h, f"与第{first}行组织代码重复"))
        errors.extend(cell_errors)
        parsed.append((row.number, data, {e.column for e in cell_errors}))

    wanted = sorted(
        {d["code"] for _, d, _ in parsed if d.get("code")}
        | {d["parent"] for _, d, _ in parsed if d.get("parent")}
    )
    existing: dict[str, Organization] = {}
    for chunk in batched(wanted):
        existing.update(
            (o.code, o) for o in Organization.objects.filter(code__in=chunk).select_related("parent")
        )

    def in_scope(org: Organization) -> bool:
        return scope is None or scope.covers(org.path)

    plan = _OrgImportPlan()
    new_by_code: dict[str, _NewOrg] = {}
    bad_rows: set[int] = set()
    for number, data, failed in parsed:
        code = data.get("code", "")
        primary = bool(code) and first_row_of[code] == number
        row_errors: list[RowError] = []
        org = existing.get(code) if code else None
        before = None
        if org is not None and not in_scope(org):
            if primary:
                row_errors.append(
                    RowError(number, code_h, f"组织代码 {code} 已被其他组织使用或不在您的管理范围内")
                )
            # Nothing is said about that organisation; the row's own cells are still checked.
            org = _org_draft(data)
        elif org is not None:
            # A repeated row is checked on a copy: only the first row of a code may be written.
            if not primary:
                org = copy.copy(org)
            before = tuple(getattr(org, f) for f in IMPORT_UPDATE_FIELDS)
            row_errors.extend(_existing_org_errors(number, org, data))
        else:
            org = _org_draft(data)
            parent, found = _new_org_parent(
                number,
                org,
                data.get("parent", ""),
                actor=actor,
                existing=existing,
                in_file=first_row_of,
                in_scope=in_scope,
            )
            row_errors.extend(found)
            if primary:
                new_by_code[code] = _NewOrg(number, org, data.get("parent", ""), parent)
        row_errors.extend(_org_clean_errors(number, org, failed))
        errors.extend(row_errors)
        if row_errors or failed or not primary:
            bad_rows.add(number)
            continue
        if org.pk is not None:
            plan.matched += 1
            if tuple(getattr(org, f) for f in IMPORT_UPDATE_FIELDS) != before:
                plan.changed.append(org)

    plan.new = _in_file_parent_errors(new_by_code, bad_rows, errors)
    report.errors = sort_errors(errors, ORG_COLUMNS)
    return plan


def _org_import_write(plan: _OrgImportPlan) -> None:
    """Create the new organisations parents first, giving each a path as ``organization_create``
    would (next free segment under its parent), one INSERT batch per depth."""
    parent_ids = {item.parent.pk for item in plan.new if item.parent is not None}
    # Lock the parents, as organization_create does, so concurrent creations get distinct paths.
    locked = {o.pk: o for o in Organization.objects.select_for_update().filter(pk__in=parent_ids)}
    created: dict[str, Organization] = {}
    next_number: dict[int | None, int] = {}
    for depth in sorted({item.depth for item in plan.new}):
        batch = []
        for item in plan.new:
            if item.depth != depth:
                continue
            parent = locked[item.parent.pk] if item.parent is not None else created.get(item.parent_code)
            key = parent.pk if parent is not None else None
            if key not in next_number:
                existing_children = parent is None or parent.pk in locked
                next_number[key] = (
                    decode_segment(_next_child_path(parent)[-SEGMENT_WIDTH:]) if existing_children else 1
                )
            org = item.org
            org.parent = parent
            org.path = (parent.path if parent else "") + encode_segment(next_number[key])
            org.depth = parent.depth + 1 if parent else 0
            next_number[key] += 1
            batch.append(org)
        Organization.objects.bulk_create(batch, batch_size=WRITE_BATCH)
        created.update((org.code, org) for org in batch)
    now = timezone.now()
    for org in plan.changed:
        org.updated_at = now
    Organization.objects.bulk_update(
        plan.changed, [*IMPORT_UPDATE_FIELDS, "updated_at"], batch_size=WRITE_BATCH
    )


def organization_import(*, actor: BaseActor, file: Any, filename: str, dry_run: bool) -> ImportReport:
    """Import organisations from an xlsx or csv file (see ``organizations.importing.ORG_COLUMNS``):
    new codes are created under their parent (which may be a row of the same file), existing codes
    get their name, short name, type and order updated. All rows are validated first; a real run
    writes everything in one transaction or nothing, with one audit row."""
    if actor is not None and not has_action(actor, "import", "organizations"):
        raise PermissionDenied("您无权导入党组织")

    def write(plan: Any) -> dict[str, Any]:
        _org_import_write(plan)
        return {"created_codes": [item.org.code for item in plan.new[:500]]}

    return run_import(
        actor=actor,
        file=file,
        filename=filename,
        dry_run=dry_run,
        columns=ORG_COLUMNS,
        check=_org_import_check,
        write=write,
        object_type=Organization._meta.label_lower,
        noun="党组织",
        conflict_message="导入期间组织代码或组织树被他人修改，数据未写入，请重新导入",
    )


def organization_export(
    *, actor: BaseActor, queryset: QuerySet[Organization], progress: Callable[[int], None] | None = None
) -> bytes:
    """The organisations of ``queryset`` that the actor may export, parents before children, in
    the import layout (with 上级组织代码), so the file can be edited and imported again.
    ``progress`` is told the number of rows written, every EXPORT_PROGRESS_EVERY rows and at the
    end (a background export shows it)."""
    if actor is not None:
        scope = scope_for(actor, "export", APP)
        if not scope.paths:
            raise PermissionDenied("您无权导出党组织")
        queryset = queryset.filter(scope.q("path"))
    book = XlsxExport()
    sheet = book.sheet("党组织", org_export_columns())
    for org in queryset.select_related("parent").order_by("path").iterator(chunk_size=2000):
        sheet.append(org_export_row(org))
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    if progress is not None:
        progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Organization._meta.label_lower,
        object_repr="党组织导出",
        changes={"rows": sheet.rows},
        message=f"导出党组织{sheet.rows}个",
    )
    return book.to_bytes()


def organization_import_template() -> bytes:
    """An empty organisation spreadsheet: the headers, one example row and a 填写说明 sheet."""
    return import_template(
        title="党组织",
        columns=ORG_COLUMNS,
        example=org_template_example(),
        notes=[
            "已有组织代码的行只更新组织名称、简称、单位类型和排序；新代码的行在上级组织下新建。",
            "上级组织可以是本文件中的另一行，系统会先建上级再建下级。",
        ],
    )


__all__ += ["organization_export", "organization_import", "organization_import_template"]

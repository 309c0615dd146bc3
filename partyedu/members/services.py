"""Writes to members: create, update, transfer, import. Each runs in one transaction, validates
everything before saving, checks scope, and writes its audit row."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core import pii
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.bulk import insert_plain
from partyedu.core.choices import AuditAction
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
from partyedu.core.scope import can, has_action, is_system, require, scope_for, subtree_q
from partyedu.organizations.choices import MEMBER_LEVELS
from partyedu.organizations.models import Organization, ancestor_paths

from . import pii_index
from .choices import Gender, MemberCategory, MemberStatus
from .idnumber import IdNumberInfo, parse_id_number
from .importing import HEADERS, MEMBER_COLUMNS
from .importing import export_columns as member_export_columns
from .importing import export_row as member_export_row
from .importing import template_example_row as member_template_example
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
    "candidate_on",
    "joined_on",
    "full_member_on",
    "status",
    "categories",
    "is_exempt",
    "exempt_reason",
)
# ``MemberCategory.values`` builds a new list on every access; an import checks every row.
CATEGORY_VALUES = frozenset(MemberCategory.values)
APP = "members"
NOT_YOURS = "您无权管理该组织的党员"
# Audited fields; personal data appears in the audit log only as "changed", never as values.
AUDITED_FIELDS = tuple(f for f in MEMBER_FIELDS if f not in ("id_number", "phone"))


def _check_org(org: Organization | None) -> None:
    if org is None:
        raise ValidationError({"organization": ["请选择所在党组织"]})
    if org.level not in MEMBER_LEVELS:
        raise ValidationError({"organization": ["党员只能编入党支部或党小组"]})
    if not org.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})


def apply_member_data(  # noqa: PLR0912 - one branch per field rule, all errors reported at once
    member: Member,
    data: dict[str, Any],
    *,
    id_parsed: tuple[IdNumberInfo, str] | None = None,
    check_id: bool = True,
) -> None:
    """Set fields from input and derive what follows from them, raising ValidationError by field.
    Shared by the services and the import so that both apply the same rules. ``id_parsed``: the
    ``parse_id_number`` result and blind index of ``data["id_number"]`` when the caller already
    has them (the import checks every number before it gets here). ``check_id=False``: the import
    of a row whose ID number is already reported as wrong, checking the other fields all the same."""
    errors: dict[str, list[str]] = {}
    for field in data:
        if field not in MEMBER_FIELDS:
            errors.setdefault(field, []).append("未知字段")
    if errors:
        raise ValidationError(errors)
    # A stored member who becomes 发展对象 now starts the candidate training window today unless a
    # date is given (细则); a new record's date is unknown, not today (the pages say it is missing).
    was_candidate = member.pk is None or member.status == MemberStatus.CANDIDATE
    for field, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(member, field, value)
    if not was_candidate and member.status == MemberStatus.CANDIDATE and not member.candidate_on:
        member.candidate_on = timezone.localdate()

    # The ID number fixes birth date and gender (GB 11643), on every write: a new or changed
    # number sets them, and a birth date or gender given against a stored number must agree.
    id_given = "id_number" in data or not member.id_number_hash
    if check_id and (id_given or "birth_date" in data or "gender" in data):
        if id_parsed is not None and id_parsed[0].number == member.id_number:
            info, id_hash = id_parsed
        else:
            try:
                info = parse_id_number(member.id_number or "")
            except ValidationError as exc:
                raise ValidationError({"id_number": exc.messages}) from None
            id_hash = ""
        if id_given:
            member.id_number = info.number
            member.id_number_hash = id_hash or pii_index.id_number_index(info.number)
        if not member.birth_date or (id_given and "birth_date" not in data):
            member.birth_date = info.birth_date
        elif member.birth_date != info.birth_date:
            errors["birth_date"] = [f"出生日期与身份证号不符（身份证号为{info.birth_date:%Y-%m-%d}）"]
        if not member.gender or (id_given and "gender" not in data):
            member.gender = info.gender
        elif member.gender != info.gender:
            errors["gender"] = [f"性别与身份证号不符（身份证号为{Gender(info.gender).label}）"]
    if member.phone:
        phone = str(member.phone).replace(" ", "").replace("-", "")
        if not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            errors["phone"] = ["手机号应为1开头的11位数字"]
        member.phone = phone
    categories = list(dict.fromkeys(member.categories or []))
    unknown = [c for c in categories if c not in CATEGORY_VALUES]
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
    if member.candidate_on:
        if member.candidate_on > timezone.localdate():
            errors["candidate_on"] = ["确定为发展对象日期不能晚于今天"]
        elif member.birth_date and member.candidate_on < member.birth_date:
            errors["candidate_on"] = ["确定为发展对象日期早于出生日期"]
        elif member.joined_on and member.candidate_on > member.joined_on:
            errors["candidate_on"] = ["确定为发展对象日期晚于入党日期"]
    if errors:
        raise ValidationError(errors)
    member.name_initials = initials(member.name)
    member.set_masked_fields()


OUT_OF_SCOPE_MEMBER = (
    "该身份证号已登记在您管理范围以外的党组织，一名党员只能编入一个党支部。"
    "如需调入，请联系上级党委组织部门办理组织关系转接"
)


def _check_unique_id(member: Member, actor: Actor) -> None:
    clash = (
        Member.objects.filter(id_number_hash=member.id_number_hash)
        .exclude(pk=member.pk)
        .select_related("organization")
        .first()
    )
    if clash is None:
        return
    # Name the organisation only to someone who may already see that member: outside the
    # caller's scope, where the person is a member is itself personal data.
    if actor is None or can(actor, "view", clash.org_path, app_label=APP):
        message = f"该身份证号已登记在“{clash.organization.name}”，一名党员只能编入一个党支部"
    else:
        message = OUT_OF_SCOPE_MEMBER
    raise ValidationError({"id_number": [message]})


@transaction.atomic
def member_create(*, actor: Actor, data: dict[str, Any]) -> Member:
    member = Member()
    apply_member_data(member, data)
    _check_org(member.organization if member.organization_id else None)
    require(actor, "add", member.organization, app_label=APP, message=NOT_YOURS)
    _check_unique_id(member, actor)
    member.org_path = member.organization.path
    member.full_clean(exclude=["user"])
    member.save()
    if member.is_active:
        member_counts_add({member.org_path: 1})
    _learning_members_changed([member.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=member,
        changes={"after": snapshot(member, AUDITED_FIELDS)},
    )
    return member


MANAGED_MESSAGE = "该项由发展党员流程确定，请在“发展党员”中确认相应步骤"


def _managed_fields(members: list[Member]) -> dict[int, set[str]]:
    """The fields of each member that a higher app keeps (``members.managed_fields``): the status
    and dates of a member in development follow the confirmed steps of their case."""
    managed: dict[int, set[str]] = {}
    for answer in hooks.call("members.managed_fields", members=members):
        for pk, fields in answer.items():
            managed.setdefault(pk, set()).update(fields)
    return managed


def _managed_changes(member: Member, data: dict[str, Any], managed: dict[int, set[str]]) -> list[str]:
    """The kept fields that ``data`` would change on ``member``, in name order."""
    kept = managed.get(member.pk, set()) if member.pk is not None else set()
    return [field for field in sorted(kept & data.keys()) if data[field] != getattr(member, field)]


def _check_managed(member: Member, data: dict[str, Any]) -> None:
    """Refuse a change to a field that a higher app keeps (``_managed_fields``)."""
    changed = _managed_changes(member, data, _managed_fields([member]))
    if changed:
        raise ValidationError({field: [MANAGED_MESSAGE] for field in changed})


@transaction.atomic
def member_update(*, actor: Actor, member: Member, data: dict[str, Any]) -> Member:
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    require(actor, "change", member.organization, app_label=APP, message=NOT_YOURS)
    if "organization" in data and data["organization"] != member.organization:
        raise ValidationError({"organization": ["变更所在党组织请办理组织关系转接"]})
    if not is_system(actor):
        _check_managed(member, data)
    before = snapshot(member, AUDITED_FIELDS)
    old_id, old_phone = member.id_number, member.phone
    apply_member_data(member, data)
    _check_unique_id(member, actor)
    member.full_clean(exclude=["user"])
    member.save()
    changes = diff(before, snapshot(member, AUDITED_FIELDS))
    if member.id_number != old_id:
        changes["id_number"] = ["***", "***"]
    if member.phone != old_phone:
        changes["phone"] = ["***", "***"]
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=member, changes=changes)
    if {"status", "categories", "is_exempt"} & changes.keys():
        _learning_members_changed([member.pk])
    return member


@transaction.atomic
def member_transfer(
    *,
    actor: Actor,
    member: Member,
    to_organization: Organization,
    transferred_on: date | None = None,
    reason: str = "",
) -> MemberTransfer:
    """Move a member's organisational relationship to another branch or group and keep the
    history. Both ends must be within the actor's scope (a transfer across administrations goes
    through the administration that covers both)."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    require(actor, "change", member.organization, app_label=APP, message=NOT_YOURS)
    _check_org(to_organization)
    require(actor, "change", to_organization, app_label=APP, message=NOT_YOURS)
    if to_organization.pk == member.organization_id:
        raise ValidationError({"to_organization": ["转入组织与当前所在组织相同"]})
    transfer = MemberTransfer(
        member=member,
        from_organization=member.organization,
        to_organization=to_organization,
        transferred_on=transferred_on or timezone.localdate(),
        reason=reason.strip(),
        operator=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transfer.full_clean()
    transfer.save()
    member.organization = to_organization
    member.org_path = to_organization.path
    member.save(update_fields=["organization", "org_path", "updated_at"])
    if member.is_active:
        member_counts_add({transfer.from_organization.path: -1, to_organization.path: 1})
    _learning_members_changed([member.pk])
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER,
        obj=member,
        changes={"organization": [transfer.from_organization_id, to_organization.pk]},
        message=transfer.reason,
    )
    return transfer


def require_member_scope(actor: Actor, action: str, member: Member) -> None:
    require(actor, action, member.organization, app_label=APP, message=NOT_YOURS)


# --- Excel import / export ----------------------------------------------------------------------------

# Fields an import may change on an existing member (the ID number is the key; the organisation
# changes only by transfer).
IMPORT_UPDATE_FIELDS = (
    *(f for f in MEMBER_FIELDS if f not in ("organization", "id_number")),
    "name_initials",
    "id_number_masked",
    "phone_masked",
)
IMPORT_CLEAN_EXCLUDE = [
    "user",
    "organization",
    "id_number_hash",
    # Set by ``apply_member_data`` from values it has already checked (the ID number parsed and
    # normalised, the categories matched against the known ones) or derived from them (path,
    # initials, masked forms): nothing a row of the file could make invalid.
    "org_path",
    "name_initials",
    "id_number",
    "id_number_masked",
    "phone_masked",
    "categories",
]
# What the import needs of the organisations a file names (thousands of them in a city's file).
IMPORT_ORG_FIELDS = ("id", "code", "name", "path", "level", "is_active")


@dataclasses.dataclass
class _MemberImportPlan:
    new: list[Member] = dataclasses.field(default_factory=list)
    changed: list[Member] = dataclasses.field(default_factory=list)
    matched: int = 0


def _member_state(member: Member) -> tuple[Any, ...]:
    return tuple(getattr(member, name) for name in IMPORT_UPDATE_FIELDS)


def _row_rule_errors(
    number: int,
    member: Member,
    data: dict[str, Any],
    id_parsed: tuple[IdNumberInfo, str] | None,
    failed: set[str],
    *,
    check_id: bool = True,
) -> list[RowError]:
    """Every rule of ``member_create``/``member_update`` on one row, each problem once: the member
    rules and the model's own field checks both run, so a row's third error shows with its first
    two. Cells that could not be read (``failed``) were left out of ``data`` and already reported."""
    found: list[RowError] = []
    try:
        apply_member_data(member, data, id_parsed=id_parsed, check_id=check_id)
    except ValidationError as exc:
        found.extend(validation_errors(number, exc, HEADERS))
    # Without the ID number the fields it sets are empty here, not wrong.
    exclude = IMPORT_CLEAN_EXCLUDE if check_id else [*IMPORT_CLEAN_EXCLUDE, "birth_date", "gender"]
    try:
        member.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        reported = {e.column for e in found}
        found.extend(e for e in validation_errors(number, exc, HEADERS) if e.column not in reported)
    skip = failed | ({HEADERS["id_number"]} if not check_id else set())
    return [e for e in found if e.column not in skip]


def _member_import_check(  # noqa: PLR0912 - every row rule with its 第N行 message, in one pass
    actor: Actor, sheet: Sheet, report: ImportReport
) -> _MemberImportPlan:
    """Validate every row with the same rules as ``member_create``/``member_update`` and return
    what would be written. Lookups are made in bulk (organisations by code, members by the blind
    index of their ID number), so the cost per row is parsing, validation and hashing only."""
    id_header, org_header = HEADERS["id_number"], HEADERS["organization"]
    scope = None if actor is None else scope_for(actor, "import", APP)
    maps = choice_maps(sheet.columns)
    errors: list[RowError] = []

    # Pass 1: cells, ID numbers and duplicates inside the file.
    parsed: list[tuple[int, dict[str, Any], str | None, set[str], IdNumberInfo | None]] = []
    first_row_of: dict[str, int] = {}
    for row in sheet.rows:
        data, row_errors = parse_row(row, sheet.columns, maps)
        id_hash = None
        info = None
        if "id_number" in data:
            try:
                info = parse_id_number(data["id_number"])
            except ValidationError as exc:
                row_errors.append(RowError(row.number, id_header, exc.messages[0]))
            else:
                data["id_number"] = info.number
                id_hash = pii_index.id_number_index(info.number)
                first = first_row_of.setdefault(id_hash, row.number)
                if first != row.number:
                    row_errors.append(RowError(row.number, id_header, f"与第{first}行身份证号重复"))
                    id_hash = None
        errors.extend(row_errors)
        parsed.append((row.number, data, id_hash, {e.column for e in row_errors}, info))

    codes = sorted({data["organization"] for _, data, _, _, _ in parsed if data.get("organization")})
    orgs: dict[str, Organization] = {}
    for chunk in batched(codes):
        orgs.update((o.code, o) for o in Organization.objects.filter(code__in=chunk).only(*IMPORT_ORG_FIELDS))
    hashes = [h for _, _, h, _, _ in parsed if h]
    existing: dict[str, Member] = {}
    for chunk in batched(hashes):
        existing.update(
            (m.id_number_hash, m)
            for m in Member.objects.filter(id_number_hash__in=chunk).select_related("organization")
        )

    # Pass 2: organisation, scope, the member rules.
    managed = _managed_fields(list(existing.values())) if actor is not None else {}
    plan = _MemberImportPlan()
    for number, data, id_hash, failed, info in parsed:
        row_errors = []
        code = data.pop("organization", None)
        org = orgs.get(code) if code else None
        if code and (org is None or (scope is not None and not scope.covers(org.path))):
            row_errors.append(RowError(number, org_header, f"组织代码 {code} 不存在或不在您的管理范围内"))
            org = None
        elif org is not None:
            try:
                _check_org(org)
            except ValidationError as exc:
                row_errors.extend(validation_errors(number, exc, HEADERS))
                org = None
        member = existing.get(id_hash) if id_hash else None
        if member is not None:
            if scope is not None and not scope.covers(member.organization.path):
                errors.extend([*row_errors, RowError(number, id_header, OUT_OF_SCOPE_MEMBER)])
                continue
            if org is not None and org.pk != member.organization_id:
                row_errors.append(RowError(number, org_header, "变更所在党组织请办理组织关系转接"))
            phone = data.get("phone", "")
            if "*" in phone and phone == pii.mask_mobile(member.phone):
                del data["phone"]  # a masked export re-imported: keep the stored number
            row_errors.extend(
                RowError(number, HEADERS[field], MANAGED_MESSAGE)
                for field in _managed_changes(member, data, managed)
            )
            before = _member_state(member)
        elif id_hash is None:
            # The ID number is wrong (already reported) and the row will not be written, but every
            # other rule still runs, so that one dry run names all of the row's problems.
            draft = Member(organization=org, org_path=org.path) if org is not None else Member()
            rest = {k: v for k, v in data.items() if k != "id_number"}
            errors.extend([*row_errors, *_row_rule_errors(number, draft, rest, None, failed, check_id=False)])
            continue
        else:
            member = Member(organization=org, org_path=org.path) if org is not None else Member()
        id_parsed = (info, id_hash) if info and id_hash else None
        row_errors.extend(_row_rule_errors(number, member, data, id_parsed, failed))
        errors.extend(row_errors)
        if row_errors or failed:
            continue
        if member.pk is None:
            plan.new.append(member)
        else:
            plan.matched += 1
            if _member_state(member) != before:
                plan.changed.append(member)
    report.errors = sort_errors(errors, MEMBER_COLUMNS)
    return plan


def member_import(*, actor: Actor, file: Any, filename: str, dry_run: bool) -> ImportReport:
    """Import members from an xlsx or csv file (see ``members.importing.MEMBER_COLUMNS``).

    Every row is validated before anything is written. A dry run only reports. A real run writes
    nothing if any row has an error; otherwise it creates new members and updates existing ones
    (matched by ID number) in one transaction, with one audit row for the whole file. Raises
    ImportFileError for problems with the file itself and PermissionDenied without the import
    action."""
    if actor is not None and not has_action(actor, "import", "members"):
        raise PermissionDenied("您无权导入党员")
    return run_import(
        actor=actor,
        file=file,
        filename=filename,
        dry_run=dry_run,
        columns=MEMBER_COLUMNS,
        check=_member_import_check,
        write=_member_import_write,
        object_type=Member._meta.label_lower,
        noun="党员",
        conflict_message="导入期间有党员被他人登记，数据未写入，请重新导入",
    )


def _member_import_write(plan: Any) -> dict[str, Any]:
    _insert_new_members(plan.new)
    member_counts_add(Counter(m.org_path for m in plan.new if m.is_active))
    now = timezone.now()
    for member in plan.changed:
        member.updated_at = now
    Member.objects.bulk_update(plan.changed, [*IMPORT_UPDATE_FIELDS, "updated_at"], batch_size=WRITE_BATCH)
    _learning_members_changed([m.pk for m in [*plan.new, *plan.changed]])
    return {}


def _insert_new_members(members: list[Member]) -> None:
    """Insert members that are not yet saved, setting their ids. On PostgreSQL the ids are drawn
    from the table's sequence in one statement and the rows written by COPY: for an import of
    thousands, ``bulk_create``'s multi-row INSERTs spend most of their time compiling every value
    through the ORM and having the server parse thousands of parameters. Values are prepared as
    ``bulk_create`` would (encrypted personal data, JSON). Elsewhere ``bulk_create``."""
    if not members:
        return
    if connection.vendor != "postgresql":
        Member.objects.bulk_create(members, batch_size=WRITE_BATCH)
        return
    meta = Member._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(members)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    fields = meta.concrete_fields
    # Fields whose Python value the driver stores as it is; the others go through the field's own
    # preparation (encryption, JSON, timestamps).
    plain = [
        isinstance(f, models.CharField | models.BooleanField | models.DateField | models.ForeignKey)
        and not isinstance(f, models.DateTimeField)
        for f in fields
    ]
    for member, pk in zip(members, ids, strict=True):
        member.pk = pk
        member.created_at = member.updated_at = now
    rows = (
        [
            getattr(m, f.attname) if is_plain else f.get_db_prep_save(getattr(m, f.attname), connection)
            for f, is_plain in zip(fields, plain, strict=True)
        ]
        for m in members
    )
    # A unique-key clash (someone registered the same person meanwhile) surfaces as Django's
    # IntegrityError, which the import turns into its conflict message.
    with connection.wrap_database_errors:
        insert_plain(Member, [f.name for f in fields], rows)
    for member in members:
        member._state.adding = False
        member._state.db = connection.alias


# How often a long export reports how far it has got.
EXPORT_PROGRESS_EVERY = 500


def member_export(
    *, actor: Actor, queryset: QuerySet[Member], progress: Callable[[int], None] | None = None
) -> bytes:
    """The members of ``queryset`` that the actor may export, as an xlsx in the import layout (so it
    can be edited and imported again). 身份证号 and 手机号 are masked unless the actor holds the
    PII grant for the member's organisation. One audit row records the count and the unmasking.
    ``progress`` is told the number of rows written so far, every EXPORT_PROGRESS_EVERY rows (a
    background export shows it)."""
    from partyedu.accounts.selectors import can_see_pii

    if actor is not None:
        scope = scope_for(actor, "export", APP)
        if not scope.paths:
            raise PermissionDenied("您无权导出党员")
        queryset = queryset.filter(scope.q("org_path"))
    book = XlsxExport()
    sheet = book.sheet("党员信息", member_export_columns())
    visible: dict[str, bool] = {}
    unmasked_rows = 0
    for member in queryset.select_related("organization").iterator(chunk_size=2000):
        path = member.organization.path
        if path not in visible:
            # The system (no actor) holds no personal-data grant: its exports are masked.
            visible[path] = actor is not None and can_see_pii(actor, path)
        unmasked_rows += visible[path]
        sheet.append(member_export_row(member, unmasked=visible[path]))
        if progress is not None and sheet.rows % EXPORT_PROGRESS_EVERY == 0:
            progress(sheet.rows)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Member._meta.label_lower,
        object_repr="党员信息导出",
        changes={"rows": sheet.rows, "unmasked": unmasked_rows > 0, "unmasked_rows": unmasked_rows},
        message=f"导出党员{sheet.rows}名"
        + (f"，其中{unmasked_rows}名含未脱敏身份证号、手机号" if unmasked_rows else ""),
    )
    return book.to_bytes()


def member_import_template() -> bytes:
    """An empty member spreadsheet: the headers, one example row and a 填写说明 sheet."""
    return import_template(
        title="党员信息",
        columns=MEMBER_COLUMNS,
        example=member_template_example(),
        notes=["重复导入时按身份证号匹配：已登记的党员更新信息，未登记的新增。"],
    )


@transaction.atomic
def member_leave_roll(*, actor: Actor, member: Member, reason: str) -> Member:
    """Take a member off the roll (离册: death, removal from the party, transfer out of the
    system). The record and its history stay; lists and counts no longer include the member."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    require(actor, "delete", member.organization, app_label=APP, message=NOT_YOURS)
    if not reason.strip():
        raise ValidationError({"reason": ["请填写离册原因"]})
    if not member.is_active:
        raise ValidationError({"is_active": ["该党员已离册"]})
    member.is_active = False
    member.save(update_fields=["is_active", "updated_at"])
    member_counts_add({member.org_path: -1})
    _learning_members_changed([member.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=member,
        changes={"is_active": [True, False]},
        message=reason.strip(),
    )
    return member


def _learning_members_changed(member_ids: list[int]) -> None:
    """Members' requirements for learning hours follow their status, categories, exemption and
    organisation, and so does the lectures duty list (secretaries and leading cadres); keep the
    learning summaries and the lecture statistics in step inside the same transaction, through
    the ``members.changed`` hook that those apps register (one function, so a test can switch the
    follow-up off)."""
    hooks.call("members.changed", member_ids=member_ids)


# --- what members keep on organisations -----------------------------------------------------------


def member_counts_add(deltas: dict[str, int]) -> None:
    """Apply changes in active members, given by the path of the organisation they belong to, to
    the cumulative member count of that organisation and of every ancestor, inside the caller's
    transaction. Increments (not recounts), so concurrent writers never lose each other's
    changes."""
    totals: dict[str, int] = {}
    for path, delta in deltas.items():
        for prefix in ancestor_paths(path):
            totals[prefix] = totals.get(prefix, 0) + delta
    # One statement per distinct delta when there are few (a single member: one statement);
    # an import touching thousands of organisations has a hundred distinct deltas, so it sends
    # each organisation's own increment in a VALUES list instead, 1,000 a statement.
    by_delta: dict[int, list[str]] = {}
    for prefix in sorted(totals):
        if totals[prefix]:
            by_delta.setdefault(totals[prefix], []).append(prefix)
    if len(by_delta) > COUNT_GROUPED_UPDATES_MAX:
        _member_counts_add_listed(sorted((p, d) for p, d in totals.items() if d))
        return
    for delta, paths in sorted(by_delta.items()):
        for start in range(0, len(paths), 900):
            Organization.objects.filter(path__in=paths[start : start + 900]).update(
                member_count=F("member_count") + delta
            )


# Distinct increments up to which ``member_counts_add`` writes one UPDATE per increment.
COUNT_GROUPED_UPDATES_MAX = 8


def _member_counts_add_listed(items: list[tuple[str, int]]) -> None:
    """``UPDATE … SET member_count = member_count + d.delta FROM (VALUES (path, delta), …) d``
    (PostgreSQL and SQLite ≥ 3.33 both have UPDATE … FROM)."""
    qn = connection.ops.quote_name
    table = qn(Organization._meta.db_table)
    count, path = qn("member_count"), qn("path")
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            part = items[start : start + 1000]
            cursor.execute(
                f"WITH d (path, delta) AS (VALUES {', '.join(['(%s, %s)'] * len(part))}) "
                f"UPDATE {table} SET {count} = {table}.{count} + d.delta FROM d WHERE {table}.{path} = d.path",
                [value for item in part for value in item],
            )


def member_summaries_rebuild() -> dict[str, int]:
    """Recompute what is derived from members and organisations — each member's copy of its
    organisation's path and each organisation's cumulative member count — and say how many rows
    differed. After correct operation both numbers are 0."""
    with transaction.atomic():
        org_path = Subquery(Organization.objects.filter(pk=OuterRef("organization_id")).values("path")[:1])
        paths_fixed = Member.objects.exclude(org_path=org_path).update(org_path=org_path)
        actual: dict[str, int] = {}
        direct = Member.objects.filter(is_active=True).values_list("org_path").annotate(n=Count("id"))
        for path, n in direct.values_list("org_path", "n"):
            for prefix in ancestor_paths(path):
                actual[prefix] = actual.get(prefix, 0) + n
        wrong = []
        for org in Organization.objects.only("id", "path", "member_count").iterator(chunk_size=2000):
            if org.member_count != actual.get(org.path, 0):
                org.member_count = actual.get(org.path, 0)
                wrong.append(org)
        Organization.objects.bulk_update(wrong, ["member_count"], batch_size=1000)
    return {"member_paths": paths_fixed, "member_counts": len(wrong)}


def members_org_moved(
    *, organization: Organization, old_path: str, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's members copy its new paths, and its members
    leave the old ancestors' counts and join the new ones' (inside the move's transaction)."""
    Member.objects.filter(subtree_q("org_path", [old_path])).update(
        org_path=Concat(Value(organization.path), Substr("org_path", len(old_path) + 1))
    )
    if organization.member_count:
        member_counts_add(
            {old_parent_path: -organization.member_count, new_parent_path: organization.member_count}
        )


def members_org_deactivating(*, organization: Organization) -> None:
    """``organizations.deactivating``: an organisation with members on its roll (in its subtree)
    cannot be dissolved; they are transferred out first."""
    remaining = Member.objects.filter(organization.subtree_q("org_path"), is_active=True).count()
    if remaining:
        raise ValidationError(
            {"is_active": [f"该组织及其下级仍有{remaining}名在册党员，请先办理组织关系转接"]}
        )

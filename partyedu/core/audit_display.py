"""How the audit log reads to a person: objects named in Chinese, and the stored ``changes``
summary as a before/after table with field names and values in Chinese.

Nothing here queries the database. The object's kind comes from the app registry (the model's
``verbose_name``, looked up by the stored ``object_type``; no app is imported), its name from the
``object_repr`` stored when the row was written (so it survives the object's deletion). A field's
label and the meaning of its values (choices, yes/no, dates) come from the model's field; a JSON field
that holds a list of choice codes (a member's categories) has its choices declared by its app through
the ``core.choice_lists`` hook (core imports no app), an ``ArrayField`` by its ``base_field``. The names
of objects a foreign key points to are looked up by the caller in the audit log itself
(``selectors.audit_names``) and passed in as ``names``.

The shapes ``changes`` takes (written by ``core.audit`` and the services):

- ``{field: [old, new]}`` — a change (``audit.diff``);
- ``{"after": {field: value}}`` — the fields of a new object; ``{"before": {…}}`` — of a deleted one;
- ``{key: value}`` — any other fact (rows imported, ids exported, counts recomputed…).

Personal data never reaches the log (services record a changed 身份证号 or 手机号 as ``"***"``);
for such fields this module shows that the value changed and never a value, whatever is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .hooks import hooks

# The empty value, and what stands for a personal-data value (never shown).
EMPTY = "—"
SEPARATOR = "、"
SUMMARY_FIELDS = 5
# Fields whose values are personal data or secrets: shown as "changed" only.
PRIVATE_FIELDS = frozenset(
    {
        "id_number",
        "id_number_hash",
        "id_number_masked",
        "phone",
        "phone_masked",
        "mobile",
        "mobile_hash",
        "password",
    }
)
# ``object_type`` values that name no model.
PSEUDO_TYPES = {"core.demo_seed": "演示数据"}
# Labels of keys that are not fields of the audited model (facts the services record).
KEY_LABELS = {
    "accounts": "账号",
    "activities": "学习活动数",
    "added": "新增",
    "advanced": "晋级作品数",
    "api_token": "API 令牌",
    "api_tokens_revoked": "撤销的 API 令牌数",
    "assigned": "分配评审数",
    "attendance": "出勤记录数",
    "awards": "奖项数",
    "changed": "有变化",
    "closed": "已结束",
    "copies": "副本",
    "created": "新增数",
    "criteria": "评分标准",
    "devices_removed": "移除的认证设备数",
    "duty_members": "应讲党员",
    "endorsed": "已推荐",
    "enrolled": "报名",
    "entry": "参赛作品",
    "fields": "字段",
    "figures": "统计数",
    "file": "文件",
    "files": "附件",
    "first": "首次评分",
    "hour_entries": "学时记录数",
    "hours": "学时",
    "id_number": "身份证号",
    "mobile": "手机号",
    "password": "密码",
    "phone": "手机号",
    "kind": "类别",
    "lecture_count": "党课数",
    "lecturer_count": "讲师数",
    "lecturers": "主讲人",
    "ledger": "学时台账",
    "ledger_rows_appended": "补记台账行数",
    "member": "党员",
    "member_ids": "党员编号",
    "members": "党员数",
    "organization": "党组织",
    "organization_count": "党组织数",
    "organizations": "党组织数",
    "override": "人工调整",
    "panel": "评委",
    "path": "组织路径",
    "pii": "查看敏感信息",
    "ratings": "评价数",
    "removed": "移除",
    "replaced": "替换",
    "requirements": "学时要求",
    "reviewer": "评委",
    "role": "角色",
    "rows": "行数",
    "seed": "随机种子",
    "slots": "轮讲安排",
    "source": "来源",
    "summaries": "学时汇总",
    "tags": "专长标签",
    "tallies": "计数",
    "topic": "主题",
    "total": "总分",
    "unmasked": "含明文敏感信息",
    "unmasked_rows": "明文敏感信息行数",
    "updated": "更新数",
    "user": "用户",
    "withdrawn": "已撤回",
    "year": "年度",
    "year_hours": "年度学时",
}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# (related model label, pk as text) → the object's name, as the audit log recorded it.
Names = Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class AuditObject:
    """Who or what an audit row is about: its kind in Chinese (``"党员"``) and its name."""

    type_label: str
    name: str
    object_id: str
    known: bool  # whether the kind was found (an unknown kind shows its stored code)
    code: str

    def __str__(self) -> str:
        return (
            f"{self.type_label}：{self.name}"
            if self.type_label and self.name
            else self.type_label or self.name
        )


@dataclass(frozen=True)
class ChangeRow:
    """One line of the before/after table; ``old``/``new`` are display text."""

    key: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class FactRow:
    key: str
    label: str
    value: str


@dataclass
class AuditChanges:
    """The ``changes`` of one row, read: what changed, what a new object held, what a deleted
    object held, and any other facts."""

    changed: list[ChangeRow] = field(default_factory=list)
    created: list[ChangeRow] = field(default_factory=list)
    deleted: list[ChangeRow] = field(default_factory=list)
    facts: list[FactRow] = field(default_factory=list)

    @property
    def rows(self) -> list[ChangeRow]:
        """Every before/after line: changed fields, then a new object's, then a deleted one's."""
        return [*self.changed, *self.created, *self.deleted]

    def __bool__(self) -> bool:
        return bool(self.changed or self.created or self.deleted or self.facts)

    def summary(self) -> str:
        """One line for the list page, e.g. ``修改了 3 项：名称、简称、排序``."""
        parts = []
        for template, rows in (
            (_("修改了 %(n)d 项：%(labels)s"), self.changed),
            (_("新建 %(n)d 项：%(labels)s"), self.created),
            (_("删除前 %(n)d 项：%(labels)s"), self.deleted),
            (_("记录了 %(n)d 项：%(labels)s"), self.facts),
        ):
            if rows:
                parts.append(template % {"n": len(rows), "labels": _labels([r.label for r in rows])})
        return "；".join(parts)


@dataclass(frozen=True)
class AuditEntry:
    """An audit row with its object and its changes read, as the pages show it."""

    row: Any  # core.models.AuditLog
    object: AuditObject
    changes: AuditChanges


def _labels(labels: list[str]) -> str:
    shown = SEPARATOR.join(labels[:SUMMARY_FIELDS])
    return shown + _("等") if len(labels) > SUMMARY_FIELDS else shown


@lru_cache(maxsize=256)
def audited_model(object_type: str) -> type[models.Model] | None:
    """The model an ``object_type`` (``"members.member"``) names, or None."""
    app_label, _dot, model_name = object_type.partition(".")
    if not app_label or not model_name:
        return None
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def audit_object(object_type: str, object_id: str, object_repr: str) -> AuditObject:
    """The row's object in Chinese: the model's verbose name and the name stored with the row;
    an object without a stored name is named by its number."""
    model = audited_model(object_type) if object_type else None
    if model is not None:
        type_label, known = str(model._meta.verbose_name), True
    elif object_type in PSEUDO_TYPES:
        type_label, known = PSEUDO_TYPES[object_type], True
    else:
        type_label, known = "", not object_type
    name = object_repr or (_("编号 %(id)s") % {"id": object_id} if object_id else "")
    return AuditObject(type_label=type_label, name=name, object_id=object_id, known=known, code=object_type)


def _model_field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def field_label(model: type[models.Model] | None, key: str) -> str:
    """A key of ``changes`` in Chinese: the model field's verbose name, a known fact's label,
    or the key itself."""
    found = _model_field(model, key)
    if found is not None:
        return str(found.verbose_name)
    if model is not None and key.endswith("_id"):
        found = _model_field(model, key[:-3])
        if found is not None:
            return str(found.verbose_name)
    return KEY_LABELS.get(key, key)


def _format_datetime(value: datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")


def _format_text(text: str) -> str:
    if _ISO_DATETIME.match(text):
        moment = parse_datetime(text)
        if moment is not None:
            return _format_datetime(moment)
    if _ISO_DATE.match(text):
        day = parse_date(text)
        if day is not None:
            return day.strftime("%Y-%m-%d")
    return text


def _is_id(value: Any) -> bool:
    """Whether a value stored for a relation is an object's number: snapshots and diffs store a
    foreign key as its integer id; some services store a name or a code (a text) instead."""
    return isinstance(value, int) and not isinstance(value, bool)


def _related_label(target: models.Field[Any, Any]) -> str:
    related = target.related_model
    return related._meta.label_lower if isinstance(related, type) else ""


def display_value(
    value: Any,
    target: models.Field[Any, Any] | None = None,
    *,
    model: type[models.Model] | None = None,
    names: Names | None = None,
) -> str:
    """A stored value as a person reads it: a choice by its label, 是/否, ``—`` for nothing,
    a list joined, a date formatted, an object by its name; never a Python or JSON repr."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, list | tuple | set):
        nested = any(isinstance(v, list | tuple | set | Mapping) for v in value)
        items = [display_value(v, target, model=model, names=names) for v in value]
        return ("；" if nested else SEPARATOR).join(items)
    if isinstance(value, Mapping):
        return "；".join(
            f"{field_label(model, str(k))}："
            + (
                _("（不记录内容）")
                if _private(str(k))
                else _display_nested(v, _model_field(model, str(k)), model, names)
            )
            for k, v in value.items()
        )
    shown = _display_by_field(value, target, names) if target is not None else None
    return shown if shown is not None else _display_scalar(value)


@lru_cache(maxsize=1)
def choice_lists() -> dict[tuple[str, str], dict[Any, Any]]:
    """``(model label, field name)`` → {code: label} of the JSON fields that hold a list of choice
    codes, as their apps declare them (``core.choice_lists``); read once per process."""
    found: dict[tuple[str, str], dict[Any, Any]] = {}
    for declared in hooks.call("core.choice_lists"):
        for key, choices in declared.items():
            found[key] = dict(choices)
    return found


def item_choices(target: models.Field[Any, Any]) -> dict[Any, Any] | None:
    """The choices of the codes a list-valued field holds: an ``ArrayField``'s ``base_field``, or a
    JSON field's declared through ``core.choice_lists``; None for any other field."""
    base = getattr(target, "base_field", None)
    if isinstance(base, models.Field) and base.choices:
        return dict(base.flatchoices)
    model = getattr(target, "model", None)
    if model is None or not isinstance(target, models.JSONField):
        return None
    return choice_lists().get((model._meta.label_lower, target.name))


def _field_choices(target: models.Field[Any, Any]) -> dict[Any, Any] | None:
    if target.choices:
        return dict(target.flatchoices)
    return item_choices(target)


def _display_by_field(value: Any, target: models.Field[Any, Any], names: Names | None) -> str | None:
    """A scalar read through its model field (choices, the item choices of a list field, yes/no,
    a related object), or None."""
    choices = _field_choices(target)
    if choices:
        label = choices.get(value)
        if label is None and not isinstance(value, str):
            label = choices.get(str(value))
        if label is not None:
            return str(label)
    if target.is_relation and target.related_model is not None and _is_id(value):
        name = (names or {}).get((_related_label(target), str(value)))
        return name or _("编号 %(id)s") % {"id": value}
    return None


def _display_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        return _format_text(value)
    return str(value)


def _display_nested(
    value: Any, target: models.Field[Any, Any] | None, model: type[models.Model] | None, names: Names | None
) -> str:
    """A value inside a nested fact; a ``[old, new]`` pair reads "old → new" (nested facts are
    per-item change logs such as ``{date: {field: [old, new]}}``)."""
    pair = isinstance(value, list | tuple) and len(value) == 2
    if pair and not any(isinstance(v, list | tuple | Mapping) for v in value):
        old, new = value
        return f"{display_value(old, target, model=model, names=names)} → {display_value(new, target, model=model, names=names)}"
    return display_value(value, target, model=model, names=names)


def _is_pair(value: Any, target: models.Field[Any, Any] | None) -> bool:
    """Whether a value is a ``[old, new]`` change. For a field of the model every two-item list
    is one (``audit.diff``); for any other key only a pair of yes/no values is, so that a list of
    two ids stays a list."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return False
    if target is not None and item_choices(target) is not None:
        # A list of codes may itself hold two codes: a change is a pair of lists.
        return all(v is None or isinstance(v, list | tuple) for v in value)
    if target is not None:
        return True
    return all(v is None or isinstance(v, bool) for v in value)


def _private(key: str) -> bool:
    return key in PRIVATE_FIELDS


def _snapshot_rows(
    snapshot: Mapping[str, Any], model: type[models.Model] | None, names: Names | None, *, created: bool
) -> list[ChangeRow]:
    rows = []
    for key, value in snapshot.items():
        target = _model_field(model, key)
        shown = (
            _("（不记录内容）") if _private(key) else display_value(value, target, model=model, names=names)
        )
        old, new = ("", shown) if created else (shown, "")
        rows.append(ChangeRow(key=key, label=field_label(model, key), old=old, new=new))
    return rows


def audit_changes(object_type: str, changes: Any, *, names: Names | None = None) -> AuditChanges:
    """Read a row's stored ``changes`` (see the module docstring for its shapes)."""
    result = AuditChanges()
    if not changes:
        return result
    model = audited_model(object_type) if object_type else None
    if not isinstance(changes, Mapping):
        result.facts.append(FactRow(key="", label=_("内容"), value=display_value(changes, names=names)))
        return result
    for key, value in changes.items():
        key = str(key)
        target = _model_field(model, key)
        if key in ("after", "before") and isinstance(value, Mapping) and target is None:
            rows = _snapshot_rows(value, model, names, created=key == "after")
            (result.created if key == "after" else result.deleted).extend(rows)
        elif _private(key):
            hidden = _("已修改（不记录内容）")
            if isinstance(value, list | tuple) and len(value) == 2:
                result.changed.append(
                    ChangeRow(key=key, label=field_label(model, key), old=_("（不记录内容）"), new=hidden)
                )
            else:
                result.facts.append(FactRow(key=key, label=field_label(model, key), value=hidden))
        elif _is_pair(value, target):
            old, new = value
            result.changed.append(
                ChangeRow(
                    key=key,
                    label=field_label(model, key),
                    old=display_value(old, target, model=model, names=names),
                    new=display_value(new, target, model=model, names=names),
                )
            )
        elif key == "fields" and isinstance(value, list | tuple) and target is None:
            shown = SEPARATOR.join(field_label(model, str(v)) for v in value) or EMPTY
            result.facts.append(FactRow(key=key, label=field_label(model, key), value=shown))
        else:
            result.facts.append(
                FactRow(
                    key=key,
                    label=field_label(model, key),
                    value=display_value(value, target, model=model, names=names),
                )
            )
    return result


def related_references(object_type: str, changes: Any) -> set[tuple[str, str]]:
    """The ``(model label, pk)`` of every object a foreign-key value in ``changes`` points to,
    so that their names can be looked up in one query before the table is drawn."""
    model = audited_model(object_type) if object_type else None
    found: set[tuple[str, str]] = set()
    if model is None or not isinstance(changes, Mapping):
        return found

    def add(key: str, value: Any) -> None:
        target = _model_field(model, key)
        if target is None or not target.is_relation or target.related_model is None:
            return
        label = _related_label(target)
        values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, list | tuple):
                found.update((label, str(v)) for v in item if _is_id(v))
            elif _is_id(item):
                found.add((label, str(item)))

    for key, value in changes.items():
        if key in ("after", "before") and isinstance(value, Mapping):
            for inner_key, inner_value in value.items():
                add(str(inner_key), inner_value)
        elif not _private(str(key)):
            add(str(key), value)
    return found

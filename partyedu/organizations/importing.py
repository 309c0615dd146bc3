"""The organisation spreadsheet: its columns (shared by import and export) and how an
organisation becomes an export row. Parents are named by their code, so a whole subtree can be
built from one file."""

from __future__ import annotations

from typing import Any

from partyedu.core.exporting import ExportColumn
from partyedu.core.importing import CHOICE, INT, Column

from .choices import OrgLevel, OrgType
from .models import Organization

ORG_COLUMNS: tuple[Column, ...] = (
    Column("组织名称", "name", required=True, max_length=100, width=30, example="某某社区党支部"),
    Column("简称", "short_name", max_length=50, width=16, example="某某社区"),
    Column(
        "组织代码",
        "code",
        required=True,
        aliases=("党组织代码",),
        max_length=32,
        width=16,
        example="（新组织代码）",
    ),
    Column(
        "上级组织代码",
        "parent",
        required_header=True,
        max_length=32,
        width=16,
        help="新建组织必填，可以是本文件中前面的行；已有组织须与当前上级一致（变更上级请用“移动组织”）",
        example="（上级组织代码）",
    ),
    Column(
        "组织层级",
        "level",
        CHOICE,
        required=True,
        choices=OrgLevel,
        choice_aliases={"支部": OrgLevel.BRANCH, "总支": OrgLevel.GENERAL_BRANCH, "小组": OrgLevel.GROUP},
        width=10,
        example="党支部",
    ),
    Column(
        "单位类型",
        "org_type",
        CHOICE,
        choices=OrgType,
        keep_if_blank=True,
        width=12,
        help="不填为其他",
        example="社区",
    ),
    Column("排序", "sort_order", INT, keep_if_blank=True, width=8, help="非负整数，越小越靠前", example=1),
)

HEADERS = {c.field: c.header for c in ORG_COLUMNS}


def export_columns() -> list[ExportColumn]:
    return [ExportColumn(c.header, c.width) for c in ORG_COLUMNS]


def export_row(org: Organization) -> list[Any]:
    """One organisation as the values of ``export_columns()``. Needs ``parent`` selected."""
    values = {
        "name": org.name,
        "short_name": org.short_name,
        "code": org.code,
        "parent": org.parent.code if org.parent is not None else "",
        "level": org.level,
        "org_type": org.org_type,
        "sort_order": org.sort_order,
    }
    return [values[c.field] if c.kind == INT else c.display(values[c.field]) for c in ORG_COLUMNS]


def template_example_row() -> list[Any]:
    return [c.example for c in ORG_COLUMNS]

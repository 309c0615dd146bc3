"""The organisation import's dry run names every problem of every row at once (brief H7), as the
member import does: a row's later problems no longer wait until its earlier ones are fixed, and
nothing is written while any row has one. Errors read ``第N行 列名: 问题``."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_import
from partyedu.testsupport.factories import Tree, make_user

pytestmark = pytest.mark.django_db

HEADERS = ["组织名称", "简称", "组织代码", "上级组织代码", "组织层级", "单位类型", "排序"]


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    wb.active.append(HEADERS)
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def check(actor: Any, rows: list[Any]) -> list[str]:
    report = organization_import(actor=actor, file=io.BytesIO(xlsx(rows)), filename="组织.xlsx", dry_run=True)
    return [str(e) for e in report.errors]


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user(role="org_admin", org=tree.district_a)


def test_two_bad_rows_report_all_their_problems_in_one_dry_run_and_write_nothing(
    tree: Tree, admin: Any
) -> None:
    """Brief H7 item 3 (DESIGN 5: a dry run shows every row's errors before anything is written)."""
    count = Organization.objects.count()
    rows = [
        # a new branch: wrong level under a 党委, and a negative order
        ["甲二支部", "", "A2", tree.district_a.code, "党小组", "", -1],
        # repeats row 2's code, with a name too long, an unknown parent and an unknown unit type
        ["名" * 101, "", "A2", "NOPE", "党支部", "太空站", 0],
    ]
    errors = check(admin, rows)
    assert errors == [
        "第2行 组织层级: 党委下不能设立党小组",
        "第2行 排序: 确保该值大于或等于0。",
        "第3行 组织名称: 不能超过100个字符（当前101个）",
        "第3行 组织代码: 与第2行组织代码重复",
        "第3行 上级组织代码: 上级组织代码 NOPE 不存在或不在您的管理范围内",
        "第3行 单位类型: “太空站”不是有效选项，应为：机关、事业单位、国有企业、非公企业、社会组织、农村、社区、学校、其他",
    ]
    assert Organization.objects.count() == count
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_a_row_with_a_bad_cell_is_still_checked_against_its_parent_in_the_file(
    tree: Tree, admin: Any
) -> None:
    rows: list[list[Any]] = [
        ["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0],
        ["甲二总支", "", "A3", "A2", "党总支", "", "abc"],
    ]
    assert check(admin, rows) == ["第3行 组织层级: 党支部下不能设立党总支", "第3行 排序: “abc”应为整数"]


def test_a_row_under_a_bad_row_says_so_beside_its_own_problems(tree: Tree, admin: Any) -> None:
    rows = [
        ["甲二总支", "", "A2", "NOPE", "党总支", "", 0],
        ["甲二一支部", "", "A21", "A2", "党支部", "", -5],
        ["甲二一小组", "", "A211", "A21", "党小组", "", 0],
    ]
    assert check(admin, rows) == [
        "第2行 上级组织代码: 上级组织代码 NOPE 不存在或不在您的管理范围内",
        "第3行 上级组织代码: 上级组织（第2行）有错误，无法创建",
        "第3行 排序: 确保该值大于或等于0。",
        "第4行 上级组织代码: 上级组织（第3行）有错误，无法创建",
    ]


def test_a_row_without_a_code_is_checked_for_everything_else(tree: Tree, admin: Any) -> None:
    errors = check(admin, [["甲二支部", "", "", "NOPE", "党支部", "", 0]])
    assert errors == [
        "第2行 组织代码: 不能为空",
        "第2行 上级组织代码: 上级组织代码 NOPE 不存在或不在您的管理范围内",
    ]


def test_an_existing_organisation_row_reports_every_change_it_may_not_make(tree: Tree, admin: Any) -> None:
    rows = [["名" * 101, "", tree.branch_a.code, tree.root.code, "党总支", "", 0]]
    assert check(admin, rows) == [
        "第2行 组织名称: 不能超过100个字符（当前101个）",
        "第2行 上级组织代码: 变更上级组织请使用“移动组织”功能",
        "第2行 组织层级: 组织层级不能通过导入修改，请在党组织页面中修改",
    ]
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.name == "甲一支部"


def test_a_code_of_another_district_says_nothing_of_that_organisation(tree: Tree, admin: Any) -> None:
    # The other district's branch is a 党支部 under 乙区委: nothing about it may leak (404 rule).
    rows = [["改名", "", tree.branch_b.code, tree.district_b.code, "党总支", "", -1]]
    assert check(admin, rows) == [
        f"第2行 组织代码: 组织代码 {tree.branch_b.code} 已被其他组织使用或不在您的管理范围内",
        "第2行 排序: 确保该值大于或等于0。",
    ]


def test_a_clean_file_still_imports(tree: Tree, admin: Any) -> None:
    rows = [
        ["甲二总支", "", "A2", tree.district_a.code, "党总支", "", 0],
        ["甲二一支部", "", "A21", "A2", "党支部", "", 0],
    ]
    report = organization_import(
        actor=admin, file=io.BytesIO(xlsx(rows)), filename="组织.xlsx", dry_run=False
    )
    assert report.ok, report.errors
    assert Organization.objects.get(code="A21").parent == Organization.objects.get(code="A2")

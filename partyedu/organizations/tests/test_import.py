import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from partyedu.core.choices import AuditAction
from partyedu.core.importing import ImportFileError
from partyedu.core.models import AuditLog
from partyedu.organizations.models import Organization
from partyedu.organizations.selectors import organization_list
from partyedu.organizations.services import (
    organization_create,
    organization_export,
    organization_import,
    organization_import_template,
)
from partyedu.testsupport.factories import make_user

HEADERS = ["组织名称", "简称", "组织代码", "上级组织代码", "组织层级", "单位类型", "排序"]


def xlsx(rows, headers=HEADERS):
    wb = Workbook()
    wb.active.append(headers)
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(actor, data, *, dry_run=False):
    return organization_import(actor=actor, file=io.BytesIO(data), filename="组织.xlsx", dry_run=dry_run)


@pytest.fixture
def admin(tree):
    return make_user(role="org_admin", org=tree.district_a)


def test_new_subtree_is_created_parents_first_with_paths(tree, admin):
    rows = [
        ["甲二党总支", "", "A2", tree.district_a.code, "党总支", "社区", 2],
        ["甲二一支部", "", "A21", "A2", "党支部", "社区", 1],
        ["甲二一第一小组", "", "A211", "A21", "党小组", "", None],
    ]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors
    assert report.created == 3
    general = Organization.objects.get(code="A2")
    branch = Organization.objects.get(code="A21")
    group = Organization.objects.get(code="A211")
    assert general.parent == tree.district_a
    assert general.path.startswith(tree.district_a.path) and general.depth == tree.district_a.depth + 1
    assert branch.parent == general and branch.path.startswith(general.path)
    assert group.parent == branch and group.depth == general.depth + 2
    assert group.org_type == "other"
    assert general.sort_order == 2
    assert general.name_initials


def test_child_row_may_come_before_its_parent_row(tree, admin):
    rows = [
        ["甲二一支部", "", "A21", "A2", "党支部", "社区", 1],
        ["甲二党总支", "", "A2", tree.district_a.code, "党总支", "社区", 2],
    ]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors
    assert Organization.objects.get(code="A21").parent.code == "A2"


def test_new_paths_do_not_collide_with_existing_siblings(tree, admin):
    run(admin, xlsx([["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0]]))
    later = organization_create(
        actor=None, parent=tree.district_a, name="甲三支部", code="A3", level="branch", org_type="other"
    )
    paths = list(Organization.objects.filter(parent=tree.district_a).values_list("path", flat=True))
    assert len(paths) == len(set(paths)) == 3
    assert later.path > Organization.objects.get(code="A2").path


def test_existing_code_updates_name_type_and_order(tree, admin):
    rows = [["甲一支部（新）", "甲一", tree.branch_a.code, tree.district_a.code, "党支部", "学校", 9]]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 1)
    tree.branch_a.refresh_from_db()
    assert (
        tree.branch_a.name,
        tree.branch_a.short_name,
        tree.branch_a.org_type,
        tree.branch_a.sort_order,
    ) == ("甲一支部（新）", "甲一", "school", 9)


def test_dry_run_writes_nothing(tree, admin):
    count = Organization.objects.count()
    report = run(admin, xlsx([["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0]]), dry_run=True)
    assert report.ok and report.created == 1
    assert Organization.objects.count() == count


def test_parent_outside_scope_is_refused(tree, admin):
    report = run(admin, xlsx([["乙二支部", "", "B2", tree.district_b.code, "党支部", "", 0]]), dry_run=True)
    assert [str(e) for e in report.errors] == [
        f"第2行 上级组织代码: 上级组织代码 {tree.district_b.code} 不存在或不在您的管理范围内"
    ]


def test_existing_code_outside_scope_is_refused(tree, admin):
    report = run(
        admin, xlsx([["改名", "", tree.branch_b.code, tree.district_b.code, "党支部", "", 0]]), dry_run=True
    )
    assert [e.column for e in report.errors] == ["组织代码"]
    tree.branch_b.refresh_from_db()
    assert tree.branch_b.name == "乙一支部"


def test_level_must_fit_under_the_parent(tree, admin):
    report = run(admin, xlsx([["小组", "", "G1", tree.district_a.code, "党小组", "", 0]]), dry_run=True)
    assert [str(e) for e in report.errors] == ["第2行 组织层级: 党委下不能设立党小组"]


def test_level_must_fit_under_a_parent_from_the_same_file(tree, admin):
    rows = [
        ["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0],
        ["甲二总支", "", "A3", "A2", "党总支", "", 0],
    ]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [str(e) for e in report.errors] == ["第3行 组织层级: 党支部下不能设立党总支"]


def test_own_code_as_parent_is_refused(tree, admin):
    report = run(admin, xlsx([["甲二支部", "", "A2", "A2", "党支部", "", 0]]), dry_run=True)
    assert [str(e) for e in report.errors] == ["第2行 上级组织代码: 上级组织不能是本组织"]


def test_a_cycle_of_parents_is_refused(tree, admin):
    rows = [["一", "", "C1", "C2", "党委", "", 0], ["二", "", "C2", "C1", "党委", "", 0]]
    report = run(admin, xlsx(rows))
    assert {(e.row, e.column) for e in report.errors} == {(2, "上级组织代码"), (3, "上级组织代码")}
    assert "循环" in report.errors[0].message
    assert not Organization.objects.filter(code__in=["C1", "C2"]).exists()


def test_duplicate_code_in_the_file(tree, admin):
    rows = [
        ["一", "", "A2", tree.district_a.code, "党支部", "", 0],
        ["二", "", "A2", tree.district_a.code, "党支部", "", 0],
    ]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [str(e) for e in report.errors] == ["第3行 组织代码: 与第2行组织代码重复"]


def test_changing_level_or_parent_by_import_is_refused(tree, admin):
    rows = [["甲一支部", "", tree.branch_a.code, tree.root.code, "党总支", "", 0]]
    report = run(admin, xlsx(rows), dry_run=True)
    assert [e.column for e in report.errors] == ["上级组织代码", "组织层级"]


def test_one_bad_row_writes_nothing(tree, admin):
    count = Organization.objects.count()
    rows = [
        ["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0],
        ["坏", "", "A3", "NOPE", "党支部", "", 0],
    ]
    report = run(admin, xlsx(rows))
    assert not report.ok
    assert Organization.objects.count() == count
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_missing_headers_are_named(tree, admin):
    with pytest.raises(ImportFileError, match="上级组织代码"):
        run(admin, xlsx([["甲二支部", "A2", "党支部"]], headers=["组织名称", "组织代码", "组织层级"]))


def test_user_without_the_import_action_is_refused(tree):
    with pytest.raises(PermissionDenied):
        run(
            make_user(role="branch_admin", org=tree.branch_a),
            xlsx([["x", "", "X", tree.branch_a.code, "党小组", "", 0]]),
        )


def test_real_run_writes_one_audit_row(tree, admin):
    rows = [
        ["甲二支部", "", "A2", tree.district_a.code, "党支部", "", 0],
        ["甲三支部", "", "A3", tree.district_a.code, "党支部", "", 0],
    ]
    run(admin, xlsx(rows))
    log = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert log.user == admin
    assert log.changes["created"] == 2
    assert log.changes["created_codes"] == ["A2", "A3"]


# --- export ------------------------------------------------------------------------------------------


def test_export_has_parent_codes_and_labels_within_scope(tree, admin):
    data = organization_export(actor=admin, queryset=Organization.objects.all())
    rows = list(load_workbook(io.BytesIO(data)).active.values)
    assert list(rows[0]) == HEADERS
    by_code = {r[2]: r for r in rows[1:]}
    assert set(by_code) == {tree.district_a.code, tree.branch_a.code, tree.group_a.code}
    assert by_code[tree.group_a.code][3] == tree.branch_a.code
    assert by_code[tree.group_a.code][4] == "党小组"
    assert AuditLog.objects.get(action=AuditAction.EXPORT).changes["rows"] == 3


def test_export_then_reimport_round_trips(tree, admin):
    before = list(
        Organization.objects.order_by("id").values(
            "id", "name", "code", "parent", "path", "level", "org_type", "sort_order"
        )
    )
    data = organization_export(actor=admin, queryset=organization_list(user=admin, action="export"))
    report = run(admin, data)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 3)
    after = list(
        Organization.objects.order_by("id").values(
            "id", "name", "code", "parent", "path", "level", "org_type", "sort_order"
        )
    )
    assert after == before


def test_template_has_the_headers_an_example_and_instructions(db):
    wb = load_workbook(io.BytesIO(organization_import_template()))
    assert wb.sheetnames == ["党组织", "填写说明"]
    assert list(next(wb["党组织"].values)) == HEADERS
    assert any("党小组" in (row[2] or "") for row in wb["填写说明"].values)


def test_template_example_row_fails_only_on_the_parent_code(tree, admin):
    report = run(admin, organization_import_template(), dry_run=True)
    assert [e.column for e in report.errors] == ["上级组织代码"]

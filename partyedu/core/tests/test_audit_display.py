"""The audit log as a person reads it (issue 11, the auditor's everyday path): objects named in
Chinese, changes as a before/after table with Chinese field names and readable values, never raw
Python data, never personal data; the list page's queries do not grow with its rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.audit import audit_record
from partyedu.core.audit_display import audit_changes, audit_object
from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.members.services import member_transfer, member_update
from partyedu.organizations.services import organization_update
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(client: Any, tree: Tree) -> Any:
    client.force_login(make_user(role="auditor", org=tree.root))
    return client


def content(response: Any) -> str:
    """The page's own content (not the layout around it: menu, filter choices, CSRF header)."""
    html = response.content.decode()
    return html[html.index("<h1") : html.rindex("</main>")]


def detail_html(client: Any, row: AuditLog) -> str:
    response = client.get(reverse("core:audit_detail", args=[row.pk]))
    assert response.status_code == 200
    return content(response)


def list_html(client: Any, **params: Any) -> str:
    """The table of the list page (as an HTMX filter fetches it)."""
    response = client.get(reverse("core:audit_list"), params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


class TestAuditDetailScope(ScopedEndpointTests):
    url_name = "core:audit_detail"
    role = "auditor"
    kind = "detail"

    def make_object(self, org: Any) -> AuditLog:
        return audit_record(actor=None, action=AuditAction.UPDATE, obj=org, object_repr=f"审计标记{org.code}")

    def url(self, obj: AuditLog) -> str:
        return reverse("core:audit_detail", args=[obj.pk])

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        # The 审计管理员 audits the whole system (三员分立): where the role is held does not narrow it.
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.make_user(role=self.role, org=scope_tree.district_b))
        response = client.get(self.url(obj))
        assert response.status_code == 200
        assert obj.object_repr in response.content.decode()


# --- Objects named in Chinese ---------------------------------------------------------------------


def test_list_names_the_object_by_its_kind_and_name_not_its_code(auditor_client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "王小明")
    html = list_html(auditor_client)
    assert "党员</span>王小明" in html
    assert "members.member" not in html


def test_a_deleted_object_keeps_the_name_recorded_with_its_row() -> None:
    shown = audit_object("study.activity", "4040", "学习二十大精神")
    assert (shown.type_label, shown.name, str(shown)) == (
        "学习活动",
        "学习二十大精神",
        "学习活动：学习二十大精神",
    )


def test_an_object_recorded_without_a_name_is_named_by_its_number() -> None:
    assert audit_object("study.activity", "4040", "").name == "编号 4040"


def test_an_unknown_object_type_falls_back_to_its_code(auditor_client: Any) -> None:
    audit_record(actor=None, action=AuditAction.UPDATE, object_type="legacy.thing", object_id="7")
    html = list_html(auditor_client)
    assert "编号 7" in html
    assert "未知类型 legacy.thing" in html


def test_the_demo_seed_pseudo_type_is_named_in_chinese() -> None:
    assert audit_object("core.demo_seed", "", "演示数据").type_label == "演示数据"


# --- Changes as a readable table ------------------------------------------------------------------


def test_list_summarises_an_update_by_chinese_field_names(auditor_client: Any, tree: Tree) -> None:
    organization_update(
        actor=None, org=tree.branch_a, data={"name": "甲一支部（新）", "short_name": "甲一", "sort_order": 9}
    )
    html = list_html(auditor_client, action="update")
    assert "修改了 3 项：组织名称、简称、排序" in html


def test_list_no_longer_prints_the_raw_changes(auditor_client: Any, tree: Tree) -> None:
    organization_update(actor=None, org=tree.branch_a, data={"sort_order": 9})
    html = list_html(auditor_client, action="update")
    assert "sort_order" not in html
    assert "[0, 9]" not in html


def test_detail_shows_old_and_new_values_per_field(auditor_client: Any, tree: Tree) -> None:
    organization_update(actor=None, org=tree.branch_a, data={"sort_order": 9})
    row = AuditLog.objects.get(action="update", object_id=str(tree.branch_a.pk))
    html = detail_html(auditor_client, row)
    assert '<th scope="row" data-label="字段">排序</th>' in html
    assert '<td data-label="原值">0</td><td data-label="新值">9</td>' in html


def test_choice_values_show_their_labels() -> None:
    rows = audit_changes("organizations.organization", {"level": ["branch", "general_branch"]}).changed
    assert (rows[0].label, rows[0].old, rows[0].new) == ("组织层级", "党支部", "党总支")


def test_booleans_show_as_yes_and_no() -> None:
    row = audit_changes("organizations.organization", {"is_active": [True, False]}).changed[0]
    assert (row.old, row.new) == ("是", "否")


def test_none_shows_as_a_dash() -> None:
    row = audit_changes("members.member", {"joined_on": [None, "2020-07-01"]}).changed[0]
    assert (row.label, row.old, row.new) == ("入党日期", "—", "2020-07-01")


def test_lists_are_joined() -> None:
    row = audit_changes("lectures.lecturer", {"tags": [["理论", "党史"], ["党史"]]}).changed[0]
    assert (row.label, row.old, row.new) == ("专长", "理论、党史", "党史")


def test_date_times_are_formatted_in_local_time() -> None:
    fact = audit_changes("", {"at": "2025-03-01T02:30:00+00:00"}).facts[0]
    assert fact.value == "2025-03-01 10:30"


def test_a_new_objects_fields_are_its_new_values(auditor_client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王小明")
    row = AuditLog.objects.get(action="create", object_type="members.member", object_id=str(member.pk))
    html = detail_html(auditor_client, row)
    assert ">姓名</th>" in html and "王小明" in html
    assert "（新建）" in html


def test_a_deleted_objects_fields_are_its_old_values() -> None:
    changes = audit_changes("organizations.organization", {"before": {"name": "旧支部", "is_active": True}})
    assert [(r.label, r.old, r.new) for r in changes.deleted] == [
        ("组织名称", "旧支部", ""),
        ("有效", "是", ""),
    ]
    assert changes.summary() == "删除前 2 项：组织名称、有效"


def test_facts_are_labelled_in_chinese() -> None:
    changes = audit_changes("members.member", {"rows": 120, "unmasked": False})
    assert [(f.label, f.value) for f in changes.facts] == [("行数", "120"), ("含明文敏感信息", "否")]


def test_foreign_keys_are_named_from_the_audit_log(auditor_client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王小明")
    member_transfer(actor=None, member=member, to_organization=tree.branch_b)
    row = AuditLog.objects.get(action="transfer")
    html = detail_html(auditor_client, row)
    assert f'<td data-label="原值">{tree.branch_a}</td><td data-label="新值">{tree.branch_b}</td>' in html


def test_a_foreign_key_is_named_as_it_was_when_the_row_was_written(auditor_client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王小明")
    member_transfer(actor=None, member=member, to_organization=tree.branch_b)
    organization_update(actor=None, org=tree.branch_a, data={"name": "改名后的支部", "short_name": ""})
    html = detail_html(auditor_client, AuditLog.objects.get(action="transfer"))
    assert '<td data-label="原值">甲一支部</td>' in html
    assert "改名后的支部" not in html


def test_a_foreign_key_the_log_never_named_is_shown_by_number(auditor_client: Any) -> None:
    row = audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="members.member",
        changes={"organization": [99998, 99999]},
    )
    html = detail_html(auditor_client, row)
    assert '<td data-label="原值">编号 99998</td><td data-label="新值">编号 99999</td>' in html


def test_detail_names_foreign_keys_in_one_query(
    auditor_client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    changes = {"parent": [tree.root.pk, tree.district_a.pk]}
    row = audit_record(
        actor=None, action=AuditAction.MOVE, object_type="organizations.organization", changes=changes
    )
    with django_assert_max_num_queries(8) as captured:
        html = detail_html(auditor_client, row)
    assert sum("core_auditlog" in q["sql"] for q in captured.captured_queries) == 2  # the row, the names
    assert tree.root.name in html and tree.district_a.name in html


def test_detail_never_shows_python_or_json_reprs(auditor_client: Any, tree: Tree) -> None:
    row = audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="organizations.organization",
        changes={
            "is_active": [True, False],
            "parent": [None, tree.root.pk],
            "rows": [1, 2],
            "extra": {"a": None},
        },
    )
    html = detail_html(auditor_client, row)
    for raw in ("True", "False", "None", "[1, 2]", "{'", '{"'):
        assert raw not in html


# --- Personal data --------------------------------------------------------------------------------


def test_a_changed_phone_shows_as_changed_without_a_value(auditor_client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王小明", phone="13812345678")
    member_update(actor=None, member=member, data={"phone": "13987654321"})
    row = AuditLog.objects.get(action="update", object_id=str(member.pk))
    html = detail_html(auditor_client, row)
    assert ">手机号</th>" in html and "已修改（不记录内容）" in html
    assert "1381234" not in html and "1398765" not in html and "***" not in html


def test_personal_data_stored_by_mistake_is_still_never_shown() -> None:
    changes = audit_changes(
        "members.member",
        {"phone": ["13812345678", "13987654321"], "after": {"id_number": "110101198001010011"}},
    )
    text = str(changes)
    assert "13812345678" not in text and "13987654321" not in text and "110101198001010011" not in text


# --- The list page -----------------------------------------------------------------------------------


def test_list_links_each_row_to_its_detail(auditor_client: Any) -> None:
    row = audit_record(actor=None, action=AuditAction.UPDATE, object_type="x", object_repr="链接标记")
    html = list_html(auditor_client)
    assert reverse("core:audit_detail", args=[row.pk]) in html


def test_list_filters_still_apply_to_the_readable_rows(auditor_client: Any, tree: Tree) -> None:
    organization_update(actor=None, org=tree.branch_a, data={"sort_order": 9})
    make_member(tree.branch_a, "王小明")
    html = list_html(auditor_client, object_type="organizations.organization", action="update")
    assert "修改了 1 项：排序" in html
    assert "王小明" not in html


def test_list_queries_do_not_grow_with_its_rows(
    auditor_client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    for index in range(30):
        make_member(tree.branch_a, f"党员{index}")
        organization_update(actor=None, org=tree.branch_a, data={"sort_order": index + 1})
    # Session, user, role grants, count, the page of rows, and the session's save (3).
    with django_assert_max_num_queries(8):
        response = auditor_client.get(reverse("core:audit_list"))
    assert len(response.context["entries"]) == 50


def test_detail_of_a_missing_row_is_404(auditor_client: Any) -> None:
    assert auditor_client.get(reverse("core:audit_detail", args=[987654])).status_code == 404

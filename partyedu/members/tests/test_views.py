"""Member pages: list with filters, profile with audited unmasking, writes, import and export."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog, Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.members import services as member_services
from partyedu.members.models import Member, MemberTransfer
from partyedu.testsupport.factories import Tree, make_member, make_org, make_user, valid_id_number

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


class TestMemberListScope(ScopedEndpointTests):
    url_name = "members:list"
    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Member:
        return make_member(org, f"目标党员{next(_n)}号")

    def url(self, obj: Member) -> str:
        return reverse("members:list")


class TestMemberDetailScope(ScopedEndpointTests):
    url_name = "members:detail"
    kind = "detail"

    def make_object(self, org: Any) -> Member:
        return make_member(org, "详情党员")

    def url(self, obj: Member) -> str:
        return reverse("members:detail", args=[obj.pk])


class TestMemberPiiScope(ScopedEndpointTests):
    """The unmasked partial: scoped like the detail (a grant holder at the org gets it)."""

    url_name = "members:detail_pii"

    kind = "detail"

    def make_object(self, org: Any) -> Member:
        return make_member(org, "敏感党员", phone="13912345678")

    def url(self, obj: Member) -> str:
        return reverse("members:detail_pii", args=[obj.pk])

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Tree) -> None:
        """The page shows the unmasked ID number and phone, and the look is audited: who looked
        at which member."""
        obj = self.make_object(scope_tree.branch_a)
        viewer = make_user(role=self.role, org=scope_tree.district_a, pii=True)
        client.force_login(viewer)
        response = client.get(self.url(obj))
        assert response.status_code == 200
        html = response.content.decode()
        assert obj.id_number in html and "13912345678" in html
        row = AuditLog.objects.get(action=AuditAction.VIEW_PII)
        assert row.success
        assert (row.user, row.username) == (viewer, viewer.username)
        assert (row.object_type, row.object_id) == ("members.member", str(obj.pk))

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        """Even with a grant of its own, a user of a sibling district gets 404, sees nothing and
        leaves no audit row of a look."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b, pii=True))
        response = client.get(self.url(obj))
        assert response.status_code == 404
        assert obj.id_number not in response.content.decode()
        assert not AuditLog.objects.filter(action=AuditAction.VIEW_PII).exists()


# --- list ---------------------------------------------------------------------------------------------


def test_list_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    for i in range(60):
        make_member(
            tree.branch_a if i % 2 else tree.group_a,
            f"党员{i:02d}",
            phone=f"139{i:08d}",
            categories=["retired", "frail"] if i % 3 == 0 else ["employed"],
        )
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:list")
    # session, user, grants, filter org lookup, count, page rows, session save (3); the organisation
    # picker lists nothing (its selected name comes with the filter's validation)
    with django_assert_max_num_queries(9):
        response = client.get(url, {"organization": tree.branch_a.pk, "status": "full"})
    assert response.status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get(url)
    html = response.content.decode()
    assert "共 60 名党员" in html
    assert html.count('href="/members/') >= 50
    assert "离退休、年老体弱" in html
    assert "139****0003" in html


def test_list_page_does_not_grow_with_the_number_of_organisations(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    make_member(tree.branch_a, "张三")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:list")
    small = len(client.get(url).content)
    for i in range(150):
        make_org(tree.district_b, f"新建支部{i:03d}")
    # session, user, grants, count, page rows, session save (3): no organisation is listed
    with django_assert_max_num_queries(8):
        response = client.get(url)
    html = response.content.decode()
    assert "新建支部" not in html
    assert len(response.content) - small < 200
    # a picked filter costs one query (its validation), its name comes with it
    with django_assert_max_num_queries(9):
        html = client.get(url, {"organization": tree.branch_a.pk}).content.decode()
    assert 'name="organization__q" value="甲一支部"' in html


def test_list_filter_picker_asks_for_organisations_with_member_data(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:list")).content.decode()
    assert 'hx-get="/organizations/picker/?action=view&amp;app_label=members"' in html
    assert 'placeholder="全部组织，可输入名称或拼音首字母"' in html


def test_list_filter_without_javascript_takes_an_exact_name(client: Any, tree: Tree) -> None:
    make_member(tree.group_a, "小组党员")
    make_member(tree.branch_b, "乙支部党员")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:list"), {"organization__q": "甲一支部"}).content.decode()
    assert "小组党员" in html and "乙支部党员" not in html
    html = client.get(reverse("members:list"), {"organization__q": "甲一"}).content.decode()
    assert "未找到“甲一”" in html and "乙支部党员" in html  # unresolved: shown, not applied


def test_list_paginates_by_50(client: Any, tree: Tree) -> None:
    for i in range(55):
        make_member(tree.branch_a, f"分页{i:02d}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:list"), {"page": 2}).content.decode()
    assert "第 2 / 2 页" in html
    assert "分页54" in html and "分页00" not in html


def test_list_search_by_pinyin_initials_and_id_number(client: Any, tree: Tree) -> None:
    id_number = valid_id_number()
    make_member(tree.branch_a, "张三", id_number=id_number)
    make_member(tree.branch_a, "李四")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:list")
    html = client.get(url, {"q": "zs"}).content.decode()
    assert "张三" in html and "李四" not in html
    html = client.get(url, {"q": id_number}).content.decode()
    assert "张三" in html and "李四" not in html


def test_list_filters_by_subtree_category_gender_and_exemption(client: Any, tree: Tree) -> None:
    make_member(tree.group_a, "小组党员", categories=["retired"])
    make_member(tree.branch_b, "乙支部党员", male=False)
    make_member(tree.branch_a, "免学党员", is_exempt=True, exempt_reason="卧病在床")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:list")
    html = client.get(url, {"organization": tree.branch_a.pk}).content.decode()
    assert "小组党员" in html and "免学党员" in html and "乙支部党员" not in html
    html = client.get(url, {"category": "retired"}).content.decode()
    assert "小组党员" in html and "免学党员" not in html
    html = client.get(url, {"gender": "F"}).content.decode()
    assert "乙支部党员" in html and "小组党员" not in html
    html = client.get(url, {"is_exempt": "1"}).content.decode()
    assert "免学党员" in html and "小组党员" not in html


def test_list_refuses_an_out_of_scope_organization_filter(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "甲党员")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(reverse("members:list"), {"organization": tree.branch_b.pk})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()


def test_list_htmx_request_returns_the_table_only(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "张三")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("members:list"), {"q": "zs"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<table" in html and "张三" in html
    # The export link follows the filters.
    assert f"{reverse('members:export')}?q=zs" in html


def test_list_form_is_wired_for_htmx(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:list")).content.decode()
    assert (
        'hx-get="/members/"' in html and 'hx-target="#member-table"' in html and 'hx-push-url="true"' in html
    )
    assert "导出Excel" in html and reverse("members:import") in html


def test_branch_admin_sees_no_import_link(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("members:list")).content.decode()
    assert reverse("members:import") not in html


def test_a_member_sees_only_themself(client: Any, tree: Tree) -> None:
    user = make_user(role="member", org=tree.branch_a)
    me = make_member(tree.branch_a, "本人党员")
    me.user = user
    me.save(update_fields=["user"])
    make_member(tree.branch_a, "别人党员")
    client.force_login(user)
    html = client.get(reverse("members:list")).content.decode()
    assert "本人党员" in html and "别人党员" not in html
    assert client.get(reverse("members:detail", args=[me.pk])).status_code == 200


# --- detail and personal data ------------------------------------------------------------------------


def test_detail_masks_personal_data_without_a_grant(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王五", phone="13912345678")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert member.masked_id_number in html and member.id_number not in html
    assert "139****5678" in html and "13912345678" not in html
    assert "显示完整信息" not in html


def test_pii_view_without_a_grant_is_403_and_not_logged(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王五", phone="13912345678")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("members:detail_pii", args=[member.pk]))
    assert response.status_code == 403
    assert "13912345678" not in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditAction.VIEW_PII).exists()


def test_pii_view_with_a_grant_shows_data_and_writes_an_audit_row(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王五", phone="13912345678")
    viewer = make_user(role="org_admin", org=tree.root, pii=True)
    client.force_login(viewer)
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "显示完整信息" in html
    assert f'hx-get="{reverse("members:detail_pii", args=[member.pk])}"' in html

    response = client.get(reverse("members:detail_pii", args=[member.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert member.id_number in html and "13912345678" in html
    assert "no-store" in response["Cache-Control"]
    row = AuditLog.objects.get(action=AuditAction.VIEW_PII)
    assert row.user == viewer and row.object_id == str(member.pk) and row.object_type == "members.member"


def test_pii_grant_elsewhere_does_not_unmask(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "王五")
    client.force_login(make_user(role="org_admin", org=tree.root, pii=False))
    viewer = make_user(role="org_admin", org=tree.root)
    from partyedu.accounts.services import pii_grant_create

    pii_grant_create(actor=None, user=viewer, organization=tree.branch_b, reason="只管乙支部")
    client.force_login(viewer)
    assert client.get(reverse("members:detail_pii", args=[member.pk])).status_code == 403


def test_detail_shows_transfer_history(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "转接党员")
    member_services.member_transfer(
        actor=None, member=member, to_organization=tree.branch_b, reason="工作调动"
    )
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "工作调动" in html and "甲一支部" in html and "乙一支部" in html


# --- writes -------------------------------------------------------------------------------------------


def _member_post(org: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "organization": org.pk,
        "name": "新党员",
        "id_number": valid_id_number(date(1990, 5, 6)),
        "gender": "",
        "birth_date": "",
        "ethnicity": "汉族",
        "education": "bachelor",
        "phone": "13700001111",
        "joined_on": "2015-07-01",
        "full_member_on": "2016-07-01",
        "status": "full",
        "categories": ["employed", "committee"],
        "exempt_reason": "",
    }
    data.update(overrides)
    return data


def test_create_member(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(reverse("members:create"), _member_post(tree.branch_a))
    assert response.status_code == 302
    member = Member.objects.get(name="新党员")
    assert member.birth_date == date(1990, 5, 6)
    assert member.categories == ["employed", "committee"]


def test_create_shows_service_errors_in_chinese_on_the_fields(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    bad = _member_post(tree.branch_a, id_number="370102199005060000", phone="12345")
    html = client.post(reverse("members:create"), bad).content.decode()
    assert "身份证号校验位错误" in html
    assert "is-invalid" in html
    assert not Member.objects.filter(name="新党员").exists()


def test_create_requires_an_exempt_reason(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.post(
        reverse("members:create"), _member_post(tree.branch_a, is_exempt="on")
    ).content.decode()
    assert "免于硬性要求时须填写原因" in html


def test_create_offers_only_branches_and_groups_in_scope(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("members:create")).content.decode()
    assert 'type="date"' in html and 'type="checkbox"' in html
    # the organisation picker asks for branches and groups where the user may add members
    url = re.search(r'hx-get="(/organizations/picker/[^"]*)"', html)[1].replace("&amp;", "&")
    assert "action=add" in url and "app_label=members" in url and "levels=branch%2Cgroup" in url
    offered = client.get(url).content.decode()
    assert f'data-org-id="{tree.branch_a.pk}"' in offered and f'data-org-id="{tree.group_a.pk}"' in offered
    assert f'data-org-id="{tree.district_a.pk}"' not in offered
    assert f'data-org-id="{tree.branch_b.pk}"' not in offered


def test_create_without_javascript_takes_the_organisation_code(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    post = _member_post(tree.branch_a)
    post["organization"] = ""
    post["organization__q"] = tree.group_a.code.lower()
    response = client.post(reverse("members:create"), post)
    assert response.status_code == 302
    assert Member.objects.get(name=post["name"]).organization == tree.group_a


def test_create_refuses_an_organisation_outside_the_levels(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(reverse("members:create"), _member_post(tree.district_a))
    assert response.status_code == 200
    assert "不在您的权限范围内" in response.content.decode()
    assert not Member.objects.exists()


def test_create_needs_the_add_action(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="inspector", org=tree.root))
    assert client.get(reverse("members:create")).status_code == 403


def test_edit_keeps_personal_data_when_left_blank(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "编辑党员", phone="13912345678")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:edit", args=[member.pk])
    html = client.get(url).content.decode()
    assert member.id_number not in html and "13912345678" not in html
    post = _member_post(tree.branch_a, name="改名党员", id_number="", phone="", status="full")
    del post["organization"]
    response = client.post(url, post)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "改名党员" and member.phone == "13912345678"


def test_edit_out_of_scope_is_404(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_b, "乙党员")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(reverse("members:edit", args=[member.pk])).status_code == 404


def test_transfer(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "转出党员")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("members:transfer", args=[member.pk])
    html = client.post(
        url, {"to_organization": tree.branch_a.pk, "transferred_on": "2025-03-01"}
    ).content.decode()
    assert "转入组织与当前所在组织相同" in html
    response = client.post(
        url, {"to_organization": tree.branch_b.pk, "transferred_on": "2025-03-01", "reason": "搬家"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.organization == tree.branch_b
    assert MemberTransfer.objects.filter(member=member, reason="搬家").exists()


def test_transfer_target_limited_to_scope(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "转出党员")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("members:transfer", args=[member.pk]),
        {"to_organization": tree.branch_b.pk, "transferred_on": "2025-03-01"},
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.organization == tree.branch_a


# --- export and import --------------------------------------------------------------------------------


def test_export_needs_the_export_action(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="inspector", org=tree.root))
    assert client.get(reverse("members:export")).status_code == 403


def test_import_needs_the_import_action(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.root))
    assert client.get(reverse("members:import")).status_code == 403


def test_export_downloads_the_filtered_list(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "导出党员")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("members:export"), {"q": "dc"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert "attachment" in disposition and ".xlsx" in disposition
    assert "%E5%85%9A%E5%91%98%E5%90%8D%E5%8D%95_" in disposition  # 党员名单_YYYYMMDD
    assert response.content[:2] == b"PK"
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_import_template_download(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("members:import_template"))
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def _csv_upload(text: str, name: str = "党员.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = name
    return upload


def _member_csv(client: Any, rows: list[dict[str, str]]) -> str:
    """A CSV in the template's layout (headers read from the template download)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(reverse("members:import_template")).content))
    headers = [cell.value for cell in next(book.worksheets[0].iter_rows(max_row=1))]
    lines = [",".join(headers)]
    for row in rows:
        lines.append(",".join(row.get(h.rstrip("*"), row.get(h, "")) for h in headers))
    return "\n".join(lines) + "\n"


def test_import_rejects_a_wrong_file_type(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.post(reverse("members:import"), {"file": _csv_upload("x", "名单.txt")}).content.decode()
    assert "只能上传 .xlsx 或 .csv 文件" in html


def test_import_shows_row_errors_from_the_dry_run(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    csv = _member_csv(client, [{"姓名": "错误党员", "身份证号": "123", "所在党组织代码": tree.branch_a.code}])
    response = client.post(reverse("members:import"), {"file": _csv_upload(csv)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "第2行" in html
    assert 'name="confirm"' not in html
    assert not Member.objects.filter(name="错误党员").exists()


def test_import_dry_run_then_confirm(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    csv = _member_csv(
        client,
        [
            {
                "姓名": "导入党员",
                "身份证号": valid_id_number(),
                "所在党组织代码": tree.branch_a.code,
                "党员状态": "正式党员",
                "性别": "男",
                "出生日期": "1980-01-01",
                "民族": "汉族",
            }
        ],
    )
    response = client.post(reverse("members:import"), {"file": _csv_upload(csv)})
    html = response.content.decode()
    assert "确认导入" in html, html
    assert not Member.objects.filter(name="导入党员").exists()
    token = next(iter(client.session["pending_imports"]))
    stored = client.session["pending_imports"][token]["name"]
    assert stored.startswith("imports/") and default_storage.exists(stored)

    response = client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    assert response.status_code == 302
    assert Member.objects.filter(name="导入党员").exists()
    assert not default_storage.exists(stored)
    assert "pending_imports" in client.session and token not in client.session["pending_imports"]


def test_import_token_is_bound_to_the_session(client: Any, tree: Tree) -> None:
    owner = make_user(role="org_admin", org=tree.root)
    client.force_login(owner)
    csv = _member_csv(
        client,
        [
            {
                "姓名": "会话党员",
                "身份证号": valid_id_number(),
                "所在党组织代码": tree.branch_a.code,
                "党员状态": "正式党员",
            }
        ],
    )
    client.post(reverse("members:import"), {"file": _csv_upload(csv)})
    token = next(iter(client.session["pending_imports"]))
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(reverse("members:import"), {"token": token, "confirm": "1"}, follow=True)
    assert "待导入的文件已失效" in response.content.decode()
    assert not Member.objects.filter(name="会话党员").exists()


def _new_members(count: int, tree: Tree) -> list[dict[str, str]]:
    """Rows of new members for a CSV in the template's layout."""
    return [
        {
            "姓名": f"批量党员{i}",
            "身份证号": valid_id_number(),
            "所在党组织代码": tree.branch_a.code,
            "党员状态": "正式党员",
            "出生日期": "1980-01-01",
        }
        for i in range(count)
    ]


def test_a_large_import_is_checked_and_imported_as_background_jobs(
    client: Any, tree: Tree, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_JOB_MIN_ROWS = 2
    client.force_login(make_user(role="org_admin", org=tree.root))
    csv = _member_csv(client, _new_members(3, tree))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:import"), {"file": _csv_upload(csv)})
    check_page = client.get(response["Location"]).content.decode()

    assert response["Location"].startswith("/jobs/")
    assert "检查通过：共3行，将新增3条" in check_page and 'name="confirm"' in check_page
    assert not Member.objects.filter(name__startswith="批量党员").exists()
    token = next(iter(client.session["pending_imports"]))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    done_page = client.get(response["Location"]).content.decode()

    assert "导入完成：共3行，新增3条" in done_page
    assert Member.objects.filter(name__startswith="批量党员").count() == 3
    assert not default_storage.exists(Job.objects.get(kind="core.import_commit").params["name"])


def test_a_large_import_with_errors_lists_them_on_the_job_page_and_keeps_no_file(
    client: Any, tree: Tree, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_JOB_MIN_ROWS = 2
    client.force_login(make_user(role="org_admin", org=tree.root))
    rows = _new_members(3, tree)
    rows[1]["身份证号"] = "123"
    csv = _member_csv(client, rows)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:import"), {"file": _csv_upload(csv)})
    page = client.get(response["Location"]).content.decode()

    assert "检查发现1个问题" in page and "第3行" in page
    assert 'name="confirm"' not in page
    assert not default_storage.exists(Job.objects.get(kind="core.import_check").params["name"])


def test_list_shows_the_exact_total_from_stored_counts_past_the_count_bound(
    client: Any, tree: Tree, monkeypatch: Any
) -> None:
    # An organisation department's whole list counts beyond any bound, yet its total is stored.
    monkeypatch.setattr("partyedu.core.pagination.COUNT_BOUND", 5)
    monkeypatch.setattr("partyedu.core.pagination.LOOKAHEAD_PAGES", 0)
    for i in range(55):  # more than the first page's bound of 50 rows
        make_member(tree.branch_a, f"党员{i:02d}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("members:list")).content.decode()
    assert "共 55 名党员" in html


# --- scope of the create and import pages -------------------------------------------------------------


class TestMemberCreateScope(ScopedEndpointTests):
    url_name = "members:create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("members:create")


class TestMemberImportScope(ScopedEndpointTests):
    """The import page is tied to no object: the sibling case is a file whose row names the
    object's organisation, refused in the dry run."""

    url_name = "members:import"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("members:import")

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        org = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        row = {
            "姓名": "越权党员",
            "身份证号": valid_id_number(),
            "所在党组织代码": org.code,
            "党员状态": "正式党员",
        }
        response = client.post(self.url(org), {"file": _csv_upload(_member_csv(client, [row]))})
        html = response.content.decode()
        assert response.status_code == 200
        assert f"组织代码 {org.code} 不存在或不在您的管理范围内" in html
        assert 'name="confirm"' not in html
        assert not Member.objects.filter(name="越权党员").exists()

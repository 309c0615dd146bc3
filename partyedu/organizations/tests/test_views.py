"""Organisation tree pages: browser, HTMX children, detail and the write forms."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import ScopedEndpointTests
from partyedu.organizations.models import Organization
from partyedu.testsupport.factories import Tree, make_member, make_org, make_user

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


class TestTreeSearchScope(ScopedEndpointTests):
    """The tree page's search lists matching organisations (the tree itself expands lazily)."""

    url_name = "organizations:tree"

    kind = "list"
    marker_attr = "code"

    def make_object(self, org: Organization) -> Organization:
        return make_org(org, f"目标党小组{next(_n)}", "group")

    def url(self, obj: Organization) -> str:
        return reverse("organizations:tree") + f"?q={obj.name}"


class TestTreeRootsScope(ScopedEndpointTests):
    """Without a search the page shows the user's visible roots."""

    url_name = "organizations:tree"

    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Organization) -> Organization:
        return org

    def url(self, obj: Organization) -> str:
        return reverse("organizations:tree")


class TestDetailScope(ScopedEndpointTests):
    url_name = "organizations:detail"
    kind = "detail"

    def make_object(self, org: Organization) -> Organization:
        return org

    def url(self, obj: Organization) -> str:
        return reverse("organizations:detail", args=[obj.pk])


class TestChildrenPartialScope(ScopedEndpointTests):
    """The HTMX partial is a detail of its parent: out of scope is 404."""

    url_name = "organizations:children"

    kind = "detail"

    def make_object(self, org: Organization) -> Organization:
        return org

    def url(self, obj: Organization) -> str:
        return reverse("organizations:children", args=[obj.pk])


# --- tree ---------------------------------------------------------------------------------------------


def test_tree_shows_roots_with_cumulative_member_counts(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "甲一")
    make_member(tree.group_a, "甲二")
    make_member(tree.branch_b, "乙一")
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("organizations:tree")).content.decode()
    assert "市委" in html
    assert "3名党员" in html
    # A single root is shown opened one level; deeper levels load on demand.
    assert "甲区委" in html and "2名党员" in html
    assert reverse("organizations:children", args=[tree.district_a.pk]) in html
    assert reverse("organizations:children", args=[tree.root.pk]) not in html


def test_children_partial_is_a_fragment_with_counts(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "甲一")
    make_member(tree.group_a, "甲二")
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("organizations:children", args=[tree.root.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "甲区委" in html and "乙区委" in html
    assert "2名党员" in html  # 甲区委 counts its whole subtree
    assert "0名党员" in html  # 乙区委
    assert "党委" in html  # level badge


def test_children_partial_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    for i in range(25):
        branch = make_org(tree.district_a, f"批量支部{i}")
        make_member(branch, f"党员{i}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("organizations:children", args=[tree.district_a.pk])
    # session, user, grants, parent, children, member counts, and the session save (3)
    with django_assert_max_num_queries(9):
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.content.decode().count("1名党员") == 25


def test_tree_search_by_pinyin_initials(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("organizations:tree"), {"q": "yyz"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "乙一支部" in html and "甲一支部" not in html


# --- detail -------------------------------------------------------------------------------------------


def test_detail_shows_breadcrumb_warnings_children_and_member_link(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "甲一")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("organizations:detail", args=[tree.branch_a.pk])).content.decode()
    assert "breadcrumb" in html
    assert "市委" in html  # ancestor shown (as text: out of this user's scope)
    assert reverse("organizations:detail", args=[tree.root.pk]) not in html
    assert reverse("organizations:detail", args=[tree.district_a.pk]) in html
    assert "少于3名" in html  # sizing warning
    assert "甲一第一党小组" in html
    assert f"{reverse('members:list')}?organization={tree.branch_a.pk}" in html
    assert "新建下级组织" in html
    # issue 11: 移动 is not offered, nothing in this district admin's scope can hold a branch but its parent
    assert reverse("organizations:move", args=[tree.branch_a.pk]) not in html


def test_detail_hides_write_actions_from_an_inspector(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="inspector", org=tree.root))
    html = client.get(reverse("organizations:detail", args=[tree.branch_a.pk])).content.decode()
    assert "新建下级组织" not in html and reverse("organizations:edit", args=[tree.branch_a.pk]) not in html


# --- writes -------------------------------------------------------------------------------------------


def test_create_child(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("organizations:create") + f"?parent={tree.district_a.pk}"
    response = client.post(
        url, {"name": "甲二支部", "code": "JA02", "level": "branch", "org_type": "community", "sort_order": 0}
    )
    assert response.status_code == 302
    created = Organization.objects.get(code="JA02")
    assert created.parent == tree.district_a


def test_create_shows_service_errors_on_the_fields(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("organizations:create") + f"?parent={tree.district_a.pk}"
    response = client.post(
        url,
        {
            "name": "重复代码支部",
            "code": tree.branch_a.code,
            "level": "branch",
            "org_type": "community",
            "sort_order": 0,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "已存在" in html
    assert "is-invalid" in html


def test_create_offers_only_levels_allowed_under_the_parent(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("organizations:create") + f"?parent={tree.branch_a.pk}").content.decode()
    assert 'value="group"' in html and 'value="committee"' not in html


def test_create_under_an_out_of_scope_parent_is_404(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(reverse("organizations:create") + f"?parent={tree.branch_b.pk}")
    assert response.status_code == 404


def test_create_without_the_add_action_is_403(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="inspector", org=tree.root))
    assert client.get(reverse("organizations:create") + f"?parent={tree.root.pk}").status_code == 403


def test_edit(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("organizations:edit", args=[tree.branch_a.pk])
    assert "甲一支部" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": "甲一支部（新）",
            "short_name": "甲一",
            "code": tree.branch_a.code,
            "level": "branch",
            "org_type": "community",
            "sort_order": 3,
        },
    )
    assert response.status_code == 302
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.name == "甲一支部（新）"


def test_move_refuses_its_own_descendant(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(
        reverse("organizations:move", args=[tree.district_a.pk]), {"parent": tree.branch_a.pk}
    )
    assert response.status_code == 200
    assert "不能把组织移到它自己或其下级组织之下" in response.content.decode()
    tree.district_a.refresh_from_db()
    assert tree.district_a.parent == tree.root


def test_move(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(
        reverse("organizations:move", args=[tree.branch_a.pk]), {"parent": tree.district_b.pk}
    )
    assert response.status_code == 302
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.parent == tree.district_b


def test_move_target_must_be_within_change_scope(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("organizations:move", args=[tree.group_a.pk]), {"parent": tree.branch_b.pk}
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    tree.group_a.refresh_from_db()
    assert tree.group_a.parent == tree.branch_a


def test_deactivate_needs_confirmation_and_no_members(client: Any, tree: Tree) -> None:
    make_member(tree.group_a, "留守党员")
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("organizations:deactivate", args=[tree.branch_a.pk])
    assert "请勾选确认后再撤销" in client.post(url, {}).content.decode()
    html = client.post(url, {"confirm": "on"}).content.decode()
    assert "请先办理组织关系转接" in html
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.is_active


def test_deactivate(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.post(reverse("organizations:deactivate", args=[tree.branch_b.pk]), {"confirm": "on"})
    assert response.status_code == 302
    tree.branch_b.refresh_from_db()
    assert not tree.branch_b.is_active


def test_deactivate_needs_the_delete_action(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.root))
    assert client.get(reverse("organizations:deactivate", args=[tree.branch_b.pk])).status_code == 403


# --- import and export --------------------------------------------------------------------------------


def _csv(text: str) -> Any:
    import io

    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = "党组织.csv"
    return upload


def test_export_downloads_a_subtree(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("organizations:export"), {"within": tree.district_a.pk})
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert "attachment" in response["Content-Disposition"]


def test_export_of_an_out_of_scope_subtree_is_404(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(reverse("organizations:export"), {"within": tree.branch_b.pk}).status_code == 404


def test_import_template_download(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("organizations:import_template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_import_dry_run_errors_then_a_good_file_confirmed(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("organizations:import")
    assert "下载模板" in client.get(url).content.decode()
    header = "组织名称,组织代码,上级组织代码,组织层级\n"
    html = client.post(
        url, {"file": _csv(header + f"坏支部,BAD1,{tree.branch_a.code},党委\n")}
    ).content.decode()
    assert "第2行" in html and 'name="confirm"' not in html

    html = client.post(
        url, {"file": _csv(header + f"新支部,NEW1,{tree.district_a.code},党支部\n")}
    ).content.decode()
    assert 'name="confirm"' in html and "新支部" in html  # preview
    assert not Organization.objects.filter(code="NEW1").exists()
    token = next(iter(client.session["pending_imports"]))
    response = client.post(url, {"token": token, "confirm": "1"})
    assert response.status_code == 302
    assert Organization.objects.get(code="NEW1").parent == tree.district_a


def test_import_cancel_deletes_the_pending_file(client: Any, tree: Tree) -> None:
    from django.core.files.storage import default_storage

    client.force_login(make_user(role="org_admin", org=tree.root))
    url = reverse("organizations:import")
    header = "组织名称,组织代码,上级组织代码,组织层级\n"
    client.post(url, {"file": _csv(header + f"新支部,NEW2,{tree.district_a.code},党支部\n")})
    token, entry = next(iter(client.session["pending_imports"].items()))
    assert default_storage.exists(entry["name"])
    client.post(url, {"token": token, "cancel": "1"})
    assert not default_storage.exists(entry["name"])
    assert not Organization.objects.filter(code="NEW2").exists()


def test_import_needs_the_import_action(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.root))
    assert client.get(reverse("organizations:import")).status_code == 403


class TestImportScope(ScopedEndpointTests):
    """The import page is tied to no object: the sibling case is a file that adds an
    organisation under the object, refused in the dry run."""

    url_name = "organizations:import"

    def make_object(self, org: Any) -> Organization:
        return org

    def url(self, obj: Organization) -> str:
        return reverse("organizations:import")

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        org = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        rows = f"组织名称,组织代码,上级组织代码,组织层级\n越权小组,OUT1,{org.code},党小组\n"
        response = client.post(self.url(org), {"file": _csv(rows)})
        html = response.content.decode()
        assert response.status_code == 200
        assert f"上级组织代码 {org.code} 不存在或不在您的管理范围内" in html
        assert 'name="confirm"' not in html
        assert not Organization.objects.filter(code="OUT1").exists()

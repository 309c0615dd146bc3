"""Home page, audit log pages and the shared base layout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db


class TestAuditListScope(ScopedEndpointTests):
    url_name = "core:audit_list"
    role = "auditor"
    kind = "list"

    def make_object(self, org: Any) -> AuditLog:
        return audit_record(actor=None, action=AuditAction.UPDATE, obj=org, object_repr=f"审计标记{org.code}")

    def url(self, obj: AuditLog) -> str:
        return reverse("core:audit_list")

    def marker(self, obj: AuditLog) -> str:
        return obj.object_repr

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        # The 审计管理员 audits the whole system (三员分立): audit rows belong to no organisation,
        # so where the role is held does not narrow what it reads.
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_b))
        response = client.get(self.url(obj))
        assert response.status_code == 200
        assert self.marker(obj) in response.content.decode()


def test_home_redirects_anonymous_to_login(client: Any) -> None:
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_shows_roles_and_menu(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a, display_name="王书记"))
    html = client.get(reverse("core:home")).content.decode()
    assert "王书记" in html
    assert "组织部/工委管理员" in html
    assert reverse("members:list") in html
    assert reverse("organizations:tree") in html
    assert reverse("core:audit_list") not in html  # not an auditor


def test_home_links_a_member_to_their_own_profile(client: Any, tree: Tree) -> None:
    user = make_user(role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "刘党员")
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    html = client.get(reverse("core:home")).content.decode()
    assert reverse("members:detail", args=[member.pk]) in html
    assert "我的党员档案" in html


def test_home_links_a_member_to_lectures_library_and_entries(client: Any, tree: Tree) -> None:
    user = make_user(role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "刘党员")
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    html = client.get(reverse("core:home")).content.decode()
    for name in ("lectures:my", "lectures:library", "competitions:my_entries"):
        assert reverse(name) in html


def test_home_menu_offers_lectures_and_competitions_to_an_org_admin(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("core:home")).content.decode()
    assert reverse("lectures:index") in html
    assert reverse("competitions:index") in html


def test_base_layout_uses_local_assets_and_logout_form(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    html = client.get(reverse("core:home")).content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "http://" not in html and "https://" not in html
    assert f'action="{reverse("accounts:logout")}"' in html
    assert "党员教育培训管理平台" in html


def test_audit_list_filters_by_action_user_and_date(client: Any, tree: Tree) -> None:
    auditor = make_user(role="auditor", org=tree.root)
    audit_record(actor=None, action=AuditAction.EXPORT, object_repr="导出标记", username="zhangsan")
    audit_record(actor=None, action=AuditAction.UPDATE, object_repr="修改标记", username="lisi")
    client.force_login(auditor)
    url = reverse("core:audit_list")

    html = client.get(url, {"action": "export"}).content.decode()
    assert "导出标记" in html and "修改标记" not in html

    html = client.get(url, {"username": "lis"}).content.decode()
    assert "修改标记" in html and "导出标记" not in html

    tomorrow = timezone.localdate() + timedelta(days=1)
    html = client.get(url, {"date_from": tomorrow.isoformat()}).content.decode()
    assert "导出标记" not in html and "修改标记" not in html


def test_audit_list_filters_by_object_type(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    html = client.get(
        reverse("core:audit_list"), {"object_type": "organizations.organization"}
    ).content.decode()
    assert tree.branch_a.name in html


def test_audit_list_shows_a_chinese_error_for_a_reversed_date_range(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    response = client.get(reverse("core:audit_list"), {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_audit_list_htmx_returns_only_the_table(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    response = client.get(reverse("core:audit_list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<table" in html


def test_audit_list_is_read_only(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="auditor", org=tree.root))
    assert client.post(reverse("core:audit_list")).status_code == 405


def test_org_admin_cannot_read_the_audit_log(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("core:audit_list"))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()

"""Sign-in, lockout, password change and account administration pages."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import PiiGrant, RoleAssignment, User
from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.factories import PASSWORD, Tree, make_user

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


class TestUserListScope(ScopedEndpointTests):
    url_name = "accounts:user_list"
    kind = "list"
    marker_attr = "username"

    def make_object(self, org: Any) -> User:
        return make_user(f"target{next(_n)}x", role="branch_admin", org=org)

    def url(self, obj: User) -> str:
        return reverse("accounts:user_list")


class TestUserDetailScope(ScopedEndpointTests):
    url_name = "accounts:user_detail"
    kind = "detail"

    def make_object(self, org: Any) -> User:
        return make_user(role="branch_admin", org=org)

    def url(self, obj: User) -> str:
        return reverse("accounts:user_detail", args=[obj.pk])


# --- sign in ------------------------------------------------------------------------------------------


def test_login_page_is_in_chinese(client: Any) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert "用户名或手机号" in html and "密码" in html


def test_login_by_username(client: Any, tree: Tree) -> None:
    make_user("laowang", role="org_admin", org=tree.root)
    response = client.post(reverse("accounts:login"), {"username": "laowang", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")


def test_login_by_mobile(client: Any, tree: Tree) -> None:
    make_user("laoli", mobile="13800138000")
    response = client.post(reverse("accounts:login"), {"username": "13800138000", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_shows_a_chinese_error(client: Any, tree: Tree) -> None:
    make_user("laozhang")
    response = client.post(reverse("accounts:login"), {"username": "laozhang", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名（或手机号）或密码不正确" in response.content.decode()


def test_repeated_failures_lock_the_account(client: Any, settings: Any, signin_clock: Any) -> None:
    make_user("laozhao")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        signin_clock.advance(settings.LOGIN_DELAY_MAX_SECONDS)  # past the progressive delay
        response = client.post(reverse("accounts:login"), {"username": "laozhao", "password": "wrong"})
    assert response.status_code == 403
    assert "登录失败次数过多，账号已锁定30分钟" in response.content.decode()
    # Even the right password is refused while locked.
    response = client.post(reverse("accounts:login"), {"username": "laozhao", "password": PASSWORD})
    assert response.status_code == 403


def test_logout_needs_post(client: Any, tree: Tree) -> None:
    client.force_login(make_user())
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


# --- password change ---------------------------------------------------------------------------------


def test_password_change_is_audited(client: Any) -> None:
    user = make_user()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Xin@Mima2026", "new_password2": "Xin@Mima2026"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xin@Mima2026")
    assert AuditLog.objects.filter(action=AuditAction.PASSWORD_CHANGE, object_id=str(user.pk)).exists()
    # The session survives the change.
    assert client.get(reverse("core:home")).status_code == 200


def test_password_change_shows_rules_and_chinese_errors(client: Any) -> None:
    client.force_login(make_user())
    url = reverse("accounts:password_change")
    html = client.get(url).content.decode()
    assert "密码规则" in html
    html = client.post(
        url, {"old_password": "nope", "new_password1": "abc", "new_password2": "abd"}
    ).content.decode()
    assert "原密码不正确" in html
    assert "两次输入的新密码不一致" in html
    html = client.post(
        url, {"old_password": PASSWORD, "new_password1": "abcdefgh1", "new_password2": "abcdefgh1"}
    )
    assert "至少3类" in html.content.decode()


def test_expired_password_notice(client: Any) -> None:
    client.force_login(make_user())
    html = client.get(reverse("accounts:password_change") + "?expired=1").content.decode()
    assert "已过期" in html


# --- account administration --------------------------------------------------------------------------


def test_user_list_search(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    make_user("searchme", display_name="赵六")
    make_user("other")
    html = client.get(reverse("accounts:user_list"), {"q": "赵"}).content.decode()
    assert "searchme" in html and ">other<" not in html


def test_user_detail_shows_roles_and_pii_grants(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    target = make_user(role="branch_admin", org=tree.branch_a, pii=True)
    html = client.get(reverse("accounts:user_detail", args=[target.pk])).content.decode()
    assert "党务工作者/支部书记" in html
    assert "测试授权" in html
    assert "分配角色" in html and "授予敏感信息查看权限" in html


def test_secadmin_assigns_and_revokes_a_role(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    target = make_user()
    response = client.post(
        reverse("accounts:role_assign", args=[target.pk]),
        {"role-role": "branch_admin", "role-organization": tree.branch_a.pk},
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=target)
    assert assignment.organization == tree.branch_a
    assert AuditLog.objects.filter(action=AuditAction.GRANT, object_id=str(assignment.pk)).exists()

    response = client.post(reverse("accounts:role_revoke", args=[target.pk, assignment.pk]))
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(user=target).exists()


def test_role_assign_form_errors_are_chinese(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    target = make_user()
    response = client.post(reverse("accounts:role_assign", args=[target.pk]), {"role-role": "branch_admin"})
    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()


def test_org_admin_cannot_assign_roles(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.root))
    target = make_user()
    response = client.post(
        reverse("accounts:role_assign", args=[target.pk]),
        {"role-role": "branch_admin", "role-organization": tree.branch_a.pk},
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=target).exists()


def test_secadmin_grants_and_revokes_pii(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    target = make_user(role="branch_admin", org=tree.branch_a)
    url = reverse("accounts:pii_grant", args=[target.pk])
    html = client.post(url, {"pii-organization": tree.branch_a.pk, "pii-reason": ""}).content.decode()
    assert "该字段是必填项" in html
    response = client.post(url, {"pii-organization": tree.branch_a.pk, "pii-reason": "核对党员信息"})
    assert response.status_code == 302
    grant = PiiGrant.objects.get(user=target)
    response = client.post(reverse("accounts:pii_revoke", args=[target.pk, grant.pk]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_sysadmin_creates_and_deactivates_a_user(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="sysadmin", org=tree.root))
    url = reverse("accounts:user_create")
    html = client.post(
        url, {"username": "newbie", "password1": "simple", "password2": "simple"}
    ).content.decode()
    assert "至少3类" in html
    response = client.post(
        url,
        {
            "username": "newbie",
            "display_name": "新人",
            "password1": "Xin@Mima2026",
            "password2": "Xin@Mima2026",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="newbie")
    response = client.post(reverse("accounts:user_set_active", args=[created.pk]), {"is_active": "0"})
    assert response.status_code == 302
    created.refresh_from_db()
    assert not created.is_active


def test_duplicate_username_is_shown_on_the_field(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="sysadmin", org=tree.root))
    make_user("taken")
    html = client.post(
        reverse("accounts:user_create"),
        {"username": "taken", "password1": "Xin@Mima2026", "password2": "Xin@Mima2026"},
    ).content.decode()
    assert "该用户名已存在" in html


def test_secadmin_cannot_create_users(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="secadmin", org=tree.root))
    assert client.get(reverse("accounts:user_create")).status_code == 403


# --- scope of the buttons on a user's page ----------------------------------------------------------


class UserAction(PostEndpointTests):
    """A button on another user's page, posted back to that page. The target holds a role at the
    object's organisation, so an account manager of the sibling district does not reach them."""

    def make_object(self, org: Any) -> User:
        return make_user(role="branch_admin", org=org)

    def action_url(self, obj: User) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestUserSetActiveScope(UserAction):
    url_name = "accounts:user_set_active"
    role = "sysadmin"

    def post_data(self, obj: User) -> dict[str, Any]:
        return {"is_active": "0"}


class TestOtpResetScope(UserAction):
    url_name = "accounts:otp_reset"
    role = "secadmin"


class TestRoleAssignScope(UserAction):
    url_name = "accounts:role_assign"
    role = "secadmin"

    def post_data(self, obj: User) -> dict[str, Any]:
        return {"role-role": "member", "role-organization": obj.role_assignments.get().organization_id}


class TestPiiGrantScope(UserAction):
    url_name = "accounts:pii_grant"
    role = "secadmin"

    def post_data(self, obj: User) -> dict[str, Any]:
        return {"pii-organization": obj.role_assignments.get().organization_id, "pii-reason": "核对党员信息"}


class TestRoleRevokeScope(PostEndpointTests):
    url_name = "accounts:role_revoke"
    role = "secadmin"

    def make_object(self, org: Any) -> RoleAssignment:
        return make_user(role="branch_admin", org=org).role_assignments.get()

    def action_url(self, obj: RoleAssignment) -> str:
        return reverse("accounts:role_revoke", args=[obj.user_id, obj.pk])


class TestPiiRevokeScope(PostEndpointTests):
    url_name = "accounts:pii_revoke"
    role = "secadmin"

    def make_object(self, org: Any) -> PiiGrant:
        return make_user(role="branch_admin", org=org, pii=True).pii_grants.get()

    def action_url(self, obj: PiiGrant) -> str:
        return reverse("accounts:pii_revoke", args=[obj.user_id, obj.pk])


def test_an_expired_password_sends_pages_to_the_change_page(client: Any, settings: Any) -> None:
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = make_user()
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client.force_login(user)
    assert client.get("/members/")["Location"] == reverse("accounts:password_change") + "?expired=1"


def test_an_expired_password_answers_the_change_pages_own_fragments_204(client: Any, settings: Any) -> None:
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = make_user()
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client.force_login(user)
    page = "http://testserver" + reverse("accounts:password_change") + "?expired=1"
    headers = {"HX-Request": "true", "HX-Current-URL": page}
    response = client.get(reverse("core:notification_count"), headers=headers)
    assert response.status_code == 204 and "HX-Redirect" not in response

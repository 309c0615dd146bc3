"""Hour requirement pages: the list of subtrees with their own rule, setting (creating or
replacing) a rule with the organisation picker, and deleting one; what the author is told about
the members the change affected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from partyedu.core.choices import JobStatus
from partyedu.core.models import Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.jobs import RECOUNT_KIND
from partyedu.learning.models import HourRequirement, MemberRequirement
from partyedu.learning.services import hour_requirement_delete, hour_requirement_set
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, jobs_run

pytestmark = pytest.mark.django_db
D = Decimal


def set_rule(org: Any, **values: Any) -> HourRequirement:
    with jobs_run():
        change = hour_requirement_set(actor=None, organization=org, data=values)
    return change.requirement


def form_data(org: Any, **values: Any) -> dict[str, Any]:
    data = {
        "organization": org.pk,
        "general_hours": "32",
        "cadre_hours": "56",
        "cadre_needs_concentrated": "on",
        "cadre_concentrated_min_hours": "8",
        "candidate_hours": "24",
        "online_daily_cap_minutes": "120",
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("admin_a", role="org_admin", org=tree.district_a)


# --- scope ----------------------------------------------------------------------------------------


class TestRequirementListScope(ScopedEndpointTests):
    url_name = "learning:requirement_list"
    kind = "list"

    def make_object(self, org: Any) -> HourRequirement:
        return set_rule(org, general_hours=D("40"))

    def marker(self, obj: HourRequirement) -> str:
        return obj.organization.name

    def url(self, obj: HourRequirement) -> str:
        return reverse("learning:requirement_list")


class TestRequirementSetScope(ScopedEndpointTests):
    """The form opened for an organisation (``?organization=``) needs the change action there."""

    url_name = "learning:requirement_set"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:requirement_set')}?organization={obj.pk}"


class TestRequirementDeleteScope(ScopedEndpointTests):
    url_name = "learning:requirement_delete"

    def make_object(self, org: Any) -> HourRequirement:
        return set_rule(org, general_hours=D("40"))

    def url(self, obj: HourRequirement) -> str:
        return reverse("learning:requirement_delete", args=[obj.pk])


# --- the list -------------------------------------------------------------------------------------


def test_list_shows_each_rule_with_its_values(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.branch_a, general_hours=D("40"), online_daily_cap_minutes=0)
    client.force_login(admin)
    html = client.get(reverse("learning:requirement_list")).content.decode()
    row = html.split("甲一支部")[1].split("</tr>")[0]
    assert "40 学时" in row and "不限" in row


def test_list_shows_the_rule_in_force_above_the_users_scope(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.root, general_hours=D("36"))
    client.force_login(admin)
    html = client.get(reverse("learning:requirement_list")).content.decode()
    scope = html.split('data-testid="scope-rule"')[1].split("</div>\n</div>")[0]
    assert "甲区委（含下级）当前适用“市委”的规定" in scope and "党员 36 学时" in scope
    # The root's own row is outside the district admin's scope.
    assert "修改" not in html.split("各组织自己的规定")[1].split("</table>")[0]


def test_list_says_defaults_apply_when_no_rule_is_set(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.get(reverse("learning:requirement_list")).content.decode()
    assert "甲区委（含下级）当前适用默认要求" in html and "党员 32 学时" in html


def test_branch_secretary_sees_the_rules_but_cannot_change_them(client: Any, tree: Tree) -> None:
    rule = set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("learning:requirement_list")).content.decode()
    assert "40 学时" in html
    assert reverse("learning:requirement_set") not in html
    assert reverse("learning:requirement_delete", args=[rule.pk]) not in html


def test_list_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, admin: Any, django_assert_max_num_queries: Any
) -> None:
    for org in (tree.district_a, tree.branch_a, tree.group_a):
        set_rule(org, general_hours=D("40"))
    client.force_login(admin)
    # session, user, grants; count and rows; the scope's rules and their organisations; session
    # save (up to 3). Whatever the number of rules.
    with django_assert_max_num_queries(10):
        response = client.get(reverse("learning:requirement_list"))
    assert response.content.decode().count('<i class="bi bi-trash"') == 3


# --- setting a rule -------------------------------------------------------------------------------


def test_form_for_an_organisation_starts_from_the_rule_in_force(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.district_a, general_hours=D("44"))
    client.force_login(admin)
    response = client.get(reverse("learning:requirement_set"), {"organization": tree.branch_a.pk})
    form = response.context["form"]
    assert form["organization"].value() == tree.branch_a.pk
    assert form["general_hours"].value() == D("44")


def test_setting_a_rule_creates_it_and_recounts_the_members(client: Any, tree: Tree, admin: Any) -> None:
    member = make_member(tree.branch_a, "党员甲")
    client.force_login(admin)
    with jobs_run():
        response = client.post(
            reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=40)
        )
    job = Job.objects.get(kind=RECOUNT_KIND)
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert (job.status, job.created_by) == (JobStatus.SUCCEEDED, admin)
    assert HourRequirement.objects.get(organization=tree.branch_a).general_hours == D("40")
    assert MemberRequirement.objects.get(member=member).required_hours == D("40")
    assert_ledger_equals_rebuild()


def test_the_recount_page_says_how_many_members_changed(client: Any, tree: Tree, admin: Any) -> None:
    make_member(tree.branch_a, "党员甲")
    make_member(tree.group_a, "党员乙")
    make_member(tree.branch_b, "别处党员")
    client.force_login(admin)
    with jobs_run():
        response = client.post(
            reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=40)
        )
    assert messages_of(response) == ["已保存“甲一支部”的学时要求，正在重新核算下级党员的学时要求"]
    html = client.get(response["Location"]).content.decode()
    assert "已按现行学时要求核算“甲一支部”及下级党员；2名党员适用的学时要求随之调整" in html
    # 返回 leads back to the requirements
    assert f'href="{reverse("learning:requirement_list")}"' in html


def test_the_rule_is_saved_before_the_recount_runs(client: Any, tree: Tree, admin: Any) -> None:
    member = make_member(tree.branch_a, "党员甲")
    client.force_login(admin)
    # when: the request commits but its job has not run yet
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=40))
    # then: the rule stands, the members are recounted by the job, which waits in the queue
    job = Job.objects.get(kind=RECOUNT_KIND)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == JobStatus.QUEUED
    assert job.params == {"organization": tree.branch_a.pk, "back_url": reverse("learning:requirement_list")}
    assert HourRequirement.objects.get(organization=tree.branch_a).general_hours == D("40")
    assert MemberRequirement.objects.get(member=member).required_hours == D("32")
    html = client.get(response["Location"]).content.decode()
    assert "任务已排队" in html


def test_saving_the_same_values_again_changes_nothing(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(admin)
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=40))
    assert response["Location"] == reverse("learning:requirement_list")
    assert messages_of(response) == ["学时要求没有变化"]
    assert not Job.objects.filter(created_by=admin).exists()


def test_a_double_save_queues_one_recount(client: Any, tree: Tree, admin: Any) -> None:
    make_member(tree.branch_a, "党员甲")
    client.force_login(admin)
    url = reverse("learning:requirement_set")
    first = client.post(url, form_data(tree.branch_a, general_hours=40))
    # the same values again while the recount waits: sent to the same job
    second = client.post(url, form_data(tree.branch_a, general_hours=40))
    assert second["Location"] == first["Location"]
    assert messages_of(second)[-1] == "学时要求没有变化，上次修改后的核算仍在进行"
    # another change while it still waits: that job, which has not read the rules yet, counts it
    third = client.post(url, form_data(tree.branch_a, general_hours=44))
    assert third["Location"] == first["Location"]
    assert Job.objects.filter(kind=RECOUNT_KIND).count() == 1


def test_success_message_when_no_member_is_affected(client: Any, tree: Tree, admin: Any) -> None:
    make_member(tree.branch_a, "党员甲")
    client.force_login(admin)
    # The defaults, written down: nobody's requirement changes.
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_a))
    assert messages_of(response) == ["已保存“甲一支部”的学时要求；没有党员适用的学时要求因此改变"]


def test_setting_again_replaces_the_rule(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(admin)
    client.post(reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=20))
    assert list(HourRequirement.objects.values_list("general_hours", flat=True)) == [D("20")]


def test_negative_hours_are_refused_in_chinese(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=-1))
    assert response.status_code == 200
    assert "学时不能为负数" in response.content.decode()
    assert not HourRequirement.objects.exists()


def test_an_organisation_outside_the_scope_cannot_be_picked(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_b, general_hours=10))
    assert "所选组织不存在或不在您的权限范围内" in response.content.decode()
    assert not HourRequirement.objects.exists()


def test_branch_secretary_cannot_set_the_branchs_own_rule(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(reverse("learning:requirement_set"), form_data(tree.branch_a, general_hours=0))
    assert response.status_code == 403
    assert not HourRequirement.objects.exists()


def test_the_service_refuses_a_rule_from_a_branch_secretary(tree: Tree) -> None:
    from django.core.exceptions import PermissionDenied

    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied, match="组织部门"):
        hour_requirement_set(actor=secretary, organization=tree.branch_a, data={"general_hours": D("0")})


def test_a_member_cannot_open_the_form(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "普通党员")
    user = make_user(role="member", org=tree.branch_a)
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    assert client.get(reverse("learning:requirement_set")).status_code == 403


# --- deleting a rule ------------------------------------------------------------------------------


def test_delete_page_says_which_rule_applies_afterwards(client: Any, tree: Tree, admin: Any) -> None:
    set_rule(tree.district_a, general_hours=D("44"))
    rule = set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(admin)
    html = client.get(reverse("learning:requirement_delete", args=[rule.pk])).content.decode()
    assert "删除后，该组织及下级改按“甲区委”的规定" in html and "党员 44 学时" in html


def test_delete_needs_the_confirmation(client: Any, tree: Tree, admin: Any) -> None:
    rule = set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(admin)
    response = client.post(reverse("learning:requirement_delete", args=[rule.pk]), {})
    assert "请勾选确认" in response.content.decode()
    assert HourRequirement.objects.filter(pk=rule.pk).exists()


def test_deleting_restores_the_rule_above_and_reports_the_members(
    client: Any, tree: Tree, admin: Any
) -> None:
    member = make_member(tree.branch_a, "党员甲")
    rule = set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(admin)
    with jobs_run():
        response = client.post(reverse("learning:requirement_delete", args=[rule.pk]), {"confirm": "on"})
    job = Job.objects.get(kind=RECOUNT_KIND, created_by=admin)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert not HourRequirement.objects.exists()
    assert MemberRequirement.objects.get(member=member).required_hours == D("32")
    assert messages_of(response) == ["已删除“甲一支部”的学时要求，正在重新核算下级党员的学时要求"]
    assert job.result["summary"] == "已按现行学时要求核算“甲一支部”及下级党员；1名党员适用的学时要求随之调整"
    assert_ledger_equals_rebuild()


def test_deleting_a_rule_equal_to_the_one_above_needs_no_recount(client: Any, tree: Tree, admin: Any) -> None:
    make_member(tree.branch_a, "党员甲")
    set_rule(tree.district_a, general_hours=D("40"))
    rule = set_rule(tree.branch_a, general_hours=D("40"), online_daily_cap_minutes=60)
    client.force_login(admin)
    response = client.post(reverse("learning:requirement_delete", args=[rule.pk]), {"confirm": "on"})
    assert response["Location"] == reverse("learning:requirement_list")
    assert messages_of(response) == ["已删除“甲一支部”的学时要求；没有党员适用的学时要求因此改变"]
    assert not Job.objects.filter(created_by=admin).exists()


def test_branch_admin_cannot_delete_a_rule(client: Any, tree: Tree) -> None:
    rule = set_rule(tree.branch_a, general_hours=D("40"))
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get(reverse("learning:requirement_delete", args=[rule.pk])).status_code == 403


# --- what the services report ---------------------------------------------------------------------


def test_rule_change_counts_members_whose_completion_changed(tree: Tree) -> None:
    from partyedu.learning.selectors import current_year
    from partyedu.learning.services import learning_hours_record_manual

    member = make_member(tree.branch_a, "党员甲")
    learning_hours_record_manual(
        actor=None,
        member=member,
        year=current_year(),
        kind="collective",
        hours=D("30"),
        description="集体学习",
    )
    with jobs_run():
        change = hour_requirement_set(actor=None, organization=tree.branch_a, data={"general_hours": D("30")})
    assert change.job is not None
    change.job.refresh_from_db()
    assert (change.job.result["members_changed"], change.job.result["completions_changed"]) == (1, 1)
    assert change.job.result["summary"].endswith("1名党员适用的学时要求随之调整；1人次的年度达标情况随之改变")
    with jobs_run():
        change = hour_requirement_delete(actor=None, requirement=change.requirement)
    assert change.requirement is None and change.job is not None
    change.job.refresh_from_db()
    assert (change.job.result["members_changed"], change.job.result["completions_changed"]) == (1, 1)

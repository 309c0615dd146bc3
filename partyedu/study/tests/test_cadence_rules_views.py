"""The cadence rules page: the rules that apply in the user's scope, setting (creating or
replacing) the rule of an organisation picked in the scope, and removing one."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.study.models import CadenceRule
from partyedu.study.services import cadence_rule_set
from partyedu.testsupport.factories import Tree, make_org

pytestmark = pytest.mark.django_db


def make_rule(
    org: Any, activity_type: str = "theme_day", period: str = "month", min_count: int = 1
) -> CadenceRule:
    return cadence_rule_set(
        actor=None, organization=org, activity_type=activity_type, period=period, min_count=min_count
    )


# --- scope ------------------------------------------------------------------------------------------


class TestCadenceRuleListScope(ScopedEndpointTests):
    url_name = "study:cadence_rules"
    kind = "list"

    def make_object(self, org: Any) -> CadenceRule:
        return make_rule(org)

    def url(self, obj: CadenceRule) -> str:
        return reverse("study:cadence_rules")

    def marker(self, obj: CadenceRule) -> str:
        return f'id="rule-{obj.pk}"'


class TestCadenceRuleSetScope(ScopedEndpointTests):
    """The set page started from an existing rule (its 修改 link)."""

    url_name = "study:cadence_rule_set"

    def make_object(self, org: Any) -> CadenceRule:
        return make_rule(org)

    def url(self, obj: CadenceRule) -> str:
        return f"{reverse('study:cadence_rule_set')}?rule={obj.pk}"


class TestCadenceRuleDeleteScope(PostEndpointTests):
    url_name = "study:cadence_rule_delete"

    def make_object(self, org: Any) -> CadenceRule:
        return make_rule(org)

    def url(self, obj: CadenceRule) -> str:
        return reverse("study:cadence_rule_delete", args=[obj.pk])


# --- the list -----------------------------------------------------------------------------------


def test_list_shows_the_subtree_and_values_of_each_rule(client: Any, tree: Tree, admin: Any) -> None:
    make_rule(tree.branch_a, "branch_assembly", period="quarter", min_count=2)
    make_rule(tree.district_a, "theme_day", min_count=0)
    client.force_login(admin)
    html = client.get(reverse("study:cadence_rules")).content.decode()
    assert "甲一支部及下级组织" in html and "支部党员大会" in html and "每季度至少2次" in html
    assert "甲区委及下级组织" in html and "不要求开展" in html


def test_list_states_the_defaults(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.get(reverse("study:cadence_rules")).content.decode()
    assert "每个党支部：" in html and "主题党日每月至少1次" in html and "党课每季度至少1次" in html
    assert "每个党小组：" in html and "党小组会每月至少1次" in html
    assert "中心组学习每季度至少2次" in html and "党委（党组）书记讲党课每年至少1次" in html


def test_rules_set_above_are_shown_without_buttons(client: Any, tree: Tree, admin: Any) -> None:
    rule = make_rule(tree.root, "party_lecture", period="half_year")
    client.force_login(admin)
    html = client.get(reverse("study:cadence_rules")).content.decode()
    assert "上级组织的规定" in html and "市委及下级组织" in html and "每半年至少1次" in html
    assert reverse("study:cadence_rule_delete", args=[rule.pk]) not in html
    assert f"?rule={rule.pk}" not in html


def test_rules_of_a_sibling_district_are_not_shown_as_above(client: Any, tree: Tree, admin: Any) -> None:
    make_rule(tree.district_b, "party_lecture", period="year")
    client.force_login(admin)
    assert "乙区委" not in client.get(reverse("study:cadence_rules")).content.decode()


def test_user_who_may_only_view_sees_the_rules_but_no_buttons(client: Any, tree: Tree, viewer: Any) -> None:
    rule = make_rule(tree.branch_a)
    client.force_login(viewer)
    html = client.get(reverse("study:cadence_rules")).content.decode()
    assert f'id="rule-{rule.pk}"' in html
    assert reverse("study:cadence_rule_set") not in html
    assert reverse("study:cadence_rule_delete", args=[rule.pk]) not in html
    assert client.get(reverse("study:cadence_rule_set")).status_code == 403
    assert client.post(reverse("study:cadence_rule_delete", args=[rule.pk])).status_code == 403


def test_list_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, admin: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        make_rule(make_org(tree.district_a, f"甲{i}支部"), "party_lecture", period="half_year")
    make_rule(tree.root)
    client.force_login(admin)
    client.get(reverse("study:cadence_rules"))  # session and grants warmed up
    with django_assert_max_num_queries(9):
        response = client.get(reverse("study:cadence_rules"))
    assert response.content.decode().count('id="rule-') == 6


def test_cadence_report_and_study_menu_link_to_the_rules(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.get(reverse("study:cadence")).content.decode()
    assert html.count(f'href="{reverse("study:cadence_rules")}"') >= 2  # the menu and the report


# --- setting a rule -----------------------------------------------------------------------------


def test_rule_is_set_for_an_organisation_picked_in_scope(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.branch_a.pk,
            "applies_to": "branch",
            "activity_type": "branch_committee",
            "period": "week",
            "min_count": 1,
        },
    )
    assert response["Location"] == reverse("study:cadence_rules")
    rule = CadenceRule.objects.get()
    assert (rule.organization, rule.applies_to, rule.activity_type, rule.period, rule.min_count) == (
        tree.branch_a,
        "branch",
        "branch_committee",
        "week",
        1,
    )
    html = client.get(response["Location"]).content.decode()
    assert "已设置：甲一支部及下级组织的每个党支部每周至少开展支委会1次" in html


def test_setting_the_same_organisation_and_type_again_replaces_the_rule(
    client: Any, tree: Tree, admin: Any
) -> None:
    make_rule(tree.branch_a, "theme_day")
    client.force_login(admin)
    client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.branch_a.pk,
            "applies_to": "branch",
            "activity_type": "theme_day",
            "period": "quarter",
            "min_count": 0,
        },
    )
    rule = CadenceRule.objects.get()
    assert (rule.period, rule.min_count) == ("quarter", 0)


def test_zero_times_is_confirmed_as_lifting_the_requirement(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.branch_a.pk,
            "applies_to": "branch",
            "activity_type": "party_lecture",
            "period": "quarter",
            "min_count": 0,
        },
        follow=True,
    )
    assert "已设置：甲一支部及下级组织的党支部不要求开展党课" in response.content.decode()


def test_organisation_outside_scope_is_refused_and_nothing_is_written(
    client: Any, tree: Tree, admin: Any
) -> None:
    client.force_login(admin)
    html = client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.root.pk,
            "applies_to": "branch",
            "activity_type": "theme_day",
            "period": "month",
        },
    ).content.decode()
    assert "所选组织不存在或不在您的权限范围内" in html
    assert not CadenceRule.objects.exists()


def test_negative_min_count_gives_a_chinese_field_error(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.branch_a.pk,
            "applies_to": "branch",
            "activity_type": "theme_day",
            "period": "month",
            "min_count": -1,
        },
    ).content.decode()
    assert "确保该值大于或等于0" in html
    assert not CadenceRule.objects.exists()


def test_a_period_other_than_the_five_is_not_offered(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.post(
        reverse("study:cadence_rule_set"),
        {
            "organization": tree.branch_a.pk,
            "applies_to": "branch",
            "activity_type": "theme_day",
            "period": "two_months",
            "min_count": 1,
        },
    ).content.decode()
    assert "id_period_errors" in html and "选择一个有效的选项" in html
    assert not CadenceRule.objects.exists()


def test_set_form_starts_with_the_organisation_of_the_users_role(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    html = client.get(reverse("study:cadence_rule_set")).content.decode()
    assert f'name="organization" value="{tree.district_a.pk}"' in html


def test_modify_link_starts_the_form_with_the_rule(client: Any, tree: Tree, admin: Any) -> None:
    rule = make_rule(tree.branch_a, "branch_assembly", period="half_year", min_count=2)
    client.force_login(admin)
    html = client.get(f"{reverse('study:cadence_rule_set')}?rule={rule.pk}").content.decode()
    assert f'name="organization" value="{tree.branch_a.pk}"' in html
    assert '<option value="branch" selected>党支部</option>' in html
    assert '<option value="branch_assembly" selected>' in html
    assert '<option value="half_year" selected>每半年</option>' in html
    assert 'value="2"' in html


# --- deleting a rule ----------------------------------------------------------------------------


def test_delete_removes_the_rule_and_says_what_applies_now(client: Any, tree: Tree, admin: Any) -> None:
    rule = make_rule(tree.branch_a, "theme_day")
    client.force_login(admin)
    response = client.post(reverse("study:cadence_rule_delete", args=[rule.pk]), follow=True)
    assert not CadenceRule.objects.exists()
    assert "已删除甲一支部关于党支部“主题党日”的频次规定，改按上级规定或默认要求" in response.content.decode()


def test_delete_asks_to_confirm_and_needs_a_post(client: Any, tree: Tree, admin: Any) -> None:
    rule = make_rule(tree.branch_a, "theme_day")
    client.force_login(admin)
    html = client.get(reverse("study:cadence_rules")).content.decode()
    assert 'data-confirm="确定删除甲一支部关于党支部“主题党日”的频次规定吗？' in html
    assert client.get(reverse("study:cadence_rule_delete", args=[rule.pk])).status_code == 405
    assert CadenceRule.objects.exists()


def test_rule_set_above_cannot_be_deleted_from_below(client: Any, tree: Tree, admin: Any) -> None:
    rule = make_rule(tree.root)
    client.force_login(admin)
    assert client.post(reverse("study:cadence_rule_delete", args=[rule.pk])).status_code == 404
    assert CadenceRule.objects.exists()

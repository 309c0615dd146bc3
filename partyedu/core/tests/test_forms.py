"""OrganizationChoiceField and its picker widget: the scoped queryset is the only thing that
validates, the widget never lists it, and typed text resolves without JavaScript."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django import forms

from partyedu.core.types import BaseViewer
from partyedu.organizations.choices import MEMBER_LEVELS
from partyedu.organizations.picker import OrganizationChoiceField, OrganizationPicker
from partyedu.testsupport.factories import Tree, make_org, make_user

pytestmark = pytest.mark.django_db


class PickForm(forms.Form):
    org = OrganizationChoiceField(label="组织", queryset=None)

    def __init__(self, *args: Any, user: BaseViewer, levels: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["org"]).restrict_to(
            user=user, action="add", app_label="members", levels=levels
        )


@pytest.fixture
def district_admin(tree: Tree) -> Any:
    return make_user(role="org_admin", org=tree.district_a)


def test_the_default_widget_is_the_picker() -> None:
    assert isinstance(OrganizationChoiceField(queryset=None).widget, OrganizationPicker)


def test_a_picked_id_in_scope_is_accepted(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org": tree.branch_a.pk, "org__q": "随便什么"}, user=district_admin)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["org"] == tree.branch_a


def test_an_out_of_scope_id_is_rejected(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org": tree.branch_b.pk}, user=district_admin)
    assert not form.is_valid()
    assert "不在您的权限范围内" in form.errors["org"][0]
    # and the page does not learn the name of the organisation behind the id
    assert "乙一支部" not in str(form["org"])


def test_an_id_outside_the_levels_is_rejected(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org": tree.district_a.pk}, user=district_admin, levels=MEMBER_LEVELS)
    assert not form.is_valid()


def test_a_code_resolves_without_javascript_in_any_case(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org": "", "org__q": f" {tree.group_a.code.lower()} "}, user=district_admin)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["org"] == tree.group_a


def test_an_exact_name_resolves_without_javascript(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org__q": "甲一支部"}, user=district_admin)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["org"] == tree.branch_a


def test_a_partial_name_is_a_chinese_error(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org__q": "甲一"}, user=district_admin)
    assert not form.is_valid()
    assert form.errors["org"] == ["未找到“甲一”，请输入完整的组织名称或组织代码，或从下拉建议中选择"]
    assert 'value="甲一"' in str(form["org"])  # the text stays in the box


def test_an_out_of_scope_name_or_code_is_not_found(tree: Tree, district_admin: Any) -> None:
    for text in ("乙一支部", tree.branch_b.code):
        form = PickForm({"org__q": text}, user=district_admin)
        assert not form.is_valid()
        assert "未找到" in form.errors["org"][0]


def test_two_organisations_with_the_name_ask_for_the_code(tree: Tree, district_admin: Any) -> None:
    make_org(tree.district_a, "甲一支部")
    form = PickForm({"org__q": "甲一支部"}, user=district_admin)
    assert not form.is_valid()
    assert "有多个名为“甲一支部”的组织" in form.errors["org"][0]
    form = PickForm({"org__q": tree.branch_a.code}, user=district_admin)
    assert form.is_valid() and form.cleaned_data["org"] == tree.branch_a


def test_empty_is_required_or_none(tree: Tree, district_admin: Any) -> None:
    assert "org" in PickForm({"org": "", "org__q": "  "}, user=district_admin).errors
    form = PickForm({}, user=district_admin)
    form.fields["org"].required = False
    assert form.is_valid() and form.cleaned_data["org"] is None


def test_the_widget_renders_without_listing_the_queryset(
    tree: Tree, district_admin: Any, django_assert_num_queries: Any
) -> None:
    for i in range(30):
        make_org(tree.branch_a, f"很多小组{i:02d}", "group")
    form = PickForm(user=district_admin, initial={"org": tree.group_a.pk})
    with django_assert_num_queries(1):  # the selected organisation's name
        html = str(form["org"])
    assert "很多小组" not in html and "<option" not in html
    assert 'type="hidden" name="org"' in html and f'value="{tree.group_a.pk}"' in html
    assert 'name="org__q" value="甲一第一党小组"' in html
    assert "/organizations/picker/?action=add&amp;app_label=members" in html
    assert 'hx-trigger="input changed delay:300ms, focus"' in html
    assert 'id="id_org"' in html and 'role="combobox"' in html


def test_a_validated_form_renders_without_another_query(
    tree: Tree, district_admin: Any, django_assert_num_queries: Any
) -> None:
    form = PickForm({"org": tree.branch_a.pk}, user=district_admin)
    assert form.is_valid()
    with django_assert_num_queries(0):
        html = str(form["org"])
    assert 'value="甲一支部"' in html


def test_the_levels_go_to_the_picker_url(tree: Tree, district_admin: Any) -> None:
    html = str(PickForm(user=district_admin, levels=MEMBER_LEVELS)["org"])
    assert "levels=branch%2Cgroup" in html


def test_a_malformed_id_is_an_error_not_a_crash(tree: Tree, district_admin: Any) -> None:
    form = PickForm({"org": "abc", "org__q": "甲一支部"}, user=district_admin)
    assert not form.is_valid()
    html = str(form["org"])
    assert 'type="hidden" name="org" value=""' in html

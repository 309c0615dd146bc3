"""Cadence rules are policy of the organisation departments: a branch never sets its own."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from partyedu.study.models import CadenceRule
from partyedu.study.services import cadence_rule_delete, cadence_rule_set
from partyedu.testsupport.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_branch_secretary_cannot_lift_their_own_branchs_requirement(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied, match="组织部门"):
        cadence_rule_set(
            actor=secretary,
            organization=tree.branch_a,
            activity_type="theme_day",
            period="month",
            min_count=0,
        )
    assert not CadenceRule.objects.exists()


def test_an_org_admin_sets_a_rule_for_a_branch_below(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    rule = cadence_rule_set(
        actor=admin, organization=tree.branch_a, activity_type="party_lecture", period="half_year"
    )
    assert (rule.applies_to, rule.period, rule.min_count) == ("branch", "half_year", 1)


def test_a_branch_secretary_cannot_delete_a_rule(tree):
    rule = cadence_rule_set(
        actor=None, organization=tree.branch_a, activity_type="theme_day", period="quarter"
    )
    with pytest.raises(PermissionDenied):
        cadence_rule_delete(actor=make_user(role="branch_admin", org=tree.branch_a), rule=rule)


def test_the_rule_form_is_403_for_a_branch_secretary(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get("/study/cadence/rules/set/").status_code == 403


def test_the_rules_page_offers_no_set_button_to_a_branch_secretary(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.get("/study/cadence/rules/")
    assert response.status_code == 200
    assert "/study/cadence/rules/set/" not in response.content.decode()

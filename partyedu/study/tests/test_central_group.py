"""The standing 中心组 list of a 党委/党组/党工委 (DOMAIN_RULES 组织生活 中心组学习, seed 001): its
services and scope, its pages, and the roster part of the record page that shows each type's
default roster (issue "Rosters by meeting type")."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from partyedu.core.models import AuditLog
from partyedu.core.testing import PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.members.models import Member
from partyedu.study.models import Activity, Attendance, CentralGroupMembership
from partyedu.study.services import central_group_add, central_group_remove, central_group_update
from partyedu.testsupport.factories import Tree, make_member, make_org, make_user

pytestmark = pytest.mark.django_db


def names(activity: Activity, invitee: bool = False) -> set[str]:
    return set(
        Attendance.objects.filter(activity=activity, is_invitee=invitee).values_list(
            "member__name", flat=True
        )
    )


def listed(org: Any) -> dict[str, str]:
    return dict(CentralGroupMembership.objects.filter(organization=org).values_list("member__name", "role"))


# --- services -------------------------------------------------------------------------------------


def test_members_anywhere_in_the_committees_subtree_can_be_listed(tree, admin):
    """DOMAIN_RULES 中心组学习: members may belong to any branch below the 党委; seed 001."""
    deep = make_member(tree.group_a, "小组里的领导")
    central_group_add(
        actor=admin, organization=tree.district_a, members=[deep.pk], role="deputy", note="副书记"
    )
    assert listed(tree.district_a) == {"小组里的领导": "deputy"}


def test_adding_a_member_again_changes_nothing(tree, admin):
    """DOMAIN_RULES 中心组学习: one place per member on a list; seed 001."""
    head = make_member(tree.branch_a, "书记")
    central_group_add(actor=admin, organization=tree.district_a, members=[head.pk], role="leader")
    again = central_group_add(actor=admin, organization=tree.district_a, members=[head.pk], role="member")
    assert again == []
    assert listed(tree.district_a) == {"书记": "leader"}


def test_member_outside_the_committees_subtree_is_refused(tree):
    """DOMAIN_RULES 中心组学习: the list holds the 党委's own members only; seed 001."""
    stranger = make_member(tree.branch_b, "乙区党员")
    with pytest.raises(ValidationError) as exc:
        central_group_add(actor=None, organization=tree.district_a, members=[stranger.pk])
    assert "不在甲区委及其下级组织中" in exc.value.message_dict["members"][0]
    assert not CentralGroupMembership.objects.exists()


def test_member_outside_the_actors_scope_is_refused_by_id_only(tree, admin):
    """DOMAIN_RULES 中心组学习: an actor lists only members they may see; a name outside scope is
    never revealed; STYLE scope."""
    stranger = make_member(tree.branch_b, "乙区党员")
    with pytest.raises(ValidationError) as exc:
        central_group_add(actor=admin, organization=tree.district_a, members=[stranger.pk])
    message = exc.value.message_dict["members"][0]
    assert f"ID {stranger.pk}" in message
    assert "乙区党员" not in message


def test_a_list_of_an_organisation_outside_scope_is_denied(tree, admin):
    """DOMAIN_RULES 中心组学习: only the 党委's own managers keep its list; STYLE scope."""
    with pytest.raises(PermissionDenied):
        central_group_add(actor=admin, organization=tree.district_b, members=[])


def test_a_branch_keeps_no_central_group(tree, admin):
    """DOMAIN_RULES 中心组学习: 中心组 belong to 党委, 党组 and 党工委; seed 001."""
    member = make_member(tree.branch_a, "张三")
    with pytest.raises(ValidationError) as exc:
        central_group_add(actor=admin, organization=tree.branch_a, members=[member.pk])
    assert "organization" in exc.value.message_dict


def test_a_branch_secretary_cannot_change_the_district_list(tree, secretary):
    """DOMAIN_RULES 中心组学习: a branch secretary's scope stops at the branch; STYLE scope."""
    member = make_member(tree.branch_a, "张三")
    with pytest.raises(PermissionDenied):
        central_group_add(actor=secretary, organization=tree.district_a, members=[member.pk])


def test_role_date_and_note_change_with_an_audit_row(tree, admin):
    """DOMAIN_RULES 中心组学习: changes to the list are audited; 等保 8.1.4.3."""
    member = make_member(tree.branch_a, "张三")
    [row] = central_group_add(actor=admin, organization=tree.district_a, members=[member.pk])
    central_group_update(actor=admin, membership=row, data={"role": "deputy", "note": "区长"})
    row.refresh_from_db()
    assert (row.role, row.note) == ("deputy", "区长")
    audit = AuditLog.objects.filter(object_type="study.centralgroupmembership").latest("pk")
    assert audit.changes["role"] == ["member", "deputy"]


def test_an_unknown_role_is_refused(tree, admin):
    """DOMAIN_RULES 中心组学习: roles are 组长, 副组长, 成员, 列席; seed 001."""
    member = make_member(tree.branch_a, "张三")
    with pytest.raises(ValidationError) as exc:
        central_group_add(actor=admin, organization=tree.district_a, members=[member.pk], role="boss")
    assert "role" in exc.value.message_dict


def test_removing_a_member_keeps_activities_already_recorded(tree, admin):
    """DOMAIN_RULES 中心组学习: the list is a default; a recorded roster stays; seed 001."""
    from .conftest import record

    member = make_member(tree.branch_a, "张三")
    [row] = central_group_add(actor=admin, organization=tree.district_a, members=[member.pk])
    activity = record(tree.district_a, "central_group_study")
    central_group_remove(actor=admin, membership=row)
    assert not CentralGroupMembership.objects.exists()
    assert names(activity) == {"张三"}
    assert AuditLog.objects.filter(object_type="study.centralgroupmembership", action="delete").exists()


# --- permission tests of the pages ------------------------------------------------------------------


def committee_of(org: Any) -> Any:
    """The 党委 above a branch of the scope tree (甲区委 for 甲一支部)."""
    return org.parent


class TestCentralGroupIndexScope(ScopedEndpointTests):
    url_name = "study:central_group_index"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return committee_of(org)

    def url(self, obj: Any) -> str:
        return reverse("study:central_group_index")

    def marker(self, obj: Any) -> str:
        return reverse("study:central_group_detail", args=[obj.pk])


class CentralGroupPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return committee_of(org)

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestCentralGroupDetailScope(CentralGroupPage):
    url_name = "study:central_group_detail"


class TestCentralGroupAddScope(CentralGroupPage):
    url_name = "study:central_group_add"


class MembershipPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> CentralGroupMembership:
        member = make_member(org, "中心组成员")
        [row] = central_group_add(actor=None, organization=committee_of(org), members=[member.pk])
        return row

    def url(self, obj: CentralGroupMembership) -> str:
        return reverse(self.url_name, args=[obj.organization_id, obj.pk])


class TestCentralGroupEditScope(MembershipPage):
    url_name = "study:central_group_edit"


class TestCentralGroupRemoveScope(PostRedirectEndpointTests, MembershipPage):
    url_name = "study:central_group_remove"


class TestRosterPreviewScope(ScopedEndpointTests):
    url_name = "study:activity_roster_preview"

    def make_object(self, org: Any) -> Any:
        make_member(org, "支部党员")
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('study:activity_roster_preview')}?organization={obj.pk}&activity_type=theme_day"


# --- the pages -----------------------------------------------------------------------------------------


def test_list_page_shows_members_by_role(client, tree, admin):
    """DOMAIN_RULES 中心组学习: 组长 first, then 副组长, 成员, 列席; seed 001."""
    people = [make_member(tree.branch_a, name) for name in ("成员甲", "列席乙", "组长丙")]
    central_group_add(actor=None, organization=tree.district_a, members=[people[0]], role="member")
    central_group_add(actor=None, organization=tree.district_a, members=[people[1]], role="attendee")
    central_group_add(actor=None, organization=tree.district_a, members=[people[2]], role="leader")
    client.force_login(admin)
    html = client.get(reverse("study:central_group_detail", args=[tree.district_a.pk])).content.decode()
    assert html.index("组长丙") < html.index("成员甲") < html.index("列席乙")


def test_empty_list_page_says_the_list_is_not_set(client, tree, admin):
    """DOMAIN_RULES 中心组学习: without a list the default is the party members, said so; seed 001."""
    client.force_login(admin)
    html = client.get(reverse("study:central_group_detail", args=[tree.district_a.pk])).content.decode()
    assert "中心组成员名单未设置" in html


def test_list_page_query_count_does_not_grow_with_the_list(
    client, tree, admin, django_assert_max_num_queries
):
    """STYLE: list pages pin their query count (no N+1)."""
    members = [make_member(tree.branch_a, f"成员{n}") for n in range(12)]
    central_group_add(actor=None, organization=tree.district_a, members=[m.pk for m in members])
    client.force_login(admin)
    url = reverse("study:central_group_detail", args=[tree.district_a.pk])
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_index_page_query_count_does_not_grow_with_the_organisations(
    client, tree, admin, django_assert_max_num_queries
):
    """STYLE: list pages pin their query count (no N+1)."""
    for n in range(8):
        committee = make_org(tree.district_a, f"甲区直属党委{n}", "committee")
        member = make_member(make_org(committee, f"直属党委{n}机关支部"), f"党员{n}")
        central_group_add(actor=None, organization=committee, members=[member.pk])
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("study:central_group_index"))
    assert response.status_code == 200
    assert "甲区直属党委7" in response.content.decode()


def test_add_page_puts_ticked_members_on_the_list(client, tree, admin):
    """DOMAIN_RULES 中心组学习: a member picker within the 党委's subtree; seed 001."""
    member = make_member(tree.branch_a, "张三")
    client.force_login(admin)
    url = reverse("study:central_group_add", args=[tree.district_a.pk])
    assert "张三" in client.get(url).content.decode()
    response = client.post(url, {"members": [member.pk], "role": "leader", "note": "区委书记"})
    assert response.status_code == 302
    assert listed(tree.district_a) == {"张三": "leader"}


def test_add_page_refuses_a_member_of_another_committee_on_the_form(client, tree):
    """DOMAIN_RULES 中心组学习: a member outside the 党委 is refused, nothing written; seed 001."""
    city_admin = make_user("city_admin_cg", role="org_admin", org=tree.root)
    make_member(tree.branch_b, "乙区党员")
    client.force_login(city_admin)
    url = reverse("study:central_group_add", args=[tree.district_a.pk])
    response = client.post(url, {"names": "乙区党员", "role": "member"})
    assert response.status_code == 200
    assert "不在甲区委及其下级组织中" in response.content.decode()
    assert not CentralGroupMembership.objects.exists()


def test_remove_button_takes_a_member_off_the_list(client, tree, admin):
    """DOMAIN_RULES 中心组学习: removal is a confirmed POST, audited; seed 001."""
    member = make_member(tree.branch_a, "张三")
    [row] = central_group_add(actor=None, organization=tree.district_a, members=[member.pk])
    client.force_login(admin)
    response = client.post(reverse("study:central_group_remove", args=[tree.district_a.pk, row.pk]))
    assert response.status_code == 302
    assert not CentralGroupMembership.objects.exists()


def test_removing_needs_a_post(client, tree, admin):
    """STYLE: a state change is never a GET."""
    member = make_member(tree.branch_a, "张三")
    [row] = central_group_add(actor=None, organization=tree.district_a, members=[member.pk])
    client.force_login(admin)
    assert (
        client.get(reverse("study:central_group_remove", args=[tree.district_a.pk, row.pk])).status_code
        == 405
    )


# --- the roster part of the record page ---------------------------------------------------------------


def form_data(org: Any, **extra: Any) -> dict[str, Any]:
    data = {
        "activity_type": "theme_day",
        "topic": "学习党章",
        "date": "2025-03-07",
        "start_time": "14:30",
        "end_time": "16:30",
        "organization": org.pk,
    }
    data.update(extra)
    return data


@pytest.fixture
def branch_people(tree: Tree) -> dict[str, Member]:
    return {
        "secretary": make_member(tree.branch_a, "书记甲", categories=["secretary"]),
        "committee": make_member(tree.branch_a, "委员乙", categories=["committee"]),
        "full": make_member(tree.branch_a, "党员丙"),
        "activist": make_member(tree.branch_a, "积极分子丁", status="activist"),
    }


def preview(client: Any, org: Any, activity_type: str) -> str:
    url = reverse("study:activity_roster_preview")
    response = client.get(url, {"organization": org.pk, "activity_type": activity_type})
    assert response.status_code == 200
    return response.content.decode()


def test_the_form_says_where_the_default_roster_came_from(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 支委会: the form shows "默认名单：支委会成员 2 人"; 支部条例 第十二条."""
    client.force_login(secretary)
    assert "默认名单：支委会成员 2 人" in preview(client, tree.branch_a, "branch_committee")


def test_activists_are_pre_ticked_for_a_theme_day(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 主题党日: activists offered as 列席, ticked; 条例 第十六条."""
    client.force_login(secretary)
    html = preview(client, tree.branch_a, "theme_day")
    assert "默认名单：正式党员和预备党员 3 人" in html
    assert (
        f'value="{branch_people["activist"].pk}" id="suggested-{branch_people["activist"].pk}" checked'
        in html
    )


def test_activists_are_offered_unticked_for_an_assembly(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 支部党员大会: activists sit in without voting, unticked; 支部条例 第十一条."""
    client.force_login(secretary)
    html = preview(client, tree.branch_a, "branch_assembly")
    assert "积极分子丁" in html
    assert f'id="suggested-{branch_people["activist"].pk}" checked' not in html
    assert "不参加表决" in html


def test_the_record_page_shows_the_default_for_the_initial_type(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 主题党日: the page opens with the default of its type; 条例 第十六条."""
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    assert "默认名单：正式党员和预备党员 3 人" in html
    assert f'name="roster_key" value="theme_day:{tree.branch_a.pk}"' in html


def test_ticked_invitees_are_recorded_as_invitees(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 主题党日: ticked activists become 列席; 条例 第十六条."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a,
        roster_key=f"theme_day:{tree.branch_a.pk}",
        suggested_invitees=[branch_people["activist"].pk],
    )
    response = client.post(reverse("study:activity_create"), data)
    assert response.status_code == 302, response.content.decode()
    activity = Activity.objects.get()
    assert names(activity) == {"书记甲", "委员乙", "党员丙"}
    assert names(activity, invitee=True) == {"积极分子丁"}


def test_unticked_invitees_stay_away(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 支部党员大会: nothing ticked, no 列席; 支部条例 第十一条."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a, activity_type="branch_assembly", roster_key=f"branch_assembly:{tree.branch_a.pk}"
    )
    assert client.post(reverse("study:activity_create"), data).status_code == 302
    assert names(Activity.objects.get(), invitee=True) == set()


def test_a_changed_type_without_a_redrawn_roster_asks_to_check(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 支部党员大会: the secretary decides on the 列席 of the new type (unticked
    at an assembly) before saving; 支部条例 第十一条."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a,
        activity_type="branch_assembly",
        roster_key=f"theme_day:{tree.branch_a.pk}",
        suggested_invitees=[branch_people["activist"].pk],
    )
    response = client.post(reverse("study:activity_create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "默认名单随之改变" in html
    assert f'name="roster_key" value="branch_assembly:{tree.branch_a.pk}"' in html
    assert f'id="suggested-{branch_people["activist"].pk}" checked' not in html
    assert not Activity.objects.exists()


def test_a_changed_type_that_offers_no_invitees_saves_its_default(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活 支委会: nothing to decide — the committee is recorded, the ticks made
    for the earlier type are dropped; 支部条例 第十二条."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a,
        activity_type="branch_committee",
        roster_key=f"theme_day:{tree.branch_a.pk}",
        suggested_invitees=[branch_people["activist"].pk],
    )
    assert client.post(reverse("study:activity_create"), data).status_code == 302
    activity = Activity.objects.get()
    assert names(activity) == {"书记甲", "委员乙"}
    assert names(activity, invitee=True) == set()


def test_typed_roster_wins_over_the_default_on_the_form(client, tree, secretary, branch_people):
    """DOMAIN_RULES 组织生活: the secretary's names replace the default; 支部条例."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a,
        activity_type="branch_committee",
        roster_key=f"branch_committee:{tree.branch_a.pk}",
        roster="党员丙",
    )
    assert client.post(reverse("study:activity_create"), data).status_code == 302
    assert names(Activity.objects.get()) == {"党员丙"}


def test_home_delivery_on_the_form_asks_for_the_member(client, tree, secretary, branch_people):
    """DOMAIN_RULES 学时 送学上门: no default roster, the secretary names the member; 条例 第二十三条."""
    client.force_login(secretary)
    data = form_data(
        tree.branch_a, activity_type="home_delivery", roster_key=f"home_delivery:{tree.branch_a.pk}"
    )
    response = client.post(reverse("study:activity_create"), data)
    assert response.status_code == 200
    assert "送学上门请在“应到人员”中填写" in response.content.decode()
    assert not Activity.objects.exists()


def test_unset_central_group_links_to_the_list(client, tree, admin, branch_people):
    """DOMAIN_RULES 中心组学习: the fallback says 中心组成员名单未设置 and where to set it; seed 001."""
    client.force_login(admin)
    html = preview(client, tree.district_a, "central_group_study")
    assert "中心组成员名单未设置" in html
    assert reverse("study:central_group_detail", args=[tree.district_a.pk]) in html


def test_many_offered_invitees_are_invited_all_or_none(client, tree, secretary, monkeypatch):
    """DOMAIN_RULES 组织生活 党课: beyond the pick limit one box invites them all; 支部条例."""
    from partyedu.study import selectors

    monkeypatch.setattr(selectors, "ROSTER_PICK_LIMIT", 1)
    make_member(tree.branch_a, "党员甲")
    make_member(tree.branch_a, "积极分子一", status="activist")
    make_member(tree.branch_a, "积极分子二", status="activist")
    client.force_login(secretary)
    html = preview(client, tree.branch_a, "party_lecture")
    assert 'name="invite_suggested" value="on" id="invite-suggested" checked' in html
    data = form_data(
        tree.branch_a,
        activity_type="party_lecture",
        roster_key=f"party_lecture:{tree.branch_a.pk}",
        invite_suggested="on",
    )
    assert client.post(reverse("study:activity_create"), data).status_code == 302
    assert names(Activity.objects.get(), invitee=True) == {"积极分子一", "积极分子二"}

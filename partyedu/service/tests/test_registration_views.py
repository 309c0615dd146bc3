"""Pages of 双报到 and volunteer service: a permission class per URL (no role 403, role at the
organisation 200, a sibling 404 or absent; a member's own pages reached by the member alone), the
flows on a phone (registering, recording a service, signing up), the community side's
confirmation, and pinned query counts on the lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.core.todo import todos_for
from partyedu.service.models import Agreement, Registration, ServiceRecord
from partyedu.service.services import registration as services
from partyedu.study.models import Attendance
from partyedu.testsupport.factories import make_member, make_user

from .test_registration_factories import TODAY, make_units, member_user, record, register, volunteer

pytestmark = pytest.mark.django_db


def agreement_at(org: Any) -> Agreement:
    found = services.agreement_create(
        actor=None, organization=org, data={"community_name": f"{org.name}共建社区", "signed_on": TODAY}
    )
    services.agreement_item_save(actor=None, agreement=found, data={"kind": "project", "title": "科普进社区"})
    return found


def registration_at(org: Any) -> Registration:
    member = make_member(org, "报到党员", categories=["employed"])
    return services.registration_create(
        actor=None, member=member, community_name=f"{org.name}居住社区", post="宣传员"
    )


def record_at(org: Any) -> ServiceRecord:
    member = make_member(org, "服务党员", categories=["employed"])
    return record(member, description=f"{org.name}的服务")


# --- a member's own pages ----------------------------------------------------------------------------


class MemberPage(OwnedEndpointTests):
    role = "member"
    kind = "list"

    def owner(self, obj: Any) -> Any:
        return obj.member.user

    def stranger(self, scope_tree: Any) -> Any:
        user, _member = member_user(scope_tree.branch_b, "乙区党员")
        return user


class TestMyService(MemberPage):
    url_name = "service:my_service"
    marker_attr = "description"

    def make_object(self, org: Any) -> Any:
        _user, member = member_user(org, "张伟")
        return record(member, description="协助社区开展疫苗接种登记")

    def url(self, obj: Any) -> str:
        return "/service/my/"


class TestMyRegistration(MemberPage):
    url_name = "service:my_registration"
    marker_attr = "community_name"

    def make_object(self, org: Any) -> Any:
        _user, member = member_user(org, "张伟")
        return services.registration_create(
            actor=None, member=member, community_name="文化东路社区", post="宣传员"
        )

    def url(self, obj: Any) -> str:
        return "/service/my/registration/"


class TestMyRecordCreate(TestMyRegistration):
    url_name = "service:my_record_create"

    def url(self, obj: Any) -> str:
        return "/service/my/records/new/"


class TestMyRecordDelete(PostEndpointTests, OwnedEndpointTests):
    url_name = "service:my_record_delete"
    role = "member"

    def make_object(self, org: Any) -> Any:
        _user, member = member_user(org, "张伟")
        return record(member)

    def owner(self, obj: Any) -> Any:
        return obj.member.user

    def stranger(self, scope_tree: Any) -> Any:
        user, _member = member_user(scope_tree.branch_b, "乙区党员")
        return user

    def action_url(self, obj: Any) -> str:
        return f"/service/my/records/{obj.pk}/delete/"


class VolunteerMemberPage(MemberPage):
    def make_object(self, org: Any) -> Any:
        found: Any = volunteer(org, topic=f"{org.name}政策宣传", capacity=5)
        _user, found.member = member_user(org, "张伟")
        return found

    def marker(self, obj: Any) -> str:
        return str(obj.activity.topic)


class TestMyVolunteer(VolunteerMemberPage):
    url_name = "service:my_volunteer"

    def url(self, obj: Any) -> str:
        return "/service/my/volunteer/"


class VolunteerPost(PostEndpointTests, VolunteerMemberPage):
    kind = "detail"

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Any) -> None:
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(self.stranger(scope_tree))
        assert self._post(client, self.url(obj)).status_code == 404


class TestVolunteerSignup(VolunteerPost):
    url_name = "service:volunteer_signup"

    def action_url(self, obj: Any) -> str:
        return f"/service/volunteer/{obj.pk}/signup/"


class TestVolunteerWithdraw(VolunteerPost):
    url_name = "service:volunteer_withdraw"

    def action_url(self, obj: Any) -> str:
        return f"/service/volunteer/{obj.pk}/withdraw/"


# --- the unit, the community side, the organisation department -------------------------------------


class TestAgreementList(ScopedEndpointTests):
    url_name = "service:agreement_list"
    kind = "list"
    marker_attr = "community_name"

    def make_object(self, org: Any) -> Any:
        return agreement_at(org)

    def url(self, obj: Any) -> str:
        return "/service/agreements/"


class TestAgreementCreate(ScopedEndpointTests):
    url_name = "service:agreement_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return "/service/agreements/new/"


class TestAgreementDetail(ScopedEndpointTests):
    url_name = "service:agreement_detail"

    def make_object(self, org: Any) -> Any:
        return agreement_at(org)

    def url(self, obj: Any) -> str:
        return f"/service/agreements/{obj.pk}/"


class TestAgreementEdit(TestAgreementDetail):
    url_name = "service:agreement_edit"

    def url(self, obj: Any) -> str:
        return f"/service/agreements/{obj.pk}/edit/"


class TestAgreementItemCreate(TestAgreementDetail):
    url_name = "service:agreement_item_create"

    def url(self, obj: Any) -> str:
        return f"/service/agreements/{obj.pk}/items/new/?kind=need"


class TestAgreementItemEdit(TestAgreementDetail):
    url_name = "service:agreement_item_edit"

    def url(self, obj: Any) -> str:
        return f"/service/agreements/items/{obj.items.get().pk}/edit/"


class TestRegistrationList(ScopedEndpointTests):
    url_name = "service:registration_list"
    kind = "list"
    marker_attr = "community_name"

    def make_object(self, org: Any) -> Any:
        return registration_at(org)

    def url(self, obj: Any) -> str:
        return "/service/registrations/"


class TestRegistrationCreate(ScopedEndpointTests):
    url_name = "service:registration_create"
    role = "branch_admin"

    def make_object(self, org: Any) -> Any:
        return make_member(org, "待报到党员", categories=["employed"])

    def url(self, obj: Any) -> str:
        return f"/service/registrations/new/?member={obj.pk}"


class TestRegistrationEnd(PostEndpointTests):
    url_name = "service:registration_end"

    def make_object(self, org: Any) -> Any:
        return registration_at(org)

    def action_url(self, obj: Any) -> str:
        return f"/service/registrations/{obj.pk}/end/"


class TestRecordList(ScopedEndpointTests):
    url_name = "service:record_list"
    kind = "list"
    marker_attr = "description"

    def make_object(self, org: Any) -> Any:
        return record_at(org)

    def url(self, obj: Any) -> str:
        return "/service/records/"


class TestRecordConfirm(PostEndpointTests):
    url_name = "service:record_confirm"
    role = "branch_admin"

    def make_object(self, org: Any) -> Any:
        return record_at(org)

    def action_url(self, obj: Any) -> str:
        return f"/service/records/{obj.pk}/confirm/"


class TestRecordReject(ScopedEndpointTests):
    url_name = "service:record_reject"

    def make_object(self, org: Any) -> Any:
        return record_at(org)

    def url(self, obj: Any) -> str:
        return f"/service/records/{obj.pk}/reject/"


class CoveragePage(ScopedEndpointTests):
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return org

    def marker(self, obj: Any) -> str:
        return f"· {obj.name}"


class TestCoverage(CoveragePage):
    url_name = "service:coverage"

    def url(self, obj: Any) -> str:
        return f"/service/coverage/?organization={obj.pk}"


class TestCoverageMembers(CoveragePage):
    url_name = "service:coverage_members"

    def url(self, obj: Any) -> str:
        return f"/service/coverage/members/?organization={obj.pk}&state=unregistered"


class TestCoverageExport(ScopedEndpointTests):
    url_name = "service:coverage_export"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"/service/coverage/export/?organization={obj.pk}"


class TestVolunteerList(ScopedEndpointTests):
    url_name = "service:volunteer_list"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return volunteer(org, topic=f"{org.name}环境整治")

    def marker(self, obj: Any) -> str:
        return str(obj.activity.topic)

    def url(self, obj: Any) -> str:
        return "/service/volunteer/"


class TestVolunteerCreate(ScopedEndpointTests):
    url_name = "service:volunteer_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return "/service/volunteer/new/"


class TestVolunteerDetail(ScopedEndpointTests):
    url_name = "service:volunteer_detail"

    def make_object(self, org: Any) -> Any:
        return volunteer(org)

    def url(self, obj: Any) -> str:
        return f"/service/volunteer/{obj.pk}/"


# --- flows --------------------------------------------------------------------------------------------


def test_a_member_registers_and_records_a_service_on_the_phone(client, tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    client.force_login(user)
    page = client.get(reverse("service:my_registration"))
    assert page.status_code == 200 and 'data-testid="registration-form"' in page.content.decode()
    response = client.post(
        reverse("service:my_registration"), {"community": units.community.pk, "post": "楼栋联络员"}
    )
    assert response.status_code == 302
    assert Registration.objects.get(member=member).community == units.community
    response = client.post(
        reverse("service:my_record_create"),
        {"date": TODAY.isoformat(), "hours": "2", "kind": "policy", "description": "政策宣传"},
    )
    assert response.status_code == 302
    saved = ServiceRecord.objects.get(member=member)
    assert saved.registration is not None and saved.status == "pending"
    body = client.get(reverse("service:my_service")).content.decode()
    assert "政策宣传" in body and "待社区确认" in body


def test_a_retiree_sees_why_they_cannot_register(client, tree):
    units = make_units(tree)
    user, _member = member_user(units.bureau, "李老", categories=["retired"])
    client.force_login(user)
    body = client.get(reverse("service:my_registration")).content.decode()
    assert 'data-testid="not-in-service"' in body and "离退休" in body


def test_a_record_over_24_hours_a_day_shows_the_message_on_hours(client, tree):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    record(member, "20", days_ago=0)
    client.force_login(user)
    response = client.post(
        reverse("service:my_record_create"), {"date": TODAY.isoformat(), "hours": "5", "kind": "policy"}
    )
    assert response.status_code == 200
    assert "超过每天24小时" in response.content.decode()
    assert ServiceRecord.objects.filter(member=member).count() == 1


def test_the_community_confirms_from_its_list_and_sees_it_on_the_workbench(client, tree):
    units = make_units(tree)
    _user, member = member_user(units.bureau, "张伟")
    registration = register(member, units.community, registered_on=TODAY - timedelta(days=5))
    done = record(member, registration=registration.pk, description="协助疫苗接种")
    community = make_user(role="branch_admin", org=units.community)
    assert [item.key for item in todos_for(user=community) if item.key.startswith("service.")] == [
        "service.records_to_confirm"
    ]
    client.force_login(community)
    assert "协助疫苗接种" in client.get(reverse("service:record_list")).content.decode()
    client.post(reverse("service:record_confirm", args=[done.pk]))
    done.refresh_from_db()
    assert done.status == "confirmed"
    assert not [item for item in todos_for(user=community) if item.key.startswith("service.")]


def test_a_member_signs_up_on_the_phone(client, tree):
    units = make_units(tree)
    found = volunteer(units.bureau, capacity=3)
    user, member = member_user(units.bureau, "张伟")
    client.force_login(user)
    assert 'data-testid="signup"' in client.get(reverse("service:my_volunteer")).content.decode()
    client.post(reverse("service:volunteer_signup", args=[found.pk]))
    assert Attendance.objects.filter(activity=found.activity, member=member).exists()
    assert 'data-testid="withdraw"' in client.get(reverse("service:my_volunteer")).content.decode()


def test_a_secretary_creates_a_volunteer_activity(client, tree):
    units = make_units(tree)
    admin = make_user(role="branch_admin", org=units.bureau)
    client.force_login(admin)
    day = TODAY + timedelta(days=3)
    response = client.post(
        reverse("service:volunteer_create"),
        {
            "organization": units.bureau.pk,
            "topic": "扶老助困上门服务",
            "kind": "elderly",
            "date": day.isoformat(),
            "start_time": "09:00",
            "end_time": "11:30",
            "capacity": "10",
            "open_to_subtree": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    detail = client.get(response["Location"]).content.decode()
    assert "扶老助困上门服务" in detail and "2.5" in detail


# --- query counts -------------------------------------------------------------------------------------

# A page's own queries (the list, its count, the tabs' figures) on top of the session, the user,
# the roles and the menu: constant whatever the number of rows.
LIST_QUERIES = 14


@pytest.mark.parametrize(
    "name",
    ["service:agreement_list", "service:registration_list", "service:record_list", "service:volunteer_list"],
)
def test_list_pages_take_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries, name):
    units = make_units(tree)
    for i in range(6):
        agreement_at(units.bureau)
        registration_at(units.bureau)
        record_at(units.bureau)
        volunteer(units.bureau, topic=f"活动{i}")
    admin = make_user(role="org_admin", org=tree.root)
    client.force_login(admin)
    client.get(reverse(name))  # warm the caches of the first request
    for query in ("", "?show=members", "?show=unregistered", "?show=community"):
        with django_assert_max_num_queries(LIST_QUERIES):
            assert client.get(reverse(name) + query).status_code == 200


def test_my_service_takes_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    units = make_units(tree)
    user, member = member_user(units.bureau, "张伟")
    register(member, units.community)
    for days_ago in range(1, 9):
        record(member, "1", days_ago=days_ago)
    client.force_login(user)
    client.get(reverse("service:my_service"))
    with django_assert_max_num_queries(16):
        assert client.get(reverse("service:my_service")).status_code == 200


def test_coverage_pages_take_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    units = make_units(tree)
    for i in range(8):
        member = make_member(units.bureau, f"党员{i}", categories=["employed"])
        if i % 2:
            register(member, units.community)
    admin = make_user(role="org_admin", org=tree.root)
    client.force_login(admin)
    client.get(reverse("service:coverage"))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("service:coverage")).status_code == 200
    with django_assert_max_num_queries(20):
        response = client.get(reverse("service:coverage_members") + f"?organization={tree.root.pk}")
    assert response.content.decode().count('data-testid="member-row"') == 8


def test_the_service_home_page_links_the_area(client, tree):
    units = make_units(tree)
    user, _member = member_user(units.bureau, "张伟")
    client.force_login(user)
    body = client.get(reverse("service:index")).content.decode()
    assert reverse("service:my_service") in body and reverse("service:my_volunteer") in body
    assert reverse("service:coverage") not in body
    client.force_login(make_user(role="org_admin", org=tree.root))
    body = client.get(reverse("service:index")).content.decode()
    assert reverse("service:coverage") in body and reverse("service:agreement_list") in body

from decimal import Decimal

import pytest

from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.learning.models import OnlineResource
from partyedu.learning.services import learning_hours_record_manual, learning_members_changed
from partyedu.members.models import Member
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .factories import attend, make_activity


def hours_url(member, year=2026):
    return f"/api/v1/members/{member.pk}/learning-hours/?year={year}"


def summary_url(org, year=2026):
    return f"/api/v1/organizations/{org.pk}/learning-summary/?year={year}"


def make_resource(org, title="学习资源", published=True, **extra):
    from django.utils import timezone

    return OnlineResource.objects.create(
        organization=org,
        title=title,
        kind="article",
        body="正文",
        duration_seconds=600,
        is_published=published,
        published_at=timezone.now() if published else None,
        **extra,
    )


class TestMemberLearningHoursEndpoint(ScopedEndpointTests):
    url_name = "api:member-learning-hours"
    api = True

    def make_object(self, org):
        return make_member(org, "标记党员")

    def url(self, obj):
        return hours_url(obj)


class TestMemberLearningHoursEndpointForBranchAdmins(TestMemberLearningHoursEndpoint):
    role = "branch_admin"


class TestLearningSummaryEndpoint(ScopedEndpointTests):
    url_name = "api:organization-learning-summary"
    api = True

    def make_object(self, org):
        return org

    def url(self, obj):
        return summary_url(obj)


class ResourceListing:
    api = True

    def listed(self, response, obj):
        return obj.pk in {row["id"] for row in response.json()["results"]}


class TestResourceListEndpoint(ResourceListing, ScopedEndpointTests):
    url_name = "api:resource-list"
    kind = "list"

    def make_object(self, org):
        return make_resource(org, "标记资源")

    def url(self, obj):
        return "/api/v1/resources/"


class TestResourceDetailEndpoint(ScopedEndpointTests):
    url_name = "api:resource-detail"
    api = True

    def make_object(self, org):
        return make_resource(org, "标记资源")

    def url(self, obj):
        return f"/api/v1/resources/{obj.pk}/"


@pytest.fixture
def member_user(tree):
    user = make_user("dangyuan", role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "张三")
    Member.objects.filter(pk=member.pk).update(user=user)
    return user


@pytest.fixture
def zhang(member_user):
    return Member.objects.get(user=member_user)


# --- learning-hours ------------------------------------------------------------------------------


def test_member_hours_contract(tree, member_user, zhang):
    attend(make_activity(tree.branch_a, hours=2), zhang)
    learning_hours_record_manual(
        actor=None, member=zhang, year=2026, kind="self", hours=3, description="自学"
    )
    body = api_client(member_user).get(hours_url(zhang)).json()
    assert body["required"] == 32
    assert body["earned"] == 5
    assert body["counted"] == 2  # 自学 is shown apart by default
    assert body["missing"] == 30
    assert body["exempt"] is False
    assert body["by_kind"] == {"concentrated": 0, "collective": 2, "online": 0, "self": 3}
    first = body["entries"][0]
    assert {"hours", "kind", "source", "created_at"} <= set(first)
    assert first == {**first, "hours": 2.0, "kind": "collective", "source_type": "attendance"}
    assert first["source"] == "2026-03-15 主题党日：学习二十届三中全会精神（出席）"


def test_member_cannot_see_another_members_hours(tree, member_user):
    other = make_member(tree.branch_a, "李四")
    assert api_client(member_user).get(hours_url(other)).status_code == 404


def members_view_only() -> None:
    """A deployment's role that may read members and organisations but not learning hours."""
    from partyedu.accounts.models import Role

    Role.objects.filter(code="inspector").update(actions=["organizations.view", "members.view"])


def test_a_role_with_members_view_but_no_learning_scope_gets_404(tree):
    members_view_only()
    inspector = make_user(role="inspector", org=tree.root)
    member = make_member(tree.branch_a)
    assert api_client(inspector).get(hours_url(member)).status_code == 404


def test_bad_year_is_400(tree, member_user, zhang):
    response = api_client(member_user).get(f"/api/v1/members/{zhang.pk}/learning-hours/?year=abc")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    assert "year" in response.json()["errors"]


def test_year_defaults_to_this_year(tree, member_user, zhang):
    from django.utils import timezone

    body = api_client(member_user).get(f"/api/v1/members/{zhang.pk}/learning-hours/").json()
    assert body["year"] == timezone.localdate().year


def test_member_hours_query_count_is_pinned(tree, member_user, zhang, django_assert_max_num_queries):
    attend(make_activity(tree.branch_a), zhang)
    client = api_client(member_user)
    with django_assert_max_num_queries(6):  # token, grants, member, rule, ledger lines (+ slack)
        assert client.get(hours_url(zhang)).status_code == 200


# --- learning-summary ----------------------------------------------------------------------------


def test_summary_contract(tree):
    admin = make_user(role="org_admin", org=tree.root)
    done = make_member(tree.branch_a, "甲")
    make_member(tree.branch_b, "乙")
    make_member(tree.branch_b, "丙", is_exempt=True, exempt_reason="年老体弱")
    learning_hours_record_manual(
        actor=None, member=done, year=2026, kind="concentrated", hours=32, description="培训"
    )
    body = api_client(admin).get(summary_url(tree.root)).json()
    assert {
        k: body[k] for k in ("members", "required_members", "completed", "completion_rate", "exempt")
    } == {
        "members": 3,
        "required_members": 2,
        "completed": 1,
        "completion_rate": 0.5,
        "exempt": 1,
    }
    assert body["groups"]["general"] == {"members": 2, "completed": 1}


def test_summary_of_an_org_above_the_callers_scope_is_404(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    assert api_client(admin).get(summary_url(tree.root)).status_code == 404


def test_summary_needs_learning_scope_not_only_organizations_view(tree):
    members_view_only()
    inspector = make_user(role="inspector", org=tree.root)
    assert api_client(inspector).get(summary_url(tree.branch_a)).status_code == 404


def test_summary_query_count_is_pinned(tree, django_assert_max_num_queries):
    admin = make_user(role="org_admin", org=tree.root)
    for i in range(20):
        make_member(tree.branch_a, f"党员{i}")
    learning_members_changed(member_ids=Member.objects.values_list("pk", flat=True))
    client = api_client(admin)
    with django_assert_max_num_queries(5):  # token, grants, organisation, counts row, year row
        body = client.get(summary_url(tree.root)).json()
    assert body["members"] == 20


# --- resources ------------------------------------------------------------------------------------


def test_member_sees_resources_of_their_org_and_above_only(tree, member_user):
    mine = make_resource(tree.branch_a, "本支部")
    above = make_resource(tree.root, "市委")
    make_resource(tree.branch_b, "乙支部")
    make_resource(tree.branch_a, "草稿", published=False)
    rows = api_client(member_user).get("/api/v1/resources/").json()["results"]
    assert {r["id"] for r in rows} == {mine.pk, above.pk}
    assert rows[0]["progress"] is None


def test_heartbeat_contract(tree, member_user):
    resource = make_resource(tree.branch_a)
    client = api_client(member_user)
    url = f"/api/v1/resources/{resource.pk}/heartbeat/"
    assert client.post(url, {"start": 0, "end": 0}, format="json").status_code == 200
    body = client.post(url, {"start": 0, "end": 1}, format="json").json()
    assert set(body) == {
        "played_seconds",
        "duration_seconds",
        "percent",
        "completed",
        "completed_at",
        "credited_seconds",
        "daily_seconds",
        "daily_cap_seconds",
    }
    assert body["duration_seconds"] == 600
    assert body["completed"] is False
    assert body["daily_cap_seconds"] == 7200
    detail = client.get(f"/api/v1/resources/{resource.pk}/").json()
    assert detail["body"] == "正文"
    assert detail["progress"]["played_seconds"] == body["played_seconds"]


def test_heartbeat_validation(tree, member_user):
    resource = make_resource(tree.branch_a)
    client = api_client(member_user)
    url = f"/api/v1/resources/{resource.pk}/heartbeat/"
    response = client.post(url, {"start": 10, "end": 5}, format="json")
    assert response.status_code == 400
    assert "end" in response.json()["errors"]
    assert client.post(url, {"start": "x"}, format="json").status_code == 400


def test_heartbeat_on_a_resource_not_targeted_at_the_member_is_404(tree, member_user):
    resource = make_resource(tree.branch_b)
    url = f"/api/v1/resources/{resource.pk}/heartbeat/"
    assert api_client(member_user).post(url, {"start": 0, "end": 1}, format="json").status_code == 404


def test_admin_without_member_record_cannot_heartbeat(tree):
    admin = make_user(role="org_admin", org=tree.root)
    resource = make_resource(tree.branch_a)
    url = f"/api/v1/resources/{resource.pk}/heartbeat/"
    assert api_client(admin).post(url, {"start": 0, "end": 1}, format="json").status_code == 403


def test_resource_list_query_count_is_pinned(tree, member_user, django_assert_max_num_queries):
    for i in range(10):
        make_resource(tree.root, f"资源{i}")
    client = api_client(member_user)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/resources/")
    assert response.json()["count"] == 10


def test_schema_builds(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "learning-hours" in text and "learning-summary" in text and "heartbeat" in text


def test_credit_hours_are_numbers(tree, member_user):
    make_resource(tree.branch_a, credit_hours=Decimal("1.5"))
    row = api_client(member_user).get("/api/v1/resources/").json()["results"][0]
    assert row["credit_hours"] == 1.5


# --- scope of the heartbeat ----------------------------------------------------------------------


def member_account(org, name):
    """A member account linked to a member record at ``org``."""
    user = make_user(role="member", org=org)
    Member.objects.filter(pk=make_member(org, name).pk).update(user=user)
    return user


class TestResourceHeartbeatEndpoint(PostEndpointTests, OwnedEndpointTests):
    """A heartbeat is a member's own: the member the resource is published to records progress,
    a member of the sibling branch (not published to) gets 404."""

    url_name = "api:resource-heartbeat"
    api = True
    role = "member"

    def make_object(self, org):
        resource = make_resource(org, "心跳资源")
        resource.learner = member_account(org, "学习党员")
        return resource

    def owner(self, obj):
        return obj.learner

    def stranger(self, scope_tree):
        return member_account(scope_tree.branch_b, "乙支部党员")

    def action_url(self, obj):
        return f"/api/v1/resources/{obj.pk}/heartbeat/"

    def post_data(self, obj):
        return {"start": 0, "end": 0}

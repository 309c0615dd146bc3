import pytest

from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.organizations.models import Organization
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_org, make_user

LIST_URL = "/api/v1/organizations/"
FIELDS = {"id", "name", "short_name", "code", "parent", "level", "org_type", "path", "is_active"}


def detail_url(org):
    return f"{LIST_URL}{org.pk}/"


class TestOrganizationListEndpoint(ScopedEndpointTests):
    url_name = "api:organization-list"
    api = True
    kind = "list"

    def make_object(self, org):
        return make_org(org, "标记党小组", level="group")

    def url(self, obj):
        return LIST_URL


class TestOrganizationDetailEndpoint(ScopedEndpointTests):
    url_name = "api:organization-detail"
    api = True
    kind = "detail"

    def make_object(self, org):
        return org

    def url(self, obj):
        return detail_url(obj)


@pytest.fixture
def admin_a(tree):
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def admin_root(tree):
    return make_user("admin_root", role="org_admin", org=tree.root)


def names(response):
    return {row["name"] for row in response.json()["results"]}


# --- reading ------------------------------------------------------------------------------------


def test_detail_exposes_the_contract_fields(tree, admin_a):
    body = api_client(admin_a).get(detail_url(tree.branch_a)).json()
    assert set(body) == FIELDS
    assert body["parent"] == tree.district_a.pk
    assert body["level"] == "branch"
    assert body["org_type"] == "community"
    assert body["path"] == tree.branch_a.path
    assert body["is_active"] is True


def test_list_is_the_callers_subtree_in_tree_order(tree, admin_a):
    response = api_client(admin_a).get(LIST_URL)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["甲区委", "甲一支部", "甲一第一党小组"]


def test_list_is_paginated(tree, admin_root):
    response = api_client(admin_root).get(LIST_URL, {"page_size": 2})
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 6
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_filter_by_parent(tree, admin_root):
    response = api_client(admin_root).get(LIST_URL, {"parent": tree.root.pk})
    assert names(response) == {"甲区委", "乙区委"}


def test_filter_by_level(tree, admin_root):
    assert names(api_client(admin_root).get(LIST_URL, {"level": "branch"})) == {"甲一支部", "乙一支部"}


def test_filter_by_org_type(tree, admin_root):
    assert names(api_client(admin_root).get(LIST_URL, {"org_type": "organ"})) == {"市委", "甲区委", "乙区委"}


def test_unknown_level_is_a_400(tree, admin_root):
    response = api_client(admin_root).get(LIST_URL, {"level": "nonsense"})
    assert response.status_code == 400
    assert "level" in response.json()["errors"]


@pytest.mark.parametrize("text", ["甲一", "jyzb"])
def test_search_by_name_or_initials(tree, admin_root, text):
    assert "甲一支部" in names(api_client(admin_root).get(LIST_URL, {"search": text}))


def test_search_by_code(tree, admin_root):
    assert names(api_client(admin_root).get(LIST_URL, {"search": tree.branch_b.code})) == {"乙一支部"}


def test_within_is_the_whole_subtree(tree, admin_root):
    response = api_client(admin_root).get(LIST_URL, {"within": tree.district_a.pk})
    assert names(response) == {"甲区委", "甲一支部", "甲一第一党小组"}


def test_within_an_org_outside_scope_is_empty(tree, admin_a):
    response = api_client(admin_a).get(LIST_URL, {"within": tree.district_b.pk})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_list_query_count_does_not_grow_with_rows(tree, admin_root, django_assert_max_num_queries):
    client = api_client(admin_root)
    for i in range(20):
        make_org(tree.district_b, f"支部{i}")
    # token, grants, count, page
    with django_assert_max_num_queries(4):
        assert client.get(LIST_URL).status_code == 200


# --- creating -----------------------------------------------------------------------------------


def new_org(parent, **extra):
    return {
        "name": "甲二支部",
        "code": "JA02",
        "level": "branch",
        "org_type": "rural",
        "parent": parent.pk,
        **extra,
    }


def test_create_under_a_parent_in_scope(tree, admin_a):
    response = api_client(admin_a).post(LIST_URL, new_org(tree.district_a), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    org = Organization.objects.get(pk=body["id"])
    assert org.parent == tree.district_a
    assert body["path"] == org.path
    assert org.path.startswith(tree.district_a.path)
    assert AuditLog.objects.filter(
        action="create", object_type="organizations.organization", object_id=str(org.pk)
    ).exists()


def test_create_under_a_parent_outside_scope_is_400(tree, admin_a):
    # An out-of-scope parent is answered as a nonexistent one: 400 on the field, never a 403
    # that would confirm the organisation exists.
    response = api_client(admin_a).post(LIST_URL, new_org(tree.district_b), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["parent"]
    assert not Organization.objects.filter(code="JA02").exists()


def test_create_without_parent_is_400(tree, admin_root):
    response = api_client(admin_root).post(LIST_URL, {**new_org(tree.root), "parent": None}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["parent"] == ["请选择上级组织"]


def test_create_with_a_level_the_parent_cannot_hold_is_400(tree, admin_a):
    response = api_client(admin_a).post(LIST_URL, new_org(tree.group_a, level="branch"), format="json")
    assert response.status_code == 400
    assert "level" in response.json()["errors"]


def test_create_with_a_taken_code_is_400(tree, admin_a):
    response = api_client(admin_a).post(
        LIST_URL, new_org(tree.district_a, code=tree.branch_b.code), format="json"
    )
    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_create_needs_the_add_action(tree):
    inspector = make_user(role="inspector", org=tree.root)
    response = api_client(inspector).post(LIST_URL, new_org(tree.district_a), format="json")
    assert response.status_code == 403


# --- updating and moving -----------------------------------------------------------------------


def test_patch_renames_and_is_audited(tree, admin_a):
    response = api_client(admin_a).patch(detail_url(tree.branch_a), {"short_name": "甲一"}, format="json")
    assert response.status_code == 200
    assert response.json()["short_name"] == "甲一"
    assert AuditLog.objects.filter(action="update", object_id=str(tree.branch_a.pk)).exists()


def test_path_is_read_only(tree, admin_a):
    response = api_client(admin_a).patch(detail_url(tree.branch_a), {"path": "ZZZZ"}, format="json")
    assert response.status_code == 200
    assert response.json()["path"] == tree.branch_a.path


def test_put_replaces_the_editable_fields(tree, admin_a):
    payload = {
        "name": "甲一支部（新）",
        "short_name": "",
        "code": tree.branch_a.code,
        "parent": tree.district_a.pk,
        "level": "branch",
        "org_type": "school",
    }
    response = api_client(admin_a).put(detail_url(tree.branch_a), payload, format="json")
    assert response.status_code == 200, response.content
    tree.branch_a.refresh_from_db()
    assert (tree.branch_a.name, tree.branch_a.org_type) == ("甲一支部（新）", "school")


def test_changing_parent_moves_the_subtree(tree, admin_root):
    response = api_client(admin_root).patch(
        detail_url(tree.branch_a), {"parent": tree.district_b.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    tree.branch_a.refresh_from_db()
    tree.group_a.refresh_from_db()
    assert tree.branch_a.parent == tree.district_b
    assert response.json()["path"] == tree.branch_a.path
    assert tree.group_a.path.startswith(tree.branch_a.path)
    assert tree.branch_a.path.startswith(tree.district_b.path)
    assert AuditLog.objects.filter(action="move", object_id=str(tree.branch_a.pk)).exists()


@pytest.mark.parametrize("target", ["group_a", "branch_a"])
def test_moving_an_org_under_itself_is_400(tree, admin_root, target):
    response = api_client(admin_root).patch(
        detail_url(tree.branch_a), {"parent": getattr(tree, target).pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["errors"]
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.parent == tree.district_a


def test_move_and_rename_fail_together(tree, admin_root):
    # the move is valid, the level is not: nothing is saved
    response = api_client(admin_root).patch(
        detail_url(tree.branch_a), {"parent": tree.district_b.pk, "level": "group"}, format="json"
    )
    assert response.status_code == 400
    tree.branch_a.refresh_from_db()
    assert tree.branch_a.parent == tree.district_a


def test_moving_to_a_parent_outside_scope_is_400(tree, admin_a):
    response = api_client(admin_a).patch(
        detail_url(tree.branch_a), {"parent": tree.district_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["errors"]


def test_patch_outside_scope_is_404(tree, admin_a):
    response = api_client(admin_a).patch(detail_url(tree.branch_b), {"short_name": "乙一"}, format="json")
    assert response.status_code == 404


def test_patch_needs_the_change_action(tree):
    inspector = make_user(role="inspector", org=tree.root)
    response = api_client(inspector).patch(detail_url(tree.branch_a), {"short_name": "甲一"}, format="json")
    assert response.status_code == 403


def test_no_delete_endpoint(tree, admin_root):
    assert api_client(admin_root).delete(detail_url(tree.group_a)).status_code == 405


def test_put_on_the_top_of_ones_scope_repeats_a_parent_outside_it(tree, admin_a):
    client = api_client(admin_a)
    body = client.get(detail_url(tree.district_a)).json()
    body["short_name"] = "甲区"
    response = client.put(detail_url(tree.district_a), body, format="json")
    assert response.status_code == 200, response.content
    tree.district_a.refresh_from_db()
    assert (tree.district_a.short_name, tree.district_a.parent) == ("甲区", tree.root)

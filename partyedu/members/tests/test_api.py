import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.members.models import Member
from partyedu.members.services import member_leave_roll
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

LIST_URL = "/api/v1/members/"
FIELDS = {
    "id",
    "name",
    "organization",
    "gender",
    "birth_date",
    "status",
    "categories",
    "is_exempt",
    "exempt_reason",
    "candidate_on",
    "joined_on",
    "full_member_on",
    "ethnicity",
    "education",
    "id_number",
    "phone",
}
MASKED_ID = re.compile(r"^\d{3}\*{11}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")


def detail_url(member):
    return f"{LIST_URL}{member.pk}/"


class TestMemberListEndpoint(ScopedEndpointTests):
    url_name = "api:member-list"
    api = True
    kind = "list"

    def make_object(self, org):
        return make_member(org, "标记党员")

    def url(self, obj):
        return LIST_URL


class TestMemberDetailEndpoint(ScopedEndpointTests):
    url_name = "api:member-detail"
    api = True
    kind = "detail"

    def make_object(self, org):
        return make_member(org, "标记党员")

    def url(self, obj):
        return detail_url(obj)


class TestMemberDetailEndpointForBranchAdmins(TestMemberDetailEndpoint):
    role = "branch_admin"


@pytest.fixture
def admin_a(tree):
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def admin_root(tree):
    return make_user("admin_root", role="org_admin", org=tree.root)


@pytest.fixture
def zhang(tree):
    return make_member(tree.branch_a, "张三", phone="13812345678")


def names(response):
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def pii_rows():
    return AuditLog.objects.filter(action="view_pii")


# --- reading and masking -------------------------------------------------------------------------


def test_detail_exposes_the_contract_fields(tree, admin_a, zhang):
    body = api_client(admin_a).get(detail_url(zhang)).json()
    assert set(body) == FIELDS
    assert body["organization"] == tree.branch_a.pk
    assert body["gender"] == "M"
    assert body["birth_date"] == "1980-01-01"
    assert body["status"] == "full"


def test_personal_data_is_masked_without_a_grant(tree, admin_a, zhang):
    body = api_client(admin_a).get(detail_url(zhang)).json()
    assert MASKED_ID.match(body["id_number"])
    assert body["id_number"] == zhang.id_number[:3] + "*" * 11 + zhang.id_number[-4:]
    assert body["phone"] == "138****5678"
    assert not pii_rows().exists()


def test_personal_data_is_masked_in_lists_without_a_grant(tree, admin_a, zhang):
    row = api_client(admin_a).get(LIST_URL).json()["results"][0]
    assert MASKED_ID.match(row["id_number"])
    assert MASKED_PHONE.match(row["phone"])
    assert not pii_rows().exists()


def test_grant_holder_sees_personal_data_and_it_is_audited(tree, zhang):
    viewer = make_user("viewer", role="org_admin", org=tree.district_a, pii=True)
    body = api_client(viewer).get(detail_url(zhang)).json()
    assert body["id_number"] == zhang.id_number
    assert body["phone"] == "13812345678"
    row = pii_rows().get()
    assert row.user == viewer
    assert row.object_id == str(zhang.pk)
    assert row.changes["member_ids"] == [zhang.pk]


def test_an_unmasked_list_writes_one_audit_row_naming_every_member(tree, zhang):
    others = [make_member(tree.branch_a, f"党员{i}") for i in range(3)]
    viewer = make_user("viewer", role="org_admin", org=tree.district_a, pii=True)
    response = api_client(viewer).get(LIST_URL)
    assert response.status_code == 200
    row = pii_rows().get()
    assert sorted(row.changes["member_ids"]) == sorted([zhang.pk, *(m.pk for m in others)])


def test_grant_covers_only_its_subtree(tree, zhang):
    other = make_member(tree.group_a, "李四", phone="13900001111")
    viewer = make_user("viewer", role="org_admin", org=tree.district_a)
    from partyedu.accounts.services import pii_grant_create

    pii_grant_create(actor=None, user=viewer, organization=tree.group_a, reason="测试")
    rows = {row["name"]: row for row in api_client(viewer).get(LIST_URL).json()["results"]}
    assert rows["李四"]["phone"] == "13900001111"
    assert rows["张三"]["phone"] == "138****5678"
    assert pii_rows().get().changes["member_ids"] == [other.pk]


def test_an_empty_page_writes_no_audit_row(tree):
    viewer = make_user("viewer", role="org_admin", org=tree.district_a, pii=True)
    assert api_client(viewer).get(LIST_URL).json()["count"] == 0
    assert not pii_rows().exists()


def test_list_is_paginated(tree, admin_a):
    for i in range(5):
        make_member(tree.branch_a, f"党员{i}")
    body = api_client(admin_a).get(LIST_URL, {"page_size": 2, "page": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["previous"] and body["next"]


def test_members_who_left_the_roll_are_not_listed_but_found_by_id(tree, admin_a, zhang):
    member_leave_roll(actor=None, member=zhang, reason="去世")
    client = api_client(admin_a)
    assert client.get(LIST_URL).json()["count"] == 0
    assert client.get(detail_url(zhang)).status_code == 200


def test_a_member_sees_only_themself(tree, zhang):
    other = make_member(tree.branch_a, "李四")
    user = make_user(role="member", org=tree.branch_a)
    Member.objects.filter(pk=zhang.pk).update(user=user)
    client = api_client(user)
    assert names(client.get(LIST_URL)) == {"张三"}
    assert client.get(detail_url(other)).status_code == 404
    assert client.post(LIST_URL, {}, format="json").status_code == 403


# --- query counts ---------------------------------------------------------------------------------


def test_list_query_count_is_pinned(tree, django_assert_max_num_queries):
    viewer = make_user("viewer", role="org_admin", org=tree.root, pii=True)
    client = api_client(viewer)
    for i in range(30):
        make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i}")
    # token, role grants, the filter's organisation, count, page (with organisations), PII grants,
    # the one audit row
    with django_assert_max_num_queries(7):
        response = client.get(LIST_URL, {"organization": tree.district_a.pk, "search": "dy"})
    assert response.json()["count"] == 30


def test_list_query_count_does_not_grow_with_rows(tree):
    viewer = make_user("viewer", role="org_admin", org=tree.root)
    client = api_client(viewer)
    make_member(tree.branch_a, "党员")

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST_URL).status_code == 200
        return len(ctx.captured_queries)

    few = count_queries()
    for i in range(25):
        make_member(tree.branch_b, f"党员{i}")
    assert count_queries() == few


# --- filters --------------------------------------------------------------------------------------


@pytest.fixture
def population(tree):
    return {
        "zhang": make_member(tree.branch_a, "张三", status="probationary", categories=["retired"]),
        "li": make_member(tree.group_a, "李四", categories=["employed", "committee"]),
        "wang": make_member(tree.branch_b, "王五", is_exempt=True, exempt_reason="年老体弱"),
    }


def test_filter_organization_covers_its_subtree(tree, admin_root, population):
    assert names(api_client(admin_root).get(LIST_URL, {"organization": tree.district_a.pk})) == {
        "张三",
        "李四",
    }
    assert names(api_client(admin_root).get(LIST_URL, {"organization": tree.group_a.pk})) == {"李四"}


def test_filter_organization_outside_scope_is_empty(tree, admin_a, population):
    # Documented behaviour: an unknown or out-of-scope organisation id gives an empty list.
    response = api_client(admin_a).get(LIST_URL, {"organization": tree.district_b.pk})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    response = api_client(admin_a).get(LIST_URL, {"organization": tree.root.pk})
    assert response.json()["count"] == 0


@pytest.mark.parametrize("text", ["zs", "ZS", "张", "张三"])
def test_search_by_name_or_initials(tree, admin_root, population, text):
    assert names(api_client(admin_root).get(LIST_URL, {"search": text})) == {"张三"}


def test_search_by_whole_id_number(tree, admin_root, population):
    number = population["li"].id_number
    assert names(api_client(admin_root).get(LIST_URL, {"search": number.lower()})) == {"李四"}


def test_filter_by_status(tree, admin_root, population):
    assert names(api_client(admin_root).get(LIST_URL, {"status": "probationary"})) == {"张三"}


def test_filter_by_category(tree, admin_root, population):
    assert names(api_client(admin_root).get(LIST_URL, {"category": "committee"})) == {"李四"}
    assert names(api_client(admin_root).get(LIST_URL, {"category": "retired"})) == {"张三"}


def test_filter_by_exemption(tree, admin_root, population):
    assert names(api_client(admin_root).get(LIST_URL, {"is_exempt": "true"})) == {"王五"}
    assert names(api_client(admin_root).get(LIST_URL, {"is_exempt": "false"})) == {"张三", "李四"}


def test_filters_combine(tree, admin_root, population):
    response = api_client(admin_root).get(
        LIST_URL, {"organization": tree.district_a.pk, "category": "retired"}
    )
    assert names(response) == {"张三"}


def test_unknown_status_is_a_400(tree, admin_root):
    response = api_client(admin_root).get(LIST_URL, {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


# --- creating -------------------------------------------------------------------------------------


def new_member(org, **extra):
    return {"organization": org.pk, "name": "赵六", "id_number": valid_id_number(date(1990, 5, 6)), **extra}


def test_create_derives_birth_date_and_gender_from_the_id_number(tree, admin_a):
    payload = new_member(tree.branch_a, phone="13700001111", categories=["employed"])
    response = api_client(admin_a).post(LIST_URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    member = Member.objects.get(pk=body["id"])
    assert (member.birth_date, member.gender) == (date(1990, 5, 6), "M")
    assert member.id_number == payload["id_number"]
    assert member.phone == "13700001111"
    assert member.categories == ["employed"]
    # the answer is masked like any other read
    assert MASKED_ID.match(body["id_number"])
    assert body["phone"] == "137****1111"
    assert AuditLog.objects.filter(
        action="create", object_type="members.member", object_id=str(member.pk)
    ).exists()


def test_create_with_a_bad_check_digit_is_400_on_id_number(tree, admin_a):
    number = valid_id_number()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = api_client(admin_a).post(LIST_URL, new_member(tree.branch_a, id_number=bad), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "提交的数据有误"
    assert list(body["errors"]) == ["id_number"]
    assert "校验位" in body["errors"]["id_number"][0]


def test_the_same_person_cannot_be_in_two_branches(tree, admin_root, zhang):
    response = api_client(admin_root).post(
        LIST_URL, new_member(tree.branch_b, id_number=zhang.id_number), format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]["id_number"]
    assert "已登记在" in errors[0]
    assert Member.objects.count() == 1


def test_a_number_registered_outside_scope_does_not_name_the_organisation(tree, zhang):
    admin_b = make_user("admin_b", role="org_admin", org=tree.district_b)

    response = api_client(admin_b).post(
        LIST_URL, new_member(tree.branch_b, id_number=zhang.id_number), format="json"
    )

    assert response.status_code == 400
    message = response.json()["errors"]["id_number"][0]
    assert zhang.organization.name not in message
    assert "已登记" in message and "组织关系转接" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("gender", "F"), ("birth_date", "1991-02-03")],
)
def test_patch_contradicting_the_stored_id_number_is_400(tree, admin_a, zhang, field, value):
    response = api_client(admin_a).patch(detail_url(zhang), {field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    stored = Member.objects.get(pk=zhang.pk)
    assert (stored.gender, stored.birth_date) == (zhang.gender, zhang.birth_date)


def test_patch_agreeing_with_the_stored_id_number_is_accepted(tree, admin_a, zhang):
    response = api_client(admin_a).patch(
        detail_url(zhang), {"birth_date": zhang.birth_date.isoformat(), "gender": zhang.gender}, format="json"
    )

    assert response.status_code == 200, response.content


def test_birth_date_must_match_the_id_number(tree, admin_a):
    payload = new_member(tree.branch_a, birth_date="1991-01-01")
    response = api_client(admin_a).post(LIST_URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["birth_date"]


def test_field_type_errors_come_back_by_field(tree, admin_a):
    payload = new_member(tree.branch_a, categories=["astronaut"], status="boss")
    response = api_client(admin_a).post(LIST_URL, payload, format="json")
    assert response.status_code == 400
    assert {"categories", "status"} <= set(response.json()["errors"])


def test_create_in_an_org_outside_scope_is_400(tree, admin_a):
    # An out-of-scope organisation is answered as a nonexistent one: 400 on the field, never a 403
    # that would confirm it exists.
    response = api_client(admin_a).post(LIST_URL, new_member(tree.branch_b), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["organization"]
    assert not Member.objects.exists()


def test_create_in_a_committee_is_400(tree, admin_a):
    response = api_client(admin_a).post(LIST_URL, new_member(tree.district_a), format="json")
    assert response.status_code == 400
    assert "党支部或党小组" in response.json()["errors"]["organization"][0]


def test_create_needs_the_add_action(tree):
    inspector = make_user(role="inspector", org=tree.root)
    response = api_client(inspector).post(LIST_URL, new_member(tree.branch_a), format="json")
    assert response.status_code == 403


# --- updating -------------------------------------------------------------------------------------


def test_patch_updates_and_is_audited_without_personal_values(tree, admin_a, zhang):
    response = api_client(admin_a).patch(
        detail_url(zhang), {"phone": "13600002222", "status": "probationary"}, format="json"
    )
    assert response.status_code == 200, response.content
    zhang.refresh_from_db()
    assert (zhang.phone, zhang.status) == ("13600002222", "probationary")
    row = AuditLog.objects.filter(action="update", object_id=str(zhang.pk)).get()
    assert row.changes["phone"] == ["***", "***"]
    assert response.json()["phone"] == "136****2222"


def test_patch_with_an_invalid_phone_is_400(tree, admin_a, zhang):
    response = api_client(admin_a).patch(detail_url(zhang), {"phone": "12345"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["phone"]


def test_patch_cannot_move_a_member(tree, admin_a, zhang):
    response = api_client(admin_a).patch(detail_url(zhang), {"organization": tree.group_a.pk}, format="json")
    assert response.status_code == 400
    assert "组织关系转接" in response.json()["errors"]["organization"][0]


def test_patch_outside_scope_is_404(tree, zhang):
    admin_b = make_user(role="org_admin", org=tree.district_b)
    response = api_client(admin_b).patch(detail_url(zhang), {"status": "full"}, format="json")
    assert response.status_code == 404


def test_patch_needs_the_change_action(tree, zhang):
    inspector = make_user(role="inspector", org=tree.root)
    response = api_client(inspector).patch(detail_url(zhang), {"status": "full"}, format="json")
    assert response.status_code == 403


def test_patch_by_a_grant_holder_returns_clear_values_and_audits_them(tree, zhang):
    viewer = make_user("viewer", role="org_admin", org=tree.district_a, pii=True)
    response = api_client(viewer).patch(detail_url(zhang), {"ethnicity": "回族"}, format="json")
    assert response.json()["id_number"] == zhang.id_number
    assert pii_rows().get().changes["member_ids"] == [zhang.pk]


def test_no_delete_endpoint(tree, admin_a, zhang):
    assert api_client(admin_a).delete(detail_url(zhang)).status_code == 405


def test_what_was_read_masked_can_be_put_back_unchanged(tree, admin_a, zhang):
    client = api_client(admin_a)
    body = client.get(detail_url(zhang)).json()
    body["name"] = "张三丰"
    response = client.put(detail_url(zhang), body, format="json")
    assert response.status_code == 200, response.content
    zhang.refresh_from_db()
    assert zhang.name == "张三丰"
    assert zhang.phone == "13812345678"
    assert "*" not in zhang.id_number


def test_list_rows_have_the_detail_serializers_shape(tree, admin_a, zhang):
    client = api_client(admin_a)
    row = client.get(LIST_URL).json()["results"][0]
    detail = client.get(f"{LIST_URL}{zhang.pk}/").json()
    assert row == detail


def test_list_count_from_summaries_matches_real_count(tree, admin_a, zhang):
    make_member(tree.group_a, "李四")
    client = api_client(admin_a)
    assert client.get(LIST_URL).json()["count"] == 2
    assert client.get(LIST_URL, {"organization": tree.group_a.pk}).json()["count"] == 1


def test_list_rows_match_detail_for_a_pii_grant_holder(tree, zhang):
    holder = make_user("holder", role="org_admin", org=tree.district_a, pii=True)
    client = api_client(holder)
    row = client.get(LIST_URL).json()["results"][0]
    assert row == client.get(f"{LIST_URL}{zhang.pk}/").json()
    assert row["phone"] == "13812345678"

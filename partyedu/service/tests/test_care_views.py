"""The care area's pages: the permission cases of every page (``ScopedEndpointTests``), and what the
pages show — the note only to those who may read it, care pages audited as views of personal
data, a member recording their own talk on a phone — with pinned query counts on the lists."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.core.testing import OwnedEndpointTests, PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.service.models import CarePair, CareVisit, Talk
from partyedu.service.services.care import care_pair_create
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import make_branch, make_case, make_talk, make_visit, member_user, yesterday

pytestmark = pytest.mark.django_db


def two_members(org: Any) -> tuple[Any, Any]:
    return make_member(org, f"谈话人{org.pk}", categories=["secretary"]), make_member(
        org, f"谈话对象{org.pk}"
    )


def xlsx_text(response: Any) -> str:
    book = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return str([row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)])


# --- permission cases of every page ----------------------------------------------------------------


class TestTalkList(ScopedEndpointTests):
    url_name = "service:talk_list"
    kind = "list"

    def make_object(self, org):
        return make_talk(org, *two_members(org))

    def marker(self, obj):
        return obj.party_b.name

    def url(self, obj):
        return "/service/talks/"


class TestTalkCreate(ScopedEndpointTests):
    url_name = "service:talk_create"
    role = "branch_admin"

    def make_object(self, org):
        two_members(org)
        return org

    def url(self, obj):
        return f"/service/talks/new/?organization={obj.pk}"


class TestTalkCoverage(ScopedEndpointTests):
    url_name = "service:talk_coverage"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, f"覆盖党员{org.pk}")

    def marker(self, obj):
        return obj.name

    def url(self, obj):
        return f"/service/talks/coverage/?organization={obj.organization_id}"


class TestTalkRule(PostRedirectEndpointTests):
    url_name = "service:talk_rule"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def post_data(self, obj):
        return {"organization": obj.pk, "member_pairs": "on"}

    def url(self, obj):
        self._data = self.post_data(obj)
        return "/service/talks/rule/"


class TestTalkExport(ScopedEndpointTests):
    url_name = "service:talk_export"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_talk(org, *two_members(org))

    def listed(self, response, obj):
        return obj.party_b.name in xlsx_text(response)

    def url(self, obj):
        return "/service/talks/export/"


class TestCareCaseList(ScopedEndpointTests):
    url_name = "service:care_case_list"
    kind = "list"

    def make_object(self, org):
        return make_case(make_member(org, f"困难党员{org.pk}"))

    def marker(self, obj):
        return obj.member.name

    def url(self, obj):
        return "/service/care/"


class TestCareCaseCreate(ScopedEndpointTests):
    url_name = "service:care_case_create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/service/care/new/?organization={obj.pk}"


class TestCareCaseDetail(ScopedEndpointTests):
    url_name = "service:care_case_detail"

    def make_object(self, org):
        return make_case(make_member(org, f"困难党员{org.pk}"))

    def url(self, obj):
        return f"/service/care/{obj.pk}/"


class TestCareCaseEnd(PostRedirectEndpointTests):
    url_name = "service:care_case_end"
    role = "branch_admin"

    def make_object(self, org):
        return make_case(make_member(org, f"困难党员{org.pk}"))

    def post_data(self, obj):
        return {"ended_on": timezone.localdate().isoformat()}

    def url(self, obj):
        self._data = self.post_data(obj)
        return f"/service/care/{obj.pk}/end/"


class TestCareVisitList(ScopedEndpointTests):
    url_name = "service:care_visit_list"
    kind = "list"

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "200", day=timezone.localdate())

    def marker(self, obj):
        return obj.member.name

    def url(self, obj):
        return "/service/care/visits/"


class TestCareVisitCreate(ScopedEndpointTests):
    url_name = "service:care_visit_create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/service/care/visits/new/?organization={obj.pk}"


class TestCareVisitApprove(PostRedirectEndpointTests):
    url_name = "service:care_visit_approve"

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "800")

    def url(self, obj):
        self._data = {}
        return f"/service/care/visits/{obj.pk}/approve/"


class TestCareTotals(ScopedEndpointTests):
    url_name = "service:care_totals"
    kind = "list"

    def make_object(self, org):
        return make_visit(make_member(org, f"走访对象{org.pk}"), "377", day=timezone.localdate())

    def marker(self, obj):
        return "377.00"

    def url(self, obj):
        return f"/service/care/totals/?organization={obj.member.organization_id}"


class TestCareExport(ScopedEndpointTests):
    url_name = "service:care_export"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_case(make_member(org, f"困难党员{org.pk}"))

    def listed(self, response, obj):
        return obj.member.name in xlsx_text(response)

    def url(self, obj):
        return "/service/care/export/"


class TestCarePolicy(ScopedEndpointTests):
    url_name = "service:care_policy"
    kind = "create"

    def make_object(self, org):
        return org

    def url(self, obj):
        return "/service/care/policy/"


class TestCarePairList(ScopedEndpointTests):
    url_name = "service:care_pair_list"
    kind = "list"

    def make_object(self, org):
        elder = make_member(org, f"老党员{org.pk}", birth=date(1950, 1, 1))
        young = make_member(org, f"青年{org.pk}", birth=date(1998, 1, 1))
        return care_pair_create(
            actor=None, elder=elder, younger=young, kind="old_guides_young", since=yesterday()
        )

    def marker(self, obj):
        return obj.elder.name

    def url(self, obj):
        return "/service/care/pairs/"


class TestCarePairCreate(ScopedEndpointTests):
    url_name = "service:care_pair_create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/service/care/pairs/new/?organization={obj.pk}"


class TestBirthdayList(ScopedEndpointTests):
    url_name = "service:birthday_list"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        today = timezone.localdate()
        return make_member(org, f"生日党员{org.pk}", joined_on=date(2000, today.month, 1))

    def marker(self, obj):
        return obj.name

    def url(self, obj):
        return f"/service/birthdays/?organization={obj.organization_id}"


class TestBirthdayThemeDay(ScopedEndpointTests):
    url_name = "service:birthday_theme_day"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/service/birthdays/theme-day/?organization={obj.pk}"


class TestBirthdayGreeting(OwnedEndpointTests):
    url_name = "service:birthday_greeting"
    kind = "list"
    role = "member"

    def make_object(self, org):
        today = timezone.localdate()
        _user, member = member_user(org, f"过生日{org.pk}", joined_on=today.replace(year=today.year - 5))
        return member

    def owner(self, obj):
        return obj.user

    def marker(self, obj):
        return obj.name

    def url(self, obj):
        return "/service/birthdays/greeting/"


# --- what the pages show ------------------------------------------------------------------------------


def test_the_talk_list_shows_the_note_to_the_committee_and_the_two_but_not_to_another_member(tree, client):
    branch = make_branch(tree)
    party_user, party = member_user(tree.branch_a, "张党员")
    other_user, _other = member_user(tree.branch_a, "赵党员")
    make_talk(tree.branch_a, branch.secretary, party, note="要点：家中有困难")

    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert "要点：家中有困难" in client.get("/service/talks/").content.decode()
    client.force_login(party_user)
    assert "要点：家中有困难" in client.get("/service/talks/").content.decode()
    client.force_login(other_user)
    html = client.get("/service/talks/").content.decode()
    assert "家中有困难" not in html
    assert 'data-testid="talk-row"' not in html


def test_the_talk_list_costs_the_same_queries_for_more_talks(tree, client, django_assert_max_num_queries):
    branch = make_branch(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    make_talk(tree.branch_a, branch.secretary, branch.members[0])
    client.get("/service/talks/")
    for member in [branch.committee, *branch.members[1:]]:
        make_talk(tree.branch_a, branch.secretary, member)
    with django_assert_max_num_queries(14):
        response = client.get("/service/talks/")
    assert response.content.decode().count('data-testid="talk-row"') == 4


def test_a_member_records_their_own_talk_on_the_phone_form(tree, client):
    branch = make_branch(tree)
    user, me = member_user(tree.branch_a, "张党员")
    client.force_login(user)

    page = client.get("/service/talks/new/").content.decode()
    assert 'name="party_a"' not in page and "王书记" in page
    response = client.post(
        "/service/talks/new/",
        {
            "party_b": branch.secretary.pk,
            "date": timezone.localdate().isoformat(),
            "kind": "committee_member",
        },
    )

    assert response.status_code == 302
    talk = Talk.objects.get()
    assert (talk.party_a, talk.party_b, talk.organization) == (me, branch.secretary, tree.branch_a)


def test_a_talk_with_oneself_is_refused_on_the_form(tree, client):
    branch = make_branch(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    response = client.post(
        f"/service/talks/new/?organization={tree.branch_a.pk}",
        {
            "party_a": branch.secretary.pk,
            "party_b": branch.secretary.pk,
            "date": timezone.localdate().isoformat(),
            "kind": "committee_member",
        },
    )

    assert response.status_code == 200
    assert "不能与自己谈话" in response.content.decode()
    assert not Talk.objects.exists()


def test_a_future_talk_is_refused_on_the_form(tree, client):
    branch = make_branch(tree)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    response = client.post(
        f"/service/talks/new/?organization={tree.branch_a.pk}",
        {
            "party_a": branch.secretary.pk,
            "party_b": branch.members[0].pk,
            "date": (timezone.localdate() + timedelta(days=2)).isoformat(),
            "kind": "committee_member",
        },
    )
    assert "谈话日期不能晚于今天" in response.content.decode()
    assert not Talk.objects.exists()


def test_every_view_of_a_care_record_is_audited(tree, client):
    case = make_case(make_member(tree.branch_a, "刘老党员"), note="病情说明")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    html = client.get(f"/service/care/{case.pk}/").content.decode()
    client.get("/service/care/")
    client.get("/service/care/visits/")

    assert "病情说明" in html
    logs = AuditLog.objects.filter(action="view_pii").order_by("id")
    assert [log.object_type for log in logs] == ["service.carecase", "service.carecase", "service.carevisit"]
    assert logs[0].object_id == str(case.pk)


def test_care_pages_are_refused_without_the_care_action(tree, client):
    from partyedu.accounts.models import Role

    case = make_case(make_member(tree.branch_a, "刘老党员"))
    role = Role.objects.get(code="branch_admin")
    role.actions = [a for a in role.actions if a != "service.care"]
    role.save()
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    for url in (
        "/service/care/",
        f"/service/care/{case.pk}/",
        "/service/care/export/",
        "/service/care/totals/",
    ):
        assert client.get(url).status_code == 403, url


def test_the_care_visit_list_costs_the_same_queries_for_more_visits(
    tree, client, django_assert_max_num_queries
):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    make_visit(make_member(tree.branch_a, "党员甲"), "900", day=timezone.localdate())
    client.get("/service/care/visits/")
    for i in range(5):
        make_visit(make_member(tree.group_a, f"党员{i}"), "100", day=timezone.localdate())
    with django_assert_max_num_queries(15):
        response = client.get("/service/care/visits/")
    html = response.content.decode()
    assert html.count('data-testid="care-visit-row"') == 6
    assert html.count('data-testid="care-visit-approve"') == 1


def test_a_visit_above_the_threshold_is_recorded_as_pending_from_the_form(tree, client):
    member = make_member(tree.branch_a, "刘老党员")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    response = client.post(
        f"/service/care/visits/new/?organization={tree.branch_a.pk}",
        {
            "member": member.pk,
            "date": yesterday().isoformat(),
            "aid_kind": "cash",
            "amount": "1500",
            "fund_source": "dues",
        },
        follow=True,
    )

    assert "须经上级党组织审批后计入" in response.content.decode()
    assert CareVisit.objects.get(member=member).needs_approval is True


def test_the_pair_form_names_the_field_of_a_wrong_pair(tree, client):
    elder = make_member(tree.branch_a, "老党员", birth=date(1950, 1, 1))
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    response = client.post(
        f"/service/care/pairs/new/?organization={tree.branch_a.pk}",
        {
            "elder": elder.pk,
            "younger": elder.pk,
            "kind": "old_guides_young",
            "since": yesterday().isoformat(),
        },
    )

    assert "结对双方须是两名不同的党员" in response.content.decode()
    assert not CarePair.objects.exists()


def test_the_theme_day_form_records_the_activity_and_opens_it(tree, client):
    today = timezone.localdate()
    make_member(tree.branch_a, "生日党员", joined_on=date(2000, today.month, 1))
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    page = client.get(f"/service/birthdays/theme-day/?organization={tree.branch_a.pk}").content.decode()
    assert "生日党员" in page
    response = client.post(
        f"/service/birthdays/theme-day/?organization={tree.branch_a.pk}",
        {"day": today.isoformat(), "start": "09:00", "end": "11:00", "topic": "重温入党誓词"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/study/activities/")


def test_a_secretary_over_a_district_picks_the_branch_first(tree, client):
    make_branch(tree)
    client.force_login(make_user(role="branch_admin", org=tree.district_a))

    html = client.get("/service/talks/new/").content.decode()

    assert f'href="?organization={tree.branch_a.pk}"' in html
    assert 'data-testid="talk-form"' not in html

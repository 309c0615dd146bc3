"""Pages: a permission class per URL, what each page shows, and query counts pinned."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partyedu.appraisal.choices import StepCode
from partyedu.appraisal.models import Appraisal, BallotReceipt, FollowUp, Vote
from partyedu.appraisal.services import appraisal_decide, ballot_submit, peer_comment_save
from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import THIS_YEAR, close_step, make_appraisal, member_user, open_step, others

pytestmark = pytest.mark.django_db


def appraisal_of(org: Any, **kwargs: Any) -> Appraisal:
    make_member(org, f"党员{org.pk}")
    make_member(org, f"预备{org.pk}", status="probationary")
    return make_appraisal(org, **kwargs)


def with_follow_up(org: Any) -> FollowUp:
    appraisal = open_step(appraisal_of(org), StepCode.DECIDE)
    member = appraisal.participants.get(member__status="full").member
    appraisal_decide(
        actor=None,
        appraisal=appraisal,
        grades=[{"member": member.pk, "grade": "unqualified", "measure": "other_disposal", "note": "处置"}],
    )
    return FollowUp.objects.get(appraisal=appraisal)


# --- permission classes: secretary and the levels above ------------------------------------------


class TestIndexPage(ScopedEndpointTests):
    url_name = "appraisal:index"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return appraisal_of(org)

    def url(self, obj):
        return "/appraisal/"

    def marker(self, obj):
        return obj.organization.name


class TestCreatePage(ScopedEndpointTests):
    url_name = "appraisal:create"
    kind = "create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return "/appraisal/new/"


class TestDetailPage(ScopedEndpointTests):
    url_name = "appraisal:detail"

    def make_object(self, org):
        return appraisal_of(org)

    def url(self, obj):
        return f"/appraisal/{obj.pk}/"


class TestEditPage(ScopedEndpointTests):
    url_name = "appraisal:edit"
    role = "branch_admin"

    def make_object(self, org):
        return appraisal_of(org)

    def url(self, obj):
        return f"/appraisal/{obj.pk}/edit/"


class TestDecidePage(ScopedEndpointTests):
    url_name = "appraisal:decide"
    role = "branch_admin"

    def make_object(self, org):
        return open_step(appraisal_of(org), StepCode.DECIDE)

    def url(self, obj):
        return f"/appraisal/{obj.pk}/decide/"


class TestStepClosePage(ScopedEndpointTests):
    url_name = "appraisal:step_close"
    role = "branch_admin"

    def make_object(self, org):
        return open_step(appraisal_of(org), StepCode.SELF)

    def url(self, obj):
        return f"/appraisal/{obj.pk}/steps/self/close/"


class TestStepOpen(PostEndpointTests):
    url_name = "appraisal:step_open"
    role = "branch_admin"

    def make_object(self, org):
        return appraisal_of(org)

    def action_url(self, obj):
        return f"/appraisal/{obj.pk}/steps/self/open/"


class TestParticipantAdd(PostEndpointTests):
    url_name = "appraisal:participant_add"
    role = "branch_admin"

    def make_object(self, org):
        appraisal = appraisal_of(org)
        self._newcomer = make_member(org, "新党员")
        return appraisal

    def post_data(self, obj):
        return {"member": self._newcomer.pk}

    def action_url(self, obj):
        return f"/appraisal/{obj.pk}/participants/add/"


class TestOverviewPage(ScopedEndpointTests):
    url_name = "appraisal:overview"
    kind = "list"

    def make_object(self, org):
        return appraisal_of(org)

    def url(self, obj):
        return "/appraisal/overview/"

    def marker(self, obj):
        return obj.organization.name


class TestFollowUpList(ScopedEndpointTests):
    url_name = "appraisal:follow_up_list"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return with_follow_up(org)

    def url(self, obj):
        return "/appraisal/follow-ups/"

    def marker(self, obj):
        return obj.member.name


class TestFollowUpClosePage(ScopedEndpointTests):
    url_name = "appraisal:follow_up_close"
    role = "branch_admin"

    def make_object(self, org):
        return with_follow_up(org)

    def url(self, obj):
        return f"/appraisal/follow-ups/{obj.pk}/close/"


# --- permission classes: participants (through their membership) --------------------------------


class ParticipantPage(OwnedEndpointTests):
    """A participant's page: the participant gets it, a member of another branch 404, an account
    without a member record 403."""

    role = "member"
    step: str | None = None
    path = ""

    def make_object(self, org):
        self._owner, _member = member_user(org, "甲")
        make_member(org, "乙")
        appraisal = make_appraisal(org)
        return open_step(appraisal, self.step) if self.step else appraisal

    def owner(self, obj):
        return self._owner

    def stranger(self, scope_tree):
        user, _member = member_user(scope_tree.branch_b, "辛")
        return user

    def url(self, obj):
        return f"/appraisal/my/{obj.pk}/{self.path}"


class TestParticipatePage(ParticipantPage):
    url_name = "appraisal:participate"


class TestSelfEvaluationPage(ParticipantPage):
    url_name = "appraisal:self_evaluation"
    step = StepCode.SELF
    path = "self/"


class TestPeerPage(ParticipantPage):
    url_name = "appraisal:peer"
    step = StepCode.PEER
    path = "peer/"


class TestBallotPage(ParticipantPage):
    url_name = "appraisal:ballot"
    step = StepCode.VOTE
    path = "ballot/"


class TestMyPage(ParticipantPage):
    url_name = "appraisal:my"
    kind = "list"

    def url(self, obj):
        return "/appraisal/my/"

    def marker(self, obj):
        return f'href="/appraisal/my/{obj.pk}/"'

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Any) -> None:
        # 民主评议 is in every member's menu: an account without a member record is told so.
        client.force_login(self.make_user())
        response = client.get("/appraisal/my/")
        assert response.status_code == 200 and 'data-testid="no-member"' in response.content.decode()


# --- the secretary's pages -----------------------------------------------------------------------


def test_create_page_creates_and_goes_to_the_appraisal(client, branch):
    client.force_login(branch.secretary)

    response = client.post(
        "/appraisal/new/", {"organization": branch.org.pk, "year": THIS_YEAR, "excellent_percent": "33.33"}
    )

    appraisal = Appraisal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/appraisal/{appraisal.pk}/"
    assert appraisal.participants.count() == 5 and str(appraisal.excellent_share) == "0.3333"


def test_detail_shows_evidence_beside_each_participant(client, branch):
    appraisal = make_appraisal(branch.org)
    client.force_login(branch.secretary)

    html = client.get(f"/appraisal/{appraisal.pk}/").content.decode()

    assert html.count('data-testid="participant-row"') == 5
    assert "组织生活出勤" in html and "学时" in html
    assert "预备党员·不投票" in html


def test_detail_hides_tallies_before_the_vote_closes_and_shows_them_after(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    ballot_submit(
        actor=branch.users["甲"],
        appraisal=appraisal,
        votes=[
            {"member": branch.members[n].pk, "grade": g} for n, g in others("甲", {"乙": "excellent"}).items()
        ],
    )
    client.force_login(branch.secretary)

    before = client.get(f"/appraisal/{appraisal.pk}/").content.decode()
    close_step(appraisal, StepCode.VOTE)
    after = client.get(f"/appraisal/{appraisal.pk}/").content.decode()

    assert 'data-testid="tallies-hidden"' in before and "tally-excellent" not in before
    assert '<div class="fs-4" data-testid="turnout">1 / 4</div>' in before
    assert after.count('data-testid="tally-excellent"') == 5


def test_step_open_button_opens_the_step(client, branch):
    appraisal = make_appraisal(branch.org)
    client.force_login(branch.secretary)

    response = client.post(f"/appraisal/{appraisal.pk}/steps/self/open/")

    assert response.status_code == 302
    assert appraisal.steps.get(code="self").opened_at is not None


def test_step_open_out_of_order_shows_the_message_and_opens_nothing(client, branch):
    appraisal = make_appraisal(branch.org)
    client.force_login(branch.secretary)

    response = client.post(f"/appraisal/{appraisal.pk}/steps/vote/open/", follow=True)

    assert "须先结束民主评议（党员互评）环节" in response.content.decode()
    assert not appraisal.steps.filter(opened_at__isnull=False).exists()


def test_step_close_is_confirmed_then_closes(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    client.force_login(branch.secretary)

    page = client.get(f"/appraisal/{appraisal.pk}/steps/self/close/").content.decode()
    response = client.post(f"/appraisal/{appraisal.pk}/steps/self/close/")

    assert "确认结束" in page
    assert response.status_code == 302 and appraisal.steps.get(code="self").closed_at is not None


def test_decide_form_defaults_to_the_most_voted_grade(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    for voter in ("甲", "丙"):
        ballot_submit(
            actor=branch.users[voter],
            appraisal=appraisal,
            votes=[
                {"member": branch.members[n].pk, "grade": g}
                for n, g in others(voter, {"乙": "excellent"}).items()
            ],
        )
    close_step(appraisal, StepCode.VOTE)
    open_step(appraisal, StepCode.DECIDE)
    client.force_login(branch.secretary)

    html = client.get(f"/appraisal/{appraisal.pk}/decide/").content.decode()

    yi = branch.members["乙"].pk
    start = html.index(f'name="grade_{yi}"')
    assert '<option value="excellent" selected>' in html[start : html.index("</select>", start)]
    assert "33%" in html


def test_decide_form_refuses_excess_excellent_without_a_reason(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    client.force_login(branch.secretary)
    data = {f"grade_{m.pk}": "excellent" for n, m in branch.members.items() if n != "己"}

    response = client.post(f"/appraisal/{appraisal.pk}/decide/", {**data, "reason": ""})

    assert response.status_code == 200 and "须写明理由" in response.content.decode()
    assert not appraisal.participants.exclude(grade="").exists()


def test_decide_form_saves_grades_and_the_follow_up(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    client.force_login(branch.secretary)
    data = {f"grade_{m.pk}": "qualified" for n, m in branch.members.items() if n != "己"}
    bing = branch.members["丙"].pk
    data |= {
        f"grade_{bing}": "unqualified",
        f"measure_{bing}": "rectify_by_deadline",
        f"deadline_{bing}": f"{THIS_YEAR + 1}-03-31",
    }

    response = client.post(f"/appraisal/{appraisal.pk}/decide/", data)

    assert response.status_code == 302
    assert appraisal.participants.get(member_id=bing).grade == "unqualified"
    assert FollowUp.objects.get().deadline.isoformat() == f"{THIS_YEAR + 1}-03-31"


def test_peer_comments_are_shown_to_the_committee_without_authors(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)
    peer_comment_save(
        actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text="工作踏实肯干"
    )
    client.force_login(branch.secretary)

    html = client.get(f"/appraisal/{appraisal.pk}/").content.decode()

    assert "工作踏实肯干" in html


def test_follow_up_is_closed_from_its_confirmation_page(client, tree):
    follow_up = with_follow_up(tree.branch_a)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))

    response = client.post(f"/appraisal/follow-ups/{follow_up.pk}/close/", {"closing_note": "已整改到位"})

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "closed" and follow_up.closing_note == "已整改到位"


def test_the_meeting_that_held_the_vote_is_shown(client, branch):
    from datetime import timedelta

    from partyedu.study.services import activity_record

    start = timezone.now()
    meeting = activity_record(
        actor=None,
        data={
            "organization": branch.org,
            "activity_type": "branch_assembly",
            "topic": "民主测评大会",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    appraisal = make_appraisal(branch.org, meeting=meeting)
    client.force_login(branch.secretary)

    html = client.get(f"/appraisal/{appraisal.pk}/").content.decode()

    assert 'data-testid="appraisal-meeting"' in html and "民主测评大会" in html


# --- query counts --------------------------------------------------------------------------------


def test_detail_page_queries_do_not_grow_with_participants(client, tree, django_assert_max_num_queries):
    client.force_login(make_user(role="branch_admin", org=tree.root))
    small_branch = tree.branch_a
    make_member(small_branch, "甲")
    small = open_step(make_appraisal(small_branch), StepCode.VOTE)
    with django_assert_max_num_queries(40) as few:
        client.get(f"/appraisal/{small.pk}/")
    large_branch = make_org(tree.district_a, "甲二支部")
    for n in range(12):
        make_member(large_branch, f"党员{n:02d}", status="probationary" if n % 4 == 0 else "full")
    large = open_step(make_appraisal(large_branch), StepCode.VOTE)
    close_step(large, StepCode.VOTE)
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        client.get(f"/appraisal/{large.pk}/")


def test_overview_queries_do_not_grow_with_branches(client, tree, django_assert_max_num_queries):
    client.force_login(make_user(role="org_admin", org=tree.root))
    appraisal_of(tree.branch_a)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/appraisal/overview/?organization={tree.root.pk}")
    for n in range(4):
        org = make_org(tree.district_b, f"乙{n}支部")
        with_follow_up(org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(f"/appraisal/overview/?organization={tree.root.pk}").content.decode()
    assert html.count('data-testid="overview-row"') == 6


def test_overview_shows_completion_and_never_reads_votes_or_comments(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)
    peer_comment_save(
        actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text="秘密意见"
    )
    close_step(appraisal, StepCode.PEER)
    open_step(appraisal, StepCode.VOTE)
    ballot_submit(
        actor=branch.users["甲"],
        appraisal=appraisal,
        votes=[{"member": branch.members[n].pk, "grade": g} for n, g in others("甲").items()],
    )
    close_step(appraisal, StepCode.VOTE)
    client.force_login(make_user(role="org_admin", org=branch.org.parent))

    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/appraisal/overview/?organization={branch.org.parent_id}").content.decode()

    assert Vote.objects.exists() and BallotReceipt.objects.exists()
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "appraisal_vote" not in sql and "appraisal_peercomment" not in sql
    assert "秘密意见" not in html
    assert "民主测评投票（待开启）" not in html and "支部委员会研究决定（待开启）" in html


# --- the participant's pages ---------------------------------------------------------------------


def test_a_member_votes_on_the_phone_and_may_change_the_ballot(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    client.force_login(branch.users["甲"])
    page = client.get(f"/appraisal/my/{appraisal.pk}/ballot/").content.decode()
    data = {f"grade_{branch.members[n].pk}": "qualified" for n in ("乙", "丙", "丁", "戊")}

    response = client.post(f"/appraisal/my/{appraisal.pk}/ballot/", data, follow=True)

    assert page.count('data-testid="ballot-card"') == 4 and "组织生活出勤" in page
    assert "已投票，可在投票结束前修改" in response.content.decode()
    assert Vote.objects.count() == 4
    again = client.get(f"/appraisal/my/{appraisal.pk}/ballot/").content.decode()
    assert again.count("checked") == 4


def test_a_ballot_with_a_card_left_blank_is_refused_on_the_page(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    client.force_login(branch.users["甲"])

    response = client.post(
        f"/appraisal/my/{appraisal.pk}/ballot/", {f"grade_{branch.members['乙'].pk}": "qualified"}
    )

    assert "请为每名党员选择等次" in response.content.decode()
    assert not Vote.objects.exists()


def test_a_probationary_member_is_told_they_do_not_vote(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    client.force_login(branch.users["丁"])

    html = client.get(f"/appraisal/my/{appraisal.pk}/ballot/").content.decode()

    assert 'data-testid="not-voter"' in html and 'data-testid="ballot-form"' not in html


def test_a_member_writes_the_self_evaluation(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    client.force_login(branch.users["甲"])

    response = client.post(f"/appraisal/my/{appraisal.pk}/self/", {"text": "按时参加组织生活，学习不够深入"})

    assert response.status_code == 302
    assert (
        appraisal.participants.get(member=branch.members["甲"]).self_evaluation
        == "按时参加组织生活，学习不够深入"
    )


def test_a_member_sees_the_others_self_evaluations_in_the_peer_step(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    from partyedu.appraisal.services import self_evaluation_save

    self_evaluation_save(actor=branch.users["乙"], appraisal=appraisal, text="乙的自我评价")
    close_step(appraisal, StepCode.SELF)
    open_step(appraisal, StepCode.PEER)
    client.force_login(branch.users["甲"])

    html = client.get(f"/appraisal/my/{appraisal.pk}/peer/").content.decode()

    assert "乙的自我评价" in html and html.count('data-testid="peer-card"') == 4


def test_my_page_lists_the_members_appraisals_with_what_to_do(client, branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    client.force_login(branch.users["甲"])

    html = client.get("/appraisal/my/").content.decode()

    assert f'href="/appraisal/my/{appraisal.pk}/"' in html and "请完成自我评价" in html

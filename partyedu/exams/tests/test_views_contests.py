"""Contest and live pages: every URL's permission cases, and the pages' behaviour."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.exams.models import ContestAward
from partyedu.exams.services.contests import contest_awards_grant, contest_publish
from partyedu.exams.services.live import live_create
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_user

from .conftest import taker
from .test_contests import add_round, make_contest, take

pytestmark = pytest.mark.django_db


class _ContestPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return make_contest(org, title="标记竞赛")


class TestContestList(_ContestPage):
    url_name = "exams:contest_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_list")


class TestContestCreate(ScopedEndpointTests):
    url_name = "exams:contest_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_create")


class TestContestDetail(_ContestPage):
    url_name = "exams:contest_detail"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_detail", args=[obj.pk])


class TestContestRoundCreate(_ContestPage):
    url_name = "exams:contest_round_create"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_round_create", args=[obj.pk])


class TestContestResults(_ContestPage):
    url_name = "exams:contest_results"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_results", args=[obj.pk])


class TestContestAwards(_ContestPage):
    url_name = "exams:contest_awards"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_awards", args=[obj.pk])


class TestContestPublish(PostRedirectEndpointTests, _ContestPage):
    url_name = "exams:contest_publish"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"published": "1"}

    def action_url(self, obj: Any) -> str:
        return reverse("exams:contest_publish", args=[obj.pk])


class TestContestAdvance(ScopedEndpointTests):
    url_name = "exams:contest_advance"

    def make_object(self, org: Any) -> Any:
        contest = make_contest(org, tiered=True)
        first = add_round(contest, advance_value=1)
        add_round(contest, "决赛")
        return first

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_advance", args=[obj.pk])


class TestContestCertificate(ScopedEndpointTests):
    url_name = "exams:contest_certificate"

    def make_object(self, org: Any) -> Any:
        contest = make_contest(org)
        user = taker(org, "获奖党员")
        take(user, add_round(contest), 4)
        member = Member.objects.get(user=user)
        [award] = contest_awards_grant(actor=None, contest=contest, grades={member.pk: "first"})
        return award

    def url(self, obj: ContestAward) -> str:
        return reverse("exams:contest_certificate", args=[obj.pk])


class _LivePage(ScopedEndpointTests):
    def make_object(self, org: Any) -> Any:
        contest = make_contest(org)
        return live_create(actor=None, round_=add_round(contest), team_names=["一队", "二队"])


class TestLiveCreate(_ContestPage):
    url_name = "exams:live_create"

    def url(self, obj: Any) -> str:
        return reverse("exams:live_create", args=[obj.pk])


class TestLiveControl(_LivePage):
    url_name = "exams:live_control"

    def url(self, obj: Any) -> str:
        return reverse("exams:live_control", args=[obj.pk])


class TestLiveScreen(_LivePage):
    url_name = "exams:live_screen"

    def url(self, obj: Any) -> str:
        return reverse("exams:live_screen", args=[obj.pk])


class TestLiveState(_LivePage):
    url_name = "exams:live_state"

    def url(self, obj: Any) -> str:
        return reverse("exams:live_state", args=[obj.pk])


class TestLiveStep(PostRedirectEndpointTests, _LivePage):
    url_name = "exams:live_step"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"step": "next", "current": "0"}

    def action_url(self, obj: Any) -> str:
        return reverse("exams:live_step", args=[obj.pk])


class TestLiveAnswer(PostRedirectEndpointTests, _LivePage):
    url_name = "exams:live_answer"

    def post_data(self, obj: Any) -> dict[str, Any]:
        return {"team": str(obj.teams.first().pk), "correct": "1"}

    def action_url(self, obj: Any) -> str:
        return reverse("exams:live_answer", args=[obj.pk])


def test_member_sees_published_results_without_the_ranking(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    round_ = add_round(contest)
    winner, other = taker(tree.branch_a, "甲党员"), taker(tree.branch_a, "乙党员")
    take(winner, round_, 4)
    take(other, round_, 1)
    client.force_login(other)
    url = reverse("exams:contest_results", args=[contest.pk])
    assert client.get(url).status_code == 404
    contest_publish(actor=None, contest=contest, published=True)
    page = client.get(url).content.decode()
    assert "甲一支部" in page and "甲党员" not in page and "25.00" in page


def test_organiser_results_page_query_count(
    client: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    contest = make_contest(tree.district_a)
    round_ = add_round(contest)
    for i in range(6):
        take(taker(tree.branch_a, f"党员{i}"), round_, i % 4)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    with django_assert_max_num_queries(30):
        response = client.get(reverse("exams:contest_results", args=[contest.pk]))
    assert response.status_code == 200


def test_live_control_flow_updates_the_scoreboard(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    live = live_create(actor=None, round_=add_round(contest), team_names=["一队", "二队"])
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(reverse("exams:live_step", args=[live.pk]), {"step": "next", "current": "0"})
    team = live.teams.get(name="二队")
    client.post(
        reverse("exams:live_answer", args=[live.pk]), {"team": team.pk, "response": "对", "current": "1"}
    )
    state = client.get(reverse("exams:live_state", args=[live.pk])).content.decode()
    assert "bi-check-circle" in state


def test_round_form_rejects_close_before_open(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    from partyedu.exams.models import Paper

    paper = Paper.objects.create(organization=tree.district_a, title="空卷")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("exams:contest_round_create", args=[contest.pk]),
        {
            "name": "第一轮",
            "paper": paper.pk,
            "opens_at": "2026-05-02T10:00",
            "closes_at": "2026-05-01T10:00",
            "attempts_allowed": 1,
            "grading": "highest",
        },
    )
    assert response.status_code == 200
    assert "截止时间应晚于开始时间" in response.content.decode()

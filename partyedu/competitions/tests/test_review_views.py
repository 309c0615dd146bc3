"""Reviewer pages (我的评审 and scoring on a phone) and member pages (self-nomination and 我的参赛
作品): scope, visibility of reviews and of other reviewers' scores, and query counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from partyedu.competitions.models import Competition, Entry, Review
from partyedu.competitions.services import entry_self_nominate, round_close
from partyedu.core.testing import OwnedEndpointTests
from partyedu.testsupport.factories import Tree, make_user

from .conftest import make_competition, make_round
from .pages import AssignedEndpointTests, contest, member_user, outside, submit

pytestmark = pytest.mark.django_db


# --- scope ----------------------------------------------------------------------------------------


class TestMyReviewsScope(AssignedEndpointTests):
    url_name = "competitions:my_reviews"
    kind = "list"

    def url(self, obj: Review) -> str:
        return reverse("competitions:my_reviews")

    def marker(self, obj: Review) -> str:
        return reverse("competitions:review_detail", args=[obj.pk])


class TestReviewDetailScope(AssignedEndpointTests):
    url_name = "competitions:review_detail"

    def url(self, obj: Review) -> str:
        return reverse("competitions:review_detail", args=[obj.pk])


class TestReviewVideoScope(AssignedEndpointTests):
    """The video is served to the reviewer assigned to the entry, and to no other reviewer."""

    url_name = "competitions:entry_file"

    def make_object(self, org: Any) -> Review:
        return contest(org, outside(org), reviewers=1, video=True).reviews[0]

    def url(self, obj: Review) -> str:
        return reverse("competitions:entry_file", args=[obj.round_entry.entry_id, "video"])


class MemberEndpointTests(OwnedEndpointTests):
    """Member pages: the "organisation" of a member is their own record. The member who owns the
    object sees it; another member (of a sibling branch) does not."""

    role = "member"

    def stranger(self, scope_tree: Tree) -> Any:
        return member_user(scope_tree.branch_b, "乙支部党员")


class TestMyEntriesScope(MemberEndpointTests):
    url_name = "competitions:my_entries"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Entry:
        competition = make_competition(org.parent.parent)
        make_round(competition)
        return entry_self_nominate(
            actor=member_user(org), competition=competition, data={"title": "我的党课丙"}
        )

    def owner(self, obj: Entry) -> Any:
        return obj.lecturer.user

    def url(self, obj: Entry) -> str:
        return reverse("competitions:my_entries")


class TestNominateScope(MemberEndpointTests):
    """A member may nominate themself to competitions held at or above their branch."""

    url_name = "competitions:nominate"

    def make_object(self, org: Any) -> Any:
        competition = make_competition(org)
        make_round(competition)
        competition.owner = member_user(org)  # type: ignore[attr-defined]
        return competition

    def owner(self, obj: Competition) -> Any:
        return obj.owner  # type: ignore[attr-defined]

    def url(self, obj: Competition) -> str:
        return reverse("competitions:nominate", args=[obj.pk])


# --- the reviewer's list ---------------------------------------------------------------------------


def test_reviewer_sees_only_their_own_reviews(client, tree):
    c = contest(tree.branch_a, tree.district_b, entries=2)
    mine, theirs = c.reviews_of(c.reviewers[0]), c.reviews_of(c.reviewers[1])
    client.force_login(c.reviewers[0])
    response = client.get(reverse("competitions:my_reviews"))
    assert [r.pk for r in response.context["page_obj"]] == [r.pk for r in mine]
    body = response.content.decode()
    for review in theirs:
        assert reverse("competitions:review_detail", args=[review.pk]) not in body


def test_pending_reviews_come_before_submitted_ones(client, tree):
    c = contest(tree.branch_a, tree.district_b, entries=3, reviewers=1)
    first, second, third = c.reviews
    submit(first)
    client.force_login(c.reviewers[0])
    response = client.get(reverse("competitions:my_reviews"))
    assert [r.pk for r in response.context["page_obj"]] == [second.pk, third.pk, first.pk]
    assert response.context["pending"] == 2


def test_organiser_does_not_reach_a_review_page(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    client.force_login(make_user(role="org_admin", org=tree.root))
    assert client.get(reverse("competitions:review_detail", args=[c.reviews[0].pk])).status_code == 404


def test_another_reviewers_review_is_404(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    other = c.reviews_of(c.reviewers[1])[0]
    client.force_login(c.reviewers[0])
    assert client.get(reverse("competitions:review_detail", args=[other.pk])).status_code == 404


def test_another_reviewer_cannot_score_a_review_not_theirs(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    other = c.reviews_of(c.reviewers[1])[0]
    client.force_login(c.reviewers[0])
    response = client.post(
        reverse("competitions:review_detail", args=[other.pk]), _score_post(other, 90, 90, 90)
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.submitted_at is None


# --- scoring -------------------------------------------------------------------------------------


def _score_post(
    review: Review, content: Any, expression: Any, effect: Any, comment: str = ""
) -> dict[str, Any]:
    criteria = {c.name: c.pk for c in review.round_entry.round.competition.criteria.all()}
    return {
        f"score_{criteria['内容']}": content,
        f"score_{criteria['表达']}": expression,
        f"score_{criteria['效果']}": effect,
        "comment": comment,
    }


def test_review_page_shows_the_entry_video_and_weights(client, tree):
    c = contest(tree.branch_a, tree.district_b, video=True)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    body = client.get(reverse("competitions:review_detail", args=[review.pk])).content.decode()
    video_url = reverse("competitions:entry_file", args=[review.round_entry.entry_id, "video"])
    assert f'<video class="pe-video mb-2" controls preload="metadata" playsinline src="{video_url}"' in body
    assert reverse("competitions:entry_file", args=[review.round_entry.entry_id, "materials"]) in body
    assert "权重 40" in body and "微党课" in body and "讲述支部的故事" in body
    assert 'step="0.1"' in body


def test_review_page_does_not_name_the_lecturer(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    body = client.get(reverse("competitions:review_detail", args=[review.pk])).content.decode()
    assert c.entries[0].lecturer.name not in body


def test_assigned_reviewer_plays_the_video_in_ranges(client, tree):
    c = contest(tree.branch_a, tree.district_b, video=True)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    url = reverse("competitions:entry_file", args=[review.round_entry.entry_id, "video"])
    response = client.get(url, HTTP_RANGE="bytes=0-3")
    assert response.status_code == 206
    assert response["Content-Range"].startswith("bytes 0-3/")
    assert b"".join(response.streaming_content) == b"\x00\x00\x00\x18"


def test_submitting_scores_stores_the_weighted_total(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    response = client.post(
        reverse("competitions:review_detail", args=[review.pk]),
        _score_post(review, "90", "80.5", "70", "讲得好"),
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.total == Decimal("81.150")
    assert review.comment == "讲得好"


def test_a_score_above_100_is_refused_on_its_field(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    response = client.post(
        reverse("competitions:review_detail", args=[review.pk]), _score_post(review, 101, 80, 70)
    )
    assert response.status_code == 400
    assert "确保该值小于或等于100" in response.content.decode()
    review.refresh_from_db()
    assert review.submitted_at is None


def test_a_missing_score_names_the_criterion(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    review = c.reviews_of(c.reviewers[0])[0]
    client.force_login(c.reviewers[0])
    response = client.post(
        reverse("competitions:review_detail", args=[review.pk]), _score_post(review, 90, "", 70)
    )
    assert "请为“表达”打分" in response.content.decode()


def test_peers_are_hidden_before_submission(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    mine = c.reviews_of(c.reviewers[0])[0]
    submit(c.reviews_of(c.reviewers[1])[0], content=60, expression=60, effect=60)
    client.force_login(c.reviewers[0])
    response = client.get(reverse("competitions:review_detail", args=[mine.pk]))
    body = response.content.decode()
    assert response.context["peers"] == []
    assert "其他评委的总分" not in body
    assert "60.000" not in body


def test_peers_appear_anonymously_after_submission(client, tree):
    c = contest(tree.branch_a, tree.district_b, reviewers=3)
    mine = c.reviews_of(c.reviewers[0])[0]
    submit(c.reviews_of(c.reviewers[1])[0], content=60, expression=60, effect=60)
    client.force_login(c.reviewers[0])
    response = client.post(
        reverse("competitions:review_detail", args=[mine.pk]), _score_post(mine, 90, 90, 90), follow=True
    )
    body = response.content.decode()
    assert response.context["peers"] == [("评委A", Decimal("60.000"))]
    assert "评委A" in body and "60.000" in body
    for peer in c.reviewers[1:]:
        assert peer.username not in body


def test_closed_round_no_longer_takes_scores(client, tree):
    c = contest(tree.branch_a, tree.district_b, reviewers=1)
    review = c.reviews[0]
    round_close(actor=None, round_=c.round, override=True, reason="提前结束")
    client.force_login(c.reviewers[0])
    body = client.get(reverse("competitions:review_detail", args=[review.pk])).content.decode()
    assert "本轮评审已结束" in body
    assert '<form method="post" class="card card-body mb-3" novalidate data-score-form>' not in body


def test_my_reviews_queries_do_not_grow_with_assignments(client, tree, django_assert_max_num_queries):
    c = contest(tree.branch_a, tree.district_b, entries=15, reviewers=1)
    for review in c.reviews[:5]:
        submit(review)
    client.force_login(c.reviewers[0])
    client.get(reverse("competitions:my_reviews"))
    with django_assert_max_num_queries(9):
        response = client.get(reverse("competitions:my_reviews"))
    assert len(response.context["page_obj"]) == 15


# --- members ---------------------------------------------------------------------------------------


def test_member_sees_open_competitions_covering_their_branch(client, tree):
    above = make_competition(tree.root, title="全市评选")
    make_round(above)
    elsewhere = make_competition(tree.district_b, title="乙区评选")
    make_round(elsewhere)
    client.force_login(member_user(tree.branch_a))
    body = client.get(reverse("competitions:my_entries")).content.decode()
    assert "全市评选" in body
    assert "乙区评选" not in body


def test_member_cannot_nominate_to_a_competition_not_covering_them(client, tree):
    elsewhere = make_competition(tree.district_b)
    make_round(elsewhere)
    client.force_login(member_user(tree.branch_a))
    assert client.get(reverse("competitions:nominate", args=[elsewhere.pk])).status_code == 404


def test_self_nomination_waits_for_the_branch(client, tree):
    competition = make_competition(tree.root)
    make_round(competition)
    user = member_user(tree.branch_a, "李自荐")
    client.force_login(user)
    response = client.post(
        reverse("competitions:nominate", args=[competition.pk]),
        {"title": "我的党课", "summary": "讲身边的榜样"},
        follow=True,
    )
    entry = Entry.objects.get()
    assert (entry.lecturer.user, entry.endorsed) == (user, False)
    assert "待支部推荐" in response.content.decode()


def test_member_withdraws_their_own_entry(client, tree):
    competition = make_competition(tree.root)
    make_round(competition)
    user = member_user(tree.branch_a)
    entry = entry_self_nominate(actor=user, competition=competition, data={"title": "我的党课"})
    client.force_login(user)
    response = client.post(reverse("competitions:entry_withdraw", args=[entry.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("competitions:my_entries")
    entry.refresh_from_db()
    assert entry.withdrawn


def test_user_without_a_member_record_gets_403_on_my_entries(client, tree):
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert client.get(reverse("competitions:my_entries")).status_code == 403


def test_menu_entry_sends_a_reviewer_to_their_reviews(client, tree):
    c = contest(tree.branch_a, tree.district_b)
    client.force_login(c.reviewers[0])
    response = client.get(reverse("competitions:index"))
    assert response["Location"] == reverse("competitions:my_reviews")


def test_menu_entry_sends_a_member_to_their_entries(client, tree):
    client.force_login(member_user(tree.branch_a))
    response = client.get(reverse("competitions:index"))
    assert response["Location"] == reverse("competitions:my_entries")

"""发布到党课库 from the awards page: the video of a 优秀党课 becomes a lecture library item — an
online study resource of the organiser's subtree whose completion credits 网络学习 hours — with
the pool lecturer of the entry's member and the honour “<competition> 优秀党课”; an entry is
published once. Scope of the new page, refusals, and the awards page's state per award."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from partyedu.competitions.models import Award, Entry, Review
from partyedu.competitions.services import awards_grant, certificate_revoke, round_close
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.models import LearningHourEntry, MemberYearHours, OnlineResource
from partyedu.learning.services import resource_heartbeat
from partyedu.lectures.models import LibraryItem
from partyedu.lectures.services import lecturer_create, library_series_create
from partyedu.testsupport.factories import make_member, make_user

from .pages import Contest, contest, lecture_award, outside, submit

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 4, 2, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def finished_with_video(org: Any, *, entries: int = 2, lectures: int = 1, video: bool = True) -> Contest:
    """A one-round competition at ``org`` whose entries have videos, every review submitted
    (first entry best), closed, and awards granted: ``lectures`` 优秀党课, one 优秀主讲人, one
    优秀组织单位."""
    c = contest(org, outside(org), entries=entries, video=video)
    ranks = {entry.pk: i for i, entry in enumerate(c.entries)}
    for review in Review.objects.filter(round_entry__round=c.round).select_related("round_entry", "reviewer"):
        submit(review, content=90 - 10 * ranks[review.round_entry.entry_id])
    round_close(actor=None, round_=c.round)
    awards_grant(
        actor=None,
        competition=c.competition,
        data={
            "lecture_count": lectures,
            "lecturer_count": 1,
            "organization_count": 1,
            "awarded_on": date(2026, 6, 1),
        },
    )
    return c


def publish_url(award: Award) -> str:
    return reverse("competitions:award_publish", args=[award.pk])


def publish_post(**extra: Any) -> dict[str, Any]:
    return {"credit_hours": "1.5", "duration_minutes": "10", **extra}


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


@pytest.fixture
def awarded(tree) -> Contest:
    return finished_with_video(tree.branch_a)


# --- scope of the new page -----------------------------------------------------------------------


class TestAwardPublishScope(ScopedEndpointTests):
    """The publishing form: no role 403, the organiser's administrators 200, a sibling 404."""

    url_name = "competitions:award_publish"

    def make_object(self, org: Any) -> Award:
        return lecture_award(finished_with_video(org))

    def url(self, obj: Award) -> str:
        return publish_url(obj)


class TestAwardPublishPostScope(ScopedEndpointTests):
    """The same for the POST that publishes (followed to the awards page); a sibling's POST
    publishes nothing."""

    url_name = "competitions:award_publish"

    def make_object(self, org: Any) -> Award:
        return lecture_award(finished_with_video(org))

    def url(self, obj: Award) -> str:
        return publish_url(obj)

    def _get(self, client: Any, url: str) -> Any:
        signed_in = "_auth_user_id" in client.session
        return client.post(url, publish_post(), follow=signed_in)

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Any) -> None:
        super().test_role_at_a_sibling_org_gets_404_or_nothing(client, scope_tree)
        assert not LibraryItem.objects.exists()

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Any) -> None:
        super().test_role_at_the_org_gets_200(client, scope_tree)
        assert LibraryItem.objects.count() == 1


def test_a_reviewer_does_not_reach_the_publishing_form(client, tree, awarded):
    review = Review.objects.filter(round_entry__round=awarded.round).select_related("reviewer").first()
    assert review is not None
    client.force_login(review.reviewer)
    assert client.get(publish_url(lecture_award(awarded))).status_code == 404


# --- the awards page -----------------------------------------------------------------------------


def test_the_awards_page_offers_publishing_only_for_a_lecture_award_with_a_video(
    client, tree, organiser, awarded
):
    client.force_login(organiser)
    html = client.get(reverse("competitions:award_list", args=[awarded.competition.pk])).content.decode()
    assert html.count('data-testid="publish"') == 1
    assert publish_url(lecture_award(awarded)) in html
    for other in Award.objects.exclude(kind="lecture"):
        assert publish_url(other) not in html


def test_an_entry_without_a_video_is_not_offered(client, tree, organiser):
    c = finished_with_video(tree.branch_a, video=False)
    client.force_login(organiser)
    html = client.get(reverse("competitions:award_list", args=[c.competition.pk])).content.decode()
    assert 'data-testid="publish"' not in html
    response = client.get(publish_url(lecture_award(c)), follow=True)
    assert "该作品没有上传授课视频，不能发布到党课库" in response.content.decode()


def test_an_organiser_without_library_rights_sees_no_button_and_gets_403(client, tree, awarded):
    """A deployment may give a role competitions rights without lectures.add (the library)."""
    from partyedu.accounts.models import Role

    Role.objects.filter(code="inspector").update(actions=["competitions.view", "competitions.change"])
    user = make_user(role="inspector", org=tree.root)
    client.force_login(user)
    html = client.get(reverse("competitions:award_list", args=[awarded.competition.pk])).content.decode()
    assert lecture_award(awarded).recipient in html
    assert 'data-testid="publish"' not in html
    assert client.get(publish_url(lecture_award(awarded))).status_code == 403
    assert client.post(publish_url(lecture_award(awarded)), publish_post()).status_code == 403
    assert not LibraryItem.objects.exists()


def test_a_branch_secretary_publishes_for_their_branchs_competition(client, tree, awarded):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("competitions:award_list", args=[awarded.competition.pk])).content.decode()
    assert 'data-testid="publish"' in html


def test_the_awards_page_reads_the_library_state_in_one_query(
    client, tree, organiser, django_assert_max_num_queries
):
    c = finished_with_video(tree.branch_a, entries=8, lectures=8)
    client.force_login(organiser)
    url = reverse("competitions:award_list", args=[c.competition.pk])
    client.get(url)
    # session, user, grants, competition, awards, library state, session save (up to 3)
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.content.decode().count('data-testid="publish"') == 8


# --- publishing ----------------------------------------------------------------------------------


def test_publishing_makes_a_published_video_resource_with_the_honour_and_the_pool_lecturer(
    client, tree, organiser, awarded
):
    award = lecture_award(awarded)
    entry = Entry.objects.select_related("lecturer").get(pk=award.entry_id)
    pool = lecturer_create(actor=None, data={"organization": tree.district_a, "member": entry.lecturer})
    series = library_series_create(actor=None, data={"organization": tree.district_a, "title": "精品党课"})
    client.force_login(organiser)
    form = client.get(publish_url(award)).content.decode()
    assert "精品党课" in form and entry.title in form
    assert f"{awarded.competition.title} 优秀党课" in form
    response = client.post(
        publish_url(award),
        publish_post(series=series.pk, show_from="2026-06-01", show_until="2026-12-31"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("competitions:award_list", args=[awarded.competition.pk])
    assert f"已发布到党课库：{entry.title}" in response.content.decode()
    item = LibraryItem.objects.select_related("resource").get()
    resource = item.resource
    assert isinstance(resource, OnlineResource)
    assert (resource.organization, resource.kind, resource.title, resource.is_published) == (
        tree.branch_a,
        "video",
        entry.title,
        True,
    )
    assert (resource.credit_hours, resource.duration_seconds) == (Decimal("1.5"), 600)
    assert (item.lecturer, item.series, item.honour) == (
        pool,
        series,
        f"{awarded.competition.title} 优秀党课",
    )
    assert (item.show_from, item.show_until) == (date(2026, 6, 1), date(2026, 12, 31))
    # The resource has its own copy of the video: the entry keeps its file.
    entry.refresh_from_db()
    assert entry.video and resource.file.name != entry.video.name
    assert resource.file.read() == entry.video.read()
    assert 'data-testid="in-library"' in response.content.decode()


def test_an_entry_whose_member_is_in_no_pool_is_published_without_a_lecturer(
    client, tree, organiser, awarded
):
    client.force_login(organiser)
    client.post(publish_url(lecture_award(awarded)), publish_post())
    assert LibraryItem.objects.get().lecturer is None


def test_studying_the_published_lecture_credits_online_hours(client, tree, organiser, awarded):
    client.force_login(organiser)
    client.post(publish_url(lecture_award(awarded)), publish_post(credit_hours="1"))
    resource = LibraryItem.objects.get().resource
    member = make_member(tree.branch_a, "学习党员")
    learner = make_user(role="member", org=tree.branch_a)
    member.user = learner
    member.save(update_fields=["user"])
    resource_heartbeat(user=learner, resource=resource, start=0, end=0, at=T0)
    for i in range(1, 11):  # 10 × 57 s = 570 s = 95 % of 600 s
        result = resource_heartbeat(
            user=learner,
            resource=resource,
            start=(i - 1) * 57,
            end=i * 57,
            at=T0 + timedelta(seconds=i * 57),
        )
    assert result.just_completed
    line = LearningHourEntry.objects.get(member=member)
    assert (line.kind, line.hours, line.source_type) == ("online", Decimal("1"), "resource")
    assert MemberYearHours.objects.get(member=member, year=2026).online == Decimal("1")


def test_the_same_entry_is_not_published_twice(client, tree, organiser, awarded):
    award = lecture_award(awarded)
    client.force_login(organiser)
    client.post(publish_url(award), publish_post())
    again = client.post(publish_url(award), publish_post(), follow=True)
    message = f"“{award.entry.title}”已发布到党课库，不能重复发布；如已下架，请在党课库中重新上架"
    assert message in again.content.decode()
    assert client.get(publish_url(award), follow=True).content.decode().count(message) == 1
    assert LibraryItem.objects.count() == 1
    awards_page = client.get(reverse("competitions:award_list", args=[awarded.competition.pk]))
    assert 'data-testid="publish"' not in awards_page.content.decode()


def test_a_withdrawn_library_item_still_counts_as_published(client, tree, organiser, awarded):
    from partyedu.lectures.services import library_item_withdraw

    award = lecture_award(awarded)
    client.force_login(organiser)
    client.post(publish_url(award), publish_post())
    library_item_withdraw(actor=organiser, item=LibraryItem.objects.get())
    client.post(publish_url(award), publish_post())
    assert LibraryItem.objects.count() == 1


def test_two_lectures_of_the_same_title_by_different_lecturers_are_both_published(client, tree, organiser):
    c = finished_with_video(tree.branch_a, entries=2, lectures=2)
    Entry.objects.filter(pk__in=[e.pk for e in c.entries]).update(title="同一个题目")
    for entry in Entry.objects.filter(pk__in=[e.pk for e in c.entries]).select_related("lecturer"):
        lecturer_create(actor=None, data={"organization": tree.district_a, "member": entry.lecturer})
    client.force_login(organiser)
    for award in Award.objects.filter(competition=c.competition, kind="lecture"):
        client.post(publish_url(award), publish_post())
    items = list(LibraryItem.objects.select_related("lecturer"))
    assert len(items) == 2
    assert {i.lecturer.member_id for i in items if i.lecturer} == {e.lecturer_id for e in c.entries}


def test_other_awards_and_revoked_certificates_are_refused(client, tree, organiser, awarded):
    client.force_login(organiser)
    lecturer_award = Award.objects.get(competition=awarded.competition, kind="lecturer")
    response = client.get(publish_url(lecturer_award), follow=True)
    assert "只有“优秀党课”奖项的作品可以发布到党课库" in response.content.decode()
    award = lecture_award(awarded)
    certificate_revoke(actor=None, certificate=award.certificate, reason="材料失实")
    response = client.post(publish_url(award), publish_post(), follow=True)
    assert "该奖项的证书已撤销，不能发布到党课库" in response.content.decode()
    assert not LibraryItem.objects.exists()


def test_a_video_the_library_cannot_take_is_not_offered(client, tree, organiser, awarded):
    award = lecture_award(awarded)
    Entry.objects.filter(pk=award.entry_id).update(video="competitions/2026/06/talk.mov")
    client.force_login(organiser)
    html = client.get(reverse("competitions:award_list", args=[awarded.competition.pk])).content.decode()
    assert 'data-testid="publish"' not in html
    response = client.post(publish_url(award), publish_post(), follow=True)
    assert "该作品的视频为MOV格式，党课库只支持 MP4、WebM 视频" in response.content.decode()
    assert not LibraryItem.objects.exists()


def test_a_video_whose_length_cannot_be_read_needs_the_duration(client, tree, organiser, awarded):
    client.force_login(organiser)
    response = client.post(publish_url(lecture_award(awarded)), {"credit_hours": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["duration_minutes"] == ["无法从文件中读取播放时长，请填写时长"]
    assert not LibraryItem.objects.exists() and not OnlineResource.objects.exists()


def test_showing_must_end_after_it_starts(client, tree, organiser, awarded):
    client.force_login(organiser)
    response = client.post(
        publish_url(lecture_award(awarded)), publish_post(show_from="2026-07-01", show_until="2026-06-01")
    )
    assert response.context["form"].errors["show_until"] == ["展播结束日期不能早于开始日期"]
    assert not LibraryItem.objects.exists()


def test_a_series_of_a_sibling_is_not_offered(client, tree, organiser, awarded):
    sibling = library_series_create(actor=None, data={"organization": tree.district_b, "title": "乙区系列"})
    client.force_login(organiser)
    response = client.post(publish_url(lecture_award(awarded)), publish_post(series=sibling.pk))
    assert "series" in response.context["form"].errors
    assert not LibraryItem.objects.exists()

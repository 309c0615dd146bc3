"""Contest and live pages: every URL's permission cases, and the pages' behaviour."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.models import Job
from partyedu.core.testing import PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.exams.models import Contest, ContestAward, ContestRound
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


class TestContestEdit(_ContestPage):
    url_name = "exams:contest_edit"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_edit", args=[obj.pk])


class TestContestDelete(_ContestPage):
    url_name = "exams:contest_delete"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_delete", args=[obj.pk])


class _RoundPage(ScopedEndpointTests):
    def make_object(self, org: Any) -> Any:
        return add_round(make_contest(org))


class TestContestRoundEdit(_RoundPage):
    url_name = "exams:contest_round_edit"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_round_edit", args=[obj.pk])


class TestContestRoundDelete(_RoundPage):
    url_name = "exams:contest_round_delete"

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_round_delete", args=[obj.pk])


class TestContestResultsExport(_ContestPage):
    url_name = "exams:contest_results_export"

    def make_object(self, org: Any) -> Any:
        contest = make_contest(org, title="标记竞赛")
        take(taker(org, "参赛党员"), add_round(contest), 3)
        return contest

    def url(self, obj: Any) -> str:
        return reverse("exams:contest_results_export", args=[obj.pk])


class TestContestAwardRevoke(TestContestCertificate):
    url_name = "exams:contest_award_revoke"

    def url(self, obj: ContestAward) -> str:
        return reverse("exams:contest_award_revoke", args=[obj.pk])


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


# --- managing a contest --------------------------------------------------------------------------


def _award(org: Any) -> ContestAward:
    contest = make_contest(org)
    user = taker(org, "获奖党员")
    take(user, add_round(contest), 4)
    member = Member.objects.get(user=user)
    [award] = contest_awards_grant(actor=None, contest=contest, grades={member.pk: "first"})
    return award


def test_the_edit_page_saves_the_contest(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(
        reverse("exams:contest_edit", args=[contest.pk]),
        {
            "title": "党纪知识竞赛",
            "starts_on": contest.starts_on,
            "ends_on": contest.ends_on,
            "description": "",
        },
    )

    assert response["Location"] == reverse("exams:contest_detail", args=[contest.pk])
    assert Contest.objects.get(pk=contest.pk).title == "党纪知识竞赛"


def test_the_edit_page_names_a_bad_date_in_chinese(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(
        reverse("exams:contest_edit", args=[contest.pk]),
        {"title": "竞赛", "starts_on": "2026-05-10", "ends_on": "2026-05-01"},
    )

    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert Contest.objects.get(pk=contest.pk).title == "党史知识竞赛"


def test_the_round_edit_page_of_a_taken_round_locks_all_but_name_and_closing_time(
    client: Any, tree: Any
) -> None:
    round_ = add_round(make_contest(tree.district_a))
    take(taker(tree.branch_a, "答题党员"), round_, 2)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    page = client.get(reverse("exams:contest_round_edit", args=[round_.pk])).content.decode()

    assert 'data-testid="round-locked"' in page
    assert 'name="attempts_allowed"' in page and "disabled" in page.split('name="attempts_allowed"')[1][:200]
    assert "disabled" not in page.split('name="closes_at"')[1][:120]


def test_a_taken_round_keeps_its_cap_whatever_is_posted(client: Any, tree: Any) -> None:
    round_ = add_round(make_contest(tree.district_a))
    take(taker(tree.branch_a, "答题党员"), round_, 2)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("exams:contest_round_edit", args=[round_.pk])
    data = {"name": "第一周", "closes_at": "2030-01-01T10:00", "attempts_allowed": 9}

    response = client.post(url, data)

    assert response.status_code == 302
    round_.refresh_from_db()
    assert (round_.name, round_.exam.attempts_allowed) == ("第一周", 1)


def test_the_delete_page_of_a_taken_contest_refuses_without_a_button(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    take(taker(tree.branch_a, "答题党员"), add_round(contest), 2)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("exams:contest_delete", args=[contest.pk])

    page = client.get(url).content.decode()
    client.post(url, {"confirm": "on"})

    assert "竞赛已有党员答题，不能删除" in page and "确认删除" not in page
    assert Contest.objects.filter(pk=contest.pk).exists()


def test_the_delete_page_deletes_an_untaken_contest(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    add_round(contest)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(reverse("exams:contest_delete", args=[contest.pk]), {"confirm": "on"})

    assert response["Location"] == reverse("exams:contest_list")
    assert not Contest.objects.filter(pk=contest.pk).exists()


def test_the_round_delete_page_deletes_an_untaken_round(client: Any, tree: Any) -> None:
    round_ = add_round(make_contest(tree.district_a))
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(reverse("exams:contest_round_delete", args=[round_.pk]), {"confirm": "on"})

    assert response["Location"] == reverse("exams:contest_detail", args=[round_.contest_id])
    assert not ContestRound.objects.filter(pk=round_.pk).exists()


def test_the_detail_page_offers_no_delete_once_a_round_was_taken(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    taken = add_round(contest)
    take(taker(tree.branch_a, "答题党员"), taken, 2)
    untaken = add_round(contest, "第二轮")
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    page = client.get(reverse("exams:contest_detail", args=[contest.pk])).content.decode()

    assert 'data-testid="contest-delete"' not in page
    assert reverse("exams:contest_round_delete", args=[taken.pk]) not in page
    assert reverse("exams:contest_round_delete", args=[untaken.pk]) in page


def test_the_detail_page_offers_edit_and_delete_to_the_organiser_only_as_rights_allow(
    client: Any, tree: Any
) -> None:
    contest = make_contest(tree.district_a)
    client.force_login(make_user(role="branch_admin", org=tree.district_a))

    page = client.get(reverse("exams:contest_detail", args=[contest.pk])).content.decode()

    assert 'data-testid="contest-edit"' in page and 'data-testid="contest-delete"' not in page


def _sheets(response: Any) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_the_results_page_links_the_export(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    page = client.get(reverse("exams:contest_results", args=[contest.pk])).content.decode()

    assert reverse("exams:contest_results_export", args=[contest.pk]) in page


def test_the_export_downloads_two_sheets(client: Any, tree: Any) -> None:
    contest = make_contest(tree.district_a)
    take(taker(tree.branch_a, "甲党员"), add_round(contest), 3)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    sheets = _sheets(client.get(reverse("exams:contest_results_export", args=[contest.pk])))

    assert list(sheets) == ["党员成绩", "各单位成绩"]
    assert sheets["党员成绩"][1] == (1, "甲党员", "甲一支部", 75, 75)


def test_the_export_query_count_does_not_grow_with_the_participants(
    client: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    contest = make_contest(tree.district_a)
    first, second = add_round(contest), add_round(contest, "第二轮")
    for i in range(8):
        user = taker(tree.branch_a, f"党员{i}")
        take(user, first, i % 4)
        take(user, second, (i + 1) % 4)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    with django_assert_max_num_queries(25):
        response = client.get(reverse("exams:contest_results_export", args=[contest.pk]))

    assert response.status_code == 200


def test_a_long_export_runs_as_a_background_job(
    client: Any, tree: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EXPORT_SYNC_MAX_ROWS = 1
    contest = make_contest(tree.district_a)
    round_ = add_round(contest)
    take(taker(tree.branch_a, "甲党员"), round_, 3)
    take(taker(tree.branch_a, "乙党员"), round_, 2)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("exams:contest_results_export", args=[contest.pk]))

    job = Job.objects.get(kind="exams.contest_results_export")
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.result_file


def test_the_awards_page_revokes_a_certificate_which_then_verifies_as_revoked(client: Any, tree: Any) -> None:
    award = _award(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    awards_page = client.get(reverse("exams:contest_awards", args=[award.contest_id])).content.decode()
    assert reverse("exams:contest_award_revoke", args=[award.pk]) in awards_page

    response = client.post(reverse("exams:contest_award_revoke", args=[award.pk]), {"reason": "违反竞赛纪律"})

    assert response["Location"] == reverse("exams:contest_awards", args=[award.contest_id])
    code = award.award.certificate.code
    assert "该证书已撤销" in client.get(reverse("verify:certificate", args=[code])).content.decode()


def test_the_revoke_page_asks_for_the_reason(client: Any, tree: Any) -> None:
    award = _award(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(reverse("exams:contest_award_revoke", args=[award.pk]), {"reason": ""})

    assert response.status_code == 200
    assert "撤销原因" in response.content.decode()
    award.award.certificate.refresh_from_db()
    assert award.award.certificate.revoked_at is None


def test_a_revoked_certificate_is_no_longer_downloaded(client: Any, tree: Any) -> None:
    award = _award(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(reverse("exams:contest_award_revoke", args=[award.pk]), {"reason": "违反竞赛纪律"})

    response = client.get(reverse("exams:contest_certificate", args=[award.pk]))

    assert response.status_code == 302
    assert response["Content-Type"] != "application/pdf"


def test_the_awards_page_query_count(client: Any, tree: Any, django_assert_max_num_queries: Any) -> None:
    contest = make_contest(tree.district_a)
    round_ = add_round(contest)
    users = [taker(tree.branch_a, f"党员{i}") for i in range(6)]
    for i, user in enumerate(users):
        take(user, round_, i % 4 + 1)
    members = Member.objects.filter(user__in=users)
    contest_awards_grant(actor=None, contest=contest, grades={m.pk: "merit" for m in members})
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    with django_assert_max_num_queries(25):
        response = client.get(reverse("exams:contest_awards", args=[contest.pk]))

    assert response.status_code == 200


def test_the_round_edit_page_saves_an_untaken_round(client: Any, tree: Any) -> None:
    round_ = add_round(make_contest(tree.district_a))
    client.force_login(make_user(role="org_admin", org=tree.district_a))

    response = client.post(
        reverse("exams:contest_round_edit", args=[round_.pk]),
        {
            "name": "初赛",
            "paper": round_.exam.paper_id,
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-02T09:00",
            "time_limit_minutes": "",
            "attempts_allowed": 3,
            "grading": "last",
        },
    )

    assert response.status_code == 302
    round_.refresh_from_db()
    exam = round_.exam
    assert (round_.name, exam.attempts_allowed, exam.grading, exam.time_limit_minutes) == (
        "初赛",
        3,
        "last",
        None,
    )


def test_the_revoke_page_of_a_revoked_certificate_says_so_without_a_form(client: Any, tree: Any) -> None:
    award = _award(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("exams:contest_award_revoke", args=[award.pk])
    client.post(url, {"reason": "违反竞赛纪律"})

    page = client.get(url).content.decode()

    assert 'data-testid="revoked"' in page and "违反竞赛纪律" in page and 'name="reason"' not in page

"""Organiser pages: scope of every page, creating a competition with its rubric, rounds,
recommending and endorsing entries, the round page (panel, assignment, reassignment, results,
advancement with override, export), awards, and pinned query counts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.competitions.choices import EntrySource, RoundStatus
from partyedu.competitions.models import Award, Competition, Entry, Review, RoundEntry
from partyedu.competitions.services import entry_self_nominate, round_close
from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_competition, make_round, panel, reviewer
from .pages import contest, finished, lecture_award, member_user, outside, submit

pytestmark = pytest.mark.django_db


# --- scope of every page ------------------------------------------------------------------------


class TestIndexScope(ScopedEndpointTests):
    """The menu entry lands an organiser on their competitions."""

    url_name = "competitions:index"

    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Competition:
        return make_competition(org, title="目标评选甲")

    def url(self, obj: Competition) -> str:
        return reverse("competitions:index")

    def _get(self, client: Any, url: str) -> Any:
        return client.get(url, follow="_auth_user_id" in client.session)


class TestCompetitionListScope(ScopedEndpointTests):
    url_name = "competitions:competition_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Competition:
        return make_competition(org, title="目标评选乙")

    def url(self, obj: Competition) -> str:
        return reverse("competitions:competition_list")


class TestCompetitionCreateScope(ScopedEndpointTests):
    """Anyone who may add competitions sees the form; one at a sibling cannot hold one at the
    object's organisation (the picker refuses it)."""

    url_name = "competitions:competition_create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("competitions:competition_create")

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Any) -> None:
        client.force_login(make_user(role="org_admin", org=scope_tree.district_b))
        response = client.post(self.url(None), rubric_post(scope_tree.branch_a))
        assert response.status_code == 200
        assert "所选组织不存在或不在您的权限范围内" in response.content.decode()
        assert not Competition.objects.exists()


class CompetitionPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Competition:
        competition = make_competition(org)
        make_round(competition)
        return competition

    def url(self, obj: Competition) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestCompetitionDetailScope(CompetitionPage):
    url_name = "competitions:competition_detail"


class TestRoundCreateScope(CompetitionPage):
    url_name = "competitions:round_create"


class TestEntryCreateScope(CompetitionPage):
    url_name = "competitions:entry_create"


class RoundPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return contest(org, outside(org)).round

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestRoundDetailScope(RoundPage):
    url_name = "competitions:round_detail"


class TestRoundEditScope(RoundPage):
    url_name = "competitions:round_edit"


class TestRoundReassignScope(RoundPage):
    url_name = "competitions:round_reassign"


class TestRoundExportScope(RoundPage):
    url_name = "competitions:round_export"


class TestRoundPanelScope(PostEndpointTests):
    url_name = "competitions:round_panel"

    def make_object(self, org: Any) -> Any:
        return contest(org, outside(org))

    def post_data(self, obj: Any) -> dict[str, Any]:
        # A reviewer within the organiser's scope (the panel is set before any conflict check).
        return {"users": [reviewer(obj.competition.organization).pk]}

    def action_url(self, obj: Any) -> str:
        return reverse("competitions:round_panel", args=[obj.round.pk])


class TestRoundAssignScope(TestRoundPanelScope):
    url_name = "competitions:round_assign"

    def action_url(self, obj: Any) -> str:
        return reverse("competitions:round_assign", args=[obj.round.pk])


class TestRoundFinishScope(TestRoundPanelScope):
    url_name = "competitions:round_finish"

    def make_object(self, org: Any) -> Any:
        c = contest(org, outside(org))
        for review in c.reviews:
            submit(review)
        return c

    def action_url(self, obj: Any) -> str:
        return reverse("competitions:round_finish", args=[obj.round.pk])


class SelfNomination(ScopedEndpointTests):
    def make_object(self, org: Any) -> Entry:
        competition = make_competition(org.parent.parent)
        make_round(competition)
        return entry_self_nominate(
            actor=member_user(org), competition=competition, data={"title": "自荐的党课甲"}
        )


class TestEndorsementListScope(SelfNomination):
    url_name = "competitions:endorsement_list"
    kind = "list"
    marker_attr = "title"

    def url(self, obj: Entry) -> str:
        return reverse("competitions:endorsement_list")


class TestEntryEndorseScope(PostEndpointTests, SelfNomination):
    url_name = "competitions:entry_endorse"

    def action_url(self, obj: Entry) -> str:
        return reverse("competitions:entry_endorse", args=[obj.pk])


class TestEntryWithdrawScope(ScopedEndpointTests):
    url_name = "competitions:entry_withdraw"

    def make_object(self, org: Any) -> Entry:
        return contest(org, outside(org)).entries[0]

    def url(self, obj: Entry) -> str:
        return reverse("competitions:entry_withdraw", args=[obj.pk])


class TestEntryFileScope(TestEntryWithdrawScope):
    url_name = "competitions:entry_file"

    def make_object(self, org: Any) -> Entry:
        return contest(org, outside(org), video=True).entries[0]

    def url(self, obj: Entry) -> str:
        return reverse("competitions:entry_file", args=[obj.pk, "video"])


class AwardPage(ScopedEndpointTests):
    def make_object(self, org: Any) -> Award:
        return lecture_award(finished(org, outside(org)))


class TestAwardListScope(AwardPage):
    url_name = "competitions:award_list"

    def url(self, obj: Award) -> str:
        return reverse("competitions:award_list", args=[obj.competition_id])


class TestCertificateDownloadScope(AwardPage):
    url_name = "competitions:certificate_download"

    def url(self, obj: Award) -> str:
        return reverse("competitions:certificate_download", args=[obj.pk])


class TestCertificateRevokeScope(AwardPage):
    url_name = "competitions:certificate_revoke"

    def url(self, obj: Award) -> str:
        return reverse("competitions:certificate_revoke", args=[obj.pk])


class TestAwardGrantScope(ScopedEndpointTests):
    url_name = "competitions:award_grant"

    def make_object(self, org: Any) -> Competition:
        c = contest(org, outside(org))
        for review in c.reviews:
            submit(review)
        round_close(actor=None, round_=c.round)
        return c.competition

    def url(self, obj: Competition) -> str:
        return reverse("competitions:award_grant", args=[obj.pk])


# --- creating a competition ---------------------------------------------------------------------


def rubric_post(org: Any, rows: list[tuple[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    rows = rows if rows is not None else [("内容", 40), ("表达", 30), ("效果", 30)]
    data: dict[str, Any] = {
        "title": "2026年优秀党课评选",
        "organization": org.pk,
        "year": 2026,
        "categories": "微党课\n情景党课",
        "criteria-TOTAL_FORMS": len(rows),
        "criteria-INITIAL_FORMS": 0,
        "criteria-MIN_NUM_FORMS": 0,
        "criteria-MAX_NUM_FORMS": 10,
    }
    for i, (name, weight) in enumerate(rows):
        data[f"criteria-{i}-name"] = name
        data[f"criteria-{i}-weight"] = weight
    data.update(extra)
    return data


@pytest.fixture
def organiser(tree):
    return make_user("organiser", role="org_admin", org=tree.root)


def test_create_form_offers_a_default_rubric_with_its_live_sum(client, organiser):
    client.force_login(organiser)
    body = client.get(reverse("competitions:competition_create")).content.decode()
    assert 'value="内容"' in body and 'value="40"' in body
    assert "data-rubric-sum" in body


def test_create_competition_with_rubric_and_categories(client, tree, organiser):
    client.force_login(organiser)
    response = client.post(reverse("competitions:competition_create"), rubric_post(tree.root))
    competition = Competition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("competitions:round_create", args=[competition.pk])
    assert [(c.name, c.weight) for c in competition.criteria.order_by("sort_order")] == [
        ("内容", 40),
        ("表达", 30),
        ("效果", 30),
    ]
    assert set(competition.categories.values_list("name", flat=True)) == {"情景党课", "微党课"}


def test_rubric_not_summing_to_100_shows_the_service_error(client, tree, organiser):
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:competition_create"), rubric_post(tree.root, [("内容", 40), ("表达", 50)])
    )
    assert response.status_code == 200
    assert "各评分项权重之和必须为100，当前为90" in response.content.decode()
    assert not Competition.objects.exists()


def test_rubric_row_without_a_weight_is_refused_on_the_row(client, tree, organiser):
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:competition_create"), rubric_post(tree.root, [("内容", 100), ("表达", "")])
    )
    assert "请填写权重" in response.content.decode()
    assert not Competition.objects.exists()


# --- rounds --------------------------------------------------------------------------------------


def test_round_form_explains_each_aggregation_in_chinese(client, tree, organiser):
    competition = make_competition(tree.root)
    client.force_login(organiser)
    body = client.get(reverse("competitions:round_create", args=[competition.pk])).content.decode()
    assert "去掉一个最高分和一个最低分" in body
    assert "标准分" in body


def test_add_round_from_the_form(client, tree, organiser):
    competition = make_competition(tree.root)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:round_create", args=[competition.pk]),
        {
            "name": "区县初评",
            "reviews_per_entry": 3,
            "aggregation": "trimmed_mean",
            "advance_count": 5,
            "spread_threshold": "15",
        },
    )
    assert response.status_code == 302
    round_ = competition.rounds.get()
    assert (round_.aggregation, round_.advance_count, round_.status) == ("trimmed_mean", 5, RoundStatus.OPEN)


def test_editing_a_round_keeps_reviews_per_entry_once_assigned(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:round_edit", args=[c.round.pk]),
        {"name": "初评（改）", "reviews_per_entry": 2, "aggregation": "mean", "advance_count": 1},
    )
    assert response.status_code == 302
    c.round.refresh_from_db()
    assert (c.round.name, c.round.advance_count) == ("初评（改）", 1)


# --- entries -------------------------------------------------------------------------------------


def test_recommend_lists_members_of_the_picked_organisation(client, tree, organiser):
    competition = make_competition(tree.root)
    make_round(competition)
    make_member(tree.branch_a, "王讲师")
    make_member(tree.branch_b, "乙支部党员")
    client.force_login(organiser)
    url = reverse("competitions:entry_create", args=[competition.pk])
    body = client.get(url, {"from-organization": tree.branch_a.pk}).content.decode()
    assert "王讲师" in body
    assert "乙支部党员" not in body


def test_recommend_an_entry_with_video_joins_the_first_round(client, tree, organiser):
    competition = make_competition(tree.root, categories=["微党课"])
    round_ = make_round(competition)
    lecturer = make_member(tree.branch_a, "王讲师")
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:entry_create", args=[competition.pk]),
        {
            "lecturer": lecturer.pk,
            "organization": tree.district_a.pk,
            "category": competition.categories.get().pk,
            "title": "从红船出发",
            "summary": "讲建党的故事",
            "video": SimpleUploadedFile("talk.mp4", b"\x00" * 128, content_type="video/mp4"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    entry = Entry.objects.get()
    assert (entry.lecturer, entry.organization, entry.source) == (
        lecturer,
        tree.district_a,
        EntrySource.RECOMMENDED,
    )
    assert entry.video
    assert RoundEntry.objects.filter(entry=entry, round=round_).exists()


def test_recommend_by_typed_name(client, tree, organiser):
    competition = make_competition(tree.root)
    make_round(competition)
    lecturer = make_member(tree.branch_b, "赵讲师")
    client.force_login(organiser)
    client.post(
        reverse("competitions:entry_create", args=[competition.pk]),
        {"lecturer_name": "赵讲师", "organization": tree.branch_b.pk, "title": "学思践悟"},
    )
    assert Entry.objects.get().lecturer == lecturer


def test_recommend_with_an_ambiguous_name_asks_for_the_id_number(client, tree, organiser):
    competition = make_competition(tree.root)
    make_round(competition)
    make_member(tree.branch_a, "张三")
    make_member(tree.branch_b, "张三")
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:entry_create", args=[competition.pk]),
        {"lecturer_name": "张三", "organization": tree.root.pk, "title": "学思践悟"},
    )
    assert "请改填其身份证号" in response.content.decode()
    assert not Entry.objects.exists()


def test_recommend_refuses_a_video_of_the_wrong_kind(client, tree, organiser):
    competition = make_competition(tree.root)
    make_round(competition)
    lecturer = make_member(tree.branch_a)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:entry_create", args=[competition.pk]),
        {
            "lecturer": lecturer.pk,
            "organization": tree.root.pk,
            "title": "学思践悟",
            "video": SimpleUploadedFile("talk.exe", b"MZ"),
        },
    )
    assert "不是视频文件" in response.content.decode()
    assert not Entry.objects.exists()


def test_a_district_recommends_into_the_city_competition(client, tree):
    competition = make_competition(tree.root, title="全市评选")
    make_round(competition)
    lecturer = make_member(tree.branch_a, "甲讲师")
    district = make_user(role="org_admin", org=tree.district_a)
    client.force_login(district)
    assert "全市评选" in client.get(reverse("competitions:competition_list")).content.decode()
    response = client.post(
        reverse("competitions:entry_create", args=[competition.pk]),
        {"lecturer": lecturer.pk, "organization": tree.district_a.pk, "title": "学思践悟"},
    )
    assert response.status_code == 302
    assert Entry.objects.get().organization == tree.district_a


def test_branch_endorses_a_self_nomination(client, tree):
    competition = make_competition(tree.root)
    round_ = make_round(competition)
    entry = entry_self_nominate(
        actor=member_user(tree.branch_a), competition=competition, data={"title": "我的党课"}
    )
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    listing = client.get(reverse("competitions:endorsement_list")).content.decode()
    assert "我的党课" in listing
    client.post(reverse("competitions:entry_endorse", args=[entry.pk]))
    assert RoundEntry.objects.filter(entry=entry, round=round_).exists()


def test_competition_detail_shows_self_nominations_with_an_endorse_button(client, tree, organiser):
    competition = make_competition(tree.root)
    make_round(competition)
    entry = entry_self_nominate(
        actor=member_user(tree.branch_a), competition=competition, data={"title": "我的党课"}
    )
    client.force_login(organiser)
    body = client.get(reverse("competitions:competition_detail", args=[competition.pk])).content.decode()
    assert reverse("competitions:entry_endorse", args=[entry.pk]) in body
    assert "待支部推荐" in body


def test_withdraw_an_entry(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:entry_withdraw", args=[c.entries[0].pk]), {"reason": "重复报送"}
    )
    assert response.status_code == 302
    assert Entry.objects.get().withdrawn
    assert not Review.objects.exists()


def test_withdraw_after_a_score_is_refused_with_the_reason(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b)
    submit(c.reviews[0])
    client.force_login(organiser)
    response = client.post(reverse("competitions:entry_withdraw", args=[c.entries[0].pk]))
    assert "已有评委评分，不能撤回" in response.content.decode()
    assert not Entry.objects.get().withdrawn


# --- the round page ------------------------------------------------------------------------------


def test_panel_lists_reviewers_with_their_organisation(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=0, reviewers=0)
    reviewer(tree.district_b, "expert_b")
    client.force_login(organiser)
    body = client.get(reverse("competitions:round_detail", args=[c.round.pk])).content.decode()
    assert "expert_b" in body and "乙区委" in body


def test_set_panel_and_assign_automatically(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2, reviewers=0)
    users = [reviewer(tree.district_b, f"expert{i}") for i in range(2)]
    client.force_login(organiser)
    client.post(reverse("competitions:round_panel", args=[c.round.pk]), {"users": [u.pk for u in users]})
    assert set(c.round.panel.values_list("user_id", flat=True)) == {u.pk for u in users}
    c.round.reviews_per_entry = 2
    c.round.save()
    response = client.post(reverse("competitions:round_assign", args=[c.round.pk]), follow=True)
    assert "已自动分配4份评审任务" in response.content.decode()
    assert Review.objects.count() == 4


def test_assign_without_enough_conflict_free_reviewers_says_so(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=1, reviewers=0)
    panel(c.round, [reviewer(tree.district_a, "same_district")])
    client.force_login(organiser)
    response = client.post(reverse("competitions:round_assign", args=[c.round.pk]), follow=True)
    assert "评委人数不足" in response.content.decode()


def test_progress_per_reviewer(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2)
    submit(c.reviews_of(c.reviewers[0])[0])
    client.force_login(organiser)
    response = client.get(reverse("competitions:round_detail", args=[c.round.pk]))
    progress = [(p.username, p.assigned, p.submitted) for p in response.context["progress"]]
    assert progress == [(c.reviewers[0].username, 2, 1), (c.reviewers[1].username, 2, 0)]


def test_manual_reassignment_replaces_an_unsubmitted_review_and_audits_the_reason(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, reviewers=1)
    spare = reviewer(tree.district_b, "spare")
    panel(c.round, [*c.reviewers, spare])
    review = c.reviews[0]
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:round_reassign", args=[c.round.pk]),
        {"review": review.pk, "reviewer": spare.pk, "reason": "原评委出差"},
    )
    assert response.status_code == 302
    assert list(Review.objects.values_list("reviewer_id", "manual")) == [(spare.pk, True)]
    assert AuditLog.objects.filter(message__contains="原评委出差").exists()


def test_manual_reassignment_requires_a_reason(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, reviewers=1)
    spare = reviewer(tree.district_b, "spare")
    panel(c.round, [*c.reviewers, spare])
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:round_reassign", args=[c.round.pk]),
        {"review": c.reviews[0].pk, "reviewer": spare.pk, "reason": ""},
    )
    assert response.status_code == 200
    assert Review.objects.get().reviewer == c.reviewers[0]


def test_results_mark_ties_and_strong_disagreement(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2, spread_threshold=20)
    first, second = c.reviews_of(c.reviewers[0]), c.reviews_of(c.reviewers[1])
    # Entry 1: 90 and 60 (spread 30); entry 2: 75 and 75. Both average 75: a tie.
    submit(first[0], content=90, expression=90, effect=90)
    submit(second[0], content=60, expression=60, effect=60)
    submit(first[1], content=75, expression=75, effect=75)
    submit(second[1], content=75, expression=75, effect=75)
    client.force_login(organiser)
    response = client.get(reverse("competitions:round_detail", args=[c.round.pk]))
    body = response.content.decode()
    assert body.count("并列") >= 2
    assert "分歧较大" in body
    rows = response.context["results"]
    assert [(r.rank, r.tied, r.flagged) for r in rows] == [(1, True, True), (1, True, False)]


def test_advance_with_reviews_outstanding_needs_the_override(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2, advance_count=1)
    make_round(c.competition, "复评")
    client.force_login(organiser)
    response = client.post(reverse("competitions:round_finish", args=[c.round.pk]), {})
    assert response.status_code == 400
    assert "还有4份评审未提交" in response.content.decode()
    c.round.refresh_from_db()
    assert c.round.status == RoundStatus.OPEN


def test_override_without_a_reason_is_refused(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2, advance_count=1)
    make_round(c.competition, "复评")
    client.force_login(organiser)
    response = client.post(reverse("competitions:round_finish", args=[c.round.pk]), {"override": "on"})
    assert "强制执行须说明原因" in response.content.decode()


def test_override_with_a_reason_advances_and_is_audited(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2, advance_count=1)
    following = make_round(c.competition, "复评")
    submit(c.reviews[0], content=95)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:round_finish", args=[c.round.pk]), {"override": "on", "reason": "评委因病缺席"}
    )
    assert response.status_code == 302
    assert RoundEntry.objects.filter(round=following).count() == 1
    assert AuditLog.objects.filter(message__contains="评委因病缺席").exists()


def test_the_last_round_closes_instead_of_advancing(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b)
    for review in c.reviews:
        submit(review)
    client.force_login(organiser)
    client.post(reverse("competitions:round_finish", args=[c.round.pk]))
    c.round.refresh_from_db()
    assert c.round.status == RoundStatus.CLOSED


def test_results_export_is_an_audited_xlsx(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2)
    for review in c.reviews:
        submit(review)
    client.force_login(organiser)
    response = client.get(reverse("competitions:round_export", args=[c.round.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["名次", "并列", "党课题目"]
    assert sheet.max_row == 3
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, user=organiser).exists()


# --- awards ----------------------------------------------------------------------------------------


def test_grant_awards_issues_certificates(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b, entries=2)
    for review in c.reviews:
        submit(review)
    round_close(actor=None, round_=c.round)
    client.force_login(organiser)
    detail = client.get(reverse("competitions:competition_detail", args=[c.competition.pk])).content.decode()
    assert reverse("competitions:award_grant", args=[c.competition.pk]) in detail
    # The entries are 甲一支部's own: its 优秀组织单位 is a unit below it, chosen with a reason.
    response = client.post(
        reverse("competitions:award_grant", args=[c.competition.pk]),
        {
            "lecture_count": 1,
            "lecturer_count": 1,
            "organization_count": 0,
            f"unit_{tree.group_a.pk}": "on",
            f"reason_{tree.group_a.pk}": "组织发动有力",
            "awarded_on": "2026-06-01",
        },
        follow=True,
    )
    awards = list(Award.objects.select_related("certificate"))
    assert {a.kind for a in awards} == {"lecture", "lecturer", "organization"}
    body = response.content.decode()
    for award in awards:
        assert award.certificate.code in body


def test_grant_before_the_final_round_closes_is_refused(client, tree, organiser):
    c = contest(tree.branch_a, tree.district_b)
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:award_grant", args=[c.competition.pk]),
        {"lecture_count": 1, "lecturer_count": 0, "organization_count": 0, "awarded_on": "2026-06-01"},
    )
    assert "请先结束最后一轮评审" in response.content.decode()
    assert not Award.objects.exists()


def test_revoke_a_certificate_with_a_reason(client, tree, organiser):
    award = lecture_award(finished(tree.branch_a, tree.district_b))
    client.force_login(organiser)
    response = client.post(
        reverse("competitions:certificate_revoke", args=[award.pk]), {"reason": "材料失实"}
    )
    assert response.status_code == 302
    award.certificate.refresh_from_db()
    assert award.certificate.revoked_at is not None and award.certificate.revoked_reason == "材料失实"


def test_revoke_needs_a_reason(client, tree, organiser):
    award = lecture_award(finished(tree.branch_a, tree.district_b))
    client.force_login(organiser)
    response = client.post(reverse("competitions:certificate_revoke", args=[award.pk]), {"reason": ""})
    assert response.status_code == 200
    award.certificate.refresh_from_db()
    assert award.certificate.revoked_at is None


# --- query counts ---------------------------------------------------------------------------------


def test_competition_list_queries_do_not_grow_with_competitions(
    client, tree, organiser, django_assert_max_num_queries
):
    for i in range(12):
        competition = make_competition(tree.root, title=f"评选{i}")
        make_round(competition)
    client.force_login(organiser)
    client.get(reverse("competitions:competition_list"))  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get(reverse("competitions:competition_list"))
    assert response.status_code == 200


def test_round_results_page_queries_do_not_grow_with_entries(
    client, tree, organiser, django_assert_max_num_queries
):
    c = contest(tree.branch_a, tree.district_b, entries=12, reviewers=3)
    for review in c.reviews[::2]:
        submit(review)
    client.force_login(organiser)
    client.get(reverse("competitions:round_detail", args=[c.round.pk]))
    # 17: with the 回避 column (panel, reviewer roles, member records, round entries, names).
    with django_assert_max_num_queries(17):
        response = client.get(reverse("competitions:round_detail", args=[c.round.pk]))
    assert len(response.context["results"]) == 12

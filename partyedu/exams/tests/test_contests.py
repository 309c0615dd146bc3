"""Contests: rounds as exams with a cap, member and organisation scores on a known data set,
tiers, awards and certificates that verify publicly, and who sees the results."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from partyedu.exams.choices import ExamKind
from partyedu.exams.models import Contest, ContestRound, ExamTarget
from partyedu.exams.selectors.contests import advance_proposal, contest_results, contest_scores
from partyedu.exams.services import answer_save, attempt_start, attempt_submit
from partyedu.exams.services.contests import (
    contest_advance,
    contest_awards_grant,
    contest_create,
    contest_publish,
    contest_round_add,
)
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_org, make_user

from .conftest import make_bank, make_question, taker

pytestmark = pytest.mark.django_db


def make_contest(org: Any, *, tiered: bool = False, **data: Any) -> Contest:
    today = timezone.localdate()
    data.setdefault("title", "党史知识竞赛")
    return contest_create(
        actor=None,
        organization=org,
        data={"starts_on": today, "ends_on": today + timedelta(days=30), "tiered": tiered, **data},
    )


def add_round(contest: Contest, name: str = "第一轮", **data: Any) -> ContestRound:
    """A round of four judge questions, 25 points each (the key is True)."""
    bank = make_bank(contest.organization, f"竞赛题库{contest.pk}-{name}")
    questions = [make_question(bank, qtype="judge", stem=f"{name}判断题{i}", answer=True) for i in range(4)]
    now = timezone.now()
    data.setdefault("opens_at", now - timedelta(hours=1))
    data.setdefault("closes_at", now + timedelta(days=1))
    data.setdefault("attempts_allowed", 1)
    data.setdefault("questions", [{"question": q.pk, "score": 25} for q in questions])
    return contest_round_add(actor=None, contest=contest, data={"name": name, **data})


def take(user: Any, round_: ContestRound, right: int) -> Any:
    """The user takes the round answering ``right`` of its four questions correctly."""
    attempt = attempt_start(actor=user, exam=round_.exam)
    for i, item in enumerate(attempt.questions.select_related("version").order_by("position")):
        answer_save(actor=user, attempt=attempt, question=item.version.question_id, response=i < right)
    return attempt_submit(actor=user, attempt=attempt)


@pytest.fixture
def field(tree: Any) -> dict[str, Any]:
    """District A holds the contest; branch A has four members, a small branch one."""
    small = make_org(tree.district_a, "甲二支部")
    users = {f"a{i}": taker(tree.branch_a, f"甲党员{i}") for i in range(4)}
    users["s0"] = taker(small, "小支部党员")
    organiser = make_user(role="org_admin", org=tree.district_a)
    return {"tree": tree, "small": small, "users": users, "organiser": organiser}


def test_round_is_a_contest_exam_with_the_cap(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    round_ = add_round(contest, attempts_allowed=1)
    assert round_.exam.kind == ExamKind.CONTEST
    user = field["users"]["a0"]
    take(user, round_, 4)
    with pytest.raises(ValidationError, match="全部答题次数"):
        attempt_start(actor=user, exam=round_.exam)


def test_round_keeps_the_name_given(field: dict[str, Any]) -> None:
    # Regression: the name was overwritten by a loop over the grading defaults ("show_answers").
    contest = make_contest(field["tree"].district_a)

    round_ = add_round(contest, "第一周")

    assert ContestRound.objects.get(pk=round_.pk).name == "第一周"


def test_member_score_sums_the_rounds(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    first, second = add_round(contest, "第一轮"), add_round(contest, "第二轮")
    take(field["users"]["a0"], first, 3)
    take(field["users"]["a0"], second, 2)
    scores = contest_scores(user=field["organiser"], contest=contest).members
    assert [(s.name, s.total) for s in scores] == [("甲党员0", Decimal(125))]


def test_organisation_scores_are_rate_and_mean_not_totals(field: dict[str, Any]) -> None:
    # given: in branch A (4 members) two take part scoring 100 and 50; the small branch's only member 75
    contest = make_contest(field["tree"].district_a)
    round_ = add_round(contest)
    take(field["users"]["a0"], round_, 4)
    take(field["users"]["a1"], round_, 2)
    take(field["users"]["s0"], round_, 3)
    # when
    units = {u.name: u for u in contest_scores(user=field["organiser"], contest=contest).units}
    # then: the small branch leads on participation and is not outnumbered
    assert (units["甲一支部"].targets, units["甲一支部"].participants) == (4, 2)
    assert units["甲一支部"].rate == 50.0 and units["甲一支部"].mean == Decimal(75)
    assert (units["甲二支部"].rate, units["甲二支部"].mean) == (100.0, Decimal(75))
    assert contest_scores(user=field["organiser"], contest=contest).units[0].name == "甲二支部"


def test_equal_totals_share_a_rank(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    round_ = add_round(contest)
    for key, right in (("a0", 4), ("a1", 4), ("a2", 2)):
        take(field["users"][key], round_, right)
    assert [s.rank for s in contest_scores(user=field["organiser"], contest=contest).members] == [1, 1, 3]


def test_tier_proposes_the_best_of_each_unit(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    for key, right in (("a0", 2), ("a1", 4), ("a2", 3), ("s0", 1)):
        take(field["users"][key], first, right)
    names = sorted(a.name for a in advance_proposal(user=field["organiser"], round_=first))
    assert names == ["小支部党员", "甲党员1"]


def test_tier_share_includes_ties_at_the_cut(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a, tiered=True)
    first = add_round(contest, advance_by="share", advance_value=25)
    for key, right in (("a0", 4), ("a1", 4), ("a2", 3)):
        take(field["users"][key], first, right)
    assert sorted(
        a.name for a in advance_proposal(user=field["organiser"], round_=first) if a.unit_name == "甲一支部"
    ) == [
        "甲党员0",
        "甲党员1",
    ]


def test_advancing_names_the_next_rounds_targets(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    final = add_round(contest, "决赛")
    take(field["users"]["a0"], first, 2)
    take(field["users"]["a1"], first, 4)
    winner = Member.objects.get(user=field["users"]["a1"])
    contest_advance(actor=None, round_=first, member_ids=[winner.pk])
    assert list(ExamTarget.objects.filter(exam=final.exam).values_list("member_id", flat=True)) == [winner.pk]
    take(field["users"]["a1"], final, 4)
    with pytest.raises(Http404):
        attempt_start(actor=field["users"]["a0"], exam=final.exam)


def test_advancing_a_member_not_proposed_is_refused(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    add_round(contest, "决赛")
    take(field["users"]["a0"], first, 2)
    take(field["users"]["a1"], first, 4)
    loser = Member.objects.get(user=field["users"]["a0"])
    with pytest.raises(ValidationError, match="晋级建议名单"):
        contest_advance(actor=None, round_=first, member_ids=[loser.pk])


def test_later_tiered_round_is_for_nobody_until_advanced(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a, tiered=True)
    add_round(contest)
    final = add_round(contest, "决赛")
    with pytest.raises(Http404):
        attempt_start(actor=field["users"]["a0"], exam=final.exam)


def test_awards_issue_certificates_that_verify_publicly(client: Any, field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    round_ = add_round(contest)
    take(field["users"]["a0"], round_, 4)
    member = Member.objects.get(user=field["users"]["a0"])
    [award] = contest_awards_grant(
        actor=None, contest=contest, grades={member.pk: "first"}, awarded_on=date(2026, 5, 4)
    )
    code = award.award.certificate.code
    page = client.get(reverse("verify:certificate", args=[code]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "党史知识竞赛" in text and "一等奖" in text and "甲党员0" in text


def test_awards_only_for_members_with_a_score(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    add_round(contest)
    member = Member.objects.get(user=field["users"]["a0"])
    with pytest.raises(ValidationError, match="有成绩"):
        contest_awards_grant(actor=None, contest=contest, grades={member.pk: "first"})


def test_awards_are_granted_once(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    round_ = add_round(contest)
    take(field["users"]["a0"], round_, 4)
    member = Member.objects.get(user=field["users"]["a0"])
    contest_awards_grant(actor=None, contest=contest, grades={member.pk: "merit"})
    with pytest.raises(ValidationError, match="已评定"):
        contest_awards_grant(actor=None, contest=contest, grades={member.pk: "first"})


def test_results_hidden_from_members_until_published(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    take(field["users"]["a0"], add_round(contest), 4)
    with pytest.raises(Http404):
        contest_results(user=field["users"]["a1"], pk=contest.pk)
    contest_publish(actor=None, contest=contest, published=True)
    seen = contest_results(user=field["users"]["a1"], pk=contest.pk)
    assert seen.units and seen.members == [] and not seen.organiser


def test_published_results_stay_hidden_from_a_sibling(field: dict[str, Any]) -> None:
    contest = make_contest(field["tree"].district_a)
    contest_publish(actor=None, contest=contest, published=True)
    sibling = make_user(role="org_admin", org=field["tree"].district_b)
    with pytest.raises(Http404):
        contest_results(user=sibling, pk=contest.pk)


def test_contest_end_before_start_is_refused(tree: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="结束日期"):
        contest_create(
            actor=None,
            organization=tree.district_a,
            data={"title": "竞赛", "starts_on": today, "ends_on": today - timedelta(days=1)},
        )


def test_the_contest_award_record_stays_out_of_the_lecture_competitions(
    client: Any, field: dict[str, Any]
) -> None:
    """The competition record holding a contest's awards is a 知识竞赛 record: the 党课评选 list
    and pages do not show it (the certificates still verify publicly)."""
    contest = make_contest(field["tree"].district_a)
    take(field["users"]["a0"], add_round(contest), 4)
    member = Member.objects.get(user=field["users"]["a0"])
    contest_awards_grant(actor=None, contest=contest, grades={member.pk: "second"})
    contest.refresh_from_db()
    client.force_login(make_user(role="org_admin", org=field["tree"].district_a))
    assert contest.title not in client.get(reverse("competitions:competition_list")).content.decode()
    assert (
        client.get(reverse("competitions:competition_detail", args=[contest.competition_id])).status_code
        == 404
    )

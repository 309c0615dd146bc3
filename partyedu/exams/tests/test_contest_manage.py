"""Managing a contest after it is made: editing a contest and a round (a round members have
started keeps its rules), deleting either while nothing has been taken, the organiser's xlsx
export of the results, and revoking an award's certificate through the competitions app."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.exams.models import Contest, ContestRound, Exam, Paper
from partyedu.exams.selectors.contests import contest_results
from partyedu.exams.services import attempt_start
from partyedu.exams.services.contest_export import contest_results_export
from partyedu.exams.services.contests import (
    contest_advance,
    contest_award_revoke,
    contest_awards_grant,
    contest_delete,
    contest_publish,
    contest_round_delete,
    contest_round_update,
    contest_update,
)
from partyedu.exams.services.live import live_answer, live_next
from partyedu.exams.services.live import live_create as live_session_create
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_org, make_user

from .conftest import taker
from .test_contests import add_round, make_contest, take

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree: Any) -> dict[str, Any]:
    """District A holds the contests; branch A has four members, a small branch one."""
    small = make_org(tree.district_a, "甲二支部")
    users = {f"a{i}": taker(tree.branch_a, f"甲党员{i}") for i in range(4)}
    users["s0"] = taker(small, "小支部党员")
    organiser = make_user(role="org_admin", org=tree.district_a)
    return {"tree": tree, "small": small, "users": users, "organiser": organiser}


def _sheets(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def _award(people: dict[str, Any], contest: Contest | None = None) -> Any:
    contest = contest or make_contest(people["tree"].district_a)
    take(people["users"]["a0"], add_round(contest), 4)
    member = Member.objects.get(user=people["users"]["a0"])
    [award] = contest_awards_grant(actor=None, contest=contest, grades={member.pk: "first"})
    return award


# --- editing a contest ---------------------------------------------------------------------------


def test_contest_update_changes_its_fields_and_renames_the_round_exams(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest, "第一周")
    ends = contest.ends_on + timedelta(days=7)

    contest_update(
        actor=people["organiser"],
        contest=contest,
        data={
            "title": "党纪知识竞赛",
            "description": "说明",
            "starts_on": contest.starts_on,
            "ends_on": ends,
        },
    )

    contest.refresh_from_db()
    assert (contest.title, contest.description, contest.ends_on) == ("党纪知识竞赛", "说明", ends)
    assert Exam.objects.get(pk=round_.exam_id).title == "党纪知识竞赛 · 第一周"


def test_contest_update_is_audited_with_the_changes(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)

    contest_update(actor=people["organiser"], contest=contest, data={"title": "新名称"})

    log = AuditLog.objects.get(object_type="exams.contest", object_id=str(contest.pk), action="update")
    assert log.changes == {"title": ["党史知识竞赛", "新名称"]}


def test_contest_update_refuses_an_end_before_the_start(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)

    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        contest_update(
            actor=people["organiser"],
            contest=contest,
            data={"ends_on": contest.starts_on - timedelta(days=1)},
        )

    contest.refresh_from_db()
    assert contest.ends_on > contest.starts_on


def test_contest_update_refuses_a_blank_title(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)

    with pytest.raises(ValidationError) as caught:
        contest_update(actor=people["organiser"], contest=contest, data={"title": "  "})

    assert caught.value.message_dict == {"title": ["请填写竞赛名称"]}


def test_tiered_cannot_change_once_a_round_exists(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    add_round(contest)

    with pytest.raises(ValidationError) as caught:
        contest_update(actor=people["organiser"], contest=contest, data={"tiered": True})

    assert caught.value.message_dict == {"tiered": ["竞赛已有轮次，不能再更改是否逐级晋级"]}


def test_tiered_can_change_before_the_first_round(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)

    contest_update(actor=people["organiser"], contest=contest, data={"tiered": True})

    contest.refresh_from_db()
    assert contest.tiered


def test_contest_update_by_a_sibling_admin_is_refused(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    sibling = make_user(role="org_admin", org=people["tree"].district_b)

    with pytest.raises(PermissionDenied):
        contest_update(actor=sibling, contest=contest, data={"title": "改名"})


# --- editing a round -----------------------------------------------------------------------------


def test_round_update_before_attempts_changes_its_rules_and_paper(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    other = add_round(contest, "备用").exam.paper

    contest_round_update(
        actor=people["organiser"],
        round_=round_,
        data={"name": "初赛", "paper": other, "attempts_allowed": 3, "time_limit_minutes": 20},
    )

    exam = Exam.objects.get(pk=round_.exam_id)
    assert (exam.paper_id, exam.attempts_allowed, exam.time_limit_minutes) == (other.pk, 3, 20)
    assert exam.title == "党史知识竞赛 · 初赛"
    assert ContestRound.objects.get(pk=round_.pk).name == "初赛"


def test_round_with_attempts_may_change_its_name_and_closing_time(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    take(people["users"]["a0"], round_, 2)
    closes = round_.exam.closes_at + timedelta(days=2)

    contest_round_update(
        actor=people["organiser"], round_=round_, data={"name": "第一周", "closes_at": closes}
    )

    round_.refresh_from_db()
    assert round_.name == "第一周"
    assert Exam.objects.get(pk=round_.exam_id).closes_at == closes


def test_round_with_attempts_refuses_another_change_naming_the_field(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    take(people["users"]["a0"], round_, 2)

    with pytest.raises(ValidationError) as caught:
        contest_round_update(
            actor=people["organiser"], round_=round_, data={"name": "新名", "attempts_allowed": 5}
        )

    assert caught.value.message_dict == {"attempts_allowed": ["本轮已有党员答题，只能修改轮次名称和截止时间"]}
    round_.refresh_from_db()
    assert (round_.name, round_.exam.attempts_allowed) == ("第一轮", 1)


def test_round_with_attempts_accepts_its_unchanged_values(people: dict[str, Any]) -> None:
    # The edit form posts the locked fields with their current values.
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    take(people["users"]["a0"], round_, 2)
    exam = round_.exam

    contest_round_update(
        actor=people["organiser"],
        round_=round_,
        data={
            "name": "第一轮",
            "paper": exam.paper,
            "opens_at": exam.opens_at,
            "closes_at": exam.closes_at,
            "time_limit_minutes": exam.time_limit_minutes,
            "attempts_allowed": exam.attempts_allowed,
            "grading": exam.grading,
        },
    )

    assert Exam.objects.get(pk=exam.pk).paper_id == exam.paper_id


def test_round_update_refuses_a_paper_of_another_organisation(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    foreign = Paper.objects.create(organization=people["tree"].district_b, title="乙区试卷")

    with pytest.raises(ValidationError) as caught:
        contest_round_update(actor=people["organiser"], round_=round_, data={"paper": foreign})

    assert caught.value.message_dict == {"paper": ["试卷应属于主办组织"]}


def test_round_update_refuses_a_close_before_the_open(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)

    with pytest.raises(ValidationError, match="截止时间应晚于开始时间"):
        contest_round_update(
            actor=people["organiser"],
            round_=round_,
            data={"closes_at": round_.exam.opens_at - timedelta(hours=1)},
        )


def test_tiered_round_update_checks_the_advance_rule(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a, tiered=True)
    round_ = add_round(contest, advance_value=1)

    with pytest.raises(ValidationError) as caught:
        contest_round_update(
            actor=people["organiser"], round_=round_, data={"advance_by": "share", "advance_value": 150}
        )

    assert caught.value.message_dict == {"advance_value": ["晋级比例应在1到100之间"]}


# --- deleting ------------------------------------------------------------------------------------


def test_contest_delete_removes_its_rounds_and_exams_and_keeps_the_papers(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    paper_id, exam_id = round_.exam.paper_id, round_.exam_id

    contest_delete(actor=people["organiser"], contest=contest)

    assert not Contest.objects.filter(pk=contest.pk).exists()
    assert not ContestRound.objects.filter(pk=round_.pk).exists()
    assert not Exam.objects.filter(pk=exam_id).exists()
    assert Paper.objects.filter(pk=paper_id).exists()


def test_contest_delete_is_audited(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)

    contest_delete(actor=people["organiser"], contest=contest)

    log = AuditLog.objects.get(object_type="exams.contest", object_id=str(contest.pk), action="delete")
    assert log.changes["rounds"] == [round_.pk] and log.changes["exams"] == [round_.exam_id]


def test_contest_delete_is_refused_once_a_round_was_taken(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    attempt_start(actor=people["users"]["a0"], exam=round_.exam)  # started, not submitted

    with pytest.raises(ValidationError) as caught:
        contest_delete(actor=people["organiser"], contest=contest)

    assert caught.value.message_dict == {"contest": ["竞赛已有党员答题，不能删除"]}
    assert Contest.objects.filter(pk=contest.pk).exists()


def test_contest_delete_is_refused_once_a_live_answer_was_entered(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    live = live_session_create(actor=None, round_=add_round(contest), team_names=["一队", "二队"])
    live = live_next(actor=None, session=live, current=0)
    live_answer(actor=None, session=live, team=live.teams.first(), correct=True, current=1)

    with pytest.raises(ValidationError, match="现场竞赛已录入答题"):
        contest_delete(actor=people["organiser"], contest=contest)


def test_contest_delete_needs_the_delete_right(people: dict[str, Any]) -> None:
    # 党务工作者 may change the contest but not delete (their role has no "delete").
    contest = make_contest(people["tree"].district_a)
    branch_admin = make_user(role="branch_admin", org=people["tree"].district_a)

    with pytest.raises(PermissionDenied):
        contest_delete(actor=branch_admin, contest=contest)


def test_round_delete_moves_the_later_rounds_up(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    first, _second, _third = (add_round(contest, n) for n in ("第一轮", "第二轮", "第三轮"))

    contest_round_delete(actor=people["organiser"], round_=first)

    assert list(contest.rounds.order_by("sequence").values_list("name", "sequence")) == [
        ("第二轮", 1),
        ("第三轮", 2),
    ]
    assert not Exam.objects.filter(pk=first.exam_id).exists()
    assert AuditLog.objects.filter(object_type="exams.contestround", object_id=str(first.pk), action="delete")


def test_round_delete_is_refused_once_taken(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    take(people["users"]["a0"], round_, 1)

    with pytest.raises(ValidationError) as caught:
        contest_round_delete(actor=people["organiser"], round_=round_)

    assert caught.value.message_dict == {"round": ["本轮已有党员答题，不能删除"]}
    assert ContestRound.objects.filter(pk=round_.pk).exists()


def test_a_tiered_contest_loses_its_rounds_from_the_end(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    add_round(contest, "决赛")

    with pytest.raises(ValidationError, match="只能删除最后一轮"):
        contest_round_delete(actor=people["organiser"], round_=first)


def test_deleting_the_next_tiered_round_forgets_the_confirmed_list(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a, tiered=True)
    first = add_round(contest, advance_value=1)
    final = add_round(contest, "决赛")
    take(people["users"]["a0"], first, 3)
    contest_advance(actor=None, round_=first, member_ids=[Member.objects.get(user=people["users"]["a0"]).pk])

    contest_round_delete(actor=people["organiser"], round_=final)

    first.refresh_from_db()
    assert first.advanced_at is None


# --- export --------------------------------------------------------------------------------------


def test_export_has_a_member_sheet_with_round_scores_and_a_unit_sheet(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    first, second = add_round(contest, "第一周"), add_round(contest, "第二周")
    take(people["users"]["a0"], first, 4)
    take(people["users"]["a0"], second, 2)
    take(people["users"]["a1"], first, 3)
    take(people["users"]["s0"], second, 1)

    sheets = _sheets(contest_results_export(actor=people["organiser"], contest=contest))

    assert sheets["党员成绩"] == [
        ("名次", "姓名", "所属组织", "第一周", "第二周", "总分"),
        (1, "甲党员0", "甲一支部", 100, 50, 150),
        (2, "甲党员1", "甲一支部", 75, None, 75),
        (3, "小支部党员", "甲二支部", None, 25, 25),
    ]
    assert sheets["各单位成绩"] == [
        ("单位", "应参赛人数", "参赛人数", "参与率（%）", "参赛者平均分"),
        ("甲二支部", 1, 1, 100, 25),
        ("甲一支部", 4, 2, 50, Decimal("112.50")),
    ]


def test_export_leaves_out_a_participant_who_moved_out_of_the_scope(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    round_ = add_round(contest)
    take(people["users"]["a0"], round_, 4)
    take(people["users"]["a1"], round_, 2)
    moved = people["tree"].branch_b
    Member.objects.filter(user=people["users"]["a0"]).update(organization=moved, org_path=moved.path)

    rows = _sheets(contest_results_export(actor=people["organiser"], contest=contest))["党员成绩"]

    assert [r[1] for r in rows[1:]] == ["甲党员1"]


def test_export_is_audited(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)
    take(people["users"]["a0"], add_round(contest), 4)

    contest_results_export(actor=people["organiser"], contest=contest)

    assert AuditLog.objects.filter(
        action="export", object_id=str(contest.pk), message="导出竞赛成绩1人"
    ).exists()


def test_export_by_someone_without_the_export_right_is_refused(people: dict[str, Any]) -> None:
    contest = make_contest(people["tree"].district_a)

    with pytest.raises(PermissionDenied):
        contest_results_export(actor=people["users"]["a0"], contest=contest)


# --- revoking a certificate ----------------------------------------------------------------------


def test_revoking_an_award_marks_its_certificate_revoked_with_the_reason(people: dict[str, Any]) -> None:
    award = _award(people)

    contest_award_revoke(actor=people["organiser"], award=award, reason="违反竞赛纪律")

    certificate = award.award.certificate
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.revoked_reason == "违反竞赛纪律"
    assert AuditLog.objects.filter(
        action="revoke", object_type="competitions.certificate", message="违反竞赛纪律"
    ).exists()


def test_revoking_needs_a_reason(people: dict[str, Any]) -> None:
    award = _award(people)

    with pytest.raises(ValidationError) as caught:
        contest_award_revoke(actor=people["organiser"], award=award, reason=" ")

    assert caught.value.message_dict == {"reason": ["请说明撤销原因"]}
    award.award.certificate.refresh_from_db()
    assert award.award.certificate.revoked_at is None


def test_revoking_twice_is_refused(people: dict[str, Any]) -> None:
    award = _award(people)
    contest_award_revoke(actor=people["organiser"], award=award, reason="重复获奖")

    with pytest.raises(ValidationError, match="该证书已撤销"):
        contest_award_revoke(actor=people["organiser"], award=award, reason="再次撤销")


def test_an_examiner_cannot_revoke_a_certificate(people: dict[str, Any]) -> None:
    # A 出题人 runs contests but holds no right over competition records and their certificates.
    award = _award(people)
    examiner = make_user(role="examiner", org=people["tree"].district_a)

    with pytest.raises(PermissionDenied):
        contest_award_revoke(actor=examiner, award=award, reason="原因")


def test_the_verification_page_shows_a_revoked_contest_certificate(
    client: Any, people: dict[str, Any]
) -> None:
    award = _award(people)

    contest_award_revoke(actor=people["organiser"], award=award, reason="违反竞赛纪律")

    page = client.get(reverse("verify:certificate", args=[award.award.certificate.code])).content.decode()
    assert "该证书已撤销" in page and "证书有效" not in page


def test_published_results_leave_out_a_revoked_award(people: dict[str, Any]) -> None:
    award = _award(people)
    contest_publish(actor=None, contest=award.contest, published=True)

    contest_award_revoke(actor=people["organiser"], award=award, reason="违反竞赛纪律")

    assert contest_results(user=people["users"]["a1"], pk=award.contest_id).awards == []
    assert [a.pk for a in contest_results(user=people["organiser"], pk=award.contest_id).awards] == [award.pk]

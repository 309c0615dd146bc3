"""The rules of the democratic appraisal, one per test, and every bad input: a clear Chinese
message on the field, and nothing written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from partyedu.appraisal.anonymity import ballot_key
from partyedu.appraisal.choices import AppraisalStatus, FollowUpStatus, StepCode
from partyedu.appraisal.models import (
    Appraisal,
    AppraisalStep,
    BallotReceipt,
    FollowUp,
    Participant,
    PeerComment,
    Vote,
)
from partyedu.appraisal.services import (
    PlannedDates,
    appraisal_create,
    appraisal_decide,
    appraisal_update,
    ballot_submit,
    excellent_limit,
    follow_up_close,
    participant_add,
    peer_comment_save,
    self_evaluation_save,
    step_close,
    step_open,
)
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import make_member, make_user

from .conftest import THIS_YEAR, Branch, close_step, make_appraisal, member_user, open_step, others

pytestmark = pytest.mark.django_db


def grades_all(branch: Branch, grade: str = "qualified", **overrides: str) -> list[dict]:
    return [
        {"member": branch.members[n].pk, "grade": overrides.get(n, grade)}
        for n in ("甲", "乙", "丙", "丁", "戊")
    ]


def vote(branch: Branch, appraisal: Appraisal, voter: str, **grades: str):
    return ballot_submit(
        actor=branch.users[voter],
        appraisal=appraisal,
        votes=[{"member": branch.members[n].pk, "grade": g} for n, g in others(voter, grades).items()],
    )


# --- creation and participants -------------------------------------------------------------------


def test_create_snapshots_the_branch_and_its_groups_party_members(branch):
    appraisal = appraisal_create(actor=branch.secretary, organization=branch.org, year=THIS_YEAR)

    participants = {p.member.name: p for p in appraisal.participants.select_related("member")}
    assert set(participants) == {"甲", "乙", "丙", "丁", "戊"}  # not the 入党积极分子 己


def test_probationary_members_take_part_but_do_not_vote(branch):
    appraisal = make_appraisal(branch.org)

    p = Participant.objects.get(appraisal=appraisal, member=branch.members["丁"])
    assert p.is_voter is False and p.status_at_snapshot == "probationary"
    assert Participant.objects.get(appraisal=appraisal, member=branch.members["甲"]).is_voter is True


def test_exempt_and_frail_members_are_marked_exempt(tree):
    make_member(tree.branch_a, "甲", is_exempt=True, exempt_reason="重病")
    make_member(tree.branch_a, "乙", categories=["frail"])
    make_member(tree.branch_a, "丙")

    appraisal = make_appraisal(tree.branch_a)

    exempt = dict(appraisal.participants.values_list("member__name", "exempt"))
    assert exempt == {"甲": True, "乙": True, "丙": False}


def test_create_makes_the_five_steps_in_order_with_planned_dates(branch):
    start = date(THIS_YEAR, 11, 1)
    appraisal = make_appraisal(
        branch.org,
        schedule={
            "self": PlannedDates(start, start + timedelta(days=7)),
            "vote": PlannedDates(date(THIS_YEAR, 11, 20)),
        },
    )

    steps = list(appraisal.steps.order_by("position").values_list("code", "planned_start"))
    assert steps == [
        ("self", start),
        ("peer", None),
        ("vote", date(THIS_YEAR, 11, 20)),
        ("decide", None),
        ("report", None),
    ]
    assert appraisal.status == AppraisalStatus.PLANNED


def test_create_is_audited(branch):
    appraisal = make_appraisal(branch.org)

    row = AuditLog.objects.get(
        object_type="appraisal.appraisal", object_id=str(appraisal.pk), action="create"
    )
    assert row.changes["participants"] == 5 and row.changes["voters"] == 4


def test_a_second_appraisal_of_the_same_branch_and_year_is_refused(branch):
    make_appraisal(branch.org)

    with pytest.raises(ValidationError) as exc:
        make_appraisal(branch.org)
    assert "已有" in exc.value.message_dict["year"][0]
    assert Appraisal.objects.count() == 1


def test_an_organisation_without_members_directly_is_refused(tree):
    make_member(tree.branch_a, "甲")

    with pytest.raises(ValidationError) as exc:
        make_appraisal(tree.district_a)
    assert "党支部" in exc.value.message_dict["organization"][0]
    assert not Appraisal.objects.exists()


def test_a_share_out_of_range_is_refused(branch):
    with pytest.raises(ValidationError) as exc:
        make_appraisal(branch.org, excellent_share="1.5")
    assert "优秀比例" in exc.value.message_dict["excellent_share"][0]
    assert not Appraisal.objects.exists()


def test_planned_dates_out_of_order_are_refused(branch):
    schedule = {"self": PlannedDates(date(THIS_YEAR, 11, 10)), "peer": PlannedDates(date(THIS_YEAR, 11, 1))}

    with pytest.raises(ValidationError) as exc:
        make_appraisal(branch.org, schedule=schedule)
    assert "依次进行" in exc.value.message_dict["schedule"][0]
    assert not Appraisal.objects.exists()


def test_a_secretary_of_another_branch_may_not_create(branch, tree):
    stranger = make_user(role="branch_admin", org=tree.branch_b)

    with pytest.raises(PermissionDenied):
        appraisal_create(actor=stranger, organization=branch.org, year=THIS_YEAR)
    assert not Appraisal.objects.exists()


def test_a_meeting_of_another_branch_is_refused(branch, tree):
    from partyedu.study.services import activity_record

    start = timezone.now()
    other = activity_record(
        actor=None,
        data={
            "organization": tree.branch_b,
            "activity_type": "branch_assembly",
            "topic": "民主评议",
            "start": start,
            "end": start + timedelta(hours=2),
        },
    )
    appraisal = make_appraisal(branch.org)

    with pytest.raises(ValidationError) as exc:
        appraisal_update(actor=branch.secretary, appraisal=appraisal, meeting=other)
    assert "本支部" in exc.value.message_dict["meeting"][0]
    assert Appraisal.objects.get().meeting_id is None


def test_a_member_who_joined_later_is_added_before_the_vote(branch, tree):
    appraisal = make_appraisal(branch.org)
    newcomer = make_member(tree.branch_a, "庚")

    participant_add(actor=branch.secretary, appraisal=appraisal, member=newcomer)

    assert appraisal.participants.filter(member=newcomer, is_voter=True).exists()


def test_adding_a_member_after_the_vote_opened_is_refused(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    newcomer = make_member(tree.branch_a, "庚")

    with pytest.raises(ValidationError) as exc:
        participant_add(actor=branch.secretary, appraisal=appraisal, member=newcomer)
    assert "投票已经开始" in exc.value.message_dict["member"][0]
    assert not appraisal.participants.filter(member=newcomer).exists()


def test_adding_a_member_of_another_branch_is_refused(branch, tree):
    appraisal = make_appraisal(branch.org)
    outsider = make_member(tree.branch_b, "辛")

    with pytest.raises(ValidationError):
        participant_add(actor=branch.secretary, appraisal=appraisal, member=outsider)
    assert appraisal.participants.count() == 5


# --- steps ---------------------------------------------------------------------------------------


def test_steps_open_in_order_only(branch):
    appraisal = make_appraisal(branch.org)

    with pytest.raises(ValidationError) as exc:
        step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.PEER)
    assert "须先结束自我评价" in exc.value.message_dict["step"][0]
    assert not AppraisalStep.objects.filter(opened_at__isnull=False).exists()


def test_a_step_cannot_open_while_the_previous_is_still_open(branch):
    appraisal = make_appraisal(branch.org)
    step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)

    with pytest.raises(ValidationError):
        step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.PEER)
    assert appraisal.steps.get(code="peer").opened_at is None


def test_opening_the_first_step_starts_the_appraisal(branch):
    appraisal = make_appraisal(branch.org)

    step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)

    assert Appraisal.objects.get().status == AppraisalStatus.IN_PROGRESS


def test_a_step_not_open_cannot_be_closed(branch):
    appraisal = make_appraisal(branch.org)

    with pytest.raises(ValidationError) as exc:
        step_close(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)
    assert "尚未开启" in exc.value.message_dict["step"][0]


def test_a_closed_step_cannot_open_again(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    with pytest.raises(ValidationError) as exc:
        step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)
    assert "已经开启过" in exc.value.message_dict["step"][0]


def test_closing_decide_needs_a_grade_for_every_participant(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch)[:4])

    with pytest.raises(ValidationError) as exc:
        step_close(actor=branch.secretary, appraisal=appraisal, code=StepCode.DECIDE)
    assert "1名参评党员未评定等次" in exc.value.message_dict["step"][0]
    assert appraisal.steps.get(code="decide").closed_at is None


def test_closing_report_marks_the_appraisal_reported(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))
    close_step(appraisal, StepCode.DECIDE)
    step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.REPORT)

    step_close(actor=branch.secretary, appraisal=appraisal, code=StepCode.REPORT)

    appraisal.refresh_from_db()
    assert appraisal.status == AppraisalStatus.REPORTED and appraisal.reported_at is not None


def test_step_changes_are_audited(branch):
    appraisal = make_appraisal(branch.org)
    step_open(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)
    step_close(actor=branch.secretary, appraisal=appraisal, code=StepCode.SELF)

    rows = AuditLog.objects.filter(object_type="appraisal.appraisal", user=branch.secretary).order_by("id")
    assert [(r.changes["step"], "opened" in r.changes) for r in rows] == [("self", True), ("self", False)]


def test_a_secretary_of_another_branch_may_not_open_a_step(branch, tree):
    appraisal = make_appraisal(branch.org)

    with pytest.raises(PermissionDenied):
        step_open(actor=make_user(role="branch_admin", org=tree.branch_b), appraisal=appraisal, code="self")
    assert appraisal.steps.get(code="self").opened_at is None


# --- self-evaluation and peer comments ----------------------------------------------------------


def test_a_participant_writes_and_rewrites_the_self_evaluation_while_step_one_is_open(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)

    self_evaluation_save(actor=branch.users["甲"], appraisal=appraisal, text="认真学习")
    self_evaluation_save(actor=branch.users["甲"], appraisal=appraisal, text="认真学习，按时参加组织生活")

    assert (
        Participant.objects.get(member=branch.members["甲"]).self_evaluation == "认真学习，按时参加组织生活"
    )


def test_a_self_evaluation_after_step_one_closed_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    with pytest.raises(ValidationError) as exc:
        self_evaluation_save(actor=branch.users["甲"], appraisal=appraisal, text="认真学习")
    assert "已经结束" in exc.value.message_dict["text"][0]
    assert Participant.objects.get(member=branch.members["甲"]).self_evaluation == ""


def test_a_self_evaluation_over_2000_characters_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)

    with pytest.raises(ValidationError) as exc:
        self_evaluation_save(actor=branch.users["甲"], appraisal=appraisal, text="学" * 2001)
    assert "最多2000个字" in exc.value.message_dict["text"][0]


def test_a_non_participant_cannot_write_a_self_evaluation(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.SELF)
    outsider, _member = member_user(tree.branch_b, "辛")

    with pytest.raises(Http404):
        self_evaluation_save(actor=outsider, appraisal=appraisal, text="认真学习")


def test_a_peer_comment_is_stored_without_its_author_and_replaced(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    peer_comment_save(
        actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text="工作积极"
    )
    peer_comment_save(
        actor=branch.users["甲"],
        appraisal=appraisal,
        appraisee=branch.members["乙"].pk,
        text="工作积极，乐于助人",
    )

    [comment] = PeerComment.objects.all()
    assert comment.text == "工作积极，乐于助人"
    assert {f.name for f in PeerComment._meta.get_fields()} == {
        "id",
        "appraisal",
        "appraisee",
        "text",
        "author_key",
    }


def test_a_peer_comment_on_oneself_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    with pytest.raises(ValidationError) as exc:
        peer_comment_save(
            actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["甲"].pk, text="好"
        )
    assert "不评议自己" in exc.value.message_dict["appraisee"][0]
    assert not PeerComment.objects.exists()


def test_a_peer_comment_over_500_characters_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    with pytest.raises(ValidationError):
        peer_comment_save(
            actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text="好" * 501
        )
    assert not PeerComment.objects.exists()


def test_an_empty_peer_comment_withdraws_it(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)
    peer_comment_save(
        actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text="好"
    )

    peer_comment_save(
        actor=branch.users["甲"], appraisal=appraisal, appraisee=branch.members["乙"].pk, text=""
    )

    assert not PeerComment.objects.exists()


# --- ballots -------------------------------------------------------------------------------------


def test_a_ballot_writes_a_receipt_and_votes_without_the_voter(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    result = vote(branch, appraisal, "甲", 乙="excellent")

    assert result.created is True
    assert BallotReceipt.objects.get().voter == branch.members["甲"]
    votes = list(Vote.objects.values_list("appraisee__name", "grade"))
    assert sorted(votes) == [
        ("丁", "qualified"),
        ("丙", "qualified"),
        ("乙", "excellent"),
        ("戊", "qualified"),
    ]
    assert {f.name for f in Vote._meta.get_fields()} == {
        "id",
        "appraisal",
        "appraisee",
        "grade",
        "ballot_key",
    }


def test_the_ballot_key_is_the_hmac_of_the_voter_under_the_secret_key(branch):
    import hashlib
    import hmac

    from django.conf import settings

    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲")

    member_id = branch.members["甲"].pk
    expected = hmac.new(
        settings.SECRET_KEY.encode(), f"appraisal:{appraisal.pk}:voter:{member_id}".encode(), hashlib.sha256
    ).hexdigest()
    assert set(Vote.objects.values_list("ballot_key", flat=True)) == {expected}


def test_a_second_ballot_replaces_the_first_never_adds(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲", 乙="excellent")

    result = vote(branch, appraisal, "甲", 乙="basically_qualified")

    assert result.created is False
    assert BallotReceipt.objects.count() == 1
    assert Vote.objects.count() == 4
    assert Vote.objects.get(appraisee=branch.members["乙"]).grade == "basically_qualified"


def test_a_ballot_under_a_rotated_secret_key_still_replaces(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    with override_settings(SECRET_KEY="old-secret-key-for-the-test-0123456789"):
        vote(branch, appraisal, "甲", 乙="excellent")

    with override_settings(
        SECRET_KEY="new-secret-key-for-the-test-0123456789",
        SECRET_KEY_FALLBACKS=["old-secret-key-for-the-test-0123456789"],
    ):
        vote(branch, appraisal, "甲", 乙="qualified")

    assert Vote.objects.count() == 4 and not Vote.objects.filter(grade="excellent").exists()


def test_a_ballot_from_a_probationary_member_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    with pytest.raises(ValidationError) as exc:
        vote(branch, appraisal, "丁")
    assert "预备党员" in exc.value.message_dict["votes"][0]
    assert not BallotReceipt.objects.exists() and not Vote.objects.exists()


def test_a_ballot_from_a_member_of_another_branch_is_not_found(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    outsider, _member = member_user(tree.branch_b, "辛")

    with pytest.raises(Http404):
        ballot_submit(
            actor=outsider,
            appraisal=appraisal,
            votes=[{"member": branch.members["甲"].pk, "grade": "qualified"}],
        )
    assert not Vote.objects.exists()


def test_a_ballot_before_the_vote_opened_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.PEER)

    with pytest.raises(ValidationError) as exc:
        vote(branch, appraisal, "甲")
    assert "尚未开始" in exc.value.message_dict["votes"][0]
    assert not Vote.objects.exists()


def test_a_ballot_after_the_vote_closed_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲", 乙="excellent")
    close_step(appraisal, StepCode.VOTE)

    with pytest.raises(ValidationError) as exc:
        vote(branch, appraisal, "甲", 乙="unqualified")
    assert "已经结束" in exc.value.message_dict["votes"][0]
    assert Vote.objects.get(appraisee=branch.members["乙"]).grade == "excellent"


def test_a_grade_for_a_non_participant_is_refused_and_nothing_written(branch, tree):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    outsider = make_member(tree.branch_b, "辛")
    votes = [
        {"member": branch.members["乙"].pk, "grade": "qualified"},
        {"member": outsider.pk, "grade": "qualified"},
    ]

    with pytest.raises(ValidationError) as exc:
        ballot_submit(actor=branch.users["甲"], appraisal=appraisal, votes=votes)
    assert "第2项" in exc.value.message_dict["votes"][0]
    assert not BallotReceipt.objects.exists() and not Vote.objects.exists()


def test_a_grade_for_oneself_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    with pytest.raises(ValidationError) as exc:
        ballot_submit(
            actor=branch.users["甲"],
            appraisal=appraisal,
            votes=[{"member": branch.members["甲"].pk, "grade": "excellent"}],
        )
    assert "不能给自己投票" in exc.value.message_dict["votes"][0]
    assert not Vote.objects.exists()


def test_an_unknown_grade_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    with pytest.raises(ValidationError):
        ballot_submit(
            actor=branch.users["甲"],
            appraisal=appraisal,
            votes=[{"member": branch.members["乙"].pk, "grade": "good"}],
        )
    assert not Vote.objects.exists()


def test_the_same_appraisee_twice_on_one_ballot_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    twice = [{"member": branch.members["乙"].pk, "grade": g} for g in ("qualified", "excellent")]

    with pytest.raises(ValidationError) as exc:
        ballot_submit(actor=branch.users["甲"], appraisal=appraisal, votes=twice)
    assert "重复" in exc.value.message_dict["votes"][0]
    assert not Vote.objects.exists()


def test_the_ballot_is_audited_without_its_content(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲", 乙="excellent")

    row = AuditLog.objects.get(user=branch.users["甲"])
    assert row.object_id == str(appraisal.pk) and row.changes == {"ballot": "submitted"}


def test_the_database_refuses_two_receipts_of_one_voter(branch):
    from django.db import IntegrityError, transaction

    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲")
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        BallotReceipt.objects.create(
            appraisal=appraisal, voter=branch.members["甲"], submitted_at=now, updated_at=now
        )


def test_the_database_refuses_two_votes_of_one_ballot_for_one_appraisee(branch):
    from django.db import IntegrityError, transaction

    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)
    vote(branch, appraisal, "甲")
    key = ballot_key(appraisal.pk, branch.members["甲"].pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(
            appraisal=appraisal, appraisee=branch.members["乙"], grade="excellent", ballot_key=key
        )


# --- decisions -----------------------------------------------------------------------------------


def test_the_committee_grades_every_participant_exempt_members_too(branch):
    branch.members["丙"].is_exempt = True
    branch.members["丙"].save(update_fields=["is_exempt"])
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))

    assert set(appraisal.participants.values_list("grade", flat=True)) == {"qualified"}
    assert appraisal.participants.get(member=branch.members["丙"]).exempt is True


def test_decisions_before_the_decide_step_are_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.VOTE)

    with pytest.raises(ValidationError) as exc:
        appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))
    assert "尚未开启" in exc.value.message_dict["grades"][0]
    assert not appraisal.participants.exclude(grade="").exists()


def test_decisions_can_change_until_the_decide_step_closes(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch, 甲="excellent"))
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))
    close_step(appraisal, StepCode.DECIDE)

    with pytest.raises(ValidationError) as exc:
        appraisal_decide(
            actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch, 甲="excellent")
        )
    assert "已经结束" in exc.value.message_dict["grades"][0]
    assert appraisal.participants.get(member=branch.members["甲"]).grade == "qualified"


def test_excellent_beyond_the_share_without_a_reason_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    with pytest.raises(ValidationError) as exc:
        appraisal_decide(
            actor=branch.secretary,
            appraisal=appraisal,
            grades=grades_all(branch, 甲="excellent", 乙="excellent"),
        )
    assert "须写明理由" in exc.value.message_dict["reason"][0]
    assert not appraisal.participants.exclude(grade="").exists()


def test_excellent_beyond_the_share_with_a_reason_is_kept_for_the_level_above(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    appraisal_decide(
        actor=branch.secretary,
        appraisal=appraisal,
        grades=grades_all(branch, 甲="excellent", 乙="excellent"),
        reason="两人在抗洪抢险中表现突出",
    )

    assert Appraisal.objects.get().reason == "两人在抗洪抢险中表现突出"
    assert appraisal.participants.filter(grade="excellent").count() == 2


def test_excellent_within_the_share_needs_no_reason(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch, 甲="excellent"))

    assert appraisal.participants.filter(grade="excellent").count() == 1


def test_one_in_three_is_within_a_share_of_a_third():
    assert excellent_limit(Decimal("0.3333"), 3) == 1
    assert excellent_limit(Decimal("0.3333"), 300) == 100
    assert excellent_limit(Decimal("0.5"), 5) == 2


def test_unqualified_without_follow_up_data_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    with pytest.raises(ValidationError) as exc:
        appraisal_decide(
            actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch, 丙="unqualified")
        )
    assert "处置措施" in exc.value.message_dict["grades"][0]
    assert not FollowUp.objects.exists() and not appraisal.participants.exclude(grade="").exists()


def test_rectify_by_deadline_without_a_deadline_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = grades_all(branch)
    grades[2] = {"member": branch.members["丙"].pk, "grade": "unqualified", "measure": "rectify_by_deadline"}

    with pytest.raises(ValidationError) as exc:
        appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades)
    assert "整改期限" in exc.value.message_dict["grades"][0]
    assert not FollowUp.objects.exists()


def test_unqualified_opens_a_follow_up(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    deadline = timezone.localdate() + timedelta(days=90)
    grades = grades_all(branch)
    grades[2] = {
        "member": branch.members["丙"].pk,
        "grade": "unqualified",
        "measure": "rectify_by_deadline",
        "deadline": deadline.isoformat(),
        "note": "长期不参加组织生活",
    }

    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades)

    follow_up = FollowUp.objects.get()
    assert (follow_up.member, follow_up.measure, follow_up.deadline, follow_up.status) == (
        branch.members["丙"],
        "rectify_by_deadline",
        deadline,
        FollowUpStatus.OPEN,
    )
    assert AuditLog.objects.filter(object_type="appraisal.followup", action="create").exists()


def test_a_changed_grade_removes_its_open_follow_up(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = grades_all(branch)
    grades[2] = {"member": branch.members["丙"].pk, "grade": "unqualified", "measure": "other_disposal"}
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades)

    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))

    assert not FollowUp.objects.exists()


def test_a_follow_up_is_closed_with_a_note(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = grades_all(branch)
    grades[2] = {"member": branch.members["丙"].pk, "grade": "unqualified", "measure": "other_disposal"}
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades)

    follow_up_close(actor=branch.secretary, follow_up=FollowUp.objects.get(), closing_note="已按规定处置")

    follow_up = FollowUp.objects.get()
    assert follow_up.status == FollowUpStatus.CLOSED and follow_up.closed_by == branch.secretary


def test_closing_a_follow_up_without_a_note_is_refused(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)
    grades = grades_all(branch)
    grades[2] = {"member": branch.members["丙"].pk, "grade": "unqualified", "measure": "other_disposal"}
    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades)

    with pytest.raises(ValidationError) as exc:
        follow_up_close(actor=branch.secretary, follow_up=FollowUp.objects.get(), closing_note="  ")
    assert "办结情况" in exc.value.message_dict["closing_note"][0]
    assert FollowUp.objects.get().status == FollowUpStatus.OPEN


def test_decisions_are_audited(branch):
    appraisal = open_step(make_appraisal(branch.org), StepCode.DECIDE)

    appraisal_decide(actor=branch.secretary, appraisal=appraisal, grades=grades_all(branch))

    row = AuditLog.objects.filter(object_type="appraisal.appraisal", user=branch.secretary).latest("id")
    assert row.changes["grades"][str(branch.members["甲"].pk)] == ["", "qualified"]

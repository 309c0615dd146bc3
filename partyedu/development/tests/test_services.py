"""The services of member development beyond the timing rules: the conversion decision (extension
once by 6–12 months, cancellation), closing a case, the people of a case, the policy of a subtree,
the overrides, and the member record whose status follows the case and changes through it only."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import Workbook

from partyedu.core.models import AuditLog
from partyedu.development.choices import Stage
from partyedu.development.models import CaseStep, DevelopmentCase
from partyedu.development.policy import add_months, policy_for_path
from partyedu.development.services import (
    RuleError,
    case_close,
    case_people_set,
    policy_reset,
    policy_set,
)
from partyedu.members.choices import MemberStatus
from partyedu.members.services import member_import, member_update
from partyedu.testsupport.factories import make_user

from .conftest import APPLIED, Setup, confirm, new_case, walk_to

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def at_probation_end(setup: Setup) -> DevelopmentCase:
    """The standard case admitted and sworn in, its probation ending (13 June 2025)."""
    return walk_to(setup, new_case(setup), "oath")


def conversion_vote(setup: Setup, case: DevelopmentCase, **data: Any) -> CaseStep:
    case.refresh_from_db()
    assert case.probation_end is not None
    day = case.probation_end
    result: CaseStep = confirm(
        setup, case, "conversion_vote", day, meeting=setup.meeting(day).pk, yes_votes=5, **data
    )
    return result


def approve_conversion(setup: Setup, case: DevelopmentCase) -> DevelopmentCase:
    vote = case.steps.order_by("-seq").first()
    assert vote is not None
    confirm(setup, case, "conversion_approval", vote.date + timedelta(days=20))
    case.refresh_from_db()
    return case


# --- extension and cancellation --------------------------------------------------------------------


def test_an_extension_of_six_months_moves_the_end_of_probation(setup: Setup) -> None:
    case = at_probation_end(setup)
    end = case.probation_end
    assert end is not None

    conversion_vote(setup, case, outcome="extend", extension_months=6)
    case = approve_conversion(setup, case)

    assert (case.stage, case.extension_months, case.probation_end) == (
        Stage.PROBATIONARY,
        6,
        add_months(end, 6),
    )
    assert case.member is not None
    case.member.refresh_from_db()
    assert case.member.status == MemberStatus.PROBATIONARY


def test_an_extension_of_twelve_months_is_the_longest_accepted(setup: Setup) -> None:
    case = at_probation_end(setup)

    step = conversion_vote(setup, case, outcome="extend", extension_months=12)

    assert (step.outcome, step.extension_months) == ("extend", 12)


@pytest.mark.parametrize("months", [5, 13, None])
def test_an_extension_outside_six_to_twelve_months_is_refused(setup: Setup, months: int | None) -> None:
    case = at_probation_end(setup)

    with pytest.raises(RuleError) as info:
        conversion_vote(setup, case, outcome="extend", extension_months=months)

    assert info.value.rules == ["extension_months"]
    assert case.steps.filter(step="conversion_vote").count() == 0


def test_the_probation_is_extended_once_only(setup: Setup) -> None:
    case = at_probation_end(setup)
    conversion_vote(setup, case, outcome="extend", extension_months=6)
    case = approve_conversion(setup, case)

    with pytest.raises(RuleError) as info:
        conversion_vote(setup, case, outcome="extend", extension_months=6)

    assert info.value.rules == ["extension_once"]


def test_after_an_extension_the_conversion_waits_for_the_new_end(setup: Setup) -> None:
    case = at_probation_end(setup)
    conversion_vote(setup, case, outcome="extend", extension_months=6)
    case = approve_conversion(setup, case)
    assert case.probation_end is not None
    day = case.probation_end - DAY

    with pytest.raises(RuleError) as info:
        confirm(setup, case, "conversion_vote", day, meeting=setup.meeting(day).pk, yes_votes=5)

    assert info.value.rules == ["probation_period"]


def test_after_an_extension_the_member_converts_at_the_new_end(setup: Setup) -> None:
    case = at_probation_end(setup)
    conversion_vote(setup, case, outcome="extend", extension_months=6)
    case = approve_conversion(setup, case)

    conversion_vote(setup, case)
    case = approve_conversion(setup, case)

    assert case.stage == Stage.FULL
    assert case.full_member_on == case.probation_end


def test_extension_months_without_an_extension_are_refused(setup: Setup) -> None:
    case = at_probation_end(setup)

    with pytest.raises(RuleError) as info:
        conversion_vote(setup, case, outcome="convert", extension_months=6)

    assert info.value.rules == ["extension_months"]


def test_a_cancellation_closes_the_case_and_the_member_leaves_the_roll(setup: Setup) -> None:
    case = at_probation_end(setup)

    conversion_vote(setup, case, outcome="cancel")
    case = approve_conversion(setup, case)

    assert (case.stage, case.closed_reason) == (Stage.CLOSED, "取消预备党员资格")
    assert case.closed_on is not None and case.next_due is None
    assert case.member is not None
    case.member.refresh_from_db()
    assert not case.member.is_active


# --- closing a case --------------------------------------------------------------------------------


def test_case_close_of_a_candidate_closes_it_and_the_member_leaves_the_roll(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "candidate")

    case_close(actor=setup.secretary, case=case, reason="本人撤回申请", day=date(2024, 5, 1))

    case.refresh_from_db()
    assert (case.stage, case.closed_on, case.closed_reason) == (
        Stage.CLOSED,
        date(2024, 5, 1),
        "本人撤回申请",
    )
    assert case.member is not None
    case.member.refresh_from_db()
    assert not case.member.is_active
    assert AuditLog.objects.filter(action="update", object_id=str(case.pk), message="本人撤回申请").exists()


def test_case_close_of_an_applicant_needs_a_reason(setup: Setup) -> None:
    case = new_case(setup)

    with pytest.raises(ValidationError) as info:
        case_close(actor=setup.secretary, case=case, reason="  ")

    assert info.value.message_dict["reason"]
    case.refresh_from_db()
    assert case.stage == Stage.APPLIED


def test_case_close_on_a_day_after_today_is_refused(setup: Setup) -> None:
    case = new_case(setup)
    tomorrow = timezone.localdate() + timedelta(days=2)

    with pytest.raises(ValidationError) as info:
        case_close(actor=setup.secretary, case=case, reason="本人撤回申请", day=tomorrow)

    assert info.value.message_dict["day"] == ["终止日期不能晚于今天"]
    case.refresh_from_db()
    assert case.stage == Stage.APPLIED


def test_case_close_of_a_probationary_member_is_refused(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "approval")

    with pytest.raises(ValidationError) as info:
        case_close(actor=setup.secretary, case=case, reason="撤回")

    assert "转正" in info.value.message_dict["stage"][0]


def test_case_close_by_another_branch_is_refused(setup: Setup) -> None:
    case = new_case(setup)
    stranger = make_user(role="branch_admin", org=setup.tree.branch_b)

    with pytest.raises(PermissionDenied):
        case_close(actor=stranger, case=case, reason="撤回")


def test_a_closed_case_takes_no_more_steps_and_a_new_application_may_follow(setup: Setup) -> None:
    case = new_case(setup)
    case_close(actor=setup.secretary, case=case, reason="撤回", day=date(2023, 3, 5))

    with pytest.raises(RuleError) as info:
        confirm(setup, case, "talk", date(2023, 3, 10))
    again = new_case(setup, id_number=case.id_number, applied_on=date(2024, 1, 1))

    assert info.value.rules == ["order"]
    assert again.stage == Stage.APPLIED


# --- people ----------------------------------------------------------------------------------------


def test_case_people_set_changes_the_mentors_of_an_activist(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    case_people_set(actor=setup.secretary, case=case, mentors=[setup.voters[3].pk])

    assert list(case.mentors.all()) == [setup.voters[3]]


def test_case_people_set_refuses_a_mentor_who_is_not_a_full_member(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    with pytest.raises(ValidationError) as info:
        case_people_set(actor=setup.secretary, case=case, mentors=[setup.probationary.pk])

    assert info.value.message_dict["mentors"]
    assert list(case.mentors.all()) == [setup.voters[0]]


def test_case_people_set_refuses_sponsors_before_the_candidate_stage(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    with pytest.raises(ValidationError) as info:
        case_people_set(actor=setup.secretary, case=case, sponsors=[setup.voters[1].pk, setup.voters[2].pk])

    assert info.value.message_dict["sponsors"]


def test_a_candidate_cannot_sponsor_themself(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "candidate")
    assert case.member is not None

    with pytest.raises(ValidationError) as info:
        case_people_set(actor=setup.secretary, case=case, sponsors=[setup.voters[1].pk, case.member.pk])

    assert "本人" in info.value.message_dict["sponsors"][0]


# --- policy ----------------------------------------------------------------------------------------


def test_a_policy_of_the_district_changes_the_rule_for_the_branch_below(setup: Setup) -> None:
    case = new_case(setup)
    policy_set(actor=setup.above, organization=setup.tree.district_a, data={"talk_within_months": 2})

    confirm(setup, case, "talk", add_months(APPLIED, 2))

    case.refresh_from_db()
    assert case.stage == Stage.TALKED


def test_a_policy_of_the_other_district_does_not_apply(setup: Setup) -> None:
    other = make_user(role="org_admin", org=setup.tree.district_b)
    policy_set(actor=other, organization=setup.tree.district_b, data={"talk_within_months": 2})
    case = new_case(setup)

    with pytest.raises(RuleError) as info:
        confirm(setup, case, "talk", add_months(APPLIED, 2))

    assert info.value.rules == ["talk_within"]


def test_policy_reset_brings_back_the_rule_above(setup: Setup) -> None:
    policy_set(actor=setup.above, organization=setup.tree.district_a, data={"probation_months": 18})
    assert policy_for_path(setup.branch.path).probation_months == 18

    policy_reset(actor=setup.above, organization=setup.tree.district_a)

    assert policy_for_path(setup.branch.path).probation_months == 12


def test_the_branch_secretary_cannot_set_the_policy(setup: Setup) -> None:
    with pytest.raises(PermissionDenied):
        policy_set(actor=setup.secretary, organization=setup.branch, data={"talk_within_months": 3})


def test_a_policy_out_of_bounds_is_refused_naming_the_field(setup: Setup) -> None:
    with pytest.raises(ValidationError) as info:
        policy_set(actor=setup.above, organization=setup.tree.district_a, data={"publicity_days": 0})

    assert info.value.message_dict["publicity_days"]


def test_a_longer_probation_by_policy_moves_the_end_of_probation(setup: Setup) -> None:
    policy_set(actor=setup.above, organization=setup.tree.district_a, data={"probation_months": 18})

    case = walk_to(setup, new_case(setup), "approval")

    assert case.probation_end == add_months(case.admitted_on, 18)


# --- overrides -------------------------------------------------------------------------------------


def test_an_override_by_the_level_above_keeps_the_rule_and_the_reason_on_the_step(setup: Setup) -> None:
    case = new_case(setup)

    step = confirm(
        setup, case, "talk", add_months(APPLIED, 1) + DAY, actor=setup.above, override_reason="经区委同意"
    )

    assert (step.overridden, step.override_reason, step.confirmed_by) == (
        ["talk_within"],
        "经区委同意",
        setup.above,
    )
    audit = AuditLog.objects.filter(object_id=str(case.pk), action="update").latest("id")
    assert "破例：talk_within" in audit.message and "经区委同意" in audit.message


def test_an_override_by_the_branch_secretary_is_refused(setup: Setup) -> None:
    case = new_case(setup)

    with pytest.raises(PermissionDenied):
        confirm(setup, case, "talk", add_months(APPLIED, 1) + DAY, override_reason="来不及")

    assert not case.steps.exists()


def test_an_override_reason_without_a_rule_to_set_aside_is_refused(setup: Setup) -> None:
    case = new_case(setup)

    with pytest.raises(ValidationError) as info:
        confirm(setup, case, "talk", APPLIED + DAY, actor=setup.above, override_reason="以防万一")

    assert info.value.message_dict["override_reason"]


def test_a_step_of_the_level_above_by_the_branch_secretary_is_refused(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "committee_review")

    with pytest.raises(PermissionDenied):
        confirm(setup, case, "pre_review", date(2024, 5, 24), actor=setup.secretary)


# --- the member record follows the case ------------------------------------------------------------


def test_the_member_status_follows_each_stage(setup: Setup) -> None:
    case = new_case(setup)
    seen = {}
    for step in ("activist", "candidate", "admission_vote", "approval", "conversion_approval"):
        case = walk_to(setup, case, step)
        assert case.member is not None
        case.member.refresh_from_db()
        seen[step] = case.member.status

    assert seen == {
        "activist": MemberStatus.ACTIVIST,
        "candidate": MemberStatus.CANDIDATE,
        "admission_vote": MemberStatus.CANDIDATE,
        "approval": MemberStatus.PROBATIONARY,
        "conversion_approval": MemberStatus.FULL,
    }
    member = case.member
    assert (member.candidate_on, member.joined_on, member.full_member_on) == (
        case.candidate_on,
        case.admitted_on,
        case.probation_end,
    )


def test_the_activist_becomes_a_member_record_of_the_branch(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup, name="李明"), "activist")

    assert case.member is not None
    assert (case.member.organization, case.member.name, case.member.id_number) == (
        setup.branch,
        "李明",
        case.id_number,
    )


def test_member_update_by_a_secretary_refuses_to_change_the_status_of_a_member_with_a_case(
    setup: Setup,
) -> None:
    case = walk_to(setup, new_case(setup), "activist")
    assert case.member is not None

    with pytest.raises(ValidationError) as info:
        member_update(actor=setup.secretary, member=case.member, data={"status": MemberStatus.FULL})

    assert "发展党员" in info.value.message_dict["status"][0]
    case.member.refresh_from_db()
    assert case.member.status == MemberStatus.ACTIVIST


def test_member_update_by_a_secretary_still_changes_other_fields(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")
    assert case.member is not None

    member_update(actor=setup.secretary, member=case.member, data={"phone": "13800000000"})

    case.member.refresh_from_db()
    assert case.member.phone == "13800000000"


def _member_sheet(member: Any, status_label: str) -> bytes:
    """A one-row member spreadsheet for ``member`` with the status cell set to ``status_label``."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "所在党组织代码", "党员状态"])
    sheet.append([member.name, member.id_number, member.organization.code, status_label])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_member_import_refuses_to_change_the_status_of_a_member_with_a_case(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")
    assert case.member is not None
    admin = make_user(role="org_admin", org=setup.tree.district_a)

    report = member_import(
        actor=admin,
        file=io.BytesIO(_member_sheet(case.member, "正式党员")),
        filename="党员.xlsx",
        dry_run=False,
    )

    assert [(e.row, e.column) for e in report.errors] == [(2, "党员状态")]
    assert "发展党员" in report.errors[0].message
    case.member.refresh_from_db()
    assert case.member.status == MemberStatus.ACTIVIST


def test_member_import_of_an_unchanged_row_of_a_member_with_a_case_passes(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")
    assert case.member is not None
    admin = make_user(role="org_admin", org=setup.tree.district_a)

    report = member_import(
        actor=admin,
        file=io.BytesIO(_member_sheet(case.member, "入党积极分子")),
        filename="党员.xlsx",
        dry_run=True,
    )

    assert report.errors == []

"""Each rule of a step at its boundary: the timing rules a day before and on the day (the day the
policy's ``add_months`` gives), the quorum and the vote of the branch meeting, the order and the
dates of the steps, the people and the age of the applicant. A refused confirmation names its rule
and writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from partyedu.development.choices import Stage
from partyedu.development.models import CaseStep, DevelopmentCase
from partyedu.development.policy import add_months
from partyedu.development.services import RuleError
from partyedu.testsupport.factories import make_member, valid_id_number

from .conftest import APPLIED, Setup, confirm, new_case, walk_to

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def refused(setup: Setup, case: DevelopmentCase, step: str, day: date, **data: Any) -> RuleError:
    """Confirm ``step`` and expect a refusal by rule; nothing of it may be written."""
    before = case.steps.count()
    with pytest.raises(RuleError) as info:
        confirm(setup, case, step, day, **data)
    assert case.steps.count() == before
    return info.value


def last_step(case: DevelopmentCase) -> CaseStep:
    step = case.steps.order_by("-seq").first()
    assert step is not None
    return step


# --- talk within a month of the application --------------------------------------------------------


def test_the_talk_on_the_last_day_of_the_month_is_accepted(setup: Setup) -> None:
    case = new_case(setup)

    confirm(setup, case, "talk", add_months(APPLIED, 1))

    case.refresh_from_db()
    assert case.stage == Stage.TALKED


def test_the_talk_the_day_after_the_month_is_refused_as_talk_within(setup: Setup) -> None:
    case = new_case(setup)

    error = refused(setup, case, "talk", add_months(APPLIED, 1) + DAY)

    assert error.rules == ["talk_within"]
    assert "date" in error.message_dict


def test_the_month_after_the_31st_ends_on_the_last_day_of_february(setup: Setup) -> None:
    case = new_case(setup, applied_on=date(2023, 1, 31))

    assert refused(setup, case, "talk", date(2023, 3, 1)).rules == ["talk_within"]
    confirm(setup, case, "talk", date(2023, 2, 28))


# --- activist for at least 12 months before becoming a candidate ---------------------------------


def _activist_assessed(setup: Setup, on: date) -> DevelopmentCase:
    """The standard case made 入党积极分子 (10 April 2023), assessed again on ``on``."""
    case = walk_to(setup, new_case(setup), "assessment")
    confirm(setup, case, "assessment", on, note="表现良好")
    case.refresh_from_db()
    return case


def test_a_candidate_a_day_before_twelve_months_of_activist_is_refused(setup: Setup) -> None:
    case = _activist_assessed(setup, date(2024, 3, 1))
    assert case.activist_on is not None
    earliest = add_months(case.activist_on, 12)

    error = refused(setup, case, "candidate", earliest - DAY)

    assert error.rules == ["activist_min_period"]


def test_a_candidate_on_the_day_twelve_months_of_activist_end_is_accepted(setup: Setup) -> None:
    case = _activist_assessed(setup, date(2024, 3, 1))
    assert case.activist_on is not None

    confirm(setup, case, "candidate", add_months(case.activist_on, 12))

    case.refresh_from_db()
    assert case.stage == Stage.CANDIDATE


# --- the last assessment within 6 months -----------------------------------------------------------


def test_a_candidate_six_months_after_the_last_assessment_is_accepted(setup: Setup) -> None:
    case = _activist_assessed(setup, date(2024, 1, 15))

    confirm(setup, case, "candidate", add_months(date(2024, 1, 15), 6))

    case.refresh_from_db()
    assert case.stage == Stage.CANDIDATE


def test_a_candidate_a_day_past_six_months_after_the_last_assessment_is_refused(setup: Setup) -> None:
    case = _activist_assessed(setup, date(2024, 1, 15))

    error = refused(setup, case, "candidate", add_months(date(2024, 1, 15), 6) + DAY)

    assert error.rules == ["assessment_interval"]


def test_a_candidate_never_assessed_is_refused(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "activist")

    error = refused(setup, case, "candidate", date(2024, 5, 1))

    assert error.rules == ["assessment_interval"]


# --- short training --------------------------------------------------------------------------------


def test_training_of_two_days_is_refused_as_training(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "candidate")
    setup.training(case.member, APPLIED + timedelta(days=420), days=2)

    error = refused(setup, case, "training_done", APPLIED + timedelta(days=430))

    assert error.rules == ["training"]


def test_training_of_three_full_days_is_accepted(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "candidate")
    setup.training(case.member, APPLIED + timedelta(days=420), days=3)

    confirm(setup, case, "training_done", APPLIED + timedelta(days=430))

    assert last_step(case).step == "training_done"


# --- publicity of at least 5 days ------------------------------------------------------------------


def test_publicity_of_five_days_is_accepted(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "pre_review")
    end = date(2024, 6, 3)

    confirm(setup, case, "publicity", end, start_on=end - timedelta(days=4))

    assert last_step(case).start_on == end - timedelta(days=4)


def test_publicity_of_four_days_is_refused_as_publicity(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "pre_review")
    end = date(2024, 6, 3)

    error = refused(setup, case, "publicity", end, start_on=end - timedelta(days=3))

    assert error.rules == ["publicity"]
    assert "不足5天" in error.message_dict["date"][0]


def test_publicity_without_a_start_is_refused_naming_start_on(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "pre_review")

    error = refused(setup, case, "publicity", date(2024, 6, 3))

    assert error.message_dict["start_on"]


# --- the branch meeting's quorum and vote ----------------------------------------------------------

VOTE_DAY = APPLIED + timedelta(days=470)


def test_a_vote_meeting_without_quorum_cannot_admit(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY, present=2)  # 2 of 5 voting members

    error = refused(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=2)

    assert "quorum" in error.rules
    case.refresh_from_db()
    assert case.stage == Stage.CANDIDATE


def test_a_vote_meeting_with_just_over_half_present_may_admit(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY, present=3)

    confirm(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=3)

    step = last_step(case)
    assert (step.voting_expected, step.voting_present, step.yes_votes) == (5, 3, 3)


def test_the_quorum_is_never_set_aside_even_by_the_level_above(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY, present=2)

    error = refused(
        setup,
        case,
        "admission_vote",
        VOTE_DAY,
        actor=setup.above,
        meeting=meeting.pk,
        yes_votes=2,
        override_reason="特殊情况",
    )

    assert "quorum" in error.rules


def test_yes_votes_of_exactly_half_of_the_expected_are_refused_as_vote(setup: Setup) -> None:
    setup.voters.append(make_member(setup.branch, "党员5"))  # 6 voting members
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY)

    error = refused(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=3)

    assert error.rules == ["vote"]
    assert "yes_votes" in error.message_dict


def test_yes_votes_of_more_than_half_of_the_expected_admit(setup: Setup) -> None:
    setup.voters.append(make_member(setup.branch, "党员5"))
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY)

    confirm(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=4)

    case.refresh_from_db()
    assert case.stage == Stage.ADMISSION_VOTED


def test_more_yes_votes_than_voters_present_are_refused(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY, present=4)

    assert refused(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=5).rules == ["vote"]


def test_a_vote_needs_the_branch_meeting_of_that_day(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")
    meeting = setup.meeting(VOTE_DAY - DAY)

    error = refused(setup, case, "admission_vote", VOTE_DAY, meeting=meeting.pk, yes_votes=5)

    assert error.rules == ["meeting"]
    assert "date" in error.message_dict


def test_a_vote_without_a_meeting_is_refused_naming_meeting(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "publicity")

    error = refused(setup, case, "admission_vote", VOTE_DAY, yes_votes=5)

    assert error.message_dict["meeting"]


# --- approval within 3 months of the vote ----------------------------------------------------------


def test_approval_on_the_last_day_of_three_months_after_the_vote_is_accepted(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "admission_vote")

    confirm(setup, case, "approval", add_months(VOTE_DAY, 3))

    case.refresh_from_db()
    assert case.stage == Stage.PROBATIONARY


def test_approval_the_day_after_three_months_is_refused_as_approval_within(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "admission_vote")

    error = refused(setup, case, "approval", add_months(VOTE_DAY, 3) + DAY)

    assert error.rules == ["approval_within"]


# --- conversion not before the end of probation ----------------------------------------------------


def test_the_conversion_vote_a_day_before_the_end_of_probation_is_refused(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "oath")
    assert case.probation_end == add_months(VOTE_DAY, 12)
    day = case.probation_end - DAY

    error = refused(setup, case, "conversion_vote", day, meeting=setup.meeting(day).pk, yes_votes=5)

    assert error.rules == ["probation_period"]


def test_the_conversion_vote_on_the_day_probation_ends_is_accepted(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "oath")
    assert case.probation_end is not None
    day = case.probation_end

    confirm(setup, case, "conversion_vote", day, meeting=setup.meeting(day).pk, yes_votes=5)

    case.refresh_from_db()
    assert case.stage == Stage.CONVERSION_VOTED


def test_the_conversion_vote_waits_for_the_oath(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "approval")
    assert case.probation_end is not None
    day = case.probation_end

    error = refused(setup, case, "conversion_vote", day, meeting=setup.meeting(day).pk, yes_votes=5)

    assert error.rules == ["order"]


# --- age on the day of the application -------------------------------------------------------------


def test_an_application_on_the_18th_birthday_is_accepted(setup: Setup) -> None:
    case = new_case(setup, applied_on=date(2023, 3, 1), birth=date(2005, 3, 1))

    assert case.stage == Stage.APPLIED


def test_an_application_the_day_before_the_18th_birthday_is_refused(setup: Setup) -> None:
    with pytest.raises(ValidationError) as info:
        new_case(setup, applied_on=date(2023, 3, 1), birth=date(2005, 3, 2))

    assert {"id_number", "applied_on"} <= set(info.value.message_dict)
    assert not DevelopmentCase.objects.exists()


def test_an_application_dated_after_today_is_refused(setup: Setup) -> None:
    with pytest.raises(ValidationError) as info:
        new_case(setup, applied_on=date(2999, 1, 1))

    assert info.value.message_dict["applied_on"]


def test_a_second_open_case_for_the_same_person_is_refused(setup: Setup) -> None:
    number = valid_id_number(date(2000, 5, 1))
    new_case(setup, id_number=number)

    with pytest.raises(ValidationError) as info:
        new_case(setup, id_number=number)

    assert info.value.message_dict["id_number"]
    assert DevelopmentCase.objects.count() == 1


# --- order and dates -------------------------------------------------------------------------------


def test_a_case_cannot_skip_a_step(setup: Setup) -> None:
    case = new_case(setup)

    error = refused(
        setup, case, "activist", date(2023, 3, 20), mentors=[setup.voters[0].pk], recommendation="members"
    )

    assert error.rules == ["order"]
    assert "不能跳过" in error.message_dict["step"][0]


def test_a_candidate_step_cannot_skip_the_one_before_it(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "training_done")

    error = refused(setup, case, "publicity", date(2024, 6, 3), start_on=date(2024, 5, 29))

    assert error.rules == ["order"]


def test_a_step_cannot_be_dated_before_the_one_before_it(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "talk")  # 21 March 2023

    error = refused(
        setup, case, "activist", date(2023, 3, 20), mentors=[setup.voters[0].pk], recommendation="members"
    )

    assert error.rules == ["date_order"]
    assert "2023-03-21" in error.message_dict["date"][0]


def test_a_step_on_the_day_of_the_one_before_it_is_accepted(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "talk")

    confirm(
        setup, case, "activist", date(2023, 3, 21), mentors=[setup.voters[0].pk], recommendation="members"
    )

    assert last_step(case).step == "activist"


def test_the_talk_cannot_be_dated_before_the_application(setup: Setup) -> None:
    case = new_case(setup)

    assert refused(setup, case, "talk", APPLIED - DAY).rules == ["date_order"]


# --- people ----------------------------------------------------------------------------------------


def test_a_mentor_must_be_a_full_member(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "talk")

    error = refused(
        setup, case, "activist", date(2023, 4, 10), mentors=[setup.probationary.pk], recommendation="members"
    )

    assert error.rules == ["mentors"]
    assert "正式党员" in error.message_dict["mentors"][0]


def test_an_activist_needs_a_mentor_and_a_recommendation(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "talk")

    error = refused(setup, case, "activist", date(2023, 4, 10))

    assert set(error.rules) == {"mentors", "recommendation"}


def test_a_sponsor_must_be_a_full_member(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "training_done")

    error = refused(
        setup,
        case,
        "committee_review",
        date(2024, 5, 14),
        sponsors=[setup.voters[1].pk, setup.probationary.pk],
        note="政治审查合格",
    )

    assert "sponsors" in error.rules
    assert "正式党员" in error.message_dict["sponsors"][0]


def test_the_committee_review_needs_two_sponsors_and_the_political_review(setup: Setup) -> None:
    case = walk_to(setup, new_case(setup), "training_done")

    error = refused(setup, case, "committee_review", date(2024, 5, 14), sponsors=[setup.voters[1].pk])

    assert set(error.rules) == {"sponsors", "political_review"}
    assert error.message_dict["note"]

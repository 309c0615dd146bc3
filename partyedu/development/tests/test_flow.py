from __future__ import annotations

from typing import Any

from partyedu.development.choices import Stage
from partyedu.members.choices import MemberStatus

from .conftest import new_case, walk_to


def test_a_case_goes_from_application_to_full_membership(setup: Any) -> None:
    case = new_case(setup)
    case = walk_to(setup, case, "conversion_approval")
    assert case.stage == Stage.FULL
    member = case.member
    member.refresh_from_db()
    assert (member.status, member.joined_on, member.full_member_on) == (
        MemberStatus.FULL,
        case.admitted_on,
        case.probation_end,
    )

"""发展对象 training over the candidate period (``learning.candidates``).

DOMAIN_RULES "发展对象 training window" (细则): from becoming 发展对象 until admission as 预备党员,
across calendar years, ≥ 3 days or ≥ 24 学时 of short concentrated training (短期集中培训).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from partyedu.learning import services
from partyedu.learning.candidates import (
    CANDIDATE_TRAINING_DAYS,
    candidate_training_for,
    candidate_training_get,
    candidate_training_list,
    shows_candidate_training,
)
from partyedu.learning.models import HourRequirement
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.testsupport.factories import make_member, make_user

pytestmark = pytest.mark.django_db
THIS = timezone.localdate().year
LAST = THIS - 1
# A fixed "today" in the middle of this year: the tests do not depend on the day they run.
TODAY = date(THIS, 6, 30)


def training(member: Any, today: date = TODAY) -> Any:
    return candidate_training_for(user=None, members=[member], today=today)[member.pk]


def train(member: Any, day: date, *, hours: float = 8, credited: Decimal | None = None, **kw: Any) -> None:
    """A 培训班 session on ``day`` that ``member`` attended (8 hours: a full day)."""
    activity = make_activity(
        member.organization,
        activity_type="training_session",
        topic=f"发展对象培训 {day}",
        start=local(day.year, day.month, day.day, 9),
        hours=hours,
        credited_hours=credited,
        **kw,
    )
    attend(activity, member)


def candidate(tree: Any, candidate_on: date | None, name: str = "李发展", **data: Any) -> Any:
    data.setdefault("status", "candidate")
    return make_member(tree.branch_a, name, candidate_on=candidate_on, birth=date(1996, 4, 1), **data)


def test_window_runs_across_calendar_years(tree):
    """DOMAIN_RULES 发展对象 training window (细则): 16 学时 last year after becoming 发展对象 and 8 this
    year add up to 24 — met, though neither year alone is."""
    member = candidate(tree, date(LAST, 10, 1))
    train(member, date(LAST, 11, 10), credited=Decimal("16"))
    train(member, date(THIS, 3, 5))

    result = training(member)

    assert result.hours == Decimal("24")
    assert result.met
    assert result.start == date(LAST, 10, 1)
    assert result.start_registered


def test_hours_before_candidate_on_are_not_counted(tree):
    """DOMAIN_RULES 发展对象 training window (细则): the window opens on the day one becomes 发展对象."""
    member = candidate(tree, date(THIS, 3, 1))
    train(member, date(THIS, 2, 27), credited=Decimal("16"))
    train(member, date(THIS, 3, 1))

    result = training(member)

    assert result.hours == Decimal("8")
    assert result.days == 1
    assert not result.met
    assert result.missing_hours == Decimal("16")


def test_hours_after_joined_on_are_not_counted(tree):
    """DOMAIN_RULES 发展对象 training window (细则): admission as 预备党员 (入党日期) closes the window."""
    member = candidate(
        tree, date(LAST, 3, 1), status="probationary", joined_on=date(LAST, 12, 1), name="赵预备"
    )
    train(member, date(LAST, 6, 1))
    train(member, date(LAST, 12, 1), credited=Decimal("16"))
    train(member, date(THIS, 2, 1), credited=Decimal("16"))

    result = training(member)

    assert result.hours == Decimal("8")
    assert result.admitted
    assert result.end == date(LAST, 11, 30)
    assert not result.met


def test_three_days_of_half_day_sessions_meet_the_rule_by_days(tree):
    """DOMAIN_RULES 发展对象 training window (细则's "三天"): three days of 4-hour sessions are 12 学时,
    short of 24, but three days — met."""
    member = candidate(tree, date(THIS, 4, 1))
    for day in (date(THIS, 4, 8), date(THIS, 4, 9), date(THIS, 4, 10)):
        train(member, day, hours=4)

    result = training(member)

    assert result.hours == Decimal("12")
    assert result.days == CANDIDATE_TRAINING_DAYS == 3
    assert result.met


def test_two_sessions_on_one_day_are_one_day(tree):
    """DOMAIN_RULES 发展对象 training window (细则): days are distinct days, not sessions."""
    member = candidate(tree, date(THIS, 4, 1))
    train(member, date(THIS, 4, 8), hours=3)
    activity = make_activity(
        tree.branch_a, activity_type="reading_class", start=local(THIS, 4, 8, 14), hours=3
    )
    attend(activity, member)

    assert training(member).days == 1


def test_a_three_day_class_is_three_days(tree):
    """DOMAIN_RULES 发展对象 training window (细则): one 培训班 activity over three days counts its days."""
    member = candidate(tree, date(THIS, 4, 1))
    activity = make_activity(
        tree.branch_a,
        activity_type="training_session",
        start=local(THIS, 5, 6, 9),
        end=local(THIS, 5, 8, 17),
    )
    attend(activity, member)

    result = training(member)

    assert result.days == 3
    assert result.met


def test_collective_study_does_not_count(tree):
    """DOMAIN_RULES 发展对象 training window (细则): only 集中培训 counts, not a 主题党日 (集体学习)."""
    member = candidate(tree, date(THIS, 1, 5))
    activity = make_activity(
        tree.branch_a, activity_type="theme_day", start=local(THIS, 2, 1, 9), credited_hours=Decimal("30")
    )
    attend(activity, member)

    result = training(member)

    assert result.hours == 0
    assert result.days == 0


def test_an_absence_credits_no_day(tree):
    """DOMAIN_RULES 发展对象 training window (细则): a day counts only when the training was attended."""
    member = candidate(tree, date(THIS, 1, 5))
    activity = make_activity(
        tree.branch_a, activity_type="training_session", start=local(THIS, 2, 1, 9), hours=8
    )
    attend(activity, member, status="absent")

    assert training(member).days == 0


def test_missing_candidate_on_counts_from_1_january(tree):
    """DOMAIN_RULES 发展对象 training window (细则): without 确定为发展对象日期 the window is counted from 1
    January of this year, and it says so (``start_registered``)."""
    member = candidate(tree, None)
    train(member, date(LAST, 12, 20), credited=Decimal("16"))
    train(member, date(THIS, 1, 10))

    result = training(member)

    assert not result.start_registered
    assert result.start == date(THIS, 1, 1)
    assert result.hours == Decimal("8")


def test_manual_concentrated_hours_count_and_their_cancellation_nets_them_out(tree):
    """DOMAIN_RULES 发展对象 training window (细则): a manual record of 集中培训 (a county party school's
    class) counts by the day it was recorded; its cancellation takes it away again."""
    today = timezone.localdate()
    member = candidate(tree, date(today.year, 1, 1) if today.day > 1 or today.month > 1 else today)
    entry = services.learning_hours_record_manual(
        actor=None,
        member=member,
        year=today.year,
        kind="concentrated",
        hours=24,
        description="县委党校培训班",
    )
    assert training(member, today).met

    services.learning_hours_manual_reverse(actor=None, entry=entry, reason="登记错了")

    assert training(member, today).hours == 0


def test_required_hours_follow_the_subtree_rule(tree):
    """DOMAIN_RULES 发展对象 training window (细则; the hours are the subtree's ``candidate_hours``)."""
    HourRequirement.objects.create(organization=tree.district_a, candidate_hours=Decimal("16"))
    member = candidate(tree, date(LAST, 10, 1))
    train(member, date(LAST, 11, 10), credited=Decimal("16"))

    result = training(member)

    assert result.required_hours == Decimal("16")
    assert result.met
    assert result.requirement_text == "16学时或3天"


def test_shortfall_names_both_ways(tree):
    member = candidate(tree, date(THIS, 3, 1))
    train(member, date(THIS, 3, 2))

    result = training(member)

    assert result.requirement_text == "24学时或3天"
    assert result.shortfall_text == "16学时或2天"


def test_bulk_reads_take_two_queries_for_many_members(tree, django_assert_num_queries):
    """The yearly summaries call it for many members: the rules and the ledger lines, one query each."""
    members = [candidate(tree, date(THIS, 1, 2), name=f"发展对象{i}") for i in range(12)]
    for member in members[:4]:
        train(member, date(THIS, 2, 1))

    with django_assert_num_queries(2):
        result = candidate_training_for(user=None, members=members, today=TODAY)

    assert len(result) == 12
    assert sum(r.hours for r in result.values()) == Decimal("32")


def test_members_outside_the_users_scope_are_left_out(tree):
    member = candidate(tree, date(THIS, 1, 2))
    stranger = make_user(role="org_admin", org=tree.district_b)
    manager = make_user(role="org_admin", org=tree.district_a)

    assert candidate_training_for(user=stranger, members=[member], today=TODAY) == {}
    assert member.pk in candidate_training_for(user=manager, members=[member], today=TODAY)


def test_box_shows_for_candidates_and_new_probationary_members_only(tree):
    """DOMAIN_RULES 发展对象 training window (细则): the box is for 发展对象 and for 预备党员 admitted
    within the last year."""
    new = candidate(tree, date(LAST, 9, 1), status="probationary", joined_on=date(LAST, 12, 1), name="新预备")
    old = make_member(tree.branch_a, "老预备", status="probationary", joined_on=date(LAST - 1, 5, 1))
    full = make_member(tree.branch_a, "老党员", status="full", joined_on=date(1990, 7, 1))

    assert shows_candidate_training(new, TODAY)
    assert not shows_candidate_training(old, TODAY)
    assert not shows_candidate_training(full, TODAY)
    assert candidate_training_get(user=make_user(role="org_admin", org=tree.district_a), member=full) is None


def test_list_puts_those_not_met_first_and_filters_them(tree):
    """DOMAIN_RULES 发展对象 training window (细则): the branch sees who is still short first."""
    done = candidate(tree, date(LAST, 10, 1), name="甲已达到")
    train(done, date(LAST, 11, 10), credited=Decimal("24"))
    short = candidate(tree, date(LAST, 10, 1), name="乙未达到")
    make_member(tree.branch_a, "丙党员", status="full")
    user = make_user(role="org_admin", org=tree.district_a)

    rows = candidate_training_list(user=user, organization=tree.branch_a)
    only_short = candidate_training_list(user=user, organization=tree.branch_a, only_short=True)

    assert [r.member.name for r in rows] == [short.name, done.name]
    assert [r.member.name for r in only_short] == [short.name]


def test_list_of_an_organisation_outside_the_scope_is_404(tree):
    stranger = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(Http404):
        candidate_training_list(user=stranger, organization=tree.branch_a)

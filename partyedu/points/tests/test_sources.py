"""Points follow their sources at once, through the change hooks of the apps below: a lecture
given (``lectures.lectures_changed``), an exam passed (``exams.results_changed``), an online
resource completed (``learning.resources_completed``) — no recount — and after each the ledger
equals a rebuild."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from partyedu.core.hooks import hooks
from partyedu.exams.models import Attempt
from partyedu.exams.services import question_key_correct
from partyedu.exams.tests.conftest import make_exam, taker
from partyedu.exams.tests.test_hours_credit import take
from partyedu.learning.services import resource_create, resource_heartbeat, resource_publish
from partyedu.lectures.services import lecture_delete, lecture_update
from partyedu.lectures.tests.conftest import lecture, lecturer, party_lecture
from partyedu.members.models import Member
from partyedu.points.models import PointsEntry
from partyedu.study.services import activity_update
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, scheme

pytestmark = pytest.mark.django_db

SOURCE_ITEMS: list[dict[str, Any]] = [
    {
        "code": "lecture",
        "name": "讲党课",
        "kind": "earn",
        "source": "lecture",
        "activity_types": [],
        "points": "5",
        "cap": None,
        "cap_period": "year",
    },
    {
        "code": "exam",
        "name": "考试合格",
        "kind": "earn",
        "source": "exam_pass",
        "activity_types": [],
        "points": "3",
        "cap": None,
        "cap_period": "year",
    },
    {
        "code": "resource",
        "name": "网上学习",
        "kind": "earn",
        "source": "resource",
        "activity_types": [],
        "points": "1",
        "cap": "2",
        "cap_period": "month",
    },
]


def net(member: Member, code: str, year: int = YEAR) -> Decimal:
    total = PointsEntry.objects.filter(member=member, year=year, item__code=code).aggregate(s=Sum("points"))
    return total["s"] or Decimal("0")


def lines(member: Member, code: str) -> list[tuple[Decimal, int]]:
    return list(
        PointsEntry.objects.filter(member=member, item__code=code)
        .order_by("id")
        .values_list("points", "version")
    )


# --- lectures ---------------------------------------------------------------------------------------


def test_a_lecture_given_credits_its_speaker_at_once(tree):
    member = make_member(tree.branch_a, "讲课人")
    scheme(tree.root, item_list=SOURCE_ITEMS)
    lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a, member))
    assert lines(member, "lecture") == [(Decimal("5"), 1)]
    assert_ledger_equals_rebuild()


def test_a_speaker_removed_from_a_lecture_gets_a_correction_and_the_new_one_the_points(tree):
    first, second = make_member(tree.branch_a, "甲"), make_member(tree.branch_a, "乙")
    scheme(tree.root, item_list=SOURCE_ITEMS)
    given = lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a, first))
    lecture_update(actor=None, lecture=given, data={"lecturers": [lecturer(tree.district_a, second).pk]})
    assert lines(first, "lecture") == [(Decimal("5"), 1), (Decimal("-5"), 2)]
    assert net(second, "lecture") == Decimal("5")
    assert_ledger_equals_rebuild()


def test_a_deleted_lecture_takes_its_points_back(tree):
    member = make_member(tree.branch_a, "讲课人")
    scheme(tree.root, item_list=SOURCE_ITEMS)
    given = lecture(party_lecture(tree.branch_a, at(3)), lecturer(tree.district_a, member))
    assert net(member, "lecture") == Decimal("5")
    lecture_delete(actor=None, lecture=given)
    assert net(member, "lecture") == Decimal("0")
    assert_ledger_equals_rebuild()


def test_a_lecture_moved_to_a_year_without_a_scheme_takes_its_points_back(tree):
    member = make_member(tree.branch_a, "讲课人")
    scheme(tree.root, item_list=SOURCE_ITEMS)
    activity = party_lecture(tree.branch_a, at(3))
    lecture(activity, lecturer(tree.district_a, member))
    assert net(member, "lecture") == Decimal("5")
    start = at(3, year=YEAR - 1)
    activity_update(actor=None, activity=activity, data={"start": start, "end": start + timedelta(hours=2)})
    assert net(member, "lecture") == Decimal("0")
    assert_ledger_equals_rebuild()


# --- exams ------------------------------------------------------------------------------------------


def this_year_scheme(tree: Any) -> None:
    scheme(tree.root, year=timezone.localdate().year, item_list=SOURCE_ITEMS)


def test_an_exam_passed_credits_points_at_once(tree):
    this_year_scheme(tree)
    user = taker(tree.branch_a)
    take(user, make_exam(tree.district_a))
    member = Member.objects.get(user=user)
    assert net(member, "exam", timezone.localdate().year) == Decimal("3")
    assert_ledger_equals_rebuild()


def test_an_exam_failed_credits_nothing(tree):
    this_year_scheme(tree)
    user = taker(tree.branch_a)
    take(user, make_exam(tree.district_a), correct=False)
    assert not PointsEntry.objects.filter(member__user=user).exists()
    assert_ledger_equals_rebuild()


def test_a_regrade_that_turns_a_pass_into_a_fail_appends_a_correction(tree):
    this_year_scheme(tree)
    exam = make_exam(tree.district_a, pass_score=100)
    judge = exam.paper.items.get(position=3).question
    user = taker(tree.branch_a)
    take(user, exam)
    member = Member.objects.get(user=user)
    assert lines(member, "exam") == [(Decimal("3"), 1)]

    question_key_correct(actor=None, question=judge, answer=False)

    assert Attempt.objects.get(exam=exam).passed is False
    assert lines(member, "exam") == [(Decimal("3"), 1), (Decimal("-3"), 2)]
    assert "更正" in PointsEntry.objects.get(member=member, version=2).description
    assert_ledger_equals_rebuild()


def test_a_regrade_of_an_exam_that_credits_no_hours_still_corrects_the_points(tree):
    # The hours path only looks at exams that credit hours or decide a class; points look at all.
    this_year_scheme(tree)
    exam = make_exam(tree.district_a, pass_score=100)
    assert exam.counts_as_hours is False and exam.completion_required is False
    user = taker(tree.branch_a)
    take(user, exam)
    member = Member.objects.get(user=user)
    assert net(member, "exam", timezone.localdate().year) == Decimal("3")
    question_key_correct(actor=None, question=exam.paper.items.get(position=3).question, answer=False)
    assert net(member, "exam", timezone.localdate().year) == Decimal("0")
    assert_ledger_equals_rebuild()


# --- online resources -------------------------------------------------------------------------------


def completed(user: Any, resource: Any, when: Any) -> None:
    """Play the whole resource: two heartbeats (the second one wall-clock later)."""
    resource_heartbeat(user=user, resource=resource, start=0, end=0, at=when)
    resource_heartbeat(user=user, resource=resource, start=0, end=600, at=when + timedelta(seconds=600))


def published(admin: Any, org: Any, title: str) -> Any:
    resource = resource_create(
        actor=admin,
        organization=org,
        kind="article",
        file=None,
        title=title,
        body="正文",
        duration_seconds=600,
    )
    return resource_publish(actor=admin, resource=resource)


@pytest.fixture
def learner(tree):
    user = make_user("learner", role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "学员")
    Member.objects.filter(pk=member.pk).update(user=user)
    return user


def test_a_resource_completed_credits_points_at_once(tree, learner):
    scheme(tree.root, item_list=SOURCE_ITEMS)
    admin = make_user("admin_a", role="org_admin", org=tree.district_a)
    completed(learner, published(admin, tree.branch_a, "学习党章"), at(4))
    assert net(Member.objects.get(user=learner), "resource") == Decimal("1")
    assert_ledger_equals_rebuild()


def test_resources_completed_beyond_the_monthly_cap_credit_nothing_more(tree, learner):
    scheme(tree.root, item_list=SOURCE_ITEMS)
    admin = make_user("admin_a", role="org_admin", org=tree.district_a)
    for day, title in ((2, "第一课"), (9, "第二课"), (16, "第三课")):
        completed(learner, published(admin, tree.branch_a, title), at(4, day))
    assert net(Member.objects.get(user=learner), "resource") == Decimal("2")
    assert_ledger_equals_rebuild()


# --- cost without schemes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("lectures.lectures_changed", {"lecture_ids": [1], "member_ids": [1], "years": [YEAR]}),
        ("exams.results_changed", {"exam_ids": [1], "member_ids": [1]}),
        ("learning.resources_completed", {"progress_ids": [1], "member_ids": [1], "years": [YEAR]}),
    ],
)
def test_without_a_scheme_each_hook_costs_one_query(db, django_assert_num_queries, name, kwargs):
    (function,) = [f for f in hooks.registered(name) if f.__module__ == "partyedu.points.hooks"]
    with django_assert_num_queries(1):
        assert function(**kwargs) == 0

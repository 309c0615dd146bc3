"""结业考试 as a condition of completing a training class: a member completes the class when the
attendance ratio is met and their counted attempt at the required exam passed."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partyedu.exams.credit import class_completion_exams
from partyedu.exams.services import exam_update, question_key_correct
from partyedu.learning.models import MemberYearHours
from partyedu.learning.tests.factories import assert_ledger_equals_rebuild, attend, make_activity
from partyedu.members.models import Member
from partyedu.study.models import Activity, ClassEnrollment, TrainingClass
from partyedu.study.selectors import class_completion
from partyedu.testsupport.factories import make_user

from .conftest import make_exam, taker
from .test_hours_credit import take

pytestmark = pytest.mark.django_db


@pytest.fixture
def klass(tree):
    """A class of two sessions held in the last days, ending today (so this year)."""
    today = timezone.localdate()
    tc = TrainingClass.objects.create(
        organization=tree.district_a,
        name="支部书记培训班",
        start_date=today - timedelta(days=3),
        end_date=today,
    )
    for n in (2, 1):
        session = make_activity(
            tree.district_a,
            activity_type="training_session",
            topic=f"第{3 - n}讲",
            start=timezone.now() - timedelta(days=n),
        )
        Activity.objects.filter(pk=session.pk).update(training_class=tc)
    return tc


@pytest.fixture
def student(tree, klass):
    """A member who attended every session of the class (the attendance ratio is met)."""
    user = taker(tree.branch_a, "学员")
    member = Member.objects.get(user=user)
    ClassEnrollment.objects.create(training_class=klass, member=member)
    for session in Activity.objects.filter(training_class=klass):
        attend(session, member)
    return user


def completed(user):
    row = MemberYearHours.objects.filter(member__user=user, year=timezone.localdate().year).first()
    return row.classes_completed if row else 0


def final_exam(tree, klass, **data):
    data.setdefault("completion_required", True)
    return make_exam(tree.district_a, training_class=klass, **data)


def test_attendance_alone_completes_a_class_without_a_required_exam(tree, klass, student):
    final_exam(tree, klass, completion_required=False)
    assert completed(student) == 1


def test_making_an_exam_a_completion_condition_uncompletes_members_who_have_not_passed(tree, klass, student):
    assert completed(student) == 1
    final_exam(tree, klass)
    assert completed(student) == 0
    assert_ledger_equals_rebuild()


def test_passing_the_required_exam_completes_the_class(tree, klass, student):
    exam = final_exam(tree, klass)
    take(student, exam)
    assert completed(student) == 1
    assert_ledger_equals_rebuild()


def test_failing_the_required_exam_leaves_the_class_incomplete(tree, klass, student):
    exam = final_exam(tree, klass)
    take(student, exam, correct=False)
    assert completed(student) == 0
    assert_ledger_equals_rebuild()


def test_passing_without_the_attendance_does_not_complete(tree, klass):
    user = taker(tree.branch_a, "缺课学员")
    member = Member.objects.get(user=user)
    ClassEnrollment.objects.create(training_class=klass, member=member)
    attend(Activity.objects.filter(training_class=klass).first(), member)
    exam = final_exam(tree, klass)
    take(user, exam)
    assert completed(user) == 0


def test_the_class_page_rows_show_the_exam(tree, klass, student):
    exam = final_exam(tree, klass)
    admin = make_user(role="org_admin", org=tree.district_a)
    (row,) = class_completion(user=admin, training_class=klass)
    assert (row.completed, row.exam_passed) == (False, False)
    take(student, exam)
    (row,) = class_completion(user=admin, training_class=klass)
    assert (row.completed, row.exam_passed) == (True, True)


def test_the_class_page_rows_say_nothing_of_exams_when_none_is_required(tree, klass, student):
    admin = make_user(role="org_admin", org=tree.district_a)
    (row,) = class_completion(user=admin, training_class=klass)
    assert (row.completed, row.exam_passed) == (True, None)


def test_a_regrade_that_fails_the_member_uncompletes_the_class(tree, klass, student):
    exam = final_exam(tree, klass, pass_score=100)
    take(student, exam)
    assert completed(student) == 1
    judge = exam.paper.items.get(position=3).question
    question_key_correct(actor=None, question=judge, answer=False)
    assert completed(student) == 0
    assert_ledger_equals_rebuild()


def test_unmarking_the_condition_completes_the_class_again(tree, klass, student):
    exam = final_exam(tree, klass)
    assert completed(student) == 0
    exam_update(actor=None, exam=exam, data={"completion_required": False})
    assert completed(student) == 1
    assert_ledger_equals_rebuild()


def test_only_a_class_exam_can_be_a_completion_condition(tree):
    with pytest.raises(ValidationError) as raised:
        make_exam(tree.district_a, completion_required=True)
    assert "培训班" in raised.value.message_dict["completion_required"][0]


def test_a_practice_set_cannot_be_a_completion_condition(tree, klass):
    with pytest.raises(ValidationError):
        final_exam(tree, klass, kind="practice")


def test_the_passes_of_a_required_exam_are_read_in_one_query(tree, klass, student, django_assert_num_queries):
    exam = final_exam(tree, klass)
    take(student, exam)
    member_id = Member.objects.get(user=student).pk
    with django_assert_num_queries(1):
        required, passed = class_completion_exams(class_ids=[klass.pk], member_ids=[member_id, member_id + 1])
    assert (required, passed) == ({klass.pk}, {(klass.pk, member_id)})

"""Banks and questions: scope, sharing down the tree, duplicates and versions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.exams import selectors
from partyedu.exams.models import QuestionVersion
from partyedu.exams.services import answer_save, attempt_start, question_create, question_update
from partyedu.testsupport.factories import make_user

from .conftest import make_bank, make_exam, make_question, taker

pytestmark = pytest.mark.django_db


def test_a_question_in_a_sibling_districts_bank_is_refused(tree):
    bank = make_bank(tree.district_b)
    admin = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        question_create(actor=admin, bank=bank, data={"qtype": "judge", "stem": "题", "answer": True})


def test_a_city_bank_is_visible_below_but_not_writable(tree):
    bank = make_bank(tree.root, "全市题库")
    admin = make_user(role="org_admin", org=tree.district_a)
    assert bank in selectors.bank_list(user=admin)
    assert bank not in selectors.bank_list(user=admin, action="change")


def test_a_sibling_cannot_see_a_districts_bank(tree):
    bank = make_bank(tree.district_a)
    assert bank not in selectors.bank_list(user=make_user(role="org_admin", org=tree.district_b))


def test_a_duplicate_stem_is_refused_whatever_its_width_and_spacing(tree):
    bank = make_bank(tree.root)
    make_question(bank, qtype="judge", stem="党的基层组织是党的战斗堡垒。", answer=True)
    with pytest.raises(ValidationError) as caught:
        make_question(bank, qtype="judge", stem="党的基层组织 是党的战斗堡垒!", answer=True)
    assert "题库中已有相同题干的试题" in caught.value.message_dict["stem"][0]


def test_an_unanswered_question_is_edited_in_place(tree):
    question = make_question(make_bank(tree.root), qtype="judge", stem="旧题干", answer=True)
    question_update(actor=None, question=question, data={"stem": "新题干"})
    assert QuestionVersion.objects.filter(question=question).count() == 1
    question.refresh_from_db()
    assert question.current_version.stem == "新题干"


def test_editing_an_answered_question_makes_a_new_version_and_the_attempt_keeps_the_old(tree):
    exam = make_exam(tree.district_a)
    user = taker(tree.branch_a)
    attempt = attempt_start(actor=user, exam=exam)
    item = attempt.questions.select_related("version__question").get(position=1)
    answer_save(actor=user, attempt=attempt, question=item.version.question_id, response="A")
    question = item.version.question
    question_update(actor=None, question=question, data={"stem": "改过的题干"})
    question.refresh_from_db()
    assert question.current_version.number == 2
    item.refresh_from_db()
    assert item.version.number == 1
    assert item.version.stem != "改过的题干"
    assert AuditLog.objects.filter(
        object_type="exams.question", object_id=str(question.pk), action="update"
    ).exists()


def test_the_type_of_an_answered_question_cannot_change(tree):
    exam = make_exam(tree.district_a)
    attempt_start(actor=taker(tree.branch_a), exam=exam)
    question = exam.paper.items.get(position=3).question  # the judge question
    with pytest.raises(ValidationError) as caught:
        question_update(actor=None, question=question, data={"qtype": "fill", "answer": ["是"]})
    assert "不能更改题型" in caught.value.message_dict["qtype"][0]


def test_questions_filter_by_tag_in_sql(tree):
    bank = make_bank(tree.root)
    tagged = make_question(bank, qtype="judge", stem="甲", answer=True, tags=["党史"])
    make_question(bank, qtype="judge", stem="乙", answer=True, tags=["党章"])
    admin = make_user(role="org_admin", org=tree.root)
    assert list(selectors.question_list(user=admin, filters={"tag": "党史"})) == [tagged]

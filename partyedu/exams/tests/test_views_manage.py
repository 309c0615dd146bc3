"""Organiser exam pages: permissions of every URL, the list's filters and counts, creating and
editing an exam through the forms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.core.testing import ScopedEndpointTests
from partyedu.exams.models import Exam, ExamTarget
from partyedu.exams.selectors.results import exam_list_filtered
from partyedu.exams.services import exam_create
from partyedu.exams.targets import exam_target_members
from partyedu.study.models import ClassEnrollment, TrainingClass
from partyedu.testsupport.factories import make_member, make_user

from .conftest import make_bank, make_exam, make_question

pytestmark = pytest.mark.django_db


def exam_at(org: Any, **data: Any) -> Exam:
    return make_exam(org, title="标记考试", **data)


class _ExamPage(ScopedEndpointTests):
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return exam_at(org)


class TestExamList(_ExamPage):
    url_name = "exams:exam_list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_list")


class TestExamListForABranchSecretary(TestExamList):
    role = "branch_admin"


class TestExamCreate(ScopedEndpointTests):
    url_name = "exams:exam_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_create")


class TestExamDetail(_ExamPage):
    url_name = "exams:exam_detail"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_detail", args=[obj.pk])


class TestExamEdit(_ExamPage):
    url_name = "exams:exam_edit"

    def url(self, obj: Any) -> str:
        return reverse("exams:exam_edit", args=[obj.pk])


def test_the_section_index_leads_to_the_exam_list(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    response = client.get(reverse("exams:index"))
    assert response["Location"] == reverse("exams:exam_list")


def test_a_member_cannot_open_the_exam_list(client, tree):
    client.force_login(make_user(role="member", org=tree.branch_a))
    assert client.get(reverse("exams:exam_list")).status_code == 403


def test_the_list_filters_by_status(client, tree):
    now = timezone.now()
    make_exam(tree.branch_a, title="进行中的考试")
    make_exam(
        tree.branch_a,
        title="已结束的考试",
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=2),
    )
    make_exam(
        tree.branch_a,
        title="未开始的考试",
        opens_at=now + timedelta(days=2),
        closes_at=now + timedelta(days=3),
    )
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:exam_list"), {"status": "closed"}).content.decode()
    assert "已结束的考试" in body
    assert "进行中的考试" not in body and "未开始的考试" not in body


def test_the_list_filters_by_kind(client, tree):
    make_exam(tree.branch_a, title="正式考试")
    make_exam(tree.branch_a, title="应知应会练习", kind="practice")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:exam_list"), {"kind": "practice"}).content.decode()
    assert "应知应会练习" in body and "正式考试" not in body


def test_the_list_counts_subtree_targets_without_the_exempt(tree):
    make_member(tree.branch_a, "甲")
    make_member(tree.group_a, "乙")
    make_member(tree.branch_a, "老党员", is_exempt=True, exempt_reason="年老体弱")
    make_member(tree.branch_b, "外区")
    exam = make_exam(tree.branch_a)
    row = exam_list_filtered(user=make_user(role="org_admin", org=tree.root)).get(pk=exam.pk)
    total = row.target_total  # type: ignore[attr-defined]
    assert total == exam_target_members(exam).count() == 2


def test_the_list_counts_a_class_with_a_named_exempt_member(tree):
    enrolled = make_member(tree.branch_a, "学员")
    exempt = make_member(tree.branch_a, "免学学员", is_exempt=True, exempt_reason="年老体弱")
    named = make_member(tree.branch_b, "指名")
    today = timezone.localdate()
    klass = TrainingClass.objects.create(
        organization=tree.district_a, name="培训班", start_date=today, end_date=today
    )
    ClassEnrollment.objects.create(training_class=klass, member=enrolled)
    ClassEnrollment.objects.create(training_class=klass, member=exempt)
    exam = make_exam(tree.district_a, training_class=klass, target_members=[named.pk])
    row = exam_list_filtered(user=make_user(role="org_admin", org=tree.root)).get(pk=exam.pk)
    total = row.target_total  # type: ignore[attr-defined]
    assert total == exam_target_members(exam).count() == 2


def test_the_list_counts_named_members(tree):
    members = [make_member(tree.branch_a, n) for n in ("一", "二", "三")]
    exam = make_exam(tree.district_a, target_members=[m.pk for m in members[:2]])
    row = exam_list_filtered(user=make_user(role="org_admin", org=tree.root)).get(pk=exam.pk)
    total = row.target_total  # type: ignore[attr-defined]
    assert total == 2


def test_the_list_is_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    bank = make_bank(tree.root)
    questions = [make_question(bank, qtype="judge", stem=f"题{i}", answer=True) for i in range(2)]
    for i in range(12):
        make_exam(tree.branch_a, questions=questions, title=f"考试{i}")
    client.force_login(make_user(role="org_admin", org=tree.root))
    client.get(reverse("exams:exam_list"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("exams:exam_list"))
    assert response.content.decode().count('data-testid="exam-row"') == 12


def _form(paper: Any, org: Any, **extra: Any) -> dict[str, Any]:
    now = timezone.localtime()
    data = {
        "organization": org.pk,
        "title": "七一党史测试",
        "kind": "exam",
        "paper": paper.pk,
        "target_kind": "subtree",
        "opens_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "time_limit_minutes": "30",
        "grace_seconds": "60",
        "attempts_allowed": "1",
        "grading": "highest",
        "pass_score": "60",
        "show_answers": "after_close",
    }
    data.update(extra)
    return data


def test_creating_an_exam_over_a_paper_of_the_organisation(client, tree):
    paper = make_exam(tree.district_a).paper
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(reverse("exams:exam_create"), _form(paper, tree.district_a))
    exam = Exam.objects.get(title="七一党史测试")
    assert response["Location"] == reverse("exams:exam_detail", args=[exam.pk])
    assert (exam.paper_id, exam.target_kind, exam.counts_as_hours) == (paper.pk, "subtree", False)


def test_the_exam_form_offers_the_learning_hours_switch_off_by_default(client, tree):
    # Exam results are not learning hours unless the organiser says so (test_hours_credit.py).
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:exam_create")).content.decode()
    assert 'name="counts_as_hours"' in body
    checkbox = body.split('name="counts_as_hours"', 1)[1].split(">", 1)[0]
    assert "checked" not in checkbox
    assert "默认不计入" in body


def test_a_close_before_the_open_is_refused_on_its_field(client, tree):
    paper = make_exam(tree.district_a).paper
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    now = timezone.localtime()
    before = Exam.objects.count()
    response = client.post(
        reverse("exams:exam_create"),
        _form(paper, tree.district_a, closes_at=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")),
    )
    assert response.status_code == 200
    assert "截止时间应晚于开始时间" in response.content.decode()
    assert Exam.objects.count() == before


def test_an_exam_for_named_members_by_name(client, tree):
    paper = make_exam(tree.district_a).paper
    member = make_member(tree.branch_a, "李四")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    client.post(
        reverse("exams:exam_create"),
        _form(paper, tree.district_a, target_kind="members", target_members="李四"),
    )
    exam = Exam.objects.get(title="七一党史测试")
    assert exam.target_kind == "members"
    assert list(ExamTarget.objects.filter(exam=exam).values_list("member_id", flat=True)) == [member.pk]


def test_an_unknown_named_member_is_refused_with_its_line(client, tree):
    paper = make_exam(tree.district_a).paper
    make_member(tree.branch_a, "李四")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("exams:exam_create"),
        _form(paper, tree.district_a, target_kind="members", target_members="李四\n查无此人"),
    )
    assert "第2行：未找到党员“查无此人”" in response.content.decode()
    assert not Exam.objects.filter(title="七一党史测试").exists()


def test_a_paper_of_another_organisation_is_refused(client, tree):
    paper = make_exam(tree.branch_a).paper
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(reverse("exams:exam_create"), _form(paper, tree.district_a))
    assert "试卷应属于主办组织" in response.content.decode()


def test_editing_changes_the_window_and_the_pass_mark(client, tree):
    exam = exam_at(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    data = _form(exam.paper, tree.branch_a, pass_score="80", title="改名后的考试")
    response = client.post(reverse("exams:exam_edit", args=[exam.pk]), data)
    assert response.status_code == 302
    exam.refresh_from_db()
    assert (exam.title, exam.pass_score) == ("改名后的考试", 80)


def test_the_detail_says_exempt_members_are_left_out_unless_named(client, tree):
    exam = exam_at(tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    body = client.get(reverse("exams:exam_detail", args=[exam.pk])).content.decode()
    assert "免于硬性要求的党员" in body
    assert reverse("exams:exam_results", args=[exam.pk]) in body


def test_an_exam_of_another_district_is_404_on_edit(client, tree):
    exam = exam_create(
        actor=None,
        organization=tree.branch_b,
        data={
            "title": "乙区考试",
            "opens_at": timezone.now(),
            "closes_at": timezone.now() + timedelta(days=1),
            "paper": exam_at(tree.branch_b).paper,
        },
    )
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.post(reverse("exams:exam_edit", args=[exam.pk]), {}).status_code == 404

"""Topic calls (选题征集): submissions until the deadline, key topics, assigned topics (点题) as tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from partyedu.lectures.models import TopicCall
from partyedu.lectures.selectors import (
    my_topic_tasks,
    topic_call_get,
    topic_call_list,
    topic_proposal_list,
    topic_task_list,
)
from partyedu.lectures.services import (
    topic_assign,
    topic_call_close,
    topic_call_open,
    topic_proposal_mark_key,
    topic_proposal_submit,
    topic_task_decline,
)
from partyedu.testsupport.factories import make_user

from .conftest import lecturer, link

pytestmark = pytest.mark.django_db


def later(days=30):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def call(tree, admin):
    return topic_call_open(
        actor=admin, organization=tree.district_a, title="2026年党课选题征集", deadline=later()
    )


def submit(actor, call, org, title="乡村振兴中的党员作用"):
    return topic_proposal_submit(actor=actor, call=call, organization=org, title=title)


def test_a_branch_sees_its_districts_call_and_submits_a_topic(tree, call, secretary):
    assert list(topic_call_list(user=secretary)) == [call]
    proposal = submit(secretary, call, tree.branch_a)
    assert (proposal.organization, proposal.submitted_by, proposal.is_key) == (
        tree.branch_a,
        secretary,
        False,
    )


def test_a_sibling_district_does_not_see_the_call(tree, call):
    other = make_user(role="branch_admin", org=tree.branch_b)
    assert not topic_call_list(user=other).exists()
    with pytest.raises(Http404):
        topic_call_get(user=other, pk=call.pk)


def test_a_deadline_in_the_past_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        topic_call_open(actor=admin, organization=tree.district_a, title="x", deadline=later(-1))
    assert exc.value.message_dict["deadline"] == ["截止日期不能早于今天"]


def test_a_topic_on_the_deadline_is_taken(tree, call, secretary):
    TopicCall.objects.filter(pk=call.pk).update(deadline=timezone.localdate())
    assert submit(secretary, call, tree.branch_a).pk


def test_a_topic_after_the_deadline_is_refused(tree, call, secretary):
    deadline = timezone.localdate() - timedelta(days=1)
    TopicCall.objects.filter(pk=call.pk).update(deadline=deadline)
    with pytest.raises(ValidationError) as exc:
        submit(secretary, call, tree.branch_a)
    assert exc.value.message_dict["call"] == [f"该选题征集已于{deadline:%Y年%m月%d日}截止，不能再提交"]


def test_a_topic_to_a_closed_call_is_refused(tree, admin, call, secretary):
    topic_call_close(actor=admin, call=call)
    with pytest.raises(ValidationError) as exc:
        submit(secretary, call, tree.branch_a)
    assert exc.value.message_dict["call"] == ["该选题征集已结束，不能再提交"]


def test_a_topic_for_an_organisation_outside_the_actors_scope_is_refused(tree, call, secretary):
    with pytest.raises(PermissionDenied):
        submit(secretary, call, tree.district_a)


def test_a_topic_from_outside_the_calls_subtree_is_refused(tree, call):
    other = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(ValidationError) as exc:
        submit(other, call, tree.branch_b)
    assert exc.value.message_dict["organization"] == ["提交组织须是甲区委或其下级组织"]


def test_the_caller_sees_every_topic_and_a_branch_its_own(tree, admin, call, secretary):
    mine = submit(secretary, call, tree.branch_a)
    theirs = submit(admin, call, tree.district_a, "区级选题")
    assert set(topic_proposal_list(user=admin, call=call)) == {mine, theirs}
    assert list(topic_proposal_list(user=secretary, call=call)) == [mine]


def test_the_caller_marks_key_topics_which_come_first(tree, admin, call, secretary):
    first = submit(secretary, call, tree.branch_a, "一")
    second = submit(secretary, call, tree.branch_a, "二")
    topic_proposal_mark_key(actor=admin, proposal=second)
    assert list(topic_proposal_list(user=admin, call=call)) == [second, first]
    with pytest.raises(PermissionDenied):
        topic_proposal_mark_key(actor=secretary, proposal=first)


def test_assigning_a_topic_to_a_lecturer_makes_their_task(tree, admin, call, secretary, members):
    proposal = submit(secretary, call, tree.branch_a)
    speaker = lecturer(tree.district_a, members["li"])
    task = topic_assign(actor=admin, proposal=proposal, lecturer=speaker.pk, due_date=later(60))
    assert (task.organization, task.lecturer, task.status) == (tree.district_a, speaker, "assigned")
    li = link(members["li"], role="lecturer")
    assert list(my_topic_tasks(user=li)) == [task]
    assert list(topic_task_list(user=li)) == [task]


def test_assigning_a_topic_to_a_branch_shows_it_to_the_branch(tree, admin, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    task = topic_assign(actor=admin, proposal=proposal, organization=tree.branch_a)
    assert list(topic_task_list(user=secretary)) == [task]
    assert not topic_task_list(user=make_user(role="branch_admin", org=tree.branch_b)).exists()


def test_assignment_needs_an_organisation_or_a_lecturer(tree, admin, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        topic_assign(actor=admin, proposal=proposal)
    assert exc.value.message_dict["organization"] == ["请指定承接的组织或讲师"]


def test_assignment_outside_the_calls_subtree_is_refused(tree, admin, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        topic_assign(actor=admin, proposal=proposal, organization=tree.branch_b.pk)
    assert exc.value.message_dict["organization"] == ["承接组织不存在或不在您的管理范围内"]
    with pytest.raises(ValidationError):
        topic_assign(actor=admin, proposal=proposal, lecturer=lecturer(tree.branch_b).pk)


def test_only_the_calling_organisation_assigns(tree, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    with pytest.raises(PermissionDenied):
        topic_assign(actor=secretary, proposal=proposal, organization=tree.branch_a)


def test_the_same_assignment_twice_is_refused(tree, admin, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    topic_assign(actor=admin, proposal=proposal, organization=tree.branch_a)
    with pytest.raises(ValidationError):
        topic_assign(actor=admin, proposal=proposal, organization=tree.branch_a)


def test_a_due_date_in_the_past_is_refused(tree, admin, call, secretary):
    proposal = submit(secretary, call, tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        topic_assign(actor=admin, proposal=proposal, organization=tree.branch_a, due_date=later(-1))
    assert exc.value.message_dict["due_date"] == ["完成期限不能早于今天"]


def test_the_lecturer_hands_a_task_back(tree, admin, call, secretary, members):
    proposal = submit(secretary, call, tree.branch_a)
    task = topic_assign(actor=admin, proposal=proposal, lecturer=lecturer(tree.district_a, members["li"]).pk)
    topic_task_decline(actor=link(members["li"], role="lecturer"), task=task)
    task.refresh_from_db()
    assert task.status == "declined"
    with pytest.raises(ValidationError):
        topic_task_decline(actor=admin, task=task)


def test_someone_else_may_not_hand_a_task_back(tree, admin, call, secretary, members):
    proposal = submit(secretary, call, tree.branch_a)
    task = topic_assign(actor=admin, proposal=proposal, lecturer=lecturer(tree.district_a, members["li"]).pk)
    with pytest.raises(PermissionDenied):
        topic_task_decline(actor=link(members["wang"]), task=task)

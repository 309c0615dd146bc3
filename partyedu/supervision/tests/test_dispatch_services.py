"""Dispatch and feedback: the services' rules (who, when, what is linked, reminders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partyedu.core.models import AuditLog, Notification
from partyedu.testsupport.factories import make_org, make_user

from ..models.dispatch import Dispatch, DispatchFeedback, DispatchRecipient, DispatchStatus
from ..selectors.dispatch import Completion
from ..services.dispatch import dispatch_create, dispatch_feedback_submit, dispatch_remind
from .dispatch_helpers import in_days, make_activity, make_dispatch

pytestmark = pytest.mark.django_db


def test_a_dispatch_to_branches_goes_to_every_branch_of_the_subtree(tree):
    dispatch = make_dispatch(tree.root)
    orgs = set(dispatch.recipients.values_list("organization_id", flat=True))
    assert orgs == {tree.branch_a.pk, tree.branch_b.pk}


def test_a_dispatch_to_committees_excludes_the_issuer_itself(tree):
    dispatch = make_dispatch(tree.root, target_level="committee")
    orgs = set(dispatch.recipients.values_list("organization_id", flat=True))
    assert orgs == {tree.district_a.pk, tree.district_b.pk}


def test_recipients_are_fixed_at_creation(tree):
    dispatch = make_dispatch(tree.district_a)
    make_org(tree.district_a, "甲二支部")
    assert dispatch.recipients.count() == 1


def test_an_org_admin_of_the_issuer_dispatches(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    dispatch = dispatch_create(
        actor=admin, organization=tree.district_a, title="数据报送", due=in_days(3), target_level="branch"
    )
    assert dispatch.created_by == admin
    assert AuditLog.objects.filter(object_type="supervision.dispatch", object_id=str(dispatch.pk)).exists()


def test_a_branch_secretary_may_not_dispatch(tree):
    secretary = make_user(role="branch_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        dispatch_create(
            actor=secretary,
            organization=tree.district_a,
            title="数据报送",
            due=in_days(3),
            target_level="branch",
        )
    assert not Dispatch.objects.exists()


def test_an_org_admin_may_not_dispatch_from_a_sibling(tree):
    admin = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        dispatch_create(
            actor=admin, organization=tree.district_a, title="数据报送", due=in_days(3), target_level="branch"
        )


def test_a_due_date_in_the_past_is_refused_and_nothing_is_written(tree):
    with pytest.raises(ValidationError) as err:
        make_dispatch(tree.root, due_in=-1)
    assert "反馈期限不能早于今天" in err.value.message_dict["due"][0]
    assert not Dispatch.objects.exists()
    assert not DispatchRecipient.objects.exists()


def test_a_level_with_no_organisation_is_refused(tree):
    with pytest.raises(ValidationError) as err:
        make_dispatch(tree.root, target_level="general_branch")
    assert "没有党总支" in err.value.message_dict["target_level"][0]


def test_a_retried_dispatch_returns_the_first_and_adds_nothing(tree):
    first = make_dispatch(tree.root)
    second = make_dispatch(tree.root)
    assert first.pk == second.pk
    assert Dispatch.objects.count() == 1
    assert DispatchRecipient.objects.count() == 2


def test_the_recipients_secretaries_are_notified_once(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    make_dispatch(tree.root)
    make_dispatch(tree.root)
    assert Notification.objects.filter(user=secretary, kind="supervision.dispatch").count() == 1


def test_a_topic_of_a_plan_from_elsewhere_is_refused(tree):
    from partyedu.study.models import RequiredTopic, StudyPlan

    plan = StudyPlan.objects.create(organization=tree.district_b, title="乙区计划", year=2026)
    topic = RequiredTopic.objects.create(plan=plan, title="专题一")
    with pytest.raises(ValidationError) as err:
        make_dispatch(tree.district_a, required_topic=topic.pk)
    assert "required_topic" in err.value.message_dict


# --- feedback ------------------------------------------------------------------------------------
def test_the_recipients_secretary_answers_and_the_status_is_done(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=secretary, dispatch=dispatch, organization=tree.branch_a, text="已完成")
    recipient = dispatch.recipients.get(organization=tree.branch_a)
    assert recipient.feedback_at is not None
    assert recipient.status == DispatchStatus.DONE


def test_feedback_for_an_organisation_that_did_not_receive_the_dispatch_is_refused(tree):
    admin = make_user(role="org_admin", org=tree.root)
    dispatch = make_dispatch(tree.district_a)
    with pytest.raises(ValidationError) as err:
        dispatch_feedback_submit(actor=admin, dispatch=dispatch, organization=tree.branch_b, text="已完成")
    assert "没有收到此调度任务" in err.value.message_dict["organization"][0]
    assert not DispatchFeedback.objects.exists()


def test_a_secretary_of_another_branch_may_not_answer(tree):
    other = make_user(role="branch_admin", org=tree.branch_b)
    dispatch = make_dispatch(tree.root)
    with pytest.raises(PermissionDenied):
        dispatch_feedback_submit(actor=other, dispatch=dispatch, organization=tree.branch_a, text="代答")
    assert not DispatchFeedback.objects.exists()


def test_an_empty_feedback_is_refused_with_the_field_named(tree):
    dispatch = make_dispatch(tree.root)
    with pytest.raises(ValidationError) as err:
        dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="  ")
    assert err.value.message_dict["text"] == ["请填写反馈内容"]


def test_feedback_is_updated_until_the_due_date_and_keeps_its_first_time(tree):
    dispatch = make_dispatch(tree.root)
    first = dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="一")
    answered = DispatchRecipient.objects.get(pk=first.recipient_id).feedback_at
    dispatch_feedback_submit(
        actor=None,
        dispatch=dispatch,
        organization=tree.branch_a,
        text="二",
        now=timezone.now() + timedelta(days=1),
    )
    recipient = DispatchRecipient.objects.get(pk=first.recipient_id)
    assert recipient.feedback.text == "二"
    assert recipient.feedback_at == answered
    assert DispatchFeedback.objects.count() == 1


def test_feedback_may_not_be_changed_after_the_due_date(tree):
    dispatch = make_dispatch(tree.root, due_in=1)
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="一")
    with pytest.raises(ValidationError) as err:
        dispatch_feedback_submit(
            actor=None,
            dispatch=dispatch,
            organization=tree.branch_a,
            text="二",
            now=timezone.now() + timedelta(days=3),
        )
    assert "已过反馈期限" in err.value.message_dict["text"][0]
    assert DispatchFeedback.objects.get().text == "一"


def test_a_first_answer_after_the_due_date_is_late(tree):
    dispatch = make_dispatch(tree.root, due_in=1)
    dispatch_feedback_submit(
        actor=None,
        dispatch=dispatch,
        organization=tree.branch_a,
        text="迟到",
        now=timezone.now() + timedelta(days=3),
    )
    assert dispatch.recipients.get(organization=tree.branch_a).status == DispatchStatus.LATE


def test_the_completion_counts_done_late_not_started_and_overdue(tree):
    dispatch = make_dispatch(tree.root, due_in=1)
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="完成")
    recipients = list(dispatch.recipients.all())
    today = timezone.localdate()
    assert Completion.of(recipients, dispatch.due, today).as_dict() == {
        "total": 2,
        "done": 1,
        "late": 0,
        "not_started": 1,
        "overdue": 0,
    }
    later = today + timedelta(days=5)
    assert Completion.of(recipients, dispatch.due, later).overdue == 1


def test_matching_activities_are_linked_automatically(tree):
    dispatch = make_dispatch(tree.root, activity_type="theme_day")
    theme_day = make_activity(tree.branch_a, "theme_day")
    make_activity(tree.branch_a, "branch_committee")
    make_activity(tree.branch_a, "theme_day", start=timezone.now() - timedelta(days=10))
    make_activity(tree.branch_b, "theme_day")
    feedback = dispatch_feedback_submit(
        actor=None, dispatch=dispatch, organization=tree.branch_a, text="已开展"
    )
    assert list(feedback.linked_activities.values_list("pk", flat=True)) == [theme_day.pk]


def test_a_task_naming_nothing_links_nothing(tree):
    dispatch = make_dispatch(tree.root)
    make_activity(tree.branch_a, "theme_day")
    feedback = dispatch_feedback_submit(
        actor=None, dispatch=dispatch, organization=tree.branch_a, text="已开展"
    )
    assert feedback.linked_activities.count() == 0


def test_an_attachment_is_kept_with_the_feedback(tree):
    dispatch = make_dispatch(tree.root)
    pdf = SimpleUploadedFile("情况.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    feedback = dispatch_feedback_submit(
        actor=None, dispatch=dispatch, organization=tree.branch_a, text="附件见", files=[pdf]
    )
    assert [a.name for a in feedback.attachments.all()] == ["情况.pdf"]


def test_a_renamed_file_is_refused_and_nothing_is_written(tree):
    dispatch = make_dispatch(tree.root)
    fake = SimpleUploadedFile("情况.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as err:
        dispatch_feedback_submit(
            actor=None, dispatch=dispatch, organization=tree.branch_a, text="附件", files=[fake]
        )
    assert "不是有效的PDF文件" in err.value.message_dict["files"][0]
    assert not DispatchFeedback.objects.exists()
    assert dispatch.recipients.get(organization=tree.branch_a).feedback_at is None


# --- reminders -----------------------------------------------------------------------------------
def test_a_reminder_goes_to_the_unanswered_recipients_only(tree):
    answered = make_user(role="branch_admin", org=tree.branch_a)
    silent = make_user(role="branch_admin", org=tree.branch_b)
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=answered, dispatch=dispatch, organization=tree.branch_a, text="完成")
    assert dispatch_remind(actor=None, dispatch=dispatch) == 1
    assert Notification.objects.filter(user=silent, kind="supervision.dispatch_remind").count() == 1
    assert not Notification.objects.filter(user=answered, kind="supervision.dispatch_remind").exists()
    assert dispatch.recipients.get(organization=tree.branch_b).reminded_at is not None


def test_a_second_reminder_the_same_day_sends_nothing(tree):
    silent = make_user(role="branch_admin", org=tree.branch_b)
    dispatch = make_dispatch(tree.root)
    dispatch_remind(actor=None, dispatch=dispatch)
    assert dispatch_remind(actor=None, dispatch=dispatch) == 0
    assert Notification.objects.filter(user=silent, kind="supervision.dispatch_remind").count() == 1


def test_the_next_day_a_reminder_goes_again(tree):
    dispatch = make_dispatch(tree.root)
    dispatch_remind(actor=None, dispatch=dispatch)
    assert dispatch_remind(actor=None, dispatch=dispatch, now=timezone.now() + timedelta(days=1)) == 2


def test_a_recipient_may_not_remind(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    dispatch = make_dispatch(tree.root)
    with pytest.raises(PermissionDenied):
        dispatch_remind(actor=secretary, dispatch=dispatch)

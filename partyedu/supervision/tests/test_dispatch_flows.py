"""Dispatch and feedback through the pages and the API (the contract), the workbench items, the
quarterly note, and the query counts of the list pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.accounts.services import role_assign
from partyedu.core.todo import todos_for
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_org, make_user

from ..models.dispatch import Dispatch, DispatchFeedback, DispatchRecipient, QuarterlyNote
from ..services.dispatch import dispatch_feedback_submit, quarterly_note_publish
from .dispatch_helpers import in_days, make_activity, make_dispatch

pytestmark = pytest.mark.django_db
LIST = "/api/v1/dispatches/"
# The issuer's detail page, whatever the number of recipients.
QUERIES = 10


def table_rows(page: str) -> list[tuple[str, str]]:
    """The (status, organisation) of each row of the issuer's completion table."""
    return re.findall(r'data-testid="recipient-row" data-status="(\w+)"[^>]*>\s*<td[^>]*>([^<]+)</td>', page)


def this_quarter() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, (today.month - 1) // 3 + 1


# --- API contract --------------------------------------------------------------------------------
def test_the_api_creates_a_dispatch_with_its_recipients(tree):
    admin = make_user(role="org_admin", org=tree.root)
    response = api_client(admin).post(
        LIST,
        {
            "organization": tree.root.pk,
            "title": "数据报送",
            "description": "报送党员数",
            "due": str(in_days(5)),
            "target_level": "branch",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert {r["organization"] for r in body["recipients"]} == {tree.branch_a.pk, tree.branch_b.pk}
    assert {r["status"] for r in body["recipients"]} == {"not_started"}
    assert all(r["feedback_at"] is None for r in body["recipients"])


def test_the_api_refuses_a_due_date_in_the_past_with_the_field_named(tree):
    admin = make_user(role="org_admin", org=tree.root)
    response = api_client(admin).post(
        LIST,
        {
            "organization": tree.root.pk,
            "title": "数据报送",
            "due": str(in_days(-1)),
            "target_level": "branch",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "反馈期限不能早于今天" in response.json()["errors"]["due"][0]
    assert not Dispatch.objects.exists()


def test_the_api_answers_a_retried_creation_with_the_same_dispatch(tree):
    admin = make_user(role="org_admin", org=tree.root)
    client = api_client(admin)
    data = {
        "organization": tree.root.pk,
        "title": "数据报送",
        "due": str(in_days(5)),
        "target_level": "branch",
    }
    first = client.post(LIST, data, format="json")
    second = client.post(LIST, data, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Dispatch.objects.count() == 1


def test_a_branch_secretary_may_not_dispatch_through_the_api(tree):
    secretary = make_user(role="branch_admin", org=tree.district_a)
    response = api_client(secretary).post(
        LIST,
        {
            "organization": tree.district_a.pk,
            "title": "数据报送",
            "due": str(in_days(5)),
            "target_level": "branch",
        },
        format="json",
    )
    assert response.status_code == 403
    assert not Dispatch.objects.exists()


def test_api_feedback_marks_the_recipient_done_in_the_detail(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    admin = make_user(role="org_admin", org=tree.root)
    dispatch = make_dispatch(tree.root)
    response = api_client(secretary).post(
        f"{LIST}{dispatch.pk}/feedback/", {"organization": tree.branch_a.pk, "text": "已完成"}, format="json"
    )
    assert response.status_code == 201
    detail = api_client(admin).get(f"{LIST}{dispatch.pk}/").json()
    rows = {r["organization"]: r for r in detail["recipients"]}
    assert rows[tree.branch_a.pk]["status"] == "done"
    assert rows[tree.branch_a.pk]["feedback_at"]
    assert rows[tree.branch_b.pk]["status"] == "not_started"
    assert detail["completion"]["done"] == 1


def test_api_feedback_for_an_organisation_that_did_not_receive_it_is_400(tree):
    admin = make_user(role="org_admin", org=tree.root)
    dispatch = make_dispatch(tree.district_a)
    response = api_client(admin).post(
        f"{LIST}{dispatch.pk}/feedback/", {"organization": tree.branch_b.pk, "text": "已完成"}, format="json"
    )
    assert response.status_code == 400
    assert "没有收到此调度任务" in response.json()["errors"]["organization"][0]
    assert not DispatchFeedback.objects.exists()


def test_a_recipient_sees_only_its_own_row_in_the_detail(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    dispatch = make_dispatch(tree.root)
    detail = api_client(secretary).get(f"{LIST}{dispatch.pk}/").json()
    assert [r["organization"] for r in detail["recipients"]] == [tree.branch_a.pk]


def test_api_feedback_lists_the_linked_activities(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    dispatch = make_dispatch(tree.root, activity_type="theme_day")
    activity = make_activity(tree.branch_a)
    response = api_client(secretary).post(
        f"{LIST}{dispatch.pk}/feedback/", {"organization": tree.branch_a.pk, "text": "已开展"}, format="json"
    )
    assert response.json()["linked_activities"] == [activity.pk]


# --- pages ---------------------------------------------------------------------------------------
def test_an_org_admin_dispatches_from_the_page(client, tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    client.force_login(admin)
    response = client.post(
        reverse("supervision:dispatch_create"),
        {
            "organization": tree.district_a.pk,
            "title": "本月主题党日",
            "due": str(in_days(5)),
            "target_level": "branch",
            "activity_type": "theme_day",
        },
    )
    dispatch = Dispatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:dispatch_detail", args=[dispatch.pk])


def test_the_page_shows_the_past_due_date_message_on_its_field(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("supervision:dispatch_create"),
        {
            "organization": tree.district_a.pk,
            "title": "本月主题党日",
            "due": str(in_days(-2)),
            "target_level": "branch",
        },
    )
    assert response.status_code == 200
    assert "反馈期限不能早于今天" in response.content.decode()
    assert not Dispatch.objects.exists()


def test_a_branch_secretary_gets_403_on_the_dispatch_form(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get(reverse("supervision:dispatch_create")).status_code == 403


def test_the_secretary_answers_with_an_attachment_from_the_phone_form(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    dispatch = make_dispatch(tree.root)
    url = reverse("supervision:dispatch_feedback", args=[dispatch.pk, tree.branch_a.pk])
    pdf = SimpleUploadedFile("情况.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(url, {"text": "已完成学习", "new_files": [pdf]})
    assert response.status_code == 302
    feedback = DispatchFeedback.objects.get()
    assert feedback.text == "已完成学习"
    assert feedback.attachments.count() == 1


def test_a_bad_attachment_is_shown_on_the_form_and_nothing_is_written(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    dispatch = make_dispatch(tree.root)
    url = reverse("supervision:dispatch_feedback", args=[dispatch.pk, tree.branch_a.pk])
    exe = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(url, {"text": "已完成学习", "new_files": [exe]})
    assert response.status_code == 200
    assert "格式不支持" in response.content.decode()
    assert not DispatchFeedback.objects.exists()


def test_the_detail_page_shows_the_linked_activities_with_links(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    dispatch = make_dispatch(tree.root, activity_type="theme_day")
    activity = make_activity(tree.branch_a, topic="四中全会精神学习")
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="已开展")
    url = reverse("supervision:dispatch_detail", args=[dispatch.pk])
    table = client.get(url).content.decode()
    assert "四中全会精神学习" not in table  # the issuer's table opens one feedback at a time
    assert f"show={tree.branch_a.pk}" in table
    page = client.get(url, {"show": tree.branch_a.pk}).content.decode()
    assert 'data-testid="feedback-panel"' in page
    assert reverse("study:activity_detail", args=[activity.pk]) in page
    assert "四中全会精神学习" in page


def test_the_issuer_sees_a_table_that_the_status_filter_narrows(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    branch_a2 = make_org(tree.district_a, "甲二支部")
    dispatch = make_dispatch(tree.root)
    for org in (tree.branch_a, branch_a2):
        dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=org, text="已完成")
    # 甲一 answered three days ago (on time), 甲二 today (late), 乙一 not at all (overdue).
    DispatchRecipient.objects.filter(dispatch=dispatch, organization=tree.branch_a).update(
        feedback_at=timezone.now() - timedelta(days=3)
    )
    Dispatch.objects.filter(pk=dispatch.pk).update(due=in_days(-1))
    url = reverse("supervision:dispatch_detail", args=[dispatch.pk])

    page = client.get(url).content.decode()
    assert "table-responsive-stack" in page
    assert 'data-label="组织"' in page
    assert sorted(table_rows(page)) == [("done", "甲一支部"), ("late", "甲二支部"), ("overdue", "乙一支部")]
    expected = {"done": ["甲一支部"], "late": ["甲二支部"], "overdue": ["乙一支部"], "not_started": []}
    for status, names in expected.items():
        page = client.get(url, {"status": status}).content.decode()
        assert table_rows(page) == [(status, name) for name in names], status
    assert "没有该状态的组织" in page  # not_started, the last one
    assert 'data-testid="count-done">1<' in page  # the counts still cover every recipient
    assert len(table_rows(client.get(url, {"status": "nonsense"}).content.decode())) == 3
    assert len(table_rows(client.get(url, {"status": "all"}).content.decode())) == 3


def test_the_issuer_sees_the_answer_button_only_where_they_may_answer(client, tree):
    # An inspector over the city sees the issuing side; as secretary of 甲一 they answer for it only.
    user = make_user(role="inspector", org=tree.root)
    role_assign(actor=None, user=user, role_code="branch_admin", organization=tree.branch_a)
    client.force_login(user)
    dispatch = make_dispatch(tree.root)
    page = client.get(reverse("supervision:dispatch_detail", args=[dispatch.pk])).content.decode()
    assert len(table_rows(page)) == 2
    assert page.count('data-testid="feedback-link"') == 1
    assert reverse("supervision:dispatch_feedback", args=[dispatch.pk, tree.branch_a.pk]) in page
    assert reverse("supervision:dispatch_feedback", args=[dispatch.pk, tree.branch_b.pk]) not in page


def test_a_view_only_issuer_gets_no_answer_button(client, tree):
    client.force_login(make_user(role="inspector", org=tree.root))
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="已完成")
    page = client.get(reverse("supervision:dispatch_detail", args=[dispatch.pk])).content.decode()
    assert len(table_rows(page)) == 2
    assert 'data-testid="feedback-link"' not in page
    assert page.count('data-testid="feedback-view"') == 1


def test_the_secretary_still_sees_their_own_feedback_card(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="已完成学习")
    page = client.get(reverse("supervision:dispatch_detail", args=[dispatch.pk])).content.decode()
    assert 'data-testid="status-filter"' not in page
    assert "table-responsive-stack" not in page
    assert page.count('data-testid="recipient-row"') == 1
    assert "已完成学习" in page
    assert "修改反馈" in page
    assert reverse("supervision:dispatch_feedback", args=[dispatch.pk, tree.branch_a.pk]) in page


def test_the_export_lists_every_recipient_with_its_status(client, tree):
    client.force_login(make_user(role="org_admin", org=tree.root))
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=None, dispatch=dispatch, organization=tree.branch_a, text="已完成")
    response = client.get(reverse("supervision:dispatch_export", args=[dispatch.pk]))
    sheet = load_workbook(__import__("io").BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert {(r[0], r[2]) for r in rows} == {("甲一支部", "已反馈"), ("乙一支部", "未开始")}


def test_the_remind_button_reminds_and_says_how_many(client, tree):
    make_user(role="branch_admin", org=tree.branch_a)
    client.force_login(make_user(role="org_admin", org=tree.root))
    dispatch = make_dispatch(tree.root)
    response = client.post(reverse("supervision:dispatch_remind", args=[dispatch.pk]), follow=True)
    assert "已催办2个未反馈的组织" in response.content.decode()


def test_the_issued_list_page_runs_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    client.force_login(make_user(role="org_admin", org=tree.root))
    for i in range(8):
        make_dispatch(tree.root, title=f"任务{i}")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("supervision:dispatch_list") + "?tab=issued")
    assert response.content.decode().count('data-testid="dispatch-row"') == 8


def test_the_received_list_page_runs_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    for i in range(8):
        make_dispatch(tree.root, title=f"任务{i}")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("supervision:dispatch_list") + "?tab=received")
    assert response.content.decode().count('data-testid="dispatch-row"') == 8


def test_the_detail_page_runs_a_fixed_number_of_queries(client, tree, django_assert_max_num_queries):
    """The issuer's page, filtered and with a feedback opened: as many queries for 1 recipient as
    for 27."""
    client.force_login(make_user(role="org_admin", org=tree.root))
    for i in range(25):
        make_org(tree.district_a, f"甲支部{i}")
    small = make_dispatch(tree.district_b, activity_type="theme_day")
    large = make_dispatch(tree.root, activity_type="theme_day")
    make_activity(tree.branch_b)
    for recipient in DispatchRecipient.objects.all():
        dispatch_feedback_submit(
            actor=None, dispatch=recipient.dispatch, organization=recipient.organization_id, text="完成"
        )
    DispatchRecipient.objects.update(reminded_at=timezone.now())

    def get(dispatch: Dispatch) -> tuple[int, str]:
        url = reverse("supervision:dispatch_detail", args=[dispatch.pk])
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url, {"status": "done", "show": tree.branch_b.pk}).content.decode()
        return len(queries), page

    client.get(reverse("supervision:dispatch_detail", args=[small.pk]))  # warm the session
    small_count, small_page = get(small)
    with django_assert_max_num_queries(QUERIES):
        large_count, large_page = get(large)
    assert small_count == large_count
    assert small_page.count('data-testid="recipient-row"') == 1
    assert large_page.count('data-testid="recipient-row"') == 27
    assert large_page.count('data-testid="feedback-link"') == 27
    assert 'data-testid="feedback-panel"' in large_page


# --- workbench -----------------------------------------------------------------------------------
def test_the_secretary_sees_open_tasks_overdue_first(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    later = make_dispatch(tree.root, title="下月任务", due_in=20)
    soon = make_dispatch(tree.root, title="本周任务", due_in=0)
    soon.due = timezone.localdate() - timedelta(days=1)  # now overdue
    soon.save(update_fields=["due"])
    items = [i for i in todos_for(user=secretary) if i.section == "调度任务"]
    assert [i.title for i in items] == ["调度任务：本周任务", "调度任务：下月任务"]
    assert items[0].priority == 0
    assert items[1].url == reverse("supervision:dispatch_feedback", args=[later.pk, tree.branch_a.pk])


def test_an_answered_task_leaves_the_workbench(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    dispatch = make_dispatch(tree.root)
    dispatch_feedback_submit(actor=secretary, dispatch=dispatch, organization=tree.branch_a, text="完成")
    assert not [i for i in todos_for(user=secretary) if i.section == "调度任务"]


def test_the_issuer_gets_no_recipient_items(tree):
    admin = make_user(role="org_admin", org=tree.root)
    make_dispatch(tree.root)
    assert not [i for i in todos_for(user=admin) if i.section == "调度任务"]


# --- quarterly note ------------------------------------------------------------------------------
def publish(org, **data):
    year, quarter = this_quarter()
    data.setdefault("title", "季度反馈")
    return quarterly_note_publish(
        actor=None, organization=org, year=year, quarter=quarter, body="情况通报", **data
    )


def test_the_note_freezes_the_quarters_figures(tree):
    make_activity(tree.branch_a, start=timezone.now() - timedelta(minutes=5))
    note = publish(tree.district_a)
    make_activity(tree.branch_a, start=timezone.now() - timedelta(minutes=3))
    note.refresh_from_db()
    assert note.figures["indicators"]["activities"] == 1
    assert note.figures["organization"] == tree.district_a.pk


def test_a_second_note_for_the_same_quarter_is_refused(tree):
    publish(tree.district_a)
    with pytest.raises(ValidationError) as err:
        publish(tree.district_a, title="再发一次")
    assert "已发布" in err.value.message_dict["quarter"][0]
    assert QuarterlyNote.objects.count() == 1


def test_a_note_for_a_quarter_not_yet_begun_is_refused(tree):
    year, quarter = this_quarter()
    with pytest.raises(ValidationError) as err:
        quarterly_note_publish(
            actor=None,
            organization=tree.district_a,
            year=year + 1 if quarter == 4 else year,
            quarter=1 if quarter == 4 else quarter + 1,
            title="提前",
            body="提前",
        )
    assert "quarter" in err.value.message_dict or "year" in err.value.message_dict


def test_a_branch_sees_the_note_of_its_district_and_not_the_siblings(client, tree):
    mine = publish(tree.district_a, title="甲区季度反馈")
    publish(tree.district_b, title="乙区季度反馈")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    page = client.get(reverse("supervision:quarterly_list")).content.decode()
    assert "甲区季度反馈" in page
    assert "乙区季度反馈" not in page
    assert client.get(reverse("supervision:quarterly_detail", args=[mine.pk])).status_code == 200


def test_a_branch_secretary_may_not_publish_a_note(client, tree):
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get(reverse("supervision:quarterly_create")).status_code == 403

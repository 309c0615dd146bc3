"""Lectures pages: the scope of every page (no role 403, role at the org 200, role at a sibling
404 or absent), the lecture form of a 党课 activity, rating on the page, a member's own pages, the
exports, and pinned query counts of the lists and the statistics."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.core.testing import PostRedirectEndpointTests, ScopedEndpointTests
from partyedu.lectures import services
from partyedu.lectures.models import Lecture, LectureFile, LectureRating, LibraryItem, RotationSlot, TopicTask
from partyedu.testsupport.factories import Tree, make_member, make_user

from .conftest import MP4, PDF, PPTX, at, lecture, lecturer, link, mark, party_lecture, upload

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def marker(prefix: str) -> str:
    return f"{prefix}{next(_n)}号"


def a_lecture(org: Any) -> Lecture:
    return lecture(party_lecture(org), lecturer(org), title=marker("标记党课"))


def a_rotation(org: Any) -> Any:
    make_member(org, "轮讲党员")
    return services.rotation_generate(
        actor=None,
        organization=org,
        title=marker("标记轮讲"),
        start_date=timezone.localdate(),
        weeks=2,
        topics=["党章"],
    )


def a_call(org: Any) -> Any:
    return services.topic_call_open(
        actor=None,
        organization=org,
        title=marker("标记征集"),
        deadline=timezone.localdate() + timedelta(days=9),
    )


def a_proposal(org: Any) -> Any:
    return services.topic_proposal_submit(
        actor=None, call=a_call(org), organization=org, title=marker("标记选题")
    )


def an_item(org: Any) -> LibraryItem:
    return services.library_publish(
        actor=None,
        organization=org,
        title=marker("标记党课库"),
        file=SimpleUploadedFile("a.mp4", MP4),
        duration_seconds=600,
    )


def a_series(org: Any) -> Any:
    return services.library_series_create(actor=None, data={"organization": org, "title": marker("标记系列")})


# --- scope of every page -------------------------------------------------------------------------


class TestLecturerListScope(ScopedEndpointTests):
    url_name = "lectures:lecturer_list"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return lecturer(org, name=marker("标记讲师"))

    def url(self, obj: Any) -> str:
        return reverse("lectures:lecturer_list")


class LecturerPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return lecturer(org, name=marker("标记讲师"))

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestLecturerDetailScope(LecturerPage):
    url_name = "lectures:lecturer_detail"


class TestLecturerEditScope(LecturerPage):
    url_name = "lectures:lecturer_edit"


class TestLecturerToggleScope(PostRedirectEndpointTests, LecturerPage):
    url_name = "lectures:lecturer_toggle"


class TestLecturerCreatePage(ScopedEndpointTests):
    url_name = "lectures:lecturer_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse(self.url_name)


class TestLectureListScope(ScopedEndpointTests):
    url_name = "lectures:lecture_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return a_lecture(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:lecture_list")


class LecturePage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return a_lecture(org)

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestLectureDetailScope(LecturePage):
    url_name = "lectures:lecture_detail"


class TestLectureDeleteScope(LecturePage):
    url_name = "lectures:lecture_delete"


class TestLectureRateScope(PostRedirectEndpointTests, LecturePage):
    url_name = "lectures:lecture_rate"

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Tree) -> None:
        """An administrator is no attendee: the form comes back with the refusal (403)."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user(role=self.role, org=scope_tree.district_a))
        assert client.post(self.url(obj), {"score": "5"}).status_code == 403


class TestLectureFileScope(ScopedEndpointTests):
    url_name = "lectures:lecture_file"

    def make_object(self, org: Any) -> Any:
        return lecture(
            party_lecture(org), lecturer(org), files=[{"kind": "slides", "file": upload("课件.pdf", PDF)}]
        )

    def url(self, obj: Any) -> str:
        return reverse("lectures:lecture_file", args=[obj.pk, obj.files.get().pk])


class TestActivityLectureScope(ScopedEndpointTests):
    url_name = "lectures:activity_lecture"

    def make_object(self, org: Any) -> Any:
        return party_lecture(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:activity_lecture", args=[obj.pk])


class TestActivityLectureScopeForBranchAdmins(TestActivityLectureScope):
    role = "branch_admin"


class _OrgYearPage(ScopedEndpointTests):
    kind = "list"
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return SimpleNamespace(
            org=org, name=make_member(org, marker("标记书记"), categories=["secretary"]).name
        )

    def url(self, obj: Any) -> str:
        return f"{reverse(self.url_name)}?organization={obj.org.pk}&year=2025"

    def marker(self, obj: Any) -> str:
        return str(obj.name)


class TestDutyScope(_OrgYearPage):
    url_name = "lectures:duty"


class TestStatsScope(_OrgYearPage):
    url_name = "lectures:stats"

    def marker(self, obj: Any) -> str:
        return f"{obj.org.name} 2025年"


class _ExportPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse(self.url_name)}?organization={obj.pk}&year=2025"


class TestDutyExportScope(_ExportPage):
    url_name = "lectures:duty_export"


class TestStatsExportScope(_ExportPage):
    url_name = "lectures:stats_export"


class TestRotationListScope(ScopedEndpointTests):
    url_name = "lectures:rotation_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return a_rotation(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:rotation_list")


class RotationPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return a_rotation(org)

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestRotationDetailScope(RotationPage):
    url_name = "lectures:rotation_detail"


class TestRotationCreatePage(TestLecturerCreatePage):
    url_name = "lectures:rotation_create"


class TestRotationRegenerateScope(PostRedirectEndpointTests, RotationPage):
    url_name = "lectures:rotation_regenerate"


class TestRotationDeleteScope(PostRedirectEndpointTests, RotationPage):
    url_name = "lectures:rotation_delete"


class TestRotationSlotScope(RotationPage):
    url_name = "lectures:rotation_slot"

    def url(self, obj: Any) -> str:
        return reverse("lectures:rotation_slot", args=[obj.pk, obj.slots.first().pk])


class TestCallListScope(ScopedEndpointTests):
    url_name = "lectures:call_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return a_call(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:call_list")


class CallPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return a_call(org)

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestCallDetailScope(CallPage):
    url_name = "lectures:call_detail"


class TestCallSubmitScope(CallPage):
    url_name = "lectures:call_submit"


class TestCallCloseScope(PostRedirectEndpointTests, CallPage):
    url_name = "lectures:call_close"


class TestCallCreatePage(TestLecturerCreatePage):
    url_name = "lectures:call_create"


class ProposalPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Any:
        return a_proposal(org)

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestProposalAssignScope(ProposalPage):
    url_name = "lectures:proposal_assign"


class TestProposalKeyScope(PostRedirectEndpointTests, ProposalPage):
    url_name = "lectures:proposal_key"


class TestTaskListScope(ScopedEndpointTests):
    url_name = "lectures:task_list"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return services.topic_assign(actor=None, proposal=a_proposal(org), organization=org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:task_list")

    def marker(self, obj: Any) -> str:
        return obj.proposal.title


class TestTaskDeclineScope(PostRedirectEndpointTests, TestTaskListScope):
    url_name = "lectures:task_decline"
    kind = "detail"

    def url(self, obj: Any) -> str:
        return reverse("lectures:task_decline", args=[obj.pk])


class TestLibraryScope(ScopedEndpointTests):
    url_name = "lectures:library"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return an_item(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:library")

    def marker(self, obj: Any) -> str:
        return obj.resource.title


class LibraryItemPage(TestLibraryScope):
    kind = "detail"
    url_name = ""

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestLibraryItemEditScope(LibraryItemPage):
    url_name = "lectures:library_item_edit"


class TestLibraryItemToggleScope(PostRedirectEndpointTests, LibraryItemPage):
    url_name = "lectures:library_item_toggle"


class TestLibraryPublishPage(TestLecturerCreatePage):
    url_name = "lectures:library_publish"


class TestSeriesListScope(ScopedEndpointTests):
    url_name = "lectures:series_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return a_series(org)

    def url(self, obj: Any) -> str:
        return reverse("lectures:series_list")


class SeriesPage(TestSeriesListScope):
    kind = "detail"
    url_name = ""

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestSeriesDetailScope(SeriesPage):
    url_name = "lectures:series_detail"


class TestSeriesEditScope(SeriesPage):
    url_name = "lectures:series_edit"


class TestSeriesCreatePage(TestLecturerCreatePage):
    url_name = "lectures:series_create"


class TestMyPage(ScopedEndpointTests):
    """我的党课 shows the user's own data: the org cases become "a member sees their own weeks,
    another member does not"."""

    url_name = "lectures:my"

    role = "member"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        return a_rotation(org).slots.first()

    def url(self, obj: Any) -> str:
        return reverse("lectures:my")

    def test_role_at_the_org_gets_200(self, client: Any, scope_tree: Tree) -> None:
        slot = self.make_object(scope_tree.branch_a)
        client.force_login(link(slot.member))
        html = client.get(self.url(slot)).content.decode()
        assert slot.topic in html and slot.rotation.title in html

    def test_role_at_a_sibling_org_gets_404_or_nothing(self, client: Any, scope_tree: Tree) -> None:
        slot = self.make_object(scope_tree.branch_a)
        client.force_login(link(make_member(scope_tree.branch_b, "乙支部党员")))
        response = client.get(self.url(slot))
        assert response.status_code == 200 and slot.rotation.title not in response.content.decode()


# --- the menu entry ------------------------------------------------------------------------------


def test_the_index_sends_managers_to_the_records_and_members_to_their_page(client, tree, admin, members):
    client.force_login(admin)
    assert client.get(reverse("lectures:index"))["Location"] == reverse("lectures:lecture_list")
    client.force_login(link(members["li"]))
    assert client.get(reverse("lectures:index"))["Location"] == reverse("lectures:my")
    client.force_login(make_user())
    assert client.get(reverse("lectures:index")).status_code == 403


def test_a_member_may_not_open_the_management_pages(client, tree, members):
    client.force_login(link(members["li"]))
    for name in ("lectures:duty", "lectures:stats", "lectures:rotation_list", "lectures:call_list"):
        assert client.get(reverse(name)).status_code == 403, name


# --- the lecture form of a 党课 activity -----------------------------------------------------------


def test_the_secretary_records_the_lecture_of_an_activity(client, tree, secretary, members):
    activity = party_lecture(tree.branch_a, topic="学习新党章")
    speaker = lecturer(tree.district_a, members["zhang"])
    client.force_login(secretary)
    url = reverse("lectures:activity_lecture", args=[activity.pk])
    html = client.get(url).content.decode()
    assert 'value="学习新党章"' in html and "张三" in html
    response = client.post(
        url,
        {
            "title": "学习新党章",
            "lecture_type": "workshop",
            "lecturers": [speaker.pk],
            "summary": "要点",
            "slides": SimpleUploadedFile("课件.pptx", PPTX),
        },
    )
    record = Lecture.objects.get(activity=activity)
    assert response["Location"] == reverse("lectures:lecture_detail", args=[record.pk])
    assert record.files.get().name == "课件.pptx"


def test_the_form_edits_an_existing_lecture(client, tree, secretary):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), title="旧题目")
    client.force_login(secretary)
    url = reverse("lectures:activity_lecture", args=[record.activity_id])
    assert 'value="旧题目"' in client.get(url).content.decode()
    client.post(
        url, {"title": "新题目", "lecture_type": "standard", "lecturers": [record.speakers.get().lecturer_id]}
    )
    record.refresh_from_db()
    assert record.title == "新题目"


def test_the_form_shows_the_wrong_activity_type_and_refuses(client, tree, secretary):
    from partyedu.study.services import activity_record

    theme_day = activity_record(
        actor=None,
        data={
            "organization": tree.branch_a,
            "activity_type": "theme_day",
            "topic": "主题党日",
            "start": at(3),
            "end": at(3, hour=16),
        },
    )
    speaker = lecturer(tree.branch_a)
    client.force_login(secretary)
    url = reverse("lectures:activity_lecture", args=[theme_day.pk])
    assert "只有“党课”类型的活动才能登记党课" in client.get(url).content.decode()
    response = client.post(url, {"title": "x", "lecture_type": "standard", "lecturers": [speaker.pk]})
    assert response.status_code == 200
    assert "该活动的类型是“主题党日”" in response.content.decode()
    assert not Lecture.objects.exists()


def test_a_bad_file_is_shown_on_the_form(client, tree, secretary):
    speaker = lecturer(tree.branch_a)
    activity = party_lecture(tree.branch_a)
    client.force_login(secretary)
    response = client.post(
        reverse("lectures:activity_lecture", args=[activity.pk]),
        {
            "title": "x",
            "lecture_type": "standard",
            "lecturers": [speaker.pk],
            "video": SimpleUploadedFile("v.avi", MP4),
        },
    )
    assert "视频只支持MP4、WebM格式" in response.content.decode()


def test_the_lecture_page_serves_its_files(client, tree, admin):
    record = lecture(
        party_lecture(tree.branch_a),
        lecturer(tree.branch_a),
        files=[{"kind": "script", "file": upload("讲稿.pdf", PDF)}],
    )
    client.force_login(admin)
    response = client.get(reverse("lectures:lecture_file", args=[record.pk, LectureFile.objects.get().pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# --- rating on the page --------------------------------------------------------------------------


def test_an_attendee_rates_on_the_lecture_page(client, tree, members):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.district_a, members["zhang"]))
    mark(record.activity, members["li"])
    client.force_login(link(members["li"]))
    page = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert "我来评价" in page
    response = client.post(
        reverse("lectures:lecture_rate", args=[record.pk]), {"score": "4", "comment": "生动"}
    )
    assert response.status_code == 302
    assert LectureRating.objects.get().score == 4
    page = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert "修改我的评价" in page and "1 人评价" in page


def test_a_member_who_did_not_attend_sees_no_rating_form_and_is_refused(client, tree, members):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    mark(record.activity, members["li"], "absent")
    client.force_login(link(members["li"]))
    page = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert "我来评价" not in page
    assert client.post(reverse("lectures:lecture_rate", args=[record.pk]), {"score": "5"}).status_code == 403


def test_a_score_missing_from_the_form_is_an_error_on_the_page(client, tree, members):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    mark(record.activity, members["li"])
    client.force_login(link(members["li"]))
    response = client.post(reverse("lectures:lecture_rate", args=[record.pk]), {"score": "9"})
    assert response.status_code == 400 and not LectureRating.objects.exists()


def test_the_lecturer_sees_the_aggregate_but_no_comments_the_admin_both(client, tree, members, admin):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.district_a, members["zhang"]))
    mark(record.activity, members["li"])
    services.lecture_rate(actor=link(members["li"]), lecture=record, score=5, comment="非常实在")
    client.force_login(link(members["zhang"], role="lecturer"))
    page = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert "1 人评价" in page and "非常实在" not in page and "李四" not in page
    client.force_login(admin)
    page = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert "非常实在" in page and "李四" not in page


# --- a member's own pages ------------------------------------------------------------------------


def test_my_page_lists_tasks_given_and_attended_lectures(client, tree, members, admin):
    li = link(members["li"], role="lecturer")
    given = lecture(
        party_lecture(tree.branch_b), lecturer(tree.district_a, members["li"]), title="我讲的党课"
    )
    heard = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), title="我听的党课")
    mark(heard.activity, members["li"])
    proposal = a_proposal(tree.district_a)
    services.topic_assign(actor=None, proposal=proposal, lecturer=given.speakers.get().lecturer_id)
    client.force_login(li)
    html = client.get(reverse("lectures:my")).content.decode()
    assert "我讲的党课" in html and "我听的党课" in html and proposal.title in html and "去评价" in html


def test_the_library_shows_a_member_what_is_showing(client, tree, members):
    item = an_item(tree.district_a)
    client.force_login(link(members["li"]))
    html = client.get(reverse("lectures:library")).content.decode()
    assert item.resource.title in html
    assert reverse("learning:resource_detail", args=[item.resource_id]) in html


# --- forms that create ---------------------------------------------------------------------------


def test_adding_a_member_lecturer_by_name(client, tree, admin, members):
    client.force_login(admin)
    response = client.post(
        reverse("lectures:lecturer_create"),
        {
            "organization": tree.district_a.pk,
            "member_name": "李四",
            "tags": "党史，乡村振兴",
            "title": "金牌讲师",
        },
    )
    entry = members["li"].lecturer_entries.get()
    assert response["Location"] == reverse("lectures:lecturer_detail", args=[entry.pk])
    assert sorted(entry.tags.values_list("name", flat=True)) == ["乡村振兴", "党史"]


def test_generating_a_rotation_in_the_browser(client, tree, secretary, members):
    client.force_login(secretary)
    response = client.post(
        reverse("lectures:rotation_create"),
        {
            "organization": tree.branch_a.pk,
            "title": "大家讲",
            "start_date": "2025-03-03",
            "weeks": "3",
            "topics": "党章\n党史",
        },
    )
    assert response.status_code == 302
    assert RotationSlot.objects.count() == 3


def test_submitting_and_assigning_a_topic_in_the_browser(client, tree, admin, secretary):
    call = a_call(tree.district_a)
    client.force_login(secretary)
    client.post(
        reverse("lectures:call_submit", args=[call.pk]),
        {"organization": tree.branch_a.pk, "title": "红色家风"},
    )
    proposal = call.proposals.get()
    client.force_login(admin)
    client.post(reverse("lectures:proposal_key", args=[proposal.pk]), {"is_key": "1"})
    client.post(reverse("lectures:proposal_assign", args=[proposal.pk]), {"organization": tree.branch_a.pk})
    proposal.refresh_from_db()
    assert proposal.is_key
    assert TopicTask.objects.get().organization == tree.branch_a


def test_a_topic_after_the_deadline_shows_the_message(client, tree, secretary):
    call = a_call(tree.district_a)
    type(call).objects.filter(pk=call.pk).update(deadline=date(2020, 1, 1))
    client.force_login(secretary)
    response = client.post(
        reverse("lectures:call_submit", args=[call.pk]),
        {"organization": tree.branch_a.pk, "title": "迟到的选题"},
    )
    assert "该选题征集已于2020年01月01日截止，不能再提交" in response.content.decode()


def test_publishing_to_the_library_in_the_browser(client, tree, admin):
    client.force_login(admin)
    response = client.post(
        reverse("lectures:library_publish"),
        {
            "organization": tree.district_a.pk,
            "title": "大党学习的力量",
            "file": SimpleUploadedFile("a.mp4", MP4),
            "credit_hours": "1",
            "duration_minutes": "10",
            "honour": "2025年全市优秀党课",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = LibraryItem.objects.get()
    assert (item.resource.title, item.resource.duration_seconds, item.honour) == (
        "大党学习的力量",
        600,
        "2025年全市优秀党课",
    )


# --- exports -------------------------------------------------------------------------------------


def test_the_duty_export_is_an_xlsx_of_the_list(client, tree, admin, members):
    client.force_login(admin)
    response = client.get(f"{reverse('lectures:duty_export')}?organization={tree.district_a.pk}&year=2025")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["张三"]


# --- query counts --------------------------------------------------------------------------------


def test_lecturer_list_runs_a_fixed_number_of_queries(client, tree, admin, django_assert_max_num_queries):
    for i in range(30):
        lecturer(tree.branch_a, name=f"讲师{i:02d}", tags=["党史", f"专长{i}"])
    client.force_login(admin)
    # session, user, grants, count, rows, tags, session save (up to 3)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("lectures:lecturer_list"))
    assert response.content.decode().count("/lectures/lecturers/") >= 30


def test_lecture_list_runs_a_fixed_number_of_queries(
    client, tree, admin, members, django_assert_max_num_queries
):
    speaker = lecturer(tree.district_a, members["zhang"])
    for i in range(25):
        lecture(party_lecture(tree.branch_a, at(3) + timedelta(days=i)), speaker, lecturer(tree.branch_a))
    client.force_login(admin)
    # session, user, grants, count (bounded), the page's ids, its rows, speakers, lecturers,
    # ratings, session save (up to 3)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("lectures:lecture_list"))
    assert response.content.decode().count('href="/lectures/lectures/') >= 25


def test_duty_page_runs_a_fixed_number_of_queries(client, tree, admin, django_assert_max_num_queries):
    for i in range(20):
        make_member(tree.branch_a, f"书记{i:02d}", categories=["secretary"])
    client.force_login(admin)
    url = f"{reverse('lectures:duty')}?organization={tree.district_a.pk}&year=2025"
    # session, user, grants, picked organisation, summary (also the list's length), rows, the rows'
    # lecture counts, session save (up to 3)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.content.decode().count("书记") >= 20


def test_stats_page_runs_a_fixed_number_of_queries(
    client, tree, admin, members, django_assert_max_num_queries
):
    speaker = lecturer(tree.district_a, members["zhang"])
    for org in (tree.branch_a, tree.group_a, tree.district_a):
        for i in range(3):
            record = lecture(party_lecture(org, at(4 + i)), speaker)
            if org == tree.branch_a:
                mark(record.activity, members["li"])
                services.lecture_rate(
                    actor=members["li"].user or link(members["li"]), lecture=record, score=4
                )
    client.force_login(admin)
    url = f"{reverse('lectures:stats')}?organization={tree.district_a.pk}&year=2025"
    # session, user, grants, picked organisation, children, the summary figures (lectures, types,
    # categories, ratings, duty), competition entries and reviews, competition awards, session
    # save (up to 3)
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert 'data-testid="lectures">9<' in response.content.decode()


def test_library_page_runs_a_fixed_number_of_queries(client, tree, admin, django_assert_max_num_queries):
    for _ in range(10):
        an_item(tree.district_a)
    client.force_login(admin)
    # session, user, grants, own member, count, rows, session save (up to 3)
    with django_assert_max_num_queries(9):
        client.get(reverse("lectures:library"))


# --- detail pages with content -------------------------------------------------------------------


def test_the_call_page_shows_key_topics_first_and_the_tasks_to_the_caller(client, tree, admin, secretary):
    call = a_call(tree.district_a)
    plain = services.topic_proposal_submit(
        actor=secretary, call=call, organization=tree.branch_a, title="普通选题"
    )
    key = services.topic_proposal_submit(
        actor=secretary, call=call, organization=tree.branch_a, title="重点选题甲"
    )
    services.topic_proposal_mark_key(actor=admin, proposal=key)
    services.topic_assign(actor=admin, proposal=key, organization=tree.branch_a)
    client.force_login(admin)
    html = client.get(reverse("lectures:call_detail", args=[call.pk])).content.decode()
    assert html.index(key.title) < html.index(plain.title)
    assert "点题任务（1）" in html and "标为重点" in html
    client.force_login(secretary)
    html = client.get(reverse("lectures:call_detail", args=[call.pk])).content.decode()
    assert "申报选题" in html and "标为重点" not in html and "点题任务（" not in html


def test_the_rotation_page_lists_every_week_with_its_member(client, tree, secretary, members):
    rotation = services.rotation_generate(
        actor=secretary,
        organization=tree.branch_a,
        title="大家讲",
        start_date=date(2099, 3, 2),
        weeks=3,
        topics=["党章"],
    )
    client.force_login(secretary)
    html = client.get(reverse("lectures:rotation_detail", args=[rotation.pk])).content.decode()
    for slot in rotation.slots.all():
        assert slot.member.name in html
    assert html.count("调整") == 3


def test_the_lecturer_page_shows_the_record_and_the_rating(client, tree, admin, members):
    entry = lecturer(tree.district_a, members["zhang"], title="金牌讲师", tags=["党史"])
    record = lecture(party_lecture(tree.branch_b), entry, title="跨支部党课")
    lecture(party_lecture(tree.branch_a), entry, title="本支部党课")
    client.force_login(admin)
    html = client.get(reverse("lectures:lecturer_detail", args=[entry.pk])).content.decode()
    assert "讲党课记录（共 2 次）" in html and "金牌讲师" in html and "本支部党课" in html
    assert "跨支部党课" not in html  # a lecture in 乙区 is counted, but not shown to 甲区's admin
    assert record.pk


def test_the_lecture_page_plays_its_video(client, tree, admin):
    record = lecture(
        party_lecture(tree.branch_a),
        lecturer(tree.branch_a),
        files=[{"kind": "video", "file": upload("录像.mp4", MP4)}],
    )
    client.force_login(admin)
    html = client.get(reverse("lectures:lecture_detail", args=[record.pk])).content.decode()
    assert (
        "<video" in html and reverse("lectures:lecture_file", args=[record.pk, record.files.get().pk]) in html
    )


def test_the_series_page_lists_its_items(client, tree, admin):
    series = a_series(tree.district_a)
    item = an_item(tree.district_a)
    services.library_item_update(actor=admin, item=item, data={"series": series.pk})
    client.force_login(admin)
    html = client.get(reverse("lectures:series_detail", args=[series.pk])).content.decode()
    assert item.resource.title in html


def test_stats_year_picker_shows_the_year_reported(client, tree):
    from django.utils import timezone

    from partyedu.testsupport.factories import make_user as _make_user

    client.force_login(_make_user(role="org_admin", org=tree.root))
    html = client.get("/lectures/stats/").content.decode()
    year = timezone.localdate().year
    assert f'<option value="{year}" selected>' in html


class TestIndexScope(TestLectureListScope):
    """The menu entry lands a manager on the lecture records of their own scope."""

    url_name = "lectures:index"

    def url(self, obj: Any) -> str:
        return reverse("lectures:index")

    def _get(self, client: Any, url: str) -> Any:
        return client.get(url, follow="_auth_user_id" in client.session)

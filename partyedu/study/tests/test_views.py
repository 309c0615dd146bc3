"""Study pages: scope of every list and detail page, recording an activity on a phone (with
photos), the attendance screen, QR check-in, plans, classes, places, cadence and materials."""

from __future__ import annotations

import io
import itertools
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from partyedu.core.testing import PostEndpointTests, ScopedEndpointTests
from partyedu.learning.services import learning_hours_rebuild
from partyedu.study import services
from partyedu.study.checkin import checkin_token
from partyedu.study.choices import ActivityType
from partyedu.study.models import (
    Activity,
    ActivityFile,
    Attendance,
    MaterialDistribution,
    StudyPlan,
    TrainingClass,
)
from partyedu.testsupport.factories import PASSWORD, Tree, make_member, make_user

from .conftest import record

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def png(name: str = "photo.png", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def assert_ledger_equals_rebuild() -> None:
    """The ledger and the members' year totals equal a recomputation from the sources."""
    report = learning_hours_rebuild(apply=False)
    assert report.ledger == 0 and report.year_hours == 0, report.samples


def link(member: Any, username: str | None = None) -> Any:
    """A member account linked to the member record."""
    user = make_user(username, role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def form_data(org: Any, **extra: Any) -> dict[str, Any]:
    data = {
        "activity_type": "theme_day",
        "topic": "学习党章",
        "date": "2025-03-07",
        "start_time": "14:30",
        "end_time": "16:30",
        "organization": org.pk,
    }
    data.update(extra)
    return data


# --- scope of every page ------------------------------------------------------------------------


def make_activity(org: Any, activity_type: str = "theme_day") -> Activity:
    return record(org, activity_type, topic=f"目标活动{next(_n)}号")


class TestActivityListScope(ScopedEndpointTests):
    url_name = "study:activity_list"
    kind = "list"
    marker_attr = "topic"

    def make_object(self, org: Any) -> Activity:
        return make_activity(org)

    def url(self, obj: Activity) -> str:
        return reverse("study:activity_list")


class ActivityPage(ScopedEndpointTests):
    url_name = ""

    def make_object(self, org: Any) -> Activity:
        make_member(org, "出勤党员")
        return make_activity(org)

    def url(self, obj: Activity) -> str:
        return reverse(self.url_name, args=[obj.pk])


class TestActivityDetailScope(ActivityPage):
    url_name = "study:activity_detail"


class TestActivityEditScope(ActivityPage):
    url_name = "study:activity_edit"


class TestActivityDeleteScope(ActivityPage):
    url_name = "study:activity_delete"


class TestAttendanceScope(ActivityPage):
    url_name = "study:attendance"


class TestQrScope(ActivityPage):
    url_name = "study:activity_qr"


class TestActivityFileScope(ScopedEndpointTests):
    url_name = "study:activity_file"

    def make_object(self, org: Any) -> ActivityFile:
        activity = make_activity(org)
        return ActivityFile.objects.create(activity=activity, file=png())

    def url(self, obj: ActivityFile) -> str:
        return reverse("study:activity_file", args=[obj.activity_id, obj.pk])


class TestPlanListScope(ScopedEndpointTests):
    url_name = "study:plan_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> StudyPlan:
        return services.study_plan_issue(
            actor=None, data={"organization": org, "title": f"学习计划{next(_n)}号", "year": 2025}
        )

    def url(self, obj: StudyPlan) -> str:
        return reverse("study:plan_list")


class TestPlanDetailScope(TestPlanListScope):
    url_name = "study:plan_detail"
    kind = "detail"

    def url(self, obj: StudyPlan) -> str:
        return reverse("study:plan_detail", args=[obj.pk])


class TestClassListScope(ScopedEndpointTests):
    url_name = "study:class_list"
    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> TrainingClass:
        return services.training_class_create(
            actor=None,
            data={
                "organization": org,
                "name": f"培训班{next(_n)}期",
                "start_date": date(2025, 3, 1),
                "end_date": date(2025, 4, 30),
            },
        )

    def url(self, obj: TrainingClass) -> str:
        return reverse("study:class_list")


class TestClassDetailScope(TestClassListScope):
    url_name = "study:class_detail"
    kind = "detail"

    def url(self, obj: TrainingClass) -> str:
        return reverse("study:class_detail", args=[obj.pk])


class TestClassEnrollScope(TestClassDetailScope):
    url_name = "study:class_enroll"

    def url(self, obj: TrainingClass) -> str:
        return reverse("study:class_enroll", args=[obj.pk])


class TestClassSessionScope(TestClassDetailScope):
    url_name = "study:class_session_create"

    def url(self, obj: TrainingClass) -> str:
        return reverse("study:class_session_create", args=[obj.pk])


class TestSiteListScope(ScopedEndpointTests):
    url_name = "study:site_list"
    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return services.teaching_site_create(
            actor=None, data={"organization": org, "name": f"教学点{next(_n)}"}
        )

    def url(self, obj: Any) -> str:
        return reverse("study:site_list")


class TestBaseListScope(ScopedEndpointTests):
    url_name = "study:base_list"
    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return services.education_base_create(
            actor=None, data={"organization": org, "name": f"基地{next(_n)}"}
        )

    def url(self, obj: Any) -> str:
        return reverse("study:base_list")


class TestBaseDetailScope(TestBaseListScope):
    url_name = "study:base_detail"
    kind = "detail"

    def url(self, obj: Any) -> str:
        return reverse("study:base_detail", args=[obj.pk])


class TestCadenceScope(ScopedEndpointTests):
    """The report of the user's own scope lists its branches, and never a sibling's."""

    url_name = "study:cadence"

    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("study:cadence")


class TestMaterialListScope(ScopedEndpointTests):
    url_name = "study:material_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> Any:
        return services.material_create(
            actor=None, data={"organization": org, "title": f"应知应会{next(_n)}", "year": 2025}
        )

    def url(self, obj: Any) -> str:
        return reverse("study:material_list")


class TestMaterialDetailScope(TestMaterialListScope):
    url_name = "study:material_detail"
    kind = "detail"

    def url(self, obj: Any) -> str:
        return reverse("study:material_detail", args=[obj.pk])


class TestMaterialDistributeScope(TestMaterialDetailScope):
    url_name = "study:material_distribute"

    def url(self, obj: Any) -> str:
        return reverse("study:material_distribute", args=[obj.pk])


# --- navigation and home ------------------------------------------------------------------------


def test_menu_shows_study_to_a_secretary_and_member_links_to_a_member(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get("/").content.decode()
    assert 'href="/study/"' in html and 'href="/learning/"' in html
    assert client.get("/study/")["Location"] == reverse("study:activity_list")
    # every study page highlights the menu item
    html = client.get(reverse("study:plan_list")).content.decode()
    assert re.search(r'aria-current="page"\s+href="/study/"', html)

    member = make_member(tree.branch_a, "普通党员")
    client.force_login(link(member))
    html = client.get("/").content.decode()
    assert 'href="/study/"' not in html
    for url in (reverse("learning:my_hours"), reverse("study:scan"), reverse("learning:resource_list")):
        assert url in html


# --- activity list ------------------------------------------------------------------------------


def test_activity_list_filters_and_counts_attendance(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    lecture = record(tree.branch_a, "party_lecture", topic="党课：初心使命")
    record(tree.branch_a, "theme_day", topic="主题党日：植树")
    services.attendance_mark(
        actor=None,
        activity=lecture,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "late"},
        ],
    )
    client.force_login(secretary)
    html = client.get(reverse("study:activity_list"), {"activity_type": "party_lecture"}).content.decode()
    assert "党课：初心使命" in html and "主题党日：植树" not in html
    assert '<span class="fw-bold">2</span> / 3' in html  # 出席+迟到 / 应到 (branch and its group)


def test_activity_list_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, secretary: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        make_member(tree.branch_a, f"党员{i}")
    for i in range(30):
        record(tree.branch_a, topic=f"活动{i:02d}", start=timezone.now() - timedelta(days=i, hours=3))
    client.force_login(secretary)
    # session, user, grants, count, page rows, attendance counts, session save (up to 3)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("study:activity_list"))
    assert response.content.decode().count('href="/study/activities/') >= 30


def test_activity_list_htmx_returns_the_table_only(client: Any, tree: Tree, secretary: Any) -> None:
    record(tree.branch_a, topic="片段测试")
    client.force_login(secretary)
    html = client.get(reverse("study:activity_list"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "片段测试" in html


# --- recording an activity ----------------------------------------------------------------------


def test_create_form_starts_with_the_secretarys_branch_and_today(
    client: Any, tree: Tree, secretary: Any
) -> None:
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    assert 'name="organization__q" value="甲一支部"' in html
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in html
    assert 'type="time"' in html


def test_secretary_records_an_activity_with_photos_and_sign_in_sheet(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    client.force_login(secretary)
    data = form_data(
        tree.branch_a,
        host="张书记",
        recorder="李委员",
        place="社区会议室",
        photos=[png("a.png"), png("b.png")],
    )
    data["sign_in_sheet"] = png("sheet.png")
    response = client.post(reverse("study:activity_create"), data)
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("study:activity_detail", args=[activity.pk])
    assert activity.organization == tree.branch_a and activity.place == "社区会议室"
    assert timezone.localtime(activity.start).strftime("%Y-%m-%d %H:%M") == "2025-03-07 14:30"
    assert activity.attendances.count() == 3  # branch and its party group
    assert activity.files.filter(kind="photo").count() == 2
    assert activity.files.filter(kind="sign_in_sheet").count() == 1
    html = client.get(response["Location"]).content.decode()
    assert "现场照片（2）" in html and "张书记" in html


def test_an_upload_that_is_not_an_image_is_refused_in_chinese(
    client: Any, tree: Tree, secretary: Any
) -> None:
    client.force_login(secretary)
    fake = SimpleUploadedFile("minutes.png", b"this is not an image", content_type="image/png")
    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a, photos=[fake]))
    assert response.status_code == 200
    assert "“minutes.png”不是有效的图片文件" in response.content.decode()
    assert not Activity.objects.exists()


def test_at_most_nine_photos(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    photos = [png(f"p{i}.png") for i in range(10)]
    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a, photos=photos))
    assert "现场照片最多9张" in response.content.decode()
    assert not Activity.objects.exists()


def test_end_before_start_is_refused(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a, end_time="13:00"))
    assert "结束时间应晚于开始时间" in response.content.decode()
    assert not Activity.objects.exists()


def test_out_of_scope_organisation_is_refused(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    response = client.post(reverse("study:activity_create"), form_data(tree.branch_b))
    assert "不在您的权限范围内" in response.content.decode()
    assert not Activity.objects.exists()


def test_home_delivery_for_one_member_by_name_with_an_invitee(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    client.force_login(secretary)
    data = form_data(tree.branch_a, activity_type="home_delivery", roster="张三", invitees="王五")
    client.post(reverse("study:activity_create"), data)
    activity = Activity.objects.get()
    rows = {a.member.name: a.is_invitee for a in activity.attendances.select_related("member")}
    assert rows == {"张三": False, "王五": True}


def test_unknown_and_ambiguous_names_say_what_to_do(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    make_member(tree.group_a, "张三")  # a second 张三 in the branch
    client.force_login(secretary)
    html = client.post(
        reverse("study:activity_create"), form_data(tree.branch_a, roster="张三 查无此人")
    ).content.decode()
    assert "查无此人" in html and "请改填其身份证号" in html
    assert not Activity.objects.exists()


def test_edit_changes_times_and_removes_a_photo(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    photo = ActivityFile.objects.create(activity=activity, file=png())
    client.force_login(secretary)
    url = reverse("study:activity_edit", args=[activity.pk])
    html = client.get(url).content.decode()
    assert 'value="2025-03-07"' in html and 'value="14:30"' in html
    data = form_data(tree.branch_a, topic="学习党章（修订）", start_time="15:00", end_time="17:00")
    data.pop("organization")
    data["remove_files"] = [str(photo.pk)]
    response = client.post(url, data)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.topic == "学习党章（修订）"
    assert timezone.localtime(activity.start).hour == 15
    assert not activity.files.exists()


def test_delete_needs_confirmation_and_reverses_hours(client: Any, tree: Tree, members: dict) -> None:
    activity = record(tree.branch_a)
    services.attendance_mark(
        actor=None, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    admin = make_user(role="org_admin", org=tree.district_a)
    client.force_login(admin)
    url = reverse("study:activity_delete", args=[activity.pk])
    assert "确认删除" in client.get(url).content.decode()
    client.post(url, {})
    assert Activity.objects.filter(pk=activity.pk).exists()
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert_ledger_equals_rebuild()


def test_branch_admin_cannot_delete(client: Any, tree: Tree, secretary: Any) -> None:
    activity = record(tree.branch_a)
    client.force_login(secretary)
    assert client.get(reverse("study:activity_delete", args=[activity.pk])).status_code == 403
    assert (
        reverse("study:activity_delete", args=[activity.pk])
        not in client.get(reverse("study:activity_detail", args=[activity.pk])).content.decode()
    )


# --- attendance ---------------------------------------------------------------------------------


def test_attendance_screen_marks_everyone_in_one_submit_and_a_double_submit_is_harmless(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    client.force_login(secretary)
    url = reverse("study:attendance", args=[activity.pk])
    html = client.get(url).content.decode()
    assert "全部出席" in html and html.count('type="radio"') == 3 * 4
    data = {
        f"status_{members['zhang'].pk}": "present",
        f"status_{members['li'].pk}": "leave",
        f"status_{members['wang'].pk}": "late",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    marks = dict(activity.attendances.values_list("member__name", "status"))
    assert marks == {"张三": "present", "李四": "leave", "王五": "late"}
    response = client.post(url, data, follow=True)
    assert "出勤情况没有变化" in response.content.decode()
    assert_ledger_equals_rebuild()


def test_attendance_screen_refuses_a_member_not_on_the_roster(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a, roster=[members["zhang"].pk])
    client.force_login(secretary)
    data = {f"status_{members['zhang'].pk}": "present", f"status_{members['li'].pk}": "present"}
    response = client.post(reverse("study:attendance", args=[activity.pk]), data)
    assert response.status_code == 400
    assert "不在本活动的应到名单或列席名单中" in response.content.decode()
    assert not Attendance.objects.filter(activity=activity).exclude(status="").exists()


def test_attendance_screen_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, secretary: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(40):
        make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i:02d}")
    activity = record(tree.branch_a, "branch_assembly")
    client.force_login(secretary)
    # session, user, grants, activity, roster, counts, session save (up to 3)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("study:attendance", args=[activity.pk]))
    assert response.content.decode().count('type="radio"') == 40 * 4


def test_quorum_of_a_branch_assembly_is_shown(client: Any, tree: Tree, members: dict, secretary: Any) -> None:
    activity = record(tree.branch_a, "branch_assembly")
    services.attendance_mark(
        actor=None,
        activity=activity,
        records=[
            {"member": members["zhang"].pk, "status": "present"},
            {"member": members["li"].pk, "status": "present"},
        ],
    )
    client.force_login(secretary)
    html = client.get(reverse("study:activity_detail", args=[activity.pk])).content.decode()
    assert "到会2人/应到3人（有表决权），超过半数" in html


def test_makeup_for_an_absent_member_and_confirming_a_reported_one(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    services.attendance_mark(
        actor=None,
        activity=activity,
        records=[
            {"member": members["zhang"].pk, "status": "absent"},
            {"member": members["li"].pk, "status": "leave"},
        ],
    )
    li_row = activity.attendances.get(member=members["li"])
    services.attendance_makeup_request(actor=None, attendance=li_row)
    zhang_row = activity.attendances.get(member=members["zhang"])
    client.force_login(secretary)
    html = client.get(reverse("study:attendance", args=[activity.pk])).content.decode()
    assert "确认已补学" in html and "补学待确认" in html
    for row in (zhang_row, li_row):
        client.post(reverse("study:attendance_makeup", args=[activity.pk, row.pk]))
    for row in (zhang_row, li_row):
        row.refresh_from_db()
        assert row.status == "makeup" and row.makeup_confirmed_at is not None
    assert_ledger_equals_rebuild()


# --- QR check-in --------------------------------------------------------------------------------


def _now_activity(org: Any) -> Activity:
    return record(org, start=timezone.now() - timedelta(minutes=5), end=timezone.now() + timedelta(hours=1))


def test_qr_page_shows_a_code_that_refreshes_and_the_count(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = _now_activity(tree.branch_a)
    client.force_login(secretary)
    url = reverse("study:activity_qr", args=[activity.pk])
    html = client.get(url).content.decode()
    assert "<svg" in html and 'hx-trigger="every 25s"' in html
    assert "已签到 0 / 应到 3 人" in html
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "<svg" in partial.content.decode()
    assert "no-cache" in partial["Cache-Control"] or "max-age=0" in partial["Cache-Control"]


def test_member_checks_in_with_the_scanned_link(client: Any, tree: Tree, members: dict) -> None:
    activity = _now_activity(tree.branch_a)
    client.force_login(link(members["zhang"]))
    token, _expires = checkin_token(activity)
    response = client.get(reverse("study:checkin"), {"t": token})
    assert response.status_code == 200
    assert "签到成功" in response.content.decode()
    assert activity.attendances.get(member=members["zhang"]).status == "present"
    # scanning again changes nothing
    assert client.get(reverse("study:checkin"), {"t": token}).status_code == 200
    assert_ledger_equals_rebuild()


def test_an_expired_code_gives_a_clear_message(client: Any, tree: Tree, members: dict) -> None:
    activity = _now_activity(tree.branch_a)
    client.force_login(link(members["zhang"]))
    token, _expires = checkin_token(activity, at=timezone.now() - timedelta(seconds=90))
    response = client.get(reverse("study:checkin"), {"t": token})
    assert response.status_code == 400
    assert "二维码已过期" in response.content.decode()
    assert activity.attendances.get(member=members["zhang"]).status == ""


def test_a_member_not_on_the_roster_is_told_so(client: Any, tree: Tree, members: dict) -> None:
    activity = _now_activity(tree.branch_a)
    client.force_login(link(members["zhao"]))
    token, _expires = checkin_token(activity)
    html = client.get(reverse("study:checkin"), {"t": token}).content.decode()
    assert "不在本次活动的应到名单" in html


def test_scan_before_sign_in_returns_to_the_check_in_and_counts_from_the_scan(
    client: Any, tree: Tree, members: dict
) -> None:
    activity = _now_activity(tree.branch_a)
    user = link(members["zhang"], "zhang")
    # the member scans 50 seconds ago, not yet signed in …
    token, _expires = checkin_token(activity, at=timezone.now() - timedelta(seconds=50))
    response = client.get(reverse("study:checkin"), {"t": token})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "next=" in response["Location"]
    session = client.session
    session["checkin_scan"]["at"] = (timezone.now() - timedelta(seconds=50)).isoformat()
    session.save()
    # … types the password (the code has rotated twice since) and comes back
    response = client.post(
        reverse("accounts:login"),
        {"username": "zhang", "password": PASSWORD, "next": f"/study/checkin/?t={token}"},
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "签到成功" in html
    assert activity.attendances.get(member=members["zhang"]).status == "present"
    assert user.is_authenticated


def test_checkin_without_a_token_goes_to_the_scan_page(client: Any, tree: Tree, members: dict) -> None:
    record(tree.branch_a)
    user = link(members["zhang"])
    client.force_login(user)
    response = client.get(reverse("study:checkin"))
    assert response["Location"] == reverse("study:scan")
    html = client.get(reverse("study:scan")).content.decode()
    assert "打开手机相机" in html and "学习党章" in html


# --- plans --------------------------------------------------------------------------------------


def test_plan_is_issued_from_a_topic_list_and_shows_coverage(client: Any, tree: Tree, members: dict) -> None:
    admin = make_user(role="org_admin", org=tree.district_a)
    client.force_login(admin)
    response = client.post(
        reverse("study:plan_create"),
        {
            "organization": tree.district_a.pk,
            "title": "2025年度学习计划",
            "kind": "annual",
            "year": 2025,
            "topics": "学习党章|2025-06-30\n\n学习条例",
        },
    )
    plan = StudyPlan.objects.get()
    assert response.status_code == 302
    topics = list(plan.topics.values_list("title", "due_date"))
    assert topics == [("学习党章", date(2025, 6, 30)), ("学习条例", None)]
    record(tree.group_a, required_topic=plan.topics.first())
    html = client.get(reverse("study:plan_detail", args=[plan.pk])).content.decode()
    assert "1 / 1 个支部已学" in html and "0 / 1 个支部已学" in html
    assert "✓" in html and "✗" in html


def test_plan_topic_with_a_bad_deadline_names_the_line(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.post(
        reverse("study:plan_create"),
        {
            "organization": tree.district_a.pk,
            "title": "计划",
            "kind": "annual",
            "year": 2025,
            "topics": "甲\n乙|六月底",
        },
    ).content.decode()
    assert "第2行：完成期限“六月底”" in html
    assert not StudyPlan.objects.exists()


def test_activity_form_offers_the_required_topics_from_above(client: Any, tree: Tree, secretary: Any) -> None:
    year = timezone.localdate().year
    services.study_plan_issue(
        actor=None,
        data={
            "organization": tree.district_a,
            "title": "区委计划",
            "year": year,
            "topics": [{"title": "学习党章"}],
        },
    )
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    assert f"{year}·区委计划：学习党章" in html


# --- training classes ---------------------------------------------------------------------------


def test_class_create_enrol_by_ticks_and_names_add_a_session_and_see_completion(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    client.force_login(secretary)
    response = client.post(
        reverse("study:class_create"),
        {
            "organization": tree.branch_a.pk,
            "name": "骑手网上班",
            "start_date": "2025-03-01",
            "end_date": "2025-04-30",
            "completion_percent": 80,
            "is_online": "on",
        },
    )
    tc = TrainingClass.objects.get()
    assert response["Location"] == reverse("study:class_enroll", args=[tc.pk])
    assert tc.completion_ratio == Decimal("0.80")
    html = client.get(response["Location"]).content.decode()
    assert "全选" in html and "张三" in html  # the secretary's branch is listed for ticking
    response = client.post(
        response["Location"], {"members": [members["zhang"].pk, members["li"].pk], "names": "王五"}
    )
    assert response.status_code == 302
    assert set(tc.enrollments.values_list("member__name", flat=True)) == {"张三", "李四", "王五"}

    session = client.post(
        reverse("study:class_session_create", args=[tc.pk]),
        {
            "activity_type": "online_class",
            "topic": "第一课",
            "date": "2025-03-04",
            "start_time": "19:00",
            "end_time": "21:00",
        },
    )
    activity = Activity.objects.get(training_class=tc)
    assert session["Location"] == reverse("study:activity_detail", args=[activity.pk])
    assert activity.attendances.count() == 3
    services.attendance_mark(
        actor=None, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    html = client.get(reverse("study:class_detail", args=[tc.pk])).content.decode()
    assert "第一课" in html and "1/1（100%）" in html and "0/1（0%）" in html


def test_enrolment_refuses_a_member_outside_the_scope(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    tc = services.training_class_create(
        actor=None,
        data={
            "organization": tree.branch_a,
            "name": "班",
            "start_date": date(2025, 3, 1),
            "end_date": date(2025, 4, 1),
        },
    )
    client.force_login(secretary)
    html = client.post(
        reverse("study:class_enroll", args=[tc.pk]), {"members": [members["zhao"].pk]}
    ).content.decode()
    assert "不在您的管理范围内" in html
    assert not tc.enrollments.exists()


# --- places, cadence, materials ----------------------------------------------------------------


def test_site_and_base_are_registered_and_a_visit_is_listed(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    client.post(
        reverse("study:site_create"),
        {"organization": tree.branch_a.pk, "name": "社区党校教学点", "kind": "site"},
    )
    assert "社区党校教学点" in client.get(reverse("study:site_list")).content.decode()
    response = client.post(
        reverse("study:base_create"),
        {"organization": tree.branch_a.pk, "name": "革命纪念馆", "base_type": "红色教育基地"},
    )
    base = services.EducationBase.objects.get()
    assert response["Location"] == reverse("study:base_detail", args=[base.pk])
    record(tree.branch_a, "site_visit", topic="参观纪念馆", education_base=base)
    html = client.get(reverse("study:base_detail", args=[base.pk])).content.decode()
    assert "参观纪念馆" in html and "参观学习记录（1次）" in html
    # and the activity form offers both places
    html = client.get(reverse("study:activity_create")).content.decode()
    assert "社区党校教学点" in html and "革命纪念馆" in html


def test_cadence_highlights_missing_months(client: Any, tree: Tree, secretary: Any) -> None:
    record(
        tree.branch_a, "theme_day", start=datetime(2024, 1, 10, 14, tzinfo=timezone.get_default_timezone())
    )
    client.force_login(secretary)
    html = client.get(
        reverse("study:cadence"), {"organization": tree.branch_a.pk, "year": 2024}
    ).content.decode()
    assert "甲一支部" in html and "缺：2月、3月" in html and "✗" in html


def test_material_is_distributed_with_ticks_and_coverage_shown(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    client.force_login(secretary)
    response = client.post(
        reverse("study:material_create"),
        {"organization": tree.branch_a.pk, "title": "应知应会手册", "year": 2025},
    )
    material = services.StudyMaterial.objects.get()
    assert response["Location"] == reverse("study:material_distribute", args=[material.pk])
    html = client.get(response["Location"]).content.decode()
    assert "全选" in html and "张三" in html
    response = client.post(
        response["Location"] + f"?organization={tree.branch_a.pk}",
        {"members": [members["zhang"].pk, members["wang"].pk], "distributed_on": "2025-03-01"},
    )
    assert response.status_code == 302
    assert MaterialDistribution.objects.count() == 2
    html = client.get(response["Location"]).content.decode()
    assert "已发放 <strong>2</strong> 份 / 在册党员 3 人" in html
    assert "已发放" in client.get(reverse("study:material_distribute", args=[material.pk])).content.decode()


def test_activity_types_are_all_offered(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    for _value, label in ActivityType.choices:
        assert str(label) in html


@pytest.mark.parametrize(
    "url_name",
    ["activity_create", "plan_create", "class_create", "site_create", "base_create", "material_create"],
)
def test_create_pages_need_the_add_action(client: Any, tree: Tree, url_name: str) -> None:
    member = make_member(tree.branch_a, "普通党员")
    client.force_login(link(member))
    assert client.get(reverse(f"study:{url_name}")).status_code == 403
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    assert client.get(reverse(f"study:{url_name}")).status_code == 200


# --- scope of the create pages and of the 补学 button -------------------------------------------------


class CreatePage(ScopedEndpointTests):
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse(self.url_name)


class TestActivityCreateScope(CreatePage):
    url_name = "study:activity_create"


class TestPlanCreateScope(CreatePage):
    url_name = "study:plan_create"


class TestClassCreateScope(CreatePage):
    url_name = "study:class_create"


class TestSiteCreateScope(CreatePage):
    url_name = "study:site_create"


class TestBaseCreateScope(CreatePage):
    url_name = "study:base_create"


class TestMaterialCreateScope(CreatePage):
    url_name = "study:material_create"


class TestAttendanceMakeupScope(PostEndpointTests):
    """The 补学 button on an absent member's row, posted back to the attendance screen."""

    url_name = "study:attendance_makeup"

    def make_object(self, org: Any) -> Attendance:
        member = make_member(org, "缺席党员")
        return Attendance.objects.get(activity=make_activity(org), member=member)

    def url(self, obj: Attendance) -> str:
        return reverse("study:attendance_makeup", args=[obj.activity_id, obj.pk])

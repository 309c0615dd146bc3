"""Learning pages: 我的学时, a member's hours for managers, the completion view with its export,
and online study (list, player with heartbeats, file ranges, publishing)."""

from __future__ import annotations

import io
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.core.testing import OwnedEndpointTests, PostEndpointTests, ScopedEndpointTests
from partyedu.learning import services
from partyedu.learning.models import OnlineResource, ResourceProgress
from partyedu.learning.tests.factories import attend, local, make_activity
from partyedu.testsupport.factories import Tree, make_member, make_user

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
YEAR = timezone.localdate().year
PDF = b"%PDF-1.4\n" + b"0" * 2000


def link(member: Any) -> Any:
    user = make_user(role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def publish(org: Any, title: str = "学习资源", **kwargs: Any) -> OnlineResource:
    kwargs.setdefault("kind", "article")
    kwargs.setdefault("duration_seconds", 600)
    if kwargs["kind"] == "article":
        kwargs.setdefault("body", "第一段。\n\n第二段。")
    resource = services.resource_create(actor=None, organization=org, title=title, **kwargs)
    return services.resource_publish(actor=None, resource=resource)


def earn(member: Any, hours: float = 2, topic: str = "学习党章", year: int = YEAR) -> None:
    activity = make_activity(
        member.organization,
        topic=topic,
        start=local(year, 3, 15, 9),
        hours=min(hours, 2),
        credited_hours=Decimal(str(hours)),
    )
    attend(activity, member)


# --- scope ----------------------------------------------------------------------------------------


class TestMemberHoursScope(ScopedEndpointTests):
    url_name = "learning:member_hours"

    def make_object(self, org: Any) -> Any:
        return make_member(org, "学时党员")

    def url(self, obj: Any) -> str:
        return reverse("learning:member_hours", args=[obj.pk])


class TestSummaryScope(ScopedEndpointTests):
    """The completion view of the user's own scope lists the members still short."""

    url_name = "learning:summary"

    kind = "list"
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return make_member(org, f"未达标党员{next(_n)}号")

    def url(self, obj: Any) -> str:
        return reverse("learning:summary")


class TestSummaryExportScope(ScopedEndpointTests):
    url_name = "learning:summary_export"

    def make_object(self, org: Any) -> Any:
        make_member(org, "导出党员")
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:summary_export')}?organization={obj.pk}"


class TestSummaryCategoriesScope(ScopedEndpointTests):
    url_name = "learning:summary_categories"

    def make_object(self, org: Any) -> Any:
        make_member(org, "分类党员", categories=["retired"])
        return org

    def url(self, obj: Any) -> str:
        return f"{reverse('learning:summary_categories')}?organization={obj.pk}"


class TestResourceListScope(ScopedEndpointTests):
    url_name = "learning:resource_list"
    kind = "list"
    marker_attr = "title"

    def make_object(self, org: Any) -> OnlineResource:
        return publish(org, f"网上课程{next(_n)}号")

    def url(self, obj: OnlineResource) -> str:
        return reverse("learning:resource_list")


class TestResourceDetailScope(TestResourceListScope):
    url_name = "learning:resource_detail"
    kind = "detail"

    def url(self, obj: OnlineResource) -> str:
        return reverse("learning:resource_detail", args=[obj.pk])


class TestResourceFileScope(ScopedEndpointTests):
    url_name = "learning:resource_file"

    def make_object(self, org: Any) -> OnlineResource:
        return publish(org, "课件", kind="courseware", file=SimpleUploadedFile("k.pdf", PDF))

    def url(self, obj: OnlineResource) -> str:
        return reverse("learning:resource_file", args=[obj.pk])


# --- 我的学时 ---------------------------------------------------------------------------------------


def test_my_hours_shows_required_earned_missing_and_each_source(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "老党员")
    earn(member, 2, "学习二十届三中全会精神")
    client.force_login(link(member))
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert "我的学时" in html
    numbers = html.split('data-testid="hours-numbers"')[1].split("</div>\n</div>")[0]
    assert ">32<" in numbers and ">2<" in numbers and ">30<" in numbers
    assert "学习二十届三中全会精神（出席）" in html and "+2" in html
    assert "集体学习" in html


def test_my_hours_of_another_year(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "老党员")
    earn(member, 2, "去年的党课", year=YEAR - 1)
    client.force_login(link(member))
    assert "去年的党课" not in client.get(reverse("learning:my_hours")).content.decode()
    html = client.get(reverse("learning:my_hours"), {"year": YEAR - 1}).content.decode()
    assert "去年的党课" in html and 'aria-current="page">' in html


def test_exempt_member_sees_home_delivery_instead_of_a_shortfall(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "卧床党员", is_exempt=True, exempt_reason="年老体弱")
    client.force_login(link(member))
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert "免于硬性要求，送学上门" in html and "还差学时" not in html


def test_a_user_without_a_member_record_is_told_so(client: Any, tree: Tree) -> None:
    client.force_login(make_user())
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert "还没有关联党员信息" in html


def test_a_member_cannot_open_another_members_hours(client: Any, tree: Tree) -> None:
    me, other = make_member(tree.branch_a, "本人"), make_member(tree.branch_a, "别人")
    client.force_login(link(me))
    assert client.get(reverse("learning:member_hours", args=[other.pk])).status_code == 403


def test_manager_sees_a_members_hours(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "被查看党员")
    earn(member, 4, "半天培训")
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = client.get(reverse("learning:member_hours", args=[member.pk])).content.decode()
    assert "被查看党员的学时" in html and "半天培训" in html


# --- completion view -----------------------------------------------------------------------------


def test_summary_shows_numbers_short_list_and_exempt_apart(client: Any, tree: Tree) -> None:
    done = make_member(tree.branch_a, "达标党员")
    earn(done, 32, "全年学习")
    make_member(tree.branch_a, "未达标党员")
    make_member(tree.group_a, "免学党员", is_exempt=True, exempt_reason="重病")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(
        reverse("learning:summary"), {"organization": tree.branch_a.pk, "year": YEAR}
    ).content.decode()
    numbers = html.split('data-testid="summary-numbers"')[1].split("</div>\n</div>")[0]
    assert ">3<" in numbers and ">2<" in numbers and ">1<" in numbers and "50.0%" in numbers
    assert "免于硬性要求（年老体弱等，送学上门）<strong>1</strong> 人" in html
    short = html.split("尚未达标的党员")[1]
    assert "未达标党员" in short and "达标党员</a>" not in short.replace("未达标党员</a>", "")
    assert "免学党员" not in short
    assert reverse("learning:summary_export") in html


def test_summary_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    for i in range(60):
        make_member(tree.branch_a if i % 2 else tree.group_a, f"党员{i:02d}")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("learning:summary")
    # session, user, grants, filter organisation; the summary and the short list (each: the summary
    # row check, two rule lookups, one grouped query or the count), page rows, session save (up to 3).
    # Whatever the number of members.
    with django_assert_max_num_queries(16):
        response = client.get(url, {"organization": tree.branch_a.pk, "year": YEAR})
    assert "尚未达标的党员（60人）" in response.content.decode()


def test_summary_page_takes_the_short_lists_length_from_the_summary(client: Any, tree: Tree) -> None:
    for i in range(3):
        make_member(tree.branch_a, f"党员{i}")
    earn(make_member(tree.branch_a, "达标党员"), 32, "全年学习")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    with CaptureQueriesContext(connection) as captured:
        html = client.get(
            reverse("learning:summary"), {"organization": tree.district_a.pk, "year": YEAR}
        ).content.decode()
    assert "尚未达标的党员（3人）" in html
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"] and "members_member" in q["sql"]]


def test_summary_categories_fragment_runs_a_fixed_number_of_queries(
    client: Any, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        make_member(tree.branch_a, f"党员{i:02d}", categories=["retired"] if i % 2 else ["employed"])
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    # session, user, grants, the organisation, the two summary rows and the two by category, the
    # session saved (three statements); whatever the number of members
    with django_assert_max_num_queries(11):
        partial = client.get(
            reverse("learning:summary_categories"),
            {"organization": tree.district_a.pk, "year": YEAR},
            HTTP_HX_REQUEST="true",
        ).content.decode()
    assert "离退休" in partial and "<td>15</td>" in partial


def test_summary_by_category_is_loaded_after_the_page(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "退休党员", categories=["retired"])
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("learning:summary"), {"organization": tree.branch_a.pk}).content.decode()
    assert 'hx-trigger="load"' in html
    partial = client.get(
        reverse("learning:summary_categories"),
        {"organization": tree.branch_a.pk, "year": YEAR},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in partial and "离退休" in partial


def test_short_list_export(client: Any, tree: Tree) -> None:
    make_member(tree.branch_a, "待补学时党员")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.get(
        reverse("learning:summary_export"), {"organization": tree.branch_a.pk, "year": YEAR}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "姓名" and any(r[0] == "待补学时党员" for r in rows[1:])


def test_branch_admin_can_export_but_a_member_cannot_open_the_summary(client: Any, tree: Tree) -> None:
    member = make_member(tree.branch_a, "普通党员")
    client.force_login(link(member))
    assert client.get(reverse("learning:summary")).status_code == 403


# --- online resources ----------------------------------------------------------------------------


def test_member_sees_resources_from_above_by_column(client: Any, tree: Tree) -> None:
    column = services.column_create(actor=None, organization=tree.root, name="教育学习园地")
    publish(tree.root, "市委的课", column=column, issue_no=3)
    publish(tree.branch_b, "别的支部的课")
    draft = services.resource_create(
        actor=None, organization=tree.branch_a, title="草稿", kind="article", body="x", duration_seconds=60
    )
    member = make_member(tree.branch_a, "学习党员")
    client.force_login(link(member))
    html = client.get(reverse("learning:resource_list")).content.decode()
    assert "市委的课" in html and "第3期" in html and "教育学习园地" in html
    assert "别的支部的课" not in html and draft.title not in html
    html = client.get(reverse("learning:resource_list"), {"column": column.pk}).content.decode()
    assert "市委的课" in html


def test_heartbeats_record_progress_and_completion_credits_hours_once(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "两秒短片", duration_seconds=2, credit_hours=Decimal("1.5"))
    member = make_member(tree.branch_a, "学习党员")
    client.force_login(link(member))
    html = client.get(reverse("learning:resource_detail", args=[resource.pk])).content.decode()
    assert "data-heartbeat=" in html and "heartbeat.js" in html
    url = reverse("learning:resource_heartbeat", args=[resource.pk])
    first = client.post(url, json.dumps({"start": 0, "end": 0}), content_type="application/json")
    assert first.status_code == 200 and first.json()["completed"] is False
    second = client.post(url, json.dumps({"start": 0, "end": 2}), content_type="application/json").json()
    assert second["completed"] is True and second["percent"] == 100
    assert second["message"] == "已完成，计入网络学习1.5学时"
    client.post(url, json.dumps({"start": 0, "end": 2}), content_type="application/json")
    progress = ResourceProgress.objects.get()
    assert progress.completed_at is not None
    assert member.hour_entries.filter(kind="online").count() == 1
    html = client.get(reverse("learning:resource_detail", args=[resource.pk])).content.decode()
    assert "已完成，计入网络学习1.5学时" in html


def test_heartbeat_cannot_claim_more_than_the_clock(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "长视频", duration_seconds=3600)
    member = make_member(tree.branch_a, "学习党员")
    client.force_login(link(member))
    url = reverse("learning:resource_heartbeat", args=[resource.pk])
    client.post(url, {"start": 0, "end": 0})
    data = client.post(url, {"start": 0, "end": 3600}).json()
    assert data["credited_seconds"] <= 3 and data["completed"] is False


def test_heartbeat_errors_are_json_in_chinese(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "课")
    member = make_member(tree.branch_a, "学习党员")
    client.force_login(link(member))
    url = reverse("learning:resource_heartbeat", args=[resource.pk])
    response = client.post(url, {"start": "abc", "end": 5})
    assert response.status_code == 400 and "播放位置" in response.json()["detail"]
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(url, {"start": 0, "end": 5})
    assert response.status_code == 403 and "党员本人" in response.json()["detail"]


def test_heartbeat_with_a_deeply_nested_body_is_400_not_500(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "课")
    client.force_login(link(make_member(tree.branch_a, "学习党员")))
    url = reverse("learning:resource_heartbeat", args=[resource.pk])
    response = client.post(url, "[" * 2000 + "]" * 2000, content_type="application/json")
    assert response.status_code == 400 and "播放位置" in response.json()["detail"]


def test_admin_preview_does_not_record_progress(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "预览课")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.get(reverse("learning:resource_detail", args=[resource.pk])).content.decode()
    assert "data-heartbeat=" not in html and "不记录学习进度" in html


def test_file_answers_byte_ranges(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "课件", kind="courseware", file=SimpleUploadedFile("k.pdf", PDF))
    member = make_member(tree.branch_a, "学习党员")
    client.force_login(link(member))
    url = reverse("learning:resource_file", args=[resource.pk])
    response = client.get(url, HTTP_RANGE="bytes=0-3")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"%PDF"
    assert response["Content-Range"] == f"bytes 0-3/{len(PDF)}"
    full = client.get(url)
    assert full.status_code == 200 and full["Accept-Ranges"] == "bytes"
    assert client.get(url, HTTP_RANGE=f"bytes={len(PDF) + 5}-").status_code == 416


def test_org_admin_publishes_an_article_in_a_new_column(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    response = client.post(
        reverse("learning:resource_create"),
        {
            "organization": tree.district_a.pk,
            "kind": "article",
            "title": "学习园地第1期",
            "new_column": "教育学习园地",
            "issue_no": 1,
            "body": "正文",
            "duration_minutes": "5",
            "credit_hours": "0.5",
            "publish": "on",
        },
    )
    resource = OnlineResource.objects.get()
    assert response["Location"] == reverse("learning:resource_detail", args=[resource.pk])
    assert (
        resource.is_published and resource.duration_seconds == 300 and resource.column.name == "教育学习园地"
    )


def test_a_video_that_is_not_a_video_is_refused(client: Any, tree: Tree) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    html = client.post(
        reverse("learning:resource_create"),
        {
            "organization": tree.district_a.pk,
            "kind": "video",
            "title": "假视频",
            "file": SimpleUploadedFile("a.mp4", b"not a video at all"),
            "duration_minutes": "5",
            "credit_hours": "1",
        },
    ).content.decode()
    assert "不是有效的MP4文件" in html
    assert not OnlineResource.objects.exists()


def test_unpublish_and_publish_again(client: Any, tree: Tree) -> None:
    resource = publish(tree.branch_a, "可撤回的课")
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    url = reverse("learning:resource_publish", args=[resource.pk])
    client.post(url, {"publish": "0"})
    resource.refresh_from_db()
    assert not resource.is_published
    client.post(url, {"publish": "1"})
    resource.refresh_from_db()
    assert resource.is_published


def test_a_user_with_no_role_and_no_member_record_cannot_open_resources(client: Any, tree: Tree) -> None:
    client.force_login(make_user())
    assert client.get(reverse("learning:resource_list")).status_code == 403


def test_publishing_needs_the_add_action(client: Any, tree: Tree) -> None:
    client.force_login(link(make_member(tree.branch_a, "普通党员")))
    assert client.get(reverse("learning:resource_create")).status_code == 403
    client.force_login(make_user(role="org_admin", org=tree.district_a))
    assert client.get(reverse("learning:resource_create")).status_code == 200


# --- scope of publishing and of the player's heartbeat ----------------------------------------------


class TestResourceCreateScope(ScopedEndpointTests):
    url_name = "learning:resource_create"
    kind = "create"

    def make_object(self, org: Any) -> Any:
        return org

    def url(self, obj: Any) -> str:
        return reverse("learning:resource_create")


class TestResourcePublishScope(PostEndpointTests):
    """下架 (``publish=0``), posted back to the resource's page."""

    url_name = "learning:resource_publish"

    def make_object(self, org: Any) -> OnlineResource:
        return publish(org, f"上架课程{next(_n)}号")

    def action_url(self, obj: OnlineResource) -> str:
        return reverse("learning:resource_publish", args=[obj.pk])

    def post_data(self, obj: OnlineResource) -> dict[str, Any]:
        return {"publish": "0"}


class TestResourceHeartbeatScope(PostEndpointTests, OwnedEndpointTests):
    """A heartbeat is a member's own: the member the resource is published to records progress,
    a member of the sibling branch (not published to) gets 404."""

    url_name = "learning:resource_heartbeat"
    role = "member"

    def make_object(self, org: Any) -> OnlineResource:
        resource = publish(org, f"心跳课程{next(_n)}号")
        resource.learner = link(make_member(org, "学习党员"))  # type: ignore[attr-defined]
        return resource

    def owner(self, obj: OnlineResource) -> Any:
        return obj.learner  # type: ignore[attr-defined]

    def stranger(self, scope_tree: Tree) -> Any:
        return link(make_member(scope_tree.branch_b, "乙支部党员"))

    def action_url(self, obj: OnlineResource) -> str:
        return reverse("learning:resource_heartbeat", args=[obj.pk])

    def post_data(self, obj: OnlineResource) -> dict[str, Any]:
        return {"start": 0, "end": 0}

    def test_user_without_role_gets_403(self, client: Any, scope_tree: Tree) -> None:
        """The view asks for no action: to a user with neither a member record nor a learning
        role no resource is published, so it does not exist for them."""
        obj = self.make_object(scope_tree.branch_a)
        client.force_login(make_user())
        assert self._get(client, self.url(obj)).status_code == 404

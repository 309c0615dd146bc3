"""Rule 7 — places and teaching formats (seed 000; seed 004 "1+5+N"): the teaching format of an
activity (recorded, filtered, counted), the site kinds of a 1+5+N network and the 活动统计 page."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from partyedu.core.testing import ScopedEndpointTests
from partyedu.study import services
from partyedu.study.choices import FORMAT_BLANK, SiteKind, TeachingFormat
from partyedu.study.models import Activity, TeachingSite
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import Tree

from .conftest import at, record

pytestmark = pytest.mark.django_db

RULE = "DOMAIN_RULES rule 7 (places and formats): seed 000"


# --- the teaching format of an activity ----------------------------------------------------------


def test_teaching_format_is_saved_by_the_service(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: 流动课堂 (项目拉练、现场观摩) is a teaching format of an activity — seed 000."""
    activity = record(tree.branch_a, "site_visit", teaching_format=TeachingFormat.MOBILE)
    activity.refresh_from_db()
    assert activity.teaching_format == "mobile"
    assert activity.get_teaching_format_display() == "流动课堂（项目拉练、现场观摩）"


def test_teaching_format_may_be_left_blank(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: the format is optional (未填) — seed 000."""
    assert record(tree.branch_a).teaching_format == ""


def test_an_unknown_teaching_format_is_refused(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: only the listed formats are recorded — seed 000."""
    with pytest.raises(ValidationError) as excinfo:
        record(tree.branch_a, teaching_format="lecture_hall")
    assert "teaching_format" in excinfo.value.message_dict


def test_changing_the_teaching_format_is_audited(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: the format is an audited field of the activity — seed 000."""
    from partyedu.core.models import AuditLog

    activity = record(tree.branch_a)
    services.activity_update(actor=None, activity=activity, data={"teaching_format": "seminar"})
    row = AuditLog.objects.filter(object_id=str(activity.pk)).order_by("-id").first()
    assert row is not None and row.changes["teaching_format"] == ["", "seminar"]


def test_the_activity_form_records_the_teaching_format(
    client: Any, tree: Tree, secretary: Any, members: Any
) -> None:
    """DOMAIN_RULES rule 7: the secretary picks the format on the activity form — seed 000."""
    client.force_login(secretary)
    response = client.post(
        reverse("study:activity_create"),
        {
            "activity_type": "party_lecture",
            "teaching_format": "case",
            "topic": "案例教学",
            "date": "2025-03-07",
            "start_time": "14:00",
            "end_time": "16:00",
            "organization": tree.branch_a.pk,
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get(topic="案例教学")
    assert activity.teaching_format == "case"
    html = client.get(reverse("study:activity_detail", args=[activity.pk])).content.decode()
    assert 'data-testid="teaching-format"' in html and "案例式" in html


def test_the_activity_list_filters_by_teaching_format(client: Any, tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES rule 7: activities are found by format, and by "未填" — seed 000."""
    record(tree.branch_a, topic="研讨一次", teaching_format="seminar")
    record(tree.branch_a, topic="未填一次")
    client.force_login(secretary)
    url = reverse("study:activity_list")
    html = client.get(url, {"teaching_format": "seminar"}).content.decode()
    assert "研讨一次" in html and "未填一次" not in html
    html = client.get(url, {"teaching_format": FORMAT_BLANK}).content.decode()
    assert "未填一次" in html and "研讨一次" not in html


def test_the_api_reads_writes_and_filters_the_teaching_format(tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES rule 7: the study API carries the format and filters by it — seed 000."""
    client = api_client(secretary)
    response = client.post(
        "/api/v1/activities/",
        {
            "organization": tree.branch_a.pk,
            "activity_type": "theme_day",
            "teaching_format": "experience",
            "topic": "体验一次",
            "start": at(3).isoformat(),
            "end": at(3, hour=16).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["teaching_format"] == "experience"
    record(tree.branch_a, topic="讲授一次", teaching_format="lecture")
    listed = client.get("/api/v1/activities/", {"teaching_format": "experience"}).json()
    topics = [row["topic"] for row in listed["results"]]
    assert topics == ["体验一次"]
    blank = client.get("/api/v1/activities/", {"teaching_format": FORMAT_BLANK}).json()
    assert blank["results"] == []


# --- places of a 1+5+N network -------------------------------------------------------------------


def test_site_kinds_are_the_places_of_a_1_5_n_network() -> None:
    """DOMAIN_RULES rule 7: 主阵地, 教学点, 现场教学点 (the N), 其他 — 流动课堂 is no place — seed 004."""
    assert [str(label) for label in SiteKind.labels] == ["主阵地（党校）", "教学点", "现场教学点", "其他"]
    assert "classroom" not in SiteKind.values


def test_the_migration_turns_mobile_classrooms_into_field_sites(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: existing 流动课堂 places become 现场教学点, and back when reversed — seed 000."""
    migration = importlib.import_module("partyedu.study.migrations.0005_teaching_format_and_site_kinds")
    site = services.teaching_site_create(actor=None, data={"organization": tree.branch_a, "name": "快递驿站"})
    other = services.teaching_site_create(actor=None, data={"organization": tree.branch_a, "name": "党校"})
    TeachingSite.objects.filter(pk=site.pk).update(kind="classroom")
    migration.classrooms_to_field_sites(apps, None)
    site.refresh_from_db()
    other.refresh_from_db()
    assert (site.kind, other.kind) == ("field_site", "site")
    migration.field_sites_to_classrooms(apps, None)
    site.refresh_from_db()
    assert site.kind == "classroom"


# --- the statistics page -------------------------------------------------------------------------


def _stats(client: Any, org: Any, **params: Any) -> str:
    response = client.get(reverse("study:stats"), {"organization": org.pk, "year": 2025, **params})
    assert response.status_code == 200
    return response.content.decode()


def _cell(html: str, attr: str, value: str) -> str:
    marker = f'{attr}="{value}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)]


def test_statistics_count_activities_by_teaching_format(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES rule 7: formats are usable in statistics — an activities-by-format table — seed 000."""
    record(tree.branch_a, "party_lecture", teaching_format="lecture")
    record(tree.branch_a, "party_lecture", start=at(4), teaching_format="lecture")
    record(tree.group_a, "group_meeting", teaching_format="conversation")
    record(tree.branch_a, "theme_day")
    record(tree.branch_a, "party_lecture", start=at(3, year=2024), teaching_format="lecture")  # another year
    client.force_login(admin)
    html = _stats(client, tree.district_a)
    assert "共开展活动 4 次，其中填写了教学形式的 3 次" in html
    assert _cell(html, "data-format", "lecture") == "2"
    assert _cell(html, "data-format", "conversation") == "1"
    assert _cell(html, "data-format", FORMAT_BLANK) == "1"
    assert _cell(html, "data-format", "mobile") == "0"
    assert _cell(html, "data-type", "party_lecture") == "2"


def test_statistics_narrow_to_a_type_or_a_format(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES rule 7: the statistics filter by format (and by type) — seed 000."""
    record(tree.branch_a, "party_lecture", teaching_format="lecture")
    record(tree.branch_a, "theme_day", teaching_format="lecture")
    record(tree.branch_a, "theme_day", start=at(4), teaching_format="experience")
    client.force_login(admin)
    html = _stats(client, tree.district_a, activity_type="theme_day")
    assert _cell(html, "data-format", "lecture") == "1" and _cell(html, "data-format", "experience") == "1"
    html = _stats(client, tree.district_a, teaching_format="lecture")
    assert _cell(html, "data-type", "party_lecture") == "1" and _cell(html, "data-type", "theme_day") == "1"


def test_statistics_leave_out_activities_beyond_the_scope(client: Any, tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES rule 7 statistics read within the viewer's scope (STYLE: restrict) — seed 000."""
    record(tree.branch_a, "party_lecture", teaching_format="lecture")
    record(tree.branch_b, "party_lecture", teaching_format="lecture")
    client.force_login(secretary)
    html = _stats(client, tree.branch_a)
    assert _cell(html, "data-format", "lecture") == "1"


def test_statistics_page_query_count_is_pinned(
    client: Any, tree: Tree, admin: Any, django_assert_max_num_queries: Any
) -> None:
    """DOMAIN_RULES rule 7: the by-format table is one grouped query, whatever the number of activities."""
    for month in range(1, 13):
        record(tree.branch_a, "party_lecture", start=at(month), teaching_format="lecture")
        record(tree.group_a, "group_meeting", start=at(month), teaching_format="seminar")
    client.force_login(admin)
    # session, user, grants, the organisation picked, its picker's label, the figures
    with django_assert_max_num_queries(8):
        html = _stats(client, tree.district_a)
    assert _cell(html, "data-format", "lecture") == "12"


class TestStatsScope(ScopedEndpointTests):
    """活动统计: an organisation in scope shows its figures; a sibling's is refused by the picker."""

    url_name = "study:stats"
    kind = "list"

    def make_object(self, org: Any) -> Any:
        record(org, "party_lecture", teaching_format="lecture")
        return org

    def url(self, obj: Any) -> str:
        return reverse(self.url_name) + f"?organization={obj.pk}&year=2025"

    def marker(self, obj: Any) -> str:
        return f"{obj.name} 2025年：共开展活动 1 次"

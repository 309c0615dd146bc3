"""The lectures API: scope of every endpoint, filters, and rating by attendees only."""

from __future__ import annotations

from typing import Any

import pytest

from partyedu.core.testing import ScopedEndpointTests
from partyedu.lectures.models import LectureRating
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user

from .conftest import PDF, at, lecture, lecturer, link, mark, party_lecture, upload

pytestmark = pytest.mark.django_db
LECTURERS = "/api/v1/lecturers/"
LECTURES = "/api/v1/lectures/"


def results(response: Any) -> list[dict[str, Any]]:
    return response.json()["results"]


class _LecturerEndpoint(ScopedEndpointTests):
    api = True
    marker_attr = "name"

    def make_object(self, org: Any) -> Any:
        return lecturer(org, name="接口讲师")

    def listed(self, response: Any, obj: Any) -> bool:
        return any(row["id"] == obj.pk for row in results(response))


class TestLecturerListEndpoint(_LecturerEndpoint):
    url_name = "api:lecturer-list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return LECTURERS


class TestLecturerDetailEndpoint(_LecturerEndpoint):
    url_name = "api:lecturer-detail"

    def url(self, obj: Any) -> str:
        return f"{LECTURERS}{obj.pk}/"


class _LectureEndpoint(ScopedEndpointTests):
    api = True

    def make_object(self, org: Any) -> Any:
        return lecture(party_lecture(org), lecturer(org), title="接口党课")

    def listed(self, response: Any, obj: Any) -> bool:
        return any(row["id"] == obj.pk for row in results(response))


class TestLectureListEndpoint(_LectureEndpoint):
    url_name = "api:lecture-list"
    kind = "list"

    def url(self, obj: Any) -> str:
        return LECTURES


class TestLectureDetailEndpoint(_LectureEndpoint):
    url_name = "api:lecture-detail"

    def url(self, obj: Any) -> str:
        return f"{LECTURES}{obj.pk}/"


class TestLectureDetailEndpointForBranchAdmins(TestLectureDetailEndpoint):
    role = "branch_admin"


class TestRatingEndpoint(_LectureEndpoint):
    url_name = "api:lecture-rating"

    def url(self, obj: Any) -> str:
        return f"{LECTURES}{obj.pk}/rating/"


# --- lecturers -----------------------------------------------------------------------------------


def test_lecturers_are_filtered_by_tag_category_organization_and_text(tree, admin):
    a = lecturer(tree.district_a, name="周讲师", category="veteran", tags=["党史"])
    b = lecturer(tree.branch_a, name="吴讲师", category="expert", tags=["乡村振兴"], unit="农技站")
    client = api_client(admin)

    def ids(query: str) -> list[int]:
        return [row["id"] for row in results(client.get(f"{LECTURERS}?{query}"))]

    assert ids("tag=党史") == [a.pk]
    assert ids("category=expert") == [b.pk]
    assert ids(f"organization={tree.branch_a.pk}") == [b.pk]
    assert ids("q=农技") == [b.pk]
    assert ids(f"organization={tree.branch_b.pk}") == []


def test_a_lecturer_row_carries_tags_and_lectures_given(tree, admin, members):
    entry = lecturer(tree.district_a, members["zhang"], tags=["党史"], title="金牌讲师")
    lecture(party_lecture(tree.branch_a), entry)
    row = api_client(admin).get(f"{LECTURERS}{entry.pk}/").json()
    assert (row["name"], row["category"], row["tags"], row["title"], row["lecture_count"]) == (
        "张三",
        "secretary",
        ["党史"],
        "金牌讲师",
        1,
    )


def test_lecturers_are_read_only(tree, admin):
    response = api_client(admin).post(LECTURERS, {"name": "x"}, format="json")
    assert response.status_code == 405


# --- lectures ------------------------------------------------------------------------------------


def test_lectures_are_filtered_by_organization_and_year(tree, admin):
    speaker = lecturer(tree.district_a)
    now = lecture(party_lecture(tree.branch_a, at(3)), speaker)
    old = lecture(party_lecture(tree.group_a, at(3, year=2024)), speaker)
    client = api_client(admin)
    assert [r["id"] for r in results(client.get(f"{LECTURES}?year=2025"))] == [now.pk]
    assert [r["id"] for r in results(client.get(f"{LECTURES}?organization={tree.group_a.pk}"))] == [old.pk]
    assert results(client.get(f"{LECTURES}?organization={tree.branch_b.pk}")) == []


def test_a_lecture_shows_speakers_files_and_only_the_aggregate_of_ratings(tree, admin, members):
    record = lecture(
        party_lecture(tree.branch_a),
        lecturer(tree.district_a, members["zhang"]),
        files=[{"kind": "script", "file": upload("讲稿.pdf", PDF)}],
    )
    mark(record.activity, members["li"])
    from partyedu.lectures.services import lecture_rate

    lecture_rate(actor=link(members["li"]), lecture=record, score=4, comment="好")
    data = api_client(admin).get(f"{LECTURES}{record.pk}/").json()
    assert data["speakers"] == [
        {
            "lecturer": record.speakers.get().lecturer_id,
            "name": "张三",
            "category": "secretary",
            "is_cross": False,
        }
    ]
    assert data["files"][0]["name"] == "讲稿.pdf" and data["files"][0]["url"].endswith(
        f"/lectures/lectures/{record.pk}/files/{record.files.get().pk}/"
    )
    assert data["rating"] == {
        "count": 1,
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    assert "李四" not in str(data) and "好" not in str(data["rating"])


def test_a_member_lists_the_lectures_they_were_expected_at(tree, members):
    mine = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a))
    lecture(party_lecture(tree.branch_b), lecturer(tree.branch_b))
    response = api_client(link(members["li"])).get(LECTURES)
    assert [r["id"] for r in results(response)] == [mine.pk]


def test_lecture_list_query_count_is_pinned(tree, admin, django_assert_max_num_queries):
    speaker = lecturer(tree.district_a)
    for day in range(1, 21):
        lecture(
            party_lecture(tree.branch_a, at(3, day)),
            speaker,
            files=[{"kind": "script", "file": upload("a.pdf", PDF)}],
        )
    client = api_client(admin)
    # token, grants, count, rows, speakers, lecturers, files, ratings
    with django_assert_max_num_queries(9):
        response = client.get(LECTURES)
    assert len(results(response)) == 20


# --- rating --------------------------------------------------------------------------------------


@pytest.fixture
def attended(tree, members):
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.district_a, members["zhang"]))
    mark(record.activity, members["li"])
    return record


def test_an_attendee_rates_through_the_api(attended, members):
    client = api_client(link(members["li"]))
    url = f"{LECTURES}{attended.pk}/rating/"
    assert client.get(url).json()["can_rate"] is True
    response = client.post(url, {"score": 5, "comment": "受益匪浅"}, format="json")
    assert response.status_code == 201
    assert response.json()["mine"] == {"score": 5, "comment": "受益匪浅"}
    again = client.post(url, {"score": 3}, format="json")
    assert again.status_code == 200
    assert again.json()["summary"]["count"] == 1
    assert LectureRating.objects.get().score == 3


def test_a_non_attendee_is_refused_with_403(attended, members):
    mark(attended.activity, members["wang"], "absent")
    client = api_client(link(members["wang"]))
    url = f"{LECTURES}{attended.pk}/rating/"
    assert client.get(url).json()["can_rate"] is False
    response = client.post(url, {"score": 5}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有参加了本次党课的党员（出席、迟到或已确认补学）可以评价"


@pytest.mark.parametrize("score", [0, 6])
def test_a_score_out_of_range_is_a_400_on_the_field(attended, members, score):
    response = api_client(link(members["li"])).post(
        f"{LECTURES}{attended.pk}/rating/", {"score": score}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"score": ["请评1到5分"]}


def test_rating_a_lecture_out_of_reach_is_404(tree, attended):
    outsider = link(make_member(tree.branch_b, "外支部党员"))
    response = api_client(outsider).post(f"{LECTURES}{attended.pk}/rating/", {"score": 5}, format="json")
    assert response.status_code == 404


def test_a_user_without_the_lectures_role_gets_403(attended):
    response = api_client(make_user()).post(f"{LECTURES}{attended.pk}/rating/", {"score": 5}, format="json")
    assert response.status_code == 403

"""The page of a 党课 activity links to its lecture record (lectures app): “登记党课信息” before a
lecture is recorded, “党课信息” after; only for those who may change the activity, only for
activities of type 党课, and at the cost of one query."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partyedu.accounts.models import Role
from partyedu.lectures.services import lecture_record, lecturer_create
from partyedu.testsupport.factories import Tree, make_user

from .conftest import record

pytestmark = pytest.mark.django_db
LINK = 'data-testid="activity-lecture"'


def page(client: Any, activity: Any) -> str:
    response = client.get(reverse("study:activity_detail", args=[activity.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_party_lecture_without_a_lecture_offers_to_record_it(client: Any, tree: Tree, admin: Any) -> None:
    activity = record(tree.branch_a, "party_lecture")
    client.force_login(admin)
    html = page(client, activity)
    url = reverse("lectures:activity_lecture", args=[activity.pk])
    assert LINK in html and f'href="{url}"' in html
    assert "登记党课信息" in html
    assert client.get(url).status_code == 200


def test_a_recorded_lecture_is_linked_as_its_information(client: Any, tree: Tree, admin: Any) -> None:
    activity = record(tree.branch_a, "party_lecture")
    speaker = lecturer_create(
        actor=None, data={"organization": tree.branch_a, "name": "党校教师", "category": "party_school"}
    )
    lecture_record(actor=None, activity=activity, data={"title": "学习党章", "lecturers": [speaker.pk]})
    client.force_login(admin)
    html = page(client, activity)
    assert LINK in html and "党课信息" in html and "登记党课信息" not in html


def test_other_activity_types_have_no_lecture_link(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    assert LINK not in page(client, record(tree.branch_a, "theme_day"))


def test_the_link_follows_the_edit_button(client: Any, tree: Tree, secretary: Any) -> None:
    """Shown with 编辑 to those who may change the activity; a reader who may only view it sees
    neither."""
    activity = record(tree.branch_a, "party_lecture")
    client.force_login(secretary)
    html = page(client, activity)
    assert LINK in html and reverse("study:activity_edit", args=[activity.pk]) in html

    Role.objects.filter(code="inspector").update(actions=["study.view"])
    client.force_login(make_user(role="inspector", org=tree.district_a))
    html = page(client, activity)
    assert LINK not in html and reverse("study:activity_edit", args=[activity.pk]) not in html


def test_the_link_costs_one_query(client: Any, tree: Tree, admin: Any) -> None:
    theme_day = record(tree.branch_a, "theme_day")
    party_lecture = record(tree.branch_a, "party_lecture")
    client.force_login(admin)
    page(client, theme_day)  # warm the session
    with CaptureQueriesContext(connection) as plain:
        page(client, theme_day)
    with CaptureQueriesContext(connection) as with_link:
        page(client, party_lecture)
    assert len(with_link) == len(plain) + 1

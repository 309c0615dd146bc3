"""The study part of a meeting (``Activity.study_minutes``): what the recorder enters for the
types that credit only their study part, where the form shows it, how the activity page says what
the activity credits, and the API field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partyedu.core.models import AuditLog
from partyedu.learning.models import MemberYearHours
from partyedu.learning.services import activity_credit_rule_set
from partyedu.study.models import Activity
from partyedu.study.services import activity_update, attendance_mark
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import Tree

from .conftest import START, record

pytestmark = pytest.mark.django_db


def credited(member: Any) -> Decimal:
    row = MemberYearHours.objects.filter(member=member, year=START.year).first()
    return row.total if row is not None else Decimal("0")


def detail(client: Any, activity: Activity) -> str:
    html = client.get(reverse("study:activity_detail", args=[activity.pk])).content.decode()
    return html.split('data-testid="credit"')[1].split("</dd>")[0]


# --- the service ----------------------------------------------------------------------------------


def test_the_study_minutes_are_recorded_and_audited(tree: Tree, secretary: Any) -> None:
    activity = record(tree.branch_a, "branch_assembly", study_minutes=45)
    assert activity.study_minutes == 45
    log = AuditLog.objects.filter(object_type="study.activity").latest("id")
    assert log.changes["after"]["study_minutes"] == 45


def test_study_minutes_longer_than_the_activity_are_refused(tree: Tree) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the study part is part of the meeting."""
    with pytest.raises(ValidationError) as exc:
        record(tree.branch_a, "branch_assembly", study_minutes=121)
    assert exc.value.message_dict["study_minutes"] == ["学习时长不能超过活动时长"]


def test_negative_study_minutes_are_refused(tree: Tree) -> None:
    with pytest.raises(ValidationError) as exc:
        record(tree.branch_a, "branch_assembly", study_minutes=-5)
    assert "study_minutes" in exc.value.message_dict


def test_changing_the_study_minutes_resyncs_the_hours(
    tree: Tree, members: dict, admin: Any, hours_sync: Any
) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": 支部党员大会 credit only the study part."""
    activity = record(tree.branch_a, "branch_assembly", study_minutes=30)
    attendance_mark(
        actor=admin, activity=activity, records=[{"member": members["zhang"].pk, "status": "present"}]
    )
    assert credited(members["zhang"]) == Decimal("0.5")
    hours_sync.clear()
    activity_update(actor=admin, activity=activity, data={"study_minutes": 60})
    assert hours_sync.ids == set(activity.attendances.values_list("pk", flat=True))
    assert credited(members["zhang"]) == Decimal("1")


# --- the form -------------------------------------------------------------------------------------


def test_the_form_offers_the_field_for_the_study_part_types(client: Any, tree: Tree, secretary: Any) -> None:
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    assert 'data-study-part="branch_assembly group_meeting"' in html
    assert 'name="study_minutes"' in html


def test_the_form_follows_the_organisations_table(client: Any, tree: Tree, secretary: Any) -> None:
    """DOMAIN_RULES 学时: a subtree's own table decides which types ask for the study part."""
    activity_credit_rule_set(
        actor=None, organization=tree.district_a, activity_type="branch_committee", mode="study_part"
    )
    activity_credit_rule_set(
        actor=None, organization=tree.district_a, activity_type="group_meeting", mode="full"
    )
    client.force_login(secretary)
    html = client.get(reverse("study:activity_create")).content.decode()
    assert 'data-study-part="branch_assembly branch_committee"' in html


def test_recording_a_meeting_with_its_study_part(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    client.force_login(secretary)
    data = {
        "activity_type": "branch_assembly",
        "topic": "学习党章",
        "date": "2025-03-07",
        "start_time": "14:30",
        "end_time": "16:00",
        "organization": tree.branch_a.pk,
        "study_minutes": "40",
    }
    response = client.post(reverse("study:activity_create"), data)
    assert response.status_code == 302, response.context["form"].errors
    assert Activity.objects.get().study_minutes == 40


def test_the_edit_form_shows_the_recorded_minutes(client: Any, tree: Tree, admin: Any) -> None:
    activity = record(tree.branch_a, "branch_assembly", study_minutes=50)
    client.force_login(admin)
    html = client.get(reverse("study:activity_edit", args=[activity.pk])).content.decode()
    assert 'name="study_minutes" value="50"' in html


# --- the activity page ----------------------------------------------------------------------------


def test_the_page_says_a_committee_meeting_credits_nothing(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": 支委会 — no."""
    client.force_login(admin)
    assert "按类型不计学时" in detail(client, record(tree.branch_a, "branch_committee"))


def test_the_page_gives_the_study_part_of_an_assembly(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    assert "只计学习部分：60分钟" in detail(
        client, record(tree.branch_a, "branch_assembly", study_minutes=60)
    )
    assert "未填学习时长，不计学时" in detail(client, record(tree.branch_a, "group_meeting"))


def test_the_page_says_a_lecture_is_converted_by_time(client: Any, tree: Tree, admin: Any) -> None:
    client.force_login(admin)
    assert "按时长折算" in detail(client, record(tree.branch_a, "party_lecture"))


def test_the_page_gives_the_activitys_own_hours_first(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 "Activities that credit hours": the per-activity override wins."""
    client.force_login(admin)
    activity = record(tree.branch_a, "branch_committee", credited_hours=Decimal("1.5"))
    assert "1.5 学时（本活动单独认定）" in detail(client, activity)


# --- the API --------------------------------------------------------------------------------------


def test_the_api_reads_and_writes_the_study_minutes(tree: Tree, secretary: Any) -> None:
    payload = {
        "organization": tree.branch_a.pk,
        "activity_type": "branch_assembly",
        "topic": "学习贯彻全会精神",
        "start": START.isoformat(),
        "end": (START + timedelta(hours=2)).isoformat(),
        "study_minutes": 50,
    }
    response = api_client(secretary).post("/api/v1/activities/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["study_minutes"] == 50
    assert Activity.objects.get().study_minutes == 50

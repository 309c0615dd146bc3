from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from partyedu.learning.models import DailyOnlineStudy, HourRequirement, LearningHourEntry, MemberYearHours
from partyedu.learning.services import (
    column_create,
    merge_ranges,
    resource_create,
    resource_heartbeat,
    resource_publish,
    resource_unpublish,
    resource_update,
    uncovered,
)
from partyedu.learning.services.progress import _resources_for_member
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_member, make_user

from .factories import assert_ledger_equals_rebuild, local

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
MP3 = b"ID3\x04\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def admin(tree):
    return make_user("admin_a", role="org_admin", org=tree.district_a)


def upload(name, content):
    return SimpleUploadedFile(name, content)


def create(admin, org, kind="video", file=None, **extra):
    data = {"title": "二十届三中全会精神解读", "duration_seconds": 600, **extra}
    return resource_create(actor=admin, organization=org, kind=kind, file=file, **data)


# --- upload ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "content"),
    [
        ("video", "a.mp4", MP4),
        ("video", "a.webm", WEBM),
        ("audio", "a.mp3", MP3),
        ("audio", "a.m4a", MP4),
        ("courseware", "a.pdf", PDF),
    ],
)
def test_accepted_uploads(tree, admin, kind, name, content):
    resource = create(admin, tree.branch_a, kind, upload(name, content))
    assert resource.file.name.endswith(name[-4:])
    assert not resource.is_published


@pytest.mark.parametrize(
    ("kind", "name", "content"),
    [
        ("video", "a.mp4", PNG),  # renamed image
        ("video", "a.avi", MP4),  # wrong extension
        ("audio", "a.mp3", PDF),
        ("courseware", "a.pdf", MP4),
        ("courseware", "a.pdf", b""),
    ],
)
def test_refused_uploads(tree, admin, kind, name, content):
    with pytest.raises(ValidationError) as exc:
        create(admin, tree.branch_a, kind, upload(name, content))
    assert "file" in exc.value.message_dict


def test_article_needs_a_body_and_no_file(tree, admin):
    with pytest.raises(ValidationError) as exc:
        create(admin, tree.branch_a, "article")
    assert "body" in exc.value.message_dict
    with pytest.raises(ValidationError):
        create(admin, tree.branch_a, "article", upload("a.pdf", PDF), body="x")
    assert create(admin, tree.branch_a, "article", body="正文").kind == "article"


def test_media_needs_a_file(tree, admin):
    with pytest.raises(ValidationError) as exc:
        create(admin, tree.branch_a, "video")
    assert "file" in exc.value.message_dict


def test_publishing_outside_scope_is_refused(tree, admin):
    with pytest.raises(PermissionDenied):
        create(admin, tree.branch_b, "article", body="正文")


def test_column_must_belong_to_the_org_or_above(tree, admin):
    column = column_create(actor=admin, organization=tree.branch_a, name="教育学习园地")
    with pytest.raises(ValidationError) as exc:
        create(admin, tree.district_a, "article", body="x", column=column)
    assert "column" in exc.value.message_dict
    assert create(admin, tree.group_a, "article", body="x", column=column).column == column


# --- targeting ------------------------------------------------------------------------------------


def test_resources_for_member_are_published_by_the_org_or_above(tree, admin):
    member = make_member(tree.group_a)
    above = create(admin, tree.district_a, "article", body="x")
    own = create(admin, tree.group_a, "article", body="x")
    sibling = create(admin, tree.branch_a, "article", body="x")
    for resource in (above, own, sibling):
        resource_publish(actor=admin, resource=resource)
    elsewhere = create(make_user(role="org_admin", org=tree.district_b), tree.branch_b, "article", body="x")
    resource_publish(actor=None, resource=elsewhere)
    assert set(_resources_for_member(member)) == {above, own, sibling}
    resource_unpublish(actor=admin, resource=own)
    assert set(_resources_for_member(member)) == {above, sibling}


# --- heartbeats -----------------------------------------------------------------------------------


@pytest.fixture
def learner(tree):
    user = make_user("learner", role="member", org=tree.branch_a)
    member = make_member(tree.branch_a, "学员")
    Member.objects.filter(pk=member.pk).update(user=user)
    return user


@pytest.fixture
def video(tree, admin):
    resource = create(admin, tree.branch_a, "video", upload("a.mp4", MP4), duration_seconds=600)
    return resource_publish(actor=admin, resource=resource)


T0 = local(2026, 4, 2, 20)


def beat(user, resource, start, end, seconds_later):
    return resource_heartbeat(
        user=user, resource=resource, start=start, end=end, at=T0 + timedelta(seconds=seconds_later)
    )


def test_ranges_helpers():
    assert merge_ranges([[5, 10], [0, 3], [3, 4], [9, 12]]) == [[0, 4], [5, 12]]
    assert uncovered(0, 20, [[2, 5], [8, 10]]) == [[0, 2], [5, 8], [10, 20]]
    assert uncovered(3, 4, [[2, 5]]) == []


def test_played_time_is_credited(tree, learner, video):
    beat(learner, video, 0, 0, 0)
    result = beat(learner, video, 0, 15, 15)
    assert result.credited_seconds == 15
    assert result.progress.played_seconds == 15
    assert result.progress.ranges == [[0, 15]]


def test_range_is_clamped_to_the_media_length(tree, learner, video):
    beat(learner, video, 0, 0, 0)
    result = beat(learner, video, -30, 10_000, 10_000)
    assert result.progress.played_seconds == 600
    assert result.progress.ranges == [[0, 600]]


def test_a_jump_without_play_time_counts_nothing(tree, learner, video):
    beat(learner, video, 0, 0, 0)
    result = beat(learner, video, 0, 590, 1)  # dragged to the end one second later
    assert result.credited_seconds <= 3
    assert result.progress.completed_at is None


def test_an_idle_page_earns_nothing(tree, learner, video):
    beat(learner, video, 0, 0, 0)
    beat(learner, video, 0, 0, 3600)  # an hour open, nothing played
    result = beat(learner, video, 0, 30, 3601)  # then 30 s claimed after 1 s
    assert result.credited_seconds <= 3


def test_replayed_seconds_count_once(tree, learner, video):
    beat(learner, video, 0, 0, 0)
    beat(learner, video, 0, 60, 60)
    result = beat(learner, video, 30, 90, 120)
    assert result.credited_seconds == 30
    assert result.progress.played_seconds == 90


def test_first_heartbeat_only_starts_the_clock(tree, learner, video):
    result = beat(learner, video, 0, 60, 0)
    assert result.credited_seconds <= 2


def test_daily_cap_limits_counted_seconds(tree, learner, video):
    HourRequirement.objects.create(organization=tree.branch_a, online_daily_cap_minutes=5)
    beat(learner, video, 0, 0, 0)
    result = beat(learner, video, 0, 400, 400)
    assert result.credited_seconds == 300
    assert result.daily_seconds == 300
    assert result.progress.ranges == [[0, 300]]  # the rest can be studied again tomorrow
    more = beat(learner, video, 400, 500, 500)
    assert more.credited_seconds == 0
    # the next day the cap starts again
    next_day = resource_heartbeat(user=learner, resource=video, start=300, end=300, at=T0 + timedelta(days=1))
    assert next_day.daily_seconds == 0
    later = resource_heartbeat(
        user=learner, resource=video, start=300, end=360, at=T0 + timedelta(days=1, seconds=60)
    )
    assert later.credited_seconds == 60
    assert DailyOnlineStudy.objects.count() == 2


def test_completion_credits_online_hours_once(tree, learner, video):
    member = Member.objects.get(user=learner)
    beat(learner, video, 0, 0, 0)
    for i in range(1, 11):  # 10 × 57 s = 570 s = 95 %
        result = beat(learner, video, (i - 1) * 57, i * 57, i * 57)
    assert result.just_completed
    assert result.progress.completed_at is not None
    entry = LearningHourEntry.objects.get(member=member)
    assert (entry.kind, entry.hours, entry.source_type, entry.source_id) == (
        "online",
        Decimal("1"),
        "resource",
        result.progress.pk,
    )
    assert entry.description == "2026-04-02 网上学习：二十届三中全会精神解读（视频）（已学完）"
    # playing on, and again, credits nothing more
    beat(learner, video, 570, 600, 700)
    beat(learner, video, 0, 600, 2000)
    assert LearningHourEntry.objects.count() == 1
    assert MemberYearHours.objects.get(member=member, year=2026).online == Decimal("1")
    assert_ledger_equals_rebuild()


def test_credit_hours_change_recredits_completions(tree, admin, learner, video):
    beat(learner, video, 0, 0, 0)
    beat(learner, video, 0, 600, 600)
    resource_update(actor=admin, resource=video, data={"credit_hours": Decimal("2")})
    member = Member.objects.get(user=learner)
    assert MemberYearHours.objects.get(member=member, year=2026).online == Decimal("2")
    assert LearningHourEntry.objects.filter(member=member).count() == 2
    assert_ledger_equals_rebuild()


def test_heartbeat_for_a_resource_not_published_for_the_member_is_404(tree, learner, admin):
    draft = create(admin, tree.branch_a, "article", body="x")
    with pytest.raises(Http404):
        resource_heartbeat(user=learner, resource=draft, start=0, end=1)


def test_heartbeat_needs_a_member_record(tree, admin, video):
    with pytest.raises(PermissionDenied):
        resource_heartbeat(user=admin, resource=video, start=0, end=1)


@pytest.mark.parametrize(("start", "end"), [(5, 1), ("nan", 1), (0, "inf"), (None, 1)])
def test_heartbeat_refuses_bad_positions(tree, learner, video, start, end):
    with pytest.raises(ValidationError):
        resource_heartbeat(user=learner, resource=video, start=start, end=end)

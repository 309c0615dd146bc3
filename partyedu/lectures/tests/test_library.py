"""The lecture library (播党课): publishing makes a published online resource whose study credits
网络学习 hours through the learning services; showing (展播) follows the subtree and the dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.services import resource_create, resource_heartbeat
from partyedu.lectures.models import LibraryItem
from partyedu.lectures.selectors import library_item_list, library_series_list, library_showing
from partyedu.lectures.services import (
    library_item_update,
    library_item_withdraw,
    library_publish,
    library_series_create,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import MP4, PDF, TZ, lecture, lecturer, link, party_lecture, upload

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 4, 2, 20, 0, tzinfo=TZ)


def publish(actor, org, **extra):
    extra.setdefault("title", "新时代党员家风建设")
    extra.setdefault("file", upload("家风.mp4", MP4))
    extra.setdefault("duration_seconds", 600)
    return library_publish(actor=actor, organization=org, **extra)


def test_publishing_makes_a_published_resource_of_the_target_subtree(tree, admin, members):
    series = library_series_create(actor=admin, data={"organization": tree.district_a, "title": "精品党课"})
    speaker = lecturer(tree.district_a, members["zhang"])
    given = lecture(party_lecture(tree.branch_a), speaker)
    item = publish(
        admin,
        tree.district_a,
        series=series.pk,
        lecturer=speaker.pk,
        lecture=given.pk,
        honour="2025年全区优秀党课",
        credit_hours=Decimal("1.5"),
    )
    resource = item.resource
    assert (resource.organization, resource.kind, resource.is_published) == (tree.district_a, "video", True)
    assert resource.credit_hours == Decimal("1.5")
    assert (item.series, item.lecturer, item.lecture, item.honour) == (
        series,
        speaker,
        given,
        "2025年全区优秀党课",
    )


def test_studying_a_library_lecture_credits_online_hours(tree, admin, members):
    item = publish(admin, tree.district_a)
    learner = link(members["li"])
    resource_heartbeat(user=learner, resource=item.resource, start=0, end=0, at=T0)
    for i in range(1, 11):  # 10 × 57 s = 570 s = 95 % of 600 s
        result = resource_heartbeat(
            user=learner,
            resource=item.resource,
            start=(i - 1) * 57,
            end=i * 57,
            at=T0 + timedelta(seconds=i * 57),
        )
    assert result.just_completed
    entry = LearningHourEntry.objects.get(member=members["li"])
    assert (entry.kind, entry.hours, entry.source_type) == ("online", Decimal("1"), "resource")
    assert MemberYearHours.objects.get(member=members["li"], year=2026).online == Decimal("1")


def test_an_existing_resource_can_be_published_to_the_library(tree, admin):
    resource = resource_create(
        actor=admin,
        organization=tree.district_a,
        title="党课讲稿",
        kind="courseware",
        file=upload("a.pdf", PDF),
        duration_seconds=300,
    )
    item = library_publish(actor=admin, organization=tree.district_a, resource=resource.pk)
    resource.refresh_from_db()
    assert item.resource == resource and resource.is_published


def test_a_resource_of_another_organisation_or_already_in_the_library_is_refused(tree, admin):
    resource = resource_create(
        actor=admin,
        organization=tree.branch_a,
        title="党课",
        kind="courseware",
        file=upload("a.pdf", PDF),
        duration_seconds=300,
    )
    with pytest.raises(ValidationError) as exc:
        library_publish(actor=admin, organization=tree.district_a, resource=resource.pk)
    assert "resource" in exc.value.message_dict
    library_publish(actor=admin, organization=tree.branch_a, resource=resource.pk)
    with pytest.raises(ValidationError) as exc:
        library_publish(actor=admin, organization=tree.branch_a, resource=resource.pk)
    assert exc.value.message_dict["resource"] == ["该学习资源已在党课库中"]


def test_a_file_or_a_resource_is_needed_but_not_both(tree, admin):
    with pytest.raises(ValidationError) as exc:
        library_publish(actor=admin, organization=tree.district_a, title="x")
    assert exc.value.message_dict["file"] == ["请上传党课视频，或选择已有的学习资源（二者选一）"]


def test_a_file_of_an_unknown_format_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        publish(admin, tree.district_a, file=upload("a.avi", MP4))
    assert exc.value.message_dict["file"] == ["党课只支持 MP4、WebM 视频，MP3、M4A 音频或 PDF 课件"]
    assert not LibraryItem.objects.exists()


def test_the_showing_must_end_after_it_starts(tree, admin):
    with pytest.raises(ValidationError) as exc:
        publish(admin, tree.district_a, show_from=date(2026, 5, 1), show_until=date(2026, 4, 1))
    assert exc.value.message_dict["show_until"] == ["展播结束日期不能早于开始日期"]


def test_publishing_outside_scope_is_refused(tree, admin):
    with pytest.raises(PermissionDenied):
        publish(admin, tree.district_b)


def test_a_series_of_a_sibling_is_refused(tree, admin):
    other = library_series_create(actor=None, data={"organization": tree.district_b, "title": "乙区系列"})
    with pytest.raises(ValidationError) as exc:
        publish(admin, tree.district_a, series=other.pk)
    assert exc.value.message_dict["series"] == ["党课系列不存在或不在您的管理范围内"]


def test_showing_follows_the_subtree_the_dates_and_groups_by_series(tree, admin, members):
    today = date(2026, 4, 10)
    series = library_series_create(actor=admin, data={"organization": tree.district_a, "title": "精品党课"})
    in_series = publish(admin, tree.district_a, title="系列一讲", series=series.pk)
    alone = publish(
        admin, tree.branch_a, title="支部一讲", show_from=date(2026, 4, 1), show_until=date(2026, 4, 30)
    )
    publish(admin, tree.branch_a, title="已结束", show_until=date(2026, 4, 1))
    publish(admin, tree.branch_a, title="未开始", show_from=date(2026, 5, 1))
    publish(make_user(role="org_admin", org=tree.district_b), tree.district_b, title="乙区的")
    groups = library_showing(user=link(members["li"]), member=members["li"], today=today)
    assert [(g.series, [i.resource.title for i in g.items]) for g in groups] == [
        (series, ["系列一讲"]),
        (None, ["支部一讲"]),
    ]
    assert in_series.pk and alone.pk
    assert (
        library_showing(
            user=link(other := make_member(tree.branch_b, "乙支部党员")), member=other, today=today
        )[0]
        .items[0]
        .resource.title
        == "乙区的"
    )


def test_a_withdrawn_item_is_no_longer_shown(tree, admin, members):
    item = publish(admin, tree.district_a)
    library_item_withdraw(actor=admin, item=item)
    assert library_showing(user=link(members["li"]), member=members["li"]) == []
    item.resource.refresh_from_db()
    assert not item.resource.is_published


def test_an_item_is_updated_and_listed_in_scope(tree, admin):
    item = publish(admin, tree.district_a)
    series = library_series_create(actor=admin, data={"organization": tree.district_a, "title": "系列"})
    library_item_update(
        actor=admin, item=item, data={"series": series.pk, "honour": "优秀党课", "sort_order": 2}
    )
    item.refresh_from_db()
    assert (item.series, item.honour, item.sort_order) == (series, "优秀党课", 2)
    assert list(library_item_list(user=admin)) == [item]
    assert not library_item_list(user=make_user(role="org_admin", org=tree.district_b)).exists()
    assert list(library_series_list(user=make_user(role="branch_admin", org=tree.branch_a))) == [series]

"""The lecturer pool: members and outside people, tags, scope, search and the derived record."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.lectures.models import ExpertiseTag, Lecturer
from partyedu.lectures.selectors import lecturer_choices, lecturer_get, lecturer_list, lecturer_record
from partyedu.lectures.services import (
    lecture_rate,
    lecturer_activate,
    lecturer_create,
    lecturer_deactivate,
    lecturer_update,
)
from partyedu.testsupport.factories import make_member, make_user

from .conftest import at, lecture, lecturer, link, mark, party_lecture

pytestmark = pytest.mark.django_db


def test_a_member_lecturer_takes_the_members_name_and_category(tree, admin, members):
    entry = lecturer_create(
        actor=admin, data={"organization": tree.district_a, "member": members["zhang"].pk, "name": "别名"}
    )
    assert (entry.name, entry.category, entry.member) == ("张三", "secretary", members["zhang"])


def test_a_leader_is_categorised_as_a_leading_cadre(tree, admin):
    cadre = make_member(tree.branch_a, "钱书记", categories=["secretary", "leader"])
    entry = lecturer_create(actor=admin, data={"organization": tree.district_a, "member": cadre})
    assert entry.category == "leader"


def test_an_outside_lecturer_needs_a_name(tree, admin):
    with pytest.raises(ValidationError) as exc:
        lecturer_create(actor=admin, data={"organization": tree.district_a, "category": "university"})
    assert exc.value.message_dict["name"] == ["请填写讲师姓名，或选择对应的党员"]


def test_an_outside_lecturer_is_recorded_with_tags_and_audited(tree, admin):
    entry = lecturer_create(
        actor=admin,
        data={
            "organization": tree.district_a,
            "name": "孙教授",
            "category": "university",
            "unit": "市委党校",
            "title": "金牌讲师",
            "tags": ["党史", "乡村振兴", "党史"],
        },
    )
    assert sorted(entry.tags.values_list("name", flat=True)) == ["乡村振兴", "党史"]
    log = AuditLog.objects.get(object_type="lectures.lecturer", object_id=str(entry.pk))
    assert log.changes["after"]["title"] == "金牌讲师"


def test_tags_are_shared_by_name(tree, admin):
    lecturer_create(actor=admin, data={"organization": tree.district_a, "name": "甲", "tags": ["廉政"]})
    lecturer_create(actor=admin, data={"organization": tree.branch_a, "name": "乙", "tags": ["廉政"]})
    assert ExpertiseTag.objects.filter(name="廉政").count() == 1


def test_a_member_is_in_one_pool_once(tree, admin, members):
    lecturer_create(actor=admin, data={"organization": tree.district_a, "member": members["li"]})
    with pytest.raises(ValidationError) as exc:
        lecturer_create(actor=admin, data={"organization": tree.district_a, "member": members["li"]})
    assert exc.value.message_dict["member"] == ["李四已在甲区委的师资库中"]


def test_a_pool_outside_the_actors_scope_is_refused(tree, admin):
    with pytest.raises(PermissionDenied):
        lecturer_create(actor=admin, data={"organization": tree.district_b, "name": "某人"})


def test_a_member_outside_the_actors_scope_is_answered_like_an_unknown_one(tree, admin, members):
    with pytest.raises(ValidationError) as exc:
        lecturer_create(actor=admin, data={"organization": tree.district_a, "member": members["zhao"].pk})
    assert exc.value.message_dict["member"] == ["党员不存在或不在您的管理范围内"]


def test_the_pool_and_member_of_a_lecturer_are_fixed(tree, admin, members):
    entry = lecturer(tree.district_a, members["li"])
    with pytest.raises(ValidationError) as exc:
        lecturer_update(actor=admin, lecturer=entry, data={"organization": tree.branch_a})
    assert "organization" in exc.value.message_dict
    with pytest.raises(ValidationError):
        lecturer_update(actor=admin, lecturer=entry, data={"member": members["zhang"].pk})


def test_update_changes_title_and_tags(tree, admin):
    entry = lecturer(tree.district_a, tags=["党史"])
    lecturer_update(actor=admin, lecturer=entry, data={"title": "金牌讲师", "tags": ["党章"]})
    entry.refresh_from_db()
    assert entry.title == "金牌讲师"
    assert list(entry.tags.values_list("name", flat=True)) == ["党章"]
    log = AuditLog.objects.filter(object_type="lectures.lecturer", action="update").get()
    assert log.changes["tags"] == [["党史"], ["党章"]]


def test_deactivated_lecturers_leave_the_list_and_can_come_back(tree, admin):
    entry = lecturer(tree.district_a, name="离库讲师")
    lecturer_deactivate(actor=admin, lecturer=entry)
    assert entry not in lecturer_list(user=admin)
    assert entry in lecturer_list(user=admin, filters={"include_inactive": True})
    lecturer_activate(actor=admin, lecturer=entry)
    assert entry in lecturer_list(user=admin)


def test_lecturer_list_searches_by_tag_category_name_and_subtree(tree, admin):
    a = lecturer(tree.district_a, name="周讲师", category="veteran", tags=["党史"])
    b = lecturer(tree.branch_a, name="吴讲师", category="expert", tags=["乡村振兴"], unit="农技站")
    assert list(lecturer_list(user=admin, filters={"tag": "党史"})) == [a]
    tag = ExpertiseTag.objects.get(name="乡村振兴")
    assert list(lecturer_list(user=admin, filters={"tag": str(tag.pk)})) == [b]
    assert list(lecturer_list(user=admin, filters={"category": "veteran"})) == [a]
    assert list(lecturer_list(user=admin, filters={"q": "农技"})) == [b]
    assert list(lecturer_list(user=admin, filters={"organization": tree.branch_a})) == [b]


def test_lecturer_list_may_include_the_pools_above(tree, secretary):
    city = lecturer(tree.root, name="市级讲师")
    own = lecturer(tree.branch_a, name="支部讲师")
    lecturer(tree.branch_b, name="乙支部讲师")
    assert list(lecturer_list(user=secretary)) == [own]
    assert list(lecturer_list(user=secretary, filters={"include_above": True})) == [city, own]


def test_lecturer_list_is_scoped(tree, admin):
    lecturer(tree.branch_b, name="乙区讲师")
    assert not lecturer_list(user=admin).exists()


def test_a_member_lecturer_sees_their_own_entry(tree, members):
    entry = lecturer(tree.district_a, members["li"])
    user = link(members["li"], role="lecturer")
    assert list(lecturer_list(user=user)) == [entry]


def test_pools_above_are_offered_below_but_not_siblings(tree, secretary):
    city = lecturer(tree.root, name="市级讲师")
    district = lecturer(tree.district_a, name="区级讲师")
    own = lecturer(tree.branch_a, name="支部讲师")
    sibling = lecturer(tree.branch_b, name="乙支部讲师")
    offered = set(lecturer_choices(user=secretary, organization=tree.branch_a))
    assert {city, district, own} <= offered
    assert sibling not in offered
    assert lecturer_get(user=secretary, pk=city.pk) == city


def test_record_counts_lectures_per_year_and_ratings(tree, members):
    entry = lecturer(tree.district_a, members["zhang"])
    first = lecture(party_lecture(tree.branch_a, at(3)), entry)
    lecture(party_lecture(tree.branch_b, at(5)), entry)  # a cross lecture
    lecture(party_lecture(tree.branch_a, at(4, year=2024)), entry)
    mark(first.activity, members["li"])
    lecture_rate(actor=link(members["li"]), lecture=first, score=4)
    record = lecturer_record(user=make_user(role="org_admin", org=tree.root), lecturer=entry)
    assert [(y.year, y.lectures, y.cross) for y in record.years] == [(2025, 2, 1), (2024, 1, 0)]
    assert record.total == 3
    assert (record.ratings.count, record.ratings.average) == (1, 4.0)
    assert len(record.lectures) == 3
    assert record.awards == []


def test_record_lists_only_lectures_the_viewer_may_see(tree, admin, members):
    entry = lecturer(tree.root, name="市级讲师")
    lecture(party_lecture(tree.branch_a), entry)
    lecture(party_lecture(tree.branch_b), entry)
    record = lecturer_record(user=admin, lecturer=entry)
    assert record.total == 2
    assert [lec.activity.organization for lec in record.lectures] == [tree.branch_a]


def test_lecturer_get_of_a_sibling_pool_is_404(tree, admin):
    from django.http import Http404

    other = lecturer(tree.branch_b)
    with pytest.raises(Http404):
        lecturer_get(user=admin, pk=other.pk)
    assert Lecturer.objects.count() == 1

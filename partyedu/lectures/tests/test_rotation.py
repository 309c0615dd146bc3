"""The "支部党课大家讲" rotation: fair, deterministic, exempt members left out by default."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.core.models import AuditLog
from partyedu.lectures.models import RotationSlot
from partyedu.lectures.selectors import my_rotation_slots, rotation_upcoming
from partyedu.lectures.services import rotation_generate, rotation_regenerate, rotation_slot_replace
from partyedu.testsupport.factories import make_member, make_user

from .conftest import lecture, lecturer, link, party_lecture

pytestmark = pytest.mark.django_db
MONDAY = date(2025, 3, 3)


def generate(actor, org, weeks, topics=("党章",), start=MONDAY, **extra):
    return rotation_generate(
        actor=actor,
        organization=org,
        title="大家讲",
        start_date=start,
        weeks=weeks,
        topics=list(topics),
        **extra,
    )


def plan(rotation):
    return [(s.date, s.topic, s.member.name) for s in rotation.slots.order_by("date")]


def test_members_who_lectured_least_go_first_ties_by_name(tree, secretary, members):
    """Hand check: 李四 has never lectured (0); 张三 gave a lecture (1); 王五 had a week of an
    earlier rotation (1). 张 (U+5F20) sorts before 王 (U+738B). So: 李四, 张三, 王五, then again."""
    lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a, members["zhang"]))
    generate(secretary, tree.branch_a, 1, members=[members["wang"].pk], start=MONDAY - timedelta(weeks=4))
    rotation = generate(secretary, tree.branch_a, 5, topics=["党章", "党史"])
    week = timedelta(weeks=1)
    assert plan(rotation) == [
        (MONDAY, "党章", "李四"),
        (MONDAY + week, "党史", "张三"),
        (MONDAY + 2 * week, "党章", "王五"),
        (MONDAY + 3 * week, "党史", "李四"),
        (MONDAY + 4 * week, "党章", "张三"),
    ]


def test_nobody_lectures_twice_before_everyone_once(tree, secretary, members):
    for i in range(4):
        make_member(tree.branch_a, f"新党员{i}")
    lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a, members["li"]))
    rotation = generate(secretary, tree.branch_a, 12)
    names = [name for _d, _t, name in plan(rotation)]
    pool = len(set(names))
    assert pool == 7  # 张三, 李四, 王五 and four new members
    assert len(set(names[:pool])) == pool
    assert names[pool:] == names[: len(names) - pool]  # the second round keeps the order
    assert names[pool - 1] == "李四"  # the only one who had lectured goes last


def test_generation_is_deterministic(tree, secretary, members):
    first = [name for *_x, name in plan(generate(secretary, tree.branch_a, 3))]
    RotationSlot.objects.all().delete()
    assert [name for *_x, name in plan(generate(secretary, tree.branch_a, 3))] == first


def test_exempt_and_non_party_members_are_left_out_by_default(tree, secretary, members):
    make_member(tree.branch_a, "孙老", is_exempt=True, exempt_reason="年老体弱")
    make_member(tree.branch_a, "积极分子", status="activist")
    names = {name for *_x, name in plan(generate(secretary, tree.branch_a, 6))}
    assert names == {"张三", "李四", "王五"}
    names = {name for *_x, name in plan(generate(secretary, tree.branch_a, 8, include_exempt=True))}
    assert "孙老" in names and "积极分子" not in names


def test_a_given_list_limits_the_pool(tree, secretary, members):
    rotation = generate(secretary, tree.branch_a, 4, members=[members["li"].pk, members["wang"].pk])
    assert {name for *_x, name in plan(rotation)} == {"李四", "王五"}


def test_a_member_outside_the_branch_is_refused(tree, admin, members):
    with pytest.raises(ValidationError) as exc:
        generate(admin, tree.branch_a, 2, members=[members["zhao"].pk])
    assert exc.value.message_dict["members"] == [
        f"以下党员不存在、已离册或不在本组织及您的管理范围内：ID {members['zhao'].pk}"
    ]


@pytest.mark.parametrize(
    ("weeks", "topics", "field", "message"),
    [
        (0, ["党章"], "weeks", "周数应在1到52之间"),
        (53, ["党章"], "weeks", "周数应在1到52之间"),
        (2, [], "topics", "请至少填写一个主题"),
        (2, ["a", "b", "c"], "topics", "主题有3个，多于周数（2周）"),
    ],
)
def test_bad_weeks_and_topics_are_refused(tree, secretary, members, weeks, topics, field, message):
    with pytest.raises(ValidationError) as exc:
        generate(secretary, tree.branch_a, weeks, topics=topics)
    assert exc.value.message_dict[field] == [message]


def test_a_rotation_is_for_a_branch_not_a_committee(tree, admin, members):
    with pytest.raises(ValidationError) as exc:
        generate(admin, tree.district_a, 2)
    assert exc.value.message_dict["organization"] == ["轮讲由党支部、党总支或党小组安排"]


def test_a_branch_outside_scope_is_refused(tree, secretary, members):
    with pytest.raises(PermissionDenied):
        generate(secretary, tree.branch_b, 2)


def test_a_branch_without_members_is_refused(tree, secretary):
    with pytest.raises(ValidationError) as exc:
        generate(secretary, tree.branch_a, 2)
    assert exc.value.message_dict["members"] == ["没有可以安排主讲的党员"]


def test_regenerating_reassigns_only_the_weeks_to_come(tree, secretary, members):
    rotation = generate(secretary, tree.branch_a, 4)
    before = plan(rotation)
    newcomer = make_member(tree.branch_a, "新来的")
    rotation_regenerate(actor=secretary, rotation=rotation, from_date=MONDAY + timedelta(weeks=2))
    after = plan(rotation)
    assert after[:2] == before[:2]
    assert after[2][2] == "新来的"  # never lectured: first
    assert AuditLog.objects.filter(message="重新安排轮讲").exists()
    assert newcomer.pk in rotation.slots.values_list("member_id", flat=True)


def test_a_week_can_be_given_to_another_member(tree, secretary, members):
    rotation = generate(secretary, tree.branch_a, 2)
    slot = rotation.slots.order_by("date").first()
    rotation_slot_replace(actor=secretary, slot=slot, member=members["wang"].pk, topic="学习新党章")
    slot.refresh_from_db()
    assert (slot.member, slot.topic) == (members["wang"], "学习新党章")


def test_a_week_cannot_go_to_a_member_of_another_branch(tree, admin, members):
    rotation = generate(admin, tree.branch_a, 2)
    with pytest.raises(ValidationError):
        rotation_slot_replace(actor=admin, slot=rotation.slots.first(), member=members["zhao"].pk)


def test_a_member_sees_their_own_weeks_and_the_branch_its_upcoming_ones(tree, secretary, members):
    today = date(2025, 3, 10)
    generate(secretary, tree.branch_a, 6, members=[members["li"].pk, members["wang"].pk])
    li = link(members["li"])
    assert [s.date for s in my_rotation_slots(user=li, today=today)] == [
        MONDAY + timedelta(weeks=w) for w in (2, 4)
    ]
    upcoming = rotation_upcoming(user=secretary, organization=tree.branch_a, today=today)
    assert [s.date for s in upcoming] == [MONDAY + timedelta(weeks=w) for w in range(1, 6)]
    assert not rotation_upcoming(user=make_user(role="branch_admin", org=tree.branch_b), today=today).exists()

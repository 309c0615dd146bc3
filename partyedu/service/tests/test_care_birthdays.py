"""政治生日: the month's list for the secretary (by day, never a ranking), 党龄 counted from
conversion, the member's greeting in the week of their party birthday, the 主题党日 held for them
as an ordinary activity, and the workbench item."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partyedu.service.hooks_care import home_panels
from partyedu.service.selectors_care import anniversary_in, birthday_members, own_birthday, party_years
from partyedu.service.services.care import birthday_theme_day_record
from partyedu.service.todo_care import care_todos
from partyedu.study.models import Activity
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import member_user

pytestmark = pytest.mark.django_db


def test_party_years_and_the_29th_of_february():
    assert party_years(date(2000, 7, 1), date(2026, 6, 30)) == 25
    assert party_years(date(2000, 7, 1), date(2026, 7, 1)) == 26
    assert party_years(None, date(2026, 7, 1)) is None
    assert anniversary_in(date(2004, 2, 29), 2026) == date(2026, 2, 28)
    assert anniversary_in(date(2004, 2, 29), 2028) == date(2028, 2, 29)


def test_the_month_lists_members_by_day_with_their_anniversary_and_party_age(tree):
    make_member(tree.branch_a, "晚", joined_on=date(1990, 5, 20), full_member_on=date(1991, 5, 20))
    make_member(tree.branch_a, "早", joined_on=date(2010, 5, 3), full_member_on=date(2011, 5, 3))
    make_member(tree.group_a, "预备", joined_on=date(2025, 5, 9), status="probationary")
    make_member(tree.branch_a, "六月", joined_on=date(2000, 6, 1), full_member_on=date(2001, 6, 1))
    make_member(tree.branch_b, "乙支部", joined_on=date(2000, 5, 1), full_member_on=date(2001, 5, 1))
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    rows = birthday_members(user=secretary, organization=tree.branch_a, year=2026, month=5)

    assert [(r.member.name, r.day, r.years, r.party_age) for r in rows] == [
        ("早", date(2026, 5, 3), 16, 15),
        ("预备", date(2026, 5, 9), 1, None),
        ("晚", date(2026, 5, 20), 36, 35),
    ]


def test_a_member_joined_this_year_has_no_party_birthday_yet(tree):
    make_member(tree.branch_a, "新党员", joined_on=date(2026, 5, 3), status="probationary")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    assert birthday_members(user=secretary, organization=tree.branch_a, year=2026, month=5) == []


def test_the_greeting_shows_in_the_week_of_the_anniversary_only(tree):
    user, _member = member_user(
        tree.branch_a, "张党员", joined_on=date(2001, 12, 9), full_member_on=date(2002, 12, 9)
    )
    monday = date(2026, 12, 7)

    found = own_birthday(user=user, today=monday)
    assert found is not None and (found.day, found.years, found.party_age) == (date(2026, 12, 9), 25, 24)
    assert own_birthday(user=user, today=date(2026, 12, 13)) is not None  # the Sunday
    assert own_birthday(user=user, today=date(2026, 12, 14)) is None
    assert own_birthday(user=user, today=date(2026, 12, 6)) is None


def test_a_week_across_the_new_year_finds_the_anniversary(tree):
    user, _m = member_user(
        tree.branch_a, "张党员", joined_on=date(1999, 1, 1), full_member_on=date(2000, 1, 1)
    )
    found = own_birthday(user=user, today=date(2026, 12, 29))
    assert found is not None and found.day == date(2027, 1, 1) and found.years == 28


def test_the_home_page_adds_the_greeting_panel_in_that_week_only(tree, client):
    today = timezone.localdate()
    user, _m = member_user(
        tree.branch_a,
        "张党员",
        joined_on=today.replace(year=today.year - 10),
        full_member_on=today.replace(year=today.year - 9),
    )
    other, _o = member_user(
        tree.branch_a, "李党员", joined_on=(today + timedelta(days=40)).replace(year=2000)
    )

    assert home_panels(user=user)["home_panels"][0]["url"] == "/service/birthdays/greeting/"
    assert home_panels(user=other) == {}

    client.force_login(user)
    html = client.get("/service/birthdays/greeting/").content.decode()
    assert "今天是您入党10周年的政治生日" in html
    assert "党龄9年" in html


def test_the_theme_day_is_an_ordinary_activity_of_the_branch(tree):
    make_member(tree.branch_a, "张党员", joined_on=date(2001, 12, 9), full_member_on=date(2002, 12, 9))
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    day = timezone.localdate() + timedelta(days=3)

    activity = birthday_theme_day_record(
        actor=secretary,
        organization=tree.branch_a,
        day=day,
        start=time(9),
        end=time(11),
        topic="重温入党誓词",
    )

    assert (activity.activity_type, activity.organization, activity.topic) == (
        "theme_day",
        tree.branch_a,
        "重温入党誓词",
    )
    assert activity.attendances.count() == 1  # the branch's default roster
    with pytest.raises(ValidationError) as caught:
        birthday_theme_day_record(
            actor=secretary,
            organization=tree.branch_a,
            day=day,
            start=time(9),
            end=time(11),
            topic="重温入党誓词",
        )
    assert "已经登记" in caught.value.message_dict["topic"][0]
    with pytest.raises(ValidationError) as caught:
        birthday_theme_day_record(
            actor=None, organization=tree.district_a, day=day, start=time(11), end=time(9)
        )
    assert set(caught.value.message_dict) == {"organization", "end"}
    assert Activity.objects.count() == 1


def test_the_secretary_is_told_how_many_members_have_their_birthday_this_month(tree):
    today = timezone.localdate()
    make_member(tree.branch_a, "张党员", joined_on=date(2000, today.month, 1))
    make_member(tree.branch_b, "乙支部", joined_on=date(2000, today.month, 1))
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    items = [i for i in care_todos(user=secretary) if i.key.startswith("service.birthdays")]

    assert [i.title for i in items] == ["本月1名党员过政治生日"]
    assert care_todos(user=make_user(role="org_admin", org=tree.root)) == []

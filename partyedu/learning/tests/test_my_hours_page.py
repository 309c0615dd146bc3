"""我的学时 as a member reads it (issue 11, everyday paths): lines in the order the study happened,
with the activity's date, and only the years that have something to show."""

from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from partyedu.learning.models import LearningHourEntry
from partyedu.learning.selectors import member_hour_years, member_learning_hours
from partyedu.members.models import Member
from partyedu.testsupport.factories import make_member, make_user

from .factories import attend, make_activity

YEAR = timezone.localdate().year


def _member_with_account(tree):
    member = make_member(tree.branch_a, "张三")
    user = make_user(role="member", org=tree.branch_a)
    Member.objects.filter(pk=member.pk).update(user=user)
    member.refresh_from_db()
    return member, user


def _attend(tree, member, topic, day):
    start = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.get_default_timezone())
    return attend(make_activity(tree.branch_a, topic=topic, start=start), member)


def test_an_attendance_line_carries_the_activity_date_not_the_crediting_date(tree):
    member, user = _member_with_account(tree)
    _attend(tree, member, "三月主题党日", timezone.localdate().replace(month=3, day=2))
    [line] = member_learning_hours(user=user, member=member, year=YEAR).entries
    assert line.occurred_on == timezone.localdate().replace(month=3, day=2)
    assert line.credited_on == timezone.localdate()


def test_the_page_lists_lines_by_the_day_the_study_happened(client, tree):
    member, user = _member_with_account(tree)
    # recorded late first, early second: the page shows the later activity first all the same
    _attend(tree, member, "九月主题党日", timezone.localdate().replace(month=9, day=1))
    _attend(tree, member, "二月主题党日", timezone.localdate().replace(month=2, day=1))
    _attend(tree, member, "五月主题党日", timezone.localdate().replace(month=5, day=1))
    client.force_login(user)
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert html.index("九月主题党日") < html.index("五月主题党日") < html.index("二月主题党日")


def test_years_without_lines_are_not_offered(client, tree):
    member, user = _member_with_account(tree)
    _attend(tree, member, "主题党日", timezone.localdate().replace(month=1, day=5))
    assert member_hour_years(user=user, member=member) == [YEAR]
    client.force_login(user)
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert f"?year={YEAR - 2}" not in html
    assert f"?year={YEAR}" in html


def test_hour_years_are_empty_for_someone_who_may_not_see_the_member(tree):
    member, _user = _member_with_account(tree)
    _attend(tree, member, "主题党日", timezone.localdate().replace(month=1, day=5))
    assert LearningHourEntry.objects.filter(member=member).exists()
    stranger = make_user(role="org_admin", org=tree.district_b)
    assert member_hour_years(user=stranger, member=member) == []

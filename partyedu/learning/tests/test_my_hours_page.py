"""我的学时 as a member reads it (issue 11, everyday paths): lines in the order the study happened,
with the activity's date, and only the years that have something to show."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from partyedu.learning.models import HourRequirement, LearningHourEntry, OnlineResource
from partyedu.learning.selectors import member_hour_years, member_learning_hours, member_shortfall
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


# --- why a member is short, and how to close the gap ------------------------------------------------


def _resource(org, title, hours, **extra):
    return OnlineResource.objects.create(
        organization=org,
        title=title,
        kind="article",
        body="正文",
        duration_seconds=600,
        credit_hours=Decimal(hours),
        is_published=True,
        published_at=timezone.now(),
        **extra,
    )


def _earlier_this_year(days):
    """A day earlier this year (the first of January when the year is younger than that)."""
    day = timezone.localdate() - timedelta(days=days)
    return day if day.year == YEAR else timezone.localdate().replace(month=1, day=1)


def test_shortfall_names_the_missed_activities_and_whether_makeup_is_open(tree):
    member, user = _member_with_account(tree)
    start = datetime.combine(
        _earlier_this_year(3), datetime.min.time(), tzinfo=timezone.get_default_timezone()
    )
    attend(make_activity(tree.branch_a, topic="缺席的党课", start=start.replace(hour=9)), member, "absent")
    attend(make_activity(tree.branch_a, topic="出席的主题党日", start=start.replace(hour=14)), member)
    hours = member_learning_hours(user=user, member=member, year=YEAR)
    shortfall = member_shortfall(user=user, hours=hours)
    assert shortfall is not None
    assert [m.title.endswith("缺席的党课") for m in shortfall.missed] == [True]
    assert shortfall.missed[0].makeup_open


def _online_counts(org, cap=None):
    HourRequirement.objects.create(organization=org, counts_online=True, online_cap=cap)


def test_shortfall_offers_unfinished_resources_above_the_member_with_their_hours(tree):
    member, user = _member_with_account(tree)
    _online_counts(tree.root)
    _resource(tree.root, "市委资源", "1.5")
    _resource(tree.district_b, "别区资源", "3")
    hours = member_learning_hours(user=user, member=member, year=YEAR)
    shortfall = member_shortfall(user=user, hours=hours)
    assert shortfall is not None
    assert [(r.title, r.credit_hours) for r in shortfall.resources] == [("市委资源", Decimal("1.5"))]
    assert shortfall.deadline.month == 12
    assert shortfall.deadline.day == 31


def test_no_shortfall_for_a_past_year(tree):
    member, user = _member_with_account(tree)
    hours = member_learning_hours(user=user, member=member, year=YEAR - 1)
    assert member_shortfall(user=user, hours=hours) is None


def test_shortfall_offers_no_online_study_where_it_does_not_count(tree):
    """DOMAIN_RULES 学时 (条例 第二十条 "集中学习培训"): 网络学习 counts only where the rule says."""
    member, user = _member_with_account(tree)
    _resource(tree.root, "市委资源", "1.5")
    shortfall = member_shortfall(user=user, hours=member_learning_hours(user=user, member=member, year=YEAR))
    assert shortfall is not None
    assert shortfall.resources == []


def test_shortfall_offers_no_online_study_once_its_cap_is_reached(tree):
    """DOMAIN_RULES 学时: online study counts up to the subtree's cap."""
    from partyedu.learning.services import learning_hours_record_manual

    member, user = _member_with_account(tree)
    _online_counts(tree.root, cap=Decimal("8"))
    _resource(tree.root, "市委资源", "1.5")
    learning_hours_record_manual(
        actor=None, member=member, year=YEAR, kind="online", hours=8, description="网上学习"
    )
    shortfall = member_shortfall(user=user, hours=member_learning_hours(user=user, member=member, year=YEAR))
    assert shortfall is not None
    assert shortfall.resources == []


def test_the_page_shows_the_gap_and_a_resource_that_would_close_it(client, tree):
    _member, user = _member_with_account(tree)
    _online_counts(tree.root)
    resource = _resource(tree.branch_a, "支部微党课", "2")
    client.force_login(user)
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert "前补齐" in html
    assert reverse("learning:resource_detail", args=[resource.pk]) in html

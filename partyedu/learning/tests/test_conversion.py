from decimal import Decimal
from types import SimpleNamespace

import pytest

from partyedu.learning.conversion import activity_hours, hour_kind, round_half_hours, session_hours

from .factories import local


def act(start, end, credited=None, activity_type="theme_day"):
    return SimpleNamespace(start=start, end=end, credited_hours=credited, activity_type=activity_type)


def D(value):
    return Decimal(str(value))


@pytest.mark.parametrize(
    ("clock", "hours"),
    [
        (1, 1),  # 1 clock hour = 1
        (1.2, 1),
        (1.25, 1.5),  # to the half hour, halves up
        (2.5, 2.5),
        (3.5, 4),  # half day
        (4.5, 4),
        (5, 5),
        (6.5, 6.5),
        (7, 8),  # full day
        (10, 8),
        (0, 0),
    ],
)
def test_session_hours(clock, hours):
    assert session_hours(D(clock)) == D(hours)


def test_round_half_hours():
    assert round_half_hours(D("0.74")) == D("0.5")
    assert round_half_hours(D("0.75")) == D("1")


def test_one_clock_hour_is_one():
    assert activity_hours(act(local(2026, 3, 1, 9), local(2026, 3, 1, 10))) == {2026: D(1)}


def test_a_morning_is_a_half_day():
    assert activity_hours(act(local(2026, 3, 1, 8, 30), local(2026, 3, 1, 12, 30))) == {2026: D(4)}


def test_a_working_day_is_a_full_day():
    assert activity_hours(act(local(2026, 3, 1, 9), local(2026, 3, 1, 17))) == {2026: D(8)}


def test_three_days_are_eight_each():
    assert activity_hours(act(local(2026, 5, 11, 9), local(2026, 5, 13, 17))) == {2026: D(24)}


def test_an_evening_session_past_midnight_is_one_session():
    assert activity_hours(act(local(2026, 5, 11, 19), local(2026, 5, 12, 1))) == {2026: D(6)}


def test_a_course_across_new_year_is_split_by_days():
    # 30 Dec to 2 Jan: two days in each year
    assert activity_hours(act(local(2026, 12, 30, 9), local(2027, 1, 2, 17))) == {2026: D(16), 2027: D(16)}


def test_credited_hours_win_and_split_by_days_across_new_year():
    assert activity_hours(act(local(2026, 3, 1, 9), local(2026, 3, 1, 10), credited=D(3))) == {2026: D(3)}
    split = activity_hours(act(local(2026, 12, 31, 9), local(2027, 1, 1, 17), credited=D(12)))
    assert split == {2026: D(6), 2027: D(6)}


def test_local_time_decides_the_year():
    # 2026-12-31 17:00 UTC is already 1 January in Shanghai
    from datetime import UTC, datetime

    start = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert activity_hours(act(start, start.replace(hour=19))) == {2027: D(2)}


def test_end_before_start_credits_nothing():
    assert activity_hours(act(local(2026, 3, 1, 10), local(2026, 3, 1, 9))) == {}
    assert activity_hours(act(local(2026, 3, 1, 9), local(2026, 3, 1, 10), credited=D(0))) == {}


@pytest.mark.parametrize(
    ("activity_type", "kind"),
    [
        ("training_session", "concentrated"),
        ("reading_class", "concentrated"),
        ("site_visit", "concentrated"),
        ("online_class", "online"),
        ("theme_day", "collective"),
        ("party_lecture", "collective"),
        ("home_delivery", "collective"),
    ],
)
def test_hour_kind(activity_type, kind):
    assert hour_kind(act(None, None, activity_type=activity_type)) == kind

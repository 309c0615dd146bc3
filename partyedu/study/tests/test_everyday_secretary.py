"""A branch secretary's everyday paths (issue 11): names in pinyin order with a filter box on the
attendance and QR pages, a warning before recording the same activity twice on one day, and a QR
projector page that says when check-in opens and counts scans only."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from partyedu.core import pinyin
from partyedu.study import selectors, services
from partyedu.study.checkin import checkin_token, checkin_with_token
from partyedu.study.models import Activity
from partyedu.testsupport.factories import Tree, make_member, make_user

from .conftest import START, TZ, record

pytestmark = pytest.mark.django_db


def order_in(html: str, names: list[str]) -> list[str]:
    """``names`` in the order they first appear in ``html``."""
    return sorted(names, key=html.index)


def link(member: Any, username: str) -> Any:
    user = make_user(username, role="member", org=member.organization)
    member.user = user
    member.save(update_fields=["user"])
    return user


def form_data(org: Any, **extra: Any) -> dict[str, Any]:
    return {
        "activity_type": "theme_day",
        "topic": "重温入党誓词",
        "date": "2025-03-07",
        "start_time": "19:00",
        "end_time": "20:30",
        "organization": org.pk,
        **extra,
    }


# --- pinyin order (core.pinyin) -------------------------------------------------------------------


def test_names_sort_by_pinyin_syllable_by_syllable() -> None:
    names = ["张三", "李四", "詹五", "阿依古丽·买买提", "吕布", "刘备"]

    assert sorted(names, key=pinyin.sort_key) == ["阿依古丽·买买提", "李四", "刘备", "吕布", "詹五", "张三"]


def test_a_polyphonic_surname_sorts_by_its_reading_as_a_surname() -> None:
    # 单 is shàn as a surname (not dān), 曾 is zēng (not céng).
    names = ["曾明", "单雪", "邓华", "陈红", "张强", "沈阳"]

    assert sorted(names, key=pinyin.sort_key) == ["陈红", "邓华", "单雪", "沈阳", "曾明", "张强"]


def test_a_rare_surname_sorts_by_its_reading() -> None:
    # 乜 is niè as a surname (its first reading is miē); 仉 (zhǎng) is a rare surname.
    names = ["乜英", "孟凡", "聂红", "赵明", "仉立", "张伟"]

    assert sorted(names, key=pinyin.sort_key) == ["孟凡", "聂红", "乜英", "仉立", "张伟", "赵明"]


def test_search_text_has_full_pinyin_and_initials_of_both_readings_of_a_surname() -> None:
    assert pinyin.search_text("单立") == "shanli sl danli dl"
    assert pinyin.search_text("吕布") == "lvbu lb"


def test_sorting_by_pinyin_does_not_import_pypinyin() -> None:
    # Web workers sort names on every attendance page; pypinyin costs each of them ~57 MB.
    code = (
        "import sys; from partyedu.core import pinyin; pinyin.sort_key('单立'); "
        "assert 'pypinyin' not in sys.modules, 'pypinyin imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr


# --- the attendance page ----------------------------------------------------------------------------


@pytest.fixture
def roster(tree: Tree) -> dict[str, Any]:
    return {name: make_member(tree.branch_a, name) for name in ("张强", "曾明", "单雪", "邓华", "陈红")}


def test_attendance_page_lists_the_roster_in_pinyin_order(
    client: Any, tree: Tree, roster: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    client.force_login(secretary)

    html = client.get(reverse("study:attendance", args=[activity.pk])).content.decode()

    assert order_in(html, list(roster)) == ["陈红", "邓华", "单雪", "曾明", "张强"]


def test_attendance_rows_carry_name_pinyin_and_initials_for_the_filter_box(
    client: Any, tree: Tree, roster: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    client.force_login(secretary)

    html = client.get(reverse("study:attendance", args=[activity.pk])).content.decode()

    row = re.search(rf'id="row-{roster["单雪"].pk}" data-name-filter="([^"]*)"', html)
    assert row is not None
    assert {"单雪", "shanxue", "sx", "danxue", "dx"} <= set(row.group(1).split())


def test_attendance_filter_box_is_shown_by_its_script_only(
    client: Any, tree: Tree, roster: dict, secretary: Any
) -> None:
    # Without JavaScript the box would do nothing: it starts hidden, and the list is complete.
    activity = record(tree.branch_a)
    client.force_login(secretary)

    html = client.get(reverse("study:attendance", args=[activity.pk])).content.decode()

    assert re.search(r'<div class="[^"]*" data-name-filter-box hidden>', html)
    assert 'data-name-filter-input="#attendance-form"' in html
    assert "js/name-filter.js" in html
    assert html.count("data-name-filter=") == len(roster)


# --- the QR projector page -----------------------------------------------------------------------


def _now(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_qr_page_before_the_window_says_at_what_time_check_in_opens(
    client: Any, tree: Tree, members: dict, secretary: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = record(tree.branch_a, start=START)  # 14:30, so check-in opens at 14:00
    _now(monkeypatch, START.replace(hour=9))
    client.force_login(secretary)

    html = client.get(reverse("study:activity_qr", args=[activity.pk])).content.decode()

    assert "签到将于 14:00 开放" in html


def test_qr_page_days_before_names_the_day_check_in_opens(
    client: Any, tree: Tree, members: dict, secretary: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = record(tree.branch_a, start=START)
    _now(monkeypatch, START - timedelta(days=2))
    client.force_login(secretary)

    html = client.get(reverse("study:activity_qr", args=[activity.pk])).content.decode()

    assert "签到将于 03月07日 14:00 开放" in html


def test_qr_page_does_not_show_hand_marked_attendance_as_scans(
    client: Any, tree: Tree, members: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    token, _expires = checkin_token(activity, at=START)
    checkin_with_token(user=link(members["zhang"], "zhang"), token=token, at=START)
    services.attendance_mark(
        actor=secretary, activity=activity, records=[{"member": members["li"].pk, "status": "present"}]
    )
    client.force_login(secretary)

    html = client.get(
        reverse("study:activity_qr", args=[activity.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()

    scanned = html[html.index('data-testid="scanned"') :]
    assert "已签到 1 / 应到 3 人" in html
    assert "张三" in scanned and "李四" not in scanned
    assert "另有 1 人已由管理员登记出席（未扫码）" in html


def test_qr_page_lists_the_scanned_members_in_pinyin_order(
    client: Any, tree: Tree, roster: dict, secretary: Any
) -> None:
    activity = record(tree.branch_a)
    for n, name in enumerate(["曾明", "张强", "陈红"]):
        token, _expires = checkin_token(activity, at=START)
        checkin_with_token(user=link(roster[name], f"u{n}"), token=token, at=START)
    client.force_login(secretary)

    html = client.get(reverse("study:activity_qr", args=[activity.pk])).content.decode()

    assert order_in(html, ["曾明", "张强", "陈红"]) == ["陈红", "曾明", "张强"]
    assert 'data-name-filter-input="#qr-live"' in html


# --- a second activity of the same type, organisation and day ------------------------------------


def test_same_day_selector_finds_the_earlier_activity_of_that_type_and_organisation(
    tree: Tree, secretary: Any
) -> None:
    earlier = record(tree.branch_a, topic="三月主题党日")
    record(tree.branch_a, "party_lecture")
    record(tree.branch_a, start=START + timedelta(days=1))
    record(tree.branch_b)

    found = selectors.activity_same_day(
        user=secretary, organization=tree.branch_a, activity_type="theme_day", day=START.date()
    )

    assert list(found) == [earlier]


def test_same_day_selector_finds_nothing_outside_the_users_scope(tree: Tree) -> None:
    record(tree.branch_b)
    outsider = make_user("sec_a", role="branch_admin", org=tree.branch_a)

    found = selectors.activity_same_day(
        user=outsider, organization=tree.branch_b, activity_type="theme_day", day=START.date()
    )

    assert not found.exists()


def test_recording_a_second_same_day_activity_warns_and_saves_nothing(
    client: Any, tree: Tree, secretary: Any
) -> None:
    record(tree.branch_a, topic="三月主题党日")
    client.force_login(secretary)

    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a))

    assert response.status_code == 200
    assert "同一天该组织已有一次「主题党日」：三月主题党日，确认仍要再记录一次？" in response.content.decode()
    assert Activity.objects.count() == 1


def test_a_confirmed_second_same_day_activity_is_saved(client: Any, tree: Tree, secretary: Any) -> None:
    record(tree.branch_a, topic="三月主题党日")
    client.force_login(secretary)

    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a, confirm_same_day="on"))

    assert response.status_code == 302
    assert Activity.objects.filter(topic="重温入党誓词").exists()


@pytest.mark.parametrize(
    ("change", "value"),
    [("activity_type", "party_lecture"), ("date", "2025-03-08")],
    ids=["another-type", "another-day"],
)
def test_another_type_or_day_is_saved_without_a_warning(
    client: Any, tree: Tree, secretary: Any, change: str, value: str
) -> None:
    record(tree.branch_a)
    client.force_login(secretary)

    response = client.post(reverse("study:activity_create"), form_data(tree.branch_a, **{change: value}))

    assert response.status_code == 302


def test_the_same_day_in_another_organisation_is_saved_without_a_warning(
    client: Any, tree: Tree, admin: Any
) -> None:
    record(tree.branch_a)
    client.force_login(admin)

    response = client.post(reverse("study:activity_create"), form_data(tree.group_a))

    assert response.status_code == 302


def test_editing_an_activity_does_not_warn_about_itself(client: Any, tree: Tree, secretary: Any) -> None:
    activity = record(tree.branch_a, topic="三月主题党日")
    client.force_login(secretary)

    response = client.post(
        reverse("study:activity_edit", args=[activity.pk]), form_data(tree.branch_a, topic="改过的主题")
    )

    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.topic == "改过的主题"


def test_moving_an_activity_onto_the_day_of_another_warns(client: Any, tree: Tree, secretary: Any) -> None:
    record(tree.branch_a, topic="三月主题党日")
    moved = record(tree.branch_a, start=START + timedelta(days=1), topic="补开的主题党日")
    client.force_login(secretary)

    response = client.post(reverse("study:activity_edit", args=[moved.pk]), form_data(tree.branch_a))

    assert "同一天该组织已有一次「主题党日」：三月主题党日" in response.content.decode()
    moved.refresh_from_db()
    assert timezone.localtime(moved.start).date() == (START + timedelta(days=1)).date()


def test_a_second_session_of_a_training_class_on_one_day_is_not_warned_about(
    client: Any, tree: Tree, secretary: Any
) -> None:
    tc = services.training_class_create(
        actor=None,
        data={
            "organization": tree.branch_a,
            "name": "春季培训班",
            "start_date": START.date(),
            "end_date": START.date() + timedelta(days=5),
        },
    )
    record(tree.branch_a, "training_session", training_class=tc)
    client.force_login(secretary)
    data = form_data(tree.branch_a, activity_type="training_session", topic="第二课")

    response = client.post(reverse("study:class_session_create", args=[tc.pk]), data)

    assert response.status_code == 302


def test_the_day_is_the_local_day(tree: Tree, secretary: Any) -> None:
    # 00:30 in Beijing is the evening before in UTC: still the same local day as 14:30.
    early = record(tree.branch_a, start=datetime(2025, 3, 7, 0, 30, tzinfo=TZ))

    found = selectors.activity_same_day(
        user=secretary, organization=tree.branch_a, activity_type="theme_day", day=START.date()
    )

    assert list(found) == [early]

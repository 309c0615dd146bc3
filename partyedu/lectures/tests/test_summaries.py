"""The summary rows of the lecture statistics (``summaries``): every normal flow — lectures
recorded, edited and deleted, ratings, a lecturer's category, an activity's date, members changed,
an organisation moved — leaves them as a rebuild from the sources computes them, and the
statistics read from them equal the statistics computed from the sources."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from partyedu.accounts.types import Viewer
from partyedu.lectures.models import LectureFigure, LectureTally
from partyedu.lectures.selectors import (
    lecture_duty,
    lecture_duty_summary,
    lecture_stats,
    lecture_stats_from_sources,
)
from partyedu.lectures.services import lecture_delete, lecture_rate, lecture_update, lecturer_update
from partyedu.lectures.summaries import LECTURES, lecture_figures_rebuild
from partyedu.members.services import member_leave_roll, member_transfer, member_update
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_move
from partyedu.study.services import activity_delete, activity_update
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import at, lecture, lecturer, link, mark, party_lecture

pytestmark = pytest.mark.django_db


def assert_rebuild_finds_nothing() -> None:
    report = lecture_figures_rebuild(apply=False)
    assert (report.copies, report.tallies, report.duty_members, report.figures) == (0, 0, 0, 0), (
        report.samples
    )


def assert_stats_agree(
    user: Viewer | None, *orgs: Organization, years: tuple[int, ...] = (2024, 2025)
) -> None:
    for org in orgs:
        for year in years:
            assert lecture_stats(user=user, organization=org, year=year) == lecture_stats_from_sources(
                user=user, organization=org, year=year
            ), (org.name, year)


@pytest.fixture
def root_admin(tree: Any) -> Any:
    return make_user("root_admin", role="org_admin", org=tree.root)


@pytest.fixture
def speakers(tree: Any, members: Any) -> dict[str, Any]:
    """张三 (secretary of 甲一支部) in 甲区委's pool, 赵六 (secretary of 乙一支部) in 乙区委's, 李四
    (a member) in 甲一支部's, and a party-school teacher in the city's pool."""
    return {
        "zhang": lecturer(tree.district_a, members["zhang"]),
        "zhao": lecturer(tree.district_b, members["zhao"]),
        "li": lecturer(tree.branch_a, members["li"]),
        "guest": lecturer(tree.root, name="党校教师", category="party_school"),
    }


@pytest.fixture
def year_of_lectures(tree: Any, members: Any, speakers: Any) -> dict[str, Any]:
    """Lectures in 2025 and 2024 across both districts, with cross speakers and ratings."""
    rater = make_member(tree.branch_a, "评价人")
    first = lecture(
        party_lecture(tree.branch_a, at(3)), speakers["zhang"], speakers["guest"], lecture_type="rural"
    )
    second = lecture(party_lecture(tree.branch_b, at(5)), speakers["zhang"])  # cross
    third = lecture(party_lecture(tree.group_a, at(6)), speakers["li"], lecture_type="micro")
    older = lecture(party_lecture(tree.district_b, at(4, year=2024)), speakers["zhao"])
    mark(first.activity, rater)
    lecture_rate(actor=link(rater), lecture=first, score=4)
    return {"first": first, "second": second, "third": third, "older": older, "rater": rater}


# --- the normal flows keep the summaries -----------------------------------------------------------


def test_recording_lectures_keeps_the_summaries(tree, root_admin, year_of_lectures):
    assert_rebuild_finds_nothing()
    assert_stats_agree(root_admin, tree.root, tree.district_a, tree.district_b, tree.branch_a)


def test_editing_a_lectures_type_and_speakers_keeps_the_summaries(
    tree, root_admin, speakers, year_of_lectures
):
    # when: 甲一支部's lecture changes type, loses the guest and gains 赵六 (a cross speaker)
    lecture_update(
        actor=None,
        lecture=year_of_lectures["first"],
        data={"lecture_type": "standard", "lecturers": [speakers["zhang"].pk, speakers["zhao"].pk]},
    )
    # then
    assert_rebuild_finds_nothing()
    assert_stats_agree(root_admin, tree.root, tree.district_a)


def test_deleting_a_lecture_keeps_the_summaries(tree, root_admin, year_of_lectures):
    lecture_delete(actor=None, lecture=year_of_lectures["second"])
    assert_rebuild_finds_nothing()
    assert_stats_agree(root_admin, tree.root, tree.district_b)


def test_rating_again_keeps_the_summaries(tree, root_admin, year_of_lectures):
    rater = year_of_lectures["rater"]
    lecture_rate(actor=rater.user, lecture=year_of_lectures["first"], score=2)
    assert_rebuild_finds_nothing()
    stats = lecture_stats(user=root_admin, organization=tree.root, year=2025)
    assert stats is not None and (stats.ratings, stats.rating_total) == (1, 2)


def test_a_lecturers_new_category_keeps_the_summaries(tree, root_admin, speakers, year_of_lectures):
    lecturer_update(actor=None, lecturer=speakers["guest"], data={"category": "university"})
    assert_rebuild_finds_nothing()
    stats = lecture_stats(user=root_admin, organization=tree.root, year=2025)
    assert stats is not None
    assert {r.code: r.count for r in stats.by_category if r.count}["university"] == 1


def test_an_activity_moved_to_another_year_takes_its_lecture_along(tree, root_admin, year_of_lectures):
    activity = year_of_lectures["third"].activity
    activity_update(
        actor=None,
        activity=activity,
        data={"start": at(6, year=2024), "end": at(6, year=2024) + timedelta(hours=2)},
    )
    assert_rebuild_finds_nothing()
    assert_stats_agree(root_admin, tree.root, tree.district_a)
    assert lecture_stats(user=root_admin, organization=tree.root, year=2024).lectures == 2


def test_deleting_an_activity_deletes_its_lecture_from_the_summaries(tree, root_admin, year_of_lectures):
    activity_delete(actor=None, activity=year_of_lectures["first"].activity)
    assert_rebuild_finds_nothing()
    assert not LectureTally.objects.filter(lecture_id=year_of_lectures["first"].pk).exists()
    assert_stats_agree(root_admin, tree.root, tree.district_a, tree.branch_a)


def test_a_member_becoming_a_secretary_joins_the_duty_figures(tree, root_admin, members, year_of_lectures):
    # 李四 lectured in 2025 but is no secretary; then becomes one
    member_update(actor=None, member=members["li"], data={"categories": ["secretary"]})
    assert_rebuild_finds_nothing()
    duty = lecture_duty_summary(user=root_admin, organization=tree.district_a, year=2025)
    assert (duty.total, duty.lectured) == (2, 2)


def test_an_exempt_member_is_counted_apart(tree, root_admin, members, year_of_lectures):
    member_update(actor=None, member=members["zhang"], data={"is_exempt": True, "exempt_reason": "年老体弱"})
    assert_rebuild_finds_nothing()
    duty = lecture_duty_summary(user=root_admin, organization=tree.district_a, year=2025)
    assert (duty.total, duty.exempt, duty.lectured, duty.exempt_lectured) == (1, 1, 0, 1)


def test_a_transferred_member_takes_their_duty_figures_along(tree, root_admin, members, year_of_lectures):
    member_transfer(actor=None, member=members["zhang"], to_organization=tree.branch_b)
    assert_rebuild_finds_nothing()
    duty = lecture_duty_summary(user=root_admin, organization=tree.district_b, year=2025)
    assert (duty.total, duty.lectured) == (2, 1)  # 张三 now, and 赵六 (who lectured in 2024 only)


def test_a_member_taken_off_the_roll_leaves_the_duty_figures(tree, root_admin, members, year_of_lectures):
    member_leave_roll(actor=None, member=members["zhang"], reason="去世")
    assert_rebuild_finds_nothing()
    assert lecture_duty_summary(user=root_admin, organization=tree.district_a, year=2025).total == 0


def test_a_moved_organisation_takes_its_figures_to_its_new_ancestors(tree, root_admin, year_of_lectures):
    # when: 甲一支部 (2 lectures of 2025 in its subtree) moves under 乙区委
    organization_move(actor=None, org=tree.branch_a, new_parent=tree.district_b)
    # then
    assert_rebuild_finds_nothing()
    for org in (tree.district_a, tree.district_b, tree.branch_a):
        org.refresh_from_db()
    assert_stats_agree(root_admin, tree.root, tree.district_a, tree.district_b)
    assert lecture_stats(user=root_admin, organization=tree.district_b, year=2025).lectures == 3


# --- the rebuild -----------------------------------------------------------------------------------


def test_the_rebuild_reports_a_wrong_figure_and_changes_nothing_without_apply(tree, year_of_lectures):
    LectureFigure.objects.filter(organization=tree.root, year=2025, name=LECTURES).update(value=99)
    report = lecture_figures_rebuild(apply=False)
    assert report.figures == 1
    assert LectureFigure.objects.get(organization=tree.root, year=2025, name=LECTURES).value == 99


def test_the_rebuild_repairs_what_it_finds(tree, year_of_lectures):
    LectureFigure.objects.filter(organization=tree.root, year=2025, name=LECTURES).update(value=99)
    LectureTally.objects.filter(lecture_id=year_of_lectures["first"].pk).delete()
    report = lecture_figures_rebuild(apply=True)
    assert (report.tallies, report.figures) == (1, 1)
    assert_rebuild_finds_nothing()


def test_a_difference_found_is_logged_as_a_warning(tree, year_of_lectures, caplog):
    LectureFigure.objects.filter(organization=tree.root, year=2025, name=LECTURES).update(value=99)
    lecture_figures_rebuild(apply=False)
    assert "lecture figures rebuild found 1 differences" in caplog.text


def test_building_the_rows_for_bulk_written_sources_logs_no_warning(tree, year_of_lectures, caplog):
    LectureFigure.objects.all().delete()
    report = lecture_figures_rebuild(apply=True, build=True)
    assert report.figures > 0
    assert "lecture figures rebuild" not in caplog.text


def test_the_command_exits_non_zero_on_differences_with_check(tree, year_of_lectures):
    LectureFigure.objects.filter(organization=tree.root, year=2025, name=LECTURES).update(value=99)
    with pytest.raises(CommandError):
        call_command("rebuild_lecture_figures", "--check", stdout=io.StringIO())


# --- reading ---------------------------------------------------------------------------------------


def test_the_duty_summary_of_a_partial_member_scope_is_counted_from_the_members(
    tree, members, year_of_lectures
):
    # a lectures manager of 甲区委 who sees the members of 甲一支部 only (their branch admin role)
    user = make_user("lectures_only", role="branch_admin", org=tree.branch_a)
    office = make_org(tree.district_a, "甲区委机关支部")
    make_member(office, "机关书记", categories=["secretary"])
    summary = lecture_duty_summary(user=user, organization=tree.branch_a, year=2025)
    assert summary.total == len(lecture_duty(user=user, organization=tree.branch_a, year=2025))


def test_the_duty_lists_length_is_known_from_the_summary(tree, root_admin, members, year_of_lectures):
    make_member(tree.branch_b, "钱领导", categories=["leader"])
    summary = lecture_duty_summary(user=root_admin, organization=tree.root, year=2025)
    for lectured in (None, True, False):
        rows = lecture_duty(user=root_admin, organization=tree.root, year=2025, lectured=lectured)
        assert summary.listed(lectured) == rows.count()


def test_lectures_follow_their_activitys_new_date_in_the_list(tree, root_admin, year_of_lectures):
    from partyedu.lectures.selectors import lecture_list

    activity = year_of_lectures["first"].activity
    activity_update(actor=None, activity=activity, data={"start": at(12), "end": at(12) + timedelta(hours=2)})
    assert lecture_list(user=root_admin).first() == year_of_lectures["first"]


def month_figure(org: Organization, month: int, name: str = LECTURES, year: int = 2025) -> int:
    row = LectureFigure.objects.filter(organization=org, year=year, name=f"month:{month}:{name}").first()
    return row.value if row else 0


def test_a_lecture_counts_in_its_months_figures_up_the_tree(tree, speakers):
    lecture(party_lecture(tree.branch_b, at(5)), speakers["zhang"])  # a cross lecture by a secretary
    for org in (tree.branch_b, tree.district_b, tree.root):
        assert month_figure(org, 5) == 1
        assert month_figure(org, 5, "cross") == 1
        assert month_figure(org, 5, "category:secretary") == 1
    assert month_figure(tree.district_a, 5) == 0


def test_a_lectures_month_figures_follow_its_activitys_new_date(tree, speakers):
    activity = party_lecture(tree.branch_a, at(3))
    lecture(activity, speakers["li"])
    activity_update(actor=None, activity=activity, data={"start": at(9), "end": at(9) + timedelta(hours=2)})
    assert (month_figure(tree.root, 3), month_figure(tree.root, 9)) == (0, 1)
    assert_rebuild_finds_nothing()

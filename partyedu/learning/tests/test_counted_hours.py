"""Which hours count towards the annual requirement (rule 1) and the "one concentrated training"
of secretaries and committee members (rule 3).

Rule 1 — DOMAIN_RULES 学时 "Which kinds count" (条例 第二十条 "集中学习培训"; local): 集中培训 and
集体学习 always count; 网络学习 and 自学 are shown apart and count only where the nearest
``HourRequirement`` up the tree says so, each up to its cap; a 发展对象 counts 集中培训 only (细则).

Rule 3 — DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划; local): a completed training class
whose end date falls in the year, or ≥ ``cadre_concentrated_min_hours`` (8, one full day) of
集中培训 in the year.

Every case that changes stored summaries ends with them equal to a rebuild from the sources.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from partyedu.learning.models import HourRequirement, MemberYearHours
from partyedu.learning.selectors import (
    YearFigures,
    learning_short_list,
    learning_summary,
    learning_summary_live,
    member_learning_hours,
    member_requirement,
    members_with_requirement,
    requirement_met,
    rule_for_path,
)
from partyedu.learning.services import (
    hour_requirement_set,
    learning_hours_rebuild,
    learning_hours_record_manual,
    learning_members_changed,
)
from partyedu.members.models import Member
from partyedu.study.models import Activity, TrainingClass
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, attend, jobs_run, local, make_activity

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = 2026


def record(member: Member, kind: str, hours: float, year: int = YEAR) -> None:
    learning_hours_record_manual(
        actor=None, member=member, year=year, kind=kind, hours=hours, description="测试学时"
    )


def rule(org: Any, **values: Any) -> Any:
    """Set a subtree's rule as an organisation department does, and run the recount it queues."""
    with jobs_run():
        change = hour_requirement_set(actor=None, organization=org, data=values)
    if change.job is not None:
        change.job.refresh_from_db()
    return change


def flag(member: Member, year: int = YEAR) -> bool:
    return MemberYearHours.objects.get(member=member, year=year).completed


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("root_admin", role="org_admin", org=tree.root)


@pytest.fixture
def thirty_and_ten(tree: Tree) -> Member:
    """A member of 甲一支部 with 30 集体学习 and 10 网络学习 hours."""
    member = make_member(tree.branch_a, "三十加十")
    record(member, "collective", 30)
    record(member, "online", 10)
    return member


# --- rule 1: which kinds count -----------------------------------------------------------------------


def test_by_default_online_study_does_not_count(tree: Tree, admin: Any, thirty_and_ten: Member) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条): by default 30 集体 + 10 网络 is short of 32."""
    hours = member_learning_hours(user=admin, member=thirty_and_ten, year=YEAR)
    assert (hours.earned, hours.counted, hours.missing) == (D(40), D(30), D(2))
    assert hours.counted_by_kind["online"] == 0
    assert not hours.completed
    assert not flag(thirty_and_ten)


def test_by_default_self_study_does_not_count(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条): 自学 is shown apart unless the rule counts it."""
    member = make_member(tree.branch_a)
    record(member, "collective", 20)
    record(member, "self", 20)
    hours = member_learning_hours(user=admin, member=member, year=YEAR)
    assert (hours.earned, hours.counted) == (D(40), D(20))
    assert not flag(member)


def test_concentrated_and_collective_always_count(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条 "集中学习培训"): 集中培训 and 集体学习 count everywhere."""
    member = make_member(tree.branch_a)
    record(member, "collective", 24)
    record(member, "concentrated", 8)
    assert member_learning_hours(user=admin, member=member, year=YEAR).completed
    assert flag(member)


def test_a_subtree_counting_online_study_with_a_cap_of_8(
    tree: Tree, admin: Any, thirty_and_ten: Member
) -> None:
    """DOMAIN_RULES 学时 (local): counting 网络学习 with cap 8, 30 + 10 online → counted 38, met."""
    rule(tree.district_a, counts_online=True, online_cap=D(8))
    hours = member_learning_hours(user=admin, member=thirty_and_ten, year=YEAR)
    assert (hours.earned, hours.counted, hours.missing) == (D(40), D(38), D(0))
    assert hours.counted_by_kind["online"] == D(8)  # the cap applies
    assert hours.completed
    assert flag(thirty_and_ten)
    assert_ledger_equals_rebuild()


def test_the_cap_limits_what_online_study_can_make_up(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (local): online hours above the cap never count (20 + 12 online, cap 8)."""
    rule(tree.root, counts_online=True, online_cap=D(8))
    member = make_member(tree.branch_a)
    record(member, "collective", 20)
    record(member, "online", 12)
    hours = member_learning_hours(user=admin, member=member, year=YEAR)
    assert (hours.counted, hours.missing) == (D(28), D(4))
    assert not flag(member)


def test_online_study_without_a_cap_counts_in_full(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (local): an empty cap is no cap."""
    rule(tree.root, counts_online=True)
    member = make_member(tree.branch_a)
    record(member, "online", 32)
    assert member_learning_hours(user=admin, member=member, year=YEAR).counted == D(32)
    assert flag(member)


def test_self_study_counts_up_to_its_own_cap(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (local): 自学 counts where the rule says, up to its cap."""
    rule(tree.root, counts_self=True, self_cap=D(4))
    member = make_member(tree.branch_a)
    record(member, "collective", 28)
    record(member, "self", 10)
    hours = member_learning_hours(user=admin, member=member, year=YEAR)
    assert (hours.counted, hours.counted_by_kind["self"]) == (D(32), D(4))
    assert flag(member)


def test_the_nearest_rule_up_the_tree_decides_what_counts(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (local): the rule nearest up the tree applies."""
    rule(tree.root, counts_online=True, online_cap=D(8))
    rule(tree.branch_a, counts_online=False)
    in_a, in_b = make_member(tree.group_a, "甲小组"), make_member(tree.branch_b, "乙支部")
    for member in (in_a, in_b):
        record(member, "collective", 30)
        record(member, "online", 10)
    assert member_learning_hours(user=admin, member=in_a, year=YEAR).counted == D(30)
    assert member_learning_hours(user=admin, member=in_b, year=YEAR).counted == D(38)
    assert (flag(in_a), flag(in_b)) == (False, True)
    assert rule_for_path(tree.group_a.path).path == tree.branch_a.path
    assert_ledger_equals_rebuild()


def test_a_candidate_counts_concentrated_training_only(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (细则): a 发展对象's figure stays 集中培训 only, whatever the rule counts;
    and it is no annual requirement (the training runs over the candidate period), so the year
    shows nothing missing and the organisation summaries never count the member complete."""
    rule(tree.root, counts_online=True, counts_self=True)
    candidate = make_member(tree.branch_a, "发展对象", status="candidate")
    record(candidate, "concentrated", 16)
    record(candidate, "online", 10)
    record(candidate, "self", 10)
    record(candidate, "collective", 10)
    hours = member_learning_hours(user=admin, member=candidate, year=YEAR)
    assert (hours.earned, hours.counted, hours.required, hours.missing) == (D(46), D(16), D(0), D(0))
    assert not flag(candidate)


def test_exempt_members_stay_apart_however_hours_count(tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (条例 第二十三条): exempt members are never counted short or complete."""
    rule(tree.root, counts_online=True)
    member = make_member(tree.branch_a, is_exempt=True, exempt_reason="年老体弱")
    record(member, "online", 40)
    assert not member_learning_hours(user=admin, member=member, year=YEAR).completed
    assert not flag(member)


# --- rule 1: every figure that decides "met / short" uses the counted hours -------------------------


@pytest.fixture
def mixed(tree: Tree) -> dict[str, Member]:
    """Members on both sides of 32 depending on what counts, in two subtrees."""
    m = {
        "online_a": make_member(tree.branch_a, "甲网络"),
        "self_a": make_member(tree.group_a, "甲小组自学"),
        "online_b": make_member(tree.branch_b, "乙网络"),
        "plain_b": make_member(tree.branch_b, "乙集体"),
        "candidate": make_member(tree.branch_a, "发展对象", status="candidate"),
        "secretary": make_member(tree.branch_a, "书记", categories=["secretary"]),
    }
    record(m["online_a"], "collective", 26)
    record(m["online_a"], "online", 12)
    record(m["self_a"], "collective", 30)
    record(m["self_a"], "self", 5)
    record(m["online_b"], "collective", 28)
    record(m["online_b"], "online", 4)
    record(m["plain_b"], "collective", 32)
    record(m["candidate"], "concentrated", 20)
    record(m["candidate"], "online", 10)
    record(m["secretary"], "collective", 40)
    record(m["secretary"], "concentrated", 8)
    record(m["secretary"], "online", 10)
    return m


def assert_rows_equal_live(tree: Tree, admin: Any) -> None:
    """The summary rows, the live query and a rebuild agree."""
    for org in (tree.root, tree.district_a, tree.branch_a, tree.group_a, tree.district_b, tree.branch_b):
        org.refresh_from_db()
        rows = learning_summary(user=admin, organization=org, year=YEAR)
        live = learning_summary_live(user=None, organization=org, year=YEAR)
        assert (rows.required_members, rows.completed) == (live.required_members, live.completed), org.name
    assert_ledger_equals_rebuild()


def short_names(tree: Tree, admin: Any) -> set[str]:
    return {m.name for m in learning_short_list(user=admin, organization=tree.root, year=YEAR)}


def test_summaries_and_short_list_use_the_counted_hours(
    tree: Tree, admin: Any, mixed: dict[str, Member]
) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条): by default only 乙集体 completes."""
    assert learning_summary(user=admin, organization=tree.root, year=YEAR).completed == 1
    # 发展对象 have no annual requirement (their training runs over the candidate period).
    assert short_names(tree, admin) == {"甲网络", "甲小组自学", "乙网络", "书记"}
    assert_rows_equal_live(tree, admin)


def test_changing_counted_kinds_and_caps_recounts_to_what_a_rebuild_gives(
    tree: Tree, admin: Any, mixed: dict[str, Member]
) -> None:
    """DOMAIN_RULES 学时 (local): counting online (cap 8) at the root completes 甲网络 (26 + 8),
    乙网络 (28 + 4) and 书记 (48 + 8); the recount job leaves the summaries equal to a rebuild."""
    change = rule(tree.root, counts_online=True, online_cap=D(8))
    assert change.job is not None and change.job.result["completions_changed"] == 3
    assert short_names(tree, admin) == {"甲小组自学"}
    assert_rows_equal_live(tree, admin)
    # a lower cap takes 甲网络 (26 + 4) and 书记 (48 + 4 < 56) out again
    change = rule(tree.root, counts_online=True, online_cap=D(4))
    assert change.job is not None and change.job.result["completions_changed"] == 2
    assert short_names(tree, admin) == {"甲网络", "甲小组自学", "书记"}
    assert_rows_equal_live(tree, admin)
    # 自学 counted in 甲一支部 (cap 2) completes 甲小组自学 (30 + 2); 甲一支部's own rule does not
    # count online study, so 甲网络 stays short
    change = rule(tree.branch_a, counts_self=True, self_cap=D(2))
    assert short_names(tree, admin) == {"甲网络", "书记"}
    assert_rows_equal_live(tree, admin)
    report = learning_hours_rebuild(apply=False)
    assert report.differences == 0, report.samples


def test_a_cap_change_alone_queues_a_recount(tree: Tree, mixed: dict[str, Member]) -> None:
    """DOMAIN_RULES 学时 (local): a cap is part of what members' requirements depend on."""
    rule(tree.root, counts_online=True, online_cap=D(8))
    assert rule(tree.root, online_cap=D(6)).job is not None


def test_a_cap_of_a_kind_that_does_not_count_is_not_kept(tree: Tree) -> None:
    """DOMAIN_RULES 学时 (local): a cap means something only for a kind that counts."""
    change = rule(tree.root, counts_online=False, online_cap=D(8))
    assert change.requirement.online_cap is None
    assert change.job is None  # nothing members' requirements depend on changed


def test_the_live_short_list_equals_the_one_from_stored_states(
    tree: Tree, admin: Any, mixed: dict[str, Member]
) -> None:
    """DOMAIN_RULES 学时: the counted hours as SQL (live) equal those of the stored states."""
    rule(tree.root, counts_online=True, online_cap=D(8), counts_self=True, self_cap=D(1))

    def rows(queryset: Any) -> list[tuple[Any, ...]]:
        return sorted((m.name, m.lh_counted, m.lh_missing, m.lh_ok) for m in queryset)

    live = members_with_requirement(user=admin, organization=tree.root, year=YEAR).filter(
        lh_group__in=["general", "cadre"],  # type: ignore[misc]  # django-stubs: __in on an annotation
        lh_ok=0,
    )
    assert rows(learning_short_list(user=admin, organization=tree.root, year=YEAR)) == rows(live)
    assert {m.name: m.lh_counted for m in live} == {"甲小组自学": D(31)}


@pytest.mark.parametrize(
    ("figures", "values", "met"),
    [
        (YearFigures(collective=D(30), online=D(10)), {}, False),
        (YearFigures(collective=D(30), online=D(10)), {"counts_online": True, "online_cap": D(8)}, True),
        (YearFigures(collective=D(30), online=D(10)), {"counts_online": True, "online_cap": D(1)}, False),
        (YearFigures(collective=D(31), self_study=D("0.5")), {"counts_self": True}, False),
        (YearFigures(collective=D(31), self_study=D("1")), {"counts_self": True}, True),
        (YearFigures(concentrated=D(32), online=D(5)), {}, True),
    ],
)
def test_python_and_sql_agree_on_met(
    tree: Tree, admin: Any, figures: YearFigures, values: dict[str, Any], met: bool
) -> None:
    """DOMAIN_RULES 学时: ``requirement_met`` and its SQL (live summary, recount, flags) agree."""
    if values:
        rule(tree.root, **values)
    member = make_member(tree.branch_a)
    for kind, amount in (
        ("concentrated", figures.concentrated),
        ("collective", figures.collective),
        ("online", figures.online),
        ("self", figures.self_study),
    ):
        if amount:
            record(member, kind, float(amount))
    assert requirement_met(member_requirement(member), figures) is met
    live = members_with_requirement(user=admin, organization=tree.root, year=YEAR).get(pk=member.pk)
    assert (live.lh_ok == 1, flag(member)) == (met, met)


# --- rule 1: what members and secretaries see -------------------------------------------------------


def test_the_hours_page_says_what_counts_and_shows_both_figures(
    client: Any, tree: Tree, admin: Any, thirty_and_ten: Member
) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条): the member sees all hours by kind and those that count."""
    client.force_login(admin)
    html = client.get(
        reverse("learning:member_hours", args=[thirty_and_ten.pk]) + f"?year={YEAR}"
    ).content.decode()
    assert "计入学时要求的是：集中培训、集体学习。网络学习和自学单独显示，不计入。" in html
    assert "2026年共学 40 学时，其中 30 学时计入要求。" in html
    assert "不计入要求" in html  # under the 10 网络学习 hours


def test_the_hours_page_names_the_cap(client: Any, tree: Tree, admin: Any, thirty_and_ten: Member) -> None:
    """DOMAIN_RULES 学时 (local): the cap is said in plain words."""
    rule(tree.root, counts_online=True, online_cap=D(8))
    client.force_login(admin)
    html = client.get(
        reverse("learning:member_hours", args=[thirty_and_ten.pk]) + f"?year={YEAR}"
    ).content.decode()
    assert "计入学时要求的是：集中培训、集体学习、网络学习（每年最多8学时）。自学单独显示，不计入。" in html
    assert "计入 8" in html


def test_the_api_returns_counted_beside_earned(tree: Tree, thirty_and_ten: Member) -> None:
    """DOMAIN_RULES 学时 (条例 第二十条): ``counted`` beside ``earned``, with what counts."""
    rule(tree.root, counts_online=True, online_cap=D(8))
    viewer = make_user(role="org_admin", org=tree.root)
    body = api_client(viewer).get(f"/api/v1/members/{thirty_and_ten.pk}/learning-hours/?year={YEAR}").json()
    assert (body["earned"], body["counted"], body["missing"], body["completed"]) == (40, 38, 0, True)
    assert body["counted_by_kind"] == {"concentrated": 0, "collective": 30, "online": 8, "self": 0}
    assert body["counting"] == {"online": True, "online_cap": 8, "self": False, "self_cap": None}
    assert body["concentrated_training"]["needed"] is False


def test_the_requirement_form_shows_the_counting_fields(client: Any, tree: Tree, admin: Any) -> None:
    """DOMAIN_RULES 学时 (local): the rule's counting is set on the requirement page."""
    client.force_login(admin)
    html = client.get(reverse("learning:requirement_set") + f"?organization={tree.root.pk}").content.decode()
    for label in (
        "网络学习学时计入每年要求",
        "网络学习每年最多计入（学时）",
        "自学学时计入每年要求",
        "不是培训班结业的，集中培训须满（学时）",
    ):
        assert label in html


def test_the_requirement_form_saves_the_counting_and_recounts(
    client: Any, tree: Tree, admin: Any, thirty_and_ten: Member
) -> None:
    """DOMAIN_RULES 学时 (local): saving the form stores the counting and queues the recount."""
    client.force_login(admin)
    data = {
        "organization": tree.root.pk,
        "general_hours": "32",
        "cadre_hours": "56",
        "cadre_needs_concentrated": "on",
        "cadre_concentrated_min_hours": "8",
        "candidate_hours": "24",
        "counts_online": "on",
        "online_cap": "8",
        "self_cap": "",
        "online_daily_cap_minutes": "120",
    }
    with jobs_run():
        response = client.post(reverse("learning:requirement_set"), data)
    assert response.status_code == 302
    saved = HourRequirement.objects.get(organization=tree.root)
    assert (saved.counts_online, saved.online_cap, saved.counts_self, saved.self_cap) == (
        True,
        D(8),
        False,
        None,
    )
    assert flag(thirty_and_ten)
    html = client.get(reverse("learning:requirement_list")).content.decode()
    assert "网络学习（每年最多 8 学时）" in html


# --- rule 3: one concentrated training a year for secretaries and committee members ------------------


@pytest.fixture
def secretary(tree: Tree) -> Member:
    """A branch secretary with the 56 hours already in 集体学习."""
    member = make_member(tree.branch_a, "书记", categories=["secretary"])
    record(member, "collective", 56)
    return member


def make_class(
    tree: Tree,
    sessions: int = 3,
    *,
    hours: float = 2,
    end: date = date(YEAR, 6, 30),
    ratio: str = "0.80",
    credited: list[Decimal | None] | None = None,
) -> tuple[TrainingClass, list[Activity]]:
    """A training class of ``sessions`` sessions of ``hours`` each (集中培训), ending on ``end``."""
    tc = TrainingClass.objects.create(
        organization=tree.district_a,
        name="基层党组织书记培训班",
        start_date=end - timedelta(days=30),
        end_date=end,
        completion_ratio=D(ratio),
    )
    activities = []
    for n in range(sessions):
        start = local(end.year, end.month, 1 + n, 9)
        activity = make_activity(
            tree.district_a,
            activity_type="training_session",
            topic=f"第{n + 1}讲",
            start=start,
            hours=hours,
            credited_hours=(credited or [None] * sessions)[n],
        )
        Activity.objects.filter(pk=activity.pk).update(training_class=tc)
        activities.append(activity)
    return tc, activities


def test_four_concentrated_hours_are_not_a_concentrated_training(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划): 4 学时 of 集中培训 is not one."""
    record(secretary, "concentrated", 4)
    hours = member_learning_hours(user=admin, member=secretary, year=YEAR)
    assert hours.missing == 0
    assert not hours.concentrated_ok and not hours.completed
    assert not flag(secretary)


def test_eight_concentrated_hours_are_a_concentrated_training(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划; local: one full day = 8 学时)."""
    record(secretary, "concentrated", 8)
    hours = member_learning_hours(user=admin, member=secretary, year=YEAR)
    assert (hours.concentrated_ok, hours.concentrated_by, hours.completed) == (True, "hours", True)
    assert flag(secretary)


def test_a_completed_training_class_of_six_hours_is_a_concentrated_training(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划): a completed class (结业), however short."""
    tc, sessions = make_class(tree, 3, hours=2)
    for session in sessions:
        attend(session, secretary)
    hours = member_learning_hours(user=admin, member=secretary, year=YEAR)
    assert hours.by_kind["concentrated"] == D(6)
    assert (hours.concentrated_ok, hours.concentrated_by, hours.completed) == (True, "class", True)
    assert [c.name for c in hours.classes] == [tc.name]
    stored = MemberYearHours.objects.get(member=secretary, year=YEAR)
    assert (stored.classes_completed, stored.completed) == (1, True)
    assert_ledger_equals_rebuild()


def test_a_class_not_completed_is_not_a_concentrated_training(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划): 2 of 3 sessions is below 80 %."""
    _tc, sessions = make_class(tree, 3, hours=2)
    attend(sessions[0], secretary)
    attend(sessions[1], secretary)
    attend(sessions[2], secretary, "absent")
    hours = member_learning_hours(user=admin, member=secretary, year=YEAR)
    assert (hours.by_kind["concentrated"], hours.classes, hours.concentrated_ok) == (D(4), [], False)
    assert not flag(secretary)
    assert MemberYearHours.objects.get(member=secretary, year=YEAR).classes_completed == 0
    assert_ledger_equals_rebuild()


def test_a_confirmed_makeup_completes_the_class(tree: Tree, admin: Any, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": 补学 confirmed counts as attending a session."""
    from django.utils import timezone

    _tc, sessions = make_class(tree, 2, hours=2, ratio="1.00")
    attend(sessions[0], secretary)
    attend(sessions[1], secretary, "makeup")
    assert not flag(secretary)
    attend(sessions[1], secretary, "makeup", makeup_confirmed_at=timezone.now())
    assert flag(secretary)
    assert_ledger_equals_rebuild()


def test_a_class_completed_without_new_hours_still_refreshes_the_flag(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": the closing session credits no hours, yet
    attending it completes the class — the flag follows although no ledger line is appended."""
    _tc, sessions = make_class(tree, 3, hours=2, ratio="1.00", credited=[None, None, D(0)])
    attend(sessions[0], secretary)
    attend(sessions[1], secretary)
    assert not flag(secretary)
    lines = secretary.hour_entries.count()
    attend(sessions[2], secretary)
    assert secretary.hour_entries.count() == lines
    assert flag(secretary)
    assert learning_summary(user=admin, organization=tree.root, year=YEAR).groups["cadre"].completed == 1
    # and back when the attendance is corrected
    attend(sessions[2], secretary, "absent")
    assert not flag(secretary)
    assert_ledger_equals_rebuild()


def test_a_class_ending_next_year_counts_for_next_year(tree: Tree, admin: Any, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": the class counts in the year of its end date."""
    _tc, sessions = make_class(tree, 2, hours=2, end=date(YEAR + 1, 1, 20))
    for session in sessions:
        attend(session, secretary)
    assert member_learning_hours(user=admin, member=secretary, year=YEAR).classes == []
    assert MemberYearHours.objects.get(member=secretary, year=YEAR + 1).classes_completed == 1
    assert_ledger_equals_rebuild()


def test_the_rebuild_finds_and_corrects_a_wrong_class_count(tree: Tree, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": ``learning_hours_rebuild`` proves the flags."""
    _tc, sessions = make_class(tree, 2, hours=2)
    for session in sessions:
        attend(session, secretary)
    MemberYearHours.objects.filter(member=secretary, year=YEAR).update(classes_completed=0, completed=False)
    report = learning_hours_rebuild(apply=False)
    assert (report.year_hours, report.completion_flags) == (1, 0)
    assert any("结业培训班" in line for line in report.samples)
    learning_hours_rebuild(apply=True)
    assert flag(secretary)
    assert_ledger_equals_rebuild()


def test_a_lower_minimum_of_concentrated_hours_is_recounted(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (local, configurable): 4 学时 where the rule says 4."""
    record(secretary, "concentrated", 4)
    assert not flag(secretary)
    change = rule(tree.branch_a, cadre_concentrated_min_hours=D(4))
    assert change.job is not None and change.job.result["completions_changed"] == 1
    assert flag(secretary)
    assert_rows_equal_live(tree, admin)


def test_a_minimum_of_zero_hours_is_refused(tree: Tree) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": at least some 集中培训 is always asked."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        hour_requirement_set(actor=None, organization=tree.root, data={"cadre_concentrated_min_hours": D(0)})
    assert "cadre_concentrated_min_hours" in exc.value.message_dict


def test_the_page_says_what_is_missing(client: Any, tree: Tree, admin: Any, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": the member reads what is missing."""
    record(secretary, "concentrated", 4)
    client.force_login(admin)
    html = client.get(
        reverse("learning:member_hours", args=[secretary.pk]) + f"?year={YEAR}"
    ).content.decode()
    assert "尚未完成一次集中培训：需结业一个培训班，或集中培训满8学时（本年已有集中培训 4 学时）。" in html


def test_the_page_says_which_way_it_was_met(client: Any, tree: Tree, admin: Any, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": the member reads how it was met."""
    tc, sessions = make_class(tree, 2)
    for session in sessions:
        attend(session, secretary)
    client.force_login(admin)
    html = client.get(
        reverse("learning:member_hours", args=[secretary.pk]) + f"?year={YEAR}"
    ).content.decode()
    assert f"已完成一次集中培训：“{tc.name}”结业。" in html


def test_the_api_says_how_the_concentrated_training_was_met(tree: Tree, secretary: Member) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training": the API names the class."""
    tc, sessions = make_class(tree, 2)
    for session in sessions:
        attend(session, secretary)
    viewer = make_user(role="org_admin", org=tree.root)
    body = api_client(viewer).get(f"/api/v1/members/{secretary.pk}/learning-hours/?year={YEAR}").json()
    training = body["concentrated_training"]
    assert (training["needed"], training["met"], training["by"], training["min_hours"]) == (
        True,
        True,
        "class",
        8,
    )
    assert [c["name"] for c in training["classes"]] == [tc.name]


def test_member_hours_of_a_general_member_stay_two_queries(
    tree: Tree, admin: Any, thirty_and_ten: Member, django_assert_num_queries: Any
) -> None:
    """The training classes are read only for a requirement of one concentrated training."""
    member_learning_hours(user=admin, member=thirty_and_ten, year=YEAR)
    with django_assert_num_queries(2):
        member_learning_hours(user=admin, member=thirty_and_ten, year=YEAR)


def test_members_changed_keeps_the_counting_in_step(tree: Tree, admin: Any, thirty_and_ten: Member) -> None:
    """DOMAIN_RULES 学时: a member moving into a subtree that counts online study is recounted."""
    from partyedu.members.services import member_transfer

    rule(tree.branch_b, counts_online=True, online_cap=D(8))
    member_transfer(actor=None, member=thirty_and_ten, to_organization=tree.branch_b, reason="工作调动")
    learning_members_changed(member_ids=[thirty_and_ten.pk])
    assert flag(thirty_and_ten)
    assert_rows_equal_live(tree, admin)


def test_lowering_a_class_ratio_completes_it_for_members_already_marked(
    tree: Tree, admin: Any, secretary: Member
) -> None:
    """DOMAIN_RULES 学时 "≥ 1 concentrated training" (规划): completion (结业) is judged by the class's
    ratio, so changing the ratio re-checks every enrolled member at once — not at their next
    attendance change."""
    from partyedu.study.services import training_class_update

    tc, sessions = make_class(tree, 3, hours=2)
    attend(sessions[0], secretary)
    attend(sessions[1], secretary)
    attend(sessions[2], secretary, "absent")
    assert not flag(secretary)
    training_class_update(actor=None, training_class=tc, data={"completion_ratio": "0.60"})
    assert flag(secretary)
    assert_ledger_equals_rebuild()

import hashlib
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from partyedu.accounts.models import RoleAssignment, User
from partyedu.demo.seed import DEMO_PASSWORD, REFERENCE_DATE, DemoPlan, add_years
from partyedu.demo.study import STUDY_FROM, STUDY_UNTIL, StudyPlanner, plan_people
from partyedu.demo.testing import seeded_once
from partyedu.learning.models import LearningHourEntry
from partyedu.learning.services import learning_hours_rebuild
from partyedu.lectures.models import (
    Lecture,
    Lecturer,
    LibraryItem,
    Rotation,
    TopicCall,
)
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization
from partyedu.study.models import (
    Activity,
)
from partyedu.testsupport.factories import make_tree

MEMBERS = 300
SEED = 7


def seed(**options):
    out = io.StringIO()
    call_command("seed_demo", members=MEMBERS, seed=SEED, stdout=out, **options)
    return out.getvalue()


def digest(orgs, members):
    """One hash over the tree (path, code, name, level) and the members (their organisation's path,
    name, ID number, status, dates and categories), both in a fixed order."""
    h = hashlib.sha256()
    for row in sorted(orgs):
        h.update(repr(row).encode())
    for row in sorted(members):
        h.update(repr(row).encode())
    return h.hexdigest()


def plan_digest(members=MEMBERS, seed_value=SEED):
    plan = DemoPlan(members, seed_value)
    paths = {o.index: o.path for o in plan.orgs}
    orgs = [(o.path, o.code, o.name, o.level) for o in plan.orgs]
    rows = [
        (paths[m.org], m.name, m.id_number, m.status, m.joined_on, m.full_member_on, tuple(m.categories))
        for m in plan.members()
    ]
    return digest(orgs, rows)


def planned_members():
    """The members of the plan: the development demo then adds the people it takes onto the roll
    (each with a development case)."""
    return Member.objects.filter(development_case__isnull=True)


def db_digest():
    orgs = list(Organization.objects.values_list("path", "code", "name", "level"))
    rows = [
        (
            m.organization.path,
            m.name,
            m.id_number,
            m.status,
            m.joined_on,
            m.full_member_on,
            tuple(m.categories),
        )
        for m in planned_members().select_related("organization")
    ]
    return digest(orgs, rows)


# --- The plan, without the database ------------------------------------------------------------------


def test_same_seed_gives_the_same_plan_and_another_seed_does_not():
    assert plan_digest() == plan_digest()
    assert plan_digest(seed_value=SEED + 1) != plan_digest()


def test_a_larger_city_has_realistic_branch_sizes_and_a_few_outside_the_rules():
    plan = DemoPlan(5000, 1)
    members = list(plan.members())
    sizes = [o.size for o in plan.orgs if o.level == OrgLevel.BRANCH]
    assert len(members) == 5000 == sum(sizes)
    assert sum(8 <= s <= 30 for s in sizes) / len(sizes) > 0.6
    assert any(s < 3 for s in sizes) and any(s > 50 for s in sizes)
    assert all(s <= 60 for s in sizes)


def test_members_cover_the_categories_statuses_and_names_of_real_practice():
    members = list(DemoPlan(5000, 1).members())
    categories = Counter(c for m in members for c in m.categories)
    assert set(categories) == set(MemberCategory.values)
    statuses = Counter(m.status for m in members)
    assert statuses[MemberStatus.FULL] / len(members) > 0.8
    for status in (MemberStatus.PROBATIONARY, MemberStatus.CANDIDATE, MemberStatus.ACTIVIST):
        assert statuses[status] > 0
    assert any(m.name.startswith(("欧阳", "司马", "上官", "诸葛")) for m in members)
    assert {len(m.name) for m in members} >= {2, 3}
    assert Counter(m.ethnicity for m in members)["汉族"] / len(members) > 0.9


def test_party_dates_follow_the_rules():
    for m in DemoPlan(3000, 2).members():
        adult = add_years(m.birth_date, 18)
        if m.status == MemberStatus.FULL:
            assert adult <= m.joined_on
            assert m.full_member_on == add_years(m.joined_on, 1) < REFERENCE_DATE
        elif m.status == MemberStatus.PROBATIONARY:
            assert adult <= m.joined_on < REFERENCE_DATE <= add_years(m.joined_on, 1)
            assert m.full_member_on is None
        else:
            assert m.joined_on is None and m.full_member_on is None
            assert adult <= REFERENCE_DATE
        if m.is_exempt:
            assert MemberCategory.FRAIL in m.categories and "送学上门" in m.exempt_reason
        if m.phone:
            assert len(m.phone) == 11 and m.phone[0] == "1" and m.phone[1] in "3456789"


def test_each_branch_has_one_secretary_and_a_committee_when_large_enough():
    plan = DemoPlan(2000, 3)
    by_branch: dict[int, Counter] = {}
    for m in plan.members():
        by_branch.setdefault(m.branch, Counter())[m.role] += 1
    for org in plan.orgs:
        if org.level == OrgLevel.BRANCH:
            assert by_branch[org.index]["secretary"] == 1
            assert (by_branch[org.index]["committee"] >= 2) == (org.size >= 7)


def test_plan_refuses_a_tiny_city():
    with pytest.raises(ValueError, match="演示数据至少需要"):
        DemoPlan(10, 1)


# --- The command ------------------------------------------------------------------------------------------


def roles_of(username):
    return [(a.role.code, a.organization) for a in RoleAssignment.objects.filter(user__username=username)]


@pytest.mark.django_db
def test_refuses_on_a_database_with_data():
    make_tree()
    before = Organization.objects.count()
    assert "数据库已有数据，未重复生成" in seed()
    assert Organization.objects.count() == before
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_refuses_in_production(settings):
    settings.ALLOW_DEMO_SEED = False
    with pytest.raises(CommandError, match="不允许"):
        seed()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_refuses_too_few_members():
    with pytest.raises(CommandError):
        call_command("seed_demo", members=5, stdout=io.StringIO())


@pytest.mark.django_db
def test_demo_accounts_on_an_empty_database_says_how_to_seed():
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "seed_demo" in out.getvalue()


# --- The year of study ----------------------------------------------------------------------------------

AS_OF = STUDY_UNTIL + timedelta(days=1)


def study_digest(acts):
    h = hashlib.sha256()
    for a in acts:
        h.update(repr((a.org, a.activity_type, a.topic, a.start, a.end, a.required_topic, a.rows)).encode())
    return h.hexdigest()


def planned_study(members=MEMBERS, seed_value=SEED):
    plan = DemoPlan(members, seed_value)
    planner = StudyPlanner(plan, plan_people(plan), seed_value)
    return [*planner.class_a()[1], *planner.class_b()[1], *planner.acts()]


def db_study_digest():
    """Activities (organisation, type, topic, times, required topic) and their attendance (member
    by ID number, status, invitee, confirmed 补学), independent of database ids."""
    rows = []
    for a in Activity.objects.select_related("organization", "required_topic"):
        marks = sorted(
            (m.member.id_number, m.status, m.is_invitee, m.makeup_confirmed_at is not None)
            for m in a.attendances.select_related("member")
        )
        topic = a.required_topic.title if a.required_topic else ""
        rows.append(repr((a.organization.path, a.activity_type, a.topic, a.start, a.end, topic, marks)))
    # Sorted whole: two visits of the same type, time and topic to different homes differ only
    # by their attendance, which the database may return in either order.
    h = hashlib.sha256()
    for row in sorted(rows):
        h.update(row.encode())
    return h.hexdigest()


def test_the_study_year_is_the_same_for_a_seed_and_stays_in_the_demo_year():
    acts = planned_study()
    assert study_digest(acts) == study_digest(planned_study())
    assert study_digest(acts) != study_digest(planned_study(seed_value=SEED + 1))
    assert all(STUDY_FROM <= a.start.date() <= STUDY_UNTIL and a.end > a.start for a in acts)
    assert all(a.rows for a in acts)


def test_retirees_and_floating_members_attend_less_than_those_in_work():
    plan = DemoPlan(3000, 4)
    people = plan_people(plan)
    planner = StudyPlanner(plan, people, 4)
    by_pk = {p.pk: p for p in people}
    came: dict[str, Counter] = {"floating": Counter(), "retired": Counter(), "employed": Counter()}
    for a in planner.acts():
        if a.activity_type != "theme_day":
            continue
        for member, _invitee, status, *_ in a.rows:
            p = by_pk[member]
            if p.role != "member" or p.exempt:
                continue
            group = next((c for c in ("floating", "retired", "employed") if c in p.categories), None)
            if group:
                came[group][status in ("present", "late")] += 1

    def rate(group):
        return came[group][True] / (came[group][True] + came[group][False])

    assert rate("floating") < rate("retired") < rate("employed")
    assert rate("employed") > 0.85


@pytest.mark.django_db
def test_no_study_seeds_only_the_city():
    output = seed(no_study=True)
    assert Member.objects.count() == MEMBERS
    assert not Activity.objects.exists() and not LearningHourEntry.objects.exists()
    assert "学习活动" not in output


def db_lecture_digest():
    """Lecturers (pool, name, category, title, tags), lectures (activity, title, type, speakers
    with their cross flag), ratings (member by ID number, score, comment), the rotation, the call
    and the library, independent of database ids."""
    h = hashlib.sha256()
    for lecturer in Lecturer.objects.select_related("organization").prefetch_related("tags"):
        tags = sorted(t.name for t in lecturer.tags.all())
        h.update(
            repr(
                (lecturer.organization.path, lecturer.name, lecturer.category, lecturer.title, tags)
            ).encode()
        )
    lectures = Lecture.objects.select_related("activity__organization").order_by(
        "activity__organization__path", "activity__start", "title"
    )
    for lecture in lectures:
        speakers = sorted(lecture.speakers.values_list("lecturer__name", "is_cross"))
        ratings = sorted(lecture.ratings.values_list("member__id_number", "score", "comment"))
        activity = lecture.activity
        row = (
            activity.organization.path,
            activity.start,
            lecture.title,
            lecture.lecture_type,
            speakers,
            ratings,
        )
        h.update(repr(row).encode())
    slots = Rotation.objects.values_list("slots__date", "slots__member__id_number", "slots__topic")
    proposals = TopicCall.objects.values_list(
        "proposals__title", "proposals__organization__path", "proposals__is_key"
    )
    items = LibraryItem.objects.values_list("resource__title", "lecturer__name", "honour", "sort_order")
    h.update(repr((sorted(slots), sorted(proposals), sorted(items))).encode())
    return h.hexdigest()


# --- A forced reseed -------------------------------------------------------------------------------------
# One seed and one forced reseed of the smallest demo city for the class (clearing a demo inside the
# test's transaction is the longest step of this module on PostgreSQL, and grows with the city); the
# tests compare what was there before and after.

RESEED_MEMBERS = 100


def reseed(**options):
    out = io.StringIO()
    call_command("seed_demo", members=RESEED_MEMBERS, seed=SEED, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="class")
def reseeded(django_db_setup, django_db_blocker):
    def seed_twice():
        reseed()
        before = {"data": db_digest(), "study": db_study_digest(), "lectures": db_lecture_digest()}
        output = reseed(force=True)
        after = {"data": db_digest(), "study": db_study_digest(), "lectures": db_lecture_digest()}
        return before, output, after

    with seeded_once(django_db_blocker, seed_twice) as value:
        yield value


@pytest.mark.django_db
class TestAForcedReseed:
    def test_says_it_cleared_the_demo(self, reseeded, db):
        _before, output, _after = reseeded
        assert "已清除" in output

    def test_writes_the_same_tree_and_members(self, reseeded, db):
        before, _output, after = reseeded
        assert after["data"] == before["data"] == plan_digest(members=RESEED_MEMBERS)
        assert planned_members().count() == RESEED_MEMBERS

    def test_keeps_the_demo_password(self, reseeded, db):
        assert User.objects.get(username="branch_sec").check_password(DEMO_PASSWORD)

    def test_writes_the_same_study_year_and_lectures(self, reseeded, db):
        before, _output, after = reseeded
        assert (after["study"], after["lectures"]) == (before["study"], before["lectures"])

    def test_leaves_a_ledger_equal_to_a_rebuild(self, reseeded, db):
        assert learning_hours_rebuild(apply=False).differences == 0

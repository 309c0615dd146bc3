"""The demo as seeded with the defaults: every test reads the standard demo, seeded once and shared by
consecutive modules (``partyedu.demo.testing``)."""

import io
import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from partyedu.accounts.models import PiiGrant, User
from partyedu.core.models import AuditLog
from partyedu.demo.development import recorded_activities_q
from partyedu.demo.lectures import CALL_DEADLINE, ROTATION_START, ROTATION_WEEKS, SERIES_TITLE
from partyedu.demo.seed import DEMO_PASSWORD, DISTRICTS
from partyedu.demo.study import STUDY_FROM, STUDY_UNTIL, STUDY_YEAR
from partyedu.demo.testing import on_standard_demo
from partyedu.learning.conversion import DEFAULT_CREDIT_MODES
from partyedu.learning.models import LearningHourEntry, MemberYearHours, OnlineResource, ResourceProgress
from partyedu.learning.selectors import learning_short_list, learning_summary
from partyedu.learning.services import learning_hours_rebuild
from partyedu.lectures.models import (
    Lecture,
    Lecturer,
    LectureRating,
    LectureSpeaker,
    LibraryItem,
    Rotation,
    TopicCall,
    TopicTask,
)
from partyedu.lectures.selectors import (
    ATTENDED_Q,
    lecture_duty,
    library_showing,
    my_lectures_attended,
    my_rated_lecture_ids,
    my_topic_tasks,
)
from partyedu.lectures.services import is_cross_lecture
from partyedu.members.choices import MemberCategory
from partyedu.members.idnumber import parse_id_number
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.choices import MEMBER_LEVELS, OrgLevel
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_create, rebuild_org_paths
from partyedu.study.models import (
    Activity,
    Attendance,
    EducationBase,
    StudyMaterial,
    StudyPlan,
    TeachingSite,
    TrainingClass,
)
from partyedu.study.selectors import cadence_report, class_completion, plan_coverage

from .test_seed_demo import AS_OF, MEMBERS, db_digest, plan_digest, planned_members, roles_of

pytestmark = pytest.mark.standard_demo


# --- The seeded demo ----------------------------------------------------------------------------------
# The tests below only read a demo seeded with the defaults, so they share one seed (each runs in a
# savepoint of it: partyedu.demo.testing); the tests above seed, reseed or refuse to seed themselves.


@pytest.fixture(scope="class")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo (the defaults above), seeded once for consecutive modules
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output


@pytest.fixture
def seeded(seeded_demo, db):
    """What the seed printed; the demo itself is seen from this test's own transaction."""
    return seeded_demo


@pytest.mark.django_db
@pytest.mark.standard_demo
class TestTheSeededDemo:
    def test_paths_are_those_the_services_would_write(self, seeded):
        assert rebuild_org_paths() == 0
        root = Organization.objects.get(depth=0)
        created = organization_create(
            actor=None,
            parent=root,
            name="新设工委",
            code="QC-NEW",
            level=OrgLevel.WORKING_COMMITTEE,
            org_type="organ",
        )
        assert created.path == root.path + "0008"  # six districts and one city unit come first
        assert Organization.objects.filter(code="QC").get().name_initials.strip()

    def test_demo_accounts_lists_the_seeded_accounts(self, seeded):
        out = io.StringIO()
        call_command("demo_accounts", stdout=out)
        text = out.getvalue()
        for username in ("city_admin", "district_admin", "branch_sec", "member1", "reviewer6", "auditor"):
            assert username in text
        assert DEMO_PASSWORD in text and "敏感信息授权" in text

    # The command

    def test_seed_writes_exactly_the_plan(self, seeded):
        output = seeded
        assert planned_members().count() == MEMBERS
        assert db_digest() == plan_digest()
        assert "演示账号" in output and "city_admin" in output
        assert AuditLog.objects.filter(object_type="core.demo_seed").count() == 1

    def test_id_numbers_are_valid_and_match_birth_date_and_gender(self, seeded):
        members = list(Member.objects.all())
        assert len({m.id_number for m in members}) == len(members)
        for m in members:
            info = parse_id_number(m.id_number)
            assert (info.birth_date, info.gender) == (m.birth_date, m.gender)
            assert m.id_number[:2] == "37"

    def test_every_member_is_in_a_branch_or_group(self, seeded):
        assert not Member.objects.exclude(organization__level__in=MEMBER_LEVELS).exists()

    def test_demo_accounts_hold_the_stated_roles(self, seeded):
        root = Organization.objects.get(depth=0)
        for username, role in (("sysadmin", "sysadmin"), ("secadmin", "secadmin"), ("auditor", "auditor")):
            assert roles_of(username) == [(role, root)]
        assert roles_of("city_admin") == [("org_admin", root)]
        assert PiiGrant.objects.filter(user__username="city_admin", organization=root).exists()
        [(role, district)] = roles_of("district_admin")
        assert role == "org_admin" and district.depth == 1 and district.name.endswith("区委员会")
        for user in User.objects.filter(username__in=["city_admin", "branch_sec", "member1", "reviewer1"]):
            assert user.display_name and user.check_password(DEMO_PASSWORD)

    def test_branch_secretary_and_member_share_a_real_branch(self, seeded):
        [(role, branch)] = roles_of("branch_sec")
        assert role == "branch_admin" and branch.level == OrgLevel.BRANCH
        assert branch.members.count() >= 10
        assert roles_of("member1") == [("member", branch)]
        sec = Member.objects.get(user__username="branch_sec")
        assert sec.organization == branch and MemberCategory.SECRETARY in sec.categories
        assert Member.objects.get(user__username="member1").organization == branch
        assert User.objects.get(username="branch_sec").mobile == sec.phone

    def test_reviewers_sit_in_six_different_districts(self, seeded):
        districts = set()
        for i in range(1, 7):
            [(role, branch)] = roles_of(f"reviewer{i}")
            assert role == "reviewer" and branch.level == OrgLevel.BRANCH
            assert Member.objects.get(user__username=f"reviewer{i}").organization.path.startswith(branch.path)
            districts.add(branch.path[:8])
        assert len(districts) == len(DISTRICTS) == 6

    # The year of study

    def test_seed_writes_a_year_of_study_and_prints_its_summary(self, seeded):
        output = seeded
        for words in ("学习活动", "出勤记录", "学时台账", "应达标", "支部书记达标"):
            assert words in output
        assert Activity.objects.count() > 300 and Attendance.objects.count() > 3000
        types = set(Activity.objects.values_list("activity_type", flat=True))
        assert {
            "theme_day",
            "branch_assembly",
            "party_lecture",
            "branch_committee",
            "central_group_study",
            "reading_class",
            "training_session",
            "online_class",
            "home_delivery",
        } <= types
        statuses = set(Attendance.objects.values_list("status", flat=True))
        assert {"present", "late", "leave", "absent", "makeup"} <= statuses
        assert Attendance.objects.filter(status="makeup", makeup_confirmed_at__isnull=False).exists()
        assert Attendance.objects.filter(status="makeup", makeup_confirmed_at__isnull=True).exists()
        # The type is shown by the activity and the ledger line; the topic does not repeat it.
        for activity in Activity.objects.all():
            assert not activity.topic.startswith(activity.get_activity_type_display()), activity.topic
        line = LearningHourEntry.objects.filter(source_type="attendance").first().description
        assert re.fullmatch(r"2026-\d\d-\d\d \S+：.+（(出席|迟到|补学)(，[^）]+)?）", line), line
        # The study year; the workbench seed adds one activity ahead of today for member1's to-dos.
        from partyedu.demo.supervision_workbench import UPCOMING_TOPIC

        # The development seed records the 支部党员大会 and training of earlier years its cases need;
        # the service seed's volunteer activities include some still open for sign-up.
        year = (
            Activity.objects.exclude(topic=UPCOMING_TOPIC)
            .exclude(recorded_activities_q())
            .exclude(activity_type="volunteer_service")
            .order_by("start")
        )
        first, last = year.first(), year.last()
        assert timezone.localdate(first.start) >= STUDY_FROM and timezone.localdate(last.start) <= STUDY_UNTIL
        assert AuditLog.objects.filter(object_type="core.demo_seed").count() == 1

    def test_the_ledger_after_seeding_equals_a_rebuild_from_the_sources(self, seeded):
        assert LearningHourEntry.objects.count() > 3000
        report = learning_hours_rebuild(apply=False)
        assert report.differences == 0, report.samples
        # Every credited attendance has exactly its hours in the ledger, and nothing else is credited —
        # but for the types that credit nothing or only a study part (none recorded), by default.
        modes = DEFAULT_CREDIT_MODES.items()
        by_type = Q(activity__activity_type__in=[t for t, mode in modes if mode == "none"]) | Q(
            activity__activity_type__in=[t for t, mode in modes if mode == "study_part"],
            activity__study_minutes__isnull=True,
        )
        credited = Attendance.objects.filter(
            Q(status__in=("present", "late")) | Q(status="makeup", makeup_confirmed_at__isnull=False)
        ).exclude(by_type & Q(activity__credited_hours__isnull=True))
        assert LearningHourEntry.objects.filter(source_type="attendance").count() == credited.count()
        assert LearningHourEntry.objects.filter(source_type="resource").count() == (
            ResourceProgress.objects.filter(completed_at__isnull=False).count()
        )

    def test_some_members_are_short_most_secretaries_are_not_and_exempt_members_stand_apart(self, seeded):
        root = Organization.objects.get(depth=0)
        city_admin = User.objects.get(username="city_admin")
        summary = learning_summary(user=city_admin, organization=root, year=STUDY_YEAR)
        assert summary.source == "summary"
        developed = Member.objects.filter(development_case__isnull=False).count()
        assert summary.members == MEMBERS + developed and summary.exempt > 0
        assert 0.4 < summary.completion_rate < 0.95
        short = list(learning_short_list(user=city_admin, organization=root, year=STUDY_YEAR))
        assert len(short) == summary.required_members - summary.completed > 0
        secretaries = Member.objects.filter(has_category_q(MemberCategory.SECRETARY), is_exempt=False)
        done = MemberYearHours.objects.filter(year=STUDY_YEAR, completed=True, member__in=secretaries).count()
        assert done > secretaries.count() / 2
        # Exempt members are served at home: 送学上门 with that member alone on the roster.
        for member in Member.objects.filter(is_exempt=True)[:5]:
            visits = Activity.objects.filter(activity_type="home_delivery", attendances__member=member)
            assert visits.exists()
            assert all(v.attendances.count() == 1 for v in visits)

    def test_cadence_has_gaps_in_some_branches_but_most_meetings_are_held(self, seeded):
        root = Organization.objects.get(depth=0)
        report = cadence_report(
            user=User.objects.get(username="city_admin"),
            organization=root,
            year=STUDY_YEAR,
            as_of=AS_OF,
            kind="branch",
        )
        assert report
        assert any(b.theme_day_missing_months for b in report)
        assert any(b.assembly_missing_quarters or b.lecture_missing_quarters for b in report)
        # Most branches fall short in at most one requirement (支委会 monthly, 支部条例 第十二条, is one
        # of them since the cadence rules cover every level), and some in none.
        assert sum(b.compliant for b in report) > 0
        assert sum(1 for b in report if sum(bool(i.missing) for i in b.items) <= 1) > len(report) / 2
        held = sum(sum(b.item("theme_day").counts[:10]) for b in report if b.item("theme_day"))
        assert held > 0.8 * 10 * len(report)
        # The fourth quarter is under way: reported as pending, never as missing.
        assert all(4 not in b.assembly_missing_quarters for b in report)

    def test_the_study_plan_is_covered_by_most_branches_but_not_all(self, seeded):
        plan = StudyPlan.objects.get()
        assert plan.organization.depth == 0 and plan.year == STUDY_YEAR and 4 <= plan.topics.count() <= 6
        coverage = plan_coverage(plan, User.objects.get(username="city_admin"))
        rates = [t.rate for t in coverage.topics]
        assert rates[0] > 0.7
        assert any(t.missing for t in coverage.topics)
        assert rates[0] > rates[-1]

    def test_classes_sites_bases_resources_and_materials(self, seeded):
        classes = {tc.is_online: tc for tc in TrainingClass.objects.all()}
        assert set(classes) == {False, True}
        offline, online = classes[False], classes[True]
        assert offline.sessions.count() == 16
        assert {timezone.localtime(s.start).weekday() for s in offline.sessions.all()} == {1, 3}
        assert set(online.sessions.values_list("activity_type", flat=True)) == {"online_class"}
        for tc in (offline, online):
            rows = class_completion(
                user=User.objects.get(username="city_admin"),
                training_class=tc,
                at=datetime(2026, 11, 16, tzinfo=timezone.get_default_timezone()),
            )
            assert len(rows) == tc.enrollments.count() >= 10
            assert any(r.completed for r in rows)
        assert not all(
            r.completed
            for r in class_completion(user=User.objects.get(username="city_admin"), training_class=offline)
        )
        assert offline.enrollments.filter(member__status="candidate").exists()
        kinds = Counter(TeachingSite.objects.values_list("kind", flat=True))
        assert kinds["main"] == 1 and kinds["site"] >= 1 and kinds["field_site"] >= 1
        assert 3 <= EducationBase.objects.count() <= 4
        assert Activity.objects.filter(education_base__isnull=False).exists()
        resources = OnlineResource.objects.filter(
            is_published=True, kind="article", library_item__isnull=True
        )
        assert 3 <= resources.count() <= 5 and all(r.body for r in resources)
        assert ResourceProgress.objects.filter(completed_at__isnull=False).exists()
        material = StudyMaterial.objects.get()
        assert material.distributions.count() > 10

    # 「我来讲党课」

    def test_seed_writes_lecturer_pools_lectures_ratings_rotation_call_and_library(self, seeded):
        output = seeded
        for words in (
            "师资库",
            "党课记录",
            "交叉讲党课",
            "尚未讲",
            "支部党课大家讲",
            "选题征集",
            SERIES_TITLE,
        ):
            assert words in output
        root = Organization.objects.get(depth=0)
        city_admin = User.objects.get(username="city_admin")
        branch_sec = User.objects.get(username="branch_sec")
        member1 = User.objects.get(username="member1")
        branch = Member.objects.get(user=branch_sec).organization

        # The pools: the city's and each district's; members are secretaries or leading cadres (or an
        # awarded lecturer of the competition); eight outside lecturers, some with titles and tags.
        districts = Organization.objects.filter(depth=1).filter(
            Q(name__endswith="区委员会") | Q(name__endswith="县委员会")
        )
        assert districts.count() == len(DISTRICTS)
        for district in districts:
            assert Lecturer.objects.filter(organization=district, member__isnull=False).exists()
        outsiders = Lecturer.objects.filter(member__isnull=True)
        assert outsiders.count() == 8 and outsiders.filter(organization=root).count() >= 5
        assert {"party_school", "university", "model", "veteran"} <= set(
            outsiders.values_list("category", flat=True)
        )
        assert Lecturer.objects.filter(title="金牌讲师").count() >= 2
        assert Lecturer.objects.filter(tags__name="党史").exists()
        duty = has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.LEADER)
        secretaries = Member.objects.filter(has_category_q(MemberCategory.SECRETARY), is_exempt=False)
        assert Lecturer.objects.filter(member__in=secretaries).count() == secretaries.count()
        awarded = set(
            Lecturer.objects.filter(member__isnull=False)
            .exclude(member__in=Member.objects.filter(duty))
            .values_list("title", flat=True)
        )
        assert awarded <= {"金牌讲师", "全市优秀党课主讲人"}

        # Lectures on most 党课 activities, each with a speaker, mostly 常规党课, mostly secretaries.
        held = Activity.objects.filter(activity_type="party_lecture").count()
        assert 0.7 * held <= Lecture.objects.count() < held
        assert not Lecture.objects.exclude(activity__activity_type="party_lecture").exists()
        assert not Lecture.objects.filter(speakers__isnull=True).exists()
        types = Counter(Lecture.objects.values_list("lecture_type", flat=True))
        assert types.most_common(1)[0][0] == "standard" and len(types) >= 3
        speakers = list(
            LectureSpeaker.objects.select_related(
                "lecturer__member__organization", "lecture__activity__organization"
            )
        )
        by_secretaries = [
            s for s in speakers if s.lecturer.member and "secretary" in s.lecturer.member.categories
        ]
        assert len(by_secretaries) > len(speakers) / 2
        # The cross flag is the service's rule; some secretaries lecture in another branch.
        for s in speakers:
            assert s.is_cross == is_cross_lecture(s.lecturer, s.lecture.activity.organization.path)
        assert any(s.is_cross and "secretary" in s.lecturer.member.categories for s in speakers)
        assert any(s.lecturer.member_id is None for s in speakers)
        assert my_lectures_attended(user=member1).exists()
        assert Lecture.objects.filter(speakers__lecturer__member__user=branch_sec).exists()

        # Ratings 1–5, mostly 4–5, only by members who attended and did not speak; a few comments.
        ratings = list(LectureRating.objects.select_related("lecture"))
        assert len(ratings) > Lecture.objects.count()
        attended = set(Attendance.objects.filter(ATTENDED_Q).values_list("activity_id", "member_id"))
        spoke = set(LectureSpeaker.objects.values_list("lecture_id", "lecturer__member_id"))
        for r in ratings:
            assert (r.lecture.activity_id, r.member_id) in attended
            assert (r.lecture_id, r.member_id) not in spoke
        scores = Counter(r.score for r in ratings)
        assert (scores[4] + scores[5]) / len(ratings) > 0.7 and set(scores) <= {1, 2, 3, 4, 5}
        assert any(r.comment for r in ratings) and not all(r.comment for r in ratings)
        heard = list(my_lectures_attended(user=member1).values_list("pk", flat=True))
        assert len(my_rated_lecture_ids(user=member1, lecture_ids=heard)) < len(heard)  # one left to rate

        # The duty page has secretaries who have not lectured this year.
        not_yet = lecture_duty(user=city_admin, organization=root, year=STUDY_YEAR, lectured=False)
        assert not_yet.filter(has_category_q(MemberCategory.SECRETARY), is_exempt=False).exists()
        assert lecture_duty(user=city_admin, organization=root, year=STUDY_YEAR, lectured=True).exists()

        # 支部党课大家讲: eight weekly topics for branch_sec's branch, everyone once before anyone twice.
        rotation = Rotation.objects.get()
        assert rotation.organization == branch and rotation.start_date == ROTATION_START
        slots = list(rotation.slots.order_by("date"))
        assert len(slots) == ROTATION_WEEKS
        assert [s.date for s in slots] == [ROTATION_START + timedelta(weeks=n) for n in range(ROTATION_WEEKS)]
        assert len({s.topic for s in slots}) == ROTATION_WEEKS
        assert len({s.member_id for s in slots}) == min(
            ROTATION_WEEKS,
            branch.members.filter(status__in=("full", "probationary"), is_exempt=False).count(),
        )

        # The open topic call of the city: eight proposals, two key, one assigned to branch_sec.
        call = TopicCall.objects.get()
        assert call.organization == root and call.status == "open" and call.deadline >= CALL_DEADLINE
        assert call.proposals.count() == 8 and call.proposals.filter(is_key=True).count() == 2
        task = TopicTask.objects.get()
        assert task.status == "assigned" and task.proposal.is_key and task.lecturer.member.user == branch_sec
        assert list(my_topic_tasks(user=branch_sec)) == [task]

        # The library: 「精品党课」 of the city, published as online study, showing to every member.
        items = LibraryItem.objects.select_related("series", "resource")
        assert 2 <= items.count() <= 3
        assert {i.series.title for i in items} == {SERIES_TITLE}
        assert all(i.resource.is_published and i.resource.organization == root for i in items)
        assert items.filter(honour__contains="优秀党课").exists()
        showing = library_showing(user=member1, member=Member.objects.get(user=member1))
        assert showing and showing[0].series.title == SERIES_TITLE and showing[0].items

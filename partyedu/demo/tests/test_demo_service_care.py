"""The care area's demo data on a small demo city: branch_sec's talks covering most pairs (three
members not talked with, so the workbench asks), the district's Spring Festival visits with the
Jinan figure derived (12 aid payments worth ¥13,500) and one payment waiting for district_admin,
two pairs, and the birthday line — without touching member data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.core.models import AuditLog
from partyedu.core.todo import todos_for
from partyedu.demo.service_care import seed_service_care
from partyedu.demo.testing import on_standard_demo
from partyedu.members.models import Member
from partyedu.service.models import CareCase, CarePair, CareVisit, ServicePolicy, Talk
from partyedu.service.selectors_care import care_totals, talk_coverage, talk_list, talk_rows

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

MEMBERS = 300
SEED = 7


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """The standard demo, seeded once for consecutive modules; each test runs in a savepoint of it
    (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output.splitlines()


@pytest.fixture
def demo_lines(seeded_demo, db):
    return list(seeded_demo)


def user(name: str) -> User:
    return User.objects.get(username=name)


def branch():
    return Member.objects.get(user__username="branch_sec").organization


def test_branch_secs_talks_cover_most_pairs_but_not_all(demo_lines):
    coverage = talk_coverage(user=user("branch_sec"), organization=branch(), year=timezone.localdate().year)

    assert coverage.pairs_required * 0.5 <= coverage.pairs_held < coverage.pairs_required
    assert coverage.not_talked
    assert not Talk.objects.exclude(organization=branch()).exists()
    assert set(Talk.objects.values_list("recorded_by__username", flat=True)) == {"branch_sec"}
    assert any(line.startswith("谈心谈话：") for line in demo_lines)


def test_branch_sec_is_asked_for_the_members_not_talked_with(demo_lines):
    coverage = talk_coverage(user=user("branch_sec"), organization=branch(), year=timezone.localdate().year)
    titles = [item.title for item in todos_for(user=user("branch_sec"))]
    assert f"谈心谈话：{len(coverage.not_talked)}名党员今年尚未谈话" in titles


def test_member1_reads_the_note_of_their_talk_with_the_secretary(demo_lines):
    member1 = user("member1")
    rows = talk_rows(user=member1, talks=talk_list(user=member1))
    assert rows and all(member1.pk in (r.talk.party_a.user_id, r.talk.party_b.user_id) for r in rows)
    assert any(r.note for r in rows)


def test_the_districts_spring_festival_aid_gives_the_jinan_figure(demo_lines):
    district = user("district_admin").role_assignments.get().organization
    year = CareVisit.objects.values_list("date", flat=True).first().year

    totals = care_totals(user=user("district_admin"), organization=district, year=year)

    assert (totals.total.payments, totals.total.amount) == (12, Decimal("13500"))
    assert (totals.pending, totals.pending_amount) == (1, Decimal("2000"))
    pending = CareVisit.objects.get(needs_approval=True, approved_at__isnull=True)
    assert pending.member.organization == branch()
    assert CareVisit.objects.filter(approved_by__username="district_admin").count() == 3
    assert ServicePolicy.objects.get().aid_approval_threshold == Decimal("1000")
    assert any(line.startswith("关怀帮扶：") and "13500元" in line for line in demo_lines)


def test_district_admin_is_asked_to_approve_the_pending_aid(demo_lines):
    titles = [item.title for item in todos_for(user=user("district_admin"))]
    assert "1笔帮扶金额超过审批线，待您审批" in titles


def test_cases_and_pairs_exist_and_no_note_is_in_the_audit_log(demo_lines):
    assert CareCase.objects.count() == 13
    assert CarePair.objects.count() == 2
    notes = [c.note for c in CareCase.objects.exclude(note="")]
    logged = " ".join(
        str(c)
        for c in AuditLog.objects.filter(object_type__startswith="service.").values_list("changes", flat=True)
    )
    assert notes and not any(note in logged for note in notes)


def test_the_birthday_line_is_printed_and_seeding_again_adds_nothing(demo_lines):
    assert any(line.startswith("政治生日：") for line in demo_lines)
    talks = Talk.objects.count()
    assert seed_service_care(seed=SEED, today=timezone.localdate(), say=lambda _m: None) == []
    assert Talk.objects.count() == talks

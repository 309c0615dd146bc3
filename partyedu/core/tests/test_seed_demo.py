import hashlib
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from partyedu.accounts.models import PiiGrant, RoleAssignment, User
from partyedu.core.demo import DEMO_PASSWORD, DISTRICTS, REFERENCE_DATE, DemoPlan, add_years
from partyedu.core.models import AuditLog
from partyedu.core.testing import make_tree
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.idnumber import parse_id_number
from partyedu.members.models import Member
from partyedu.organizations.choices import MEMBER_LEVELS, OrgLevel
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_create, rebuild_org_paths

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
        for m in Member.objects.select_related("organization")
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
    with pytest.raises(ValueError):
        DemoPlan(10, 1)


# --- The command ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_writes_exactly_the_plan():
    output = seed()
    assert Member.objects.count() == MEMBERS
    assert db_digest() == plan_digest()
    assert "演示账号" in output and "city_admin" in output
    assert AuditLog.objects.filter(object_type="core.demo_seed").count() == 1


@pytest.mark.django_db
def test_force_reseeds_the_same_data():
    seed()
    first = db_digest()
    output = seed(force=True)
    assert "已清除" in output
    assert db_digest() == first
    assert Member.objects.count() == MEMBERS
    assert User.objects.get(username="branch_sec").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_id_numbers_are_valid_and_match_birth_date_and_gender():
    seed()
    members = list(Member.objects.all())
    assert len({m.id_number for m in members}) == len(members)
    for m in members:
        info = parse_id_number(m.id_number)
        assert (info.birth_date, info.gender) == (m.birth_date, m.gender)
        assert m.id_number[:2] == "37"


@pytest.mark.django_db
def test_every_member_is_in_a_branch_or_group():
    seed()
    assert not Member.objects.exclude(organization__level__in=MEMBER_LEVELS).exists()


@pytest.mark.django_db
def test_paths_are_those_the_services_would_write():
    seed()
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


def roles_of(username):
    return [(a.role.code, a.organization) for a in RoleAssignment.objects.filter(user__username=username)]


@pytest.mark.django_db
def test_demo_accounts_hold_the_stated_roles():
    seed()
    root = Organization.objects.get(depth=0)
    for username, role in (("sysadmin", "sysadmin"), ("secadmin", "secadmin"), ("auditor", "auditor")):
        assert roles_of(username) == [(role, root)]
    assert roles_of("city_admin") == [("org_admin", root)]
    assert PiiGrant.objects.filter(user__username="city_admin", organization=root).exists()
    [(role, district)] = roles_of("district_admin")
    assert role == "org_admin" and district.depth == 1 and district.name.endswith("区委员会")
    for user in User.objects.filter(username__in=["city_admin", "branch_sec", "member1", "reviewer1"]):
        assert user.display_name and user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_branch_secretary_and_member_share_a_real_branch():
    seed()
    [(role, branch)] = roles_of("branch_sec")
    assert role == "branch_admin" and branch.level == OrgLevel.BRANCH
    assert branch.members.count() >= 10
    assert roles_of("member1") == [("member", branch)]
    sec = Member.objects.get(user__username="branch_sec")
    assert sec.organization == branch and MemberCategory.SECRETARY in sec.categories
    assert Member.objects.get(user__username="member1").organization == branch
    assert User.objects.get(username="branch_sec").mobile == sec.phone


@pytest.mark.django_db
def test_reviewers_sit_in_six_different_districts():
    seed()
    districts = set()
    for i in range(1, 7):
        [(role, branch)] = roles_of(f"reviewer{i}")
        assert role == "reviewer" and branch.level == OrgLevel.BRANCH
        assert Member.objects.get(user__username=f"reviewer{i}").organization.path.startswith(branch.path)
        districts.add(branch.path[:8])
    assert len(districts) == len(DISTRICTS) == 6


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
def test_demo_accounts_lists_the_seeded_accounts():
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "seed_demo" in out.getvalue()
    seed()
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for username in ("city_admin", "district_admin", "branch_sec", "member1", "reviewer6", "auditor"):
        assert username in text
    assert DEMO_PASSWORD in text and "敏感信息授权" in text

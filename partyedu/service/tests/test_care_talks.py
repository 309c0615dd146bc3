"""谈心谈话: recording a talk (a secretary for the branch, a member their own), the bad input that
writes nothing, who reads the private note, the year's coverage of pairs and its rule, the export
without notes and the secretary's to-do."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from partyedu.core.models import AuditLog
from partyedu.service.models import Talk
from partyedu.service.selectors_care import talk_coverage, talk_list, talk_note_visible, talk_rows
from partyedu.service.services.care import talk_export, talk_record, talk_rule_set
from partyedu.service.todo_care import care_todos
from partyedu.testsupport.factories import make_member, make_user

from .test_care_factories import make_branch, make_talk, member_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_a_secretary_records_a_talk_of_the_branch_with_the_note_kept_out_of_the_audit_log(tree):
    branch = make_branch(tree)
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    talk = talk_record(
        actor=secretary,
        organization=tree.branch_a,
        parties=[branch.secretary.pk, branch.members[0].pk],
        date=TODAY(),
        kind="committee_member",
        note="家里老人生病，工作压力大",
    )

    assert (talk.party_a, talk.party_b, talk.recorded_by) == (branch.secretary, branch.members[0], secretary)
    log = AuditLog.objects.get(object_type="service.talk", object_id=str(talk.pk))
    assert log.changes["note"] is True
    assert "老人" not in str(log.changes)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"parties": "self"}, "parties", "不能与自己谈话"),
        ({"parties": "one"}, "parties", "请选择谈话双方两名党员"),
        ({"date": "tomorrow"}, "date", "谈话日期不能晚于今天"),
        ({"kind": "gossip"}, "kind", "请选择谈话类型"),
        ({"parties": "outsider"}, "parties", "在册的党员"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(tree, change, field, message):
    branch = make_branch(tree)
    outsider = make_member(tree.branch_b, "外支部党员")
    a, b = branch.secretary.pk, branch.members[0].pk
    parties = {"self": [a, a], "one": [a], "outsider": [a, outsider.pk]}.get(change.get("parties"), [a, b])
    day = TODAY() + timedelta(days=1) if change.get("date") == "tomorrow" else TODAY()

    with pytest.raises(ValidationError) as caught:
        talk_record(
            actor=None,
            organization=tree.branch_a,
            parties=parties,
            date=day,
            kind=change.get("kind", "committee_member"),
        )

    assert message in " ".join(caught.value.message_dict[field])
    assert not Talk.objects.exists()


def test_the_same_two_people_on_the_same_day_are_recorded_once(tree):
    branch = make_branch(tree)
    make_talk(tree.branch_a, branch.secretary, branch.committee, kind="committee_committee")

    with pytest.raises(ValidationError) as caught:
        make_talk(tree.branch_a, branch.committee, branch.secretary, kind="committee_committee")

    assert "已经登记" in caught.value.message_dict["parties"][0]
    assert Talk.objects.count() == 1


def test_a_member_records_their_own_talk_but_not_the_talk_of_two_others(tree):
    branch = make_branch(tree)
    user, me = member_user(tree.branch_a, "张党员")

    talk = talk_record(
        actor=user,
        organization=tree.branch_a,
        parties=[me.pk, branch.secretary.pk],
        date=TODAY(),
        kind="committee_member",
    )
    assert talk.party_a == me

    with pytest.raises(ValidationError) as caught:
        talk_record(
            actor=user,
            organization=tree.branch_a,
            parties=[branch.committee.pk, branch.secretary.pk],
            date=TODAY(),
            kind="committee_committee",
        )
    assert caught.value.message_dict["parties"] == ["只能登记本人参加的谈话"]


def test_a_member_may_not_record_at_another_branch_nor_a_secretary_outside_their_scope(tree):
    make_branch(tree)
    user, me = member_user(tree.branch_a, "张党员")
    other = make_member(tree.branch_b, "乙支部党员")
    stranger = make_user(role="branch_admin", org=tree.district_b)

    with pytest.raises(PermissionDenied):
        talk_record(
            actor=user,
            organization=tree.branch_b,
            parties=[me.pk, other.pk],
            date=TODAY(),
            kind="member_member",
        )
    with pytest.raises(PermissionDenied):
        talk_record(
            actor=stranger,
            organization=tree.branch_a,
            parties=[me.pk, other.pk],
            date=TODAY(),
            kind="member_member",
        )
    assert not Talk.objects.exists()


def test_the_note_is_for_the_two_people_and_the_committee_only(tree):
    branch = make_branch(tree)
    party_user, party = member_user(tree.branch_a, "张党员")
    other_user, _other = member_user(tree.branch_a, "赵党员")
    talk = make_talk(tree.branch_a, branch.secretary, party, note="思想有波动")
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    above = make_user(role="org_admin", org=tree.district_a)
    sibling = make_user(role="org_admin", org=tree.district_b)

    assert talk_note_visible(user=party_user, talk=talk)
    assert talk_note_visible(user=secretary, talk=talk)
    assert talk_note_visible(user=above, talk=talk)
    assert not talk_note_visible(user=other_user, talk=talk)
    assert not talk_note_visible(user=sibling, talk=talk)


def test_without_the_care_action_a_secretary_sees_the_talk_but_not_its_note(tree):
    from partyedu.accounts.models import Role

    branch = make_branch(tree)
    talk = make_talk(tree.branch_a, branch.secretary, branch.members[0], note="思想有波动")
    role = Role.objects.get(code="branch_admin")
    role.actions = [a for a in role.actions if a != "service.care"]
    role.save()
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    rows = talk_rows(user=secretary, talks=talk_list(user=secretary))

    assert [r.talk for r in rows] == [talk]
    assert rows[0].note == ""


def test_a_member_lists_their_own_talks_only(tree):
    branch = make_branch(tree)
    user, me = member_user(tree.branch_a, "张党员")
    mine = make_talk(tree.branch_a, branch.secretary, me)
    make_talk(tree.branch_a, branch.secretary, branch.members[0])

    assert list(talk_list(user=user)) == [mine]


# --- coverage ------------------------------------------------------------------------------------


def test_default_pairs_are_the_committee_with_each_other_and_with_every_member(tree):
    # given: a secretary, a committee member and three ordinary members (one in the party group)
    branch = make_branch(tree)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    make_talk(tree.branch_a, branch.secretary, branch.committee, kind="committee_committee")
    make_talk(tree.branch_a, branch.secretary, branch.members[0])
    make_talk(tree.branch_a, branch.committee, branch.members[2])
    # a talk of two ordinary members is not a required pair by default
    make_talk(tree.branch_a, branch.members[0], branch.members[1], kind="member_member")

    # when
    coverage = talk_coverage(user=admin, organization=tree.branch_a, year=TODAY().year, detail=True)

    # then: c = 2, m = 3 → 1 + 2·3 = 7 pairs, 3 held; 党员2 has had no required talk
    assert (coverage.pairs_required, coverage.pairs_held) == (7, 3)
    assert [m.name for m in coverage.not_talked] == ["党员2"]
    rows = {m.name: m for m in coverage.units[0].members}
    assert (rows["党员1"].required, rows["党员1"].held, rows["党员1"].missing) == (2, 1, ["李委员"])
    assert (rows["王书记"].required, rows["王书记"].held) == (4, 2)


def test_a_branch_that_turns_member_pairs_on_counts_every_pair(tree):
    branch = make_branch(tree)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    make_talk(tree.branch_a, branch.members[0], branch.members[1], kind="member_member")

    talk_rule_set(actor=admin, organization=tree.branch_a, member_pairs=True)
    coverage = talk_coverage(user=admin, organization=tree.branch_a, year=TODAY().year)

    assert (coverage.pairs_required, coverage.pairs_held) == (10, 1)  # 5 members: 5·4/2
    assert coverage.units[0].member_pairs is True


def test_talks_of_other_years_do_not_count(tree):
    branch = make_branch(tree)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    make_talk(tree.branch_a, branch.secretary, branch.members[0], day=date(TODAY().year - 1, 6, 1))

    coverage = talk_coverage(user=admin, organization=tree.branch_a, year=TODAY().year)

    assert coverage.pairs_held == 0
    assert len(coverage.not_talked) == 5


def test_a_district_sees_each_of_its_branches(tree):
    make_branch(tree)
    make_member(tree.branch_b, "乙一")
    admin = make_user(role="org_admin", org=tree.root)

    talk_coverage(user=admin, organization=tree.root, year=TODAY().year)  # roles loaded
    with CaptureQueriesContext(connection) as captured:
        coverage = talk_coverage(user=admin, organization=tree.root, year=TODAY().year)

    assert [u.organization for u in coverage.units] == [tree.branch_a, tree.branch_b]
    assert coverage.members_total == 6
    assert len(captured) == 4  # the branches, their members, the year's talks, the rules


def test_coverage_takes_the_same_number_of_queries_whatever_the_branch_size(tree):
    admin = make_user(role="branch_admin", org=tree.branch_a)
    year = TODAY().year

    def queries() -> int:
        talk_coverage(user=admin, organization=tree.branch_a, year=year, detail=True)  # roles loaded
        with CaptureQueriesContext(connection) as captured:
            talk_coverage(user=admin, organization=tree.branch_a, year=year, detail=True)
        return len(captured)

    branch = make_branch(tree, ordinary=2)
    make_talk(tree.branch_a, branch.secretary, branch.members[0])
    small = queries()
    more = [make_member(tree.branch_a, f"新党员{i}") for i in range(12)]
    for person in more:
        make_talk(tree.branch_a, branch.committee, person)

    assert queries() == small == 3  # a branch: its members, the year's talks, the rules


def test_the_secretary_is_asked_for_the_members_not_yet_talked_with(tree):
    branch = make_branch(tree)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    make_talk(tree.branch_a, branch.secretary, branch.members[0])

    items = [i for i in care_todos(user=secretary) if i.key.startswith("service.talks")]

    assert len(items) == 1
    assert items[0].title == "谈心谈话：3名党员今年尚未谈话"
    assert f"organization={tree.branch_a.pk}" in items[0].url


def test_a_rule_is_set_only_by_those_who_may_change_the_branch(tree):
    with pytest.raises(PermissionDenied):
        talk_rule_set(
            actor=make_user(role="branch_admin", org=tree.district_b),
            organization=tree.branch_a,
            member_pairs=True,
        )


# --- export ----------------------------------------------------------------------------------------


def test_the_export_has_the_talks_but_never_the_notes(tree):
    branch = make_branch(tree)
    make_talk(tree.branch_a, branch.secretary, branch.members[0], note="绝密的谈话要点")
    admin = make_user(role="branch_admin", org=tree.branch_a)

    content = talk_export(actor=admin, year=TODAY().year)

    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0] == ("谈话日期", "党组织", "谈话人", "谈话对象", "谈话类型")
    assert rows[1][1:] == ("甲一支部", "王书记", "党员1", "委员与党员")
    assert "绝密" not in str(rows)
    assert AuditLog.objects.filter(action="export", object_type="service.talk").exists()


def test_a_member_may_not_export_talks(tree):
    user, _me = member_user(tree.branch_a, "张党员")
    with pytest.raises(PermissionDenied):
        talk_export(actor=user)


def test_a_talk_is_recorded_at_a_branch_not_above(tree):
    branch = make_branch(tree)
    with pytest.raises(ValidationError) as caught:
        make_talk(tree.district_a, branch.secretary, branch.committee)
    assert "党支部" in caught.value.message_dict["organization"][0]

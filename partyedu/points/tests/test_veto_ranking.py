"""一票否决 (the year reads 0, the lines stay), the ranking switch of one branch (off by default,
the organisation department's), and the distribution by child organisation (bands, averages)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.points import selectors
from partyedu.points import selectors_publication as pubs
from partyedu.points.models import PointsEntry, PointsRankingSetting, PointsVeto
from partyedu.points.services import ranking_set, veto_lift, veto_record
from partyedu.points.services.ranking import competition_ranks, ranking_enabled
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, items, mark, meeting, scheme
from .publishing import branch_with_points, publish

pytestmark = pytest.mark.django_db


def veto(member, reason="受到党内警告处分", category="discipline", actor=None):
    return veto_record(actor=actor, member=member, year=YEAR, category=category, reason=reason)


# --- veto ---------------------------------------------------------------------------------------


def test_veto_sets_the_years_total_to_zero_and_keeps_the_lines(tree):
    member, _user, _line = branch_with_points(tree)
    lines = PointsEntry.objects.count()
    veto(member)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    result = selectors.member_points(user=admin, member=member, year=YEAR)
    assert result.total == Decimal("0") and result.vetoed and result.veto_reason == "受到党内警告处分"
    assert result.earned == Decimal("2") and PointsEntry.objects.count() == lines
    assert_ledger_equals_rebuild()


def test_veto_of_one_year_leaves_another_year(tree):
    member, _user, _line = branch_with_points(tree)
    veto(member)
    scheme(tree.root, year=YEAR - 1)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    assert selectors.member_points(user=admin, member=member, year=YEAR - 1).total == Decimal("60")


def test_a_second_veto_of_the_same_year_is_refused(tree):
    member, _user, _line = branch_with_points(tree)
    veto(member)
    with pytest.raises(ValidationError) as exc:
        veto(member, reason="再次")
    assert "已有一票否决记录" in exc.value.message_dict["year"][0]
    assert PointsVeto.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("reason", {"reason": " "}),
        ("reason", {"reason": "长" * 256}),
        ("category", {"category": "late"}),
        ("year", {"year": 1999}),
        ("year", {"year": "明年"}),
    ],
)
def test_bad_veto_input_is_refused_with_a_chinese_message(tree, field, kwargs):
    member, _user, _line = branch_with_points(tree)
    data = {"member": member, "year": YEAR, "category": "discipline", "reason": "违纪", **kwargs}
    with pytest.raises(ValidationError) as exc:
        veto_record(actor=None, **data)
    assert field in exc.value.message_dict
    assert not PointsVeto.objects.exists()
    assert_ledger_equals_rebuild()


def test_veto_outside_scope_is_refused(tree):
    member, _user, _line = branch_with_points(tree)
    with pytest.raises(PermissionDenied):
        veto(member, actor=make_user(role="branch_admin", org=tree.branch_b))
    assert not PointsVeto.objects.exists()


def test_lifting_a_veto_needs_a_reason_restores_the_total_and_is_audited(tree):
    member, _user, _line = branch_with_points(tree)
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    record = veto(member, actor=secretary)
    with pytest.raises(ValidationError):
        veto_lift(actor=secretary, veto=record, reason="")
    veto_lift(actor=secretary, veto=record, reason="处分已撤销")
    assert selectors.member_points(user=secretary, member=member, year=YEAR).total == Decimal("61")
    assert list(
        AuditLog.objects.filter(object_type="points.pointsveto")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "update"]
    veto(member, reason="新的处分")  # a lifted veto no longer blocks a new one
    assert PointsVeto.objects.filter(lifted_at__isnull=True).count() == 1


def test_the_list_shows_a_vetoed_member_at_zero(tree):
    member, _user, _line = branch_with_points(tree)
    veto(member)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    (row,) = selectors.member_totals(user=admin, members=[member], year=YEAR)
    assert row.total == Decimal("0") and row.veto_reason == "受到党内警告处分"


def test_a_publication_freezes_a_veto_and_marks_a_later_one_as_corrected(tree):
    member, _user, _line = branch_with_points(tree)
    veto(member)
    frozen = publish(tree.branch_a, "year").rows.get(member=member)
    assert frozen.vetoed and frozen.total == Decimal("0") and frozen.veto_reason == "受到党内警告处分"
    PointsVeto.objects.update(lifted_at=timezone.now())
    publication = publish(tree.branch_a, "h1")
    veto(member, reason="违法")
    page = pubs.publication_page(
        user=make_user(role="branch_admin", org=tree.branch_a), publication=publication
    )
    (row,) = page.rows
    assert row.row.total == Decimal("61") and row.corrected and row.current.vetoed


# --- ranking ------------------------------------------------------------------------------------


def test_ranking_is_off_by_default(tree):
    branch_with_points(tree)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    assert selectors.branch_ranks(user=admin, organization=tree.branch_a, year=YEAR) is None


def test_an_org_admin_turns_on_ranking_for_one_branch_audited(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    setting = ranking_set(actor=admin, organization=tree.branch_a, enabled=True)
    assert setting.enabled and setting.enabled_by == admin
    assert ranking_enabled(organization=tree.branch_a)
    assert not ranking_enabled(organization=tree.branch_b)
    ranking_set(actor=admin, organization=tree.branch_a, enabled=False)
    assert not ranking_enabled(organization=tree.branch_a)
    changes = list(
        AuditLog.objects.filter(object_type="points.pointsrankingsetting")
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert [c["enabled"] for c in changes] == [[False, True], [True, False]]


def test_a_branch_secretary_cannot_turn_on_ranking(tree):
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    with pytest.raises(PermissionDenied):
        ranking_set(actor=secretary, organization=tree.branch_a, enabled=True)
    assert not PointsRankingSetting.objects.exists()


def test_an_org_admin_of_another_district_cannot_turn_it_on(tree):
    with pytest.raises(PermissionDenied):
        ranking_set(
            actor=make_user(role="org_admin", org=tree.district_b), organization=tree.branch_a, enabled=True
        )


def test_ranking_is_for_one_branch_never_a_district(tree):
    admin = make_user(role="org_admin", org=tree.root)
    with pytest.raises(ValidationError) as exc:
        ranking_set(actor=admin, organization=tree.district_a, enabled=True)
    assert "党支部" in exc.value.message_dict["organization"][0]
    assert not PointsRankingSetting.objects.exists()


def test_equal_totals_share_a_rank():
    ranks = competition_ranks({1: Decimal("70"), 2: Decimal("65"), 3: Decimal("70"), 4: Decimal("60")})
    assert ranks == {1: 1, 3: 1, 2: 3, 4: 4}


def test_branch_ranks_by_total_leaving_out_a_vetoed_member(tree):
    first, _user, _line = branch_with_points(tree)  # 61
    second = make_member(tree.branch_a, "乙")
    mark(meeting(tree.branch_a, at(3)), second)  # 62
    third = make_member(tree.branch_a, "丙")
    veto(third)
    ranking_set(actor=None, organization=tree.branch_a, enabled=True)
    admin = make_user(role="branch_admin", org=tree.branch_a)
    ranks = selectors.branch_ranks(user=admin, organization=tree.branch_a, year=YEAR)
    assert ranks == {second.pk: 1, first.pk: 2}


# --- distribution -------------------------------------------------------------------------------


def test_distribution_counts_members_per_band_with_the_average(tree):
    scheme(tree.root)
    for n in range(2):
        make_member(tree.branch_a, f"甲{n}")  # 60 each
    absent = make_member(tree.branch_a, "缺席")
    mark(meeting(tree.branch_a, at(3)), absent, "absent")  # 59
    vetoed = make_member(tree.branch_a, "否决")
    veto(vetoed)  # 0
    make_member(tree.branch_b, "乙")
    admin = make_user(role="org_admin", org=tree.root)
    figures = {
        f.organization.pk: f
        for f in selectors.points_distribution(user=admin, organization=tree.root, year=YEAR)
    }
    a = figures[tree.district_a.pk]
    assert a.members == 4 and a.vetoed == 1
    assert dict(a.bands) == {"60分以下": 2, "60–69分": 2, "70–79分": 0, "80–89分": 0, "90分及以上": 0}
    assert a.average == Decimal("44.8")  # (60 + 60 + 59 + 0) / 4
    assert figures[tree.district_b.pk].members == 1


def test_distribution_uses_the_nearest_scheme_up_each_members_path(tree):
    scheme(tree.district_a, base="90", item_list=items())
    scheme(tree.district_b, base="70", item_list=items())
    make_member(tree.branch_a, "甲")
    make_member(tree.branch_b, "乙")
    admin = make_user(role="org_admin", org=tree.root)
    figures = {
        f.organization.pk: f
        for f in selectors.points_distribution(user=admin, organization=tree.root, year=YEAR)
    }
    assert figures[tree.district_a.pk].average == Decimal("90")
    assert figures[tree.district_b.pk].average == Decimal("70")
    assert dict(figures[tree.district_a.pk].bands)["90分及以上"] == 1


def test_distribution_stays_within_the_viewers_scope(tree):
    scheme(tree.root)
    make_member(tree.branch_a, "甲")
    make_member(tree.branch_b, "乙")
    admin = make_user(role="org_admin", org=tree.district_a)
    figures = {
        f.organization.pk: f.members
        for f in selectors.points_distribution(user=admin, organization=tree.root, year=YEAR)
    }
    assert figures == {tree.district_a.pk: 1, tree.district_b.pk: 0}

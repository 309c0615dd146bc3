"""Publication (公示): frozen figures, the period, who is on it, the running-duplicate rule, bad
input and withdrawal; and the figures' reader (``period_figures``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.core.models import AuditLog, Notification
from partyedu.points.models import PointsPublication, PointsPublicationRow
from partyedu.points.services import publication_create, publication_withdraw
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, mark, meeting, scheme
from .publishing import branch_with_points, publish

pytestmark = pytest.mark.django_db


def test_publication_freezes_each_members_figures_by_item(tree):
    member, _user, _line = branch_with_points(tree)
    publication = publish(tree.branch_a, "year")
    row = publication.rows.get(member=member)
    assert (row.base, row.earned, row.deducted, row.total) == (
        Decimal("60"),
        Decimal("2"),
        Decimal("1"),
        Decimal("61"),
    )
    assert {i["code"]: i["points"] for i in row.items}["meetings"] == "2"


def test_half_year_publication_counts_only_the_lines_up_to_june(tree):
    member, _user, _line = branch_with_points(tree)
    mark(meeting(tree.branch_a, at(9)), member)
    h1 = publish(tree.branch_a, "h1").rows.get(member=member)
    year = publish(tree.branch_a, "year").rows.get(member=member)
    assert h1.total == Decimal("61") and year.total == Decimal("63")


def test_publication_lists_the_party_members_by_name_not_the_candidates(tree):
    scheme(tree.root)
    make_member(tree.branch_a, "乙")
    make_member(tree.group_a, "甲")
    make_member(tree.branch_a, "丙", status="activist")
    publication = publish(tree.branch_a)
    assert [r.name for r in publication.rows.order_by("name")] == ["乙", "甲"]


def test_the_rows_stay_as_published_when_the_ledger_changes(tree):
    member, _user, _line = branch_with_points(tree)
    publication = publish(tree.branch_a)
    mark(meeting(tree.branch_a, at(5)), member)
    assert publication.rows.get(member=member).total == Decimal("61")


def test_a_second_publication_while_one_runs_is_refused_and_writes_nothing(tree):
    branch_with_points(tree)
    publish(tree.branch_a, "h1")
    with pytest.raises(ValidationError) as exc:
        publish(tree.branch_a, "h1")
    assert "正在公示" in str(exc.value)
    assert PointsPublication.objects.count() == 1
    assert_ledger_equals_rebuild()


def test_the_other_period_may_run_at_the_same_time(tree):
    branch_with_points(tree)
    publish(tree.branch_a, "h1")
    publish(tree.branch_a, "year")
    assert PointsPublication.objects.count() == 2


def test_a_withdrawn_publication_may_be_published_again(tree):
    branch_with_points(tree)
    first = publish(tree.branch_a)
    publication_withdraw(actor=None, publication=first, reason="名单有误")
    publish(tree.branch_a)
    assert PointsPublication.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_an_ended_publication_may_be_published_again(tree):
    branch_with_points(tree)
    first = publish(tree.branch_a)
    PointsPublication.objects.filter(pk=first.pk).update(ends_on=timezone.localdate() - timedelta(days=1))
    publish(tree.branch_a)
    assert PointsPublication.objects.count() == 2


def test_publication_runs_the_given_number_of_days_from_today(tree):
    branch_with_points(tree)
    publication = publish(tree.branch_a, days=3)
    today = timezone.localdate()
    assert (publication.starts_on, publication.ends_on) == (today, today + timedelta(days=2))


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("days", {"days": 0}),
        ("days", {"days": 31}),
        ("days", {"days": "七"}),
        ("period", {"period": "q3"}),
        ("year", {"year": 1999}),
        ("year", {"year": timezone.localdate().year + 1}),
        ("note", {"note": "说" * 201}),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message_and_writes_nothing(tree, field, kwargs):
    branch_with_points(tree)
    data = {"organization": tree.branch_a, "year": YEAR, "period": "h1", "days": 7, **kwargs}
    with pytest.raises(ValidationError) as exc:
        publication_create(actor=None, **data)
    assert field in exc.value.message_dict
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message_dict[field][0])
    assert not PointsPublication.objects.exists() and not PointsPublicationRow.objects.exists()


def test_a_district_does_not_publish_to_its_members(tree):
    branch_with_points(tree)
    with pytest.raises(ValidationError) as exc:
        publish(tree.district_a)
    assert "党支部或党总支" in str(exc.value)


def test_a_branch_without_members_has_nothing_to_publish(tree):
    scheme(tree.root)
    with pytest.raises(ValidationError) as exc:
        publish(tree.branch_b)
    assert "没有在册党员" in str(exc.value)


def test_publication_outside_the_secretarys_scope_is_refused(tree):
    branch_with_points(tree)
    stranger = make_user(role="branch_admin", org=tree.branch_b)
    with pytest.raises(PermissionDenied):
        publication_create(actor=stranger, organization=tree.branch_a, year=YEAR, period="h1")
    assert not PointsPublication.objects.exists()


def test_publication_is_audited_and_notifies_each_member_with_an_account(tree):
    _member, user, _line = branch_with_points(tree)
    make_member(tree.branch_a, "乙")  # no account: nobody to notify
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    publication = publication_create(actor=secretary, organization=tree.branch_a, year=YEAR, period="h1")
    assert AuditLog.objects.filter(
        object_type="points.pointspublication", object_id=str(publication.pk)
    ).exists()
    assert list(Notification.objects.filter(kind="points.publication").values_list("user_id", flat=True)) == [
        user.pk
    ]


def test_withdraw_needs_a_reason_and_is_audited(tree):
    branch_with_points(tree)
    publication = publish(tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        publication_withdraw(actor=None, publication=publication, reason=" ")
    assert "撤回原因" in str(exc.value)
    publication_withdraw(actor=None, publication=publication, reason="分值有误，更正后重新公示")
    publication.refresh_from_db()
    assert publication.withdrawn_at is not None
    assert AuditLog.objects.filter(object_type="points.pointspublication", action="update").count() == 1


def test_withdrawing_twice_is_refused(tree):
    branch_with_points(tree)
    publication = publish(tree.branch_a)
    publication_withdraw(actor=None, publication=publication, reason="有误")
    with pytest.raises(ValidationError) as exc:
        publication_withdraw(actor=None, publication=publication, reason="有误")
    assert "已撤回" in str(exc.value)

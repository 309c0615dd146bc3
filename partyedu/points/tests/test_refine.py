"""Candidates' schemes (积分择优), refinement of an upper scheme within its limits, and the
background re-derivation of a large subtree after a scheme change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partyedu.core.models import Job
from partyedu.core.testing import ScopedEndpointTests
from partyedu.points import selectors
from partyedu.points.jobs import SCHEME_KIND
from partyedu.points.models import PointsEntry, PointsScheme
from partyedu.points.services import ledger, scheme_create, scheme_update
from partyedu.testsupport.factories import make_member, make_user

from .conftest import YEAR, assert_ledger_equals_rebuild, at, items, mark, meeting

pytestmark = pytest.mark.django_db
THIS_YEAR = timezone.localdate().year


def candidate_items() -> list[dict[str, Any]]:
    return [
        {
            "code": "sit_in",
            "name": "列席三会一课",
            "kind": "earn",
            "source": "attendance",
            "activity_types": ["branch_assembly", "party_lecture", "theme_day"],
            "points": "3",
            "cap": None,
            "cap_period": "year",
        }
    ]


def sit_in(org: Any, start: Any) -> Any:
    """A 支部党员大会 to which the branch's 入党积极分子 and 发展对象 are invited (列席)."""
    from datetime import timedelta

    from partyedu.study.services import activity_record

    data = {
        "organization": org,
        "activity_type": "branch_assembly",
        "topic": "学习党章",
        "start": start,
        "end": start + timedelta(hours=2),
        "invite_suggested": True,
    }
    return activity_record(actor=None, data=data)


def total(member: Any, year: int = YEAR) -> Decimal:
    return sum((e.points for e in PointsEntry.objects.filter(member=member, year=year)), Decimal("0"))


def test_a_candidates_scheme_scores_activists_and_not_members(tree):
    activist = make_member(tree.branch_a, "积极分子甲", status="activist")
    full = make_member(tree.branch_a, "党员乙")
    scheme_create(
        actor=None,
        organization=tree.root,
        year=YEAR,
        base="0",
        items=candidate_items(),
        audience="candidates",
    )
    mark(sit_in(tree.branch_a, at(3)), activist)
    mark(sit_in(tree.branch_a, at(4)), full)

    assert (total(activist), total(full)) == (Decimal("3"), Decimal("0"))


def test_the_members_scheme_does_not_score_activists(tree):
    activist = make_member(tree.branch_a, "积极分子甲", status="activist")
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=items())
    mark(sit_in(tree.branch_a, at(3)), activist)

    assert total(activist) == 0


def test_both_audiences_may_have_a_scheme_at_one_organisation(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=items())
    scheme_create(
        actor=None,
        organization=tree.root,
        year=YEAR,
        base="0",
        items=candidate_items(),
        audience="candidates",
    )

    assert PointsScheme.objects.filter(organization=tree.root, year=YEAR).count() == 2


def test_admission_moves_the_year_to_the_members_scheme_through_corrections(tree):
    from partyedu.members.services import member_update

    activist = make_member(tree.branch_a, "积极分子甲", status="activist")
    scheme_create(
        actor=None,
        organization=tree.root,
        year=YEAR,
        base="0",
        items=candidate_items(),
        audience="candidates",
    )
    mark(sit_in(tree.branch_a, at(3)), activist)
    member_update(actor=None, member=activist, data={"status": "probationary"})

    assert total(activist) == 0
    assert PointsEntry.objects.filter(member=activist).count() == 2
    assert_ledger_equals_rebuild()


def test_the_candidates_list_orders_by_total_with_the_points_behind_it(tree):
    low = make_member(tree.branch_a, "甲", status="activist")
    high = make_member(tree.branch_a, "乙", status="candidate")
    make_member(tree.branch_a, "丙")  # a full member is not on the list
    scheme_create(
        actor=None,
        organization=tree.root,
        year=YEAR,
        base="0",
        items=candidate_items(),
        audience="candidates",
    )
    mark(sit_in(tree.branch_a, at(3)), high)
    mark(sit_in(tree.branch_a, at(4)), high)
    mark(sit_in(tree.branch_a, at(5)), low)
    secretary = make_user(role="branch_admin", org=tree.branch_a)

    result = selectors.candidates_ranked(user=secretary, organization=tree.branch_a, year=YEAR)

    assert [(r.member.name, r.total, r.values) for r in result.rows] == [
        ("乙", Decimal("6"), [Decimal("6")]),
        ("甲", Decimal("3"), [Decimal("3")]),
    ]


def test_the_candidates_list_query_count_does_not_grow_with_candidates(tree, django_assert_max_num_queries):
    for n in range(12):
        make_member(tree.branch_a, f"积极分子{n}", status="activist")
    scheme_create(
        actor=None,
        organization=tree.root,
        year=YEAR,
        base="0",
        items=candidate_items(),
        audience="candidates",
    )
    secretary = make_user(role="branch_admin", org=tree.branch_a)
    selectors.candidates_ranked(user=secretary, organization=tree.branch_a, year=YEAR)  # warm the grants
    with django_assert_max_num_queries(6):
        result = selectors.candidates_ranked(user=secretary, organization=tree.branch_a, year=YEAR)
    assert len(result.rows) == 12


def test_a_member_cannot_see_the_candidates_list(tree):
    from django.http import Http404

    member_user = make_user(role="member", org=tree.branch_a)
    with pytest.raises(Http404):
        selectors.candidates_ranked(user=member_user, organization=tree.branch_a, year=YEAR)


def _locked_items() -> list[dict[str, Any]]:
    result = items()
    result[0] = {**result[0], "locked": True}
    return result


def test_a_lower_scheme_may_add_items_and_keep_the_locked_ones(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=_locked_items())
    mine = [*items(), {**candidate_items()[0], "code": "extra", "name": "志愿服务"}]

    lower = scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="60", items=mine)

    assert lower.items.count() == 5


def test_a_lower_scheme_may_not_change_a_locked_item(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=_locked_items())
    mine = items()
    mine[0] = {**mine[0], "points": "5"}

    with pytest.raises(ValidationError, match="锁定的项目“参加三会一课”不得改动：每次分值"):
        scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="60", items=mine)
    assert not PointsScheme.objects.filter(organization=tree.district_a).exists()


def test_a_lower_scheme_may_not_drop_a_locked_item(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=_locked_items())

    with pytest.raises(ValidationError, match="须保留"):
        scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="60", items=items()[1:])


def test_a_lower_scheme_keeps_the_upper_base(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=items())

    with pytest.raises(ValidationError, match="基础分须与上级方案"):
        scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="80", items=items())


def test_no_lower_scheme_where_the_upper_forbids_refining(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=items(), allow_refine=False)

    with pytest.raises(ValidationError, match="不允许下级细化"):
        scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="60", items=items())


def test_editing_a_lower_scheme_is_held_to_the_locked_items_too(tree):
    scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=_locked_items())
    lower = scheme_create(actor=None, organization=tree.district_a, year=YEAR, base="60", items=items())
    changed = items()
    changed[0] = {**changed[0], "cap": "9"}

    with pytest.raises(ValidationError, match="上限"):
        scheme_update(actor=None, scheme=lower, base="60", items=changed)


def test_a_large_subtree_is_re_derived_by_a_background_job(
    tree, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ledger, "SCHEME_INLINE_MAX", 1)
    members = [make_member(tree.branch_a, f"党员{n}") for n in range(3)]
    activity = meeting(tree.branch_a, at(3))
    for m in members:
        mark(activity, m)

    with django_capture_on_commit_callbacks(execute=True):
        scheme = scheme_create(actor=None, organization=tree.root, year=YEAR, base="60", items=items())

    job = Job.objects.get(kind=SCHEME_KIND)
    assert scheme.resync_job.pk == job.pk  # type: ignore[attr-defined]
    assert (job.status, job.done, job.total) == ("succeeded", 3, 3)
    assert [total(m) for m in members] == [Decimal("2")] * 3
    assert_ledger_equals_rebuild()


class TestCandidatesPage(ScopedEndpointTests):
    url_name = "points:candidates"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_member(org, f"积极分子{org.pk}", status="activist")

    def url(self, obj):
        return f"/points/candidates/?organization={obj.organization_id}"

    def marker(self, obj):
        return obj.name

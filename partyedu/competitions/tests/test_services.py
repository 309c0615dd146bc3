from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partyedu.competitions.choices import AwardKind, CompetitionStatus, RoundStatus
from partyedu.competitions.models import Certificate, Entry, Review, RoundEntry
from partyedu.competitions.selectors import certificate_verify, review_peers, round_results
from partyedu.competitions.services import (
    awards_grant,
    certificate_revoke,
    competition_create,
    entry_create,
    entry_endorse,
    entry_self_nominate,
    review_assign_manual,
    review_submit,
    round_advance,
    round_assign,
    round_close,
    round_reviewers_set,
)
from partyedu.core.models import AuditLog
from partyedu.testsupport.factories import make_member, make_org, make_user

from .conftest import linked_member, make_competition, make_entry, make_round, panel, put_review, reviewer

pytestmark = pytest.mark.django_db


# --- rubric --------------------------------------------------------------------------------------


def test_rubric_weights_must_sum_to_100(tree):
    with pytest.raises(ValidationError) as exc:
        make_competition(tree.root, criteria=[{"name": "内容", "weight": 40}, {"name": "表达", "weight": 30}])
    assert "权重之和必须为100，当前为70" in str(exc.value)


def test_rubric_refuses_a_duplicate_criterion(tree):
    with pytest.raises(ValidationError, match="重复"):
        make_competition(tree.root, criteria=[{"name": "内容", "weight": 50}, {"name": "内容", "weight": 50}])


def test_rubric_refuses_a_fractional_weight(tree):
    with pytest.raises(ValidationError, match="正整数"):
        make_competition(
            tree.root, criteria=[{"name": "内容", "weight": 50.5}, {"name": "表达", "weight": 49.5}]
        )


def test_competition_outside_scope_is_refused(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    with pytest.raises(PermissionDenied):
        competition_create(
            actor=admin,
            data={
                "title": "评选",
                "organization": tree.district_b,
                "criteria": [{"name": "综合", "weight": 100}],
            },
        )


# --- rounds and entries --------------------------------------------------------------------------


def test_first_round_opens_and_later_rounds_wait(tree):
    competition = make_competition(tree.root)
    first = make_round(competition, "区县初评")
    second = make_round(competition, "市级评审")
    assert (first.sequence, first.status) == (1, RoundStatus.OPEN)
    assert (second.sequence, second.status) == (2, RoundStatus.PENDING)


def test_entry_joins_the_first_open_round(setup):
    entry = make_entry(setup.competition, setup.tree.branch_a)
    assert list(RoundEntry.objects.filter(entry=entry).values_list("round_id", flat=True)) == [setup.round.pk]


def test_entry_needs_an_open_round(tree):
    competition = make_competition(tree.root)
    with pytest.raises(ValidationError, match="没有正在报名的轮次"):
        make_entry(competition, tree.branch_a)


def test_entry_from_outside_the_competition_is_refused(tree):
    competition = make_competition(tree.district_a)
    make_round(competition)
    with pytest.raises(ValidationError, match="不在本次评选的范围内"):
        make_entry(competition, tree.branch_b)


def test_entry_by_an_admin_outside_the_org_is_refused(setup):
    other = make_user(role="org_admin", org=setup.tree.district_b)
    lecturer = make_member(setup.tree.branch_a)
    with pytest.raises(PermissionDenied):
        entry_create(
            actor=other,
            competition=setup.competition,
            data={"title": "党课", "lecturer": lecturer, "organization": setup.tree.branch_a},
        )


def test_the_same_lecture_cannot_enter_twice(setup):
    lecturer = make_member(setup.tree.branch_a)
    make_entry(setup.competition, setup.tree.branch_a, "学党史", lecturer)
    with pytest.raises(ValidationError, match="已报名"):
        make_entry(setup.competition, setup.tree.branch_a, "学党史", lecturer)


def test_self_nomination_waits_for_the_branch(setup):
    user = make_user()
    linked_member(setup.tree.branch_a, "李自荐", user)
    entry = entry_self_nominate(actor=user, competition=setup.competition, data={"title": "我的党课"})
    assert not entry.endorsed
    assert not RoundEntry.objects.filter(entry=entry).exists()


def test_branch_endorsement_puts_a_self_nomination_into_the_round(setup):
    user = make_user()
    linked_member(setup.tree.branch_a, "李自荐", user)
    entry = entry_self_nominate(actor=user, competition=setup.competition, data={"title": "我的党课"})
    secretary = make_user(role="branch_admin", org=setup.tree.branch_a)
    entry_endorse(actor=secretary, entry=entry)
    assert RoundEntry.objects.filter(entry=entry, round=setup.round).exists()


def test_another_branch_cannot_endorse(setup):
    user = make_user()
    linked_member(setup.tree.branch_a, "李自荐", user)
    entry = entry_self_nominate(actor=user, competition=setup.competition, data={"title": "我的党课"})
    with pytest.raises(PermissionDenied):
        entry_endorse(actor=make_user(role="branch_admin", org=setup.tree.branch_b), entry=entry)


# --- assignment ----------------------------------------------------------------------------------


def _field(setup, per_branch=3):
    """Entries from both districts and a panel: two reviewers in each district, two at a city
    unit outside both."""
    t = setup.tree
    unit = make_org(t.root, "市委党校", "committee", "organ")
    entries = [make_entry(setup.competition, t.branch_a, f"甲{i}") for i in range(per_branch)]
    entries += [make_entry(setup.competition, t.branch_b, f"乙{i}") for i in range(per_branch)]
    users = {
        "a1": reviewer(t.district_a),
        "a2": reviewer(t.branch_a),
        "b1": reviewer(t.district_b),
        "b2": reviewer(t.district_b),
        "c1": reviewer(unit),
        "c2": reviewer(unit),
    }
    panel(setup.round, list(users.values()))
    return entries, users


def test_assignment_gives_every_entry_its_reviews(setup):
    entries, _ = _field(setup)
    round_assign(actor=setup.admin, round_=setup.round)
    per_entry: dict[int, int] = {}
    for review in Review.objects.select_related("round_entry"):
        per_entry[review.round_entry.entry_id] = per_entry.get(review.round_entry.entry_id, 0) + 1
    assert per_entry == {e.pk: 2 for e in entries}


def test_assignment_never_gives_a_reviewer_an_entry_from_their_own_subtree(setup):
    _, users = _field(setup)
    round_assign(actor=setup.admin, round_=setup.round)
    a_side = {users["a1"].pk, users["a2"].pk}
    b_side = {users["b1"].pk, users["b2"].pk}
    for review in Review.objects.select_related("round_entry__entry__organization"):
        path = review.round_entry.entry.organization.path
        if path.startswith(setup.tree.district_a.path):
            assert review.reviewer_id not in a_side
        else:
            assert review.reviewer_id not in b_side


def test_assignment_excludes_the_lecturer_reviewing_themself(setup):
    t = setup.tree
    unit = make_org(t.root, "市委党校", "committee", "organ")
    expert = reviewer(unit)
    linked_member(t.branch_a, "专家讲者", expert)  # their own member org is branch_a
    make_entry(setup.competition, t.branch_a, "专家的党课")
    panel(setup.round, [expert, reviewer(unit), reviewer(unit)])
    round_assign(actor=setup.admin, round_=setup.round)
    assert not Review.objects.filter(reviewer=expert).exists()


def test_assignment_balances_the_reviewers_load(setup):
    _field(setup, per_branch=5)
    round_assign(actor=setup.admin, round_=setup.round)
    loads = [
        Review.objects.filter(reviewer=u).count() for u in setup.round.panel.values_list("user", flat=True)
    ]
    assert sum(loads) == 20
    assert max(loads) - min(loads) <= 1


def test_assignment_twice_adds_nothing(setup):
    _field(setup)
    assert round_assign(actor=setup.admin, round_=setup.round) == 12
    before = sorted(Review.objects.values_list("round_entry_id", "reviewer_id"))
    assert round_assign(actor=setup.admin, round_=setup.round) == 0
    assert sorted(Review.objects.values_list("round_entry_id", "reviewer_id")) == before


def test_assignment_notifies_each_reviewer_once_with_their_number_of_entries(setup):
    from partyedu.core.models import Notification

    _, users = _field(setup)
    round_assign(actor=setup.admin, round_=setup.round)
    round_assign(actor=setup.admin, round_=setup.round)  # nothing new: no second notice
    notices = Notification.objects.filter(kind="competitions.review_assigned")
    assert notices.count() == len(users)
    for notice in notices:
        n = Review.objects.filter(reviewer=notice.user).count()
        assert notice.title.endswith(f"{n} 件作品")


def test_assignment_with_too_few_free_reviewers_names_the_entry(setup):
    make_entry(setup.competition, setup.tree.branch_a, "孤本")
    panel(setup.round, [reviewer(setup.tree.district_a), reviewer(setup.tree.district_b)])
    with pytest.raises(ValidationError) as exc:
        round_assign(actor=setup.admin, round_=setup.round)
    assert "《孤本》" in str(exc.value)
    assert not Review.objects.exists()


def test_panel_refuses_a_user_without_the_reviewer_role(setup):
    with pytest.raises(ValidationError, match="不是您管理范围内的评委"):
        round_reviewers_set(actor=setup.admin, round_=setup.round, users=[make_user()])


def test_manual_assignment_of_a_conflicting_reviewer_is_refused(setup):
    entry = make_entry(setup.competition, setup.tree.branch_a)
    insider = reviewer(setup.tree.district_a)
    panel(setup.round, [insider])
    round_entry = RoundEntry.objects.get(entry=entry)
    with pytest.raises(ValidationError, match="回避"):
        review_assign_manual(actor=setup.admin, round_entry=round_entry, reviewer=insider, reason="专业对口")


def test_manual_assignment_is_audited_with_its_reason(setup):
    entry = make_entry(setup.competition, setup.tree.branch_a)
    outsider = reviewer(setup.tree.district_b)
    panel(setup.round, [outsider])
    round_entry = RoundEntry.objects.get(entry=entry)
    review = review_assign_manual(
        actor=setup.admin, round_entry=round_entry, reviewer=outsider, reason="专业对口"
    )
    assert review.manual
    assert AuditLog.objects.filter(object_id=str(review.pk), message__contains="专业对口").exists()


# --- scoring -------------------------------------------------------------------------------------


def _assigned(setup):
    entry = make_entry(setup.competition, setup.tree.branch_a)
    judge = reviewer(setup.tree.district_b)
    panel(setup.round, [judge])
    review = Review.objects.create(round_entry=RoundEntry.objects.get(entry=entry), reviewer=judge)
    return review, judge


def test_weighted_total_is_computed_from_the_rubric(setup):
    review, judge = _assigned(setup)
    review = review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 80, "效果": 70})
    assert review.total == Decimal("81.000")  # 90×0.4 + 80×0.3 + 70×0.3


def test_scoring_an_unassigned_review_is_refused(setup):
    review, _ = _assigned(setup)
    with pytest.raises(PermissionDenied):
        review_submit(
            actor=reviewer(setup.tree.district_b), review=review, scores={"内容": 1, "表达": 1, "效果": 1}
        )


def test_a_score_out_of_range_is_refused(setup):
    review, judge = _assigned(setup)
    with pytest.raises(ValidationError, match="“表达”的分数应在0到100之间"):
        review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 101, "效果": 70})
    review.refresh_from_db()
    assert review.submitted_at is None


def test_a_missing_criterion_is_refused(setup):
    review, judge = _assigned(setup)
    with pytest.raises(ValidationError, match="请为以下评分项打分：效果"):
        review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 80})


def test_an_unknown_criterion_is_refused(setup):
    review, judge = _assigned(setup)
    with pytest.raises(ValidationError, match="不存在的评分项：颜值"):
        review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 80, "效果": 70, "颜值": 100})


def test_peers_scores_are_hidden_until_the_reviewer_submits(setup):
    review, judge = _assigned(setup)
    other = reviewer(setup.tree.district_b)
    put_review(review.round_entry, other, 88)
    assert review_peers(user=judge, review=review) == []
    review = review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 80, "效果": 70})
    assert [p.total for p in review_peers(user=judge, review=review)] == [Decimal("88.000")]


def test_scoring_after_the_round_closed_is_refused(setup):
    review, judge = _assigned(setup)
    setup.round.status = RoundStatus.CLOSED
    setup.round.save()
    with pytest.raises(ValidationError, match="评审已结束"):
        review_submit(actor=judge, review=review, scores={"内容": 90, "表达": 80, "效果": 70})


# --- aggregation (hand-computed) -----------------------------------------------------------------


def _entries(setup, n):
    return [
        RoundEntry.objects.get(entry=make_entry(setup.competition, setup.tree.branch_a, f"E{i}"))
        for i in range(n)
    ]


def _scores(round_):
    return {row.title: (row.score, row.rank, row.tied) for row in round_results(user=None, round_=round_)}


def test_mean_aggregation_and_shared_rank_for_ties(setup):
    e0, e1, e2 = _entries(setup, 3)
    r1, r2 = reviewer(setup.tree.district_b), reviewer(setup.tree.district_b)
    for re, (a, b) in zip((e0, e1, e2), ((80, 90), (88, 82), (70, 71)), strict=True):
        put_review(re, r1, a)
        put_review(re, r2, b)
    assert _scores(setup.round) == {
        "E0": (Decimal("85.0000"), 1, True),
        "E1": (Decimal("85.0000"), 1, True),
        "E2": (Decimal("70.5000"), 3, False),
    }


def test_trimmed_mean_drops_highest_and_lowest_from_five_reviews(setup):
    setup.round.aggregation = "trimmed_mean"
    setup.round.save()
    (e0,) = _entries(setup, 1)
    for total in (50, 70, 70, 80, 95):
        put_review(e0, reviewer(setup.tree.district_b), total)
    assert _scores(setup.round)["E0"][0] == Decimal("73.3333")  # (70 + 70 + 80) / 3


def test_trimmed_mean_keeps_all_of_four_reviews(setup):
    setup.round.aggregation = "trimmed_mean"
    setup.round.save()
    (e0,) = _entries(setup, 1)
    for total in (50, 70, 80, 95):
        put_review(e0, reviewer(setup.tree.district_b), total)
    assert _scores(setup.round)["E0"][0] == Decimal("73.7500")


def test_zscore_corrects_a_harsh_and_a_lenient_reviewer(setup):
    """Harsh R1 gives E0 70, E1 60 (μ 65, σ 5); lenient R2 gives E1 95, E2 85 (μ 90, σ 5).
    Means would rank E2 > E1 > E0; z-scores rank E0 (1) > E1 (0) > E2 (−1)."""
    setup.round.aggregation = "zscore"
    setup.round.save()
    e0, e1, e2 = _entries(setup, 3)
    harsh, lenient = reviewer(setup.tree.district_b), reviewer(setup.tree.district_b)
    put_review(e0, harsh, 70)
    put_review(e1, harsh, 60)
    put_review(e1, lenient, 95)
    put_review(e2, lenient, 85)
    assert _scores(setup.round) == {
        "E0": (Decimal("1.0000"), 1, False),
        "E1": (Decimal("0.0000"), 2, False),
        "E2": (Decimal("-1.0000"), 3, False),
    }


def test_strong_disagreement_is_flagged(setup):
    e0, e1 = _entries(setup, 2)
    r1, r2 = reviewer(setup.tree.district_b), reviewer(setup.tree.district_b)
    put_review(e0, r1, 95)
    put_review(e0, r2, 60)
    put_review(e1, r1, 80)
    put_review(e1, r2, 78)
    flags = {row.title: row.flagged for row in round_results(user=None, round_=setup.round)}
    assert flags == {"E0": True, "E1": False}


# --- advancement and awards ----------------------------------------------------------------------


def _scored_round(setup, totals):
    res = _entries(setup, len(totals))
    judge = reviewer(setup.tree.district_b)
    panel(setup.round, [judge])
    for re, total in zip(res, totals, strict=True):
        put_review(re, judge, total)
    return res


def test_advancing_with_reviews_outstanding_is_refused(setup):
    make_round(setup.competition, "市级")
    res = _scored_round(setup, [90, 80])
    Review.objects.create(round_entry=res[0], reviewer=reviewer(setup.tree.district_b))
    with pytest.raises(ValidationError, match="还有1份评审未提交"):
        round_advance(actor=setup.admin, round_=setup.round)


def test_override_needs_a_reason_and_is_audited(setup):
    make_round(setup.competition, "市级")
    res = _scored_round(setup, [90, 80])
    Review.objects.create(round_entry=res[0], reviewer=reviewer(setup.tree.district_b))
    with pytest.raises(ValidationError, match="说明原因"):
        round_advance(actor=setup.admin, round_=setup.round, override=True)
    round_advance(actor=setup.admin, round_=setup.round, override=True, reason="评委因病缺席")
    assert AuditLog.objects.filter(message__contains="评委因病缺席", object_id=str(setup.round.pk)).exists()


def test_advance_moves_the_top_entries_and_opens_the_next_round(setup):
    final = make_round(setup.competition, "市级")
    _scored_round(setup, [90, 80, 70])
    created = round_advance(actor=setup.admin, round_=setup.round)
    assert [re.entry.title for re in created] == ["E0"]
    setup.round.refresh_from_db()
    final.refresh_from_db()
    assert (setup.round.status, final.status) == (RoundStatus.CLOSED, RoundStatus.OPEN)
    assert list(
        RoundEntry.objects.filter(round=setup.round).order_by("rank").values_list("rank", flat=True)
    ) == [
        1,
        2,
        3,
    ]


def test_entries_tied_at_the_cut_off_all_advance(setup):
    make_round(setup.competition, "市级")
    _scored_round(setup, [90, 90, 70])
    created = round_advance(actor=setup.admin, round_=setup.round)
    assert sorted(re.entry.title for re in created) == ["E0", "E1"]


def test_the_last_round_cannot_advance(setup):
    _scored_round(setup, [90])
    with pytest.raises(ValidationError, match="最后一轮"):
        round_advance(actor=setup.admin, round_=setup.round)


def test_awards_and_certificates_from_the_final_round(setup):
    t = setup.tree
    res = [
        RoundEntry.objects.get(entry=make_entry(setup.competition, org, title))
        for org, title in ((t.branch_a, "A1"), (t.branch_a, "A2"), (t.branch_b, "B1"))
    ]
    judge = reviewer(make_org(t.root, "市委党校", "committee", "organ"))
    panel(setup.round, [judge])
    for re, total in zip(res, (95, 90, 85), strict=True):
        put_review(re, judge, total)
    round_close(actor=setup.admin, round_=setup.round)
    awards = awards_grant(
        actor=setup.admin,
        competition=setup.competition,
        data={"lecture_count": 3, "lecturer_count": 1, "organization_count": 1},
    )
    kinds = [(a.kind, a.recipient) for a in awards]
    assert [k for k, _ in kinds].count(AwardKind.LECTURE) == 3
    assert [r for k, r in kinds if k == AwardKind.LECTURER] == ["讲者A1"]
    assert [r for k, r in kinds if k == AwardKind.ORGANIZATION] == ["甲区委"]  # two of three placed
    assert Certificate.objects.count() == len(awards)
    setup.competition.refresh_from_db()
    assert setup.competition.status == CompetitionStatus.FINISHED


def test_awards_need_the_final_round_closed(setup):
    _scored_round(setup, [90])
    with pytest.raises(ValidationError, match="请先结束最后一轮"):
        awards_grant(actor=setup.admin, competition=setup.competition, data={"lecture_count": 1})


def test_certificate_verification_and_revocation(setup):
    _scored_round(setup, [90])
    round_close(actor=setup.admin, round_=setup.round)
    (award,) = awards_grant(actor=setup.admin, competition=setup.competition, data={"lecture_count": 1})
    code = award.certificate.code
    assert certificate_verify(code.lower()) == award.certificate
    assert certificate_verify("NOSUCHCODE") is None
    revoked = certificate_revoke(actor=setup.admin, certificate=award.certificate, reason="材料不实")
    found = certificate_verify(code)
    assert found is not None
    assert found.revoked_at == revoked.revoked_at


def test_withdrawn_entries_leave_the_results(setup):
    from partyedu.competitions.services import entry_withdraw

    (re,) = _entries(setup, 1)
    entry_withdraw(actor=setup.admin, entry=re.entry)
    assert round_results(user=None, round_=setup.round) == []
    assert Entry.objects.get(pk=re.entry_id).withdrawn

"""Rule 8.2: 优秀组织单位. By the rule, the units one level below the organiser whose entries hold
lecture awards; besides, the organiser may choose units from a suggestion ranked by entries
recommended and lectures held, with a written reason — required when the unit holds no award —
kept in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from partyedu.competitions.choices import AwardKind
from partyedu.competitions.models import Award, RoundEntry
from partyedu.competitions.selectors import award_suggestion
from partyedu.competitions.services import awards_grant, round_close
from partyedu.core.audit import AuditLog
from partyedu.testsupport.factories import make_org

from .conftest import Setup, make_entry, panel, put_review, reviewer
from .test_award_plan import _recorded_lecture

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(setup: Setup) -> Setup:
    """The city competition closed with 甲区委's two entries first and third and 乙区委's one
    second; 丙区委 entered nothing but held a lecture; 乙区委 held two."""
    t = setup.tree
    setup.third = make_org(t.root, "丙区委", "committee", "organ")  # type: ignore[attr-defined]
    judge = reviewer(make_org(t.root, "市委党校", "committee", "organ"))
    panel(setup.round, [judge])
    entries = []
    for org, title, total in ((t.branch_a, "甲1", 95), (t.branch_b, "乙1", 90), (t.branch_a, "甲2", 85)):
        entry = make_entry(setup.competition, org, title)
        put_review(RoundEntry.objects.get(entry=entry), judge, total)
        entries.append(entry)
    _recorded_lecture(entries[1].lecturer, "standard")
    _recorded_lecture(entries[1].lecturer, "micro")
    branch_c = make_org(setup.third, "丙一支部")  # type: ignore[attr-defined]
    from partyedu.testsupport.factories import make_member

    _recorded_lecture(make_member(branch_c, "丙讲者"), "standard")
    round_close(actor=setup.admin, round_=setup.round)
    return setup


def _grant(setup: Setup, **data: Any) -> list[Award]:
    return awards_grant(actor=setup.admin, competition=setup.competition, data=data)


def test_the_suggestion_ranks_units_by_entries_and_lectures_with_the_figures(closed):
    """DOMAIN_RULES rule 8 (评选): the units to choose from are ranked by entries recommended and
    lectures held, shown with the figures — seed 002 (济南 优秀组织单位奖8个)."""
    suggestion = award_suggestion(
        user=closed.admin, competition=closed.competition, action="change", lecture_count=1
    )
    rows = [(u.name, u.entries, u.lectures, u.awards) for u in suggestion.units if u.name != "市委党校"]
    assert rows == [("甲区委", 2, 0, 1), ("乙区委", 1, 2, 0), ("丙区委", 0, 1, 0)]


def test_a_unit_without_an_award_is_chosen_with_a_reason(closed):
    """DOMAIN_RULES rule 8 (评选): the organiser may name a unit holding no 优秀党课 with a written reason — seed 002."""
    awards = _grant(
        closed, lecture_count=1, units=[{"organization": closed.third.pk, "reason": "发动全面，讲课场次多"}]
    )
    (unit,) = [a for a in awards if a.kind == AwardKind.ORGANIZATION]
    assert (unit.recipient, unit.reason) == ("丙区委", "发动全面，讲课场次多")
    assert unit.basis == "报送作品0件，开展党课1场"
    assert unit.certificate.code


def test_a_unit_without_an_award_is_refused_without_a_reason(closed):
    """DOMAIN_RULES rule 8 (评选): the reason is required when the unit holds no award — seed 002."""
    with pytest.raises(ValidationError, match="“丙区委”没有获奖作品，选定为优秀组织单位须填写评定理由"):
        _grant(closed, lecture_count=1, units=[{"organization": closed.third.pk, "reason": "  "}])
    assert not Award.objects.exists()


def test_a_unit_holding_an_award_may_be_chosen_without_a_reason(closed):
    """DOMAIN_RULES rule 8 (评选): today's 优秀组织单位 hold a 优秀党课; no reason is needed for them — seed 002."""
    awards = _grant(closed, lecture_count=1, units=[{"organization": closed.tree.district_a.pk}])
    assert [a.recipient for a in awards if a.kind == AwardKind.ORGANIZATION] == ["甲区委"]


def test_a_chosen_unit_is_audited_with_its_reason(closed):
    """DOMAIN_RULES rule 8 (评选): choosing a unit is audited with the reason — seed 002."""
    _grant(closed, lecture_count=1, units=[{"organization": closed.third.pk, "reason": "发动全面"}])
    award = Award.objects.get(kind=AwardKind.ORGANIZATION)
    row = AuditLog.objects.get(object_type="competitions.award", object_id=str(award.pk))
    assert row.message == "选定优秀组织单位：丙区委；理由：发动全面"
    assert row.user == closed.admin
    grant = AuditLog.objects.get(message="评定奖项并颁发证书")
    assert grant.changes["units_chosen"] == [{"organization": closed.third.pk, "reason": "发动全面"}]


def test_only_units_one_level_below_the_organiser_can_be_chosen(closed):
    """DOMAIN_RULES rule 8 (评选): 优秀组织单位 are the units one level below the organiser — seed 002."""
    with pytest.raises(ValidationError, match="下一级单位"):
        _grant(closed, lecture_count=1, units=[{"organization": closed.tree.branch_a.pk, "reason": "好"}])


def test_the_rule_still_names_the_units_with_the_most_awards(closed):
    """DOMAIN_RULES rule 8 (评选): by the rule, units one level below holding 优秀党课, most first — seed 002."""
    awards = _grant(closed, lecture_count=3, organization_count=1)
    (unit,) = [a for a in awards if a.kind == AwardKind.ORGANIZATION]
    assert (unit.recipient, unit.basis, unit.reason) == ("甲区委", "所属作品获优秀党课2件，最好名次第1名", "")


def test_a_unit_named_by_the_rule_and_chosen_is_named_once(closed):
    """DOMAIN_RULES rule 8 (评选): one 优秀组织单位 award per unit — seed 002."""
    awards = _grant(
        closed,
        lecture_count=1,
        organization_count=1,
        units=[{"organization": closed.tree.district_a.pk, "reason": "好"}],
    )
    assert [a.recipient for a in awards if a.kind == AwardKind.ORGANIZATION] == ["甲区委"]

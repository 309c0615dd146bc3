"""The lecturer page a member reaches from a lecture (issue "The everyday paths"): the public
profile of a lecturer is visible to members who may see one of the lecturer's lectures, read
through ``restrict`` (``lecturer_profile_get``), never with personal data; and the lecture types
of rule 7 (seed 000: 讲座式、谈话式)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.urls import reverse

from partyedu.core.testing import OwnedEndpointTests
from partyedu.lectures.choices import LectureType
from partyedu.lectures.selectors import lecture_stats
from partyedu.testsupport.factories import Tree, make_member

from .conftest import lecture, lecturer, link, party_lecture

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


def test_a_member_who_heard_a_lecture_opens_its_lecturer(client: Any, tree: Tree, members: Any) -> None:
    """A member on the roster of a lecture sees its lecturer's public profile (200), not a 404."""
    speaker = lecturer(
        tree.district_a, members["zhang"], title="金牌讲师", unit="甲区委党校", tags=["党史"], bio="内部简介"
    )
    lecture(party_lecture(tree.branch_a), speaker, title="学党史")
    client.force_login(link(members["li"]))
    response = client.get(reverse("lectures:lecturer_detail", args=[speaker.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="lecturer-profile"' in html
    for shown in ("张三", "金牌讲师", "党组织书记", "党史", "学党史"):
        assert shown in html


def test_the_public_profile_carries_no_personal_data(client: Any, tree: Tree, members: Any) -> None:
    """The profile a listener sees never shows the member behind the entry nor the pool's notes."""
    speaker = lecturer(tree.district_a, members["zhang"], bio="内部简介")
    lecture(party_lecture(tree.branch_a), speaker)
    client.force_login(link(members["li"]))
    html = client.get(reverse("lectures:lecturer_detail", args=[speaker.pk])).content.decode()
    member = members["zhang"]
    assert member.id_number not in html and "内部简介" not in html and "本系统党员" not in html
    assert reverse("members:detail", args=[member.pk]) not in html
    assert reverse("lectures:lecturer_edit", args=[speaker.pk]) not in html


def test_the_profile_lists_only_the_lectures_the_member_may_see(
    client: Any, tree: Tree, members: Any
) -> None:
    """The lecturer's lectures on the profile are those within the viewer's reach."""
    speaker = lecturer(tree.district_a)
    lecture(party_lecture(tree.branch_a), speaker, title="本支部的党课")
    lecture(party_lecture(tree.branch_b), speaker, title="乙区的党课")
    client.force_login(link(members["li"]))
    html = client.get(reverse("lectures:lecturer_detail", args=[speaker.pk])).content.decode()
    assert "本支部的党课" in html and "乙区的党课" not in html


def test_a_member_of_another_district_gets_404(client: Any, tree: Tree, members: Any) -> None:
    """A member who may see none of the lecturer's lectures (another district) gets 404."""
    speaker = lecturer(tree.district_a)
    lecture(party_lecture(tree.branch_a), speaker)
    client.force_login(link(members["zhao"]))
    assert client.get(reverse("lectures:lecturer_detail", args=[speaker.pk])).status_code == 404


def test_a_manager_of_the_pool_still_sees_the_whole_record(client: Any, tree: Tree, admin: Any) -> None:
    """Those whose scope reaches the pool keep the full record (years, ratings), not the profile."""
    speaker = lecturer(tree.district_a)
    lecture(party_lecture(tree.branch_a), speaker)
    client.force_login(admin)
    html = client.get(reverse("lectures:lecturer_detail", args=[speaker.pk])).content.decode()
    assert "讲党课记录（共 1 次）" in html and 'data-testid="lecturer-profile"' not in html


def test_my_lectures_page_links_to_my_competition_entries(client: Any, tree: Tree, members: Any) -> None:
    """我的党课 offers the member's competition entries (read-only link to 我的参赛作品)."""
    client.force_login(link(members["li"]))
    html = client.get(reverse("lectures:my")).content.decode()
    assert reverse("competitions:my_entries") in html


# --- lecture types (rule 7) ----------------------------------------------------------------------


def test_lecture_types_include_lecture_and_dialogue_styles() -> None:
    """DOMAIN_RULES rule 7: 党课 take 讲座式、谈话式 forms — seed 000."""
    assert LectureType.LECTURE.label == "讲座式党课"
    assert LectureType.DIALOGUE.label == "谈话式党课"


def test_a_dialogue_lecture_is_recorded_and_counted(tree: Tree) -> None:
    """DOMAIN_RULES rule 7: a 谈话式党课 is recorded and counted by type in the statistics — seed 000."""
    record = lecture(party_lecture(tree.branch_a), lecturer(tree.branch_a), lecture_type="dialogue")
    record.refresh_from_db()
    assert record.get_lecture_type_display() == "谈话式党课"
    stats = lecture_stats(user=None, organization=tree.district_a, year=2025)
    assert stats is not None
    assert {row.code: row.count for row in stats.by_type}["dialogue"] == 1


# --- permission test -----------------------------------------------------------------------------


class TestLecturerProfileForListeners(OwnedEndpointTests):
    """A member who heard one of the lecturer's lectures opens the lecturer; a member of the other
    district (who heard none) gets 404."""

    url_name = "lectures:lecturer_detail"
    role = "member"

    def make_object(self, org: Any) -> Any:
        # On the roster: a member of the organisation when the 党课 is recorded.
        self._listener = link(make_member(org, f"听众{next(_n)}"))
        speaker = lecturer(org, name=f"主讲人{next(_n)}")
        lecture(party_lecture(org), speaker)
        return speaker

    def owner(self, obj: Any) -> Any:
        return self._listener

    def url(self, obj: Any) -> str:
        return reverse(self.url_name, args=[obj.pk])

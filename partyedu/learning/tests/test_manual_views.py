"""Manual hour records on a member's hours page: recording hours earned outside the system,
cancelling one with a reason, the Chinese messages for bad input, and who sees the buttons.
After every write the ledger equals a rebuild."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.models import Role
from partyedu.core.testing import ScopedEndpointTests
from partyedu.learning.models import LearningHourEntry, MemberYearHours
from partyedu.learning.services import learning_hours_manual_reverse, learning_hours_record_manual
from partyedu.testsupport.factories import Tree, make_member, make_user

from .factories import assert_ledger_equals_rebuild, attend, local, make_activity

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def record(member: Any, hours: str = "4", description: str = "自学《党章》", year: int = YEAR) -> Any:
    return learning_hours_record_manual(
        actor=None, member=member, year=year, kind="self", hours=Decimal(hours), description=description
    )


def record_url(member: Any) -> str:
    return reverse("learning:manual_record", args=[member.pk])


def reverse_url(entry: Any) -> str:
    return reverse("learning:manual_reverse", args=[entry.member_id, entry.pk])


def hours_page(client: Any, member: Any, year: int = YEAR) -> str:
    return client.get(reverse("learning:member_hours", args=[member.pk]), {"year": year}).content.decode()


def post_record(client: Any, member: Any, **data: Any) -> Any:
    values = {"year": YEAR, "kind": "self", "hours": "4", "description": "自学《习近平谈治国理政》第四卷"}
    values.update(data)
    return client.post(record_url(member), values)


@pytest.fixture
def admin(tree: Tree) -> Any:
    return make_user("admin_a", role="org_admin", org=tree.district_a)


@pytest.fixture
def member(tree: Tree) -> Any:
    return make_member(tree.branch_a, "学习党员")


# --- scope ----------------------------------------------------------------------------------------


class TestManualRecordScope(ScopedEndpointTests):
    url_name = "learning:manual_record"

    def make_object(self, org: Any) -> Any:
        return make_member(org, "登记党员")

    def url(self, obj: Any) -> str:
        return record_url(obj)


class TestManualReverseScope(ScopedEndpointTests):
    url_name = "learning:manual_reverse"

    def make_object(self, org: Any) -> Any:
        return record(make_member(org, "撤销党员"))

    def url(self, obj: Any) -> str:
        return reverse_url(obj)


# --- recording ------------------------------------------------------------------------------------


def test_recorded_hours_show_on_the_hours_page_at_once(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    response = post_record(client, member, kind="concentrated", hours="8", description="市委党校春季班")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('learning:member_hours', args=[member.pk])}?year={YEAR}"
    html = client.get(response["Location"]).content.decode()
    assert "市委党校春季班（手工登记）" in html and "+8" in html
    assert f"已为学习党员登记{YEAR}年集中培训 8 学时" in html
    assert MemberYearHours.objects.get(member=member, year=YEAR).concentrated == Decimal("8")
    assert_ledger_equals_rebuild()


def test_hours_of_last_year_go_to_last_year(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    response = post_record(client, member, year=YEAR - 1, description="去年的自学")
    assert response["Location"].endswith(f"?year={YEAR - 1}")
    assert LearningHourEntry.objects.get(member=member).year == YEAR - 1
    assert_ledger_equals_rebuild()


def test_form_starts_with_the_year_of_the_hours_page(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    response = client.get(record_url(member), {"year": YEAR - 2})
    assert response.context["form"]["year"].value() == YEAR - 2


def test_negative_hours_are_refused_and_point_to_cancelling(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, hours="-2").content.decode()
    assert "学时应大于0。要扣减登记错的学时，请在学时明细中撤销那一条登记" in html
    assert not LearningHourEntry.objects.exists()


def test_more_than_one_decimal_place_is_refused(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, hours="1.25").content.decode()
    assert "学时最多一位小数" in html
    assert not LearningHourEntry.objects.exists()


def test_too_many_hours_at_once_are_refused(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, hours="120").content.decode()
    assert "单次登记不超过100学时" in html
    assert not LearningHourEntry.objects.exists()


def test_a_future_year_is_refused(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, year=YEAR + 1).content.decode()
    assert f"年度应在{YEAR - 4}到{YEAR}年之间，不能登记以后年度的学时" in html
    assert not LearningHourEntry.objects.exists()


def test_a_year_that_is_not_a_number_is_refused(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, year="今年").content.decode()
    assert "年度应为四位数字，如 2026" in html


def test_an_empty_description_is_refused(client: Any, admin: Any, member: Any) -> None:
    client.force_login(admin)
    html = post_record(client, member, description="   ").content.decode()
    assert "请填写学习内容" in html
    assert not LearningHourEntry.objects.exists()


def test_a_member_off_the_roll_is_refused_by_the_service(client: Any, admin: Any, tree: Tree) -> None:
    gone = make_member(tree.branch_a, "离册党员")
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    client.force_login(admin)
    html = post_record(client, gone).content.decode()
    assert "该党员已离册" in html
    assert not LearningHourEntry.objects.exists()


def test_a_manager_of_a_sibling_cannot_record(client: Any, tree: Tree, member: Any) -> None:
    client.force_login(make_user(role="org_admin", org=tree.district_b))
    assert post_record(client, member).status_code == 404
    assert not LearningHourEntry.objects.exists()


# --- cancelling -----------------------------------------------------------------------------------


def test_reversal_appends_a_line_with_the_reason(client: Any, admin: Any, member: Any) -> None:
    entry = record(member, "4", "自学《党章》")
    client.force_login(admin)
    response = client.post(reverse_url(entry), {"reason": "重复登记"})
    assert response["Location"] == f"{reverse('learning:member_hours', args=[member.pk])}?year={YEAR}"
    html = client.get(response["Location"]).content.decode()
    assert "自学《党章》（撤销：重复登记）" in html and "-4" in html
    assert "自学《党章》（手工登记）" in html  # the original line stays
    assert MemberYearHours.objects.get(member=member, year=YEAR).total == 0
    assert_ledger_equals_rebuild()


def test_a_reversed_record_has_no_reverse_button(client: Any, admin: Any, member: Any) -> None:
    entry = record(member)
    learning_hours_manual_reverse(actor=None, entry=entry, reason="填错")
    client.force_login(admin)
    assert reverse_url(entry) not in hours_page(client, member)


def test_reversal_needs_a_reason(client: Any, admin: Any, member: Any) -> None:
    entry = record(member)
    client.force_login(admin)
    html = client.post(reverse_url(entry), {"reason": "  "}).content.decode()
    assert "请填写撤销原因" in html
    assert LearningHourEntry.objects.count() == 1


def test_reversing_twice_is_refused(client: Any, admin: Any, member: Any) -> None:
    entry = record(member)
    client.force_login(admin)
    client.post(reverse_url(entry), {"reason": "重复登记"})
    html = client.post(reverse_url(entry), {"reason": "再撤一次"}).content.decode()
    assert "该登记已撤销" in html
    assert LearningHourEntry.objects.count() == 2
    assert_ledger_equals_rebuild()


def test_a_line_from_an_activity_cannot_be_reversed(client: Any, admin: Any, member: Any, tree: Tree) -> None:
    attend(make_activity(tree.branch_a, start=local(YEAR, 3, 15, 9)), member)
    line = LearningHourEntry.objects.get(member=member)
    client.force_login(admin)
    assert client.get(reverse_url(line)).status_code == 404


def test_a_correcting_line_cannot_be_reversed(client: Any, admin: Any, member: Any) -> None:
    correction = learning_hours_manual_reverse(actor=None, entry=record(member), reason="填错")
    client.force_login(admin)
    assert client.get(reverse_url(correction)).status_code == 404


def test_a_record_of_another_member_is_not_found(client: Any, admin: Any, member: Any, tree: Tree) -> None:
    entry = record(make_member(tree.branch_a, "另一名党员"))
    client.force_login(admin)
    url = reverse("learning:manual_reverse", args=[member.pk, entry.pk])
    assert client.get(url).status_code == 404


# --- who sees the buttons -------------------------------------------------------------------------


def test_branch_secretary_sees_record_and_reverse_buttons(client: Any, tree: Tree, member: Any) -> None:
    entry = record(member)
    client.force_login(make_user(role="branch_admin", org=tree.branch_a))
    html = hours_page(client, member)
    assert record_url(member) in html and reverse_url(entry) in html


def test_a_viewer_without_change_rights_sees_no_buttons(client: Any, tree: Tree, member: Any) -> None:
    entry = record(member)
    Role.objects.filter(code="inspector").update(actions=["learning.view"])
    client.force_login(make_user(role="inspector", org=tree.district_a))
    html = hours_page(client, member)
    assert "学习党员的学时" in html
    assert record_url(member) not in html and reverse_url(entry) not in html
    assert client.get(record_url(member)).status_code == 403


def test_the_member_sees_no_buttons_on_my_hours(client: Any, tree: Tree, member: Any) -> None:
    entry = record(member)
    user = make_user(role="member", org=tree.branch_a)
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    html = client.get(reverse("learning:my_hours")).content.decode()
    assert "自学《党章》（手工登记）" in html
    assert record_url(member) not in html and reverse_url(entry) not in html

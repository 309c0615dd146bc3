"""确定为发展对象日期 (``Member.candidate_on``): set by the member services, the form, the import and the
API beside 入党日期; the start of the 发展对象 training window (DOMAIN_RULES "发展对象 training window": 细则)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from partyedu.members.forms import MemberForm
from partyedu.members.models import Member
from partyedu.members.services import member_import, member_import_template, member_update
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

pytestmark = pytest.mark.django_db


def test_becoming_candidate_sets_candidate_on_to_today(tree):
    """DOMAIN_RULES 发展对象 training window (细则): the window starts when the member becomes 发展对象;
    the status change records the day when no date is given."""
    member = make_member(tree.branch_a, "王积极", status="activist")
    member = member_update(actor=None, member=member, data={"status": "candidate"})
    assert member.candidate_on == timezone.localdate()


def test_becoming_candidate_keeps_a_given_date(tree):
    """DOMAIN_RULES 发展对象 training window (细则): a date entered with the change wins over today."""
    member = make_member(tree.branch_a, "王积极", status="activist")
    given = timezone.localdate() - timedelta(days=40)
    member = member_update(actor=None, member=member, data={"status": "candidate", "candidate_on": given})
    assert member.candidate_on == given


def test_a_new_candidate_record_leaves_the_date_unregistered(tree):
    """DOMAIN_RULES 发展对象 training window (细则): registering someone who is already 发展对象 does not
    claim they became one today (the pages say the date is missing)."""
    member = make_member(tree.branch_a, "李发展", status="candidate")
    assert member.candidate_on is None


def test_candidate_on_after_joined_on_is_refused(tree):
    """DOMAIN_RULES 发展对象 training window (细则): one becomes 发展对象 before admission."""
    with pytest.raises(ValidationError) as exc:
        make_member(
            tree.branch_a,
            "赵预备",
            status="probationary",
            candidate_on=date(2024, 5, 1),
            joined_on=date(2024, 3, 1),
        )
    assert exc.value.message_dict["candidate_on"] == ["确定为发展对象日期晚于入党日期"]


def test_candidate_on_in_the_future_is_refused(tree):
    """A date that has not come yet cannot have been the day of a branch decision."""
    with pytest.raises(ValidationError) as exc:
        make_member(
            tree.branch_a, "李发展", status="candidate", candidate_on=timezone.localdate() + timedelta(days=1)
        )
    assert "candidate_on" in exc.value.message_dict


def test_member_form_carries_candidate_on(tree):
    member = make_member(tree.branch_a, "李发展", status="candidate", candidate_on=date(2025, 3, 1))
    form = MemberForm(user=make_user(), member=member)
    assert form.initial["candidate_on"] == date(2025, 3, 1)
    assert list(form.fields).index("candidate_on") == list(form.fields).index("joined_on") - 1


def test_import_template_offers_the_optional_column():
    sheet = load_workbook(io.BytesIO(member_import_template())).active
    headers = [cell.value for cell in sheet[1]]
    assert "确定为发展对象日期" in headers


def _import(actor, rows, headers):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return member_import(actor=actor, file=io.BytesIO(buffer.getvalue()), filename="党员.xlsx", dry_run=False)


def test_import_sets_candidate_on(tree):
    headers = ["姓名", "身份证号", "所在党组织代码", "党员状态", "确定为发展对象日期"]
    number = valid_id_number(date(1995, 5, 5))
    report = _import(None, [["钱发展", number, tree.branch_a.code, "发展对象", "2025-09-01"]], headers)
    assert not report.errors
    assert Member.objects.get(name="钱发展").candidate_on == date(2025, 9, 1)


def test_import_blank_cell_keeps_the_stored_date(tree):
    member = make_member(tree.branch_a, "钱发展", status="candidate", candidate_on=date(2025, 9, 1))
    headers = ["姓名", "身份证号", "所在党组织代码", "党员状态", "确定为发展对象日期"]
    report = _import(None, [["钱发展", member.id_number, tree.branch_a.code, "发展对象", None]], headers)
    assert not report.errors
    member.refresh_from_db()
    assert member.candidate_on == date(2025, 9, 1)


def test_import_of_an_activist_becoming_candidate_sets_today(tree):
    """DOMAIN_RULES 发展对象 training window (细则): the import changes status like the form does."""
    member = make_member(tree.branch_a, "孙积极", status="activist")
    headers = ["姓名", "身份证号", "所在党组织代码", "党员状态"]
    report = _import(None, [["孙积极", member.id_number, tree.branch_a.code, "发展对象"]], headers)
    assert not report.errors
    member.refresh_from_db()
    assert member.candidate_on == timezone.localdate()


def test_api_shows_and_sets_candidate_on(tree):
    admin = make_user(role="org_admin", org=tree.district_a)
    member = make_member(tree.branch_a, "李发展", status="activist")
    url = f"/api/v1/members/{member.pk}/"
    client = api_client(admin)
    response = client.patch(url, {"status": "candidate", "candidate_on": "2025-10-08"}, format="json")
    assert response.status_code == 200, response.content
    assert client.get(url).json()["candidate_on"] == "2025-10-08"

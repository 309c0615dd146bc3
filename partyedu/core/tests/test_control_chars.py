"""Control characters are refused on every write path and stripped from every export."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from partyedu.core.control_chars import check_line, check_text
from partyedu.members.models import Member
from partyedu.members.selectors import member_list
from partyedu.members.services import member_export, member_import
from partyedu.organizations.models import Organization
from partyedu.organizations.services import organization_export
from partyedu.testsupport.api import api_client
from partyedu.testsupport.factories import make_member, make_user, valid_id_number

BELL, ESCAPE = "\x07", "\x1b"


@pytest.fixture
def admin(tree):
    return make_user(role="org_admin", org=tree.district_a)


@pytest.mark.parametrize(
    "value", [f"甲{BELL}支部", f"甲{ESCAPE}[31m", "甲\u202e部支", "甲\n支部", "甲\t支部"]
)
def test_single_line_text_refuses_control_characters(value):
    with pytest.raises(Exception, match="控制字符"):
        check_line(value)


def test_multi_line_text_keeps_line_breaks_and_tabs():
    check_text("第一段\n\t第二段\r\n")


def test_multi_line_text_refuses_other_control_characters():
    with pytest.raises(Exception, match="U\\+0007"):
        check_text(f"会议{BELL}纪要")


def test_api_create_with_a_control_character_in_the_name_is_400_on_the_field(tree, admin):
    body = {"name": f"甲二{BELL}支部", "code": "JA02", "level": "branch", "org_type": "rural"}
    response = api_client(admin).post(
        "/api/v1/organizations/", {**body, "parent": tree.district_a.pk}, format="json"
    )

    assert response.status_code == 400
    assert "控制字符" in response.json()["errors"]["name"][0]
    assert not Organization.objects.filter(code="JA02").exists()


def test_api_patch_with_a_control_character_in_the_short_name_is_400(tree, admin):
    response = api_client(admin).patch(
        f"/api/v1/organizations/{tree.branch_a.pk}/", {"short_name": f"甲{ESCAPE}一"}, format="json"
    )

    assert response.status_code == 400
    assert "short_name" in response.json()["errors"]
    tree.branch_a.refresh_from_db()
    assert ESCAPE not in tree.branch_a.short_name


def test_form_with_a_control_character_shows_the_error_on_the_field(client, tree, admin):
    client.force_login(admin)
    url = reverse("organizations:create") + f"?parent={tree.district_a.pk}"
    response = client.post(
        url,
        {
            "name": f"甲二{BELL}支部",
            "code": "JA02",
            "level": "branch",
            "org_type": "community",
            "sort_order": 0,
        },
    )

    assert response.status_code == 200
    assert "控制字符" in response.content.decode()
    assert not Organization.objects.filter(code="JA02").exists()


def test_import_row_with_a_control_character_names_row_and_column(tree, admin):
    header = "姓名,身份证号,所在党组织代码,党员状态,入党日期"
    row = f"李{BELL}红,{valid_id_number(date(1980, 1, 1))},{tree.branch_a.code},正式党员,2005-07-01"
    data = f"{header}\n{row}\n".encode()

    report = member_import(actor=admin, file=io.BytesIO(data), filename="党员.csv", dry_run=True)

    assert [str(e) for e in report.errors] == [
        "第2行 姓名: 不能包含换行、制表符或不可见的控制字符，请删除后重新输入（U+0007）"
    ]


def test_member_export_strips_control_characters_already_stored(tree, admin):
    member = make_member(tree.branch_a, "李红")
    Member.objects.filter(pk=member.pk).update(name=f"李{BELL}红{ESCAPE}")

    data = member_export(actor=admin, queryset=member_list(user=admin, action="export"))

    assert load_workbook(io.BytesIO(data))["党员信息"]["A2"].value == "李红"


def test_organization_export_strips_control_characters_already_stored(tree, admin):
    Organization.objects.filter(pk=tree.branch_a.pk).update(name=f"甲一{BELL}支部")

    data = organization_export(
        actor=admin, queryset=Organization.objects.filter(path__startswith=tree.district_a.path)
    )

    values = [cell for row in load_workbook(io.BytesIO(data)).active.values for cell in row]
    assert "甲一支部" in values


def test_services_that_validate_by_hand_still_refuse_control_characters(tree):
    from partyedu.competitions.services import competition_create

    organiser = make_user(role="org_admin", org=tree.root)
    data = {
        "organization": tree.root,
        "title": f"党课{BELL}评选",
        "criteria": [{"name": "内容", "weight": 100}],
    }

    with pytest.raises(ValidationError) as caught:
        competition_create(actor=organiser, data=data)

    assert "title" in caught.value.message_dict

"""How an import writes its new members (issue 9: by COPY on PostgreSQL, with ids drawn from the
table's sequence first; ``bulk_create`` elsewhere): what is stored, the ids that follow, and the
whole file rolled back when someone registers one of its people meanwhile."""

import io
from datetime import date

import pytest
from django.db import connection
from openpyxl import Workbook

from partyedu.core import pii
from partyedu.core.importing import ImportFileError
from partyedu.members import pii_index
from partyedu.members import services as member_services
from partyedu.members.idnumber import parse_id_number
from partyedu.members.models import Member
from partyedu.members.services import (
    COUNT_GROUPED_UPDATES_MAX,
    apply_member_data,
    member_import,
    member_summaries_rebuild,
)
from partyedu.testsupport.factories import make_member, make_org, make_user, valid_id_number


@pytest.fixture
def admin(tree):
    return make_user(role="org_admin", org=tree.district_a)


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "手机号", "所在党组织代码", "党员类别"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(actor, data):
    return member_import(actor=actor, file=io.BytesIO(data), filename="党员.xlsx", dry_run=False)


def test_stored_columns_are_those_a_single_create_writes(tree, admin):
    number = valid_id_number(date(1975, 3, 4), male=False)
    report = run(admin, xlsx([["刘芳", number, "13912345678", tree.branch_a.code, "在职、离退休"]]))
    assert report.ok, report.errors
    member = Member.objects.get(name="刘芳")
    assert member.id_number == number
    assert member.id_number_hash == pii_index.id_number_index(number)
    assert member.id_number_masked == pii.mask_id_number(number)
    assert member.phone == "13912345678"
    assert member.phone_masked == "139****5678"
    assert member.categories == ["employed", "retired"]
    assert member.org_path == tree.branch_a.path
    assert member.birth_date == date(1975, 3, 4) and member.gender == "F"
    assert member.created_at is not None and member.updated_at is not None
    assert member.is_active and member.user_id is None


def test_personal_data_is_stored_encrypted(tree, admin):
    number = valid_id_number()
    run(admin, xlsx([["刘芳", number, "13912345678", tree.branch_a.code, ""]]))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Member._meta.db_table}")
        stored = cursor.fetchone()[0]
    assert number not in stored
    assert pii.decrypt(stored) == number


def test_members_created_after_an_import_get_new_ids(tree, admin):
    run(admin, xlsx([[f"党员{i}", valid_id_number(), "", tree.branch_a.code, ""] for i in range(3)]))
    imported = set(Member.objects.values_list("pk", flat=True))
    later = make_member(tree.branch_a, "后来者")
    assert later.pk > max(imported)
    assert len(imported) == 3


def test_someone_registered_meanwhile_rolls_the_whole_file_back(tree, admin, monkeypatch):
    numbers = [valid_id_number() for _ in range(3)]
    check = member_services._member_import_check

    def check_then_register(actor, sheet, report):
        plan = check(actor, sheet, report)
        make_member(tree.branch_b, "抢先登记", id_number=numbers[1])  # after the file was checked
        return plan

    monkeypatch.setattr(member_services, "_member_import_check", check_then_register)
    with pytest.raises(ImportFileError) as raised:
        run(admin, xlsx([[f"党员{i}", n, "", tree.branch_a.code, ""] for i, n in enumerate(numbers)]))
    assert raised.value.message == "导入期间有党员被他人登记，数据未写入，请重新导入"
    assert not Member.objects.filter(name__startswith="党员").exists()


def test_a_number_checked_by_the_caller_gives_what_parsing_gives(tree):
    number = valid_id_number(date(1990, 5, 6))
    given, parsed = Member(organization=tree.branch_a), Member(organization=tree.branch_a)
    data = {"name": "张三", "id_number": number}
    apply_member_data(
        given, dict(data), id_parsed=(parse_id_number(number), pii_index.id_number_index(number))
    )
    apply_member_data(parsed, dict(data))
    fields = ("id_number", "id_number_hash", "birth_date", "gender", "id_number_masked", "name_initials")
    assert [getattr(given, f) for f in fields] == [getattr(parsed, f) for f in fields]


def test_counts_of_many_organisations_with_distinct_increments_stay_exact(tree, admin):
    branches = [
        make_org(tree.district_a, f"第{i}支部", "branch", "organ")
        for i in range(COUNT_GROUPED_UPDATES_MAX + 2)
    ]
    rows = [
        [f"党员{i}-{j}", valid_id_number(), "", branch.code, ""]
        for i, branch in enumerate(branches)
        for j in range(i + 1)  # 1, 2, 3 … members: a distinct increment per branch
    ]
    report = run(admin, xlsx(rows))
    assert report.ok, report.errors[:3]
    assert member_summaries_rebuild() == {"member_paths": 0, "member_counts": 0}
    branches[3].refresh_from_db()
    assert branches[3].member_count == 4

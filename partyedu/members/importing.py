"""The member spreadsheet: its columns (shared by import, export and the template) and how a
member becomes an export row. The headers follow the national member system's vocabulary."""

from __future__ import annotations

from typing import Any

from partyedu.core import pii
from partyedu.core.exporting import ExportColumn
from partyedu.core.importing import BOOL, CHOICE, DATE, MULTI_CHOICE, Column

from .choices import Education, Gender, MemberCategory, MemberStatus
from .models import Member

EXAMPLE_ID_NUMBER = "11010519491231002X"  # GB 11643 test vector (female, born 1949-12-31)

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", required=True, max_length=50, width=10, example="王芳"),
    Column(
        "性别",
        "gender",
        CHOICE,
        choices=Gender,
        choice_aliases={"男性": "M", "女性": "F"},
        keep_if_blank=True,
        width=6,
        help="可不填，按身份证号识别；填写时须与身份证号一致",
        example="女",
    ),
    Column(
        "出生日期",
        "birth_date",
        DATE,
        keep_if_blank=True,
        width=12,
        help="可不填，按身份证号识别；格式如 2020-01-05、2020/1/5、20200105",
        example="1949-12-31",
    ),
    Column(
        "身份证号",
        "id_number",
        required=True,
        aliases=("公民身份号码", "身份证号码", "身份证"),
        pii=True,
        width=22,
        help="18位，末位可为X；请将该列设为“文本”格式，以免被Excel截断。重复导入时按身份证号更新",
        example=EXAMPLE_ID_NUMBER,
    ),
    Column(
        "手机号",
        "phone",
        aliases=("手机号码", "联系电话", "手机"),
        pii=True,
        width=14,
        help="1开头的11位数字",
        example="13800138000",
    ),
    Column(
        "民族", "ethnicity", max_length=20, keep_if_blank=True, width=8, help="不填为汉族", example="汉族"
    ),
    Column(
        "学历",
        "education",
        CHOICE,
        choices=Education,
        choice_aliases={
            "本科": "bachelor",
            "硕士": "master",
            "研究生": "master",
            "博士": "doctor",
            "高中": "senior",
            "中专": "senior",
            "中技": "senior",
            "专科": "college",
        },
        width=12,
        example="大学本科",
    ),
    Column(
        "所在党组织代码",
        "organization",
        required=True,
        aliases=("组织代码", "党组织代码"),
        width=16,
        help="党员所在党支部或党小组的组织代码（见党组织页面）；已登记党员变更组织请办理组织关系转接",
        example="（填写组织代码）",
    ),
    Column(
        "党员状态",
        "status",
        CHOICE,
        choices=MemberStatus,
        keep_if_blank=True,
        width=12,
        help="不填为正式党员",
        example="正式党员",
    ),
    Column(
        "确定为发展对象日期",
        "candidate_on",
        DATE,
        keep_if_blank=True,
        width=14,
        help="可不填；发展对象培训从这一天起计算。留空不改变已登记的日期",
        example="1974-12-01",
    ),
    Column("入党日期", "joined_on", DATE, width=12, example="1975-07-01"),
    Column("转正日期", "full_member_on", DATE, width=12, example="1976-07-01"),
    Column(
        "党员类别",
        "categories",
        MULTI_CHOICE,
        choices=MemberCategory,
        aliases=("人员类别",),
        width=18,
        help="可填多个，用“、”或逗号分隔",
        example="离退休、年老体弱",
    ),
    Column(
        "免于硬性要求",
        "is_exempt",
        BOOL,
        width=12,
        help="填“是”或“否”，不填为否；填“是”时须填写免除原因",
        example="是",
    ),
    Column("免除原因", "exempt_reason", max_length=200, width=20, example="年老体弱，送学上门"),
)

HEADERS = {c.field: c.header for c in MEMBER_COLUMNS}
ORG_NAME_HEADER = "所在党组织"  # informational in exports; the import reads the code column


def export_columns() -> list[ExportColumn]:
    columns = [ExportColumn(c.header, c.width) for c in MEMBER_COLUMNS]
    at = [c.field for c in MEMBER_COLUMNS].index("organization") + 1
    columns.insert(at, ExportColumn(ORG_NAME_HEADER, 24))
    return columns


def export_row(member: Member, *, unmasked: bool) -> list[Any]:
    """One member as the values of ``export_columns()``: labels for choices, real dates,
    personal data masked unless ``unmasked``."""
    row: list[Any] = []
    for column in MEMBER_COLUMNS:
        if column.field == "organization":
            row.extend([member.organization.code, member.organization.name])
            continue
        value = getattr(member, column.field)
        if column.field == "id_number" and not unmasked:
            value = pii.mask_id_number(value)
        elif column.field == "phone" and not unmasked:
            value = pii.mask_mobile(value)
        elif column.kind != DATE:
            value = column.display(value)
        row.append(value)
    return row


def template_example_row() -> list[Any]:
    return [c.example for c in MEMBER_COLUMNS]

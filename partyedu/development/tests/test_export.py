"""The xlsx export in the national member system's vocabulary: its columns, the 公民身份号码
masked unless the PII grant covers the branch, one audit row, and a background job when long."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from partyedu.core.choices import AuditAction, JobStatus
from partyedu.core.models import AuditLog, Job
from partyedu.development.exports import HEADERS, case_export
from partyedu.development.models import DevelopmentCase
from partyedu.testsupport.factories import make_user

from .conftest import new_case, walk_to

pytestmark = pytest.mark.django_db

NATIONAL_COLUMNS = (
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "所在党支部",
    "申请入党日期",
    "确定为入党积极分子日期",
    "确定为发展对象日期",
    "接收为预备党员日期",
    "转为正式党员日期",
    "入党介绍人",
    "培养联系人",
    "发展阶段",
    "延长预备期",
)


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(BytesIO(content)).active.iter_rows(values_only=True))


def test_the_columns_are_the_national_systems(setup):
    assert HEADERS == NATIONAL_COLUMNS
    rows = _sheet(case_export(actor=setup.secretary, queryset=DevelopmentCase.objects.all()))
    assert rows[0] == NATIONAL_COLUMNS


def test_a_row_carries_the_dates_people_and_stage(setup):
    case = walk_to(setup, new_case(setup, name="王五"), "approval")

    rows = _sheet(case_export(actor=setup.secretary, queryset=DevelopmentCase.objects.all()))

    row = dict(zip(NATIONAL_COLUMNS, rows[1], strict=True))
    assert row["姓名"] == "王五" and row["所在党支部"] == "甲一支部" and row["发展阶段"] == "预备党员"
    assert row["公民身份号码"] == case.id_number_masked
    assert row["接收为预备党员日期"].date() == case.admitted_on
    assert row["入党介绍人"] == "党员1、党员2" and row["培养联系人"] == "党员0"
    assert row["转为正式党员日期"] is None and row["延长预备期"] is None


def test_the_id_number_is_unmasked_for_a_pii_grant_and_audited(setup):
    case = new_case(setup)
    holder = make_user(role="branch_admin", org=setup.branch, pii=True)

    masked = _sheet(case_export(actor=setup.secretary, queryset=DevelopmentCase.objects.all()))
    unmasked = _sheet(case_export(actor=holder, queryset=DevelopmentCase.objects.all()))

    assert masked[1][2] == case.id_number_masked and unmasked[1][2] == case.id_number
    rows = list(AuditLog.objects.filter(action=AuditAction.EXPORT).order_by("id"))
    assert [r.changes["unmasked"] for r in rows] == [False, True]
    assert rows[1].message == "导出发展党员1名，其中1名含未脱敏公民身份号码"


def test_the_export_keeps_to_the_users_export_scope(setup):
    new_case(setup)
    other = make_user(role="branch_admin", org=setup.tree.branch_b)

    rows = _sheet(case_export(actor=other, queryset=DevelopmentCase.objects.all()))

    assert len(rows) == 1


def test_the_export_page_downloads_the_filtered_list(client, setup):
    new_case(setup, name="甲")
    walk_to(setup, new_case(setup, name="乙"), "talk")
    client.force_login(setup.secretary)

    response = client.get("/development/export/?stage=talked")

    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert [r[0] for r in _sheet(response.content)[1:]] == ["乙"]


def test_a_long_export_is_a_background_job(client, setup, django_capture_on_commit_callbacks):
    new_case(setup, name="甲")
    new_case(setup, name="乙")
    client.force_login(setup.secretary)

    with override_settings(EXPORT_SYNC_MAX_ROWS=1), django_capture_on_commit_callbacks(execute=True):
        response = client.get("/development/export/?q=甲")
        everyone = client.get("/development/export/")

    job = Job.objects.get(kind="development.export")
    assert response.status_code == 200 and [r[0] for r in _sheet(response.content)[1:]] == ["甲"]
    assert everyone.status_code == 302 and everyone["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"summary": "已导出发展党员2名"})
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == 2

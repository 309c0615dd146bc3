"""Pages: a permission class per URL, what each page shows and refuses, and query counts pinned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partyedu.core.choices import AuditAction
from partyedu.core.models import AuditLog
from partyedu.core.testing import ScopedEndpointTests
from partyedu.development.models import (
    CaseDocument,
    CaseStep,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentPolicy,
)
from partyedu.development.services import plan_set, policy_set
from partyedu.testsupport.factories import make_member, make_org, make_user, valid_id_number

from .conftest import new_case, walk_to
from .pages import activist_case, make_case, pdf, with_document

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


# --- permission classes --------------------------------------------------------------------------


class TestIndexPage(ScopedEndpointTests):
    url_name = "development:index"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_case(org, name="列表申请人")

    def url(self, obj):
        return "/development/"


class TestCreatePage(ScopedEndpointTests):
    url_name = "development:create"
    kind = "create"
    role = "branch_admin"

    def make_object(self, org):
        return org

    def url(self, obj):
        return "/development/new/"


class TestExport(ScopedEndpointTests):
    url_name = "development:export"
    kind = "list"
    role = "branch_admin"

    def make_object(self, org):
        return make_case(org, name="导出申请人")

    def url(self, obj):
        return "/development/export/"

    def listed(self, response, obj):
        from io import BytesIO

        from openpyxl import load_workbook

        sheet = load_workbook(BytesIO(response.content)).active
        return any(row[0] == obj.name for row in sheet.iter_rows(min_row=2, values_only=True))


class TestOverviewPage(ScopedEndpointTests):
    url_name = "development:overview"
    kind = "list"

    def make_object(self, org):
        return make_case(org)

    def url(self, obj):
        return "/development/overview/"

    def marker(self, obj):
        return obj.organization.name


class TestPlansPage(ScopedEndpointTests):
    url_name = "development:plans"
    kind = "list"

    def make_object(self, org):
        return plan_set(actor=None, organization=org, year=TODAY.year, planned=3)

    def url(self, obj):
        return "/development/plans/"

    def marker(self, obj):
        return obj.organization.name


class TestRulesPage(ScopedEndpointTests):
    url_name = "development:rules"
    kind = "list"

    def make_object(self, org):
        return policy_set(actor=None, organization=org, data={"talk_within_months": 2})

    def url(self, obj):
        return "/development/rules/"

    def marker(self, obj):
        return f'href="/development/rules/{obj.organization_id}/"'


class TestRulesDetailPage(ScopedEndpointTests):
    url_name = "development:rules_detail"

    def make_object(self, org):
        return org

    def url(self, obj):
        return f"/development/rules/{obj.pk}/"


class TestRulesResetPage(ScopedEndpointTests):
    url_name = "development:rules_reset"

    def make_object(self, org):
        policy_set(actor=None, organization=org, data={"talk_within_months": 2})
        return org

    def url(self, obj):
        return f"/development/rules/{obj.pk}/reset/"


class CasePage(ScopedEndpointTests):
    role = "branch_admin"
    path = ""

    def make_object(self, org):
        return make_case(org)

    def url(self, obj):
        return f"/development/{obj.pk}/{self.path}"


class TestDetailPage(CasePage):
    url_name = "development:detail"


class TestConfirmPage(CasePage):
    url_name = "development:confirm"
    path = "confirm/"


class TestPrintPage(CasePage):
    url_name = "development:print"
    path = "print/"


class TestPeoplePage(CasePage):
    url_name = "development:people"
    path = "people/"

    def make_object(self, org):
        return activist_case(org)


class TestClosePage(CasePage):
    url_name = "development:close"
    path = "close/"


class TestDocumentAddPage(CasePage):
    url_name = "development:document_add"
    path = "documents/new/"


class TestDocumentFile(CasePage):
    url_name = "development:document_file"

    def make_object(self, org):
        return with_document(make_case(org))

    def url(self, obj):
        return f"/development/{obj.case_id}/documents/{obj.pk}/"


class TestDocumentRemovePage(TestDocumentFile):
    url_name = "development:document_remove"

    def url(self, obj):
        return f"/development/{obj.case_id}/documents/{obj.pk}/remove/"


# --- the list ------------------------------------------------------------------------------------


def test_list_shows_the_next_step_in_red_when_overdue(client, setup):
    late = new_case(setup, applied_on=TODAY - timedelta(days=60), name="逾期甲")
    on_time = new_case(setup, applied_on=TODAY - timedelta(days=3), name="按期乙")
    client.force_login(setup.secretary)

    html = client.get("/development/").content.decode()

    row_late = html[html.index("逾期甲") : html.index("</tr>", html.index("逾期甲"))]
    row_on_time = html[html.index("按期乙") : html.index("</tr>", html.index("按期乙"))]
    assert 'data-testid="overdue"' in row_late and "已逾期" in row_late
    assert 'data-testid="overdue"' not in row_on_time and "党组织派人谈话" in row_on_time
    assert late.next_due < TODAY <= on_time.next_due


def test_list_summary_counts_each_stage(client, setup):
    new_case(setup, name="甲")
    new_case(setup, name="乙")
    walk_to(setup, new_case(setup, name="丙"), "talk")
    client.force_login(setup.secretary)

    html = client.get("/development/?stage=talked").content.decode()

    assert 'data-testid="stage-applied"' in html
    assert html.count('data-testid="case-row"') == 1
    summary = html[
        html.index('data-testid="stage-summary"') : html.index("</nav>", html.index("stage-summary"))
    ]
    assert (
        'stage=applied" data-testid="stage-applied">申请入党 <span class="badge text-bg-light">2</span>'
        in summary
    )
    assert "已谈话 <span" in summary and ">1</span>" in summary


def test_list_filters_by_the_workbench_alert(client, setup):
    new_case(setup, applied_on=TODAY - timedelta(days=5), name="将到期")
    new_case(setup, applied_on=TODAY - timedelta(days=1), name="刚申请")
    walk_to(setup, new_case(setup, name="已谈话者"), "talk")
    client.force_login(setup.secretary)

    html = client.get("/development/?alert=talk").content.decode()

    assert "将到期" in html and "刚申请" in html and "已谈话者" not in html
    assert "谈话将到期或已逾期" in html


def test_list_queries_do_not_grow_with_cases(client, setup, django_assert_max_num_queries):
    client.force_login(setup.secretary)
    walk_to(setup, new_case(setup), "activist")
    with django_assert_max_num_queries(20) as few:
        client.get("/development/")
    for n in range(6):
        case = new_case(setup, name=f"批量{n}")
        if n % 2:
            walk_to(setup, case, "assessment")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/development/").content.decode()
    assert html.count('data-testid="case-row"') == 7


def test_members_list_has_the_development_tab_for_those_who_may_see_it(client, setup):
    client.force_login(setup.secretary)
    html = client.get("/members/").content.decode()
    assert 'href="/development/"' in html and "发展党员" in html

    member_user = make_user(role="member", org=setup.branch)
    client.force_login(member_user)
    assert 'href="/development/"' not in client.get("/members/").content.decode()


# --- a new application ---------------------------------------------------------------------------


def test_create_registers_the_application_and_opens_the_case(client, setup):
    client.force_login(setup.secretary)

    response = client.post(
        "/development/new/",
        {
            "organization": setup.branch.pk,
            "name": "王小明",
            "id_number": valid_id_number(TODAY.replace(year=TODAY.year - 25)),
            "applied_on": (TODAY - timedelta(days=2)).isoformat(),
        },
    )

    case = DevelopmentCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/development/{case.pk}/"
    assert case.stage == "applied" and case.name == "王小明"


def test_create_refuses_an_applicant_under_18_and_writes_nothing(client, setup):
    client.force_login(setup.secretary)

    response = client.post(
        "/development/new/",
        {
            "organization": setup.branch.pk,
            "name": "少年",
            "id_number": valid_id_number(TODAY.replace(year=TODAY.year - 16)),
            "applied_on": TODAY.isoformat(),
        },
    )

    html = response.content.decode()
    assert response.status_code == 200 and "申请入党须年满18岁" in html
    assert 'id="id_id_number_errors"' in html and "min_age" not in html
    assert not DevelopmentCase.objects.exists()


def test_create_refuses_a_bad_id_number_beside_the_field(client, setup):
    client.force_login(setup.secretary)

    response = client.post(
        "/development/new/",
        {
            "organization": setup.branch.pk,
            "name": "某",
            "id_number": "110105194912310021",
            "applied_on": "2024-01-01",
        },
    )

    assert 'id="id_id_number_errors"' in response.content.decode()
    assert not DevelopmentCase.objects.exists()


# --- the case page -------------------------------------------------------------------------------


def test_case_page_writes_an_audit_row(client, setup):
    case = new_case(setup)
    client.force_login(setup.secretary)

    response = client.get(f"/development/{case.pk}/")

    assert response.status_code == 200
    row = AuditLog.objects.get(action=AuditAction.VIEW_PII)
    assert row.object_id == str(case.pk) and row.message == "查看发展党员档案"


def test_case_page_shows_the_masked_id_number_only(client, setup):
    case = new_case(setup)
    client.force_login(setup.secretary)

    html = client.get(f"/development/{case.pk}/").content.decode()

    assert case.id_number_masked in html and case.id_number not in html


def test_case_page_timeline_shows_the_vote_from_the_meeting_record(client, setup):
    case = walk_to(setup, new_case(setup), "admission_vote")
    client.force_login(setup.secretary)

    html = client.get(f"/development/{case.pk}/").content.decode()

    meeting = CaseStep.objects.get(case=case, step="admission_vote").meeting
    assert 'data-testid="timeline-admission_vote"' in html
    assert f'href="/study/activities/{meeting.pk}/"' in html
    assert "应到有表决权党员5人，实到5人，赞成5票" in html


def test_secretary_sees_a_step_of_the_level_above_as_waiting_and_gets_no_form(client, setup):
    case = walk_to(setup, new_case(setup), "committee_review")
    client.force_login(setup.secretary)

    html = client.get(f"/development/{case.pk}/").content.decode()

    assert 'data-testid="awaiting-above"' in html and "待上级党委办理" in html
    assert 'data-testid="confirm-form"' not in html


def test_org_admin_above_gets_the_form_of_a_step_of_the_level_above(client, setup):
    case = walk_to(setup, new_case(setup), "committee_review")
    client.force_login(setup.above)

    html = client.get(f"/development/{case.pk}/").content.decode()

    assert 'data-testid="confirm-form"' in html and "确认：上级党委预审" in html


def test_confirm_form_shows_only_the_fields_of_the_step(client, setup):
    case = walk_to(setup, new_case(setup), "talk")
    client.force_login(setup.secretary)

    activist = client.get(f"/development/{case.pk}/confirm/").content.decode()
    walk_to(setup, case, "publicity")
    vote = client.get(f"/development/{case.pk}/confirm/").content.decode()

    assert 'name="mentors"' in activist and 'name="recommendation"' in activist
    assert 'name="meeting"' not in activist and 'name="override_reason"' not in activist
    assert 'name="meeting"' in vote and 'name="yes_votes"' in vote and 'name="mentors"' not in vote


def test_confirm_records_the_talk(client, setup):
    case = new_case(setup, applied_on=TODAY - timedelta(days=5))
    client.force_login(setup.secretary)

    response = client.post(
        f"/development/{case.pk}/confirm/",
        {"step": "talk", "date": TODAY.isoformat(), "people": "支部书记 李某", "note": "态度端正"},
    )

    assert response.status_code == 302
    step = CaseStep.objects.get(case=case)
    assert (step.step, step.people, step.confirmed_by) == ("talk", "支部书记 李某", setup.secretary)


def test_confirm_refuses_a_late_talk_beside_the_date_and_writes_nothing(client, setup):
    case = new_case(setup)  # applied in 2023: the month for the talk is long over
    client.force_login(setup.secretary)

    response = client.post(f"/development/{case.pk}/confirm/", {"step": "talk", "date": TODAY.isoformat()})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_date_errors"' in html and "个月内派人谈话" in html and "talk_within" not in html
    assert 'name="override_reason"' not in html
    assert not CaseStep.objects.exists()


def test_org_admin_above_confirms_a_late_talk_with_a_reason(client, setup):
    case = new_case(setup)
    client.force_login(setup.above)

    first = client.post(f"/development/{case.pk}/confirm/", {"step": "talk", "date": TODAY.isoformat()})
    second = client.post(
        f"/development/{case.pk}/confirm/",
        {"step": "talk", "date": TODAY.isoformat(), "override_reason": "申请人长期外出务工，返乡后即谈话"},
    )

    assert 'data-testid="override-hint"' in first.content.decode()
    assert second.status_code == 302
    step = CaseStep.objects.get(case=case)
    assert step.overridden == ["talk_within"]
    html = client.get(f"/development/{case.pk}/").content.decode()
    assert 'data-testid="timeline-override"' in html and "谈话期限" in html


def test_secretary_posting_a_step_of_the_level_above_is_refused_on_the_page(client, setup):
    case = walk_to(setup, new_case(setup), "committee_review")
    client.force_login(setup.secretary)

    response = client.post(
        f"/development/{case.pk}/confirm/", {"step": "pre_review", "date": TODAY.isoformat()}
    )

    assert response.status_code == 400 and "该步骤由上级党委办理" in response.content.decode()
    assert not CaseStep.objects.filter(step="pre_review").exists()


def test_confirm_refuses_a_vote_without_quorum_beside_the_meeting(client, setup):
    case = walk_to(setup, new_case(setup), "publicity")
    day = case.last_step_on + timedelta(days=3)
    meeting = setup.meeting(day, present=2)
    client.force_login(setup.secretary)

    response = client.post(
        f"/development/{case.pk}/confirm/",
        {"step": "admission_vote", "date": day.isoformat(), "meeting": meeting.pk, "yes_votes": 2},
    )

    html = response.content.decode()
    assert 'id="id_meeting_errors"' in html and "会议不能作出决议" in html
    assert not CaseStep.objects.filter(step="admission_vote").exists()


def test_confirm_page_for_a_finished_case_goes_back_to_the_case(client, setup):
    case = new_case(setup)
    case.stage = "closed"
    case.save()
    client.force_login(setup.secretary)

    response = client.get(f"/development/{case.pk}/confirm/")

    assert response.status_code == 302 and response["Location"] == f"/development/{case.pk}/"


def test_case_page_shows_the_candidates_points_where_a_scheme_applies(client, setup):
    from partyedu.points.models import PointsScheme

    case = walk_to(setup, new_case(setup), "activist")
    PointsScheme.objects.create(
        organization=setup.tree.district_a, year=TODAY.year, audience="candidates", name="积分择优", base=60
    )
    client.force_login(setup.secretary)

    html = client.get(f"/development/{case.pk}/").content.decode()

    assert 'data-testid="case-points"' in html and "积分 60" in html
    assert "/points/candidates/" in html


def test_case_page_queries_do_not_grow_with_steps(client, setup, django_assert_max_num_queries):
    client.force_login(setup.secretary)
    short = walk_to(setup, new_case(setup), "talk")
    with django_assert_max_num_queries(45) as few:
        client.get(f"/development/{short.pk}/")
    long = walk_to(setup, new_case(setup, name="另一人"), "oath")
    with_document(long)
    with_document(long, "talk_record")
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        client.get(f"/development/{long.pk}/")


# --- print, papers, people, close ----------------------------------------------------------------


def test_print_page_lists_every_step_and_is_audited(client, setup):
    case = walk_to(setup, new_case(setup), "approval")
    client.force_login(setup.secretary)

    html = client.get(f"/development/{case.pk}/print/").content.decode()

    assert "发展党员纪实表" in html and "data-print" in html
    steps = html[
        html.index('data-testid="dossier-steps"') : html.index("</table>", html.index("dossier-steps"))
    ]
    assert steps.count("<tr>") == 1 + 1 + 11  # the header, the application, the eleven steps
    assert AuditLog.objects.filter(action=AuditAction.VIEW_PII, message="打印发展党员纪实表").count() == 1


def test_document_is_uploaded_listed_downloaded_and_removed(client, setup):
    case = new_case(setup)
    client.force_login(setup.secretary)

    upload = client.post(
        f"/development/{case.pk}/documents/new/", {"kind": "application", "file": pdf("入党申请书.pdf")}
    )
    doc = CaseDocument.objects.get()
    page = client.get(f"/development/{case.pk}/").content.decode()
    download = client.get(f"/development/{case.pk}/documents/{doc.pk}/")
    removed = client.post(f"/development/{case.pk}/documents/{doc.pk}/remove/")

    assert upload.status_code == 302 and "入党申请书.pdf" in page
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert AuditLog.objects.filter(action=AuditAction.VIEW_PII, object_id=str(doc.pk)).exists()
    assert removed.status_code == 302 and not CaseDocument.objects.exists()


def test_document_of_a_wrong_type_is_refused_beside_the_file(client, setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = new_case(setup)
    client.force_login(setup.secretary)

    response = client.post(
        f"/development/{case.pk}/documents/new/",
        {"kind": "application", "file": SimpleUploadedFile("a.exe", b"MZ")},
    )

    assert 'id="id_file_errors"' in response.content.decode() and "请上传 PDF" in response.content.decode()
    assert not CaseDocument.objects.exists()


def test_document_of_another_case_is_404(client, setup):
    doc = with_document(new_case(setup))
    other = new_case(setup, name="另一人")
    client.force_login(setup.secretary)

    assert client.get(f"/development/{other.pk}/documents/{doc.pk}/").status_code == 404


def test_people_page_changes_the_mentors(client, setup):
    case = walk_to(setup, new_case(setup), "activist")
    client.force_login(setup.secretary)

    response = client.post(
        f"/development/{case.pk}/people/", {"mentors": [setup.voters[3].pk, setup.voters[4].pk]}
    )

    assert response.status_code == 302
    assert set(case.mentors.values_list("pk", flat=True)) == {setup.voters[3].pk, setup.voters[4].pk}


def test_people_page_refuses_three_mentors_and_keeps_the_old_one(client, setup):
    case = walk_to(setup, new_case(setup), "activist")
    client.force_login(setup.secretary)

    response = client.post(f"/development/{case.pk}/people/", {"mentors": [m.pk for m in setup.voters[2:5]]})

    assert "请指定1至2名培养联系人" in response.content.decode()
    assert list(case.mentors.values_list("pk", flat=True)) == [setup.voters[0].pk]


def test_close_page_closes_the_case_with_its_reason(client, setup):
    case = new_case(setup)
    client.force_login(setup.secretary)

    page = client.get(f"/development/{case.pk}/close/").content.decode()
    empty = client.post(f"/development/{case.pk}/close/", {"reason": ""})
    response = client.post(f"/development/{case.pk}/close/", {"reason": "本人撤回申请"})

    assert "确认终止" in page and "请填写终止原因" in empty.content.decode()
    case.refresh_from_db()
    assert response.status_code == 302 and (case.stage, case.closed_reason) == ("closed", "本人撤回申请")


# --- plans and rules -----------------------------------------------------------------------------


def test_org_admin_sets_a_plan_and_sees_it_against_the_admitted(client, setup):
    walk_to(setup, new_case(setup), "approval")
    client.force_login(setup.above)
    year = DevelopmentCase.objects.get().admitted_on.year

    response = client.post(
        f"/development/plans/?year={year}",
        {"organization": setup.branch.pk, "year": year, "planned": 4, "note": ""},
    )
    html = client.get(f"/development/plans/?year={year}").content.decode()

    assert response.status_code == 302 and DevelopmentPlan.objects.get().planned == 4
    row = html[html.index('data-testid="plan-row"') :]
    assert ">4</td>" in row and ">1</a>" in row and "25%" in row


def test_plan_with_a_negative_number_is_refused(client, setup):
    client.force_login(setup.above)

    response = client.post(
        "/development/plans/", {"organization": setup.branch.pk, "year": TODAY.year, "planned": -1}
    )

    assert "计划人数不能为负数" in response.content.decode() and not DevelopmentPlan.objects.exists()


def test_secretary_cannot_set_a_plan(client, setup):
    client.force_login(setup.secretary)

    page = client.get("/development/plans/").content.decode()
    response = client.post(
        "/development/plans/", {"organization": setup.branch.pk, "year": TODAY.year, "planned": 1}
    )

    assert 'data-testid="plan-form"' not in page and response.status_code == 403


def test_rules_page_shows_where_the_rule_comes_from(client, setup):
    policy_set(actor=None, organization=setup.tree.district_a, data={"talk_within_months": 2})
    client.force_login(setup.secretary)

    html = client.get(f"/development/rules/{setup.branch.pk}/").content.decode()

    assert "现行规则由“甲区委”设定" in html and "2个月" in html
    assert 'data-testid="rules-form"' not in html


def test_org_admin_sets_the_rules_of_a_branch_and_resets_them(client, setup):
    client.force_login(setup.above)
    data = {
        name: getattr(DevelopmentPolicy(), name)
        for name in ("min_age", "talk_within_months", "assessment_interval_months", "activist_min_months")
    }
    data.update(
        sponsors_required=2,
        mentors_max=2,
        publicity_days=7,
        approval_within_months=3,
        probation_months=12,
        extension_min_months=6,
        extension_max_months=12,
        applicant_wait_days=180,
        warn_days=30,
    )

    saved = client.post(f"/development/rules/{setup.branch.pk}/", data)
    page = client.get(f"/development/rules/{setup.branch.pk}/").content.decode()
    reset = client.post(f"/development/rules/{setup.branch.pk}/reset/")

    assert saved.status_code == 302 and "本组织自设的规则" in page and "7天" in page
    assert reset.status_code == 302 and not DevelopmentPolicy.objects.exists()


def test_rules_with_a_shorter_extension_maximum_are_refused(client, setup):
    client.force_login(setup.above)
    data = {
        "min_age": 18,
        "talk_within_months": 1,
        "assessment_interval_months": 6,
        "activist_min_months": 12,
        "sponsors_required": 2,
        "mentors_max": 2,
        "publicity_days": 5,
        "approval_within_months": 3,
        "probation_months": 12,
        "extension_min_months": 12,
        "extension_max_months": 6,
        "applicant_wait_days": 180,
        "warn_days": 30,
    }

    response = client.post(f"/development/rules/{setup.branch.pk}/", data)

    assert "延长预备期最短月数不能大于最长月数" in response.content.decode()
    assert not DevelopmentPolicy.objects.exists()


def test_secretary_cannot_set_rules(client, setup):
    client.force_login(setup.secretary)

    response = client.post(f"/development/rules/{setup.branch.pk}/", {"min_age": 18})

    assert response.status_code == 403 and not DevelopmentPolicy.objects.exists()


# --- the member page's panel ---------------------------------------------------------------------


def test_member_page_shows_the_stage_and_a_link_to_the_case(client, setup):
    case = walk_to(setup, new_case(setup), "activist")
    client.force_login(setup.secretary)

    html = client.get(f"/members/{case.member_id}/").content.decode()

    assert 'data-testid="development-panel"' in html and f'href="/development/{case.pk}/"' in html
    assert "入党积极分子" in html


def test_member_page_shows_no_panel_to_a_user_who_may_not_view_the_case(client, setup):

    case = walk_to(setup, new_case(setup), "activist")
    member = case.member
    user = make_user(role="member", org=setup.branch)
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)

    response = client.get(f"/members/{member.pk}/")

    assert response.status_code == 200 and 'data-testid="development-panel"' not in response.content.decode()


def test_other_branch_case_does_not_show_on_the_list(client, setup):
    other = make_org(setup.tree.district_b, "乙二支部")
    make_member(other, "乙党员")
    make_case(other, name="外支部申请人")
    client.force_login(setup.secretary)

    assert "外支部申请人" not in client.get("/development/").content.decode()

"""The annual assessment's services: the scheme's rules (weights sum to 100, manual scores within
0..weight with a reason), scoring from the records with an explanation for every point, re-scoring
that replaces, and the freeze of a published scheme."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partyedu.core.models import AuditLog
from partyedu.organizations.models import Organization
from partyedu.supervision.models.assessment import (
    AssessmentIndicator,
    AssessmentManualScore,
    AssessmentResult,
    AssessmentScheme,
    SchemeStatus,
)
from partyedu.supervision.models.guidance import Inspection, RectificationItem, RectificationStatus
from partyedu.supervision.models.reports import MonthlyReport, ReportStatus
from partyedu.supervision.selectors.assessment import _report_deadline as report_deadline
from partyedu.supervision.selectors.assessment import assessment_metric_values
from partyedu.supervision.services.assessment import (
    IndicatorData,
    assessment_manual_score_set,
    assessment_publish,
    assessment_scheme_create,
    assessment_scheme_update,
    assessment_score,
    metric_explanation,
    metric_points,
)
from partyedu.testsupport.factories import make_member, make_user

YEAR = 2025

pytestmark = pytest.mark.django_db


def indicators(*weights: int | str) -> list[IndicatorData]:
    """A manual indicator per weight (enough for the weight rules)."""
    return [IndicatorData(name=f"指标{i}", kind="manual", weight=w) for i, w in enumerate(weights, start=1)]


def standard() -> list[IndicatorData]:
    return [
        IndicatorData(name="学时完成率", kind="derived", metric="hours_completion", weight=40),
        IndicatorData(
            name="月报按时报送率",
            kind="derived",
            metric="report_timeliness",
            weight=20,
            rule="threshold",
            threshold=90,
        ),
        IndicatorData(name="整改事项销号率", kind="derived", metric="rectification_closure", weight=20),
        IndicatorData(name="特色工作", kind="manual", weight=20),
    ]


@pytest.fixture
def admin(tree):
    return make_user(role="org_admin", org=tree.root)


@pytest.fixture
def scheme(tree, admin) -> AssessmentScheme:
    return assessment_scheme_create(
        actor=admin, organization=tree.root, year=YEAR, title="2025年度党建考评", indicators=standard()
    )


def manual_indicator(scheme: AssessmentScheme) -> AssessmentIndicator:
    return scheme.indicators.get(kind="manual")


# --- the scheme ---------------------------------------------------------------------------------------


def test_weights_not_summing_to_100_are_refused_and_nothing_is_written(tree, admin):
    with pytest.raises(ValidationError) as exc:
        assessment_scheme_create(
            actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=indicators(50, 45)
        )
    assert "各项指标分值之和须为100分，当前合计95分" in exc.value.message_dict["indicators"]
    assert not AssessmentScheme.objects.exists()
    assert not AssessmentIndicator.objects.exists()


def test_weights_summing_to_100_with_a_decimal_are_accepted(tree, admin):
    scheme = assessment_scheme_create(
        actor=admin,
        organization=tree.root,
        year=YEAR,
        title="方案",
        indicators=indicators("33.3", "33.3", "33.4"),
    )
    assert scheme.indicators.count() == 3


def test_a_derived_indicator_without_its_data_source_is_refused(tree, admin):
    rows = [IndicatorData(name="学时", kind="derived", weight=100)]
    with pytest.raises(ValidationError) as exc:
        assessment_scheme_create(
            actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=rows
        )
    assert "第1项指标：数据指标须选择所依据的数据" in exc.value.message_dict["indicators"]


def test_a_threshold_rule_without_a_threshold_is_refused(tree, admin):
    rows = [
        IndicatorData(name="学时", kind="derived", metric="hours_completion", weight=100, rule="threshold")
    ]
    with pytest.raises(ValidationError) as exc:
        assessment_scheme_create(
            actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=rows
        )
    assert "第1项指标：达标满分规则须填写达标线(%)" in exc.value.message_dict["indicators"]


def test_a_scheme_with_no_indicator_is_refused(tree, admin):
    with pytest.raises(ValidationError) as exc:
        assessment_scheme_create(actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=[])
    assert exc.value.message_dict["indicators"] == ["请至少设置一项考评指标"]


def test_the_same_title_twice_in_a_year_is_refused(tree, admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_scheme_create(
            actor=admin, organization=tree.root, year=YEAR, title=scheme.title, indicators=indicators(100)
        )
    assert exc.value.message_dict["title"] == ["该组织本年度已有同名考评方案"]
    assert AssessmentScheme.objects.count() == 1


def test_a_scheme_outside_the_actors_scope_is_refused(tree):
    user = make_user(role="org_admin", org=tree.district_b)
    with pytest.raises(PermissionDenied):
        assessment_scheme_create(
            actor=user, organization=tree.district_a, year=YEAR, title="方案", indicators=indicators(100)
        )


def test_creating_a_scheme_is_audited(scheme):
    assert AuditLog.objects.filter(
        object_type="supervision.assessmentscheme", object_id=str(scheme.pk)
    ).exists()


def test_an_update_with_bad_weights_changes_nothing(admin, scheme):
    before = list(scheme.indicators.values_list("name", "weight"))
    with pytest.raises(ValidationError):
        assessment_scheme_update(actor=admin, scheme=scheme, title="改名", indicators=indicators(60, 60))
    scheme.refresh_from_db()
    assert scheme.title == "2025年度党建考评"
    assert list(scheme.indicators.values_list("name", "weight")) == before


# --- manual scores --------------------------------------------------------------------------------------


def test_a_manual_score_above_the_weight_is_refused(tree, admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_manual_score_set(
            actor=admin,
            indicator=manual_indicator(scheme),
            organization=tree.district_a,
            points="21",
            reason="好",
        )
    assert exc.value.message_dict["points"] == ["得分须在0到20分之间"]
    assert not AssessmentManualScore.objects.exists()


def test_a_negative_manual_score_is_refused(tree, admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_manual_score_set(
            actor=admin,
            indicator=manual_indicator(scheme),
            organization=tree.district_a,
            points="-1",
            reason="差",
        )
    assert "points" in exc.value.message_dict


def test_a_manual_score_without_a_reason_is_refused(tree, admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_manual_score_set(
            actor=admin,
            indicator=manual_indicator(scheme),
            organization=tree.district_a,
            points="15",
            reason="  ",
        )
    assert exc.value.message_dict["reason"] == ["请填写评分理由"]
    assert not AssessmentManualScore.objects.exists()


def test_a_manual_score_for_an_organisation_not_assessed_is_refused(tree, admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_manual_score_set(
            actor=admin,
            indicator=manual_indicator(scheme),
            organization=tree.branch_a,
            points="15",
            reason="好",
        )
    assert exc.value.message_dict["organization"] == ["该组织不是本方案的考评对象"]


def test_giving_a_manual_score_twice_keeps_one_row(tree, admin, scheme):
    indicator = manual_indicator(scheme)
    assessment_manual_score_set(
        actor=admin, indicator=indicator, organization=tree.district_a, points="15", reason="一"
    )
    assessment_manual_score_set(
        actor=admin, indicator=indicator, organization=tree.district_a, points="18", reason="二"
    )
    score = AssessmentManualScore.objects.get()
    assert (score.points, score.reason) == (Decimal("18.0"), "二")


# --- scoring ---------------------------------------------------------------------------------------


def test_scoring_stores_one_result_per_child_and_indicator(tree, admin, scheme):
    assert assessment_score(actor=admin, scheme=scheme) is None
    assert AssessmentResult.objects.filter(scheme=scheme).count() == 2 * 4
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.SCORED


def test_scoring_explains_the_hours_completion(tree, admin, scheme):
    make_member(tree.branch_a, "甲")
    make_member(tree.branch_a, "乙")
    assessment_score(actor=admin, scheme=scheme)
    result = AssessmentResult.objects.get(
        scheme=scheme, organization=tree.district_a, indicator__name="学时完成率"
    )
    assert result.explanation == "学时完成率 0.0%（0/2人）→ 0/40"


def test_a_child_with_nothing_due_scores_full_marks_and_says_why(tree, admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    result = AssessmentResult.objects.get(
        scheme=scheme, organization=tree.district_b, indicator__name="整改事项销号率"
    )
    assert result.has_data is False
    assert result.points == 20
    assert result.explanation == "整改事项销号率 不适用（无到期整改事项，按满分计）→ 20/20"


def test_missing_data_scores_nothing_and_says_so():
    from partyedu.supervision.selectors.assessment import NO_DATA

    indicator = _indicator()
    assert metric_points(indicator, NO_DATA) == 0
    assert metric_explanation(indicator, NO_DATA, Decimal(0)) == "学时完成率 暂无数据（无记录）→ 0/20"


def test_rescoring_replaces_the_results(tree, admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    assessment_manual_score_set(
        actor=admin,
        indicator=manual_indicator(scheme),
        organization=tree.district_a,
        points="17.5",
        reason="特色突出",
    )
    assessment_score(actor=admin, scheme=scheme)
    assert AssessmentResult.objects.filter(scheme=scheme).count() == 8
    cell = AssessmentResult.objects.get(scheme=scheme, organization=tree.district_a, indicator__kind="manual")
    assert cell.points == Decimal("17.5")
    assert cell.explanation == "特色工作 人工评分：特色突出 → 17.5/20"


def test_a_manual_score_on_a_scored_scheme_updates_its_cell(tree, admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    assessment_manual_score_set(
        actor=admin,
        indicator=manual_indicator(scheme),
        organization=tree.district_b,
        points="12",
        reason="一般",
    )
    cell = AssessmentResult.objects.get(scheme=scheme, organization=tree.district_b, indicator__kind="manual")
    assert cell.points == Decimal("12.0")


def test_a_target_level_assesses_the_organisations_of_that_level(tree, admin):
    scheme = assessment_scheme_create(
        actor=admin,
        organization=tree.root,
        year=YEAR,
        title="支部考评",
        target_level="branch",
        indicators=indicators(100),
    )
    assessment_score(actor=admin, scheme=scheme)
    assessed = set(AssessmentResult.objects.filter(scheme=scheme).values_list("organization_id", flat=True))
    assert assessed == {tree.branch_a.pk, tree.branch_b.pk}


def test_many_children_are_scored_by_a_background_job(tree, admin, settings, monkeypatch):
    from partyedu.supervision.services import assessment as services

    monkeypatch.setattr(services, "SCORE_INLINE_MAX", 1)
    scheme = assessment_scheme_create(
        actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=indicators(100)
    )
    job = assessment_score(actor=admin, scheme=scheme)
    assert job is not None
    scheme.refresh_from_db()
    assert scheme.scoring_job_id == job.pk


def test_the_background_job_stores_the_results(tree, admin, monkeypatch, django_capture_on_commit_callbacks):
    from partyedu.core.jobs import run_job
    from partyedu.supervision.services import assessment as services

    monkeypatch.setattr(services, "SCORE_INLINE_MAX", 1)
    scheme = assessment_scheme_create(
        actor=admin, organization=tree.root, year=YEAR, title="方案", indicators=indicators(100)
    )
    job = assessment_score(actor=admin, scheme=scheme)
    run_job(job.pk)
    assert AssessmentResult.objects.filter(scheme=scheme).count() == 2
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.SCORED


# --- publishing and the freeze ------------------------------------------------------------------------


def test_publishing_needs_scores_first(admin, scheme):
    with pytest.raises(ValidationError) as exc:
        assessment_publish(actor=admin, scheme=scheme)
    assert exc.value.message_dict["status"] == ["请先完成评分，再发布考评结果"]


def test_a_published_scheme_cannot_be_rescored(admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    assessment_publish(actor=admin, scheme=scheme)
    before = list(AssessmentResult.objects.values_list("pk", "points"))
    with pytest.raises(ValidationError):
        assessment_score(actor=admin, scheme=scheme)
    assert list(AssessmentResult.objects.values_list("pk", "points")) == before


def test_a_published_scheme_refuses_manual_scores(tree, admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    assessment_publish(actor=admin, scheme=scheme)
    with pytest.raises(ValidationError):
        assessment_manual_score_set(
            actor=admin,
            indicator=manual_indicator(scheme),
            organization=tree.district_a,
            points="5",
            reason="迟到",
        )


def test_a_published_scheme_cannot_be_edited(admin, scheme):
    assessment_score(actor=admin, scheme=scheme)
    assessment_publish(actor=admin, scheme=scheme)
    with pytest.raises(ValidationError):
        assessment_scheme_update(actor=admin, scheme=scheme, title="改", indicators=indicators(100))


def test_publishing_notifies_the_assessed_organisations_admins(tree, admin, scheme):
    from partyedu.core.models import Notification

    secretary = make_user(role="org_admin", org=tree.district_a)
    assessment_score(actor=admin, scheme=scheme)
    assessment_publish(actor=admin, scheme=scheme)
    assert Notification.objects.filter(user=secretary, key=f"assessment_published:{scheme.pk}").count() == 1


# --- the derived indicators -------------------------------------------------------------------------


def _report(org: Organization, month: int, submitted: datetime | None) -> MonthlyReport:
    return MonthlyReport.objects.create(
        organization=org,
        year=YEAR,
        month=month,
        status=ReportStatus.SUBMITTED if submitted else ReportStatus.DRAFT,
        submitted_at=submitted,
    )


def test_report_timeliness_counts_reports_submitted_by_the_deadline(tree):
    _report(tree.branch_a, 1, timezone.make_aware(datetime.combine(date(YEAR, 2, 3), time(9))))  # on time
    _report(tree.branch_a, 2, report_deadline(YEAR, 2) + timedelta(hours=1))  # late
    _report(tree.branch_a, 3, None)  # never submitted
    values = assessment_metric_values(
        user=None,
        metric="report_timeliness",
        organizations=[tree.district_a],
        year=YEAR,
        as_of=date(YEAR + 1, 3, 1),
    )
    value = values[tree.district_a.pk]
    assert (value.numerator, value.denominator) == (1, 12)


def test_the_report_deadline_is_the_tenth_day_after_the_month(tree):
    assert report_deadline(YEAR, 1) == timezone.make_aware(datetime.combine(date(YEAR, 2, 11), time.min))


def test_rectification_closure_counts_closed_items_due_in_the_year(tree):
    inspection = Inspection.objects.create(
        organization=tree.branch_a, kind="inspection", visited_on=date(YEAR, 3, 1), findings="发现问题"
    )
    for status in (RectificationStatus.CLOSED, RectificationStatus.CLOSED, RectificationStatus.OPEN):
        RectificationItem.objects.create(
            inspection=inspection,
            organization=tree.branch_a,
            description="整改",
            due_on=date(YEAR, 4, 1),
            status=status,
        )
    value = assessment_metric_values(
        user=None,
        metric="rectification_closure",
        organizations=[tree.district_a],
        year=YEAR,
        as_of=date(YEAR, 12, 1),
    )[tree.district_a.pk]
    assert (value.numerator, value.denominator) == (2, 3)


def test_a_metric_leaves_out_organisations_outside_the_users_scope(tree):
    user = make_user(role="org_admin", org=tree.district_a)
    values = assessment_metric_values(
        user=user, metric="lecture_duty", organizations=[tree.district_a, tree.district_b], year=YEAR
    )
    assert set(values) == {tree.district_a.pk}


# --- points and explanations ---------------------------------------------------------------------------


def _indicator(**kwargs) -> AssessmentIndicator:
    data = {
        "name": "学时完成率",
        "kind": "derived",
        "metric": "hours_completion",
        "weight": Decimal(20),
        "rule": "linear",
    }
    data.update(kwargs)
    return AssessmentIndicator(**data)


def test_linear_points_are_the_weight_times_the_rate():
    from partyedu.supervision.selectors.assessment import MetricValue

    value = MetricValue(Decimal(1204), Decimal(1304), "人")
    points = metric_points(_indicator(), value)
    assert points == Decimal("18.5")
    assert metric_explanation(_indicator(), value, points) == "学时完成率 92.3%（1,204/1,304人）→ 18.5/20"


def test_threshold_points_are_full_marks_at_the_threshold():
    from partyedu.supervision.selectors.assessment import MetricValue

    indicator = _indicator(rule="threshold", threshold=Decimal(90))
    assert metric_points(indicator, MetricValue(Decimal(9), Decimal(10), "份")) == Decimal(20)
    assert metric_points(indicator, MetricValue(Decimal(8), Decimal(10), "份")) == Decimal(0)

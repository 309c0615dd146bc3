"""考试结果 for the organiser: participation by organisation with a drill-down to members, the
score distribution, pass rate and mean, and the item analysis with the questions that are
probably wrong flagged; the exports of non-participants and of scores.

Results show within the viewer's scope only, by organisation and by name: there is no ranking
of members (DESIGN §3.5). An exam of a level above that reaches the viewer's members
(``exams_reaching``) has these pages too, read-only and without the item analysis."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.export_jobs import export_row_count
from partyedu.core.scope import has_action
from partyedu.core.views import action_required, paginate, xlsx_response

from ..choices import ExamKind
from ..selectors.results import (
    exam_get_for_results,
    exam_reached,
    item_stems,
    member_results,
    nonparticipants,
    participation_by_child,
    result_rows,
    results_breadcrumb,
    results_focus,
    score_histogram,
)
from ..selectors.results import (
    exam_results_cached as results_of,
)
from ..services import results_export as exports

APP = "exams"


def _question_url(pk: int) -> str:
    # The question page is another area's; until it exists the analysis shows no link.
    try:
        return reverse("exams:question_detail", args=[pk])
    except NoReverseMatch:
        return ""


@require_GET
@action_required("view", APP, subtree=True)
def exam_results(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    exam = exam_get_for_results(user=request.user, pk=pk)
    focus = results_focus(user=request.user, exam=exam, organization_pk=request.GET.get("organization"))
    results = results_of(user=request.user, exam=exam)
    participation = participation_by_child(user=request.user, exam=exam, organization=focus)
    stems = item_stems(user=request.user, exam=exam, items=results["items"])
    items = [
        {**item, "stem": stems.get(item["question"], ""), "url": _question_url(item["question"])}
        for item in results["items"]
    ]
    histogram = score_histogram(user=request.user, exam=exam)
    members_page = None
    if participation["own"] is not None or not participation["rows"]:
        members_page = paginate(request, member_results(user=request.user, exam=exam, organization=focus), 50)
    attempted = results["attempted"]
    context: dict[str, Any] = {
        "exam": exam,
        "reached": exam_reached(user=request.user, exam=exam),
        "focus": focus,
        "breadcrumb": results_breadcrumb(user=request.user, organization=focus),
        "results": results,
        "pass_rate": round(100 * results["passed"] / attempted, 1) if attempted else None,
        "participation": participation,
        "items": items,
        "flagged": [i for i in items if i["flagged"]],
        "members_page": members_page,
        "chart": {"labels": histogram["labels"], "counts": histogram["counts"]},
        "bands": list(zip(histogram["labels"], histogram["counts"], strict=True)),
        "can_export": has_action(request.user, "export", APP),
    }
    return render(request, "exams/results.html", context)


def _export(request: AuthenticatedHttpRequest, pk: int, *, kind: str) -> HttpResponse:
    exam = exam_get_for_results(user=request.user, pk=pk)
    if kind == exports.RESULTS_KIND and exam.kind == ExamKind.PRACTICE:
        raise Http404("练习成绩只有党员本人可见")
    rows: QuerySet[Any] = (
        nonparticipants(user=request.user, exam=exam)
        if kind == exports.NONPARTICIPANTS_KIND
        else result_rows(user=request.user, exam=exam)
    )
    if export_row_count(rows) > settings.EXPORT_SYNC_MAX_ROWS:
        job = exports.export_enqueue(actor=request.user, exam=exam, kind=kind)
        return redirect("core:job_detail", pk=job.pk)
    if kind == exports.NONPARTICIPANTS_KIND:
        content = exports.exam_nonparticipants_export(actor=request.user, exam=exam)
        return xlsx_response(content, f"{exam.title}_未参考人员")
    return xlsx_response(exports.exam_results_export(actor=request.user, exam=exam), f"{exam.title}_成绩")


@never_cache
@require_GET
@action_required("export", APP, subtree=True)
def exam_nonparticipants_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, kind=exports.NONPARTICIPANTS_KIND)


@never_cache
@require_GET
@action_required("export", APP, subtree=True)
def exam_results_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, kind=exports.RESULTS_KIND)


urlpatterns = [
    path("manage/<int:pk>/results/", exam_results, name="exam_results"),
    path(
        "manage/<int:pk>/results/nonparticipants.xlsx",
        exam_nonparticipants_export,
        name="exam_nonparticipants_export",
    ),
    path("manage/<int:pk>/results/scores.xlsx", exam_results_export, name="exam_results_export"),
]

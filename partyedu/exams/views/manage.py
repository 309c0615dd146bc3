"""The organiser's exam pages: the list of exams and practice sets in scope, creating one over a
paper of the organisation, editing its window and rules, and its detail page. Thin: each view
parses input, calls one selector or service, renders."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.scope import can, scope_for
from partyedu.core.views import action_required, form_page, htmx_or_page, is_htmx_partial, paginate

from ..forms_exams import ExamCreateForm, ExamFilterForm, ExamSettingsForm
from ..selectors import exam_get
from ..selectors.results import (
    ExamStatus,
    exam_list_filtered,
    exam_named_count,
    exam_reached_list_filtered,
    exam_status,
    exam_target_count,
    exams_reaching,
)
from ..services import EXAM_FIELDS, exam_create, exam_update

APP = "exams"


REACHED_TAB = "reached"


@require_GET
@action_required("view", APP, subtree=True)
def exam_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """考试管理: exams and practice sets in scope with their targets and attempted counts; the tab
    上级组织的考试 lists the exams of levels above that reach the viewer's members, read-only, with
    the counts of those members only."""
    form = ExamFilterForm(request.GET or None)
    now = timezone.now()
    tab = REACHED_TAB if request.GET.get("tab") == REACHED_TAB else ""
    select = exam_reached_list_filtered if tab else exam_list_filtered
    page = paginate(request, select(user=request.user, filters=form.filters(), now=now), 30)
    for exam in page:
        exam.status = exam_status(exam, now)
        exam.status_label = ExamStatus.LABELS[exam.status]
    context = {
        "form": form,
        "page_obj": page,
        "tab": tab,
        # The tabs sit outside the rows that a filter or pager replaces.
        "reached_total": None if is_htmx_partial(request) else exams_reaching(user=request.user).count(),
        "can_add": bool(scope_for(request.user, "add", APP).paths),
    }
    return htmx_or_page(request, "exams/exam_list_rows.html", "exams/exam_list.html", context)


@action_required("add", APP, subtree=True)
def exam_create_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ExamCreateForm(request.POST or None, user=request.user)

    def save() -> Any:
        try:
            return exam_create(
                actor=request.user, organization=form.cleaned_data["organization"], data=form.service_data()
            )
        except PermissionDenied as exc:
            raise ValidationError({"organization": [str(exc)]}) from None

    return form_page(
        request,
        form,
        save,
        message=lambda e: f"已发布：{e.title}",
        then=lambda e: reverse("exams:exam_detail", args=[e.pk]),
        template="exams/exam_form.html",
        context={"exam": None},
    )


@action_required("change", APP, subtree=True)
def exam_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    exam = exam_get(user=request.user, pk=pk, action="change")
    initial = {name: getattr(exam, name) for name in EXAM_FIELDS}
    initial["opens_at"] = timezone.localtime(exam.opens_at)
    initial["closes_at"] = timezone.localtime(exam.closes_at)
    form = ExamSettingsForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form,
        lambda: exam_update(actor=request.user, exam=exam, data=form.service_data()),
        message=lambda e: f"已保存：{e.title}",
        then=lambda e: reverse("exams:exam_detail", args=[e.pk]),
        template="exams/exam_form.html",
        context={"exam": exam},
    )


@require_GET
@action_required("view", APP, subtree=True)
def exam_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    exam = exam_get(user=request.user, pk=pk)
    status = exam_status(exam)
    context = {
        "exam": exam,
        "status": status,
        "status_label": ExamStatus.LABELS[status],
        "target_total": exam_target_count(user=request.user, exam=exam),
        "named_total": exam_named_count(user=request.user, exam=exam),
        "can_change": can(request.user, "change", exam.organization, app_label=APP),
    }
    return render(request, "exams/exam_detail.html", context)


urlpatterns = [
    path("manage/", exam_list, name="exam_list"),
    path("manage/new/", exam_create_view, name="exam_create"),
    path("manage/<int:pk>/", exam_detail, name="exam_detail"),
    path("manage/<int:pk>/edit/", exam_edit, name="exam_edit"),
]

"""Pages of the annual assessment (年度考评): the scheme list, the scheme editor, the result table
with each point explained, the manual score form, scoring, publishing and the xlsx export.

The assessing level (users covering the scheme's organisation) sees everything; once published,
an assessed organisation sees its own row only (``selectors.assessment_visible_get``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, scope_for
from partyedu.core.views import action_required, paginate, posted, xlsx_response

from ..forms_assessment import ManualScoreForm, SchemeForm
from ..models.assessment import IndicatorKind, SchemeStatus
from ..selectors import assessment as selectors
from ..services import assessment as services

APP = "supervision"


@require_GET
@action_required("view", APP, subtree=True)
def assessment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The schemes the user assesses, and the published results of their own organisation."""
    user = request.user
    year = request.GET.get("year")
    filters = {"year": int(year)} if year and year.isdigit() else {}
    page = paginate(request, selectors.assessment_scheme_list(user=user, filters=filters))
    context: dict[str, Any] = {
        "tab": "assessment_list",
        "page_obj": page,
        "published_for_me": list(selectors.assessment_published_for_user(user=user)[:20]),
        "can_add": bool(scope_for(user, "add", APP).paths),
        "year": filters.get("year"),
    }
    return render(request, "supervision/assessment_list.html", context)


def _scheme_form_page(
    request: AuthenticatedHttpRequest, form: SchemeForm, save: Any, context: dict[str, Any]
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                scheme = save()
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存考评方案“%(title)s”") % {"title": scheme.title})
            return redirect("supervision:assessment_detail", pk=scheme.pk)
    return render(
        request,
        "supervision/assessment_form.html",
        {"tab": "assessment_list", "form": form, "weight_total": form.weight_total(), **context},
    )


@action_required("add", APP, subtree=True)
def assessment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SchemeForm(posted(request), user=request.user)

    def save() -> Any:
        data = form.cleaned_data
        return services.assessment_scheme_create(
            actor=request.user,
            organization=data["organization"],
            year=data["year"],
            title=data["title"],
            target_level=data.get("target_level") or "",
            description=data.get("description") or "",
            indicators=form.indicators(),
        )

    return _scheme_form_page(request, form, save, {})


@action_required("change", APP, subtree=True)
def assessment_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.assessment_scheme_get(user=request.user, pk=pk, action="change")
    form = SchemeForm(posted(request), user=request.user, instance=scheme)

    def save() -> Any:
        data = form.cleaned_data
        return services.assessment_scheme_update(
            actor=request.user,
            scheme=scheme,
            year=data["year"],
            title=data["title"],
            target_level=data.get("target_level") or "",
            description=data.get("description") or "",
            indicators=form.indicators(),
        )

    return _scheme_form_page(request, form, save, {"scheme": scheme})


@require_GET
@action_required("view", APP, subtree=True)
def assessment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The result table: every assessed organisation for the assessing level; the user's own
    organisation's rows once published for anybody else."""
    scheme, assessor = selectors.assessment_visible_get(user=request.user, pk=pk)
    table = selectors.assessment_result_table(user=request.user, scheme=scheme)
    may_change = assessor and can(request.user, "change", scheme.organization, app_label=APP)
    context = {
        "tab": "assessment_list",
        "scheme": scheme,
        "table": table,
        "assessor": assessor,
        "can_change": may_change and scheme.status != SchemeStatus.PUBLISHED,
        "can_publish": may_change and scheme.status == SchemeStatus.SCORED,
        "can_export": assessor and can(request.user, "export", scheme.organization, app_label=APP),
        "has_manual": any(ind.kind == IndicatorKind.MANUAL for ind in table.indicators),
        "target_count": selectors.assessment_targets(user=request.user, scheme=scheme).count()
        if assessor
        else None,
        "job": scheme.scoring_job if assessor else None,
    }
    return render(request, "supervision/assessment_detail.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def assessment_score(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.assessment_scheme_get(user=request.user, pk=pk, action="change")
    try:
        job = services.assessment_score(actor=request.user, scheme=scheme)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("supervision:assessment_detail", pk=scheme.pk)
    if job is not None:
        messages.info(request, _("考评对象较多，已转入后台计分，完成后刷新本页即可查看结果"))
        return redirect("core:job_detail", pk=job.pk)
    messages.success(request, _("已根据记录完成计分"))
    return redirect("supervision:assessment_detail", pk=scheme.pk)


@require_POST
@action_required("change", APP, subtree=True)
def assessment_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.assessment_scheme_get(user=request.user, pk=pk, action="change")
    try:
        services.assessment_publish(actor=request.user, scheme=scheme)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已发布考评结果，各被考评组织可查看本组织结果"))
    return redirect("supervision:assessment_detail", pk=scheme.pk)


@action_required("change", APP, subtree=True)
def assessment_manual(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Give the manual points of one organisation on one manual indicator, with a reason."""
    scheme = selectors.assessment_scheme_get(user=request.user, pk=pk, action="change")
    indicators = scheme.indicators.filter(kind=IndicatorKind.MANUAL).order_by("sort_order", "id")
    organizations = selectors.assessment_targets(user=request.user, scheme=scheme)
    initial = {k: request.GET[k] for k in ("organization", "indicator") if request.GET.get(k)}
    form = ManualScoreForm(
        posted(request), organizations=organizations, indicators=indicators, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.assessment_manual_score_set(
                    actor=request.user,
                    indicator=data["indicator"],
                    organization=data["organization"],
                    points=data["points"],
                    reason=data["reason"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("已为“%(org)s”评分：%(points)s分")
                % {"org": data["organization"].name, "points": services.points_text(data["points"])},
            )
            return redirect("supervision:assessment_detail", pk=scheme.pk)
    context = {
        "tab": "assessment_list",
        "scheme": scheme,
        "form": form,
        "scores": selectors.assessment_manual_scores(user=request.user, scheme=scheme),
        "frozen": scheme.status == SchemeStatus.PUBLISHED,
    }
    return render(request, "supervision/assessment_manual.html", context)


@require_GET
@action_required("export", APP, subtree=True)
def assessment_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.assessment_scheme_get(user=request.user, pk=pk, action="export")
    content = services.assessment_export(actor=request.user, scheme=scheme)
    return xlsx_response(content, _("%(title)s考评结果") % {"title": scheme.title})


urlpatterns = [
    path("assessments/", assessment_list, name="assessment_list"),
    path("assessments/new/", assessment_create, name="assessment_create"),
    path("assessments/<int:pk>/", assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", assessment_edit, name="assessment_edit"),
    path("assessments/<int:pk>/score/", assessment_score, name="assessment_score"),
    path("assessments/<int:pk>/publish/", assessment_publish, name="assessment_publish"),
    path("assessments/<int:pk>/manual/", assessment_manual, name="assessment_manual"),
    path("assessments/<int:pk>/export/", assessment_export, name="assessment_export"),
]

"""Pages of contests (知识竞赛): the organiser's list, a new contest, its page with the rounds,
editing and deleting a contest or a round, adding a round, the results (organiser; the subtree
once published) and their xlsx export, publishing, confirming who advances from a tiered round,
granting awards, downloading and revoking a certificate. Thin: parse, call one selector or
service, render. Members take a round on the exam pages (``exams:my``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest, Viewer
from partyedu.competitions.certificates import certificate_pdf
from partyedu.competitions.forms import RevokeForm
from partyedu.core.export_jobs import export_row_count
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can
from partyedu.core.views import action_required, form_page, posted, xlsx_response

from ..choices import ContestGrade
from ..forms_contests import (
    ROUND_OPEN_FIELDS,
    ContestDeleteForm,
    ContestEditForm,
    ContestForm,
    RoundDeleteForm,
    RoundForm,
)
from ..models import Contest
from ..selectors import contests as selectors
from ..services import contest_export as exports
from ..services import contests as services

APP = "exams"


@require_GET
@action_required("view", APP, subtree=True)
def contest_list(request: HttpRequest) -> HttpResponse:
    contests = list(selectors.contest_list(user=request.user)[:200])
    return render(request, "exams/contest_list.html", {"contests": contests})


@require_http_methods(["GET", "POST"])
@action_required("add", APP, subtree=True)
def contest_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ContestForm(request.POST if request.method == "POST" else None, user=request.user)
    return form_page(
        request,
        form,
        lambda: services.contest_create(
            actor=request.user, organization=form.cleaned_data["organization"], data=form.cleaned_data
        ),
        message=lambda c: f"已建立竞赛“{c.title}”",
        then=lambda c: reverse("exams:contest_detail", args=[c.pk]),
        template="exams/contest_form.html",
    )


def _rights(user: Viewer, contest: Contest) -> dict[str, bool]:
    """Which of the organiser's buttons to show (the services check again). Revoking goes
    through the competitions app's service, which asks for its own right too."""
    org = contest.organization
    change = can(user, "change", org, app_label=APP)
    return {
        "can_change": change,
        "can_delete": can(user, "delete", org, app_label=APP),
        "can_export": can(user, "export", org, app_label=APP),
        "can_revoke": change and can(user, "change", org, app_label="competitions"),
    }


@require_GET
@action_required("view", APP, subtree=True)
def contest_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk)
    context = {
        "contest": contest,
        "rounds": selectors.contest_rounds(user=request.user, contest=contest),
        "lives": selectors.live_list(user=request.user, contest=contest),
        "awards": selectors.contest_awards(user=request.user, contest=contest),
        **_rights(request.user, contest),
    }
    # Offer 删除 only where it can succeed (the delete page still says why when it cannot).
    context["deletable"] = context["can_delete"] and not selectors.contest_delete_refusal(
        user=request.user, contest=contest
    )
    return render(request, "exams/contest_detail.html", context)


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk, action="change")
    has_rounds = bool(selectors.contest_rounds(user=request.user, contest=contest))
    form = ContestEditForm(posted(request), contest=contest, has_rounds=has_rounds)
    return form_page(
        request,
        form,
        lambda: services.contest_update(actor=request.user, contest=contest, data=form.cleaned_data),
        message=lambda c: f"已保存竞赛“{c.title}”",
        then=lambda c: reverse("exams:contest_detail", args=[c.pk]),
        template="exams/contest_form.html",
        context={"contest": contest},
    )


@require_http_methods(["GET", "POST"])
@action_required("delete", APP, subtree=True)
def contest_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """删除竞赛: only while nothing has been taken; otherwise the page says why, with no button."""
    contest = selectors.contest_get(user=request.user, pk=pk, action="delete")
    refusal = selectors.contest_delete_refusal(user=request.user, contest=contest)
    form = ContestDeleteForm(posted(request))
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            services.contest_delete(actor=request.user, contest=contest)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"已删除竞赛“{contest.title}”")
            return redirect("exams:contest_list")
    context = {
        "contest": contest,
        "form": form,
        "refusal": refusal,
        "rounds": selectors.contest_rounds(user=request.user, contest=contest),
    }
    return render(request, "exams/contest_delete.html", context)


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_round_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk, action="change")
    form = RoundForm(request.POST if request.method == "POST" else None, contest=contest)

    def save() -> Any:
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return services.contest_round_add(actor=request.user, contest=contest, data=data)

    return form_page(
        request,
        form,
        save,
        message=lambda r: f"已添加{r.name}",
        then=lambda r: reverse("exams:contest_detail", args=[contest.pk]),
        template="exams/contest_round_form.html",
        context={"contest": contest},
    )


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_round_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """修改轮次: everything while nobody has started it; then only its name and closing time."""
    round_ = selectors.round_get(user=request.user, pk=pk, action="change")
    contest = round_.contest
    locked = selectors.round_attempted(user=request.user, round_=round_)
    form = RoundForm(posted(request), contest=contest, round_=round_, locked=locked)

    def save() -> Any:
        # A locked form's other fields are shown disabled, not sent on (the service refuses
        # any change to them; their redisplayed values lose the seconds).
        data = form.cleaned_data
        if locked:
            data = {k: v for k, v in data.items() if k in ROUND_OPEN_FIELDS}
        return services.contest_round_update(actor=request.user, round_=round_, data=data)

    return form_page(
        request,
        form,
        save,
        message=lambda r: f"已保存{r.name}",
        then=lambda r: reverse("exams:contest_detail", args=[contest.pk]),
        template="exams/contest_round_form.html",
        context={"contest": contest, "round": round_, "locked": locked},
    )


@require_http_methods(["GET", "POST"])
@action_required("delete", APP, subtree=True)
def contest_round_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    round_ = selectors.round_get(user=request.user, pk=pk, action="delete")
    refusal = selectors.round_delete_refusal(user=request.user, round_=round_)
    form = RoundDeleteForm(posted(request))
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            services.contest_round_delete(actor=request.user, round_=round_)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"已删除{round_.name}")
            return redirect("exams:contest_detail", pk=round_.contest_id)
    context = {"round": round_, "contest": round_.contest, "form": form, "refusal": refusal}
    return render(request, "exams/contest_round_delete.html", context)


@require_GET
@action_required("view", APP)
def contest_results(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Results: the organiser sees the member ranking and the organisations' table; once
    published, the subtree sees the organisations' table, the winners and their own score."""
    results = selectors.contest_results(user=request.user, pk=pk)
    context = {
        "results": results,
        "contest": results.contest,
        "awards": results.awards,
        "members": results.members[:500],
        "can_export": results.organiser
        and can(request.user, "export", results.contest.organization, app_label=APP),
    }
    return render(request, "exams/contest_results.html", context)


@never_cache
@require_GET
@action_required("export", APP, subtree=True)
def contest_results_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The organiser's results as xlsx (members, units); with more participants than
    EXPORT_SYNC_MAX_ROWS a background job builds it and the user goes to its page."""
    contest = selectors.contest_get(user=request.user, pk=pk, action="export")
    rows = selectors.contest_participants(user=request.user, contest=contest)
    if export_row_count(rows) > settings.EXPORT_SYNC_MAX_ROWS:
        job = exports.contest_export_enqueue(actor=request.user, contest=contest)
        return redirect("core:job_detail", pk=job.pk)
    content = exports.contest_results_export(actor=request.user, contest=contest)
    return xlsx_response(content, f"{contest.title}_竞赛成绩")


@require_POST
@action_required("change", APP, subtree=True)
def contest_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk, action="change")
    published = request.POST.get("published") == "1"
    services.contest_publish(actor=request.user, contest=contest, published=published)
    messages.success(request, "已公布竞赛成绩" if published else "已撤回竞赛成绩")
    return redirect("exams:contest_results", pk=contest.pk)


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_advance(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """晋级: the members the round's results propose for the next round; the organiser unticks
    any and confirms."""
    round_ = selectors.round_get(user=request.user, pk=pk, action="change")
    proposal = selectors.advance_proposal(user=request.user, round_=round_)
    error = ""
    if request.method == "POST":
        try:
            ids = [int(v) for v in request.POST.getlist("members")]
            services.contest_advance(actor=request.user, round_=round_, member_ids=ids)
        except ValueError:
            error = "晋级党员：选择无效"
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, f"已确定{len(ids)}名党员晋级下一轮")
            return redirect("exams:contest_detail", pk=round_.contest_id)
    context = {
        "round": round_,
        "contest": round_.contest,
        "proposal": proposal,
        "next_round": selectors.next_round(user=request.user, round_=round_),
        "error": error,
    }
    return render(request, "exams/contest_advance.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_awards(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """评定奖项: the ranked results with a grade to choose for each member; granting issues the
    certificates."""
    contest = selectors.contest_get(user=request.user, pk=pk, action="change")
    results = selectors.contest_scores(user=request.user, contest=contest)
    error = ""
    if request.method == "POST":
        grades = {
            s.member_id: request.POST.get(f"grade-{s.member_id}", "")
            for s in results.members
            if request.POST.get(f"grade-{s.member_id}")
        }
        try:
            services.contest_awards_grant(actor=request.user, contest=contest, grades=grades)
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, f"已评定{len(grades)}个奖项并颁发证书")
            return redirect("exams:contest_detail", pk=contest.pk)
    context = {
        "contest": contest,
        "members": results.members[:300],
        "grades": ContestGrade.choices,
        "awards": selectors.contest_awards(user=request.user, contest=contest),
        "error": error,
        "can_revoke": _rights(request.user, contest)["can_revoke"],
    }
    return render(request, "exams/contest_awards.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def contest_award_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """撤销证书 of a contest award, with a required reason, through the competitions app's
    revocation: the public verification page then shows it revoked."""
    award = selectors.contest_award_get(user=request.user, pk=pk, action="change")
    certificate = award.award.certificate  # type: ignore[union-attr]
    form = RevokeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.contest_award_revoke(actor=request.user, award=award, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"已撤销证书 {certificate.code}")
            return redirect("exams:contest_awards", pk=award.contest_id)
    context = {"award": award, "certificate": certificate, "contest": award.contest, "form": form}
    return render(request, "exams/contest_award_revoke.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def contest_certificate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An award's certificate as PDF, drawn by the competitions app's certificate machinery;
    a revoked one is no longer offered."""
    award = selectors.contest_award_get(user=request.user, pk=pk)
    certificate = award.award.certificate  # type: ignore[union-attr]
    if certificate.revoked_at is not None:
        messages.error(request, f"证书 {certificate.code} 已撤销，不能再下载")
        return redirect("exams:contest_detail", pk=award.contest_id)
    url = request.build_absolute_uri(reverse("verify:certificate", args=[certificate.code]))
    response = HttpResponse(certificate_pdf(certificate, url), content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"证书_{certificate.code}.pdf") or ""
    )
    return response


urlpatterns: list[URLPattern] = [
    path("contests/", contest_list, name="contest_list"),
    path("contests/new/", contest_create, name="contest_create"),
    path("contests/<int:pk>/", contest_detail, name="contest_detail"),
    path("contests/<int:pk>/edit/", contest_edit, name="contest_edit"),
    path("contests/<int:pk>/delete/", contest_delete, name="contest_delete"),
    path("contests/<int:pk>/rounds/new/", contest_round_create, name="contest_round_create"),
    path("contests/<int:pk>/results/", contest_results, name="contest_results"),
    path("contests/<int:pk>/results.xlsx", contest_results_export, name="contest_results_export"),
    path("contests/<int:pk>/publish/", contest_publish, name="contest_publish"),
    path("contests/<int:pk>/awards/", contest_awards, name="contest_awards"),
    path("contests/rounds/<int:pk>/edit/", contest_round_edit, name="contest_round_edit"),
    path("contests/rounds/<int:pk>/delete/", contest_round_delete, name="contest_round_delete"),
    path("contests/rounds/<int:pk>/advance/", contest_advance, name="contest_advance"),
    path("contests/awards/<int:pk>/certificate/", contest_certificate, name="contest_certificate"),
    path("contests/awards/<int:pk>/revoke/", contest_award_revoke, name="contest_award_revoke"),
]

"""Pages of contests (知识竞赛): the organiser's list, a new contest, its page with the rounds,
adding a round, the results (organiser; the subtree once published), publishing, confirming who
advances from a tiered round, granting awards and downloading a certificate. Thin: parse, call
one selector or service, render. Members take a round on the exam pages (``exams:my``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.competitions.certificates import certificate_pdf
from partyedu.core.views import action_required, form_page

from ..choices import ContestGrade
from ..forms_contests import ContestForm, RoundForm
from ..selectors import contests as selectors
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


@require_GET
@action_required("view", APP, subtree=True)
def contest_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk)
    context = {
        "contest": contest,
        "rounds": selectors.contest_rounds(user=request.user, contest=contest),
        "lives": selectors.live_list(user=request.user, contest=contest),
        "awards": selectors.contest_awards(user=request.user, contest=contest),
    }
    return render(request, "exams/contest_detail.html", context)


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
    }
    return render(request, "exams/contest_results.html", context)


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
    }
    return render(request, "exams/contest_awards.html", context, status=400 if error else 200)


@require_GET
@action_required("view", APP, subtree=True)
def contest_certificate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An award's certificate as PDF, drawn by the competitions app's certificate machinery."""
    award = selectors.contest_award_get(user=request.user, pk=pk)
    certificate = award.award.certificate  # type: ignore[union-attr]
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
    path("contests/<int:pk>/rounds/new/", contest_round_create, name="contest_round_create"),
    path("contests/<int:pk>/results/", contest_results, name="contest_results"),
    path("contests/<int:pk>/publish/", contest_publish, name="contest_publish"),
    path("contests/<int:pk>/awards/", contest_awards, name="contest_awards"),
    path("contests/rounds/<int:pk>/advance/", contest_advance, name="contest_advance"),
    path("contests/awards/<int:pk>/certificate/", contest_certificate, name="contest_certificate"),
]

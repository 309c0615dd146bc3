"""Pages of a live contest in a meeting room (现场知识竞赛): making a session, the host's
full-screen page (it polls the state partial every second through HTMX; no websockets), and the
control page on a phone or desktop where the host moves on, reveals, and enters each team's
answer. Every state lives on the server, so a reload of either page resumes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.views import action_required, form_page

from ..forms_contests import LiveForm
from ..selectors import contests as selectors
from ..services import live as services

APP = "exams"


@require_http_methods(["GET", "POST"])
@action_required("change", APP, subtree=True)
def live_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get(user=request.user, pk=pk, action="change")
    form = LiveForm(request.POST if request.method == "POST" else None, contest=contest)

    def save() -> object:
        data = form.cleaned_data
        return services.live_create(
            actor=request.user,
            round_=data["round"],
            title=data.get("title") or "",
            seconds_per_question=data["seconds_per_question"],
            team_names=(data.get("teams") or "").splitlines(),
            question_count=data.get("question_count"),
        )

    return form_page(
        request,
        form,
        save,
        message=lambda s: "已建立现场竞赛",
        then=lambda s: reverse("exams:live_control", args=[s.pk]),  # type: ignore[attr-defined]
        template="exams/live_form.html",
        context={"contest": contest},
    )


@require_GET
@action_required("change", APP, subtree=True)
def live_control(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session = selectors.live_get(user=request.user, pk=pk, action="change")
    return render(
        request,
        "exams/live_control.html",
        {"state": selectors.live_state(user=request.user, session=session)},
    )


@require_GET
@action_required("view", APP, subtree=True)
def live_screen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session = selectors.live_get(user=request.user, pk=pk)
    return render(
        request, "exams/live_screen.html", {"state": selectors.live_state(user=request.user, session=session)}
    )


@require_GET
@action_required("view", APP, subtree=True)
def live_state(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The screen's state partial (polled every second)."""
    session = selectors.live_get(user=request.user, pk=pk)
    response = render(
        request, "exams/live_state.html", {"state": selectors.live_state(user=request.user, session=session)}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@action_required("change", APP, subtree=True)
def live_step(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """下一题 / 公布答案 / 结束 from the control page."""
    session = selectors.live_get(user=request.user, pk=pk, action="change")
    step = request.POST.get("step")
    current = request.POST.get("current")
    try:
        if step == "next":
            services.live_next(actor=request.user, session=session, current=current)
        elif step == "reveal":
            services.live_reveal(actor=request.user, session=session, current=current)
        elif step == "finish":
            services.live_finish(actor=request.user, session=session)
        else:
            messages.error(request, "操作无效")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("exams:live_control", pk=session.pk)


@require_POST
@action_required("change", APP, subtree=True)
def live_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A team's answer: ``correct`` 1/0 (判定对错), or ``response`` (the answer given)."""
    session = selectors.live_get(user=request.user, pk=pk, action="change")
    raw = request.POST.get("correct")
    try:
        team = int(request.POST.get("team", ""))
    except ValueError:
        messages.error(request, "参赛队：选择无效")
        return redirect("exams:live_control", pk=session.pk)
    try:
        services.live_answer(
            actor=request.user,
            session=session,
            team=team,
            current=request.POST.get("current"),
            correct=None if raw not in ("0", "1") else raw == "1",
            response=request.POST.get("response", "").strip() or None,
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("exams:live_control", pk=session.pk)


urlpatterns: list[URLPattern] = [
    path("contests/<int:pk>/live/new/", live_create, name="live_create"),
    path("live/<int:pk>/control/", live_control, name="live_control"),
    path("live/<int:pk>/screen/", live_screen, name="live_screen"),
    path("live/<int:pk>/state/", live_state, name="live_state"),
    path("live/<int:pk>/step/", live_step, name="live_step"),
    path("live/<int:pk>/answer/", live_answer, name="live_answer"),
]

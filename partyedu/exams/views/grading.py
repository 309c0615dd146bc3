"""阅卷: the queue of short answers awaiting a grade within the grader's scope, and grading one.

Anonymity is the point of this page: a row never carries the member's name or organisation, only
an anonymous code per attempt (a keyed digest of its id), the question's stem, reference answer
and rubric, and the answer. ``answer_grade`` checks the scope again and writes the audit row."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.views import action_required, is_htmx_partial

from ..forms_grading import GradeForm
from ..models import Answer
from ..selectors.results import anonymous_code, grading_answer_get, grading_exams, grading_queue
from ..services import answer_grade

APP = "exams"
QUEUE_PAGE = 20


def _exam_param(request: AuthenticatedHttpRequest) -> int | None:
    try:
        return int(request.GET.get("exam", ""))
    except ValueError:
        return None


def _card(answer: Answer) -> dict[str, Any]:
    item = answer.attempt_question
    return {
        "answer": answer,
        "code": anonymous_code(item.attempt_id),
        "exam": item.attempt.exam,
        "version": item.version,
        "max_points": item.score,
        "position": item.position,
    }


@require_GET
@action_required("change", APP, subtree=True)
def grading_queue_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """待阅卷: the first answers of the queue (optionally of one exam) and how many wait per exam."""
    exam = _exam_param(request)
    queue = grading_queue(user=request.user, exam=exam)
    cards = [_card(a) for a in queue[:QUEUE_PAGE]]
    context = {
        "cards": cards,
        "exams": grading_exams(user=request.user),
        "current_exam": exam,
        "form": GradeForm(),
    }
    return render(request, "exams/grading_queue.html", context)


@action_required("change", APP, subtree=True)
def grade_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Grade one answer. A valid POST goes on to the next answer of the queue (an HTMX request
    gets the next card in place of this one)."""
    answer = grading_answer_get(user=request.user, pk=pk)
    card = _card(answer)
    form = GradeForm(request.POST or None, max_points=card["max_points"])
    exam = _exam_param(request)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                answer_grade(actor=request.user, answer=answer, points=form.cleaned_data["points"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            following = grading_queue(user=request.user, exam=exam or card["exam"].pk).first()
            if following is None:
                following = grading_queue(user=request.user).first()
            if is_htmx_partial(request):
                if following is None:
                    return render(request, "exams/grading_done.html", {})
                nxt = _card(following)
                return render(
                    request,
                    "exams/grading_card.html",
                    {"card": nxt, "form": GradeForm(max_points=nxt["max_points"]), "graded": True},
                )
            messages.success(request, f"已评分：{card['code']}")
            if following is None:
                return redirect("exams:grading_queue")
            return redirect(reverse("exams:grade_answer", args=[following.pk]))
    template = "exams/grading_card.html" if is_htmx_partial(request) else "exams/grading_answer.html"
    return render(request, template, {"card": card, "form": form})


urlpatterns = [
    path("grading/", grading_queue_view, name="grading_queue"),
    path("grading/<int:pk>/", grade_answer, name="grade_answer"),
]

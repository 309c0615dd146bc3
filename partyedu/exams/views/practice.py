"""Practice sets (应知应会) on the member's side: an answer checked at once with its key and
explanation, the wrong-answer book (错题本) and a round over its questions (再练错题).

A practice round is taken on the same page as an exam (``take.attempt_take``); what differs is that
each answer goes to ``practice_check``, which refuses anything but a practice set. Nothing here
ranks members or reports scores upward.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest

from ..selectors import attempt_own_ref, exam_for_taker
from ..selectors import take as selectors
from ..services import practice as services
from .take import json_body, refusal


@never_cache
@require_POST
@login_required
def practice_check(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """``{"question": id, "answer": …}`` → the answer saved and marked: ``{"question", "correct",
    "key", "key_text", "explanation", "reference_answer"}``. 400 for an exam."""
    attempt = attempt_own_ref(user=request.user, pk=pk)  # the service locks and reads it itself
    payload = json_body(request)
    question = payload.get("question")
    try:
        services.practice_answer(
            actor=request.user, attempt=attempt, question=question, response=payload.get("answer")
        )
    except ValidationError as exc:
        return refusal(exc)
    shown = selectors.practice_feedback(user=request.user, pk=attempt.pk, question=question)
    response = JsonResponse(
        {**shown.feedback(), "saved_at": shown.saved_at.isoformat() if shown.saved_at else None}
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
@login_required
def wrong_answers(request: AuthenticatedHttpRequest) -> HttpResponse:
    """错题本: questions I got wrong in practice and have not answered correctly since."""
    groups = selectors.wrong_answers(user=request.user)
    return render(request, "exams/wrong_answers.html", {"groups": groups, "tab": "wrong"})


@require_POST
@login_required
def wrong_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """再练错题: a practice round of the set ``pk`` over just my wrong questions."""
    exam = exam_for_taker(user=request.user, pk=pk)
    try:
        attempt = services.practice_retry_start(actor=request.user, exam=exam)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("exams:wrong_answers")
    return redirect("exams:attempt_take", pk=attempt.pk)


urlpatterns = [
    path("my/attempts/<int:pk>/check/", practice_check, name="practice_check"),
    path("my/wrong/", wrong_answers, name="wrong_answers"),
    path("my/wrong/<int:pk>/retry/", wrong_retry, name="wrong_retry"),
]

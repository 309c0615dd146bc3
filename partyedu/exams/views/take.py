"""The member's side of exams (考试练习), phone first: my exams, starting an attempt, the take page
with its answer-save and submit endpoints, and the result page.

The take page carries no key: the questions come from ``selectors.take.take_questions``, which
reveals a key only for a practice question already checked. The page's script
(static/js/exams-take.js) saves every answer as it is given to ``attempt_answer`` and keeps the
unacknowledged ones in localStorage; the countdown runs from the seconds the server says remain.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.json_depth import json_too_deep

from .. import services
from ..choices import AttemptStatus, QuestionType
from ..selectors import attempt_own_ref, exam_for_taker
from ..selectors import take as selectors

# Answer-save refusals after which a retry cannot succeed: the page stops and submits.
CLOSED_MESSAGES = ("答题时间已到，答案未能保存", "本次答卷已交卷，不能再修改答案")


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object posted (an empty one for anything else)."""
    try:
        payload = {} if json_too_deep(request.body) else json.loads(request.body or b"{}")
    except ValueError:
        payload = {}
    return payload if isinstance(payload, dict) else {}


def refusal(exc: ValidationError) -> JsonResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    text = "；".join(exc.messages)
    closed = any(m in CLOSED_MESSAGES for m in exc.messages)
    response = JsonResponse({"detail": text, "errors": errors, "closed": closed}, status=400)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def my(request: AuthenticatedHttpRequest) -> HttpResponse:
    """考试练习: open exams and practice sets given to me, and my past attempts."""
    page = selectors.my_exams(user=request.user)
    return render(request, "exams/my.html", {"page": page, "tab": "my"})


@require_POST
@login_required
def attempt_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """开始答题 / 继续答题: a new attempt, or the one still open (another device, a reload)."""
    exam = exam_for_taker(user=request.user, pk=pk)
    try:
        attempt = services.attempt_start(actor=request.user, exam=exam)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("exams:my")
    return redirect("exams:attempt_take", pk=attempt.pk)


@never_cache
@require_GET
@login_required
def attempt_take(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    page = selectors.attempt_take_page(user=request.user, pk=pk)
    if page.attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect("exams:attempt_result", pk=page.attempt.pk)
    context = {
        "attempt": page.attempt,
        "exam": page.attempt.exam,
        "questions": page.questions,
        "practice": page.practice,
        "remaining": page.remaining,
        "server_now": int(page.now.timestamp() * 1000),
        "answered": page.answered,
    }
    return render(request, "exams/take.html", context)


@never_cache
@require_POST
@login_required
def attempt_answer(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """Save one answer: ``{"question": id, "answer": …}`` → ``{"question", "saved_at"}``. Refused
    after submission or after the deadline plus the grace (400, ``closed``)."""
    attempt = attempt_own_ref(user=request.user, pk=pk)  # the save locks and reads it itself
    payload = json_body(request)
    try:
        answer = services.answer_save(
            actor=request.user,
            attempt=attempt,
            question=payload.get("question"),
            response=payload.get("answer"),
        )
    except ValidationError as exc:
        return refusal(exc)
    response = JsonResponse(
        {
            "question": payload.get("question"),
            "answer": answer.response,
            "saved_at": answer.saved_at.isoformat(),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


FILL_SEPARATOR = "｜"  # what the page's script joins the blanks of a fill-in question with


def _posted_answer(qtype: str, values: list[str]) -> Any:
    """A question's answer from the take form's own fields, in the shape the page's script sends."""
    if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        return "".join(sorted(values)) or None
    if qtype == QuestionType.JUDGE:
        return values[0] == "true" if values else None
    if qtype == QuestionType.FILL:
        parts = [value.replace(FILL_SEPARATOR, " ") for value in values]
        return FILL_SEPARATOR.join(parts) if any(p.strip() for p in parts) else None
    text = values[0] if values else ""
    return text if text.strip() else None


def _save_posted_answers(request: AuthenticatedHttpRequest, attempt: Any) -> None:
    """Without the script (an old phone, scripts off), 交卷 posts the whole form: save what it
    holds first. An answer the service refuses (time is up) is left out, as a save would be."""
    for question, qtype in selectors.attempt_question_types(user=request.user, attempt=attempt).items():
        answer = _posted_answer(qtype, request.POST.getlist(f"q{question}"))
        if answer is None:
            continue
        try:
            services.answer_save(actor=request.user, attempt=attempt, question=question, response=answer)
        except ValidationError:
            return


@never_cache
@require_POST
@login_required
def attempt_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """交卷 (idempotent: a retry returns the first result). The page's script asks for JSON and
    goes to the result itself; a plain form post (no script) saves the answers it carries and is
    redirected there."""
    attempt = attempt_own_ref(user=request.user, pk=pk)
    if "application/json" not in request.headers.get("Accept", ""):
        _save_posted_answers(request, attempt)
    attempt = services.attempt_submit(actor=request.user, attempt=attempt)
    result_url = reverse("exams:attempt_result", args=[attempt.pk])
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "status": attempt.status,
                "score": None if attempt.score is None else str(attempt.score),
                "passed": attempt.passed,
                "result_url": result_url,
            }
        )
    return redirect(result_url)


@never_cache
@require_GET
@login_required
def attempt_result(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """My score, pass and every question with my answer; keys and 解析 only as the exam allows."""
    page = selectors.attempt_result_page(user=request.user, pk=pk)
    if page.attempt.status == AttemptStatus.IN_PROGRESS:
        return redirect("exams:attempt_take", pk=page.attempt.pk)
    context = {
        "attempt": page.attempt,
        "exam": page.attempt.exam,
        "questions": page.questions,
        "reveal": page.reveal,
        "practice": page.practice,
        "pending": page.pending,
    }
    return render(request, "exams/attempt_result.html", context)


urlpatterns = [
    path("my/", my, name="my"),
    # Everything of the member's own lives under my/, clear of the organisers' pages.
    path("my/<int:pk>/start/", attempt_start, name="attempt_start"),
    path("my/attempts/<int:pk>/", attempt_take, name="attempt_take"),
    path("my/attempts/<int:pk>/answer/", attempt_answer, name="attempt_answer"),
    path("my/attempts/<int:pk>/submit/", attempt_submit, name="attempt_submit"),
    path("my/attempts/<int:pk>/result/", attempt_result, name="attempt_result"),
]

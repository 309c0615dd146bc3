"""题库 pages of an organiser (组织部/工委管理员, 党务工作者, or a delegated 出题人): the banks they
keep and those shared from above (read-only below: their edit pages are 404 and their buttons
hidden), a bank's questions with filters, a question's form for every type, its versions and the
key correction that re-scores past attempts, and the xlsx import (dry run, then all-or-nothing)
and export in the published template. Thin: each view parses, calls one service or selector,
renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.importing import import_template
from partyedu.core.views import ImportFlow, action_required, htmx_or_page, paginate, posted, xlsx_response

from .. import selectors, services
from ..choices import QuestionType
from ..forms_banks import QUESTION_FIELD_MAP, BankForm, KeyCorrectForm, QuestionFilterForm, QuestionForm
from ..importing import QUESTION_COLUMNS
from ..models import Question
from ..selectors import banks as bank_selectors

APP = "exams"
TAB = "banks"
QUESTION_PAGE_SIZE = 30


def _page(
    request: AuthenticatedHttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"tab": TAB, **context}, status=status)


# --- banks ---------------------------------------------------------------------------------------------


@require_GET
@action_required("view", APP, subtree=True)
def bank_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The banks the user keeps, and those shared from above (marked read-only)."""
    banks = bank_selectors.bank_rows(user=request.user)
    context = {
        "banks": banks,
        "can_add": bool(bank_selectors.scope_for(request.user, "add", APP).paths),
    }
    return _page(request, "exams/bank_list.html", context)


@action_required("add", APP, subtree=True)
def bank_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BankForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                bank = services.bank_create(
                    actor=request.user,
                    organization=data["organization"],
                    title=data["title"],
                    description=data["description"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"__all__": "title"})
        except PermissionDenied as exc:
            form.add_error("organization", str(exc))
        else:
            messages.success(request, _("题库“%(title)s”已建立") % {"title": bank.title})
            return redirect("exams:bank_detail", pk=bank.pk)
    return _page(request, "exams/bank_form.html", {"form": form, "bank": None})


@require_GET
@action_required("view", APP, subtree=True)
def bank_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A bank's questions, filtered by type, tag, difficulty and stem text, a page at a time."""
    user = request.user
    bank = selectors.bank_get(user=user, pk=pk)
    form = QuestionFilterForm(request.GET or None)
    filters = {**form.filters(), "bank": bank.pk}
    page = paginate(request, selectors.question_list(user=user, filters=filters), per_page=QUESTION_PAGE_SIZE)
    context = {
        "bank": bank,
        "form": form,
        "page_obj": page,
        "tags": bank_selectors.bank_tags(user=user, bank=bank),
        "can_change": bank_selectors.bank_editable(user=user, bank=bank),
        "can_add": bank_selectors.bank_editable(user=user, bank=bank, action="add"),
        "can_import": bank_selectors.bank_editable(user=user, bank=bank, action="import"),
        "can_export": bank_selectors.bank_editable(user=user, bank=bank, action="export"),
    }
    return htmx_or_page(
        request, "exams/bank_questions.html", "exams/bank_detail.html", {"tab": TAB, **context}
    )


@action_required("change", APP, subtree=True)
def bank_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bank = selectors.bank_get(user=request.user, pk=pk, action="change")
    form = BankForm(posted(request), user=request.user, bank=bank)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                bank = services.bank_update(
                    actor=request.user,
                    bank=bank,
                    data={k: data[k] for k in ("title", "description", "is_active")},
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"__all__": "title"})
        else:
            messages.success(request, _("题库已保存"))
            return redirect("exams:bank_detail", pk=bank.pk)
    return _page(request, "exams/bank_form.html", {"form": form, "bank": bank})


# --- questions -----------------------------------------------------------------------------------------


def _question_save(request: AuthenticatedHttpRequest, form: QuestionForm, save: Any) -> Question | None:
    if not form.is_valid():
        return None
    data = form.to_data()
    try:
        with transaction.atomic():
            saved: Question = save(data)
            return saved
    except ValidationError as exc:
        apply_validation_error(form, exc, {**QUESTION_FIELD_MAP, "answer": form.error_target(data["qtype"])})
    return None


@action_required("add", APP, subtree=True)
def question_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bank = selectors.bank_get(user=request.user, pk=pk, action="add")
    form = QuestionForm(posted(request))
    if request.method == "POST":
        question = _question_save(
            request, form, lambda data: services.question_create(actor=request.user, bank=bank, data=data)
        )
        if question is not None:
            messages.success(request, _("试题已添加（编号%(pk)d）") % {"pk": question.pk})
            if "another" in request.POST:
                return redirect("exams:question_create", pk=bank.pk)
            return redirect("exams:question_detail", pk=question.pk)
    context = {
        "form": form,
        "bank": bank,
        "question": None,
        "tags": bank_selectors.tag_names(user=request.user),
    }
    return _page(request, "exams/question_form.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def question_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get(user=request.user, pk=pk)
    return _question_page(request, question, key_form=KeyCorrectForm(question=question))


def _question_page(
    request: AuthenticatedHttpRequest, question: Question, *, key_form: KeyCorrectForm, status: int = 200
) -> HttpResponse:
    user = request.user
    can_change = bank_selectors.bank_editable(user=user, bank=question.bank)
    version = question.current_version
    assert version is not None
    context = {
        "question": question,
        "version": question.current_version,
        "options": bank_selectors.key_options(version),
        "key_text": bank_selectors.key_text(question.qtype, version),
        "versions": bank_selectors.question_versions(user=user, question=question),
        "can_change": can_change,
        "key_form": key_form if can_change and question.qtype != QuestionType.ESSAY else None,
    }
    return _page(request, "exams/question_detail.html", context, status=status)


@action_required("change", APP, subtree=True)
def question_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get(user=request.user, pk=pk, action="change")
    drawn = services.version_drawn(question.current_version_id)
    form = QuestionForm(posted(request), question=question, locked_type=drawn)
    if request.method == "POST":
        before = question.current_version_id
        saved = _question_save(
            request,
            form,
            lambda data: services.question_update(actor=request.user, question=question, data=data),
        )
        if saved is not None:
            if saved.current_version_id != before:
                assert saved.current_version is not None
                messages.success(
                    request,
                    _("试题已被作答过，已保存为第%(n)d版；过去的答卷仍按原版本显示和计分")
                    % {"n": saved.current_version.number},
                )
            else:
                messages.success(request, _("试题已保存"))
            return redirect("exams:question_detail", pk=saved.pk)
    context = {
        "form": form,
        "bank": question.bank,
        "question": question,
        "drawn": drawn,
        "tags": bank_selectors.tag_names(user=request.user),
    }
    return _page(request, "exams/question_form.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def question_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Correct the key of the question's current version; every submitted attempt that saw it is
    re-scored (the message says how many)."""
    question = selectors.question_get(user=request.user, pk=pk, action="change")
    form = KeyCorrectForm(request.POST, question=question)
    if form.is_valid():
        try:
            with transaction.atomic():
                fixed = services.question_key_fix(actor=request.user, question=question, answer=form.value())
        except ValidationError as exc:
            apply_validation_error(form, exc, {"answer": form.field_name})
        else:
            regraded = fixed.attempt_ids
            if fixed.job is not None:
                messages.info(request, _("答案已更正，%(n)d份答卷正在后台重新评分") % {"n": fixed.pending})
                return redirect("core:job_detail", pk=fixed.job.pk)
            if regraded:
                messages.success(request, _("答案已更正，已重新评分%(n)d份答卷") % {"n": len(regraded)})
            else:
                messages.info(request, _("答案已更正，没有需要重新评分的答卷"))
            return redirect("exams:question_detail", pk=question.pk)
    question = selectors.question_get(user=request.user, pk=pk)
    return _question_page(request, question, key_form=form, status=400)


# --- import and export ---------------------------------------------------------------------------------


@never_cache
@action_required("import", APP, subtree=True)
def question_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The published template (题型, 题干, 选项A–F, 答案, 解析, 难度, 标签) with an example row of
    every type and a notes sheet."""
    return xlsx_response(question_template_bytes(), _("试题导入模板"))


def question_template_bytes() -> bytes:
    example = [
        "单选题",
        "中国共产党的最高理想和最终目标是什么？",
        "实现全面小康",
        "建成社会主义现代化强国",
        "实现共产主义",
        "",
        "",
        "",
        "C",
        "见党章总纲",
        2,
        "党章",
    ]
    return import_template(
        title="试题",
        columns=QUESTION_COLUMNS,
        example=example,
        notes=[
            "题型：单选题、多选题、判断题、填空题、简答题（也可写单选、多选、判断、填空、简答）。",
            "答案：单选如 B；多选如 AC；判断填“正确”或“错误”；填空可写多个可接受答案，用 | 分隔；简答题填参考答案。",
            "同一题库中题干相同（忽略全角半角、空格和标点）的试题视为重复，不能导入。",
        ],
    )


@never_cache
@action_required("import", APP, subtree=True)
def question_import(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Upload → a dry run listing ``第N行 列名: 问题`` (duplicate stems included) → confirm, all rows
    or none. One bank per upload; a file beyond ``IMPORT_JOB_MIN_ROWS`` rows is checked and imported
    as a background job with a progress page, as every other import is."""
    bank = selectors.bank_get(user=request.user, pk=pk, action="import")
    flow = ImportFlow(
        kind=f"exams.questions.{bank.pk}",
        title=_("导入试题到“%(title)s”") % {"title": bank.title},
        run=services.questions_import_into,
        run_params={"bank_id": bank.pk},
        template_url=reverse("exams:question_template"),
        done_url=reverse("exams:bank_detail", args=[bank.pk]),
        back_url=reverse("exams:bank_detail", args=[bank.pk]),
    )
    return flow(request)


@never_cache
@require_GET
@action_required("export", APP, subtree=True)
def question_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bank = selectors.bank_get(user=request.user, pk=pk, action="export")
    return xlsx_response(services.questions_export(actor=request.user, bank=bank), bank.title)


urlpatterns = [
    path("banks/", bank_list, name="bank_list"),
    path("banks/new/", bank_create, name="bank_create"),
    path("banks/<int:pk>/", bank_detail, name="bank_detail"),
    path("banks/<int:pk>/edit/", bank_edit, name="bank_edit"),
    path("banks/<int:pk>/questions/new/", question_create, name="question_create"),
    path("banks/<int:pk>/import/", question_import, name="question_import"),
    path("banks/<int:pk>/export/", question_export, name="question_export"),
    path("questions/template/", question_template, name="question_template"),
    path("questions/<int:pk>/", question_detail, name="question_detail"),
    path("questions/<int:pk>/edit/", question_edit, name="question_edit"),
    path("questions/<int:pk>/key/", question_key, name="question_key"),
]

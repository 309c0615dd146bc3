"""试卷 pages of an organiser: the papers of their subtree, a new paper — fixed (questions picked
from the banks usable at its organisation, points each) or drawn by rule (type, bank, tag,
difficulty range, count, points each) — and a paper's page with its full marks and a sample draw
(换一组 draws again with another seed) that warns for every rule that cannot be filled."""

from __future__ import annotations

import random
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.views import action_required, htmx_or_page, paginate

from .. import selectors, services
from ..choices import CHOICE_TYPES, PaperKind
from ..drawing import paper_max_score
from ..forms_papers import BaseRuleFormSet, PaperForm, PaperQuestionSearchForm, RuleFormSet
from ..keys import LETTERS
from ..selectors import banks as bank_selectors

APP = "exams"
TAB = "papers"
SEARCH_PAGE_SIZE = 20
# A preview's seed is shown and may be given back (?seed=) to see the same draw again.
SEED_LIMIT = 10**9


def _page(
    request: AuthenticatedHttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"tab": TAB, **context}, status=status)


@require_GET
@action_required("view", APP, subtree=True)
def paper_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = paginate(request, bank_selectors.paper_list(user=request.user))
    context = {"page_obj": page, "can_add": bool(bank_selectors.scope_for(request.user, "add", APP).paths)}
    return _page(request, "exams/paper_list.html", context)


def _save(request: AuthenticatedHttpRequest, form: PaperForm, rules: Any) -> Any:
    data = form.cleaned_data
    fixed = data["kind"] == PaperKind.FIXED
    try:
        with transaction.atomic():
            return services.paper_create(
                actor=request.user,
                organization=data["organization"],
                title=data["title"],
                questions=data["items"] if fixed else None,
                rules=None if fixed else [f.to_rule() for f in cast(BaseRuleFormSet, rules).filled()],
                shuffle_questions=data["shuffle_questions"],
                shuffle_options=data["shuffle_options"],
            )
    except ValidationError as exc:
        apply_validation_error(form, exc, {"questions": "items", "rules": "__all__"})
    except PermissionDenied as exc:
        form.add_error("organization", str(exc))
    return None


@action_required("add", APP, subtree=True)
def paper_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One form for both kinds. "检查规则" counts, without saving, how many questions each rule
    could draw at the chosen organisation."""
    user = request.user
    data = request.POST if request.method == "POST" else None
    form = PaperForm(data, user=user)
    rules = RuleFormSet(data, prefix="rules", form_kwargs={"user": user})
    availability = None
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        fixed = form.cleaned_data["kind"] == PaperKind.FIXED
        if "check" in request.POST and not fixed:
            availability = bank_selectors.rule_availability(
                user=user,
                organization=form.cleaned_data["organization"],
                rules=[f.unsaved_rule() for f in cast(BaseRuleFormSet, rules).filled()],
            )
        else:
            paper = _save(request, form, rules)
            if paper is not None:
                messages.success(request, _("试卷“%(title)s”已保存") % {"title": paper.title})
                return redirect("exams:paper_detail", pk=paper.pk)
    search = PaperQuestionSearchForm(None, user=user)
    context = {
        "form": form,
        "rules": rules,
        "availability": availability,
        "search": search,
        "tags": bank_selectors.tag_names(user=user),
    }
    return _page(request, "exams/paper_form.html", context)


@require_GET
@action_required("add", APP, subtree=True)
def paper_question_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Questions to pick for a fixed paper (the create page asks for this list by HTMX)."""
    form = PaperQuestionSearchForm(request.GET or None, user=request.user)
    questions = bank_selectors.questions_for_paper(user=request.user, filters=form.filters())
    found = list(questions[: SEARCH_PAGE_SIZE + 1])
    context = {"search": form, "questions": found[:SEARCH_PAGE_SIZE], "more": len(found) > SEARCH_PAGE_SIZE}
    return htmx_or_page(
        request, "exams/paper_question_table.html", "exams/paper_question_search.html", context
    )


def _seed(request: AuthenticatedHttpRequest) -> int:
    raw = request.GET.get("seed", "")
    if raw.isdigit() and int(raw) < SEED_LIMIT:
        return int(raw)
    return random.SystemRandom().randrange(SEED_LIMIT)


@require_GET
@action_required("view", APP, subtree=True)
def paper_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    paper = bank_selectors.paper_get(user=user, pk=pk)
    seed = _seed(request)
    drawn = selectors.paper_preview(user=user, paper=paper, seed=seed)
    versions = bank_selectors.versions_by_id(user=user, ids=[item.version_id for item in drawn.items])
    preview = []
    for position, item in enumerate(drawn.items, start=1):
        version = versions[item.version_id]
        key = version.answer if isinstance(version.answer, str) else ""
        options = [
            (LETTERS[shown], version.options[index], LETTERS[index], LETTERS[index] in key)
            for shown, index in enumerate(item.option_order)
        ]
        preview.append(
            {
                "position": position,
                "item": item,
                "version": version,
                "options": options if item.qtype in CHOICE_TYPES else [],
                "key_text": bank_selectors.key_text(item.qtype, version),
            }
        )
    context = {
        "paper": paper,
        "items": bank_selectors.paper_items(user=user, paper=paper) if paper.kind == PaperKind.FIXED else [],
        "rules": bank_selectors.paper_rules(user=user, paper=paper) if paper.kind == PaperKind.RULE else [],
        "max_score": paper_max_score(paper),
        "seed": seed,
        "next_seed": random.SystemRandom().randrange(SEED_LIMIT),
        "preview": preview,
        "preview_score": drawn.max_score,
        "warnings": drawn.warnings,
    }
    return _page(request, "exams/paper_detail.html", context)


urlpatterns = [
    path("papers/", paper_list, name="paper_list"),
    path("papers/new/", paper_create, name="paper_create"),
    path("papers/questions/", paper_question_search, name="paper_question_search"),
    path("papers/<int:pk>/", paper_detail, name="paper_detail"),
]

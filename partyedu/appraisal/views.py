"""Pages of the appraisal app. For the secretary and the levels above (desktop): the list, the
create and edit forms, an appraisal's page with its steps, participants, evidence, tallies and the
committee's decision, the follow-ups and the overview per branch. For participants (phone first):
their appraisals, the self-evaluation, the peer comments and the ballot.

Organisation roles reach appraisals through ``restrict`` (``appraisal.<action>``); participants
through their membership only (``selectors.participation_get``): anyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import has_action
from partyedu.core.views import action_required, paginate, posted
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from . import selectors, services
from .choices import STEP_ORDER, FollowUpStatus, Grade, StepCode
from .evidence import branch_evidence
from .forms import (
    GRADE_CHOICES,
    MEASURE_CHOICES,
    AppraisalCreateForm,
    AppraisalEditForm,
    FollowUpCloseForm,
    ParticipantAddForm,
    PeerCommentForm,
    SelfEvaluationForm,
    StepCloseForm,
)

APP = "appraisal"


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or ""
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 3, this + 1), year}, reverse=True)


def _chosen_org(request: HttpRequest) -> Organization | None:
    orgs = Organization.objects.restrict(request.user, "view", app_label=APP).filter(is_active=True)
    raw = request.GET.get("organization") or ""
    chosen = orgs.filter(pk=int(raw)).first() if raw.isdigit() and int(raw) < 2**62 else None
    return chosen or orgs.order_by("path").first()


# --- secretary and the levels above --------------------------------------------------------------


@action_required("view", APP, subtree=True)
def index(request: HttpRequest) -> HttpResponse:
    """The appraisals within the user's scope by year (a branch's secretary: their branch's), with
    the create button; the member's own appraisals are a link away (我参加的)."""
    year = request.GET.get("year") or ""
    appraisals = selectors.appraisal_list(user=request.user)
    if year.isdigit() and 2000 <= int(year) <= 2100:
        appraisals = appraisals.filter(year=int(year))
    page_obj = paginate(request, appraisals, 50)
    context = {
        "page_obj": page_obj,
        "year": year,
        "years": _years(timezone.localdate().year),
        "can_add": has_action(request.user, "add", APP),
        "is_participant": selectors.appraisals_for_participant(user=request.user).exists(),
    }
    return render(request, "appraisal/index.html", context)


@action_required("add", APP, subtree=True)
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AppraisalCreateForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                appraisal = services.appraisal_create(
                    actor=request.user,
                    organization=form.cleaned_data["organization"],
                    year=form.cleaned_data["year"],
                    excellent_share=form.excellent_share(),
                    schedule=form.schedule(),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"excellent_share": "excellent_percent"})
        else:
            messages.success(request, f"已创建{appraisal}，参评党员已按支部名册确定")
            return redirect(reverse("appraisal:detail", args=[appraisal.pk]))
    return render(request, "appraisal/form.html", {"form": form, "appraisal": None})


@action_required("change", APP, subtree=True)
def edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appraisal = selectors.appraisal_get(user=request.user, pk=pk, action="change")
    steps = list(appraisal.steps.order_by("position"))
    form = AppraisalEditForm(posted(request), appraisal=appraisal, steps=steps)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.appraisal_update(
                    actor=request.user,
                    appraisal=appraisal,
                    schedule=form.schedule(),
                    meeting=form.cleaned_data.get("meeting"),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect(reverse("appraisal:detail", args=[appraisal.pk]))
    return render(request, "appraisal/form.html", {"form": form, "appraisal": appraisal})


def _detail_context(request: HttpRequest, appraisal: Any, **extra: Any) -> dict[str, Any]:
    detail = selectors.appraisal_detail(user=request.user, appraisal=appraisal)
    context = {
        "detail": detail,
        "appraisal": appraisal,
        "grades": GRADE_CHOICES,
        "measures": MEASURE_CHOICES,
        "step_codes": STEP_ORDER,
        "add_form": None,
        "posted": None,
    }
    if detail.can_change and detail.step(StepCode.VOTE).opened_at is None:
        context["add_form"] = ParticipantAddForm(members=selectors.addable_members(appraisal))
    context.update(extra)
    context["decide_rows"] = _decide_form_rows(detail, context["posted"])
    context["reason"] = (
        context["posted"].get("reason", "") if context["posted"] is not None else appraisal.reason
    )
    return context


def _decide_form_rows(detail: selectors.AppraisalDetail, data: Any) -> list[dict[str, Any]]:
    """Each participant's row of the decide form: what was posted (after an error), else the
    decided grade or the tally's most-voted one, and the follow-up already decided."""
    follow_ups = {f.member_id: f for f in detail.follow_ups}
    rows = []
    for row in detail.rows:
        member_id = row.participant.member_id
        follow_up = follow_ups.get(member_id)
        if data is not None:
            values = {
                "grade": data.get(f"grade_{member_id}") or "",
                "measure": data.get(f"measure_{member_id}") or "",
                "deadline": data.get(f"deadline_{member_id}") or "",
                "note": data.get(f"note_{member_id}") or "",
            }
        else:
            values = {
                "grade": row.proposed_grade,
                "measure": follow_up.measure if follow_up else "",
                "deadline": follow_up.deadline.isoformat() if follow_up and follow_up.deadline else "",
                "note": follow_up.note if follow_up else "",
            }
        rows.append({"row": row, **values})
    return rows


@action_required("view", APP, subtree=True)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The appraisal as its committee sees it (desktop)."""
    appraisal = selectors.appraisal_get(user=request.user, pk=pk)
    return render(request, "appraisal/detail.html", _detail_context(request, appraisal))


@require_POST
@action_required("change", APP, subtree=True)
def participant_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appraisal = selectors.appraisal_get(user=request.user, pk=pk, action="change")
    raw = request.POST.get("member") or ""
    try:
        with transaction.atomic():
            participant = services.participant_add(
                actor=request.user,
                appraisal=appraisal,
                member=int(raw) if raw.isdigit() and int(raw) < 2**62 else None,
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已增加参评党员{participant.member.name}")
    return redirect(reverse("appraisal:detail", args=[appraisal.pk]))


def _step_code(code: str) -> str:
    if code not in STEP_ORDER:
        raise Http404("环节不存在")
    return code


@require_POST
@action_required("change", APP, subtree=True)
def step_open(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    appraisal = selectors.appraisal_get(user=request.user, pk=pk, action="change")
    code = _step_code(code)
    try:
        with transaction.atomic():
            step = services.step_open(actor=request.user, appraisal=appraisal, code=code)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{step.get_code_display()}环节已开启")
    return redirect(reverse("appraisal:detail", args=[appraisal.pk]))


@action_required("change", APP, subtree=True)
def step_close(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    """Closing a step cannot be undone: a page to confirm it."""
    appraisal = selectors.appraisal_get(user=request.user, pk=pk, action="change")
    code = _step_code(code)
    step = appraisal.steps.get(code=code)
    form = StepCloseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.step_close(actor=request.user, appraisal=appraisal, code=code)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{step.get_code_display()}环节已结束")
            return redirect(reverse("appraisal:detail", args=[appraisal.pk]))
    return render(request, "appraisal/step_close.html", {"form": form, "appraisal": appraisal, "step": step})


def _decide_rows(request: HttpRequest, detail: selectors.AppraisalDetail) -> list[dict[str, Any]]:
    data = request.POST
    rows = []
    for row in detail.rows:
        member_id = row.participant.member_id
        item: dict[str, Any] = {"member": member_id, "grade": data.get(f"grade_{member_id}") or ""}
        if item["grade"] == Grade.UNQUALIFIED:
            item.update(
                measure=data.get(f"measure_{member_id}") or None,
                deadline=data.get(f"deadline_{member_id}") or None,
                note=data.get(f"note_{member_id}") or "",
            )
        rows.append(item)
    return rows


@action_required("change", APP, subtree=True)
def decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The committee's decision: a grade per participant with the tally and the evidence in view,
    the reason when 优秀 exceeds the share, the follow-up of each 不合格."""
    appraisal = selectors.appraisal_get(user=request.user, pk=pk, action="change")
    errors: list[str] = []
    if request.method == "POST":
        detail = selectors.appraisal_detail(user=request.user, appraisal=appraisal, evidence=False)
        try:
            with transaction.atomic():
                services.appraisal_decide(
                    actor=request.user,
                    appraisal=appraisal,
                    grades=_decide_rows(request, detail),
                    reason=request.POST.get("reason", ""),
                )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "研究决定的等次已保存；结束研究决定环节前仍可修改")
            return redirect(reverse("appraisal:decide", args=[appraisal.pk]))
    context = _detail_context(request, appraisal, errors=errors, posted=request.POST if errors else None)
    return render(request, "appraisal/decide.html", context)


@action_required("view", APP, subtree=True)
def overview(request: HttpRequest) -> HttpResponse:
    """Completion per branch under a chosen organisation, for the level above: counts only."""
    year = _year(request)
    organization = _chosen_org(request)
    result = page_obj = None
    children: list[Organization] = []
    if organization is not None:
        # The organisations one level down, to drill into (branches are the table's rows).
        children = list(
            Organization.objects.restrict(request.user, "view", app_label=APP)
            .filter(parent=organization, is_active=True)
            .exclude(level__in=[OrgLevel.BRANCH, OrgLevel.GROUP])
            .order_by("sort_order", "path")[:100]
        )
        page_obj = paginate(
            request, selectors.overview_branches(user=request.user, organization=organization), 50
        )
        result = selectors.overview(
            user=request.user, organization=organization, year=year, branches=list(page_obj.object_list)
        )
    context = {
        "organization": organization,
        "children": children,
        "result": result,
        "page_obj": page_obj,
        "year": year,
        "years": _years(year),
        "grades": GRADE_CHOICES,
    }
    return render(request, "appraisal/overview.html", context)


@action_required("view", APP, subtree=True)
def follow_up_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    page_obj = paginate(request, selectors.follow_up_list(user=request.user, status=status), 50)
    context = {
        "page_obj": page_obj,
        "status": status,
        "statuses": FollowUpStatus.choices,
        "today": timezone.localdate(),
    }
    return render(request, "appraisal/follow_up_list.html", context)


@action_required("change", APP, subtree=True)
def follow_up_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Close a follow-up with a note on the outcome: a page to confirm it."""
    follow_up = selectors.follow_up_get(user=request.user, pk=pk, action="change")
    form = FollowUpCloseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.follow_up_close(
                    actor=request.user, follow_up=follow_up, closing_note=form.cleaned_data["closing_note"]
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{follow_up.member.name}的跟进事项已办结")
            return redirect(reverse("appraisal:follow_up_list"))
    return render(request, "appraisal/follow_up_close.html", {"form": form, "follow_up": follow_up})


# --- participants (phone) ------------------------------------------------------------------------


def _my_appraisal(request: HttpRequest, pk: int) -> selectors.MyAppraisal:
    """The user's participation in appraisal ``pk``: an account without a member record holds no
    right here (403); a member who is not a participant gets 404."""
    if selectors.member_of_user(user=request.user) is None:
        raise PermissionDenied("您的账号没有关联党员档案")
    return selectors.my_appraisal(user=request.user, pk=pk)


@login_required
def my(request: HttpRequest) -> HttpResponse:
    """我参加的民主评议: what to do now in each (an account without a member record is told so)."""
    context = {
        "items": selectors.my_appraisals(user=request.user),
        "has_member": selectors.member_of_user(user=request.user) is not None,
    }
    return render(request, "appraisal/my.html", context)


@login_required
def participate(request: HttpRequest, pk: int) -> HttpResponse:
    item = _my_appraisal(request, pk)
    return render(request, "appraisal/participate.html", {"item": item})


@login_required
def self_evaluation(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _my_appraisal(request, pk)
    form = SelfEvaluationForm(posted(request), initial={"text": item.participant.self_evaluation})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.self_evaluation_save(
                    actor=request.user, appraisal=item.appraisal, text=form.cleaned_data["text"]
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "自我评价已保存，自我评价环节结束前可以修改")
            return redirect(reverse("appraisal:participate", args=[item.appraisal.pk]))
    return render(request, "appraisal/self_evaluation.html", {"item": item, "form": form})


@login_required
def peer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The other participants with their self-evaluations, and a comment form for each."""
    item = _my_appraisal(request, pk)
    errors: dict[int, list[str]] = {}
    if request.method == "POST":
        form = PeerCommentForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    services.peer_comment_save(
                        actor=request.user,
                        appraisal=item.appraisal,
                        appraisee=form.cleaned_data["appraisee"],
                        text=form.cleaned_data["text"],
                    )
            except ValidationError as exc:
                errors[form.cleaned_data["appraisee"]] = exc.messages
            else:
                messages.success(request, "评议意见已保存（不记名）")
                return redirect(reverse("appraisal:peer", args=[item.appraisal.pk]))
        else:
            messages.error(request, "；".join(str(m) for ms in form.errors.values() for m in ms))
    mine = selectors.my_comments(item.appraisal, item.participant)
    others = [
        {"participant": p, "comment": mine.get(p.member_id, ""), "errors": errors.get(p.member_id, [])}
        for p in selectors.peers(item.appraisal, item.participant)
    ]
    return render(request, "appraisal/peer.html", {"item": item, "others": others})


@login_required
def ballot(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The ballot on a phone: one card per other participant with the year's evidence and four
    grades. Anonymous; replaceable until the vote closes."""
    item = _my_appraisal(request, pk)
    others = selectors.peers(item.appraisal, item.participant)
    errors: list[str] = []
    chosen: dict[int, str] = {}
    if request.method == "POST":
        chosen = {p.member_id: request.POST.get(f"grade_{p.member_id}") or "" for p in others}
        missing = [p.member.name for p in others if not chosen[p.member_id]]
        if missing:
            errors = [f"请为每名党员选择等次：{'、'.join(missing)}尚未选择"]
        else:
            try:
                with transaction.atomic():
                    services.ballot_submit(
                        actor=request.user,
                        appraisal=item.appraisal,
                        votes=[{"member": m, "grade": g} for m, g in chosen.items()],
                    )
            except ValidationError as exc:
                errors = exc.messages
            else:
                # The page itself says "已投票，可在投票结束前修改" (no second message).
                return redirect(reverse("appraisal:ballot", args=[item.appraisal.pk]))
    elif item.participant.is_voter and item.vote_open:
        chosen = selectors.my_ballot(item.appraisal, item.participant)
    evidence = (
        branch_evidence(
            organization=item.appraisal.organization,
            year=item.appraisal.year,
            member_ids=[p.member_id for p in others],
        )
        if others and item.vote_open
        else {}
    )
    cards = [
        {
            "participant": p,
            "lines": evidence[p.member_id].lines if p.member_id in evidence else (),
            "grade": chosen.get(p.member_id, ""),
        }
        for p in others
    ]
    context = {"item": item, "cards": cards, "grades": GRADE_CHOICES, "errors": errors}
    return render(request, "appraisal/ballot.html", context)

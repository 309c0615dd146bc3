"""Pages of publication (公示) and objections (异议) — a member reads a publication and objects on a
phone; the secretary publishes, withdraws and answers on a desktop — of the veto (一票否决) and of
the ranking switch an org_admin turns on for one branch."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, can_set_policy, scope_for
from partyedu.core.views import action_required, form_page, paginate, posted

from . import selectors, services
from . import selectors_publication as pubs
from .choices import ObjectionStatus
from .forms_publication import (
    AnswerForm,
    LiftForm,
    ObjectionForm,
    PublicationForm,
    RankingForm,
    VetoForm,
    WithdrawForm,
)
from .models import PointsPublication, PointsRankingSetting
from .services.figures import veto_text

APP = "points"


def _manager(request: HttpRequest) -> bool:
    """Whether the user manages points over a subtree (sees the section's tabs)."""
    return bool(scope_for(request.user, "change", APP).paths)


@action_required("view", APP)
def publication_list(request: HttpRequest) -> HttpResponse:
    """Publications the user sees: running first by date, then history (withdrawn marked)."""
    today = timezone.localdate()
    page_obj = paginate(request, pubs.publication_list(user=request.user), 20)
    rows = [(p, p.is_running(today)) for p in page_obj.object_list]
    context = {
        "page_obj": page_obj,
        "rows": rows,
        "manager": _manager(request),
        "policy": can_set_policy(request.user),
    }
    return render(request, "points/publication_list.html", context)


@action_required("change", APP, subtree=True)
def publication_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PublicationForm(posted(request), user=request.user)

    def save() -> PointsPublication:
        data = form.cleaned_data
        return services.publication_create(
            actor=request.user,
            organization=data["organization"],
            year=data["year"],
            period=data["period"],
            days=data["days"],
            note=data.get("note") or "",
        )

    return form_page(
        request,
        form,
        save,
        message=lambda p: f"已发布{p}，公示至{p.ends_on:%Y-%m-%d}",
        then=lambda p: reverse("points:publication_detail", args=[p.pk]),
        template="points/publication_form.html",
        context={"policy": can_set_policy(request.user)},
    )


@action_required("view", APP)
def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The published figures by name (not ranked; a rank beside them only where the branch's
    ranking is on), the current figure beside a changed one, and the objections."""
    publication = pubs.publication_get(user=request.user, pk=pk)
    page = pubs.publication_page(user=request.user, publication=publication)
    return render(request, "points/publication_detail.html", {"page": page, "p": publication})


@action_required("change", APP, subtree=True)
def publication_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    publication = pubs.publication_for_change(user=request.user, pk=pk)
    form = WithdrawForm(posted(request))
    return form_page(
        request,
        form,
        lambda: services.publication_withdraw(
            actor=request.user, publication=publication, reason=form.cleaned_data["reason"]
        ),
        message=lambda p: f"已撤回{p}",
        then=lambda p: reverse("points:publication_detail", args=[p.pk]),
        template="points/publication_withdraw.html",
        context={"p": publication},
    )


@action_required("view", APP)
def objection_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A member's objection to their own figures while the publication runs (phone first)."""
    publication = pubs.publication_get(user=request.user, pk=pk)
    member = pubs.own_member_in(user=request.user, publication=publication)
    entries = pubs.objection_entries(user=request.user, publication=publication, member=member)
    items = services.objection_items(member=member, year=publication.year)
    chosen = request.GET.get("entry") or ""
    form = ObjectionForm(
        posted(request), entries=entries, items=items, initial={"entry": chosen} if chosen.isdigit() else None
    )
    return form_page(
        request,
        form,
        lambda: services.objection_raise(
            actor=request.user,
            publication=publication,
            member=member,
            item=form.cleaned_data["item"],
            reason=form.cleaned_data["reason"],
            entry=form.cleaned_data.get("entry") or None,
        ),
        message=lambda o: "异议已提交，支部将尽快答复",
        then=lambda o: reverse("points:objection_detail", args=[o.pk]),
        template="points/objection_form.html",
        context={"p": publication, "running": publication.is_running(timezone.localdate())},
    )


@action_required("view", APP)
def objection_list(request: HttpRequest) -> HttpResponse:
    """Objections: a secretary's to answer (open first), a member's own."""
    rows = pubs.objection_list(user=request.user)
    status = request.GET.get("status") or ""
    if status in ObjectionStatus.values:
        rows = rows.filter(status=status)
    page_obj = paginate(request, rows, 50)
    context = {
        "page_obj": page_obj,
        "status": status,
        "statuses": ObjectionStatus.choices,
        "manager": _manager(request),
        "policy": can_set_policy(request.user),
    }
    return render(request, "points/objection_list.html", context)


@action_required("view", APP)
def objection_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An objection and its answer; the secretary answers here (upheld with the correction, or
    rejected with the reason)."""
    objection = pubs.objection_get(user=request.user, pk=pk)
    manager = can(request.user, "change", objection.publication.organization, app_label=APP)
    if request.method == "POST" and not manager:
        raise Http404("异议不存在")
    form = AnswerForm(posted(request)) if manager and objection.status == ObjectionStatus.OPEN else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.objection_answer(
                    actor=request.user,
                    objection=objection,
                    decision=form.cleaned_data["decision"],
                    answer=form.cleaned_data["answer"],
                    points=form.cleaned_data.get("points"),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"decision": "decision"})
        else:
            messages.success(request, "已答复，党员本人将收到通知")
            return redirect(reverse("points:objection_detail", args=[objection.pk]))
    context = {"o": objection, "form": form, "manager": manager}
    return render(request, "points/objection_detail.html", context)


@action_required("change", APP, subtree=True)
def veto_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """一票否决 of a member's year, with the category and the reason."""
    member = selectors.member_get(user=request.user, pk=pk, action="change")
    year = request.GET.get("year") or ""
    form = VetoForm(
        posted(request), initial={"year": int(year) if year.isdigit() else timezone.localdate().year}
    )
    return form_page(
        request,
        form,
        lambda: services.veto_record(
            actor=request.user,
            member=member,
            year=form.cleaned_data["year"],
            category=form.cleaned_data["category"],
            reason=form.cleaned_data["reason"],
        ),
        message=lambda v: f"已记录{member.name}{v.year}年度一票否决，该年度积分计为0分",
        then=lambda v: reverse("points:member_detail", args=[member.pk]) + f"?year={v.year}",
        template="points/veto_form.html",
        context={"member": member},
    )


@action_required("change", APP, subtree=True)
def veto_lift(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    veto = pubs.veto_get(user=request.user, pk=pk, action="change")
    form = LiftForm(posted(request))
    return form_page(
        request,
        form,
        lambda: services.veto_lift(actor=request.user, veto=veto, reason=form.cleaned_data["reason"]),
        message=lambda v: f"已撤销{v.member.name}{v.year}年度的一票否决",
        then=lambda v: reverse("points:member_detail", args=[v.member_id]) + f"?year={v.year}",
        template="points/veto_lift.html",
        context={"veto": veto, "veto_text": veto_text(veto.reason)},
    )


@login_required
def ranking(request: AuthenticatedHttpRequest) -> HttpResponse:
    """支部内排名: the branches with ranking on in the org_admin's subtree, and the switch for one
    branch. Only the organisation department sets it (403 for anyone else)."""
    if not can_set_policy(request.user):
        raise PermissionDenied("支部内积分排名由组织部门（组织部/工委管理员）开启或关闭")
    form = RankingForm(posted(request), user=request.user)

    def save() -> PointsRankingSetting:
        return services.ranking_set(
            actor=request.user,
            organization=form.cleaned_data["organization"],
            enabled=form.cleaned_data["enabled"],
        )

    return form_page(
        request,
        form,
        save,
        message=lambda s: f"{s.organization.name}支部内排名已{'开启' if s.enabled else '关闭'}",
        then=lambda s: reverse("points:ranking"),
        template="points/ranking.html",
        context={
            "settings": list(pubs.ranking_settings(user=request.user)),
            "manager": True,
            "policy": True,
        },
    )

"""Pages of the points app: 我的积分 (phone first), the branch's members' totals with the
distribution by child organisation, a member's page, schemes and the manual award form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, can_set_policy
from partyedu.core.views import action_required, paginate, posted
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from . import selectors, services
from . import selectors_publication as pubs
from .forms import ItemFormSet, ManualForm, SchemeForm, YearForm, formset_items, item_initial

APP = "points"


def _year(request: HttpRequest) -> int:
    form = YearForm(request.GET)
    if form.is_valid() and form.cleaned_data.get("year"):
        return int(form.cleaned_data["year"])
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 3, this + 1), year}, reverse=True)


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    """我的积分: the member's own year, by item and line by line."""
    year = _year(request)
    member = selectors.member_of_user(user=request.user)
    result = None
    publications: list[Any] = []
    if member is not None:
        result = selectors.member_points(user=request.user, member=member, year=year)
        today = timezone.localdate()
        # The publications running for the member (to read, and to object to while they run).
        publications = list(
            pubs.publication_list(user=request.user).filter(
                rows__member=member, withdrawn_at__isnull=True, starts_on__lte=today, ends_on__gte=today
            )
        )
    context = {
        "result": result,
        "year": year,
        "years": _years(year),
        "own": True,
        "publications": publications,
    }
    return render(request, "points/member.html", context)


@action_required("view", APP)
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    year = _year(request)
    result = selectors.member_points(user=request.user, member=pk, year=year)
    member = result.member
    context = {
        "result": result,
        "year": year,
        "years": _years(year),
        "own": False,
        "can_record": can(request.user, "change", member.org_path, app_label=APP),
    }
    return render(request, "points/member.html", context)


@action_required("view", APP, subtree=True)
def index(request: HttpRequest) -> HttpResponse:
    """The members of an organisation's subtree with their totals, by name (no ranking), and
    the average by child organisation."""
    year = _year(request)
    orgs = Organization.objects.restrict(request.user, "view", app_label=APP).order_by("path")
    organization = (
        orgs.filter(pk=request.GET.get("organization") or 0).first()
        if (request.GET.get("organization") or "").isdigit()
        else None
    )
    organization = organization or orgs.first()
    # A page of 50 by name: an organisation department's subtree may hold hundreds of thousands.
    page_obj = (
        paginate(request, selectors.branch_members(user=request.user, organization=organization), 50)
        if organization
        else None
    )
    rows = (
        selectors.member_totals(user=request.user, members=page_obj.object_list, year=year)
        if page_obj is not None
        else []
    )
    distribution = (
        selectors.points_distribution(user=request.user, organization=organization, year=year)
        if organization
        else []
    )
    # A rank only on one branch's own list, when its ranking is on: never across branches.
    ranks = (
        selectors.branch_ranks(user=request.user, organization=organization, year=year)
        if organization is not None and organization.level == OrgLevel.BRANCH
        else None
    )
    for row in rows:
        row.rank = ranks.get(row.member.pk) if ranks is not None else None
    context = {
        "organization": organization,
        "rows": rows,
        "page_obj": page_obj,
        "distribution": distribution,
        "ranking": ranks is not None,
        "year": year,
        "years": _years(year),
        "policy": can_set_policy(request.user),
    }
    return render(request, "points/index.html", context)


@action_required("view", APP, subtree=True)
def scheme_list(request: HttpRequest) -> HttpResponse:
    schemes = list(selectors.scheme_list(user=request.user).prefetch_related("items"))
    return render(request, "points/scheme_list.html", {"schemes": schemes})


def _scheme_page(request: AuthenticatedHttpRequest, scheme: Any = None) -> HttpResponse:
    user = request.user
    data = posted(request)
    form = SchemeForm(
        data,
        user=user,
        editing=scheme is not None,
        initial={"name": scheme.name, "base": scheme.base, "allow_refine": scheme.allow_refine}
        if scheme
        else {"year": timezone.localdate().year},
    )
    formset = ItemFormSet(
        data, prefix="items", initial=item_initial(list(scheme.items.all())) if scheme else None
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        items = formset_items(formset)
        try:
            with transaction.atomic():
                if scheme is None:
                    saved = services.scheme_create(
                        actor=user,
                        organization=form.cleaned_data["organization"],
                        year=form.cleaned_data["year"],
                        base=form.cleaned_data["base"],
                        items=items,
                        name=form.cleaned_data.get("name") or "",
                        audience=form.cleaned_data["audience"],
                        allow_refine=form.cleaned_data["allow_refine"],
                    )
                else:
                    saved = services.scheme_update(
                        actor=user,
                        scheme=scheme,
                        base=form.cleaned_data["base"],
                        items=items,
                        name=form.cleaned_data.get("name") or "",
                        allow_refine=form.cleaned_data["allow_refine"],
                    )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            job = getattr(saved, "resync_job", None)
            if job is not None:
                messages.success(request, f"积分方案“{saved.name}”已保存，正在后台按新方案重新核算本年度积分")
                return redirect("core:job_detail", pk=job.pk)
            messages.success(request, f"积分方案“{saved.name}”已保存，本年度积分已按新方案重新核算")
            return redirect(reverse("points:scheme_edit", args=[saved.pk]))
    return render(request, "points/scheme_form.html", {"form": form, "formset": formset, "scheme": scheme})


@action_required("add", APP, subtree=True)
def scheme_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _scheme_page(request)


@action_required("change", APP, subtree=True)
def scheme_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _scheme_page(request, selectors.scheme_get(user=request.user, pk=pk, action="change"))


@action_required("change", APP, subtree=True)
def manual_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A secretary's manual award or deduction, with a required reason."""
    member = selectors.member_get(user=request.user, pk=pk, action="change")
    year = timezone.localdate().year
    items = services.manual_items_for(member, year)
    form = ManualForm(posted(request), items=items)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.points_manual_record(
                    actor=request.user,
                    member=member,
                    item=form.cleaned_data["item"],
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已记录")
            return redirect(reverse("points:member_detail", args=[member.pk]))
    return render(
        request, "points/manual_form.html", {"form": form, "member": member, "items": items, "year": year}
    )


@action_required("change", APP, subtree=True)
def candidates(request: HttpRequest) -> HttpResponse:
    """积分择优: a branch's 入党积极分子 and 发展对象 by their year's total under the candidates'
    scheme, with the points behind each — for the branch committee, as one input only."""
    year = _year(request)
    orgs = Organization.objects.restrict(request.user, "change", app_label=APP).order_by("path")
    chosen = request.GET.get("organization") or ""
    organization = (orgs.filter(pk=chosen).first() if chosen.isdigit() else None) or orgs.first()
    result = (
        selectors.candidates_ranked(user=request.user, organization=organization, year=year)
        if organization is not None
        else None
    )
    context = {"organization": organization, "result": result, "year": year, "years": _years(year)}
    return render(request, "points/candidates.html", context)

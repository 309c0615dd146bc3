"""Pages of 双报到 and volunteer service.

For members, phone first: 我的服务 (their records, hours per year, volunteer activities), 我的社区报到,
recording a service, and signing up for volunteer activities. For the unit's secretary and the
organisation department, desktop: agreements and their three lists, the members' registrations,
service records (and, for the community side, the records to confirm), volunteer activities and
the coverage by organisation and year with its xlsx export.

Organisation roles reach rows through ``restrict`` (``service.<action>``); the community side
through the community's path; a member through their own record only. Anything else is 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, has_action
from partyedu.core.views import action_required, paginate, posted, xlsx_response
from partyedu.organizations.models import Organization

from . import selectors_registration as selectors
from .choices import ListKind, RecordStatus
from .forms_registration import (
    AgreementForm,
    ItemForm,
    RecordForm,
    RegistrationForm,
    RejectForm,
    VolunteerForm,
    YearForm,
)
from .services import registration as services

APP = "service"


def _year(request: HttpRequest) -> int:
    form = YearForm(request.GET)
    if form.is_valid() and form.cleaned_data.get("year"):
        return int(form.cleaned_data["year"])
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 3, this + 1), year}, reverse=True)


def _chosen_org(request: HttpRequest, action: str = "view") -> Organization | None:
    orgs = Organization.objects.restrict(request.user, action, app_label=APP).filter(is_active=True)
    raw = request.GET.get("organization") or ""
    chosen = orgs.filter(pk=int(raw)).first() if raw.isdigit() and int(raw) < 2**62 else None
    return chosen or orgs.order_by("path").first()


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- the member's own pages (phone) ------------------------------------------------------------


@action_required("view", APP)
def my_service(request: HttpRequest) -> HttpResponse:
    """我的服务: the member's registration, hours per year and their latest records and volunteer
    activities."""
    member = selectors.my_member(user=request.user)
    context: dict[str, Any] = {"member": member, "tab": "my_service"}
    if member is not None:
        context.update(
            registration=selectors.current_registration(user=request.user, member=member),
            years=selectors.member_years(user=request.user, member=member),
            records=list(selectors.member_records(user=request.user, member=member)[:50]),
            volunteering=list(selectors.member_volunteer_attendance(user=request.user, member=member)[:20]),
            can_record=has_action(request.user, "add", APP),
        )
    return render(request, "service/registration/my_service.html", context)


@action_required("add", APP)
def my_registration(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的社区报到: where the member is registered, and the short form to register (or change)."""
    member = selectors.my_member(user=request.user)
    if member is None:
        return render(
            request, "service/registration/my_registration.html", {"member": None, "tab": "my_registration"}
        )
    current = selectors.current_registration(user=request.user, member=member)
    form = RegistrationForm(
        posted(request),
        communities=selectors.community_choices(user=request.user),
        projects=selectors.project_items_for(user=request.user, member=member),
        current=current is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                registration = services.registration_create(
                    actor=request.user,
                    member=member,
                    community=data.get("community"),
                    community_name=data.get("community_name") or "",
                    post=data.get("post") or "",
                    agreement_item=data.get("agreement_item"),
                    replace=bool(data.get("replace")),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"member": "__all__"})
        else:
            messages.success(request, f"已在{registration.community_label}报到")
            return redirect(reverse("service:my_service"))
    context = {
        "member": member,
        "current": current,
        "history": list(selectors.registration_history(user=request.user, member=member)[:10]),
        "form": form,
        "in_service": _in_service(member),
        "tab": "my_registration",
    }
    return render(request, "service/registration/my_registration.html", context)


def _in_service(member: Any) -> str:
    """Why the member cannot register, or "" when they can."""
    try:
        services.check_in_service(member)
    except ValidationError as exc:
        return exc.messages[0]
    return ""


@action_required("add", APP)
def my_record_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """记录一次服务: the day, hours, kind and a few words; sent to the community to confirm."""
    member = selectors.my_member(user=request.user)
    form = RecordForm(posted(request))
    registration = selectors.current_registration(user=request.user, member=member) if member else None
    if member is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.service_record_create(
                    actor=request.user,
                    member=member,
                    date=data["date"],
                    hours=data["hours"],
                    kind=data["kind"],
                    description=data.get("description") or "",
                    registration=registration
                    if registration and registration.registered_on <= data["date"]
                    else None,
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"member": "__all__", "registration": "__all__"})
        else:
            messages.success(request, "已记录，等待社区确认")
            return redirect(reverse("service:my_service"))
    context = {"member": member, "form": form, "registration": registration, "tab": "my_service"}
    return render(request, "service/registration/record_form.html", context)


@require_POST
@action_required("view", APP)
def my_record_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = selectors.my_member(user=request.user)
    record = selectors.record_get(user=request.user, pk=pk)
    if member is None or record.member_id != member.pk:
        raise Http404("服务记录不存在")
    try:
        services.service_record_delete(actor=request.user, record=record)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "已删除该服务记录")
    return redirect(reverse("service:my_service"))


@action_required("view", APP)
def my_volunteer(request: HttpRequest) -> HttpResponse:
    """志愿服务报名: the activities the member may sign up for, and those they signed up for."""
    member = selectors.my_member(user=request.user)
    items = list(selectors.volunteer_open_for(user=request.user, member=member)) if member else []
    now = timezone.now()
    for item in items:
        closes = services.signup_closes(item)
        taken = int(getattr(item, "signed_up", 0))
        # Shown on the page beside the annotated ``signed_up`` and ``mine``.
        setattr(item, "closes", closes)  # noqa: B010
        setattr(item, "open", now <= closes and (item.capacity is None or taken < item.capacity))  # noqa: B010
    return render(
        request,
        "service/registration/my_volunteer.html",
        {"member": member, "items": items, "tab": "my_volunteer"},
    )


def _open_volunteer(request: HttpRequest, pk: int) -> tuple[Any, Any]:
    member = selectors.my_member(user=request.user)
    found = (
        selectors.volunteer_open_for(user=request.user, member=member).filter(pk=pk).first()
        if member
        else None
    )
    if found is None:
        raise Http404("志愿服务活动不存在")
    return member, found


@require_POST
@action_required("add", APP)
def volunteer_signup(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member, volunteer = _open_volunteer(request, pk)
    try:
        result = services.volunteer_signup(actor=request.user, volunteer=volunteer, member=member)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "报名成功，请按时参加" if result.created else "您已报名该活动")
    return redirect(reverse("service:my_volunteer"))


@require_POST
@action_required("add", APP)
def volunteer_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member, volunteer = _open_volunteer(request, pk)
    try:
        services.volunteer_withdraw(actor=request.user, volunteer=volunteer, member=member)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "已取消报名")
    return redirect(reverse("service:my_volunteer"))


# --- agreements (the unit, and the community side) ---------------------------------------------


@action_required("view", APP, subtree=True)
def agreement_list(request: HttpRequest) -> HttpResponse:
    """The units' agreements in scope, and those made with the user's communities."""
    page_obj = paginate(request, selectors.agreement_list(user=request.user))
    context = {
        "page_obj": page_obj,
        "with_community": list(selectors.agreements_with_community(user=request.user)[:100]),
        "can_add": has_action(request.user, "add", APP),
        "tab": "agreements",
    }
    return render(request, "service/registration/agreement_list.html", context)


@action_required("add", APP, subtree=True)
def agreement_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AgreementForm(
        posted(request), user=request.user, communities=selectors.community_choices(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                agreement = services.agreement_create(
                    actor=request.user,
                    organization=data["organization"],
                    data={
                        k: data.get(k)
                        for k in ("community", "community_name", "signed_on", "ends_on", "note")
                    },
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已登记共驻共建协议，请填写需求、资源、项目三张清单")
            return redirect(reverse("service:agreement_detail", args=[agreement.pk]))
    return render(
        request,
        "service/registration/agreement_form.html",
        {"form": form, "agreement": None, "tab": "agreements"},
    )


@action_required("change", APP, subtree=True)
def agreement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.agreement_get(user=request.user, pk=pk, action="change")
    form = AgreementForm(
        posted(request),
        user=request.user,
        communities=selectors.community_choices(user=request.user),
        agreement=agreement,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.agreement_update(
                    actor=request.user,
                    agreement=agreement,
                    data={
                        k: data.get(k)
                        for k in ("community", "community_name", "signed_on", "ends_on", "note")
                    },
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect(reverse("service:agreement_detail", args=[agreement.pk]))
    return render(
        request,
        "service/registration/agreement_form.html",
        {"form": form, "agreement": agreement, "tab": "agreements"},
    )


@action_required("view", APP, subtree=True)
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    lists = selectors.agreement_items(user=request.user, agreement=agreement)
    context = {
        "agreement": agreement,
        "lists": [(kind, label, lists[kind]) for kind, label in ListKind.choices],
        "can_change": can(request.user, "change", agreement.organization, app_label=APP),
        "item_form": ItemForm(),
        "tab": "agreements",
    }
    return render(request, "service/registration/agreement_detail.html", context)


@action_required("change", APP, subtree=True)
def agreement_item_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.agreement_get(user=request.user, pk=pk, action="change")
    form = ItemForm(posted(request), initial={"kind": request.GET.get("kind") or ListKind.NEED})
    return _item_page(request, form, agreement, None)


@action_required("change", APP, subtree=True)
def agreement_item_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.agreement_item_get(user=request.user, pk=pk)
    form = ItemForm(posted(request), item=item)
    return _item_page(request, form, item.agreement, item)


def _item_page(request: AuthenticatedHttpRequest, form: ItemForm, agreement: Any, item: Any) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.agreement_item_save(
                    actor=request.user, agreement=agreement, item=item, data=form.cleaned_data
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect(reverse("service:agreement_detail", args=[agreement.pk]))
    context = {"form": form, "agreement": agreement, "item": item, "tab": "agreements"}
    return render(request, "service/registration/item_form.html", context)


# --- registrations ------------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def registration_list(request: HttpRequest) -> HttpResponse:
    """报到党员: registrations in force of the members in scope; the in-service members not yet
    registered (``?show=unregistered``); the members registered with the user's communities
    (``?show=community``)."""
    show = request.GET.get("show") or ""
    if show == "unregistered":
        qs: Any = selectors.unregistered_members(user=request.user)
    elif show == "community":
        qs = selectors.registrations_with_community(user=request.user)
    else:
        show = ""
        qs = selectors.registration_list(user=request.user)
    context = {
        "page_obj": paginate(request, qs),
        "show": show,
        "can_add": has_action(request.user, "add", APP),
        "tab": "registrations",
    }
    return render(request, "service/registration/registration_list.html", context)


@action_required("add", APP, subtree=True)
def registration_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A secretary registers one of their members (``?member=``)."""
    raw = request.GET.get("member") or request.POST.get("member") or ""
    member = selectors.member_get(user=request.user, pk=int(raw) if raw.isdigit() and int(raw) < 2**62 else 0)
    current = selectors.current_registration(user=request.user, member=member)
    form = RegistrationForm(
        posted(request),
        communities=selectors.community_choices(user=request.user),
        projects=selectors.project_items_for(user=request.user, member=member),
        current=current is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.registration_create(
                    actor=request.user,
                    member=member,
                    community=data.get("community"),
                    community_name=data.get("community_name") or "",
                    post=data.get("post") or "",
                    agreement_item=data.get("agreement_item"),
                    replace=bool(data.get("replace")),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"member": "__all__"})
        else:
            messages.success(request, f"已为{member.name}办理报到")
            return redirect(reverse("service:registration_list"))
    context = {
        "member": member,
        "current": current,
        "form": form,
        "in_service": _in_service(member),
        "tab": "registrations",
    }
    return render(request, "service/registration/registration_form.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def registration_end(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    registration = selectors.registration_get(user=request.user, pk=pk, action="change")
    try:
        services.registration_end(actor=request.user, registration=registration)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"{registration.member.name}的报到已结束")
    return redirect(reverse("service:registration_list"))


# --- service records ----------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def record_list(request: HttpRequest) -> HttpResponse:
    """服务记录: the records the user confirms (the community side, pending first), or the
    records of the members in scope (``?show=members``) by status."""
    show = request.GET.get("show") or ""
    status = request.GET.get("status") or ""
    if show == "members":
        qs = selectors.record_list(user=request.user, status=status)
    else:
        show = ""
        qs = selectors.records_to_confirm(
            user=request.user, status=status if status in RecordStatus.values else "pending"
        )
    context = {
        "page_obj": paginate(request, qs),
        "show": show,
        "status": status,
        "statuses": RecordStatus.choices,
        "to_confirm": selectors.records_to_confirm_count(user=request.user),
        "tab": "records",
    }
    return render(request, "service/registration/record_list.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def record_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = selectors.record_for_decision(user=request.user, pk=pk)
    try:
        services.service_record_confirm(actor=request.user, record=record)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"已确认{record.member.name}{record.date:%m月%d日}的服务")
    return redirect(reverse("service:record_list"))


@action_required("change", APP, subtree=True)
def record_reject(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = selectors.record_for_decision(user=request.user, pk=pk)
    form = RejectForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.service_record_reject(
                    actor=request.user, record=record, reason=form.cleaned_data["reason"]
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已标记为未确认")
            return redirect(reverse("service:record_list"))
    return render(
        request, "service/registration/record_reject.html", {"form": form, "record": record, "tab": "records"}
    )


# --- coverage -----------------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def coverage(request: HttpRequest) -> HttpResponse:
    """报到统计: units and in-service members registered, services and hours, by organisation and
    year (the organisation department, desktop)."""
    year = _year(request)
    organization = _chosen_org(request)
    result = (
        selectors.coverage(user=request.user, organization=organization, year=year) if organization else None
    )
    context = {
        "organization": organization,
        "coverage": result,
        "year": year,
        "years": _years(year),
        "can_export": organization is not None and can(request.user, "export", organization, app_label=APP),
        "tab": "coverage",
    }
    return render(request, "service/registration/coverage.html", context)


@action_required("view", APP, subtree=True)
def coverage_members(request: HttpRequest) -> HttpResponse:
    """The in-service members of the subtree with their registration and services in the year;
    ``?state=unregistered``: who has not registered."""
    year = _year(request)
    organization = _chosen_org(request)
    state = request.GET.get("state") or ""
    page_obj = None
    rows: list[Any] = []
    if organization is not None:
        qs = selectors.coverage_members(user=request.user, organization=organization, year=year, state=state)
        page_obj = paginate(request, qs)
        rows = selectors.member_rows(user=request.user, members=list(page_obj.object_list), year=year)
    context = {
        "organization": organization,
        "page_obj": page_obj,
        "rows": rows,
        "state": state,
        "year": year,
        "years": _years(year),
        "tab": "coverage",
    }
    return render(request, "service/registration/coverage_members.html", context)


@action_required("export", APP, subtree=True)
def coverage_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    year = _year(request)
    raw = request.GET.get("organization") or ""
    organization = (
        Organization.objects.restrict(request.user, "export", app_label=APP)
        .filter(is_active=True, pk=int(raw))
        .first()
        if raw.isdigit() and int(raw) < 2**62
        else None
    )
    if organization is None:
        raise Http404("党组织不存在")
    content = services.coverage_export(actor=request.user, organization=organization, year=year)
    return xlsx_response(content, f"双报到统计_{organization.name}_{year}")


# --- volunteer activities ----------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def volunteer_list(request: HttpRequest) -> HttpResponse:
    context = {
        "page_obj": paginate(request, selectors.volunteer_list(user=request.user)),
        "can_add": has_action(request.user, "add", APP),
        "tab": "volunteer",
    }
    return render(request, "service/registration/volunteer_list.html", context)


@action_required("add", APP, subtree=True)
def volunteer_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = VolunteerForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                volunteer = services.volunteer_activity_create(
                    actor=request.user,
                    organization=data["organization"],
                    topic=data["topic"],
                    start=data["start"],
                    end=data["end"],
                    kind=data["kind"],
                    place=data.get("place") or "",
                    capacity=data.get("capacity"),
                    signup_until=data.get("signup_until"),
                    open_to_subtree=bool(data.get("open_to_subtree")),
                )
        except ValidationError as exc:
            apply_validation_error(
                form, exc, {"start": "start_time", "end": "end_time", "signup_until": "signup_date"}
            )
        else:
            messages.success(request, "已发布志愿服务活动，党员可在“志愿服务报名”中报名")
            return redirect(reverse("service:volunteer_detail", args=[volunteer.pk]))
    return render(request, "service/registration/volunteer_form.html", {"form": form, "tab": "volunteer"})


@action_required("view", APP, subtree=True)
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(user=request.user, pk=pk)
    roster = list(selectors.volunteer_roster(user=request.user, volunteer=volunteer)[:500])
    activity = volunteer.activity
    context = {
        "volunteer": volunteer,
        "activity": activity,
        "roster": roster,
        "signed_up": len(roster),
        "closes": services.signup_closes(volunteer),
        "hours": selectors.activity_hours(user=request.user, volunteer=volunteer),
        "can_mark": can(request.user, "change", activity.organization, app_label="study"),
        "tab": "volunteer",
    }
    return render(request, "service/registration/volunteer_detail.html", context)

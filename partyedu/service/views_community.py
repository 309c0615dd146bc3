"""Pages of the service app's community area: 我为群众办实事 (the organisation department's list
and statistics, a member's own pledges on the phone), the 联户 grid and residents' requests, the
party service centres with their rooms and bookings, and the service summary.

Thin: parse the input, call one selector or service, render. Rows outside the user's reach are
404 (the selectors); a right missing for an action on a row the user sees is 403 (the services)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, has_action, scope_for
from partyedu.core.views import action_required, form_page, htmx_or_page, paginate, posted
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.models import Member

from . import selectors_community as selectors
from .choices import BookingStatus, PledgeStatus, RequestStatus
from .forms_community import (
    BookingForm,
    CancelForm,
    CentreEditForm,
    CentreForm,
    CompleteForm,
    DecideForm,
    GridUnitForm,
    LinkActivityForm,
    MyPledgeForm,
    PledgeFilterForm,
    PledgeForm,
    ProgressForm,
    RequestForm,
    ResolveForm,
    RoomForm,
)
from .selectors_summary import (
    SUMMARY_KEYS,
    SUMMARY_LABELS,
    service_summary,
    summary_children,
    summary_organization,
    summary_roots,
)
from .services import community as services

APP = "service"


def _year(request: HttpRequest) -> int:
    raw = str(request.GET.get("year") or "")
    if raw.isdigit() and YEAR_MIN <= int(raw) <= YEAR_MAX:
        return int(raw)
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 3, this + 2), year}, reverse=True)


def _member_of(user: Any) -> Member | None:
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=user.pk).select_related("organization").first()


def _chosen_organization(request: HttpRequest, roots: list[Any]) -> Any:
    """The organisation named by ``?organization=`` (404 when it is outside the user's
    ``service.view`` scope), else the user's first top organisation."""
    raw = request.GET.get("organization")
    org = summary_organization(user=request.user, pk=raw) if raw else (roots[0] if roots else None)
    if org is None:
        raise Http404("党组织不存在或不在您的权限范围内")
    return org


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- 我为群众办实事: the organisation side ----------------------------------------------------------------


@require_GET
@action_required("view", APP, subtree=True)
def pledge_list(request: HttpRequest) -> HttpResponse:
    """Pledges in the user's scope and those waiting for the user's confirmation (desktop)."""
    form = PledgeFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.PledgeFilters(
        year=data.get("year"),
        status=data.get("status") or "",
        kind=data.get("kind") or "",
        waiting=bool(data.get("waiting")),
    )
    page = paginate(request, selectors.pledge_list(user=request.user, filters=filters))
    context = {
        "tab": "pledges",
        "form": form,
        "page_obj": page,
        "can_add": has_action(request.user, "add", APP),
        "waiting": selectors.pledges_waiting_count(user=request.user),
    }
    return htmx_or_page(
        request, "service/community/_pledge_table.html", "service/community/pledge_list.html", context
    )


@action_required("add", APP, subtree=True)
def pledge_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PledgeForm(posted(request), user=request.user)

    def save() -> Any:
        data = form.cleaned_data
        return services.pledge_create(
            actor=request.user,
            organization=data["organization"],
            title=data["title"],
            beneficiary=data.get("beneficiary") or "",
            community=data.get("community"),
            due=data["due"],
        )

    return form_page(
        request,
        form,
        save,
        message=lambda p: f"已登记实事“{p.title}”",
        then=lambda p: reverse("service:pledge_detail", args=[p.pk]),
        template="service/community/pledge_form.html",
        context={"tab": "pledges", "title": "登记组织承诺的实事"},
    )


@require_GET
@action_required("view", APP, subtree=True)
def pledge_stats(request: HttpRequest) -> HttpResponse:
    """Planned vs done by organisation and year (desktop)."""
    year = _year(request)
    roots = summary_roots(user=request.user)
    org = _chosen_organization(request, roots)
    stats = selectors.pledge_stats(user=request.user, organization=org, year=year)
    context = {
        "tab": "pledge_stats",
        "organization": org,
        "roots": roots,
        "year": year,
        "years": _years(year),
        "stats": stats,
    }
    return render(request, "service/community/pledge_stats.html", context)


def _pledge_context(request: HttpRequest, pledge: Any, **extra: Any) -> dict[str, Any]:
    user = request.user
    open_ = pledge.status == PledgeStatus.OPEN
    may_update = services.pledge_may_update(user, pledge)  # type: ignore[arg-type]
    return {
        "tab": "pledges",
        "pledge": pledge,
        "progress_lines": [line for line in pledge.progress.splitlines() if line.strip()],
        "may_update": may_update and open_,
        "may_confirm": pledge.status == PledgeStatus.COMPLETED and services.pledge_may_confirm(user, pledge),  # type: ignore[arg-type]
        "progress_form": extra.pop("progress_form", None)
        or (ProgressForm() if may_update and open_ else None),
        **extra,
    }


@require_GET
@action_required("view", APP)
def pledge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pledge: what, for whom, by when, the progress, the completion with its photos, and the
    buttons of who may act (phone and desktop)."""
    pledge = selectors.pledge_get(user=request.user, pk=pk)
    return render(request, "service/community/pledge_detail.html", _pledge_context(request, pledge))


@require_POST
@action_required("view", APP)
def pledge_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pledge = selectors.pledge_get(user=request.user, pk=pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.pledge_progress(actor=request.user, pledge=pledge, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "已记录进展")
            return redirect(reverse("service:pledge_detail", args=[pledge.pk]))
    return render(
        request, "service/community/pledge_detail.html", _pledge_context(request, pledge, progress_form=form)
    )


@action_required("view", APP)
def pledge_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Complete a pledge with a note and up to three photos (phone first)."""
    pledge = selectors.pledge_get(user=request.user, pk=pk)
    if pledge.status != PledgeStatus.OPEN:
        messages.info(request, "该实事已经办结")
        return redirect(reverse("service:pledge_detail", args=[pledge.pk]))
    form = CompleteForm(posted(request), request.FILES if request.method == "POST" else None)

    def save() -> Any:
        data = form.cleaned_data
        return services.pledge_complete(
            actor=request.user,
            pledge=pledge,
            note=data["note"],
            photos=data.get("photos") or [],
            completed_on=data.get("completed_on"),
        )

    return form_page(
        request,
        form,
        save,
        message=lambda p: f"“{p.title}”已办结，等待确认",
        then=lambda p: reverse("service:pledge_detail", args=[p.pk]),
        template="service/community/pledge_complete.html",
        context={"tab": "pledges", "pledge": pledge},
    )


@require_POST
@action_required("view", APP)
def pledge_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pledge = selectors.pledge_get(user=request.user, pk=pk)
    try:
        with transaction.atomic():
            services.pledge_confirm(actor=request.user, pledge=pledge)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, f"已确认“{pledge.title}”办结")
    return redirect(reverse("service:pledge_detail", args=[pledge.pk]))


@never_cache
@require_GET
@action_required("view", APP)
def pledge_photo(request: HttpRequest, pk: int, photo_pk: int) -> FileResponse:
    """A completion photo, to those who see the pledge."""
    import mimetypes

    pledge = selectors.pledge_get(user=request.user, pk=pk)
    photo = next((p for p in pledge.photos.all() if p.pk == photo_pk), None)
    if photo is None or not photo.image:
        raise Http404("照片不存在")
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(photo.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- 我为群众办实事: a member's own (phone) --------------------------------------------------------------


@require_GET
@action_required("view", APP)
def my_pledges(request: HttpRequest) -> HttpResponse:
    member = _member_of(request.user)
    pledges = list(selectors.my_pledges(user=request.user)) if member else []
    context = {
        "tab": "my_pledges",
        "member": member,
        "pledges": pledges,
        "done": sum(1 for p in pledges if p.status != PledgeStatus.OPEN),
    }
    return render(request, "service/community/my_pledges.html", context)


@action_required("add", APP)
def my_pledge_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    member = _member_of(request.user)
    if member is None:
        messages.error(request, "您的账号没有关联党员档案，不能登记个人承诺")
        return redirect(reverse("service:my_pledges"))
    form = MyPledgeForm(posted(request), member=member)

    def save() -> Any:
        data = form.cleaned_data
        return services.pledge_create(
            actor=request.user,
            member=member,
            title=data["title"],
            beneficiary=data.get("beneficiary") or "",
            community=data.get("community"),
            due=data["due"],
        )

    return form_page(
        request,
        form,
        save,
        message=lambda p: f"已登记“{p.title}”",
        then=lambda p: reverse("service:my_pledges"),
        template="service/community/my_pledge_form.html",
        context={"tab": "my_pledges"},
    )


# --- 联户 grid --------------------------------------------------------------------------------------------


@require_GET
@action_required("view", APP)
def grid_index(request: HttpRequest) -> HttpResponse:
    """The communities of the user's scope with their grids, and the cells the user is the
    contact of (a party member logging residents' requests on the phone)."""
    communities = (
        paginate(request, selectors.grid_communities(user=request.user))
        if scope_for(request.user, "view", APP).paths
        else None
    )
    context = {
        "tab": "grid",
        "page_obj": communities,
        "my_units": list(selectors.my_grid_units(user=request.user)),
    }
    return render(request, "service/community/grid_index.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    community = selectors.grid_community_get(user=request.user, pk=pk)
    cells = selectors.grid_tree(user=request.user, community=community)
    year = timezone.localdate().year
    stats = selectors.request_stats(user=request.user, organization=community, year=year)
    context = {
        "tab": "grid",
        "community": community,
        "cells": cells,
        "households": selectors.grid_households(cells),
        "year": year,
        "stats": stats[0] if stats else None,
        "can_change": can(request.user, "change", community, app_label=APP),
    }
    return render(request, "service/community/grid_detail.html", context)


@action_required("add", APP, subtree=True)
def grid_unit_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    community = selectors.grid_community_get(user=request.user, pk=pk, action="add")
    form = GridUnitForm(posted(request), community=community)

    def save() -> Any:
        data = form.cleaned_data
        return services.grid_unit_create(
            actor=request.user,
            community=community,
            role=data["role"],
            label=data["label"],
            parent=data.get("parent"),
            contact=data.get("contact"),
            households=data.get("households") or 0,
        )

    return form_page(
        request,
        form,
        save,
        message=lambda u: f"已添加网格“{u.label}”",
        then=lambda u: reverse("service:grid_detail", args=[community.pk]),
        template="service/community/grid_unit_form.html",
        context={"tab": "grid", "community": community, "unit": None},
    )


@action_required("change", APP, subtree=True)
def grid_unit_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    unit = selectors.grid_unit_get(user=request.user, pk=pk, action="change")
    form = GridUnitForm(posted(request), community=unit.community, unit=unit)

    def save() -> Any:
        data = form.cleaned_data
        return services.grid_unit_update(
            actor=request.user,
            unit=unit,
            label=data["label"],
            contact=data.get("contact"),
            households=data.get("households") or 0,
        )

    return form_page(
        request,
        form,
        save,
        message=lambda u: f"已保存网格“{u.label}”",
        then=lambda u: reverse("service:grid_detail", args=[unit.community_id]),
        template="service/community/grid_unit_form.html",
        context={"tab": "grid", "community": unit.community, "unit": unit},
    )


def _unit_for_request(request: HttpRequest, pk: int) -> Any:
    """A cell the user may log requests on: in the community's scope, or one they are the
    contact of (or of a cell above it)."""
    from .models import GridUnit

    unit = GridUnit.objects.filter(pk=pk).select_related("community", "parent").first()
    if unit is None or not services.request_may_handle(request.user, unit, "add"):  # type: ignore[arg-type]
        raise Http404("该网格不存在或您不是它的联系党员")
    return unit


@action_required("view", APP)
def request_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Log a resident's request on a cell (phone first: the contact at the door)."""
    unit = _unit_for_request(request, pk)
    form = RequestForm(posted(request))

    def save() -> Any:
        data = form.cleaned_data
        return services.resident_request_log(
            actor=request.user,
            unit=unit,
            household=data["household"],
            summary=data["summary"],
            logged_on=data.get("logged_on"),
            handler=data.get("handler") or "",
        )

    return form_page(
        request,
        form,
        save,
        message=lambda r: "已登记群众诉求",
        then=lambda r: reverse("service:request_detail", args=[r.pk]),
        template="service/community/request_form.html",
        context={"tab": "grid", "unit": unit},
    )


@require_GET
@action_required("view", APP)
def request_list(request: HttpRequest) -> HttpResponse:
    status = str(request.GET.get("status") or "open")
    community = None
    raw = request.GET.get("community")
    if raw:
        community = selectors.grid_community_get(user=request.user, pk=raw)
    qs = selectors.resident_request_list(user=request.user, community=community, status=status)
    context = {
        "tab": "requests",
        "page_obj": paginate(request, qs),
        "status": status,
        "community": community,
        "statuses": [("open", "未解决"), *RequestStatus.choices, ("all", "全部")],
    }
    return render(request, "service/community/request_list.html", context)


def _request_context(request: HttpRequest, item: Any, **extra: Any) -> dict[str, Any]:
    may = services.request_may_handle(request.user, item.unit, "change")  # type: ignore[arg-type]
    resolved = item.status == RequestStatus.RESOLVED
    return {
        "tab": "requests",
        "item": item,
        "may_handle": may and not resolved,
        "resolve_form": extra.pop("resolve_form", None) or (ResolveForm() if may and not resolved else None),
        **extra,
    }


@require_GET
@action_required("view", APP)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.resident_request_get(user=request.user, pk=pk)
    return render(request, "service/community/request_detail.html", _request_context(request, item))


@require_POST
@action_required("view", APP)
def request_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.resident_request_get(user=request.user, pk=pk)
    try:
        with transaction.atomic():
            services.resident_request_start(
                actor=request.user, request=item, handler=request.POST.get("handler", "")
            )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, "已开始办理")
    return redirect(reverse("service:request_detail", args=[item.pk]))


@require_POST
@action_required("view", APP)
def request_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.resident_request_get(user=request.user, pk=pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.resident_request_resolve(
                    actor=request.user,
                    request=item,
                    resolution=form.cleaned_data["resolution"],
                    households_benefited=form.cleaned_data["households_benefited"],
                    resolved_on=form.cleaned_data.get("resolved_on"),
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "诉求已解决")
            return redirect(reverse("service:request_detail", args=[item.pk]))
    return render(
        request, "service/community/request_detail.html", _request_context(request, item, resolve_form=form)
    )


@require_GET
@action_required("view", APP, subtree=True)
def request_stats(request: HttpRequest) -> HttpResponse:
    """Requests solved and households benefited by community and year (desktop)."""
    year = _year(request)
    roots = summary_roots(user=request.user)
    org = _chosen_organization(request, roots)
    rows = selectors.request_stats(user=request.user, organization=org, year=year)
    context = {
        "tab": "grid",
        "organization": org,
        "roots": roots,
        "year": year,
        "years": _years(year),
        "rows": rows,
        "total": {
            "logged": sum(r.logged for r in rows),
            "solved": sum(r.solved for r in rows),
            "households": sum(r.households for r in rows),
        },
    }
    return render(request, "service/community/request_stats.html", context)


# --- centres and bookings -----------------------------------------------------------------------------------


@require_GET
@action_required("view", APP)
def centre_list(request: HttpRequest) -> HttpResponse:
    centres = list(selectors.centre_list(user=request.user))
    context = {
        "tab": "centres",
        "centres": centres,
        "may_book": selectors.may_book(user=request.user),
        "can_add": bool(scope_for(request.user, "add", APP).paths),
        "waiting": selectors.bookings_waiting_count(user=request.user),
    }
    return render(request, "service/community/centre_list.html", context)


@action_required("add", APP, subtree=True)
def centre_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CentreForm(posted(request), user=request.user)

    def save() -> Any:
        data = form.cleaned_data
        return services.centre_create(
            actor=request.user,
            organization=data["organization"],
            name=data["name"],
            address=data.get("address") or "",
            requires_approval=data.get("requires_approval"),
        )

    return form_page(
        request,
        form,
        save,
        message=lambda c: f"已设立“{c.name}”，请添加活动室",
        then=lambda c: reverse("service:centre_detail", args=[c.pk]),
        template="service/community/centre_form.html",
        context={"tab": "centres", "centre": None},
    )


@require_GET
@action_required("view", APP)
def centre_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A centre and its rooms: pick a room to book (units), or manage it (the centre)."""
    centre = selectors.centre_get(user=request.user, pk=pk)
    manages = can(request.user, "change", centre.organization, app_label=APP)
    rooms = centre.rooms.all() if manages else centre.rooms.filter(is_active=True)
    context = {
        "tab": "centres",
        "centre": centre,
        "rooms": list(rooms.order_by("name", "id")),
        "manages": manages,
        "may_book": selectors.may_book(user=request.user) and centre.is_active,
        "today": timezone.localdate(),
    }
    return render(request, "service/community/centre_detail.html", context)


@action_required("change", APP, subtree=True)
def centre_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    centre = selectors.centre_managed_get(user=request.user, pk=pk)
    initial = {
        "name": centre.name,
        "address": centre.address,
        "requires_approval": centre.requires_approval,
        "is_active": centre.is_active,
    }
    form = CentreEditForm(posted(request), initial=initial)

    def save() -> Any:
        data = form.cleaned_data
        return services.centre_update(
            actor=request.user,
            centre=centre,
            name=data["name"],
            address=data.get("address") or "",
            requires_approval=data.get("requires_approval"),
            is_active=data.get("is_active"),
        )

    return form_page(
        request,
        form,
        save,
        message=lambda c: "已保存",
        then=lambda c: reverse("service:centre_detail", args=[c.pk]),
        template="service/community/centre_form.html",
        context={"tab": "centres", "centre": centre},
    )


@action_required("change", APP, subtree=True)
def room_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    centre = selectors.centre_managed_get(user=request.user, pk=pk)
    form = RoomForm(posted(request))

    def save() -> Any:
        data = form.cleaned_data
        room = services.room_create(
            actor=request.user, centre=centre, name=data["name"], capacity=data["capacity"]
        )
        if not data.get("is_active"):
            room = services.room_update(
                actor=request.user, room=room, name=room.name, capacity=room.capacity, is_active=False
            )
        return room

    return form_page(
        request,
        form,
        save,
        message=lambda r: f"已添加活动室“{r.name}”",
        then=lambda r: reverse("service:centre_detail", args=[centre.pk]),
        template="service/community/room_form.html",
        context={"tab": "centres", "centre": centre, "room": None},
    )


@action_required("change", APP, subtree=True)
def room_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    room = selectors.room_managed_get(user=request.user, pk=pk)
    form = RoomForm(
        posted(request), initial={"name": room.name, "capacity": room.capacity, "is_active": room.is_active}
    )

    def save() -> Any:
        data = form.cleaned_data
        return services.room_update(
            actor=request.user,
            room=room,
            name=data["name"],
            capacity=data["capacity"],
            is_active=data.get("is_active"),
        )

    return form_page(
        request,
        form,
        save,
        message=lambda r: "已保存",
        then=lambda r: reverse("service:centre_detail", args=[room.centre_id]),
        template="service/community/room_form.html",
        context={"tab": "centres", "centre": room.centre, "room": room},
    )


def _day(request: HttpRequest, default: date) -> date:
    raw = str(request.GET.get("day") or request.POST.get("day") or "")
    try:
        parsed = parse_date(raw) if raw else None
    except ValueError:
        parsed = None
    if parsed is None or not YEAR_MIN <= parsed.year <= YEAR_MAX:
        return default
    return parsed


def _day_context(request: HttpRequest, room: Any, day: date) -> dict[str, Any]:
    return {
        "room": room,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "slots": selectors.room_day(user=request.user, room=room, day=day),
    }


@require_GET
@action_required("add", APP, subtree=True)
def room_day(request: HttpRequest, pk: int) -> HttpResponse:
    """The taken slots of a room on a day (the HTMX fragment of the booking page)."""
    room = selectors.room_get(user=request.user, pk=pk)
    day = _day(request, timezone.localdate())
    return htmx_or_page(
        request,
        "service/community/_room_day.html",
        "service/community/room_day.html",
        {"tab": "centres", **_day_context(request, room, day)},
    )


@action_required("add", APP, subtree=True)
def booking_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Book a room (phone first): the day's taken slots above a short form."""
    room = selectors.room_get(user=request.user, pk=pk)
    day = _day(request, timezone.localdate())
    form = BookingForm(posted(request), user=request.user, initial={"day": day})
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["day"]
        start, end = form.moments()
        try:
            with transaction.atomic():
                booking = services.booking_create(
                    actor=request.user,
                    room=room,
                    organization=form.cleaned_data["organization"],
                    start=start,
                    end=end,
                    attendees=form.cleaned_data["attendees"],
                    purpose=form.cleaned_data["purpose"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"start": "start_time", "end": "end_time"})
        else:
            done = "已预约，等待服务中心审核" if booking.status == BookingStatus.PENDING else "已预约成功"
            messages.success(request, done)
            return redirect(reverse("service:booking_detail", args=[booking.pk]))
    context = {"tab": "centres", "form": form, **_day_context(request, room, day)}
    return render(request, "service/community/booking_form.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def booking_list(request: HttpRequest) -> HttpResponse:
    side = str(request.GET.get("side") or "")
    status = str(request.GET.get("status") or "")
    centre = None
    if request.GET.get("centre"):
        centre = selectors.centre_managed_get(user=request.user, pk=request.GET.get("centre"), action="view")
    filters = selectors.BookingFilters(
        centre=centre,
        status=status,
        side=side if side in ("unit", "centre") else "",
        upcoming=bool(request.GET.get("upcoming")),
    )
    context = {
        "tab": "bookings",
        "page_obj": paginate(request, selectors.booking_list(user=request.user, filters=filters)),
        "side": filters.side,
        "status": status,
        "centre": centre,
        "statuses": BookingStatus.choices,
    }
    return render(request, "service/community/booking_list.html", context)


def _booking_context(request: HttpRequest, booking: Any, **extra: Any) -> dict[str, Any]:
    user = request.user
    holding = booking.status in (BookingStatus.PENDING, BookingStatus.APPROVED)
    centre_side = can(user, "change", booking.room.centre.organization, app_label=APP)
    unit_side = can(user, "change", booking.organization, app_label=APP)
    return {
        "tab": "bookings",
        "booking": booking,
        "may_decide": centre_side and booking.status == BookingStatus.PENDING,
        "may_cancel": holding and (centre_side or unit_side),
        "may_link": unit_side and booking.status == BookingStatus.APPROVED and booking.activity_id is None,
        **extra,
    }


@require_GET
@action_required("view", APP, subtree=True)
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get(user=request.user, pk=pk)
    return render(request, "service/community/booking_detail.html", _booking_context(request, booking))


@require_POST
@action_required("change", APP, subtree=True)
def booking_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get(user=request.user, pk=pk)
    form = DecideForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    if form.is_valid():
        try:
            with transaction.atomic():
                services.booking_decide(
                    actor=request.user,
                    booking=booking,
                    approve=approve,
                    reason=form.cleaned_data.get("reason"),
                )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, "已通过预约" if approve else "已退回预约")
    return redirect(reverse("service:booking_detail", args=[booking.pk]))


@require_POST
@action_required("change", APP, subtree=True)
def booking_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = selectors.booking_get(user=request.user, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.booking_cancel(
                    actor=request.user, booking=booking, reason=form.cleaned_data.get("reason")
                )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, "已取消预约")
    return redirect(reverse("service:booking_detail", args=[booking.pk]))


@action_required("change", APP, subtree=True)
def booking_link(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Make an approved booking the place of the unit's activity in its slot."""
    booking = selectors.booking_get(user=request.user, pk=pk)
    form = LinkActivityForm(posted(request), user=request.user, booking=booking)
    return form_page(
        request,
        form,
        lambda: services.booking_link_activity(
            actor=request.user, booking=booking, activity=form.cleaned_data["activity"]
        ),
        message=lambda b: f"活动地点已设为“{services.booking_place(b)}”",
        then=lambda b: reverse("service:booking_detail", args=[b.pk]),
        template="service/community/booking_link.html",
        context={"tab": "bookings", "booking": booking},
    )


@require_GET
@action_required("view", APP, subtree=True)
def centre_usage(request: HttpRequest, pk: int) -> HttpResponse:
    """The centre's use: approved bookings held per month and per unit (the centre's managers)."""
    centre = selectors.centre_managed_get(user=request.user, pk=pk, action="view")
    year = _year(request)
    usage = selectors.centre_usage(user=request.user, centre=centre, year=year)
    context = {
        "tab": "centres",
        "centre": centre,
        "usage": usage,
        "months": [(m + 1, n) for m, n in enumerate(usage.by_month)],
        "year": year,
        "years": _years(year),
    }
    return render(request, "service/community/centre_usage.html", context)


# --- the service summary --------------------------------------------------------------------------------------


@require_GET
@action_required("view", APP, subtree=True)
def summary(request: HttpRequest) -> HttpResponse:
    """The service figures of an organisation's subtree and of each child (the organisation
    department, desktop): the same figures as the API's service-summary."""
    year = _year(request)
    roots = summary_roots(user=request.user)
    org = _chosen_organization(request, roots)
    figures = service_summary(user=request.user, organization=org, year=year)
    children = summary_children(user=request.user, organization=org, year=year)
    context = {
        "tab": "summary",
        "organization": org,
        "roots": roots,
        "year": year,
        "years": _years(year),
        "cards": [{"key": k, "label": SUMMARY_LABELS[k], "value": figures[k]} for k in SUMMARY_KEYS],
        "keys": [(k, SUMMARY_LABELS[k]) for k in SUMMARY_KEYS],
        "children": [{"row": row, "values": [row[k] for k in SUMMARY_KEYS]} for row in children],
    }
    return render(request, "service/community/summary.html", context)

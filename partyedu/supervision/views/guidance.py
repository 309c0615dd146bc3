"""Pages of the guidance area: guidance teams and their coverage of branches, inspection visits,
rectification items (closed by the organisation with evidence, reopened by the issuer) and
党课巡听. Thin: each view parses input, calls one selector or service, renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import xlsx_bytes
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, scope_for
from partyedu.core.views import action_required, paginate, xlsx_response
from partyedu.organizations.models import Organization

from ..forms_guidance import (
    CloseForm,
    InspectionForm,
    LectureInspectionForm,
    RectificationItemForm,
    ReopenForm,
    TeamForm,
)
from ..models.guidance import GuidanceTeam, RectificationStatus
from ..selectors import guidance as selectors
from ..services import guidance as services

APP = "supervision"
TAB = "guidance_index"


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"tab": TAB, **context}, status=status)


def _org_param(request: HttpRequest) -> Organization | None:
    """The organisation of ``?organization=`` within the user's supervision scope (404 outside),
    else the top of the user's scope."""
    scope = scope_for(request.user, "view", APP)
    raw = request.GET.get("organization")
    if raw:
        try:
            org = Organization.objects.get(pk=int(raw))
        except (ValueError, Organization.DoesNotExist):
            raise Http404("组织不存在") from None
        if not scope.covers(org.path):
            raise Http404("组织不存在")
        return org
    if not scope.paths:
        return None
    return Organization.objects.filter(path=scope.paths[0]).first()


@require_GET
@action_required("view", APP, subtree=True)
def guidance_index(request: HttpRequest) -> HttpResponse:
    """巡回指导与督导: the teams the user sees, open and overdue rectification, recent visits."""
    user = request.user
    teams = list(selectors.team_list(user=user, filters={"active": True})[:50])
    org = _org_param(request)
    context = {
        "teams": teams,
        "organization": org,
        "coverage": selectors.coverage_summary(user=user, organization=org) if org else None,
        "counts": selectors.rectification_open_counts(user=user),
        "inspections": list(selectors.inspection_list(user=user)[:10]),
        "can_create_team": org is not None and selectors.can_manage_team(user, org),
        "inspects": bool(selectors.inspected_paths(user)) or bool(scope_for(user, "add", APP).paths),
    }
    return _page(request, "supervision/guidance_index.html", context)


@require_GET
@action_required("view", APP, subtree=True)
def guidance_coverage(request: HttpRequest) -> HttpResponse:
    """Every branch in an organisation's subtree with its team and named contact; ``?uncovered=1``
    keeps the branches that no active team covers (未覆盖)."""
    org = _org_param(request)
    if org is None:
        raise Http404("组织不存在")
    uncovered = request.GET.get("uncovered") == "1"
    branches, rows = selectors.coverage_branches(
        user=request.user, organization=org, uncovered_only=uncovered
    )
    page = paginate(request, branches)
    context = {
        "organization": org,
        "uncovered": uncovered,
        "page_obj": page,
        "rows": selectors.coverage_rows(user=request.user, branches=list(page), rows=rows),
        "summary": selectors.coverage_summary(user=request.user, organization=org),
    }
    return _page(request, "supervision/guidance_coverage.html", context)


def _team_form_save(request: HttpRequest, form: TeamForm, team: GuidanceTeam | None) -> GuidanceTeam | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        with transaction.atomic():
            if team is None:
                team = services.guidance_team_create(
                    actor=request.user,
                    organization=data["organization"],
                    name=data["name"],
                    year=data["year"],
                    leader=data["leader"],
                    description=data["description"],
                )
            else:
                team = services.guidance_team_update(
                    actor=request.user,
                    team=team,
                    data={k: data[k] for k in ("name", "year", "leader", "description", "is_active")},
                )
            services.guidance_team_set(
                actor=request.user, team=team, members=data["members"], coverage=data["coverage"]
            )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return None
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return None
    return team


@action_required("change", APP, subtree=True)
def guidance_team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(
        request.POST or None,
        user=request.user,
        initial={"year": timezone.localdate().year, "is_active": True},
    )
    if request.method == "POST":
        team = _team_form_save(request, form, None)
        if team is not None:
            messages.success(request, "指导组已建立")
            return redirect("supervision:guidance_team_detail", pk=team.pk)
    return _page(request, "supervision/guidance_team_form.html", {"form": form, "team": None})


@require_GET
@action_required("view", APP)
def guidance_team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(user=request.user, pk=pk)
    context = {
        "team": team,
        "members": list(team.members.all()),
        "coverage": list(team.coverage.all()),
        "can_manage": selectors.can_manage_team(request.user, team.organization),
        "inspections": list(selectors.inspection_list(user=request.user, filters={"team": team.pk})[:20]),
    }
    return _page(request, "supervision/guidance_team_detail.html", context)


@action_required("change", APP, subtree=True)
def guidance_team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(user=request.user, pk=pk)
    if not selectors.can_manage_team(request.user, team.organization):
        raise Http404("指导组不存在")
    members = [m.user for m in team.members.all()]
    initial = {
        "organization": team.organization,
        "name": team.name,
        "year": team.year,
        "is_active": team.is_active,
        "leader": team.leader.username if team.leader else "",
        "members": "\n".join(u.username for u in members),
        "coverage": "\n".join(
            f"{c.organization.code} {c.contact.username}" if c.contact else c.organization.code
            for c in team.coverage.all()
        ),
        "description": team.description,
    }
    form = TeamForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST":
        saved = _team_form_save(request, form, team)
        if saved is not None:
            messages.success(request, "指导组已保存")
            return redirect("supervision:guidance_team_detail", pk=saved.pk)
    return _page(request, "supervision/guidance_team_form.html", {"form": form, "team": team})


# --- inspections -----------------------------------------------------------------------------------


@require_GET
@action_required("view", APP)
def inspection_list(request: HttpRequest) -> HttpResponse:
    filters: dict[str, Any] = {"year": request.GET.get("year") or None}
    page = paginate(request, selectors.inspection_list(user=request.user, filters=filters))
    return _page(request, "supervision/inspection_list.html", {"page_obj": page})


@action_required("view", APP, subtree=True)
def inspection_create(request: HttpRequest) -> HttpResponse:
    form = InspectionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                inspection = services.inspection_record(
                    actor=request.user,
                    organization=data["organization"],
                    kind=data["kind"],
                    visited_on=data["visited_on"],
                    findings=data["findings"],
                    team=selectors.team_for_inspection(user=request.user, organization=data["organization"]),
                    items=data["items"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"__all__": "items"})
        except PermissionDenied as exc:
            form.add_error("organization", str(exc))
        else:
            messages.success(request, "调研督导已记录")
            return redirect("supervision:inspection_detail", pk=inspection.pk)
    return _page(request, "supervision/inspection_form.html", {"form": form})


@require_GET
@action_required("view", APP)
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get(user=request.user, pk=pk)
    context = {
        "inspection": inspection,
        "items": selectors.inspection_items(user=request.user, inspection=inspection),
        "can_add_item": selectors.can_inspect(request.user, inspection.organization),
        "item_form": RectificationItemForm(),
        "today": timezone.localdate(),
    }
    return _page(request, "supervision/inspection_detail.html", context)


@require_POST
@action_required("view", APP)
def rectification_create(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get(user=request.user, pk=pk)
    form = RectificationItemForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_item_create(actor=request.user, inspection=inspection, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "整改事项已提出")
            return redirect("supervision:inspection_detail", pk=inspection.pk)
    context = {
        "inspection": inspection,
        "items": selectors.inspection_items(user=request.user, inspection=inspection),
        "can_add_item": True,
        "item_form": form,
        "today": timezone.localdate(),
    }
    return _page(request, "supervision/inspection_detail.html", context, status=400)


# --- rectification ------------------------------------------------------------------------------------


@require_GET
@action_required("view", APP)
def rectification_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "open"
    page = paginate(request, selectors.rectification_list(user=request.user, filters={"status": status}))
    context = {
        "page_obj": page,
        "status": status,
        "today": timezone.localdate(),
        "can_export": bool(scope_for(request.user, "export", APP).paths),
    }
    return _page(request, "supervision/rectification_list.html", context)


@require_GET
@action_required("export", APP)
def rectification_export(request: HttpRequest) -> HttpResponse:
    """The rectification items of the list's status filter as an xlsx (the user's scope), one row
    each: organisation, item, the inspection it came from, due date, status, closing note."""
    status = request.GET.get("status") or "open"
    today = timezone.localdate()
    items = selectors.rectification_list(user=request.user, filters={"status": status}, today=today)
    columns = [
        "整改组织",
        "整改事项",
        "来源",
        "检查日期",
        "整改期限",
        "状态",
        "整改情况说明",
        "销号人",
        "销号时间",
    ]
    rows = []
    for item in items.iterator(chunk_size=2000):
        overdue = item.status == RectificationStatus.OPEN and item.due_on < today
        rows.append(
            [
                item.organization.name,
                item.description,
                item.inspection.get_kind_display(),
                item.inspection.visited_on,
                item.due_on,
                "逾期未销号" if overdue else item.get_status_display(),
                item.evidence_note,
                str(item.closed_by) if item.closed_by else "",
                timezone.localtime(item.closed_at).replace(tzinfo=None) if item.closed_at else "",
            ]
        )
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="supervision.rectificationitem",
        object_repr="整改事项",
        changes={"status": status, "rows": len(rows)},
        message=f"导出整改事项{len(rows)}条",
    )
    return xlsx_response(xlsx_bytes("整改事项", columns, rows), f"整改事项_{today:%Y%m%d}")


def _item_page(
    request: HttpRequest, item: Any, *, close: Any = None, reopen: Any = None, status: int = 200
) -> HttpResponse:
    user = request.user
    context = {
        "item": item,
        "events": selectors.rectification_events(user=user, item=item),
        "can_close": item.status == RectificationStatus.OPEN
        and can(user, "change", item.organization, app_label=APP),
        "can_reopen": item.status == RectificationStatus.CLOSED and selectors.may_reopen(user, item),
        "close_form": close or CloseForm(),
        "reopen_form": reopen or ReopenForm(),
        "today": timezone.localdate(),
    }
    return _page(request, "supervision/rectification_detail.html", context, status=status)


@require_GET
@action_required("view", APP)
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _item_page(request, selectors.rectification_get(user=request.user, pk=pk))


@require_POST
@action_required("view", APP)
def rectification_close(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.rectification_get(user=request.user, pk=pk)
    form = CloseForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.rectification_item_close(
                actor=request.user, item=item, note=form.cleaned_data["note"], file=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"status": "__all__"})
        else:
            messages.success(request, "整改事项已销号")
            return redirect("supervision:rectification_detail", pk=item.pk)
    return _item_page(request, item, close=form, status=400)


@require_POST
@action_required("view", APP)
def rectification_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.rectification_get(user=request.user, pk=pk)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_item_reopen(
                actor=request.user, item=item, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"status": "__all__"})
        else:
            messages.success(request, "已退回重新整改")
            return redirect("supervision:rectification_detail", pk=item.pk)
    return _item_page(request, item, reopen=form, status=400)


# --- 党课巡听 ---------------------------------------------------------------------------------------


@require_GET
@action_required("view", APP)
def listen_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.lecture_inspection_list(user=request.user))
    context = {"page_obj": page, "upcoming": selectors.upcoming_lectures_to_inspect(user=request.user)}
    return _page(request, "supervision/listen_list.html", context)


@action_required("view", APP)
def listen_form(request: HttpRequest, pk: int) -> HttpResponse:
    """An inspector's 党课巡听 score of a lecture in an organisation they inspect."""
    lecture = selectors.lecture_to_inspect(user=request.user, pk=pk)
    mine = selectors.lecture_inspection_mine(user=request.user, lecture=lecture)
    initial = {f: getattr(mine, f) for f in (*services.SCORE_LABELS, "comment")} if mine else None
    form = LectureInspectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        comment = data.pop("comment", "")
        try:
            services.lecture_inspection_record(
                actor=request.user, lecture=lecture, scores=data, comment=comment
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "巡听评分已保存")
            return redirect("lectures:lecture_detail", pk=lecture.pk)
    status = 400 if request.method == "POST" else 200
    return _page(
        request, "supervision/listen_form.html", {"form": form, "lecture": lecture, "mine": mine}, status
    )


urlpatterns = [
    path("guidance/", guidance_index, name="guidance_index"),
    path("guidance/coverage/", guidance_coverage, name="guidance_coverage"),
    path("guidance/teams/new/", guidance_team_create, name="guidance_team_create"),
    path("guidance/teams/<int:pk>/", guidance_team_detail, name="guidance_team_detail"),
    path("guidance/teams/<int:pk>/edit/", guidance_team_edit, name="guidance_team_edit"),
    path("guidance/inspections/", inspection_list, name="inspection_list"),
    path("guidance/inspections/new/", inspection_create, name="inspection_create"),
    path("guidance/inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
    path("guidance/inspections/<int:pk>/items/", rectification_create, name="rectification_create"),
    path("guidance/rectification/", rectification_list, name="rectification_list"),
    path("guidance/rectification/export/", rectification_export, name="rectification_export"),
    path("guidance/rectification/<int:pk>/", rectification_detail, name="rectification_detail"),
    path("guidance/rectification/<int:pk>/close/", rectification_close, name="rectification_close"),
    path("guidance/rectification/<int:pk>/reopen/", rectification_reopen, name="rectification_reopen"),
    path("guidance/listen/", listen_list, name="listen_list"),
    path("guidance/listen/<int:pk>/", listen_form, name="listen_form"),
]

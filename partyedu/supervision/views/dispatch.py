"""Pages: dispatch and feedback (调度/反馈) and the quarterly feedback note (季度反馈).

The list has two tabs: what organisations in the user's scope received from above, and what was
issued within it. The feedback form is phone-first (a secretary answers on a phone)."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.scope import can
from partyedu.core.views import action_required, form_page, paginate, posted, xlsx_response
from partyedu.study.choices import ActivityType

from ..forms_dispatch import DispatchForm, FeedbackForm, QuarterlyNoteForm
from ..models.dispatch import DispatchStatus
from ..selectors import dispatch as selectors
from ..services import dispatch as services

APP = "supervision"
TABS = ("received", "issued")
# The status filter of the issuer's completion table (``?status=``).
STATUS_FILTERS = ("all", *DispatchStatus.values)


@require_GET
@action_required("view", APP, subtree=True)
def dispatch_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    can_issue = selectors.can_issue(user=user)
    tab = request.GET.get("tab") or ("issued" if can_issue else "received")
    if tab not in TABS:
        tab = "received"
    today = timezone.localdate()
    if tab == "issued":
        page = paginate(request, selectors.dispatch_issued_list(user=user))
    else:
        page = paginate(request, selectors.dispatch_received_list(user=user))
        for recipient in page:
            recipient.current_status = recipient.status_on(today, recipient.dispatch.due)
    context = {
        "tab": "dispatch_list",
        "current": tab,
        "page_obj": page,
        "can_issue": can_issue,
        "today": today,
    }
    return render(request, "supervision/dispatch_list.html", context)


@action_required("add", APP, subtree=True)
def dispatch_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.can_issue(user=request.user):
        raise PermissionDenied(_("只有组织部门管理员可以下发调度任务"))
    form = DispatchForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.dispatch_create(actor=request.user, **form.service_data()),
        message=lambda d: _("已下发调度任务“%(title)s”") % {"title": d.title},
        then=lambda d: reverse("supervision:dispatch_detail", args=[d.pk]),
        template="supervision/dispatch_form.html",
        context={"tab": "dispatch_list"},
    )


@require_GET
@action_required("view", APP, subtree=True)
def dispatch_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The issuing side sees a compact completion table (filterable by status, one feedback opened
    at a time with ``?show=<org>``); the receiving side sees its own recipients' feedback."""
    user = request.user
    dispatch = selectors.dispatch_get(user=user, pk=pk)
    today = timezone.localdate()
    recipients = selectors.dispatch_recipients(user=user, dispatch=dispatch)
    answerable = selectors.dispatch_answerable(
        user=user, dispatch=dispatch, recipients=recipients, today=today
    )
    for r in recipients:
        r.current_status = r.status_on(today, dispatch.due)
        r.can_answer = r.pk in answerable
    is_issuer = selectors.dispatch_is_issuer(user=user, dispatch=dispatch)
    completion = selectors.Completion.of(recipients, dispatch.due, today)
    status = request.GET.get("status") or "all"
    if status not in STATUS_FILTERS:
        status = "all"
    rows = recipients if status == "all" else [r for r in recipients if r.current_status == status]
    shown = next(
        (r for r in recipients if r.feedback_at and str(r.organization_id) == request.GET.get("show")), None
    )
    counts = completion.as_dict()
    filters = [("all", _("全部"), counts["total"])] + [
        (s.value, s.label, counts[s.value]) for s in DispatchStatus
    ]
    context = {
        "tab": "dispatch_list",
        "dispatch": dispatch,
        "recipients": recipients,
        "rows": rows,
        "status": status,
        "filters": filters,
        "shown": shown,
        "completion": completion,
        "is_issuer": is_issuer,
        "can_remind": is_issuer and selectors.can_issue(user=user, organization=dispatch.organization),
        "can_export": can(user, "export", dispatch.organization, app_label=APP),
        "activity_type_label": ActivityType(dispatch.activity_type).label if dispatch.activity_type else "",
        "statuses": DispatchStatus,
        "today": today,
    }
    return render(request, "supervision/dispatch_detail.html", context)


@action_required("change", APP, subtree=True)
def dispatch_feedback(request: AuthenticatedHttpRequest, pk: int, org_pk: int) -> HttpResponse:
    """A recipient's feedback form: one column, large controls, for a phone."""
    user = request.user
    dispatch = selectors.dispatch_get(user=user, pk=pk)
    recipient = selectors.dispatch_recipient_for_feedback(user=user, dispatch=dispatch, org_pk=org_pk)
    feedback = selectors.dispatch_feedback_of(user=user, recipient=recipient)
    attachments = list(feedback.attachments.all()) if feedback else []
    initial = {"text": feedback.text} if feedback else {}
    form = FeedbackForm(posted(request), request.FILES or None, attachments=attachments, initial=initial)
    today = timezone.localdate()
    locked = feedback is not None and today > dispatch.due
    if locked and request.method == "POST":
        messages.error(request, _("已过反馈期限，已提交的反馈不能再修改"))
        return redirect("supervision:dispatch_detail", pk=dispatch.pk)
    return form_page(
        request,
        form,
        lambda: services.dispatch_feedback_submit(
            actor=user,
            dispatch=dispatch,
            organization=recipient.organization,
            text=form.cleaned_data["text"],
            files=form.cleaned_data.get("new_files") or [],
            remove_files=form.cleaned_data.get("remove_files") or [],
        ),
        message=lambda _fb: _("已提交反馈"),
        then=lambda _fb: reverse("supervision:dispatch_detail", args=[dispatch.pk]),
        template="supervision/dispatch_feedback.html",
        field_map={"files": "new_files"},
        context={
            "tab": "dispatch_list",
            "dispatch": dispatch,
            "recipient": recipient,
            "feedback": feedback,
            "locked": locked,
            "late": today > dispatch.due,
            "activities": services.matching_activities(dispatch, recipient.organization)
            if dispatch.links_records
            else [],
        },
    )


@require_POST
@action_required("change", APP, subtree=True)
def dispatch_remind(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dispatch = selectors.dispatch_get(user=request.user, pk=pk, action="change")
    count = services.dispatch_remind(actor=request.user, dispatch=dispatch)
    if count:
        messages.success(request, _("已催办%(n)d个未反馈的组织") % {"n": count})
    else:
        messages.info(request, _("没有需要催办的组织（今天已催办过的不再重复提醒）"))
    return redirect("supervision:dispatch_detail", pk=dispatch.pk)


@require_GET
@action_required("export", APP, subtree=True)
def dispatch_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dispatch = selectors.dispatch_get(user=request.user, pk=pk, action="export")
    content = services.dispatch_export(actor=request.user, dispatch=dispatch)
    return xlsx_response(content, f"调度任务完成情况_{dispatch.pk}")


@never_cache
@require_GET
@action_required("view", APP, subtree=True)
def dispatch_attachment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.dispatch_attachment_get(user=request.user, pk=pk)
    content_type = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
    inline = content_type in ("application/pdf", "image/jpeg", "image/png")
    response = FileResponse(
        item.file.open("rb"), content_type=content_type, as_attachment=not inline, filename=item.name
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a FileResponse streams the file


# --- quarterly notes -------------------------------------------------------------------------------
@require_GET
@action_required("view", APP, subtree=True)
def quarterly_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = paginate(request, selectors.quarterly_note_list(user=request.user))
    context = {"tab": "dispatch_list", "page_obj": page, "can_issue": selectors.can_issue(user=request.user)}
    return render(request, "supervision/quarterly_list.html", context)


@action_required("add", APP, subtree=True)
def quarterly_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.can_issue(user=request.user):
        raise PermissionDenied(_("只有组织部门管理员可以发布季度反馈"))
    form = QuarterlyNoteForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.quarterly_note_publish(
            actor=request.user,
            organization=form.cleaned_data["organization"],
            year=form.cleaned_data["year"],
            quarter=form.cleaned_data["quarter"],
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        ),
        message=lambda note: _("已发布季度反馈“%(title)s”") % {"title": note.title},
        then=lambda note: reverse("supervision:quarterly_detail", args=[note.pk]),
        template="supervision/quarterly_form.html",
        context={"tab": "dispatch_list"},
    )


@require_GET
@action_required("view", APP, subtree=True)
def quarterly_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    note = selectors.quarterly_note_get(user=request.user, pk=pk)
    indicators = note.figures.get("indicators", {})
    by_type = [
        (ActivityType(code).label if code in ActivityType.values else code, count)
        for code, count in indicators.get("activities_by_type", {}).items()
    ]
    context = {
        "tab": "dispatch_list",
        "note": note,
        "indicators": indicators,
        "by_type": by_type,
        "chart": {
            "months": [f"{m['month']}月" for m in note.figures.get("months", [])],
            "activities": [m["activities"] for m in note.figures.get("months", [])],
            "attendance": [m["attendance_person_times"] for m in note.figures.get("months", [])],
        },
    }
    return render(request, "supervision/quarterly_detail.html", context)


urlpatterns = [
    path("dispatches/", dispatch_list, name="dispatch_list"),
    path("dispatches/new/", dispatch_create, name="dispatch_create"),
    path("dispatches/<int:pk>/", dispatch_detail, name="dispatch_detail"),
    path("dispatches/<int:pk>/feedback/<int:org_pk>/", dispatch_feedback, name="dispatch_feedback"),
    path("dispatches/<int:pk>/remind/", dispatch_remind, name="dispatch_remind"),
    path("dispatches/<int:pk>/export/", dispatch_export, name="dispatch_export"),
    path("dispatches/attachments/<int:pk>/", dispatch_attachment, name="dispatch_attachment"),
    path("quarterly/", quarterly_list, name="quarterly_list"),
    path("quarterly/new/", quarterly_create, name="quarterly_create"),
    path("quarterly/<int:pk>/", quarterly_detail, name="quarterly_detail"),
]

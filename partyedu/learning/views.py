"""Learning pages: 我的学时 for a member (big numbers on a phone), a member's hours for those who
manage them, the completion view of an organisation with the list of members still short (and its
xlsx export), and online study: resources by column, a player that reports what was actually
played, and the page where an organisation department publishes a resource."""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import has_action, path_in, user_scope
from partyedu.core.views import action_required, is_htmx_partial, paginate, posted, xlsx_response
from partyedu.members.models import Member
from partyedu.members.selectors import member_of_user

from . import selectors, services
from .choices import HourKind, RequirementGroup
from .forms import ResourceFilterForm, ResourceForm, SummaryFilterForm

APP = "learning"
YEARS_SHOWN = 5
RANGE_CHUNK = 512 * 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _year(request: HttpRequest) -> int:
    """``?year=`` when it is a plausible year, else this year."""
    this = timezone.localdate().year
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return this
    return year if 2000 <= year <= this + 1 else this


def _hours_context(request: HttpRequest, member: Member, year: int) -> dict[str, Any]:
    hours = selectors.member_learning_hours(user=request.user, member=member, year=year)
    this = timezone.localdate().year
    kinds = [(str(label), hours.by_kind[value]) for value, label in HourKind.choices]
    return {
        "member": member,
        "hours": hours,
        "kinds": kinds,
        "entries": list(reversed(hours.entries)),
        "year": year,
        "years": list(range(this, this - YEARS_SHOWN, -1)),
        "not_required": hours.requirement.group == RequirementGroup.NONE,
        "group_label": str(RequirementGroup(hours.requirement.group).label),
    }


# --- a member's hours ----------------------------------------------------------------------------


@login_required
def my_hours(request: HttpRequest) -> HttpResponse:
    """我的学时: what is required this year, what has been earned and where it came from."""
    member = member_of_user(user=request.user)
    if member is None:
        return render(request, "learning/no_member.html", status=200)
    context = _hours_context(request, member, _year(request))
    context["mine"] = True
    return render(request, "learning/hours.html", context)


@action_required("view", APP)
def member_hours(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's hours, for those whose learning scope covers the member (404 otherwise)."""
    member = Member.objects.select_related("organization").filter(pk=pk).first()
    if member is None:
        raise Http404(_("党员不存在"))
    context = _hours_context(request, member, _year(request))  # scope checked by the selector
    context["mine"] = False
    context["can_view_member"] = path_in(member.org_path, user_scope(request.user, "view", "members").paths)
    return render(request, "learning/hours.html", context)


# --- completion of an organisation ---------------------------------------------------------------


@action_required("view", APP)
def summary(request: HttpRequest) -> HttpResponse:
    """Completion of the annual requirement for an organisation's whole subtree, and the members
    still short (paginated, exportable)."""
    user = request.user
    form = SummaryFilterForm(request.GET or None, user=user)
    org, year = form.values()
    context: dict[str, Any] = {"form": form, "org": org, "year": year}
    if org is not None:
        result = selectors.learning_summary(user=user, organization=org, year=year)
        page = paginate(request, selectors.learning_short_list(user=user, organization=org, year=year))
        groups = [
            (str(RequirementGroup(code).label), count)
            for code, count in result.groups.items()
            if count.members
        ]
        context.update(
            summary=result,
            rate=round(result.completion_rate * 100, 1),
            groups=groups,
            page_obj=page,
            can_export=path_in(org.path, user_scope(user, "export", APP).paths),
        )
    return render(request, "learning/summary.html", context)


@action_required("view", APP)
def summary_categories(request: HttpRequest) -> HttpResponse:
    """The completion by member category (loaded after the page: it is computed from the members)."""
    user = request.user
    form = SummaryFilterForm(request.GET or None, user=user)
    org, year = form.values()
    if org is None:
        raise Http404(_("党组织不存在"))
    result = selectors.learning_summary(user=user, organization=org, year=year, by_category=True)
    from partyedu.members.choices import MemberCategory

    rows = []
    for code, label in MemberCategory.choices:
        count = (result.categories or {}).get(code)
        required = result.required_by_category.get(code, 0)
        if count is None or not count.members:
            continue
        rows.append(
            {
                "label": label,
                "members": count.members,
                "required": required,
                "completed": count.completed,
                "rate": round(100 * count.completed / required, 1) if required else None,
            }
        )
    template = "learning/_categories.html" if is_htmx_partial(request) else "learning/categories.html"
    return render(request, template, {"rows": rows, "org": org, "year": year})


@never_cache
@action_required("export", APP)
def summary_export(request: HttpRequest) -> HttpResponse:
    org = selectors.learning_organization_get(
        user=request.user, pk=request.GET.get("organization"), action="export"
    )
    year = _year(request)
    content = services.learning_short_export(actor=request.user, organization=org, year=year)
    return xlsx_response(content, _("%(year)d年学时未达标名单") % {"year": year})


# --- online resources ----------------------------------------------------------------------------


def _require_learner(user: Any) -> Member | None:
    """Members (their own study) and those who manage learning somewhere may open resources."""
    member = member_of_user(user=user)
    if member is None and not has_action(user, "view", APP):
        raise PermissionDenied(_("您没有执行此操作的权限"))
    return member


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    member = _require_learner(user)
    available = selectors.resource_list(user=user)
    columns = list(
        available.exclude(column=None)
        .order_by("column__name")
        .values_list("column_id", "column__name")
        .distinct()
    )
    form = ResourceFilterForm(request.GET or None, columns=columns)
    page = paginate(request, selectors.resource_list(user=user, filters=form.filters()), per_page=20)
    progress = selectors.resource_progress_for(member=member, resource_ids=[r.pk for r in page])
    for resource in page:
        found = progress.get(resource.pk)
        resource.my_progress = found
        resource.percent = _percent(found, resource.duration_seconds)
    context = {
        "form": form,
        "columns": columns,
        "page_obj": page,
        "member": member,
        "can_add": has_action(user, "add", APP),
        "is_manager": has_action(user, "view", APP),
        "active_column": form.filters().get("column"),
    }
    return render(request, "learning/resource_list.html", context)


def _percent(progress: Any, duration: int) -> int:
    if progress is None or not duration:
        return 0
    return min(100, int(100 * progress.played_seconds / duration))


def _learner_of(member: Member | None, resource: Any) -> bool:
    """Whether progress on this resource is recorded for this member (published to the member's
    organisation or one above it)."""
    return (
        member is not None
        and resource.is_published
        and member.org_path.startswith(resource.organization.path)
    )


@login_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    member = _require_learner(user)
    resource = selectors.resource_get(user=user, pk=pk)
    progress = selectors.resource_progress_for(member=member, resource_ids=[resource.pk]).get(resource.pk)
    learner = _learner_of(member, resource)
    resume = 0
    if progress is not None and progress.ranges and progress.ranges[0][0] == 0:
        resume = int(progress.ranges[0][1])
    context = {
        "resource": resource,
        "progress": progress,
        "percent": _percent(progress, resource.duration_seconds),
        "learner": learner,
        "resume": resume,
        "length": _length_text(resource.duration_seconds),
        "can_change": path_in(resource.organization.path, user_scope(user, "change", APP).paths),
    }
    return render(request, "learning/resource_detail.html", context)


def _length_text(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)d秒") % {"n": seconds}
    return _("约%(n)d分钟") % {"n": round(seconds / 60)}


def _progress_json(result: Any, resource: Any) -> dict[str, Any]:
    progress = result.progress
    completed = progress.completed_at is not None
    data: dict[str, Any] = {
        "played_seconds": progress.played_seconds,
        "percent": _percent(progress, resource.duration_seconds),
        "completed": completed,
        "credited_seconds": result.credited_seconds,
        "daily_seconds": result.daily_seconds,
        "daily_cap_seconds": result.daily_cap_seconds,
        "message": "",
    }
    if completed:
        data["message"] = _("已完成，计入网络学习%(h)s学时") % {"h": f"{resource.credit_hours.normalize():f}"}
    elif result.daily_cap_seconds and result.daily_seconds >= result.daily_cap_seconds:
        data["message"] = _("今天的网络学习已达上限，明天继续学习再计入进度")
    return data


@require_POST
@login_required
def resource_heartbeat(request: HttpRequest, pk: int) -> JsonResponse:
    """What the member's player actually played since the last beat: ``start`` and ``end`` in
    seconds. The server decides what counts (see ``services.resource_heartbeat``)."""
    resource = selectors.resource_get(user=request.user, pk=pk)
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
    else:
        payload = request.POST
    try:
        result = services.resource_heartbeat(
            user=request.user, resource=resource, start=payload.get("start"), end=payload.get("end")
        )
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc) or _("您无权记录学习进度")}, status=403)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return JsonResponse({"detail": "；".join(exc.messages), "errors": errors}, status=400)
    response = JsonResponse(_progress_json(result, resource))
    response["Cache-Control"] = "no-store"
    return response


def _file_chunks(handle: Any, start: int, length: int) -> Iterator[bytes]:
    handle.seek(start)
    left = length
    try:
        while left > 0:
            chunk = handle.read(min(RANGE_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


@login_required
def resource_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The media file of a resource, to those who may open the resource; answers byte ranges so a
    phone can seek in a video without downloading all of it."""
    _require_learner(request.user)
    resource = selectors.resource_get(user=request.user, pk=pk)
    if not resource.file:
        raise Http404(_("文件不存在"))
    content_type = mimetypes.guess_type(resource.file.name)[0] or "application/octet-stream"
    size = resource.file.size
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        stream = StreamingHttpResponse(
            _file_chunks(resource.file.open("rb"), start, length), status=206, content_type=content_type
        )
        stream["Content-Range"] = f"bytes {start}-{end}/{size}"
        stream["Content-Length"] = str(length)
        response_: HttpResponse | StreamingHttpResponse = stream
    else:
        response_ = FileResponse(resource.file.open("rb"), content_type=content_type)
    response_["Accept-Ranges"] = "bytes"
    response_["Cache-Control"] = "private, max-age=3600"
    return response_  # type: ignore[return-value]


@action_required("add", APP)
def resource_create(request: HttpRequest) -> HttpResponse:
    form = ResourceForm(posted(request), request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                column = d.get("column")
                if d.get("new_column"):
                    column = services.column_create(
                        actor=request.user, organization=d["organization"], name=d["new_column"]
                    )
                resource = services.resource_create(
                    actor=request.user,
                    organization=d["organization"],
                    title=d["title"],
                    kind=d["kind"],
                    duration_seconds=d["duration_seconds"],
                    file=d.get("file"),
                    body=d.get("body", ""),
                    column=column,
                    issue_no=d.get("issue_no"),
                    credit_hours=d["credit_hours"],
                )
                if d.get("publish"):
                    resource = services.resource_publish(actor=request.user, resource=resource)
        except ValidationError as exc:
            apply_validation_error(form, exc, ResourceForm.FIELD_MAP)
        else:
            if resource.is_published:
                messages.success(request, _("已发布“%(title)s”") % {"title": resource.title})
            else:
                messages.success(request, _("已保存“%(title)s”，尚未发布") % {"title": resource.title})
            return redirect("learning:resource_detail", pk=resource.pk)
    return render(request, "learning/resource_form.html", {"form": form})


@require_POST
@action_required("change", APP)
def resource_publish(request: HttpRequest, pk: int) -> HttpResponse:
    resource = selectors.resource_get(user=request.user, pk=pk)
    if request.POST.get("publish") == "0":
        services.resource_unpublish(actor=request.user, resource=resource)
        messages.success(request, _("已撤回，党员暂时看不到该资源"))
    else:
        services.resource_publish(actor=request.user, resource=resource)
        messages.success(request, _("已发布"))
    return redirect("learning:resource_detail", pk=resource.pk)

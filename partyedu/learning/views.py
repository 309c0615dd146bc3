"""Learning pages: 我的学时 for a member (big numbers on a phone), a member's hours for those who
manage them (with manual records and their cancellation), the completion view of an organisation
with the list of members still short (and its xlsx export), the hour requirements of subtrees, and
online study: resources by column, a player that reports what was actually played, and the pages
where an organisation department publishes, edits, withdraws and deletes a resource."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest, Viewer
from partyedu.core.forms import apply_validation_error
from partyedu.core.json_depth import json_too_deep
from partyedu.core.ranged_files import ranged_file_response
from partyedu.core.scope import can, can_set_policy, has_action, require_anywhere, require_policy, scope_for
from partyedu.core.views import action_required, is_htmx_partial, paginate, posted, xlsx_response
from partyedu.members.models import Member
from partyedu.members.selectors import default_organization, member_of_user

from . import candidates, credit_selectors, selectors, services
from .choices import MEDIA_KINDS, CreditMode, HourKind, RequirementGroup
from .forms import (
    INHERIT,
    CandidateFilterForm,
    CreditRuleForm,
    CreditRuleOrganizationForm,
    HourRequirementDeleteForm,
    HourRequirementForm,
    ManualHoursForm,
    ManualReverseForm,
    ResourceDeleteForm,
    ResourceEditForm,
    ResourceFilterForm,
    ResourceForm,
    SummaryFilterForm,
)
from .media import grossly_different, stored_duration
from .services.candidate_export import learning_candidate_export

APP = "learning"
YEARS_SHOWN = 5
CANDIDATES_PER_PAGE = 50


def _year(request: HttpRequest) -> int:
    """``?year=`` when it is a plausible year, else this year."""
    this = timezone.localdate().year
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return this
    return year if 2000 <= year <= this + 1 else this


def _hours_text(hours: Decimal) -> str:
    return f"{Decimal(hours).normalize():f}"


def _counting_text(req: selectors.Requirement) -> str:
    """Which kinds of hours count towards the member's requirement, and their caps, in plain
    words (DOMAIN_RULES 学时: 集中培训 and 集体学习 count; 网络学习 and 自学 only where the rule says)."""
    if req.counts_concentrated_only:
        return _("发展对象只计集中培训学时；集体学习、网络学习和自学单独显示，不计入。")
    counted = [_("集中培训"), _("集体学习")]
    apart = []
    for counts, cap, label in (
        (req.counts_online, req.online_cap, _("网络学习")),
        (req.counts_self, req.self_cap, _("自学")),
    ):
        if not counts:
            apart.append(label)
        elif cap is None:
            counted.append(label)
        else:
            counted.append(_("%(kind)s（每年最多%(cap)s学时）") % {"kind": label, "cap": _hours_text(cap)})
    text = _("计入学时要求的是：%(kinds)s。") % {"kinds": "、".join(counted)}
    if apart:
        text += _("%(kinds)s单独显示，不计入。") % {"kinds": _("和").join(apart)}
    return text


def _hours_context(request: HttpRequest, member: Member, year: int) -> dict[str, Any]:
    hours = selectors.member_learning_hours(user=request.user, member=member, year=year)
    this = timezone.localdate().year
    counted_by_kind = hours.counted_by_kind
    counting = hours.requirement.is_required
    # Each kind: what was earned and how much of it counts towards the requirement.
    kinds = [
        {
            "label": str(label),
            "earned": hours.by_kind[value],
            "counted": counted_by_kind[value],
            "show_counted": counting,
        }
        for value, label in HourKind.choices
    ]
    return {
        "member": member,
        "hours": hours,
        "counting_text": _counting_text(hours.requirement) if counting else "",
        "shortfall": selectors.member_shortfall(user=request.user, hours=hours),
        "kinds": kinds,
        # Newest study first, by the day it happened (an activity's date, not the day it was credited).
        "entries": sorted(hours.entries, key=lambda e: (e.occurred_on or e.credited_on, e.id), reverse=True),
        "year": year,
        # This year, the year shown, and the years that have lines; empty years are not offered.
        "years": sorted(
            {this, year, *selectors.member_hour_years(user=request.user, member=member)[:YEARS_SHOWN]},
            reverse=True,
        ),
        "not_required": hours.requirement.group == RequirementGroup.NONE,
        "group_label": str(RequirementGroup(hours.requirement.group).label),
        # 发展对象 training over the candidate period (细则), for candidates and new 预备党员.
        "candidate_training": candidates.candidate_training_get(user=request.user, member=member),
    }


# --- a member's hours ----------------------------------------------------------------------------


@login_required
def my_hours(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的学时: what is required this year, what has been earned and where it came from."""
    member = member_of_user(user=request.user)
    if member is None:
        return render(request, "learning/no_member.html", status=200)
    context = _hours_context(request, member, _year(request))
    context["mine"] = True
    return render(request, "learning/hours.html", context)


@action_required("view", APP)
def member_hours(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A member's hours, for those whose learning scope covers the member (404 otherwise)."""
    user = request.user
    member = selectors.learning_member_hours_get(user=user, pk=pk)
    context = _hours_context(request, member, _year(request))
    context["mine"] = False
    context["can_view_member"] = can(user, "view", member.org_path, app_label="members")
    context["can_record"] = can(user, "add", member.org_path, app_label=APP)
    context["can_reverse"] = can(user, "change", member.org_path, app_label=APP)
    return render(request, "learning/hours.html", context)


def _member_hours_url(member: Member, year: int) -> str:
    return f"{reverse('learning:member_hours', args=[member.pk])}?year={year}"


@action_required("add", APP)
def manual_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record hours that came from outside the system (自学, a course elsewhere) for a member."""
    member = selectors.learning_member_get(user=request.user, pk=pk, action="add")
    form = ManualHoursForm(posted(request), year=_year(request))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            entry = services.learning_hours_record_manual(
                actor=request.user,
                member=member,
                year=d["year"],
                kind=d["kind"],
                hours=d["hours"],
                description=d["description"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("已为%(name)s登记%(year)d年%(kind)s %(hours)s 学时")
                % {
                    "name": member.name,
                    "year": entry.year,
                    "kind": HourKind(entry.kind).label,
                    "hours": f"{entry.hours.normalize():f}",
                },
            )
            return redirect(_member_hours_url(member, entry.year))
    return render(request, "learning/manual_form.html", {"form": form, "member": member})


@action_required("change", APP)
def manual_reverse(request: AuthenticatedHttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """Cancel a manual record entered by mistake: a correcting line with the reason (the
    original line stays in the ledger)."""
    member = selectors.learning_member_get(user=request.user, pk=pk, action="change")
    entry = selectors.manual_entry_get(user=request.user, member=member, pk=entry_pk, action="change")
    form = ManualReverseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.learning_hours_manual_reverse(
                actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("已撤销“%(text)s”，扣除%(hours)s学时")
                % {"text": entry.description, "hours": f"{entry.hours.normalize():f}"},
            )
            return redirect(_member_hours_url(member, entry.year))
    return render(
        request,
        "learning/manual_reverse.html",
        {"form": form, "member": member, "entry": entry, "back": _member_hours_url(member, entry.year)},
    )


# --- completion of an organisation ---------------------------------------------------------------


@action_required("view", APP)
def summary(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Completion of the annual requirement for an organisation's whole subtree, and the members
    still short (paginated, exportable)."""
    user = request.user
    form = SummaryFilterForm(request.GET or None, user=user)
    org, year = form.values()
    context: dict[str, Any] = {"form": form, "org": org, "year": year}
    if org is not None:
        result = selectors.learning_summary(user=user, organization=org, year=year)
        # The list is as long as the summary says (members with a requirement, less those who
        # met it): no COUNT over the subtree's members.
        page = paginate(
            request,
            selectors.learning_short_list(user=user, organization=org, year=year),
            count=result.short,
        )
        groups = [
            (str(RequirementGroup(code).label), count)
            for code, count in result.groups.items()
            if count.members
        ]
        context.update(
            summary=result,
            rate=round(result.completion_rate * 100, 1),
            groups=groups,
            # 发展对象 apart: their training is counted over the candidate period, not the year.
            candidates=candidates.candidate_training_counts(user=user, organization=org),
            page_obj=page,
            can_export=can(user, "export", org, app_label=APP),
        )
    return render(request, "learning/summary.html", context)


@action_required("view", APP)
def summary_categories(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def summary_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The members short of their requirement as xlsx; a list longer than EXPORT_SYNC_MAX_ROWS
    (by the stored counts) is built by a background job, and the user is sent to its page."""
    from .jobs import short_export_job_or_none

    org = selectors.learning_organization_get(
        user=request.user, pk=request.GET.get("organization"), action="export"
    )
    year = _year(request)
    job = short_export_job_or_none(actor=request.user, organization=org, year=year)
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    content = services.learning_short_export(actor=request.user, organization=org, year=year)
    return xlsx_response(content, _("%(year)d年学时未达标名单") % {"year": year})


@action_required("view", APP)
def candidate_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """发展对象培训情况: the 发展对象 of an organisation's subtree with their concentrated training
    since becoming 发展对象 (细则: ≥ 3 days or 24 学时), those not yet there first."""
    user = request.user
    form = CandidateFilterForm(request.GET or None, user=user)
    org, only_short = form.values()
    context: dict[str, Any] = {"form": form, "org": org, "only_short": only_short}
    if org is not None:
        rows = candidates.candidate_training_list(user=user, organization=org, only_short=only_short)
        context.update(
            page_obj=Paginator(rows, CANDIDATES_PER_PAGE).get_page(request.GET.get("page")),
            short=sum(1 for r in rows if not r.training.met),
            can_export=can(user, "export", org, app_label=APP),
            days_rule=candidates.CANDIDATE_TRAINING_DAYS,
        )
    return render(request, "learning/candidate_list.html", context)


@never_cache
@action_required("export", APP)
def candidate_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The 发展对象 training list as xlsx (a list of candidates is short: built at once)."""
    org = selectors.learning_organization_get(
        user=request.user, pk=request.GET.get("organization"), action="export"
    )
    only_short = request.GET.get("only_short") in ("on", "1", "true")
    content = learning_candidate_export(actor=request.user, organization=org, only_short=only_short)
    return xlsx_response(content, _("发展对象培训情况"))


def _learner(user: Viewer) -> Member | None:
    """The user's member record. Members (their own study) and those who manage learning
    somewhere may open resources; anyone else gets 403."""
    member = member_of_user(user=user)
    if member is None:
        require_anywhere(user, "view", app_label=APP, message=_("您没有执行此操作的权限"))
    return member


# --- hour requirements ---------------------------------------------------------------------------


@action_required("view", APP)
def requirement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The subtrees with their own hour requirement, and the rule in force at the top of the
    user's scope that they override."""
    user = request.user
    page = paginate(request, selectors.hour_requirement_list(user=user))
    change = scope_for(user, "change", APP)
    delete = scope_for(user, "delete", APP)
    for requirement in page:
        org = requirement.organization
        requirement.can_change = change.covers(org.path) and can_set_policy(user, org)
        requirement.can_delete = delete.covers(org.path) and can_set_policy(user, org)
    context = {
        "page_obj": page,
        "scope_rules": selectors.hour_requirement_scope_rules(user=user),
        "can_set": bool(change.paths) and can_set_policy(user),
    }
    return render(request, "learning/requirement_list.html", context)


def _after_rule_change(request: HttpRequest, done: str, change: services.RuleChange) -> HttpResponse:
    """To the recount's progress page (its outcome says how many members' requirements and
    completions changed, and its 返回 leads back to the list), or back to the list when no
    member's requirement can have changed."""
    if change.job is not None:
        if change.changed:
            messages.success(request, _("%(done)s，正在重新核算下级党员的学时要求") % {"done": done})
        else:
            messages.info(request, _("学时要求没有变化，上次修改后的核算仍在进行"))
        return redirect("core:job_detail", pk=change.job.pk)
    if change.changed:
        messages.success(request, _("%(done)s；没有党员适用的学时要求因此改变") % {"done": done})
    else:
        messages.info(request, _("学时要求没有变化"))
    return redirect("learning:requirement_list")


@action_required("change", APP)
def requirement_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set (create or replace) the requirement of a subtree; ``?organization=`` starts from that
    organisation's rule."""
    user = request.user
    require_policy(user, None, _("学时要求由组织部门（组织部/工委管理员）设定"))
    organization = None
    if request.method != "POST" and request.GET.get("organization"):
        organization = selectors.learning_organization_get(
            user=user, pk=request.GET["organization"], action="change"
        )
        if not can_set_policy(user, organization):
            raise Http404(_("党组织不存在"))
    form = HourRequirementForm(posted(request), user=user, organization=organization)
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["organization"]
        try:
            change = services.hour_requirement_set(
                actor=user, organization=organization, data=form.service_data()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            done = _("已保存“%(name)s”的学时要求") % {"name": organization.name}
            return _after_rule_change(request, done, change)
    return render(request, "learning/requirement_form.html", {"form": form})


@action_required("delete", APP)
def requirement_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Remove a subtree's own requirement: the one above it (or the defaults) applies again."""
    require_policy(request.user, None, _("学时要求由组织部门（组织部/工委管理员）设定"))
    requirement = selectors.hour_requirement_get(user=request.user, pk=pk, action="delete", policy=True)
    form = HourRequirementDeleteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        name = requirement.organization.name
        change = services.hour_requirement_delete(actor=request.user, requirement=requirement)
        done = _("已删除“%(name)s”的学时要求") % {"name": name}
        return _after_rule_change(request, done, change)
    context = {
        "form": form,
        "requirement": requirement,
        "inherited": selectors.hour_requirement_inherited(user=request.user, requirement=requirement),
    }
    return render(request, "learning/requirement_delete.html", context)


# --- online resources: learning --------------------------------------------------------------------


@login_required
def resource_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    member = _learner(user)
    available = selectors.resource_list(user=user)
    columns = list(
        available.exclude(column=None)
        .order_by("column__name")
        .values_list("column_id", "column__name")
        .distinct()
    )
    form = ResourceFilterForm(request.GET or None, columns=columns)
    page = paginate(request, selectors.resource_list(user=user, filters=form.filters()), per_page=20)
    progress = selectors.resource_progress_for(user=user, member=member, resource_ids=[r.pk for r in page])
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
def resource_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    member = _learner(user)
    resource = selectors.resource_get(user=user, pk=pk)
    progress = selectors.resource_progress_for(user=user, member=member, resource_ids=[resource.pk]).get(
        resource.pk
    )
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
        "can_change": can(user, "change", resource.organization, app_label=APP),
        "can_delete": can(user, "delete", resource.organization, app_label=APP),
    }
    return render(request, "learning/resource_detail.html", context)


def _length_text(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)d秒") % {"n": seconds}
    return _("约%(n)d分钟") % {"n": round(seconds / 60)}


def _clock_text(seconds: int) -> str:
    """An exact playing time: 1小时2分3秒, 12分5秒, 45秒."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = ""
    if hours:
        text += _("%(n)d小时") % {"n": hours}
    if hours or minutes:
        text += _("%(n)d分") % {"n": minutes}
    return text + _("%(n)d秒") % {"n": secs}


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
def resource_heartbeat(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    """What the member's player actually played since the last beat: ``start`` and ``end`` in
    seconds. The server decides what counts (see ``services.resource_heartbeat``)."""
    resource = selectors.resource_get(user=request.user, pk=pk)
    if request.content_type == "application/json":
        try:
            # Measured first: a deeply nested body would raise RecursionError, not ValueError.
            payload = {} if json_too_deep(request.body) else json.loads(request.body or b"{}")
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


@login_required
def resource_file(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The media file of a resource, to those who may open the resource; answers byte ranges so a
    phone can seek in a video without downloading all of it."""
    _learner(request.user)
    resource = selectors.resource_get(user=request.user, pk=pk)
    if not resource.file:
        raise Http404(_("文件不存在"))
    return ranged_file_response(request, resource.file)


# --- online resources: publishing ------------------------------------------------------------------


def _duration_message(request: HttpRequest, resource: Any, typed: int | None) -> None:
    """Say where an audio or video's duration came from when it was not simply what was typed."""
    if resource.kind not in MEDIA_KINDS or typed == resource.duration_seconds:
        return
    real = _clock_text(resource.duration_seconds)
    if not typed:
        messages.info(request, _("已从文件读取播放时长：%(real)s") % {"real": real})
    elif grossly_different(typed, resource.duration_seconds):
        messages.warning(
            request,
            _("填写的时长（%(typed)s）与文件的实际播放时长（%(real)s）不符，已按实际时长记录")
            % {"typed": _clock_text(typed), "real": real},
        )


@action_required("add", APP)
def resource_create(request: AuthenticatedHttpRequest) -> HttpResponse:
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
            _duration_message(request, resource, d["duration_seconds"])
            return redirect("learning:resource_detail", pk=resource.pk)
    return render(request, "learning/resource_form.html", {"form": form, "title": _("发布学习资源")})


@action_required("change", APP)
def resource_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a resource's title, column, issue, text, reading time or hours (a new number of
    hours re-credits those who completed it)."""
    user = request.user
    resource = selectors.resource_get(user=user, pk=pk, action="change")
    file_seconds = stored_duration(resource.file) if resource.kind in MEDIA_KINDS else None
    form = ResourceEditForm(posted(request), user=user, resource=resource, file_seconds=file_seconds)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            with transaction.atomic():
                if form.cleaned_data.get("new_column"):
                    data["column"] = services.column_create(
                        actor=user, organization=resource.organization, name=form.cleaned_data["new_column"]
                    )
                resource = services.resource_update(actor=user, resource=resource, data=data)
        except ValidationError as exc:
            apply_validation_error(form, exc, ResourceEditForm.FIELD_MAP)
        else:
            messages.success(request, _("已保存“%(title)s”") % {"title": resource.title})
            return redirect("learning:resource_detail", pk=resource.pk)
    context = {
        "form": form,
        "resource": resource,
        "title": _("编辑学习资源"),
        "file_length": _clock_text(round(file_seconds)) if file_seconds is not None else "",
    }
    return render(request, "learning/resource_form.html", context)


@action_required("delete", APP)
def resource_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Delete a resource nobody has studied; one that has been studied is refused (下架 instead)."""
    user = request.user
    resource = selectors.resource_get(user=user, pk=pk, action="delete")
    form = ResourceDeleteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        title = resource.title
        try:
            services.resource_delete(actor=user, resource=resource)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已删除“%(title)s”") % {"title": title})
            return redirect("learning:resource_list")
    context = {
        "form": form,
        "resource": resource,
        "usage": selectors.resource_usage(user=user, resource=resource),
        "can_change": can(user, "change", resource.organization, app_label=APP),
    }
    return render(request, "learning/resource_delete.html", context)


@require_POST
@action_required("change", APP)
def resource_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Publish (``publish=1``) or withdraw — 下架, ``publish=0`` — a resource; withdrawing keeps
    the hours already credited."""
    resource = selectors.resource_get(user=request.user, pk=pk, action="change")
    if request.POST.get("publish") == "0":
        services.resource_unpublish(actor=request.user, resource=resource)
        messages.success(request, _("已下架，党员暂时看不到该资源；已计入的学时不变"))
    else:
        services.resource_publish(actor=request.user, resource=resource)
        messages.success(request, _("已发布"))
    return redirect("learning:resource_detail", pk=resource.pk)


# --- which activities credit hours ----------------------------------------------------------------

# Rules set below the organisation shown, listed on its page (the rest are counted).
CREDIT_RULES_BELOW_SHOWN = 50


def _credit_organization(request: AuthenticatedHttpRequest, action: str = "view") -> Any:
    """``?organization=`` within the user's learning scope for ``action`` (else 404), or by
    default the top of the user's scope when it is one organisation."""
    pk = request.GET.get("organization")
    if pk:
        return selectors.learning_organization_get(user=request.user, pk=pk, action=action)
    return default_organization(request.user, action=action, app_label=APP)


@action_required("view", APP)
def credit_rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The table of which activities credit hours in force at an organisation: for each type
    its mode and where it comes from (default, inherited from above, or its own), with the rules
    set below it, and 修改 for the organisation departments."""
    user = request.user
    org = _credit_organization(request)
    context: dict[str, Any] = {
        "form": CreditRuleOrganizationForm(user=user, organization=org),
        "org": org,
    }
    if org is not None:
        below = credit_selectors.credit_rules_below(user=user, organization=org)
        context.update(
            rows=credit_selectors.credit_rule_table(user=user, organization=org),
            below=list(below[:CREDIT_RULES_BELOW_SHOWN]),
            can_change=credit_selectors.credit_rule_changeable(user=user, organization=org),
        )
        if len(context["below"]) == CREDIT_RULES_BELOW_SHOWN:
            context["below_count"] = below.count()
    return render(request, "learning/credit_rules.html", context)


def _after_credit_change(
    request: HttpRequest, org: Any, row: Any, label: str, change: services.CreditRuleChange
) -> HttpResponse:
    """To the re-sync's progress page when a job follows the change, else back to the table with
    what the ledger did."""
    back = f"{reverse('learning:credit_rules')}?organization={org.pk}"
    done = _("已保存：“%(org)s”及下级的%(type)s%(mode)s") % {
        "org": org.name,
        "type": row.type_label,
        "mode": label,
    }
    if change.job is not None:
        if change.changed:
            messages.success(request, _("%(done)s，正在重新核算相关出勤的学时") % {"done": done})
        else:
            messages.info(request, _("学时认定规则没有变化，上次修改后的核算仍在进行"))
        return redirect("core:job_detail", pk=change.job.pk)
    if not change.changed:
        messages.info(request, _("学时认定规则没有变化"))
    elif change.rows:
        messages.success(
            request,
            _("%(done)s；已核对出勤记录%(n)d条，追加更正学时记录%(rows)d条")
            % {"done": done, "n": change.attendance, "rows": change.rows},
        )
    else:
        messages.success(request, _("%(done)s；已计入的学时无需更正") % {"done": done})
    return redirect(back)


@action_required("change", APP)
def credit_rule_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set how one activity type (``?activity_type=``) credits hours at an organisation
    (``?organization=``), or go back to the rule above it; organisation departments only."""
    user = request.user
    require_policy(user, None, services.CREDIT_POLICY_MESSAGE)
    org = _credit_organization(request, action="change")
    if org is None or not can_set_policy(user, org):
        raise Http404(_("党组织不存在"))
    activity_type = request.GET.get("activity_type", "")
    row = credit_selectors.credit_rule_row(user=user, organization=org, activity_type=activity_type)
    inherited = credit_selectors.credit_rule_inherited(
        user=user, organization=org, activity_type=activity_type
    )
    form = CreditRuleForm(posted(request), current=row, inherited=inherited)
    if request.method == "POST" and form.is_valid():
        mode = form.cleaned_data["mode"]
        try:
            if mode != INHERIT:
                change = services.activity_credit_rule_set(
                    actor=user, organization=org, activity_type=activity_type, mode=mode
                )
                label = _("改为“%(mode)s”") % {"mode": CreditMode(mode).label}
            else:
                change = services.CreditRuleChange(None, False)
                if row.rule_id is not None:
                    rule = credit_selectors.credit_rule_get(user=user, pk=row.rule_id, action="delete")
                    change = services.activity_credit_rule_delete(actor=user, rule=rule)
                label = _("改按上级规定（%(mode)s）") % {"mode": inherited.mode_label}
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            return _after_credit_change(request, org, row, label, change)
    context = {"form": form, "org": org, "row": row, "inherited": inherited}
    return render(request, "learning/credit_rule_form.html", context)

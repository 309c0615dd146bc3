"""Lectures pages: the lecturer pool (search, add, edit, record), lecture records (the form of a 党课
activity, the detail with materials and the rating form for attendees), leaders' duty to lecture,
statistics with exports, the "大家讲" rotation, topic calls and tasks, the lecture library, and a
member's own page (我的党课). Views parse input, call one service or selector and render.

Pages that manage an organisation's lectures need a role over a subtree (``action_required(…,
subtree=True)``); pages a member uses for their own lectures need only ``lectures.view`` (党员 and
讲师 hold it on themselves)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.forms import apply_validation_error
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, has_action, require
from partyedu.core.views import (
    action_required,
    form_page,
    htmx_or_page,
    paginate,
    posted,
    xlsx_response,
)
from partyedu.members.selectors import member_of_user

from . import selectors, services
from .choices import LectureFileKind
from .forms import (
    AssignForm,
    DutyForm,
    LectureDeleteForm,
    LectureFilterForm,
    LectureForm,
    LecturerFilterForm,
    LecturerForm,
    LecturesOrgYearForm,
    LibraryItemForm,
    ProposalForm,
    PublishForm,
    RatingForm,
    RotationForm,
    SeriesForm,
    SlotForm,
    TaskFilterForm,
    TopicCallForm,
)
from .models import Lecture, LectureFile

APP = "lectures"
UPCOMING_SHOWN = 12
T = TypeVar("T")


def _post_action(request: HttpRequest, call: Callable[[], Any], success: str, then: str) -> HttpResponse:
    """A one-button POST: run the service, show its message or its errors, go on."""
    try:
        call()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect(then)


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The menu entry: the lecture records for those who manage them, 我的党课 for members."""
    if selectors.is_manager(request.user):
        return redirect("lectures:lecture_list")
    if has_action(request.user, "view", APP):
        return redirect("lectures:my")
    raise PermissionDenied(_("您没有执行此操作的权限"))


# --- a member's own page -------------------------------------------------------------------------


@action_required("view", APP)
def my(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的党课: my weeks of the rotation, the topics assigned to me, the lectures I gave and the
    lectures I attended (to rate)."""
    user = request.user
    attended = list(selectors.my_lectures_attended(user=user)[:20])
    rated = selectors.my_rated_lecture_ids(user=user, lecture_ids=[lec.pk for lec in attended])
    context = {
        "member": member_of_user(user=user),
        "slots": list(selectors.my_rotation_slots(user=user)[:UPCOMING_SHOWN]),
        "tasks": list(selectors.my_topic_tasks(user=user)),
        "given": list(selectors.my_lectures_given(user=user)[:20]),
        "attended": attended,
        "rated": rated,
        "is_manager": selectors.is_manager(user),
    }
    return render(request, "lectures/my.html", context)


# --- the lecturer pool ---------------------------------------------------------------------------


@action_required("view", APP)
def lecturer_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = LecturerFilterForm(request.GET or None, user=user)
    page = paginate(request, selectors.lecturer_list(user=user, filters=form.filters()))
    context = {"form": form, "page_obj": page, "can_add": selectors.is_manager(user, "add")}
    return htmx_or_page(request, "lectures/_lecturer_table.html", "lectures/lecturer_list.html", context)


@action_required("view", APP)
def lecturer_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lecturer, full = selectors.lecturer_profile_get(user=user, pk=pk)
    if not full:
        # A listener's view of the lecturer: the public profile and the lectures they may see.
        lectures = list(
            selectors.lecture_list(user=user, filters={"lecturer": lecturer.pk})[: selectors.RECORD_LECTURES]
        )
        return render(request, "lectures/lecturer_profile.html", {"lecturer": lecturer, "lectures": lectures})
    record = selectors.lecturer_record(user=user, lecturer=lecturer)
    summaries = selectors.lecture_rating_summaries(user=user, lecture_ids=[lec.pk for lec in record.lectures])
    for lecture in record.lectures:
        setattr(lecture, "rating", summaries[lecture.pk])  # noqa: B010
    context = {
        "lecturer": lecturer,
        "record": record,
        "can_change": can(user, "change", lecturer.organization, app_label=APP),
    }
    return render(request, "lectures/lecturer_detail.html", context)


@action_required("add", APP, subtree=True)
def lecturer_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LecturerForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.lecturer_create(actor=request.user, data=form.service_data()),
        message=lambda lec: _("已将%(name)s加入师资库") % {"name": lec.name},
        then=lambda lec: reverse("lectures:lecturer_detail", args=[lec.pk]),
        template="lectures/form.html",
        context={"title": _("添加讲师"), "back": reverse("lectures:lecturer_list")},
        field_map=LecturerForm.FIELD_MAP,
    )


@action_required("change", APP, subtree=True)
def lecturer_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lecturer = selectors.lecturer_get(user=request.user, pk=pk, action="change")
    form = LecturerForm(posted(request), user=request.user, instance=lecturer)
    return form_page(
        request,
        form,
        lambda: services.lecturer_update(actor=request.user, lecturer=lecturer, data=form.service_data()),
        message=lambda lec: _("已保存讲师%(name)s") % {"name": lec.name},
        then=lambda lec: reverse("lectures:lecturer_detail", args=[lec.pk]),
        template="lectures/form.html",
        context={
            "title": _("编辑讲师：%(name)s") % {"name": lecturer.name},
            "subtitle": _("所属师资库：%(org)s") % {"org": lecturer.organization.name},
            "back": reverse("lectures:lecturer_detail", args=[lecturer.pk]),
        },
    )


@require_POST
@action_required("change", APP, subtree=True)
def lecturer_toggle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lecturer = selectors.lecturer_get(user=request.user, pk=pk, action="change")
    if lecturer.is_active:
        services.lecturer_deactivate(actor=request.user, lecturer=lecturer)
        messages.success(request, _("已将%(name)s移出师资库，已有记录保留") % {"name": lecturer.name})
    else:
        services.lecturer_activate(actor=request.user, lecturer=lecturer)
        messages.success(request, _("已将%(name)s重新加入师资库") % {"name": lecturer.name})
    return redirect("lectures:lecturer_detail", pk=lecturer.pk)


# --- lectures ------------------------------------------------------------------------------------


@action_required("view", APP)
def lecture_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = LectureFilterForm(request.GET or None, user=user)
    lectures = selectors.lecture_list(user=user, filters=form.filters())
    page = paginate(request, lectures.prefetch_related(None).values_list("pk", flat=True))
    page.object_list = selectors.lecture_page_rows(user=user, ids=list(page.object_list))
    summaries = selectors.lecture_rating_summaries(user=user, lecture_ids=[lec.pk for lec in page])
    for lecture in page:
        setattr(lecture, "rating", summaries[lecture.pk])  # noqa: B010
    context = {"form": form, "page_obj": page, "is_manager": selectors.is_manager(user)}
    return htmx_or_page(request, "lectures/_lecture_table.html", "lectures/lecture_list.html", context)


@action_required("view", APP)
def lecture_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lecture = selectors.lecture_get(user=user, pk=pk)
    refusal = selectors.rating_refusal(user=user, lecture=lecture)
    mine = selectors.lecture_my_rating(user=user, lecture=lecture)
    form = RatingForm(initial={"score": mine.score, "comment": mine.comment} if mine else None)
    return _lecture_page(request, lecture, form=form, can_rate=not refusal, mine=mine)


def _lecture_page(
    request: HttpRequest, lecture: Lecture, *, form: RatingForm, can_rate: bool, mine: Any, status: int = 200
) -> HttpResponse:
    user = request.user
    org = lecture.activity.organization
    context = {
        "lecture": lecture,
        "activity": lecture.activity,
        "speakers": list(lecture.speakers.all()),
        "files": list(lecture.files.all()),
        "summary": selectors.lecture_rating_summary(user=user, lecture=lecture),
        "comments": selectors.lecture_rating_comments(user=user, lecture=lecture),
        "form": form,
        "can_rate": can_rate,
        "mine": mine,
        "can_change": can(user, "change", org, app_label=APP),
        "can_delete": can(user, "delete", org, app_label=APP),
        "can_publish": can(user, "add", org, app_label=APP),
        "can_see_activity": has_action(user, "view", "study"),
        # Panels of the apps above (supervision: 党课巡听 scores), each within the user's own scope.
        "panels": [
            panel
            for found in hooks.call("lectures.detail_panels", user=user, lecture=lecture)
            for panel in found
        ],
    }
    return render(request, "lectures/lecture_detail.html", context, status=status)


@require_POST
@action_required("view", APP)
def lecture_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An attendee's rating (1–5, optional anonymous comment); rating again changes their own."""
    user = request.user
    lecture = selectors.lecture_get(user=user, pk=pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.lecture_rate(
                actor=user,
                lecture=lecture,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("感谢您的评价"))
            return redirect("lectures:lecture_detail", pk=lecture.pk)
    mine = selectors.lecture_my_rating(user=user, lecture=lecture)
    return _lecture_page(request, lecture, form=form, can_rate=True, mine=mine, status=400)


@never_cache
@action_required("view", APP)
def lecture_file(request: AuthenticatedHttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """A lecture's slides, script or video, to those who may see the lecture."""
    lecture = selectors.lecture_get(user=request.user, pk=pk)
    item = LectureFile.objects.filter(lecture=lecture, pk=file_pk).first()
    if item is None or not item.file:
        raise Http404(_("资料不存在"))
    content_type = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
    inline = item.kind == LectureFileKind.VIDEO or content_type == "application/pdf"
    response = FileResponse(
        item.file.open("rb"), content_type=content_type, as_attachment=not inline, filename=item.name
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a FileResponse streams the file


@action_required("view", APP, subtree=True)
def activity_lecture(request: AuthenticatedHttpRequest, activity_pk: int) -> HttpResponse:
    """The lecture of a 党课 activity: recorded here the first time (``lectures.add``), edited after
    (``lectures.change``). The study activity page links here."""
    user = request.user
    activity = selectors.lecture_activity_get(user=user, pk=activity_pk, action="view")
    lecture = selectors.lecture_of_activity(user=user, activity=activity)
    action = "change" if lecture is not None else "add"
    activity = selectors.lecture_activity_get(user=user, pk=activity_pk, action=action)
    form = LectureForm(posted(request), request.FILES or None, user=user, activity=activity, lecture=lecture)

    def save() -> Lecture:
        if lecture is None:
            return services.lecture_record(actor=user, activity=activity, data=form.service_data())
        return services.lecture_update(actor=user, lecture=lecture, data=form.service_data())

    wrong_type = activity.activity_type != "party_lecture"
    return form_page(
        request,
        form,
        save,
        message=lambda lec: _("已保存党课“%(title)s”") % {"title": lec.title},
        then=lambda lec: reverse("lectures:lecture_detail", args=[lec.pk]),
        template="lectures/lecture_form.html",
        context={"activity": activity, "lecture": lecture, "wrong_type": wrong_type},
    )


@action_required("delete", APP, subtree=True)
def lecture_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lecture = selectors.lecture_get(user=request.user, pk=pk, action="delete")
    form = LectureDeleteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        title = lecture.title
        services.lecture_delete(actor=request.user, lecture=lecture)
        messages.success(request, _("已删除党课“%(title)s”") % {"title": title})
        return redirect("lectures:lecture_list")
    return render(request, "lectures/lecture_delete.html", {"lecture": lecture, "form": form})


# --- duty and statistics -------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def duty(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Secretaries and leading cadres of a subtree: who has lectured this year, and who not yet."""
    user = request.user
    form = DutyForm(request.GET or None, user=user)
    org, year = form.values()
    context: dict[str, Any] = {"form": form, "org": org, "year": year}
    if org is not None:
        lectured = form.lectured()
        rows = selectors.lecture_duty(
            user=user, organization=org, year=year, lectured=lectured, with_counts=False
        )
        # The summary knows how long the list is: the page need not count a city's members.
        summary = selectors.lecture_duty_summary(user=user, organization=org, year=year)
        page = paginate(request, rows, count=summary.listed(lectured))
        selectors.lecture_duty_counts(user=user, members=page, year=year)
        context.update(page_obj=page, summary=summary, can_export=can(user, "export", org, app_label=APP))
    return render(request, "lectures/duty.html", context)


@action_required("export", APP, subtree=True)
def duty_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The duty list as xlsx; a list longer than EXPORT_SYNC_MAX_ROWS is built by a background
    job, and the user is sent to its page."""
    from .jobs import duty_export_job_or_none

    form = LecturesOrgYearForm(request.GET or None, user=request.user)
    org, year = form.values()
    if org is None:
        raise Http404(_("请选择组织"))
    require(request.user, "export", org, app_label=APP, message=_("您无权导出该组织的讲党课情况"))
    job = duty_export_job_or_none(actor=request.user, organization=org, year=year)
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    content = services.lecture_duty_export(actor=request.user, organization=org, year=year)
    return xlsx_response(content, _("%(year)d年书记讲党课情况") % {"year": year})


@action_required("view", APP, subtree=True)
def stats(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = LecturesOrgYearForm(request.GET or None, user=user)
    org, year = form.values()
    result = selectors.lecture_stats(user=user, organization=org, year=year) if org is not None else None
    context = {
        "form": form,
        "org": org,
        "year": year,
        "stats": result,
        "can_export": org is not None and can(user, "export", org, app_label=APP),
    }
    return render(request, "lectures/stats.html", context)


@action_required("export", APP, subtree=True)
def stats_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The statistics as xlsx; a workbook of more than EXPORT_SYNC_MAX_ROWS rows (an organisation
    with that many children) is built by a background job, and the user is sent to its page."""
    from .jobs import stats_export_job_or_none

    form = LecturesOrgYearForm(request.GET or None, user=request.user)
    org, year = form.values()
    if org is None:
        raise Http404(_("请选择组织"))
    require(request.user, "export", org, app_label=APP, message=_("您无权导出该组织的党课统计"))
    job = stats_export_job_or_none(actor=request.user, organization=org, year=year)
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    content = services.lecture_stats_export(actor=request.user, organization=org, year=year)
    return xlsx_response(content, _("%(year)d年党课统计") % {"year": year})


# --- rotation ------------------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def rotation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "page_obj": paginate(request, selectors.rotation_list(user=user)),
        "upcoming": list(selectors.rotation_upcoming(user=user)[:UPCOMING_SHOWN]),
        "can_add": selectors.is_manager(user, "add"),
    }
    return render(request, "lectures/rotation_list.html", context)


@action_required("add", APP, subtree=True)
def rotation_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RotationForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.rotation_generate(actor=request.user, **form.service_kwargs()),
        message=lambda rot: _("已生成“%(title)s”，共%(n)d周") % {"title": rot.title, "n": rot.weeks},
        then=lambda rot: reverse("lectures:rotation_detail", args=[rot.pk]),
        template="lectures/form.html",
        context={
            "title": _("生成支部党课大家讲安排"),
            "subtitle": _("按讲课次数从少到多依次安排，每人讲过一次后才会轮到第二次。"),
            "back": reverse("lectures:rotation_list"),
        },
    )


@action_required("view", APP, subtree=True)
def rotation_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    rotation = selectors.rotation_get(user=user, pk=pk)
    context = {
        "rotation": rotation,
        "slots": list(selectors.rotation_slots(user=user, rotation=rotation)),
        "today": timezone.localdate(),
        "can_change": can(user, "change", rotation.organization, app_label=APP),
        "can_delete": can(user, "delete", rotation.organization, app_label=APP),
    }
    return render(request, "lectures/rotation_detail.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def rotation_regenerate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    rotation = selectors.rotation_get(user=request.user, pk=pk, action="change")
    return _post_action(
        request,
        lambda: services.rotation_regenerate(actor=request.user, rotation=rotation),
        _("已按讲课次数重新安排今后各周"),
        reverse("lectures:rotation_detail", args=[rotation.pk]),
    )


@action_required("change", APP, subtree=True)
def rotation_slot(request: AuthenticatedHttpRequest, pk: int, slot_pk: int) -> HttpResponse:
    rotation = selectors.rotation_get(user=request.user, pk=pk, action="change")
    slot = rotation.slots.select_related("member").filter(pk=slot_pk).first()
    if slot is None:
        raise Http404(_("轮讲安排不存在"))
    form = SlotForm(posted(request), rotation=rotation, slot=slot)
    return form_page(
        request,
        form,
        lambda: services.rotation_slot_replace(
            actor=request.user,
            slot=slot,
            member=form.cleaned_data["member"],
            topic=form.cleaned_data["topic"],
        ),
        message=lambda s: _("已调整%(date)s的安排") % {"date": f"{s.date:%Y-%m-%d}"},
        then=lambda s: reverse("lectures:rotation_detail", args=[rotation.pk]),
        template="lectures/form.html",
        context={
            "title": _("调整 %(date)s 的安排") % {"date": f"{slot.date:%Y-%m-%d}"},
            "subtitle": rotation.title,
            "back": reverse("lectures:rotation_detail", args=[rotation.pk]),
        },
        field_map={"members": "member"},
    )


@require_POST
@action_required("delete", APP, subtree=True)
def rotation_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    rotation = selectors.rotation_get(user=request.user, pk=pk, action="delete")
    services.rotation_delete(actor=request.user, rotation=rotation)
    messages.success(request, _("已删除“%(title)s”") % {"title": rotation.title})
    return redirect("lectures:rotation_list")


# --- topic calls and tasks -----------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def call_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    page = paginate(request, selectors.topic_call_list(user=user))
    today = timezone.localdate()
    for call in page:
        setattr(call, "is_open", services.call_is_open(call, today))  # noqa: B010
    context = {"page_obj": page, "can_add": selectors.is_manager(user, "add")}
    return render(request, "lectures/call_list.html", context)


@action_required("add", APP, subtree=True)
def call_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TopicCallForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.topic_call_open(actor=request.user, **form.cleaned_data),
        message=lambda call: _("已发布“%(title)s”") % {"title": call.title},
        then=lambda call: reverse("lectures:call_detail", args=[call.pk]),
        template="lectures/form.html",
        context={"title": _("发布选题征集"), "back": reverse("lectures:call_list")},
    )


@action_required("view", APP, subtree=True)
def call_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    call = selectors.topic_call_get(user=user, pk=pk)
    can_manage = can(user, "change", call.organization, app_label=APP)
    proposals = list(selectors.topic_proposal_list(user=user, call=call))
    tasks = list(selectors.topic_task_list(user=user, filters={"call": call.pk})) if can_manage else []
    context = {
        "call": call,
        "proposals": proposals,
        "tasks": tasks,
        "is_open": services.call_is_open(call),
        "can_manage": can_manage,
        "can_submit": selectors.is_manager(user, "add"),
    }
    return render(request, "lectures/call_detail.html", context)


@action_required("add", APP, subtree=True)
def call_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.topic_call_get(user=request.user, pk=pk)
    form = ProposalForm(posted(request), user=request.user, call=call)
    return form_page(
        request,
        form,
        lambda: services.topic_proposal_submit(actor=request.user, call=call, **form.cleaned_data),
        message=lambda p: _("已申报选题“%(title)s”") % {"title": p.title},
        then=lambda p: reverse("lectures:call_detail", args=[call.pk]),
        template="lectures/form.html",
        context={
            "title": _("申报选题"),
            "subtitle": _("%(title)s（%(date)s截止）")
            % {"title": call.title, "date": f"{call.deadline:%Y-%m-%d}"},
            "back": reverse("lectures:call_detail", args=[call.pk]),
        },
    )


@require_POST
@action_required("change", APP, subtree=True)
def call_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.topic_call_get(user=request.user, pk=pk, action="change")
    return _post_action(
        request,
        lambda: services.topic_call_close(actor=request.user, call=call),
        _("已结束征集"),
        reverse("lectures:call_detail", args=[call.pk]),
    )


@require_POST
@action_required("change", APP, subtree=True)
def proposal_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.topic_proposal_get(user=request.user, pk=pk)
    is_key = request.POST.get("is_key", "1") == "1"
    return _post_action(
        request,
        lambda: services.topic_proposal_mark_key(actor=request.user, proposal=proposal, is_key=is_key),
        _("已标为重点选题") if is_key else _("已取消重点选题"),
        reverse("lectures:call_detail", args=[proposal.call_id]),
    )


@action_required("change", APP, subtree=True)
def proposal_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    proposal = selectors.topic_proposal_get(user=request.user, pk=pk)
    form = AssignForm(posted(request), user=request.user, call=proposal.call)
    return form_page(
        request,
        form,
        lambda: services.topic_assign(actor=request.user, proposal=proposal, **form.cleaned_data),
        message=lambda task: _("已点题“%(title)s”") % {"title": proposal.title},
        then=lambda task: reverse("lectures:call_detail", args=[proposal.call_id]),
        template="lectures/form.html",
        context={
            "title": _("点题：%(title)s") % {"title": proposal.title},
            "subtitle": _("指定承接的组织或讲师，对方将在“点题任务”中看到"),
            "back": reverse("lectures:call_detail", args=[proposal.call_id]),
        },
    )


@action_required("view", APP)
def task_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Assigned topics of the organisations in the user's scope (a lecturer: their own)."""
    user = request.user
    form = TaskFilterForm(request.GET or None, user=user)
    page = paginate(request, selectors.topic_task_list(user=user, filters=form.filters()))
    context = {"form": form, "page_obj": page, "is_manager": selectors.is_manager(user)}
    return render(request, "lectures/task_list.html", context)


@require_POST
@action_required("view", APP)
def task_decline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.topic_task_get(user=request.user, pk=pk)
    try:
        services.topic_task_decline(actor=request.user, task=task)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已退回点题任务“%(title)s”") % {"title": task.proposal.title})
    return redirect("lectures:my" if request.POST.get("next") == "my" else "lectures:task_list")


# --- the library ---------------------------------------------------------------------------------


@action_required("view", APP)
def library(request: AuthenticatedHttpRequest) -> HttpResponse:
    """播党课: what is showing for the member now, by series; for those who manage the library, the
    items their organisations published."""
    user = request.user
    member = member_of_user(user=user)
    manager = selectors.is_manager(user)
    context: dict[str, Any] = {
        "groups": selectors.library_showing(user=user, member=member) if member is not None else [],
        "member": member,
        "is_manager": manager,
        "can_add": selectors.is_manager(user, "add"),
    }
    if manager:
        context["page_obj"] = paginate(request, selectors.library_item_list(user=user))
    return render(request, "lectures/library.html", context)


@action_required("view", APP, subtree=True)
def series_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "page_obj": paginate(request, selectors.library_series_list(user=user)),
        "can_add": selectors.is_manager(user, "add"),
    }
    return render(request, "lectures/series_list.html", context)


@action_required("view", APP, subtree=True)
def series_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    series = selectors.library_series_get(user=user, pk=pk)
    context = {
        "series": series,
        "items": list(selectors.library_item_list(user=user, filters={"series": series.pk})),
        "can_change": can(user, "change", series.organization, app_label=APP),
    }
    return render(request, "lectures/series_detail.html", context)


@action_required("add", APP, subtree=True)
def series_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SeriesForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.library_series_create(actor=request.user, data=form.cleaned_data),
        message=lambda s: _("已建立系列“%(title)s”") % {"title": s.title},
        then=lambda s: reverse("lectures:series_detail", args=[s.pk]),
        template="lectures/form.html",
        context={"title": _("新建党课系列"), "back": reverse("lectures:series_list")},
    )


@action_required("change", APP, subtree=True)
def series_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    series = selectors.library_series_get(user=request.user, pk=pk, action="change")
    form = SeriesForm(posted(request), user=request.user, instance=series)
    return form_page(
        request,
        form,
        lambda: services.library_series_update(actor=request.user, series=series, data=form.cleaned_data),
        message=lambda s: _("已保存系列“%(title)s”") % {"title": s.title},
        then=lambda s: reverse("lectures:series_detail", args=[s.pk]),
        template="lectures/form.html",
        context={"title": _("编辑党课系列"), "back": reverse("lectures:series_detail", args=[series.pk])},
    )


@action_required("add", APP, subtree=True)
def library_publish(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Publish a lecture to the library (``?lecture=<id>`` starts from a recorded lecture)."""
    user = request.user
    lecture = None
    if request.GET.get("lecture"):
        lecture = selectors.lecture_get(user=user, pk=request.GET["lecture"])
    form = PublishForm(posted(request), request.FILES or None, user=user, lecture=lecture)
    return form_page(
        request,
        form,
        lambda: services.library_publish(actor=user, **form.service_kwargs()),
        message=lambda item: _("已发布到党课库：%(title)s") % {"title": item.resource.title},
        then=lambda item: reverse("lectures:library"),
        template="lectures/form.html",
        context={
            "title": _("发布到党课库"),
            "subtitle": _("发布后即为网上学习资源，党员学完计入网络学习学时"),
            "back": reverse("lectures:library"),
            "multipart": True,
        },
        field_map=PublishForm.FIELD_MAP,
    )


@action_required("change", APP, subtree=True)
def library_item_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = selectors.library_item_get(user=request.user, pk=pk, action="change")
    form = LibraryItemForm(posted(request), user=request.user, instance=item)
    return form_page(
        request,
        form,
        lambda: services.library_item_update(actor=request.user, item=item, data=form.item_data()),
        message=lambda saved: _("已保存“%(title)s”") % {"title": item.resource.title},
        then=lambda saved: reverse("lectures:library"),
        template="lectures/form.html",
        context={
            "title": _("编辑党课库条目：%(title)s") % {"title": item.resource.title},
            "back": reverse("lectures:library"),
        },
    )


@require_POST
@action_required("change", APP, subtree=True)
def library_item_toggle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Withdraw a published item, or publish a withdrawn one again."""
    item = selectors.library_item_get(user=request.user, pk=pk, action="change")
    if item.resource.is_published:
        services.library_item_withdraw(actor=request.user, item=item)
        messages.success(request, _("已下架“%(title)s”，已计入的学时不变") % {"title": item.resource.title})
    else:
        services.library_item_republish(actor=request.user, item=item)
        messages.success(request, _("已重新上架“%(title)s”") % {"title": item.resource.title})
    return redirect("lectures:library")

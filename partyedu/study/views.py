"""Study pages: activities (list, record on a phone, detail, edit, delete), the attendance screen,
QR check-in (the code on the secretary's phone or a projector, and the member's scan), study plans
with their coverage, training classes and their enrollees, teaching sites, education bases, the
cadence report and its rules, and printed materials. Views parse input, call one service or
selector and render; the create and edit pages share one shape (``core.views.form_page``)."""

from __future__ import annotations

import mimetypes
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest, Viewer
from partyedu.core import pinyin
from partyedu.core.forms import apply_validation_error
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, can_set_policy, has_action, require_policy, scope_for
from partyedu.core.views import (
    action_required,
    form_page,
    htmx_or_page,
    paginate,
    posted,
)
from partyedu.members.selectors import default_organization, member_list, member_of_user
from partyedu.organizations.models import Organization

from . import selectors, services
from .checkin import checkin_qr_svg, checkin_token, checkin_url, checkin_with_token, scan_time
from .choices import (
    ActivityType,
    AttendanceMethod,
    AttendanceStatus,
    CadenceLevel,
    CentralGroupRole,
    FileKind,
)
from .forms import (
    ActivityDeleteForm,
    ActivityFilterForm,
    ActivityForm,
    ActivityStatsForm,
    CadenceRuleForm,
    CentralGroupAddForm,
    CentralGroupMemberForm,
    DistributeForm,
    EducationBaseForm,
    MaterialForm,
    MemberPickForm,
    OrganizationPickForm,
    OrgYearForm,
    PlaceFilterForm,
    StudyPlanEditForm,
    StudyPlanFilterForm,
    StudyPlanForm,
    TeachingSiteForm,
    TrainingClassFilterForm,
    TrainingClassForm,
    posted_marks,
    roster_part_context,
)
from .models import Activity, ActivityFile

APP = "study"
# The four marks of the attendance screen (补学 is confirmed separately).
MARKS = (
    (AttendanceStatus.PRESENT, "success"),
    (AttendanceStatus.LATE, "warning"),
    (AttendanceStatus.LEAVE, "info"),
    (AttendanceStatus.ABSENT, "danger"),
)
# A member who scanned before signing in is checked in as of the scan if they sign in this soon.
SCAN_SESSION_KEY = "checkin_scan"
SCAN_GRACE = timedelta(minutes=10)
SVG_SIZE = re.compile(r'^<svg width="(\d+)" height="(\d+)"')
# At most this many members are listed for ticking; a larger organisation is narrowed first.
PICK_LIMIT = 300
# 我的活动: the activities still to come shown at once, and the held ones per page.
MY_UPCOMING_SHOWN = 20
MY_PAST_PER_PAGE = 20

T = TypeVar("T")


def _mark_changeable(user: Viewer, objects: Any) -> None:
    """Set ``can_change`` on each object of a list page (for its 编辑 button)."""
    scope = scope_for(user, "change", APP)
    for obj in objects:
        obj.can_change = scope.covers(obj.organization.path)


# --- activities ----------------------------------------------------------------------------------


@action_required("view", APP)
def activity_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = ActivityFilterForm(request.GET or None, user=user)
    page = paginate(request, selectors.activity_list(user=user, filters=form.filters()))
    counts = selectors.activity_attendance_counts(user=user, activity_ids=[a.pk for a in page])
    for activity in page:
        activity.counts = counts[activity.pk]
    context = {"form": form, "page_obj": page, "can_add": has_action(user, "add", APP)}
    return htmx_or_page(request, "study/_activity_table.html", "study/activity_list.html", context)


@action_required("view", APP)
def activity_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    activity = selectors.activity_get(user=user, pk=pk)
    counts = selectors.activity_attendance_counts(user=user, activity_ids=[activity.pk])[activity.pk]
    quorum = (
        selectors.activity_quorum(user=user, activity=activity)
        if activity.activity_type == ActivityType.BRANCH_ASSEMBLY
        else None
    )
    not_attended = list(
        selectors.attendance_list(user=user, activity=activity)
        .filter(status__in=[AttendanceStatus.LEAVE, AttendanceStatus.ABSENT, AttendanceStatus.MAKEUP])
        .values_list("member__name", "status")[:200]
    )
    by_status: dict[str, list[str]] = {}
    for name, status in not_attended:
        by_status.setdefault(str(AttendanceStatus(status).label), []).append(name)
    files = list(activity.files.all())
    context = {
        "activity": activity,
        "counts": counts,
        "quorum": quorum,
        "by_status": by_status,
        "photos": [f for f in files if f.kind == FileKind.PHOTO],
        "sheets": [f for f in files if f.kind == FileKind.SIGN_IN_SHEET],
        "can_change": can(user, "change", activity.organization, app_label=APP),
        "can_delete": can(user, "delete", activity.organization, app_label=APP),
        "credit_mode": selectors.activity_credit_modes(user=user, organization=activity.organization).get(
            activity.activity_type, "full"
        ),
        # Panels of the apps above (appraisal: the 民主评议 held at this meeting), within user's scope.
        "panels": [
            panel
            for found in hooks.call("study.activity_panels", user=user, activity=activity)
            for panel in found
        ],
    }
    return render(request, "study/activity_detail.html", context)


@transaction.atomic
def _save_activity(
    request: AuthenticatedHttpRequest, form: ActivityForm, activity: Activity | None
) -> Activity | None:
    """Record or update the activity with its images in one transaction; service errors go on
    the form."""
    data = form.service_data()
    try:
        with transaction.atomic():
            if activity is None:
                activity = services.activity_record(actor=request.user, data=data)
            else:
                activity = services.activity_update(actor=request.user, activity=activity, data=data)
            services.activity_files_update(
                actor=request.user,
                activity=activity,
                photos=form.cleaned_data.get("photos") or [],
                sign_in_sheet=form.cleaned_data.get("sign_in_sheet"),
                remove=form.cleaned_data.get("remove_files") or [],
            )
    except ValidationError as exc:
        apply_validation_error(form, exc, ActivityForm.FIELD_MAP)  # type: ignore[arg-type]
        return None
    return activity


@action_required("add", APP)
def activity_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ActivityForm(posted(request), request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        activity = _save_activity(request, form, None)
        if activity is not None:
            messages.success(request, _("已登记活动“%(topic)s”") % {"topic": activity.topic})
            return redirect("study:activity_detail", pk=activity.pk)
    return render(request, "study/activity_form.html", {"form": form, "activity": None})


@action_required("change", APP)
def activity_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, pk=pk, action="change")
    form = ActivityForm(posted(request), request.FILES or None, user=request.user, activity=activity)
    if request.method == "POST" and form.is_valid() and _save_activity(request, form, activity) is not None:
        messages.success(request, _("已保存"))
        return redirect("study:activity_detail", pk=activity.pk)
    return render(request, "study/activity_form.html", {"form": form, "activity": activity})


@action_required("delete", APP)
def activity_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, pk=pk, action="delete")
    form = ActivityDeleteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        topic = activity.topic
        services.activity_delete(actor=request.user, activity=activity)
        messages.success(request, _("已删除活动“%(topic)s”") % {"topic": topic})
        return redirect("study:activity_list")
    counts = selectors.activity_attendance_counts(user=request.user, activity_ids=[activity.pk])[activity.pk]
    return render(
        request, "study/activity_delete.html", {"activity": activity, "form": form, "counts": counts}
    )


@never_cache
@action_required("view", APP)
def activity_file(request: AuthenticatedHttpRequest, pk: int, file_pk: int) -> FileResponse:
    """A photo or sign-in sheet, to those who may see the activity."""
    activity = selectors.activity_get(user=request.user, pk=pk)
    item = ActivityFile.objects.filter(activity=activity, pk=file_pk).first()
    if item is None or not item.file:
        raise Http404(_("图片不存在"))
    content_type = mimetypes.guess_type(item.file.name)[0] or "application/octet-stream"
    response = FileResponse(item.file.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- attendance ----------------------------------------------------------------------------------


@action_required("change", APP)
def attendance(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The whole roster on one screen, a four-way mark per member, one submit. Submitting twice
    changes nothing the second time (the service is idempotent)."""
    user = request.user
    activity = selectors.activity_get(user=user, pk=pk, action="change")
    errors: list[str] = []
    if request.method == "POST":
        try:
            result = services.attendance_mark(
                actor=user,
                activity=activity,
                records=posted_marks(request.POST),
                method=AttendanceMethod.ROSTER,
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            if result.changed:
                messages.success(request, _("已保存出勤：%(n)d人有变动") % {"n": len(result.changed)})
            else:
                messages.info(request, _("出勤情况没有变化"))
            return redirect("study:activity_detail", pk=activity.pk)
    rows = list(selectors.attendance_list(user=user, activity=activity, action="change"))
    # Names in pinyin order, as on a paper sign-in sheet; the filter box matches search_text.
    rows.sort(key=lambda r: (r.is_invitee, pinyin.sort_key(r.member.name)))
    chosen = posted_marks(request.POST) if request.method == "POST" else []
    picked = {str(r["member"]): r["status"] for r in chosen}
    for row in rows:
        setattr(row, "choice", picked.get(str(row.member_id), row.status))  # noqa: B010
        setattr(row, "search_text", _search_text(row.member))  # noqa: B010
    counts = selectors.activity_attendance_counts(user=user, activity_ids=[activity.pk])[activity.pk]
    context = {
        "activity": activity,
        "roster": [r for r in rows if not r.is_invitee],
        "invitees": [r for r in rows if r.is_invitee],
        "rows": rows,
        "counts": counts,
        "marks": [(status.value, status.label, color) for status, color in MARKS],
        "errors": errors,
    }
    return render(request, "study/attendance.html", context, status=400 if errors else 200)


@require_POST
@action_required("change", APP)
def attendance_makeup(request: AuthenticatedHttpRequest, pk: int, attendance_pk: int) -> HttpResponse:
    """Confirm a reported 补学, or record (and so confirm) 补学 for an absent member."""
    user = request.user
    activity = selectors.activity_get(user=user, pk=pk, action="change")
    row = selectors.attendance_get(user=user, activity=activity, pk=attendance_pk, action="change")
    try:
        services.attendance_makeup_settle(actor=user, attendance=row)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已确认%(name)s补学，学时已计入") % {"name": row.member.name})
    return redirect(reverse("study:attendance", args=[activity.pk]) + f"#row-{row.member_id}")


def _search_text(member: Any) -> str:
    """What the name filter of the attendance and QR pages matches: the name, its pinyin and
    initials (``core.pinyin.search_text``) and the stored initials of every reading."""
    return f"{member.name} {pinyin.search_text(member.name)}{member.name_initials}".lower()


# --- QR check-in ---------------------------------------------------------------------------------


def _scalable(svg: str) -> str:
    """The QR code's SVG with a viewBox, so that CSS can size it to the screen or projector."""
    return SVG_SIZE.sub(r'<svg viewBox="0 0 \1 \2" width="\1" height="\2"', svg, count=1)


@never_cache
@action_required("change", APP)
def activity_qr(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The rotating check-in code, big enough for a projector, refreshed every 25 seconds by
    HTMX with the number of members checked in so far."""
    user = request.user
    activity = selectors.activity_get(user=user, pk=pk, action="change")
    token, expires_in = checkin_token(activity)
    url = request.build_absolute_uri(checkin_url(token))
    opens, closes = services.checkin_window(activity)
    now = timezone.now()
    counts = selectors.activity_attendance_counts(user=user, activity_ids=[activity.pk])[activity.pk]
    # Only scans are shown as check-ins: a member marked present by hand has not scanned.
    board = selectors.activity_checkin_board(user=user, activity=activity)
    context = {
        "activity": activity,
        "svg": _scalable(checkin_qr_svg(url, scale=10)),
        "url": url,
        "expires_in": expires_in,
        "counts": counts,
        "board": board,
        "arrived": [(m.name, _search_text(m)) for m in board.scanned],
        "opens": opens,
        "opens_today": timezone.localdate(opens) == timezone.localdate(now),
        "closes": closes,
        "not_open": now < opens,
        "closed": now > closes,
    }
    return htmx_or_page(request, "study/_qr_live.html", "study/qr.html", context)


@never_cache
def checkin(request: HttpRequest) -> HttpResponse:
    """Where a member's phone lands after scanning: checks the member in and says so in big
    letters. A member not yet signed in is sent to sign in and brought back; the scan time is
    kept in the session, so the time it takes to type a password does not expire the code."""
    received = scan_time(request)
    token = (request.GET.get("t") or "").strip()
    if not request.user.is_authenticated:
        if token:
            request.session[SCAN_SESSION_KEY] = {"t": token, "at": received.isoformat()}
        return redirect_to_login(request.get_full_path())
    if not token:
        return redirect("study:scan")
    at = received
    scan = request.session.pop(SCAN_SESSION_KEY, None)
    if isinstance(scan, dict) and scan.get("t") == token:
        try:
            scanned = datetime.fromisoformat(scan["at"])
        except (TypeError, ValueError):
            scanned = None
        if scanned is not None and timedelta(0) <= timezone.now() - scanned <= SCAN_GRACE:
            at = scanned
    try:
        row = checkin_with_token(user=request.user, token=token, at=at)
    except ValidationError as exc:
        context = {"ok": False, "message": "；".join(exc.messages)}
        return render(request, "study/checkin_result.html", context, status=400)
    activity = row.activity
    context = {"ok": True, "row": row, "activity": activity, "late": row.status == AttendanceStatus.LATE}
    return render(request, "study/checkin_result.html", context)


@login_required
def scan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """扫码签到: how to scan, and the member's own recent activities with their marks."""
    member = member_of_user(user=request.user)
    recent = list(selectors.my_attendance_list(user=request.user)[:10]) if member is not None else []
    return render(request, "study/scan.html", {"member": member, "recent": recent})


# --- activity statistics -------------------------------------------------------------------------


@action_required("view", APP)
def stats(request: AuthenticatedHttpRequest) -> HttpResponse:
    """活动统计: the activities of an organisation's subtree in a year, by teaching format and by
    type, each line linking to the activities it counts."""
    form = ActivityStatsForm(request.GET or None, user=request.user)
    org, year = form.values()
    filters = form.filters()
    context: dict[str, Any] = {"form": form, "org": org, "year": year, "filters": filters}
    if org is not None:
        context["stats"] = selectors.activity_stats(
            user=request.user, organization=org, year=year, filters=filters
        )
    return render(request, "study/stats.html", context)


# --- a member's own activities (我的活动) ----------------------------------------------------------


def _own_member(request: AuthenticatedHttpRequest) -> Any:
    """The member record of the signed-in user; a user who is no member has no 我的活动 (403)."""
    member = member_of_user(user=request.user)
    if member is None:
        raise PermissionDenied(_("您的账号还没有关联党员信息，请联系支部书记"))
    return member


@login_required
def my_activities(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的活动: the activities I am expected at, still to come (is check-in open?) and already
    held (my mark and the hours it credited, with 补学 where I may still report it)."""
    user = request.user
    member = member_of_user(user=user)
    if member is None:
        # Said plainly (the account is not linked to a member record), not the generic 403 page.
        return render(request, "study/my_no_member.html", status=403)
    upcoming = list(selectors.my_activities_upcoming(user=user)[:MY_UPCOMING_SHOWN])
    page = paginate(request, selectors.my_activities_past(user=user), per_page=MY_PAST_PER_PAGE)
    hours = selectors.my_attendance_hours(user=user, attendance_ids=[row.pk for row in page])
    for row in page:
        row.hours = hours.get(row.pk, Decimal("0"))
    context = {
        "member": member,
        "upcoming": upcoming,
        "page_obj": page,
        "now": timezone.now(),
        "makeup_statuses": (AttendanceStatus.ABSENT, AttendanceStatus.LEAVE),
    }
    return render(request, "study/my_activities.html", context)


@require_POST
@login_required
def my_makeup(request: AuthenticatedHttpRequest, attendance_pk: int) -> HttpResponse:
    """A member reports 补学 of an activity they missed; it credits hours once the secretary
    confirms it (``attendance_makeup_request``)."""
    _own_member(request)
    row = selectors.my_attendance_get(user=request.user, pk=attendance_pk)
    try:
        services.attendance_makeup_request(actor=request.user, attendance=row)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已登记补学，支部书记确认后计入学时"))
    return redirect(reverse("study:my_activities") + "#past")


# --- study plans ---------------------------------------------------------------------------------


@action_required("view", APP)
def plan_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StudyPlanFilterForm(request.GET or None)
    page = paginate(request, selectors.study_plan_list(user=request.user, filters=form.filters()))
    context = {"form": form, "page_obj": page, "can_add": has_action(request.user, "add", APP)}
    return render(request, "study/plan_list.html", context)


@action_required("view", APP)
def plan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = selectors.study_plan_get(user=request.user, pk=pk)
    coverage = selectors.plan_coverage_summary(plan, request.user)
    missing_only = request.GET.get("missing") == "1"
    page = paginate(
        request,
        selectors.plan_branches(user=request.user, summary=coverage, incomplete_only=missing_only),
        count=coverage.incomplete_count if missing_only else coverage.branch_count,
    )
    marks = selectors.plan_branch_marks(user=request.user, summary=coverage, branches=list(page))
    page.object_list = [{"branch": branch, "marks": marks[branch.pk]} for branch in page]
    context = {
        "plan": plan,
        "coverage": coverage,
        "page_obj": page,
        "missing_only": missing_only,
        "can_change": can(request.user, "change", plan.organization, app_label=APP),
    }
    return render(request, "study/plan_detail.html", context)


@action_required("add", APP)
def plan_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StudyPlanForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.study_plan_issue(actor=request.user, data=form.cleaned_data),
        message=lambda plan: _("已下发学习计划“%(title)s”") % {"title": plan.title},
        then=lambda plan: reverse("study:plan_detail", args=[plan.pk]),
        template="study/plan_form.html",
    )


@action_required("change", APP)
def plan_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = selectors.study_plan_get(user=request.user, pk=pk, action="change")
    form = StudyPlanEditForm(posted(request), user=request.user, instance=plan)
    return form_page(
        request,
        form,
        lambda: services.study_plan_update(actor=request.user, plan=plan, data=form.service_data()),
        message=lambda saved: _("已保存学习计划“%(title)s”") % {"title": saved.title},
        then=lambda saved: reverse("study:plan_detail", args=[saved.pk]),
        template="study/plan_form.html",
        context={"plan": plan},
    )


# --- training classes ----------------------------------------------------------------------------


@action_required("view", APP)
def class_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TrainingClassFilterForm(request.GET or None, user=request.user)
    page = paginate(request, selectors.training_class_list(user=request.user, filters=form.filters()))
    context = {"form": form, "page_obj": page, "can_add": has_action(request.user, "add", APP)}
    return render(request, "study/class_list.html", context)


@action_required("view", APP)
def class_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    tc = selectors.training_class_get(user=user, pk=pk)
    sessions = list(selectors.training_class_sessions(user=user, training_class=tc))
    counts = selectors.activity_attendance_counts(user=user, activity_ids=[s.pk for s in sessions])
    for session in sessions:
        setattr(session, "counts", counts[session.pk])  # noqa: B010
    completion = selectors.class_completion(user=user, training_class=tc)
    context = {
        "tc": tc,
        "sessions": sessions,
        "completion": completion,
        "completed": sum(1 for row in completion if row.completed),
        "percent": round(tc.completion_ratio * 100),
        "now": timezone.now(),
        "can_change": can(user, "change", tc.organization, app_label=APP),
        "can_add": can(user, "add", tc.organization, app_label=APP),
    }
    return render(request, "study/class_detail.html", context)


@action_required("add", APP)
def class_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TrainingClassForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.training_class_create(actor=request.user, data=form.service_data()),
        message=lambda tc: _("已开设培训班“%(name)s”，请添加学员") % {"name": tc.name},
        then=lambda tc: reverse("study:class_enroll", args=[tc.pk]),
        template="study/class_form.html",
        field_map=TrainingClassForm.FIELD_MAP,
    )


@action_required("change", APP)
def class_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    tc = selectors.training_class_get(user=request.user, pk=pk, action="change")
    form = TrainingClassForm(posted(request), user=request.user, instance=tc)
    return form_page(
        request,
        form,
        lambda: services.training_class_update(
            actor=request.user, training_class=tc, data=form.service_data()
        ),
        message=lambda saved: _("已保存培训班“%(name)s”") % {"name": saved.name},
        then=lambda saved: reverse("study:class_detail", args=[saved.pk]),
        template="study/class_form.html",
        context={"tc": tc},
        field_map=TrainingClassForm.FIELD_MAP,
    )


@require_POST
@action_required("change", APP)
def class_unenroll(request: AuthenticatedHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Withdraw one enrollee (the page asks to confirm first). Sessions already held keep their
    attendance and the hours it earned."""
    tc = selectors.training_class_get(user=request.user, pk=pk, action="change")
    enrollment = (
        selectors.training_class_enrollments(user=request.user, training_class=tc)
        .filter(member_id=member_pk)
        .first()
    )
    if enrollment is None:
        raise Http404(_("该党员不是本班学员"))
    services.training_class_unenroll(actor=request.user, training_class=tc, members=[enrollment.member_id])
    messages.success(
        request,
        _("%(name)s已退出培训班；已参加课次的出勤和学时保留，之后的课次不再列入应到名单")
        % {"name": enrollment.member.name},
    )
    return redirect("study:class_detail", pk=tc.pk)


def _pick_choices(
    request: HttpRequest,
    *,
    action: str,
    within: Organization | None = None,
    default: Organization | None = None,
) -> tuple[OrganizationPickForm, Organization | None, list[Any], bool]:
    """The organisation picked for ticking members (``?organization=``), and its members (at most
    ``PICK_LIMIT``; the flag says whether there were more)."""
    pick = OrganizationPickForm(request.GET or None, user=request.user, action=action)
    org = pick.picked() if request.GET.get("organization") or request.GET.get("organization__q") else None
    if org is None and not pick.errors:
        org = default
        pick.fields["organization"].initial = default
    if org is None:
        return pick, None, [], False
    qs = member_list(user=request.user, filters={"organization": org})
    if within is not None:
        qs = qs.filter(within.subtree_q("org_path"))
    members = list(qs[: PICK_LIMIT + 1])
    return pick, org, members[:PICK_LIMIT], len(members) > PICK_LIMIT


@action_required("change", APP)
def class_enroll(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    tc = selectors.training_class_get(user=user, pk=pk, action="change")
    pick, org, members, more = _pick_choices(
        request, action="view", default=default_organization(user, "change", APP)
    )
    enrolled = set(tc.enrollments.values_list("member_id", flat=True))
    form = MemberPickForm(posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.training_class_enroll(
                actor=user, training_class=tc, members=form.cleaned_data["member_ids"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"members": "names"})
        else:
            messages.success(request, _("已报名%(n)d人") % {"n": len(new)})
            return redirect("study:class_detail", pk=tc.pk)
    context = {
        "tc": tc,
        "pick": pick,
        "org": org,
        "members": members,
        "more": more,
        "done_ids": enrolled,
        "done_label": _("已报名"),
        "form": form,
        "enrolled_count": len(enrolled),
    }
    return render(request, "study/class_enroll.html", context)


@action_required("add", APP)
def class_session_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    tc = selectors.training_class_get(user=request.user, pk=pk, action="add")
    form = ActivityForm(
        posted(request),
        request.FILES or None,
        user=request.user,
        organization=tc.organization,
        training_class=tc,
        initial={"topic": ""},
    )
    if request.method == "POST" and form.is_valid():
        activity = _save_activity(request, form, None)
        if activity is not None:
            messages.success(request, _("已添加课次“%(topic)s”") % {"topic": activity.topic})
            return redirect("study:activity_detail", pk=activity.pk)
    return render(request, "study/activity_form.html", {"form": form, "activity": None, "tc": tc})


# --- teaching sites and education bases ----------------------------------------------------------


@action_required("view", APP)
def site_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PlaceFilterForm(request.GET or None, user=request.user)
    page = paginate(request, selectors.teaching_site_list(user=request.user, filters=form.filters()))
    _mark_changeable(request.user, page)
    context = {"form": form, "page_obj": page, "can_add": has_action(request.user, "add", APP)}
    return render(request, "study/site_list.html", context)


@action_required("add", APP)
def site_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TeachingSiteForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.teaching_site_create(actor=request.user, data=form.cleaned_data),
        message=lambda site: _("已登记教学点“%(name)s”") % {"name": site.name},
        then=lambda site: reverse("study:site_list"),
        template="study/place_form.html",
        context={"title": _("登记教学点"), "back": reverse("study:site_list")},
    )


@action_required("change", APP)
def site_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    site = selectors.teaching_site_get(user=request.user, pk=pk, action="change")
    form = TeachingSiteForm(posted(request), user=request.user, instance=site)
    return form_page(
        request,
        form,
        lambda: services.teaching_site_update(actor=request.user, site=site, data=form.cleaned_data),
        message=lambda saved: _("已保存教学点“%(name)s”") % {"name": saved.name},
        then=lambda saved: reverse("study:site_list"),
        template="study/place_form.html",
        context={
            "title": _("编辑教学点"),
            "back": reverse("study:site_list"),
            "organization": site.organization,
        },
    )


@action_required("view", APP)
def base_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PlaceFilterForm(request.GET or None, user=request.user)
    page = paginate(request, selectors.education_base_list(user=request.user, filters=form.filters()))
    context = {"form": form, "page_obj": page, "can_add": has_action(request.user, "add", APP)}
    return render(request, "study/base_list.html", context)


@action_required("view", APP)
def base_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    base = selectors.education_base_get(user=request.user, pk=pk)
    page = paginate(request, selectors.education_base_visits(user=request.user, base=base))
    counts = selectors.activity_attendance_counts(user=request.user, activity_ids=[a.pk for a in page])
    for activity in page:
        activity.counts = counts[activity.pk]
    context = {
        "base": base,
        "page_obj": page,
        "can_change": can(request.user, "change", base.organization, app_label=APP),
    }
    return render(request, "study/base_detail.html", context)


@action_required("add", APP)
def base_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EducationBaseForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.education_base_create(actor=request.user, data=form.cleaned_data),
        message=lambda base: _("已登记教育基地“%(name)s”") % {"name": base.name},
        then=lambda base: reverse("study:base_detail", args=[base.pk]),
        template="study/place_form.html",
        context={"title": _("登记教育基地"), "back": reverse("study:base_list")},
    )


@action_required("change", APP)
def base_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    base = selectors.education_base_get(user=request.user, pk=pk, action="change")
    form = EducationBaseForm(posted(request), user=request.user, instance=base)
    return form_page(
        request,
        form,
        lambda: services.education_base_update(actor=request.user, base=base, data=form.cleaned_data),
        message=lambda saved: _("已保存教育基地“%(name)s”") % {"name": saved.name},
        then=lambda saved: reverse("study:base_detail", args=[saved.pk]),
        template="study/place_form.html",
        context={
            "title": _("编辑教育基地"),
            "back": reverse("study:base_detail", args=[base.pk]),
            "organization": base.organization,
        },
    )


# --- cadence -------------------------------------------------------------------------------------


@action_required("view", APP)
def cadence(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Whether the chosen organisation and each organisation below it held their required
    organisational life in every period of the year: the organisation's own requirements period
    by period, then one tab per kind of organisation below (党委（党组、党工委）, 党支部, 党小组)."""
    user = request.user
    form = OrgYearForm(request.GET or None, user=user)
    org, year = form.values()
    missing_only = request.GET.get("missing") == "1"
    context: dict[str, Any] = {"form": form, "org": org, "year": year, "missing_only": missing_only}
    if org is not None:
        # Counted in SQL for the whole subtree; rows are built only for the organisation itself
        # and the page shown.
        summary = selectors.cadence_summary(user=user, organization=org, year=year)
        codes = [figures.kind for figures in summary.kinds]
        kind = request.GET.get("kind")
        if kind not in codes:
            kind = CadenceLevel.BRANCH if CadenceLevel.BRANCH in codes else next(iter(codes), None)
        wanted: dict[int, Organization] = {}
        if any(org.level in levels for levels in selectors.CADENCE_ORG_LEVELS.values()):
            wanted[org.pk] = org
        context.update(summary=summary, kinds=summary.kinds, kind=kind)
        if kind is not None:
            figures = summary.figures[kind]
            page = paginate(
                request,
                summary.organizations(kind, missing_only=missing_only),
                count=figures.noncompliant if missing_only else figures.total,
            )
            wanted.update((o.pk, o) for o in page)
            context.update(page_obj=page, figures=figures)
        rows = {
            row.organization.pk: row
            for row in selectors.cadence_rows(user=user, summary=summary, organizations=list(wanted.values()))
        }
        context["own"] = rows.get(org.pk)
        if kind is not None:
            page.object_list = [
                {
                    "row": rows[o.pk],
                    "cells": [
                        (label, rows[o.pk].item(code), code in rows[o.pk].exempt)
                        for code, label in figures.columns
                    ],
                }
                for o in page
                if o.pk in rows
            ]
    return render(request, "study/cadence.html", context)


def _requirement(rule: Any) -> selectors.CadenceRequirement:
    return selectors.CadenceRequirement(rule.applies_to, rule.activity_type, rule.period, rule.min_count)


@action_required("view", APP)
def cadence_rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The cadence rules that apply in the user's scope: those set within it (changed here by
    those who may) and those set above it, with the defaults they override."""
    user = request.user
    page = paginate(request, selectors.cadence_rule_list(user=user))
    _mark_changeable(user, page)
    for rule in page:
        rule.can_change = rule.can_change and can_set_policy(user, rule.organization)
    above = list(selectors.cadence_rules_above(user=user))
    for rule in [*page, *above]:
        rule.requirement = _requirement(rule)
    defaults: dict[str, list[selectors.CadenceRequirement]] = {}
    for requirement in selectors.DEFAULT_CADENCE.values():
        defaults.setdefault(requirement.kind_label, []).append(requirement)
    context = {
        "page_obj": page,
        "above": above,
        "defaults": list(defaults.items()),
        "can_set": has_action(user, "change", APP) and can_set_policy(user),
    }
    return render(request, "study/cadence_rules.html", context)


def _rule_summary(rule: Any) -> str:
    requirement = _requirement(rule)
    values = {
        "org": rule.organization.name,
        "kind": requirement.kind_label,
        "type": requirement.label,
        "period": requirement.period_name,
        "n": rule.min_count,
    }
    if not rule.min_count:
        return _("%(org)s及下级组织的%(kind)s不要求开展%(type)s") % values
    return _("%(org)s及下级组织的每个%(kind)s%(period)s至少开展%(type)s%(n)d次") % values


@action_required("change", APP)
def cadence_rule_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set (create or replace) the rule of one organisation, kind of organisation and activity
    type; ``?rule=`` starts the form with an existing rule's values."""
    user = request.user
    require_policy(user, None, _("组织生活频次规定由组织部门（组织部/工委管理员）设置"))
    initial: dict[str, Any] = {}
    if request.GET.get("rule"):
        rule = selectors.cadence_rule_get(user=user, pk=request.GET["rule"], action="change")
        initial = {
            "organization": rule.organization,
            "applies_to": rule.applies_to,
            "activity_type": rule.activity_type,
            "period": rule.period,
            "min_count": rule.min_count,
        }
    form = CadenceRuleForm(posted(request), user=user, initial=initial)
    return form_page(
        request,
        form,
        lambda: services.cadence_rule_set(actor=user, **form.cleaned_data),
        message=lambda saved: _("已设置：%(rule)s") % {"rule": _rule_summary(saved)},
        then=lambda saved: reverse("study:cadence_rules"),
        template="study/cadence_rule_form.html",
    )


@require_POST
@action_required("change", APP)
def cadence_rule_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Remove a rule (the page asks to confirm first); the rule above, or the default, applies
    again."""
    require_policy(request.user, None, _("组织生活频次规定由组织部门（组织部/工委管理员）设置"))
    rule = selectors.cadence_rule_get(user=request.user, pk=pk, action="change")
    services.cadence_rule_delete(actor=request.user, rule=rule)
    messages.success(
        request,
        _("已删除%(org)s关于%(kind)s“%(type)s”的频次规定，改按上级规定或默认要求")
        % {
            "org": rule.organization.name,
            "kind": rule.get_applies_to_display(),
            "type": _requirement(rule).label,
        },
    )
    return redirect("study:cadence_rules")


# --- printed materials ---------------------------------------------------------------------------


@action_required("view", APP)
def material_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StudyPlanFilterForm(request.GET or None)
    filters = form.filters()
    filters.pop("kind", None)
    page = paginate(request, selectors.material_list(user=request.user, filters=filters))
    context = {"form": form, "page_obj": page, "can_add": has_action(request.user, "add", APP)}
    return render(request, "study/material_list.html", context)


@action_required("view", APP)
def material_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    material = selectors.material_get(user=user, pk=pk)
    pick = OrganizationPickForm(request.GET or None, user=user, label=_("查看哪个组织（含下级）"))
    org = pick.picked()
    if org is None and not pick.errors:
        if can(user, "view", material.organization, app_label=APP):
            org = material.organization
        else:
            org = default_organization(user, "view", APP)
        pick.fields["organization"].initial = org
    coverage = selectors.material_coverage(user=user, material=material, organization=org) if org else None
    context = {
        "material": material,
        "pick": pick,
        "org": org,
        "coverage": coverage,
        "can_distribute": has_action(user, "add", APP),
        "can_change": can(user, "change", material.organization, app_label=APP),
    }
    return render(request, "study/material_detail.html", context)


@action_required("add", APP)
def material_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = MaterialForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        lambda: services.material_create(actor=request.user, data=form.cleaned_data),
        message=lambda material: _("已登记学习材料“%(title)s”") % {"title": material.title},
        then=lambda material: reverse("study:material_distribute", args=[material.pk]),
        template="study/material_form.html",
    )


@action_required("change", APP)
def material_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    material = selectors.material_get(user=request.user, pk=pk, action="change")
    form = MaterialForm(posted(request), user=request.user, instance=material)
    return form_page(
        request,
        form,
        lambda: services.material_update(actor=request.user, material=material, data=form.cleaned_data),
        message=lambda saved: _("已保存学习材料“%(title)s”") % {"title": saved.title},
        then=lambda saved: reverse("study:material_detail", args=[saved.pk]),
        template="study/material_form.html",
        context={"material": material},
    )


@action_required("add", APP)
def material_distribute(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Tick the members of a branch who received a copy (全选 for all)."""
    user = request.user
    material = selectors.material_get(user=user, pk=pk)
    default = default_organization(user, "add", APP)
    if default is not None and not default.path.startswith(material.organization.path):
        default = None
    pick, org, members, more = _pick_choices(
        request, action="add", within=material.organization, default=default
    )
    handed = set(
        material.distributions.filter(member_id__in=[m.pk for m in members]).values_list(
            "member_id", flat=True
        )
    )
    form = DistributeForm(posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.material_distribute(
                actor=user,
                material=material,
                members=form.cleaned_data["member_ids"],
                distributed_on=form.cleaned_data["distributed_on"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"members": "names"})
        else:
            messages.success(request, _("已登记发放%(n)d份") % {"n": len(new)})
            url = reverse("study:material_detail", args=[material.pk])
            return redirect(f"{url}?organization={org.pk}" if org else url)
    context = {
        "material": material,
        "pick": pick,
        "org": org,
        "members": members,
        "more": more,
        "done_ids": handed,
        "done_label": _("已发放"),
        "form": form,
    }
    return render(request, "study/material_distribute.html", context)


# --- default rosters and 中心组 lists --------------------------------------------------------------


@action_required("add", APP)
def activity_roster_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The roster part of the record page (the default roster and the 列席 it offers), redrawn
    when the type or organisation changes (HTMX). ``?organization=&activity_type=``."""
    user = request.user
    activity_type = request.GET.get("activity_type", "")
    if activity_type not in ActivityType.values:
        raise Http404(_("活动类型不存在"))
    preview = None
    if request.GET.get("organization"):
        org = selectors.study_filter_organization(user=user, org_id=request.GET["organization"], action="add")
        if org is None:
            raise Http404(_("组织不存在"))
        preview = selectors.activity_roster_preview(user=user, organization=org, activity_type=activity_type)
    return render(request, "study/_roster_default.html", {"part": roster_part_context(user, preview)})


@action_required("view", APP)
def central_group_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The 党委, 党组 and 党工委 in scope, with how many are on each 中心组 list."""
    user = request.user
    q = request.GET.get("q", "").strip()
    page = paginate(request, selectors.central_group_organizations(user=user, filters={"q": q}))
    scope = scope_for(user, "change", APP)
    changeable = {org.pk for org in page if scope.covers(org.path)}
    context = {"page_obj": page, "q": q, "changeable": changeable}
    return render(request, "study/central_group_index.html", context)


@action_required("view", APP)
def central_group_detail(request: AuthenticatedHttpRequest, org_pk: int) -> HttpResponse:
    """One organisation's 中心组 list: 组长, 副组长, 成员, 列席."""
    user = request.user
    org = selectors.central_group_organization_get(user=user, pk=org_pk)
    rows = list(selectors.central_group_list(user=user, organization=org))
    # No longer expected at 中心组学习: off the roll, or moved out of the organisation's subtree.
    outside = {r.pk for r in rows if not r.member.is_active or not r.member.org_path.startswith(org.path)}
    context = {
        "org": org,
        "rows": rows,
        "outside": outside,
        "listed": sum(1 for r in rows if r.pk not in outside and r.role != CentralGroupRole.ATTENDEE),
        "can_change": can(user, "change", org, app_label=APP),
    }
    return render(request, "study/central_group_detail.html", context)


@action_required("change", APP)
def central_group_add(request: AuthenticatedHttpRequest, org_pk: int) -> HttpResponse:
    """Tick members of the organisation's subtree (or type names) and put them on its 中心组 list
    with one role."""
    user = request.user
    org = selectors.central_group_organization_get(user=user, pk=org_pk, action="change")
    pick, picked, members, more = _pick_choices(request, action="view", within=org, default=org)
    listed = set(
        selectors.central_group_list(user=user, organization=org).values_list("member_id", flat=True)
    )
    form = CentralGroupAddForm(posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.central_group_add(
                actor=user,
                organization=org,
                members=data["member_ids"],
                role=data["role"],
                since=data.get("since"),
                note=data.get("note", ""),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"members": "names"})
        else:
            kept = len(data["member_ids"]) - len(new)
            message = _("已将%(n)d人加入中心组成员名单") % {"n": len(new)}
            if kept:
                message += _("（%(n)d人已在名单中，未改动）") % {"n": kept}
            messages.success(request, message)
            return redirect("study:central_group_detail", org_pk=org.pk)
    context = {
        "group_org": org,
        "pick": pick,
        "org": picked,  # whose members are listed for ticking (``_member_pick.html``)
        "members": members,
        "more": more,
        "done_ids": listed,
        "done_label": _("已在名单中"),
        "form": form,
        "pick_extra": [form["role"], form["since"], form["note"]],
    }
    return render(request, "study/central_group_add.html", context)


@action_required("change", APP)
def central_group_edit(request: AuthenticatedHttpRequest, org_pk: int, pk: int) -> HttpResponse:
    user = request.user
    org = selectors.central_group_organization_get(user=user, pk=org_pk, action="change")
    membership = selectors.central_group_membership_get(user=user, organization=org, pk=pk, action="change")
    form = CentralGroupMemberForm(
        posted(request),
        initial={"role": membership.role, "since": membership.since, "note": membership.note},
    )
    back = reverse("study:central_group_detail", args=[org.pk])
    return form_page(
        request,
        form,
        lambda: services.central_group_update(actor=user, membership=membership, data=form.cleaned_data),
        message=lambda saved: _("已保存%(name)s的中心组信息") % {"name": saved.member.name},
        then=lambda saved: back,
        template="study/central_group_form.html",
        context={"org": org, "membership": membership, "back": back},
    )


@require_POST
@action_required("change", APP)
def central_group_remove(request: AuthenticatedHttpRequest, org_pk: int, pk: int) -> HttpResponse:
    """Take a member off the list (the page asks to confirm first); activities already recorded
    keep their roster."""
    user = request.user
    org = selectors.central_group_organization_get(user=user, pk=org_pk, action="change")
    membership = selectors.central_group_membership_get(user=user, organization=org, pk=pk, action="change")
    name = membership.member.name
    services.central_group_remove(actor=user, membership=membership)
    messages.success(request, _("已将%(name)s移出中心组成员名单") % {"name": name})
    return redirect("study:central_group_detail", org_pk=org.pk)

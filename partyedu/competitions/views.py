"""Competition pages (评选): the organiser's competitions, rounds, panels, assignment, results,
advancement and awards; the reviewer's assignments and scoring on a phone; a member's
self-nomination and entries; certificates as PDF; and the public verification page. Views parse
input, call one service or selector and render; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest, Viewer
from partyedu.core.forms import apply_validation_error
from partyedu.core.ranged_files import ranged_file_response
from partyedu.core.scope import can, has_action, scope_for
from partyedu.core.views import action_required, paginate, posted, xlsx_response
from partyedu.lectures import selectors as lecture_selectors
from partyedu.members.models import Member
from partyedu.members.selectors import member_list, member_of_user
from partyedu.organizations.models import Organization

from . import selectors, services
from .certificates import certificate_pdf
from .choices import Aggregation, CompetitionStatus, ConflictRule, RoundStatus
from .filtersets import CompetitionFilterSet
from .forms import (
    AGGREGATION_HELP,
    AwardGrantForm,
    AwardPlanForm,
    AwardPublishForm,
    CompetitionForm,
    ConflictRuleForm,
    EntryForm,
    FinishForm,
    MemberSourceForm,
    PanelForm,
    ReassignForm,
    ReviewForm,
    RevokeForm,
    RoundForm,
    VerifyForm,
    WithdrawForm,
)
from .models import Competition, Entry, Round

APP = "competitions"
# At most this many members are listed for picking a lecturer; a larger organisation is narrowed.
PICK_LIMIT = 300
# The grant page lists, per award category, the entries awarded and this many more below them.
GRANT_PREVIEW_ROWS = 5


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _error_messages(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _member_or_403(user: Viewer, message: str) -> Member:
    """The member record of the signed-in user, else 403 with ``message``. Self-nomination and
    我的参赛作品 are a member's own; the entry pages are reached both by those who run competitions
    and by lecturers for their own entries, and anyone else is refused outright (403), so that
    only rows are a matter of 404."""
    member = member_of_user(user=user)
    if member is None:
        raise PermissionDenied(message)
    return member


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The menu's entry: organisers see their competitions, reviewers their assignments,
    members their entries."""
    user = request.user
    scope = scope_for(user, "view", APP)
    if scope.paths:
        return redirect("competitions:competition_list")
    if scope.assigned:
        return redirect("competitions:my_reviews")
    if member_of_user(user=user) is not None:
        return redirect("competitions:my_entries")
    raise PermissionDenied(_("您没有执行此操作的权限"))


# --- competitions --------------------------------------------------------------------------------


@action_required("view", APP)
def competition_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    filterset = CompetitionFilterSet(request.GET or None, queryset=selectors.competition_list(user=user))
    page = paginate(request, filterset.qs)
    viewed = scope_for(user, "view", APP)
    # Competitions held above the user's organisations that they may enter lectures into.
    accepting = [
        c
        for c in selectors.competitions_accepting_entries(user=user)[:50]
        if not viewed.covers(c.organization.path)
    ]
    can_endorse = has_action(user, "change", APP) and bool(viewed.paths)
    context = {
        "filterset": filterset,
        "page_obj": page,
        "accepting": accepting,
        "pending_count": selectors.pending_endorsements(user=user).count() if can_endorse else 0,
        "can_add": bool(scope_for(user, "add", APP).paths),
        "is_reviewer": viewed.assigned,
    }
    return render(request, "competitions/competition_list.html", context)


def _rubric_errors(form: CompetitionForm, exc: ValidationError) -> None:
    """Service errors on the form; the rubric's (weights ≠ 100 …) under the rubric table."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    form.rubric_errors = errors.pop("criteria", [])
    if errors:
        apply_validation_error(form, ValidationError(errors))


@action_required("add", APP)
def competition_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CompetitionForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            competition = services.competition_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            _rubric_errors(form, exc)
        else:
            messages.success(
                request, _("已创建评选“%(title)s”，请添加评审轮次") % {"title": competition.title}
            )
            return redirect("competitions:round_create", pk=competition.pk)
    return render(request, "competitions/competition_form.html", {"form": form})


def _stage(entry: Any, names: dict[tuple[int, int], str]) -> tuple[str, str]:
    """What became of an entry, as a label and a badge colour."""
    if entry.withdrawn:
        return _("已撤回"), "secondary"
    if not entry.endorsed:
        return _("待支部推荐"), "warning"
    if getattr(entry, "award_count", 0):
        return _("获奖"), "danger"
    reached = getattr(entry, "reached", None)
    if reached:
        name = names.get((entry.competition_id, reached), "")
        return _("第%(n)d轮%(name)s") % {"n": reached, "name": f"（{name}）" if name else ""}, "primary"
    return _("已报名"), "info"


@action_required("view", APP)
def competition_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    competition = selectors.competition_get(user=user, pk=pk)
    rounds = selectors.competition_rounds(user=user, competition=competition)
    names = {(competition.pk, r.sequence): r.name for r in rounds}
    entries = selectors.with_progress(selectors.entry_list(user=user, competition=competition))
    page = paginate(request, entries)
    changed = scope_for(user, "change", APP)
    for entry in page:
        entry.stage, entry.stage_color = _stage(entry, names)
        entry.can_change = changed.covers(entry.organization.path)
    pending = list(
        selectors.pending_endorsements(user=user)
        .filter(competition=competition)
        .select_related("lecturer")[:100]
    )
    final = rounds[-1] if rounds else None
    running = competition.status == CompetitionStatus.RUNNING
    can_change = changed.covers(competition.organization.path)
    context = {
        "competition": competition,
        "criteria": list(competition.criteria.order_by("sort_order", "id")),
        "categories": list(competition.categories.order_by("id")),
        "rounds": rounds,
        "page_obj": page,
        "pending": pending,
        "can_change": can_change,
        "can_recommend": running
        and any(r.status == RoundStatus.OPEN for r in rounds)
        and bool(scope_for(user, "add", APP).paths),
        "can_add_round": can_change and running,
        "can_grant": can_change and final is not None and final.status == RoundStatus.CLOSED and running,
        "has_awards": competition.status == CompetitionStatus.FINISHED,
        "award_categories": selectors.award_categories(user=user, competition=competition),
        "conflict_rule": ConflictRule(competition.conflict_rule).label,
    }
    return render(request, "competitions/competition_detail.html", context)


# --- rounds --------------------------------------------------------------------------------------


@action_required("change", APP)
def round_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    competition = selectors.competition_get(user=request.user, pk=pk, action="change")
    form = RoundForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.round_create(
                actor=request.user, competition=competition, data=form.service_data()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已添加轮次“%(name)s”") % {"name": round_.name})
            return redirect("competitions:competition_detail", pk=competition.pk)
    context = {"form": form, "competition": competition, "round": None, "help": AGGREGATION_HELP}
    return render(request, "competitions/round_form.html", context)


@action_required("change", APP)
def round_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    round_ = selectors.round_get(user=request.user, pk=pk, action="change")
    form = RoundForm(posted(request), instance=round_)
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.round_update(actor=request.user, round_=round_, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存轮次“%(name)s”") % {"name": round_.name})
            return redirect("competitions:round_detail", pk=round_.pk)
    context = {"form": form, "competition": round_.competition, "round": round_}
    return render(request, "competitions/round_form.html", context)


def _panel_choices(user: Viewer, progress: list[Any]) -> list[dict[str, Any]]:
    """The reviewers the organiser may put on the panel, and anyone on it already."""
    reviewers = selectors.reviewer_list(user=user)
    known = {r["id"] for r in reviewers}
    for row in progress:
        if row.user_id not in known:
            reviewers.append(
                {"id": row.user_id, "username": row.username, "display_name": "", "organization_name": ""}
            )
    return reviewers


def _round_page(
    request: HttpRequest,
    round_: Round,
    *,
    panel_form: PanelForm | None = None,
    finish_form: FinishForm | None = None,
    status: int = 200,
    action: str = "view",
) -> HttpResponse:
    """The round page, read with the right the view checked (``action``)."""
    user = request.user
    competition = round_.competition
    can_change = can(user, "change", competition.organization.path, app_label=APP)
    results = selectors.round_results(user=user, round_=round_, action=action)
    progress = selectors.round_progress(user=user, round_=round_, action=action)
    reviewers = _panel_choices(user, progress) if can_change else []
    names = {r["id"]: r for r in reviewers}
    exclusions = (
        selectors.round_exclusions(
            user=user, round_=round_, action=action, panel=[p.user_id for p in progress]
        )
        if can_change
        else {}
    )
    for row in progress:
        reviewer = names.get(row.user_id, {})
        row.display_name = reviewer.get("display_name", "")
        row.organization_name = reviewer.get("organization_name", "")
        row.exclusion = exclusions.get(row.user_id)
    if panel_form is None:
        panel_form = PanelForm(initial={"users": [p.user_id for p in progress]}, reviewers=reviewers)
    assigned = sum(r.assigned for r in results)
    submitted = sum(r.submitted for r in results)
    context = {
        "round": round_,
        "competition": competition,
        "results": results,
        "progress": progress,
        "panel_form": panel_form,
        "finish_form": finish_form or FinishForm(),
        "following": selectors.round_following(user=user, round_=round_, action=action),
        "assigned": assigned,
        "submitted": submitted,
        "outstanding": assigned - submitted,
        "flagged": sum(1 for r in results if r.flagged),
        "can_change": can_change,
        "can_export": can(user, "export", competition.organization.path, app_label=APP),
        "is_open": round_.status == RoundStatus.OPEN,
        "aggregation_help": AGGREGATION_HELP.get(Aggregation(round_.aggregation), ""),
        "conflict_rule": ConflictRule(competition.conflict_rule).label,
    }
    return render(request, "competitions/round_detail.html", context, status=status)


@action_required("view", APP)
def round_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A round: its panel, assignment, progress per reviewer, results and advancement."""
    return _round_page(request, selectors.round_get(user=request.user, pk=pk))


@require_POST
@action_required("change", APP)
def round_panel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    round_ = selectors.round_get(user=user, pk=pk, action="change")
    reviewers = _panel_choices(user, selectors.round_progress(user=user, round_=round_, action="change"))
    form = PanelForm(request.POST, reviewers=reviewers)
    if form.is_valid():
        try:
            panel = services.round_reviewers_set(actor=user, round_=round_, users=form.cleaned_data["users"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已设置本轮评委%(n)d人") % {"n": len(panel)})
            return redirect("competitions:round_detail", pk=round_.pk)
    return _round_page(request, round_, panel_form=form, status=400, action="change")


@require_POST
@action_required("change", APP)
def round_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """自动分配: give every entry its missing reviews (existing ones are kept)."""
    user = request.user
    round_ = selectors.round_get(user=user, pk=pk, action="change")
    try:
        added = services.round_assign(actor=user, round_=round_)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        if added > 0:
            messages.success(
                request, _("已自动分配%(n)d份评审任务，评委工作量均衡并已回避本单位作品") % {"n": added}
            )
        else:
            messages.info(request, _("每件作品的评审人数已满，没有新的分配"))
    return redirect("competitions:round_detail", pk=round_.pk)


@action_required("change", APP)
def round_reassign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Give an unsubmitted review to another panel member, with a reason kept in the audit log."""
    user = request.user
    round_ = selectors.round_get(user=user, pk=pk, action="change")
    reviews = list(selectors.round_open_reviews(user=user, round_=round_))
    initial = {"review": request.GET.get("review")} if request.GET.get("review") else None
    form = ReassignForm(
        posted(request),
        reviews=reviews,
        panel=selectors.round_panel(user=user, round_=round_, action="change"),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        review = form.reviews[form.cleaned_data["review"]]
        try:
            services.review_assign_manual(
                actor=user,
                round_entry=review.round_entry,
                reviewer=form.cleaned_data["reviewer"],
                reason=form.cleaned_data["reason"],
                replace=review,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"replace": "review"})
        else:
            messages.success(
                request, _("已改派《%(title)s》的评审") % {"title": review.round_entry.entry.title}
            )
            return redirect("competitions:round_detail", pk=round_.pk)
    panel = selectors.round_panel(user=user, round_=round_, action="change")
    exclusions = selectors.round_exclusions(user=user, round_=round_, action="change")
    context = {
        "form": form,
        "round": round_,
        "competition": round_.competition,
        "exclusions": [(u, exclusions.get(u.pk)) for u in panel],
        "conflict_rule": ConflictRule(round_.competition.conflict_rule).label,
    }
    return render(request, "competitions/round_reassign.html", context)


@require_POST
@action_required("change", APP)
def round_finish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """晋级 (into the next round) or, for the last round, 结束评审. With reviews outstanding
    only when 强制执行 is ticked and a reason given (the service audits it)."""
    user = request.user
    round_ = selectors.round_get(user=user, pk=pk, action="change")
    form = FinishForm(request.POST)
    if form.is_valid():
        following = selectors.round_following(user=user, round_=round_, action="change")
        override, reason = form.cleaned_data["override"], form.cleaned_data["reason"]
        try:
            if following is not None:
                created = services.round_advance(actor=user, round_=round_, override=override, reason=reason)
            else:
                services.round_close(actor=user, round_=round_, override=override, reason=reason)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if following is not None:
                messages.success(
                    request,
                    _("%(n)d件作品晋级，“%(name)s”开始") % {"n": len(created), "name": following.name},
                )
            else:
                messages.success(request, _("本轮评审已结束，结果已固定；可以评定奖项"))
            return redirect("competitions:round_detail", pk=round_.pk)
    return _round_page(request, round_, finish_form=form, status=400, action="change")


@never_cache
@action_required("export", APP)
def round_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    round_ = selectors.round_get(user=request.user, pk=pk, action="export")
    content = services.round_results_export(actor=request.user, round_=round_)
    return xlsx_response(content, _("%(name)s评审结果") % {"name": round_.name})


# --- entries -------------------------------------------------------------------------------------


def _default_entry_org(user: Viewer, competition: Competition) -> Organization | None:
    """Where a recommendation starts: the one organisation of the user's scope inside the
    competition, or the competition's own organisation when the user's scope covers it."""
    scope = scope_for(user, "add", APP)
    inside = [p for p in scope.paths if p.startswith(competition.organization.path)]
    if len(inside) == 1:
        return Organization.objects.filter(path=inside[0], is_active=True).first()
    if scope.covers(competition.organization.path):
        return competition.organization
    return None


@action_required("add", APP)
def entry_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """基层推荐: an organisation enters a lecture, its lecturer picked from a list of members (of
    an organisation chosen first) or typed by name or ID number."""
    user = request.user
    competition = selectors.competition_for_entries_get(user=user, pk=pk)
    default = _default_entry_org(user, competition)
    pick = MemberSourceForm(request.GET or None, user=user, competition=competition)
    source = pick.picked() if any(k.startswith("from-organization") for k in request.GET) else None
    if source is None and not pick.errors:
        source = default
        pick.fields["organization"].initial = default
    members: list[Any] = []
    more = False
    if source is not None:
        found = list(member_list(user=user, filters={"organization": source})[: PICK_LIMIT + 1])
        members, more = found[:PICK_LIMIT], len(found) > PICK_LIMIT
    form = EntryForm(
        posted(request),
        request.FILES or None,
        user=user,
        competition=competition,
        members=members,
        default_organization=source or default,
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.entry_create(actor=user, competition=competition, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("已报送《%(title)s》（主讲人：%(name)s）")
                % {"title": entry.title, "name": entry.lecturer.name},
            )
            if can(user, "view", competition.organization.path, app_label=APP):
                return redirect("competitions:competition_detail", pk=competition.pk)
            return redirect("competitions:competition_list")
    context = {
        "form": form,
        "competition": competition,
        "pick": pick,
        "source": source,
        "members": members,
        "more": more,
        "chosen": str(form["lecturer"].value() or "") if "lecturer" in form.fields else "",
    }
    return render(request, "competitions/entry_form.html", context)


@require_POST
@action_required("change", APP)
def entry_endorse(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The branch endorses a self-nomination; it joins the first open round."""
    entry = selectors.entry_get(user=request.user, pk=pk, action="change")
    try:
        services.entry_endorse(actor=request.user, entry=entry)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request,
            _("已推荐《%(title)s》（主讲人：%(name)s）参赛")
            % {"title": entry.title, "name": entry.lecturer.name},
        )
    return redirect(_next_url(request, reverse("competitions:endorsement_list")))


@action_required("change", APP)
def endorsement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Self-nominations from the user's branches awaiting their endorsement."""
    page = paginate(request, selectors.pending_endorsements(user=request.user))
    context = {"page_obj": page, "is_reviewer": scope_for(request.user, "view", APP).assigned}
    return render(request, "competitions/endorsement_list.html", context)


@login_required
def entry_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Withdraw an entry (the organiser or branch, or the lecturer themself) before any review
    of it is submitted; the page asks to confirm first."""
    user = request.user
    if not has_action(user, "change", APP):
        _member_or_403(user, _("您没有执行此操作的权限"))
    entry = selectors.entry_for_withdraw_get(user=user, pk=pk)
    own = entry.lecturer.user_id == user.pk
    default = (
        reverse("competitions:my_entries")
        if own and not can(user, "view", entry.competition.organization.path, app_label=APP)
        else reverse("competitions:competition_detail", args=[entry.competition_id])
    )
    form = WithdrawForm(posted(request))
    if entry.withdrawn:
        messages.info(request, _("该作品已撤回"))
        return redirect(default)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_withdraw(actor=user, entry=entry, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已撤回《%(title)s》") % {"title": entry.title})
            return redirect(_next_url(request, default))
    context = {"entry": entry, "form": form, "back": _next_url(request, default)}
    return render(request, "competitions/entry_withdraw.html", context)


def _ranged_file(request: HttpRequest, file: Any, *, attachment: bool) -> HttpResponseBase:
    """A stored file, answering byte ranges (``core.ranged_files``)."""
    filename = file.name.rsplit("/", 1)[-1] if attachment else None
    return ranged_file_response(request, file, filename=filename)


@never_cache
@login_required
def entry_file(request: AuthenticatedHttpRequest, pk: int, kind: str) -> HttpResponseBase:
    """An entry's video or materials, to those who may see the entry, the reviewers assigned to
    it and its lecturer."""
    user = request.user
    if not has_action(user, "view", APP):
        _member_or_403(user, _("您没有执行此操作的权限"))
    entry: Entry = selectors.entry_file_get(user=user, pk=pk)
    file = entry.video if kind == "video" else entry.materials
    if not file:
        raise Http404(_("文件不存在"))
    return _ranged_file(request, file, attachment=kind != "video")


# --- reviewers -----------------------------------------------------------------------------------


@action_required("view", APP)
def my_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的评审: the reviewer's own assignments, pending first, then those submitted."""
    reviews = selectors.review_list(user=request.user).order_by(
        F("submitted_at").desc(nulls_first=True), "round_entry__round__competition_id", "round_entry_id"
    )
    page = paginate(request, reviews)
    pending = selectors.review_list(user=request.user).filter(submitted_at__isnull=True).count()
    return render(request, "competitions/my_reviews.html", {"page_obj": page, "pending": pending})


def _peer_label(index: int) -> str:
    return _("评委%(x)s") % {"x": chr(ord("A") + index) if index < 26 else str(index + 1)}


@action_required("view", APP)
def review_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Score one assigned entry on a phone. The other reviewers' totals appear, without their
    names, only once the reviewer has submitted their own."""
    user = request.user
    review = selectors.review_get(user=user, pk=pk)
    round_entry = review.round_entry
    round_, entry = round_entry.round, round_entry.entry
    criteria = list(round_.competition.criteria.order_by("sort_order", "id"))
    form = ReviewForm(posted(request), criteria=criteria, review=review)
    if request.method == "POST":
        if not has_action(user, "change", APP):
            raise PermissionDenied(_("您没有执行此操作的权限"))
        if form.is_valid():
            try:
                review = services.review_submit(
                    actor=user, review=review, scores=form.scores(), comment=form.cleaned_data["comment"]
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("已提交评分，加权总分 %(total)s") % {"total": review.total})
                return redirect("competitions:review_detail", pk=review.pk)
    peers = [
        (_peer_label(i), peer.total)
        for i, peer in enumerate(selectors.review_peers(user=user, review=review))
    ]
    context = {
        "review": review,
        "round": round_,
        "competition": round_.competition,
        "entry": entry,
        "form": form,
        "peers": peers,
        "is_open": round_.status == RoundStatus.OPEN,
    }
    return render(request, "competitions/review.html", context, status=400 if form.errors else 200)


# --- members -------------------------------------------------------------------------------------


@login_required
def my_entries(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的参赛作品, and the competitions the member may nominate themself to."""
    member = _member_or_403(request.user, _("只有在册党员可以使用此功能"))
    entries: list[Any] = list(selectors.with_progress(selectors.own_entries(user=request.user))[:200])
    names = selectors.round_names(
        user=request.user, competition_ids=sorted({e.competition_id for e in entries})
    )
    for entry in entries:
        entry.stage, entry.stage_color = _stage(entry, names)
    context = {
        "member": member,
        "entries": entries,
        "open_competitions": list(
            selectors.competitions_open_to_member(user=request.user, member=member)[:50]
        ),
    }
    return render(request, "competitions/my_entries.html", context)


@login_required
def nominate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """个人自荐: a member enters their own lecture; their branch endorses it next."""
    member = _member_or_403(request.user, _("只有在册党员可以使用此功能"))
    competition = (
        selectors.competitions_open_to_member(user=request.user, member=member).filter(pk=pk).first()
    )
    if competition is None:
        raise Http404(_("该评选不存在或未开放报名"))
    form = EntryForm(
        posted(request), request.FILES or None, user=request.user, competition=competition, recommend=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.entry_self_nominate(
                actor=request.user, competition=competition, data=form.service_data()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request, _("已提交自荐《%(title)s》，请等待所在支部推荐") % {"title": entry.title}
            )
            return redirect("competitions:my_entries")
    context = {"form": form, "competition": competition, "member": member}
    return render(request, "competitions/nominate_form.html", context)


# --- awards and certificates ---------------------------------------------------------------------


@action_required("view", APP)
def award_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """奖项与证书; each 优秀党课 with a video says whether it is in the library yet and, for those
    who may publish, offers 发布到党课库 (one query for the whole list)."""
    user = request.user
    competition = selectors.competition_get(user=user, pk=pk)
    awards = list(selectors.award_list(user=user, competition=competition))
    can_publish = services.award_publish_allowed(user, competition)
    lecture_awards = [a for a in awards if not services.award_publish_refusal(a)]
    publishable = {a.pk for a in lecture_awards}
    in_library: dict[str, set[Any]] = {}
    if lecture_awards:
        in_library = lecture_selectors.library_honour_titles(
            user=user,
            organization=competition.organization,
            honour=services.library_honour(competition, lecture_awards[0]),
            titles=[a.entry.title for a in lecture_awards if a.entry is not None],
        )
    for award in awards:
        state = ""
        if award.pk in publishable and award.entry is not None:
            members = in_library.get(award.entry.title, set())
            published = None in members or award.entry.lecturer_id in members
            state = "published" if published else "ready"
        setattr(award, "library_state", state)  # noqa: B010
    context = {
        "competition": competition,
        "awards": awards,
        "can_change": can(user, "change", competition.organization, app_label=APP),
        "can_publish": can_publish,
    }
    return render(request, "competitions/award_list.html", context)


@action_required("change", APP)
def award_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """发布到党课库 (``services.award_publish``): the page says why an award cannot be published, or
    that it already is, before showing the form."""
    user = request.user
    award = selectors.award_get(user=user, pk=pk, action="change")
    competition = award.competition
    if not services.award_publish_allowed(user, competition):
        raise PermissionDenied(services.PUBLISH_REFUSED)
    back = reverse("competitions:award_list", args=[competition.pk])
    refusal = services.award_publish_refusal(award)
    if refusal:
        messages.error(request, refusal)
        return redirect(back)
    entry = award.entry
    assert entry is not None
    org = competition.organization
    honour = services.library_honour(competition, award)
    existing = lecture_selectors.library_item_for_honour(
        user=user, organization=org, honour=honour, title=entry.title, member=entry.lecturer_id, action="add"
    )
    if existing is not None:
        messages.error(request, services.already_published_message(entry.title))
        return redirect(back)
    form = AwardPublishForm(posted(request), user=user, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.award_publish(actor=user, award=award, **form.service_kwargs())
        except ValidationError as exc:
            apply_validation_error(form, exc, AwardPublishForm.FIELD_MAP)
        else:
            messages.success(
                request,
                _("已发布到党课库：%(title)s。党员学完后计入网络学习学时") % {"title": item.resource.title},
            )
            return redirect(back)
    context = {
        "form": form,
        "award": award,
        "entry": entry,
        "competition": competition,
        "honour": honour,
        "lecturer": lecture_selectors.lecturer_of_member(
            user=user, member=entry.lecturer_id, organization=org
        ),
    }
    return render(request, "competitions/award_publish.html", context)


@action_required("change", APP)
def award_plan(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """评奖方案: the grade set and the award categories with their number per grade. “更新名额栏”
    redraws the number columns for a newly chosen grade set without saving."""
    user = request.user
    competition = selectors.competition_get(user=user, pk=pk, action="change")
    form = AwardPlanForm(posted(request), competition=competition)
    if request.method == "POST" and "refresh" not in request.POST and form.is_valid():
        try:
            services.award_plan_set(actor=user, competition=competition, **form.service_kwargs())
        except ValidationError as exc:
            apply_validation_error(form, exc, {"grades": "custom_grades", "award_categories": "__all__"})
        else:
            messages.success(request, _("已保存评奖方案"))
            return redirect("competitions:competition_detail", pk=competition.pk)
    context = {
        "form": form,
        "competition": competition,
        "locked": competition.status == CompetitionStatus.FINISHED,
    }
    return render(request, "competitions/award_plan.html", context)


@action_required("change", APP)
def competition_conflict(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """回避规则 of a competition, until its first score is submitted."""
    user = request.user
    competition = selectors.competition_get(user=user, pk=pk, action="change")
    form = ConflictRuleForm(posted(request), initial={"conflict_rule": competition.conflict_rule})
    if request.method == "POST" and form.is_valid():
        try:
            removed = services.competition_conflict_rule_set(
                actor=user, competition=competition, rule=form.cleaned_data["conflict_rule"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存回避规则"))
            if removed:
                messages.warning(
                    request,
                    _("按新规则撤销了%(n)d份须回避的评审任务，请到各轮次重新“自动分配”") % {"n": removed},
                )
            return redirect("competitions:competition_detail", pk=competition.pk)
    context = {"form": form, "competition": competition}
    return render(request, "competitions/competition_conflict.html", context)


@action_required("change", APP)
def award_grant(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """评定奖项 from the closed final round: the suggestion (entries ranked within each award
    category with their grades, the units with their figures), the numbers, the units the
    organiser chooses with their reasons; “预览” redraws the suggestion for the numbers typed,
    and certificates are issued at once on granting."""
    user = request.user
    competition = selectors.competition_get(user=user, pk=pk, action="change")
    has_plan = competition.award_categories.exists()
    data = posted(request)
    counts = AwardGrantForm.typed_counts(data, has_plan=has_plan)
    suggestion = selectors.award_suggestion(user=user, competition=competition, action="change", **counts)
    form = AwardGrantForm(data, has_plan=has_plan, units=suggestion.units)
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        try:
            awards = services.awards_grant(actor=user, competition=competition, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已评定奖项%(n)d项并颁发证书") % {"n": len(awards)})
            return redirect("competitions:award_list", pk=competition.pk)
    context = {
        "form": form,
        "competition": competition,
        "final": suggestion.final,
        "suggestion": suggestion,
        "has_plan": has_plan,
        "shown": GRANT_PREVIEW_ROWS,
    }
    return render(request, "competitions/award_grant.html", context)


def verify_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("verify:certificate", args=[code]))


@never_cache
@action_required("view", APP)
def certificate_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The award's certificate as a PDF (A4 landscape) with its code and verification QR."""
    award = selectors.award_get(user=request.user, pk=pk)
    certificate = award.certificate
    if certificate.revoked_at is not None:
        messages.error(request, _("证书 %(code)s 已撤销，不能再下载") % {"code": certificate.code})
        return redirect("competitions:award_list", pk=award.competition_id)
    content = certificate_pdf(certificate, verify_url(request, certificate.code))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"证书_{certificate.code}.pdf") or ""
    )
    response["Cache-Control"] = "no-store"
    return response


@action_required("change", APP)
def certificate_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    award = selectors.award_get(user=request.user, pk=pk, action="change")
    certificate = award.certificate
    form = RevokeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_revoke(
                actor=request.user, certificate=certificate, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已撤销证书 %(code)s") % {"code": certificate.code})
            return redirect("competitions:award_list", pk=award.competition_id)
    context = {"award": award, "certificate": certificate, "form": form, "competition": award.competition}
    return render(request, "competitions/certificate_revoke.html", context)


# --- public verification -------------------------------------------------------------------------


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """证书查验: type the code printed on a certificate."""
    form = VerifyForm(request.GET or None)
    if form.is_valid():
        return redirect("verify:certificate", code=form.cleaned_data["code"])
    return render(request, "competitions/verify_form.html", {"form": form})


@never_cache
def verify_certificate(request: HttpRequest, code: str) -> HttpResponse:
    """The public page of one certificate: competition, award, recipient and date, nothing more.
    No sign-in; an unknown code is a 404 that says so."""
    certificate = selectors.certificate_verify(code)
    if certificate is None:
        context = {"code": code[:32], "form": VerifyForm(initial={"code": code[:32]})}
        return render(request, "competitions/verify_missing.html", context, status=404)
    award = certificate.award
    context = {"certificate": certificate, "award": award, "competition": award.competition}
    return render(request, "competitions/verify_result.html", context)


# --- 下载全部证书 (a background job) ----------------------------------------------------------


@require_POST
@action_required("view", APP)
def certificate_batch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """下载全部证书: queue the ZIP of the competition's valid certificates (each as a PDF, plus one
    combined PDF for printing) and show its job page. Who may: whoever may download a single
    certificate (competitions.view over the organiser), through the same selectors."""
    from .jobs import NO_CERTIFICATES, certificate_batch_awards, certificate_batch_enqueue

    competition = selectors.competition_get(user=request.user, pk=pk)
    count = certificate_batch_awards(user=request.user, competition=competition).count()
    if not count:
        messages.error(request, NO_CERTIFICATES)
        return redirect("competitions:award_list", pk=competition.pk)
    job = certificate_batch_enqueue(
        actor=request.user,
        competition=competition,
        count=count,
        verify_base=request.build_absolute_uri(reverse("verify:form")),
    )
    return redirect("core:job_detail", pk=job.pk)

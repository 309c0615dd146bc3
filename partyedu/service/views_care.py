"""Pages of the care area: 谈心谈话 (the list, recording a talk — a secretary for the branch, a
member their own — the year's coverage of pairs with the branch's rule), 关怀帮扶 (members in
difficulty, visits and aid with approval by the level above, totals, pairs, the approval
threshold, the export) and 政治生日 (the month's list, a 主题党日 for them, the member's greeting).

Care pages need ``service.care``; each view of care records is written to the audit log as a view
of personal data. The private notes are shown only where the selectors allow."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import can, can_act_above, can_set_policy, has_action, scope_for
from partyedu.core.views import action_required, form_page, paginate, posted, xlsx_response
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from . import selectors_care as selectors
from .forms_care import (
    MEMBER_CHOICES_MAX,
    OCCASIONS,
    CareCaseEndForm,
    CareCaseForm,
    CarePairForm,
    CareVisitForm,
    OrgPeriodForm,
    PolicyForm,
    TalkForm,
    TalkRuleForm,
    ThemeDayForm,
)
from .models import CareCase, CarePair, CareVisit
from .services import care as services

APP = "service"


def _with_org(name: str, org: Organization | None, **params: Any) -> str:
    query = {"organization": org.pk} if org is not None else {}
    query.update({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{urlencode(query)}" if query else "")


def _page_org(request: HttpRequest, action: str) -> Organization:
    """The organisation a form page works in: ``?organization=`` within the user's scope for the
    action (404 outside it), else the top of that scope."""
    orgs = Organization.objects.restrict(request.user, action, app_label=APP).filter(is_active=True)
    raw = request.GET.get("organization") or ""
    if raw:
        org = orgs.filter(pk=int(raw)).first() if raw.isdigit() and int(raw) < 2**62 else None
    else:
        org = orgs.order_by("path").first()
    if org is None:
        raise Http404("党组织不存在或不在您的权限范围内")
    return org


def _filter_org(form: OrgPeriodForm, request: HttpRequest, action: str) -> Organization | None:
    """The organisation a list shows: the one picked, else the top of the user's scope."""
    picked = form.value("organization")
    if picked is not None:
        return picked
    return (
        Organization.objects.restrict(request.user, action, app_label=APP)
        .filter(is_active=True)
        .order_by("path")
        .first()
    )


def _audit_view(request: HttpRequest, *, obj: Any = None, object_type: str = "", message: str) -> None:
    """Every view of care records is a view of personal data (health, hardship)."""
    audit_record(
        actor=request.user, action=AuditAction.VIEW_PII, obj=obj, object_type=object_type, message=message
    )


# --- 谈心谈话 -----------------------------------------------------------------------------------


@action_required("view", APP)
def talk_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The talks of the user's branches (a secretary) and their own (a member); the private note
    only for the two people and the branch committee."""
    user = request.user
    manages = bool(scope_for(user, "view", APP).paths)
    form = OrgPeriodForm(request.GET or None, user=user)
    org = form.value("organization") if manages else None
    year = form.value("year") or timezone.localdate().year
    page_obj = paginate(request, selectors.talk_list(user=user, organization=org, year=year), 50)
    context = {
        "tab": "care_talks",
        "form": form,
        "manages": manages,
        "year": year,
        "page_obj": page_obj,
        "rows": selectors.talk_rows(user=user, talks=page_obj.object_list),
        "can_add": has_action(user, "add", APP),
        "can_export": bool(scope_for(user, "export", APP).paths),
        "organization": org,
    }
    return render(request, "service/care/talk_list.html", context)


@action_required("add", APP)
def talk_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Record a talk. A secretary works in ``?organization=`` (their branch by default); a member
    records a talk they took part in, at their own branch."""
    user = request.user
    own = None
    if scope_for(user, "add", APP).paths:
        org = _page_org(request, "add")
    else:
        own = selectors.own_member(user=user)
        if own is None:
            raise Http404("您的账号没有关联党员信息")
        org = selectors.branch_of(user=user, member=own)
    if org.level not in services.TALK_LEVELS:
        # An organisation above the branches: pick the branch first.
        branches = (
            Organization.objects.restrict(user, "add", app_label=APP)
            .filter(org.subtree_q("path"), level=OrgLevel.BRANCH, is_active=True)
            .order_by("path")[:200]
        )
        return render(
            request,
            "service/care/talk_form.html",
            {"tab": "care_talks", "organization": org, "branches": branches, "manages": True, "form": None},
        )
    members = selectors.talk_member_choices(user=user, organization=org)
    # From the coverage page: the member still to talk with (谈话对象), and the secretary themself
    # as the one who talks (谈话人) when they belong to the branch.
    initial: dict[str, Any] = {"party_b": request.GET.get("with") or ""}
    mine = selectors.own_member(user=user) if own is None else None
    if mine is not None and mine.org_path.startswith(org.path):
        initial["party_a"] = mine.pk
    form = TalkForm(posted(request), members=members, own=own, initial=initial)

    def save() -> Any:
        return services.talk_record(
            actor=user,
            organization=org,
            parties=form.parties(),
            date=form.cleaned_data["date"],
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data.get("note") or "",
        )

    return form_page(
        request,
        form,
        save,
        message=lambda t: f"已登记{t.party_a.name}与{t.party_b.name}的谈心谈话",
        then=lambda t: reverse("service:talk_list"),
        template="service/care/talk_form.html",
        context={"tab": "care_talks", "organization": org, "own": own, "manages": own is None},
        field_map={"parties": "party_b", "organization": "party_b"},
    )


@action_required("view", APP, subtree=True)
def talk_coverage(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The year's pairs required and held, by branch; for one branch, each member's missing
    partners (the secretary's list of talks still to hold)."""
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user)
    org = _filter_org(form, request, "view")
    year = form.value("year") or timezone.localdate().year
    coverage = selectors.talk_coverage(user=user, organization=org, year=year, detail=True) if org else None
    single = coverage.units[0] if coverage is not None and len(coverage.units) == 1 else None
    rule = selectors.talk_rule_for(user=user, organization=org) if org else None
    context = {
        "tab": "care_coverage",
        "form": form,
        "organization": org,
        "year": year,
        "coverage": coverage,
        "single": single,
        "rule": rule,
        "rule_form": TalkRuleForm(initial={"member_pairs": rule.member_pairs if rule else False}),
        "can_rule": org is not None and can(user, "change", org, app_label=APP),
    }
    return render(request, "service/care/talk_coverage.html", context)


@require_POST
@action_required("change", APP, subtree=True)
def talk_rule(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Turn the 党员与党员 pairs on or off for an organisation's branches."""
    raw = request.POST.get("organization") or ""
    orgs = Organization.objects.restrict(request.user, "change", app_label=APP).filter(is_active=True)
    org = orgs.filter(pk=int(raw)).first() if raw.isdigit() and int(raw) < 2**62 else None
    if org is None:
        raise Http404("党组织不存在或不在您的权限范围内")
    form = TalkRuleForm(request.POST)
    form.is_valid()
    on = bool(form.cleaned_data.get("member_pairs"))
    services.talk_rule_set(actor=request.user, organization=org, member_pairs=on)
    messages.success(
        request,
        f"{org.name}：" + ("党员与党员之间也须两两谈话" if on else "只统计委员与委员、委员与党员之间的谈话"),
    )
    return redirect(_with_org("service:talk_coverage", org, year=request.POST.get("year")))


@never_cache
@action_required("export", APP, subtree=True)
def talk_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrgPeriodForm(request.GET or None, user=request.user, action="export")
    year = form.value("year") or timezone.localdate().year
    content = services.talk_export(actor=request.user, organization=form.value("organization"), year=year)
    return xlsx_response(content, f"谈心谈话_{year}")


# --- 关怀帮扶 -----------------------------------------------------------------------------------


@never_cache
@action_required("care", APP, subtree=True)
def care_case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user, action="care", year=False)
    org = form.value("organization")
    show_all = request.GET.get("all") == "1"
    page_obj = paginate(
        request, selectors.care_case_list(user=user, organization=org, open_only=not show_all), 50
    )
    _audit_view(
        request,
        object_type=CareCase._meta.label_lower,
        message=f"查看困难党员名单（{len(page_obj.object_list)}名）",
    )
    context = {
        "tab": "care_cases",
        "form": form,
        "page_obj": page_obj,
        "show_all": show_all,
        "organization": org,
        "can_export": bool(scope_for(user, "export", APP).paths),
    }
    return render(request, "service/care/care_case_list.html", context)


@never_cache
@action_required("care", APP, subtree=True)
def care_case_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    org = _page_org(request, "care")
    members = selectors.care_members(user=user, organization=org)
    form = CareCaseForm(posted(request), members=members)

    def save() -> CareCase:
        member = selectors.care_member_get(user=user, pk=form.cleaned_data["member"])
        if member is None:
            raise ValidationError({"member": ["所选党员不存在或不在您的权限范围内"]})
        return services.care_case_create(
            actor=user,
            member=member,
            kind=form.cleaned_data["kind"],
            since=form.cleaned_data["since"],
            note=form.cleaned_data.get("note") or "",
        )

    return form_page(
        request,
        form,
        save,
        message=lambda c: f"已登记{c.member.name}的关怀帮扶",
        then=lambda c: reverse("service:care_case_detail", args=[c.pk]),
        template="service/care/care_form.html",
        context={
            "tab": "care_cases",
            "organization": org,
            "title": "登记困难党员",
            "many": members.count() > MEMBER_CHOICES_MAX,
        },
    )


@never_cache
@action_required("care", APP, subtree=True)
def care_case_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = selectors.care_case_get(user=user, pk=pk)
    _audit_view(request, obj=case, message=f"查看困难党员：{case.member.name}")
    visits = list(selectors.care_visit_list(user=user, member=case.member)[:100])
    context = {
        "tab": "care_cases",
        "case": case,
        "visits": visits,
        "end_form": CareCaseEndForm(initial={"ended_on": timezone.localdate()}),
        "visit_form": CareVisitForm(members=None),
        "occasions": OCCASIONS,
    }
    return render(request, "service/care/care_case_detail.html", context)


@require_POST
@action_required("care", APP, subtree=True)
def care_case_end(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = selectors.care_case_get(user=request.user, pk=pk)
    form = CareCaseEndForm(request.POST)
    try:
        with transaction.atomic():
            services.care_case_end(
                actor=request.user,
                case=case,
                ended_on=form.cleaned_data["ended_on"] if form.is_valid() else None,
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{case.member.name}的帮扶记录已结束")
    return redirect(reverse("service:care_case_detail", args=[case.pk]))


@never_cache
@action_required("care", APP, subtree=True)
def care_visit_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user, action="care")
    org = form.value("organization")
    year = form.value("year") or timezone.localdate().year
    pending = request.GET.get("pending") == "1"
    visits = selectors.care_visit_list(
        user=user, organization=org, year=None if pending else year, pending_only=pending
    )
    page_obj = paginate(request, visits, 50)
    _audit_view(
        request,
        object_type=CareVisit._meta.label_lower,
        message=f"查看关怀走访记录（{len(page_obj.object_list)}条）",
    )
    rows = [(v, v.awaiting_decision and can_act_above(user, v.member.org_path)) for v in page_obj]
    context = {
        "tab": "care_visits",
        "form": form,
        "page_obj": page_obj,
        "rows": rows,
        "pending": pending,
        "year": year,
        "organization": org,
    }
    return render(request, "service/care/care_visit_list.html", context)


@never_cache
@action_required("care", APP, subtree=True)
def care_visit_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    case = None
    raw_case = request.GET.get("case") or ""
    if raw_case:
        case = (
            selectors.care_case_get(user=user, pk=int(raw_case))
            if raw_case.isdigit() and int(raw_case) < 2**62
            else None
        )
        if case is None:
            raise Http404("记录不存在")
        org = case.member.organization
        members = None
    else:
        org = _page_org(request, "care")
        members = selectors.care_members(user=user, organization=org)
    form = CareVisitForm(posted(request), members=members)

    def save() -> CareVisit:
        if case is not None:
            member = case.member
        else:
            found = selectors.care_member_get(user=user, pk=form.cleaned_data["member"])
            if found is None:
                raise ValidationError({"member": ["所选党员不存在或不在您的权限范围内"]})
            member = found
        return services.care_visit_record(
            actor=user,
            member=member,
            case=case,
            date=form.cleaned_data["date"],
            aid_kind=form.cleaned_data["aid_kind"],
            amount=form.cleaned_data.get("amount") or 0,
            fund_source=form.cleaned_data.get("fund_source") or "",
            occasion=form.cleaned_data.get("occasion") or "",
            visitors=form.cleaned_data.get("visitors") or "",
            note=form.cleaned_data.get("note") or "",
        )

    def done(visit: CareVisit) -> str:
        if visit.needs_approval:
            return f"已登记{visit.member.name}的关怀走访。金额超过审批线，须经上级党组织审批后计入发放总数"
        return f"已登记{visit.member.name}的关怀走访"

    return form_page(
        request,
        form,
        save,
        message=done,
        then=lambda v: (
            reverse("service:care_case_detail", args=[case.pk])
            if case
            else reverse("service:care_visit_list")
        ),
        template="service/care/care_form.html",
        context={
            "tab": "care_visits",
            "organization": org,
            "case": case,
            "title": "登记关怀走访",
            "occasions": OCCASIONS,
            "many": members is not None and members.count() > MEMBER_CHOICES_MAX,
            "threshold": selectors.aid_threshold(user=user, path=org.path),
        },
    )


@require_POST
@action_required("care", APP, subtree=True)
def care_visit_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.care_visit_get(user=request.user, pk=pk)
    try:
        with transaction.atomic():
            services.care_visit_approve(actor=request.user, visit=visit)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已审批{visit.member.name}的帮扶{visit.amount}元，计入发放总数")
    return redirect(reverse("service:care_visit_list") + "?pending=1")


@require_POST
@action_required("care", APP, subtree=True)
def care_visit_reject(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """不予批准: the level above refuses aid above the threshold, with a reason (it never counts)."""
    visit = selectors.care_visit_get(user=request.user, pk=pk)
    try:
        with transaction.atomic():
            visit = services.care_visit_reject(
                actor=request.user, visit=visit, reason=request.POST.get("reason", "")
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, f"已不予批准{visit.member.name}的帮扶{visit.amount}元：{visit.rejection_reason}"
        )
    return redirect(reverse("service:care_visit_list") + "?pending=1")


@action_required("care", APP, subtree=True)
def care_totals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The year's visits, people and aid by organisation (figures only: no names)."""
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user, action="care")
    org = _filter_org(form, request, "care")
    year = form.value("year") or timezone.localdate().year
    totals = selectors.care_totals(user=user, organization=org, year=year) if org else None
    return render(
        request,
        "service/care/care_totals.html",
        {"tab": "care_totals", "form": form, "organization": org, "year": year, "totals": totals},
    )


@never_cache
@action_required("export", APP, subtree=True)
def care_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrgPeriodForm(request.GET or None, user=request.user, action="care")
    year = form.value("year") or timezone.localdate().year
    content = services.care_export(actor=request.user, organization=form.value("organization"), year=year)
    return xlsx_response(content, f"关怀帮扶_{year}")


@action_required("care", APP, subtree=True)
def care_policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The aid approval thresholds (the organisation department's) and the form to set one."""
    user = request.user
    form = PolicyForm(posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                policy = services.service_policy_set(
                    actor=user,
                    organization=form.cleaned_data["organization"],
                    aid_approval_threshold=form.cleaned_data["aid_approval_threshold"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request, f"{policy.organization.name}的帮扶金额审批线已设为{policy.aid_approval_threshold}元"
            )
            return redirect("service:care_policy")
    context = {
        "tab": "care_policy",
        "form": form,
        "policies": list(selectors.policy_list(user=user)),
        "can_set": can_set_policy(user),
        "default": selectors.DEFAULT_AID_THRESHOLD,
    }
    return render(request, "service/care/care_policy.html", context)


@never_cache
@action_required("care", APP, subtree=True)
def care_pair_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user, action="care", year=False)
    org = form.value("organization")
    page_obj = paginate(request, selectors.care_pair_list(user=user, organization=org), 50)
    _audit_view(
        request,
        object_type=CarePair._meta.label_lower,
        message=f"查看结对帮扶（{len(page_obj.object_list)}对）",
    )
    return render(
        request,
        "service/care/care_pair_list.html",
        {"tab": "care_pairs", "form": form, "page_obj": page_obj, "organization": org},
    )


@action_required("care", APP, subtree=True)
def care_pair_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    org = _page_org(request, "care")
    members = selectors.care_members(user=user, organization=org)
    form = CarePairForm(posted(request), members=members)

    def save() -> CarePair:
        elder = selectors.care_member_get(user=user, pk=form.cleaned_data["elder"])
        younger = selectors.care_member_get(user=user, pk=form.cleaned_data["younger"])
        if elder is None or younger is None:
            raise ValidationError({"elder": ["所选党员不存在或不在您的权限范围内"]})
        return services.care_pair_create(
            actor=user,
            elder=elder,
            younger=younger,
            kind=form.cleaned_data["kind"],
            since=form.cleaned_data["since"],
        )

    return form_page(
        request,
        form,
        save,
        message=lambda p: f"已为{p.elder.name}和{p.younger.name}结对",
        then=lambda p: reverse("service:care_pair_list"),
        template="service/care/care_form.html",
        context={
            "tab": "care_pairs",
            "organization": org,
            "title": "老带青、青帮老结对",
            "many": members.count() > MEMBER_CHOICES_MAX,
        },
    )


# --- 政治生日 -----------------------------------------------------------------------------------


@action_required("view", APP, subtree=True)
def birthday_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The members whose party birthday falls in the month, by day (never a ranking)."""
    user = request.user
    form = OrgPeriodForm(request.GET or None, user=user, month=True)
    org = _filter_org(form, request, "view")
    today = timezone.localdate()
    year = form.value("year") or today.year
    month = form.value("month") or today.month
    rows = selectors.birthday_members(user=user, organization=org, year=year, month=month) if org else []
    context = {
        "tab": "care_birthdays",
        "form": form,
        "organization": org,
        "year": year,
        "month": month,
        "rows": rows,
        "can_hold": org is not None and can(user, "add", org, app_label="study"),
    }
    return render(request, "service/care/birthday_list.html", context)


@action_required("view", APP, subtree=True)
def birthday_theme_day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Hold a 主题党日 for the month's political birthdays of a branch: recorded as an ordinary
    主题党日 through the study service, then the activity's page opens."""
    user = request.user
    org = _page_org(request, "view")
    today = timezone.localdate()
    raw = request.GET.get("month") or ""
    month = int(raw) if raw.isdigit() and 1 <= int(raw) <= 12 else today.month
    rows = selectors.birthday_members(user=user, organization=org, year=today.year, month=month)
    names = "、".join(r.member.name for r in rows[:10]) + ("等" if len(rows) > 10 else "")
    topic = f"{services.THEME_DAY_TOPIC}（{names}）" if names else services.THEME_DAY_TOPIC
    initial = {"day": today, "start": "09:00", "end": "11:00", "topic": topic[:200]}
    form = ThemeDayForm(posted(request), initial=initial)

    def save() -> Any:
        return services.birthday_theme_day_record(
            actor=user,
            organization=org,
            day=form.cleaned_data["day"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            topic=form.cleaned_data["topic"],
        )

    return form_page(
        request,
        form,
        save,
        message=lambda a: f"已登记主题党日“{a.topic}”，可在活动页面补充地点和记录",
        then=lambda a: reverse("study:activity_detail", args=[a.pk]),
        template="service/care/birthday_theme_day.html",
        context={"tab": "care_birthdays", "organization": org, "rows": rows, "month": month},
        field_map={"organization": "topic"},
    )


@action_required("view", APP)
def birthday_greeting(request: HttpRequest) -> HttpResponse:
    """The member's greeting on the home page in the week of their party birthday (the panel the
    home page loads; empty in any other week)."""
    birthday = selectors.own_birthday(user=request.user, today=timezone.localdate())
    return render(
        request, "service/care/_birthday_greeting.html", {"birthday": birthday, "today": timezone.localdate()}
    )

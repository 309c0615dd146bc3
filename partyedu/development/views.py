"""Pages of member development (发展党员), for the branch secretary (phone first) and the
organisation department above (desktop): the list with its stage summary, a new application,
the case page (timeline, next steps and the form to confirm one, dossier checklist, papers,
mentors and sponsors, closing), the printable 发展党员纪实表, the overview per organisation, the
plans, the timing rules and the xlsx export.

Every page reads through ``restrict`` (``development.<action>``): a case outside the user's scope is
404. The case page and the printed dossier hold the political review and the talks: each view is
written to the audit log."""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import can, can_act_above, can_set_policy, has_action, scope_for
from partyedu.core.views import action_required, is_htmx_partial, paginate, posted, xlsx_response
from partyedu.organizations.models import Organization

from . import selectors, services
from .choices import ABOVE_STEPS, OPEN_STAGES, Stage, Step
from .exports import BASENAME, case_export, case_export_job_or_none
from .forms import (
    CaseCreateForm,
    CaseFilterForm,
    CloseForm,
    DocumentForm,
    OrganizationPickForm,
    PeopleForm,
    PlanForm,
    PolicyForm,
    StepConfirmForm,
    apply_rule_error,
)
from .models import DevelopmentCase
from .selectors_overview import (
    PHASES,
    branch_meetings,
    case_document_get,
    case_documents,
    case_list_filtered,
    case_points,
    listed_cases,
    organization_get,
    organizations_in_scope,
    overview,
    overview_children,
    people_choices,
    plan_rows,
    policy_in_force,
    policy_list,
    stage_counts,
)

APP = "development"
CLOSABLE = (Stage.APPLIED, Stage.TALKED, Stage.ACTIVIST, Stage.CANDIDATE)
# The timing rules an org_admin of the level above may set aside with a reason (timing.py).
OVERRIDABLE = frozenset(
    {
        "talk_within",
        "activist_min_period",
        "assessment_interval",
        "approval_within",
        "probation_period",
        "training",
    }
)
RULE_LABELS: dict[str, str] = {
    "talk_within": "谈话期限",
    "activist_min_period": "入党积极分子培养期",
    "assessment_interval": "培养考察间隔",
    "approval_within": "上级党委审批期限",
    "probation_period": "预备期",
    "training": "集中培训学时",
}


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or ""
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 4, this + 2), year}, reverse=True)


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in ("page", *names):
        query.pop(name, None)
    return query.urlencode()


# --- the list, a new application, the export ------------------------------------------------------


@action_required("view", APP, subtree=True)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The cases in scope with their next step (red when overdue) and a count per stage."""
    user = request.user
    form = CaseFilterForm(request.GET or None, user=user)
    filters = form.filters()
    page = paginate(request, case_list_filtered(user=user, filters=filters), 50)
    summary_filters = {k: v for k, v in filters.items() if k not in ("stage", "phase")}
    context = {
        "form": form,
        "page_obj": page,
        "rows": listed_cases(user=user, cases=page.object_list),
        "summary": stage_counts(user=user, cases=case_list_filtered(user=user, filters=summary_filters)),
        "current_stage": filters.get("stage", ""),
        "summary_query": _query_without(request, "stage", "phase"),
        "link_labels": form.link_labels(),
        "query": _query_without(request),
        "can_add": has_action(user, "add", APP),
        "can_export": has_action(user, "export", APP),
    }
    template = "development/_table.html" if is_htmx_partial(request) else "development/index.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@action_required("add", APP, subtree=True)
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CaseCreateForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(request, f"已登记{case.name}的入党申请，请在期限内派人谈话")
            return redirect("development:detail", pk=case.pk)
    return render(request, "development/create.html", {"form": form})


@never_cache
@action_required("export", APP, subtree=True)
def export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The filtered list as xlsx in the national system's vocabulary; a long one is built by a
    background job and the user is sent to its page."""
    form = CaseFilterForm(request.GET or None, user=request.user)
    queryset = case_list_filtered(user=request.user, filters=form.filters())
    job = case_export_job_or_none(actor=request.user, queryset=queryset, query=_query_without(request))
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    return xlsx_response(case_export(actor=request.user, queryset=queryset), BASENAME)


# --- the case page -------------------------------------------------------------------------------


def _next_rows(request: HttpRequest, case: DevelopmentCase, upcoming: list[Any]) -> list[dict[str, Any]]:
    """Each next step with whether the user may confirm it here (a step of the level above only
    for an org_admin above the branch) and whether it is overdue."""
    today = timezone.localdate()
    change = can(request.user, "change", case.organization, app_label=APP)
    above = can_act_above(request.user, case.organization)
    return [
        {
            "next": n,
            "above": n.step in ABOVE_STEPS,
            "confirmable": change and (n.step not in ABOVE_STEPS or above),
            "overdue": bool(n.due and n.due < today),
            "early": bool(n.earliest and n.earliest > today),
        }
        for n in upcoming
    ]


def _confirm_form(
    request: HttpRequest, case: DevelopmentCase, step: str, data: Any = None
) -> StepConfirmForm:
    return StepConfirmForm(
        data,
        case=case,
        step=step,
        people=people_choices(user=request.user, case=case),
        meetings=branch_meetings(user=request.user, case=case),
        can_override=can_act_above(request.user, case.organization),
    )


def _chosen_step(request: HttpRequest, rows: list[dict[str, Any]]) -> str:
    allowed = [r["next"].step for r in rows if r["confirmable"]]
    wanted = request.POST.get("step") or request.GET.get("step") or ""
    if wanted in allowed or (request.method == "POST" and wanted in Step.values):
        # A step posted out of order still goes to the service, which says why it is refused.
        return wanted
    return allowed[0] if allowed else ""


def _case_context(request: HttpRequest, case: DevelopmentCase, **extra: Any) -> dict[str, Any]:
    user = request.user
    steps = selectors.case_steps(case=case)
    upcoming = selectors.case_next(case=case, steps=steps) if case.stage in OPEN_STAGES else []
    rows = _next_rows(request, case, upcoming)
    step = _chosen_step(request, rows)
    documents = list(case_documents(user=user, case=case))
    change = can(user, "change", case.organization, app_label=APP)
    context = {
        "case": case,
        "steps": steps,
        "timeline": [
            {"row": s, "overridden": [RULE_LABELS.get(code, code) for code in s.overridden]} for s in steps
        ],
        "next_rows": rows,
        "chosen_step": step,
        "confirm_form": _confirm_form(request, case, step) if step else None,
        "checklist": selectors.case_checklist(case=case, steps=steps),
        "documents": documents,
        "document_form": DocumentForm() if change else None,
        "mentors": list(case.mentors.order_by("name")),
        "sponsors": list(case.sponsors.order_by("name")),
        "points": case_points(user=user, case=case, year=timezone.localdate().year),
        "can_change": change,
        "can_people": change and case.stage in (Stage.ACTIVIST, Stage.CANDIDATE),
        "can_close": change and case.stage in CLOSABLE,
        "member_link": case.member_id is not None
        and can(user, "view", case.organization, app_label="members"),
        "policy": selectors.case_policy(case=case),
    }
    context.update(extra)
    return context


@never_cache
@action_required("view", APP, subtree=True)
def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk)
    audit_record(actor=request.user, action=AuditAction.VIEW_PII, obj=case, message="查看发展党员档案")
    return render(request, "development/detail.html", _case_context(request, case))


@never_cache
@action_required("change", APP, subtree=True)
def confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The form to confirm one of the case's next steps (``?step=``): on the case page, swapped in
    by HTMX when another step is chosen, and a page of its own (a POST with errors comes back
    here, each message beside its field)."""
    case = selectors.case_get(user=request.user, pk=pk, action="change")
    steps = selectors.case_steps(case=case)
    upcoming = selectors.case_next(case=case, steps=steps) if case.stage in OPEN_STAGES else []
    rows = _next_rows(request, case, upcoming)
    step = _chosen_step(request, rows)
    if not step:
        messages.info(request, "该发展党员目前没有您可以确认的步骤")
        return redirect("development:detail", pk=case.pk)
    form = _confirm_form(request, case, step, posted(request))
    hint = False
    if request.method == "POST" and form.is_valid():
        try:
            row = services.step_confirm(actor=request.user, case=case, data=form.service_data())
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or "您无权确认该步骤")
        except ValidationError as exc:
            apply_rule_error(form, exc)
            hint = "override_reason" in form.fields and bool(OVERRIDABLE & set(getattr(exc, "rules", [])))
        else:
            messages.success(request, f"已确认“{row.get_step_display()}”（{row.date:%Y-%m-%d}）")
            return redirect(reverse("development:detail", args=[case.pk]) + "#timeline")
    context = {
        "case": case,
        "next_rows": rows,
        "chosen_step": step,
        "confirm_form": form,
        "override_hint": hint,
    }
    if is_htmx_partial(request) and request.method == "GET":
        return render(request, "development/_confirm_form.html", context)
    return render(request, "development/confirm.html", context, status=400 if form.errors else 200)


@never_cache
@action_required("view", APP, subtree=True)
def print_dossier(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """发展党员纪实表: every step with its people, meeting and vote, and the papers, to print."""
    case = selectors.case_get(user=request.user, pk=pk)
    audit_record(actor=request.user, action=AuditAction.VIEW_PII, obj=case, message="打印发展党员纪实表")
    steps = selectors.case_steps(case=case)
    context = {
        "case": case,
        "timeline": [
            {"row": s, "overridden": [RULE_LABELS.get(code, code) for code in s.overridden]} for s in steps
        ],
        "checklist": selectors.case_checklist(case=case, steps=steps),
        "documents": list(case_documents(user=request.user, case=case)),
        "mentors": list(case.mentors.order_by("name")),
        "sponsors": list(case.sponsors.order_by("name")),
        "printed_on": timezone.localdate(),
    }
    return render(request, "development/print.html", context)


@action_required("change", APP, subtree=True)
def people(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change the 培养联系人 (activist, candidate) and the 入党介绍人 (candidate)."""
    case = selectors.case_get(user=request.user, pk=pk, action="change")
    if case.stage not in (Stage.ACTIVIST, Stage.CANDIDATE):
        messages.info(request, "确定为入党积极分子后、接收为预备党员前可调整培养联系人和入党介绍人")
        return redirect("development:detail", pk=case.pk)
    form = PeopleForm(posted(request), case=case, people=people_choices(user=request.user, case=case))
    if request.method == "POST" and form.is_valid():
        try:
            services.case_people_set(actor=request.user, case=case, **form.service_data())
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(request, "已保存培养联系人和入党介绍人")
            return redirect("development:detail", pk=case.pk)
    return render(request, "development/people.html", {"case": case, "form": form})


@action_required("change", APP, subtree=True)
def document_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """File a paper of the dossier (a POST from the case page; a GET shows the form alone)."""
    case = selectors.case_get(user=request.user, pk=pk, action="change")
    form = DocumentForm(posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                doc = services.document_add(
                    actor=request.user,
                    case=case,
                    kind=form.cleaned_data["kind"],
                    file=form.cleaned_data["file"],
                )
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(request, f"已上传“{doc.name}”（{doc.get_kind_display()}）")
            return redirect(reverse("development:detail", args=[case.pk]) + "#documents")
    return render(request, "development/document_add.html", {"case": case, "form": form})


@never_cache
@action_required("view", APP, subtree=True)
def document_file(request: AuthenticatedHttpRequest, pk: int, doc_pk: int) -> HttpResponse:
    """A paper of the dossier, to those who may view the case; each download is audited."""
    case = selectors.case_get(user=request.user, pk=pk)
    doc = case_document_get(user=request.user, case=case, pk=doc_pk)
    audit_record(
        actor=request.user, action=AuditAction.VIEW_PII, obj=doc, message=f"查看发展党员材料：{case.name}"
    )
    content_type = mimetypes.guess_type(doc.name)[0] or "application/octet-stream"
    inline = content_type == "application/pdf" or content_type.startswith("image/")
    response = FileResponse(
        doc.file.open("rb"), content_type=content_type, as_attachment=not inline, filename=doc.name
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a FileResponse streams the file


@action_required("change", APP, subtree=True)
def document_remove(request: AuthenticatedHttpRequest, pk: int, doc_pk: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, pk=pk, action="change")
    doc = case_document_get(user=request.user, case=case, pk=doc_pk)
    if request.method == "POST":
        services.document_remove(actor=request.user, document=doc)
        messages.success(request, f"已删除“{doc.name}”")
        return redirect(reverse("development:detail", args=[case.pk]) + "#documents")
    return render(request, "development/document_remove.html", {"case": case, "document": doc})


@action_required("change", APP, subtree=True)
def close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Close a case before admission, with a reason: a page to confirm it."""
    case = selectors.case_get(user=request.user, pk=pk, action="change")
    if case.stage not in CLOSABLE:
        messages.info(request, f"{case.get_stage_display()}不能终止；预备党员通过转正讨论决定")
        return redirect("development:detail", pk=case.pk)
    form = CloseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(
                actor=request.user,
                case=case,
                reason=form.cleaned_data["reason"],
                day=form.cleaned_data["day"],
            )
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(request, f"已终止{case.name}的发展党员程序")
            return redirect("development:detail", pk=case.pk)
    return render(request, "development/close.html", {"case": case, "form": form})


# --- the organisation department ------------------------------------------------------------------


def _chosen_org(request: HttpRequest) -> Organization | None:
    raw = request.GET.get("organization") or ""
    if raw.isdigit() and int(raw) < 2**62:
        try:
            return organization_get(user=request.user, pk=raw)
        except Http404:
            pass
    return organizations_in_scope(user=request.user).select_related("parent").first()


@action_required("view", APP, subtree=True)
def overview_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Per child organisation: the pipeline now, the year's admissions against the plan, the
    conversions, overdue and stalled cases; a child leads a level down, a figure to the cases."""
    year = _year(request)
    organization = _chosen_org(request)
    result = page = None
    up = None
    if organization is not None:
        page = paginate(request, overview_children(user=request.user, organization=organization), 100)
        result = overview(
            user=request.user, organization=organization, year=year, children=list(page.object_list)
        )
        parent = organization.parent
        if parent is not None and scope_for(request.user, "view", APP).covers(parent.path):
            up = parent
    context = {
        "organization": organization,
        "up": up,
        "result": result,
        "page_obj": page,
        "year": year,
        "years": _years(year),
        "phases": PHASES,
    }
    return render(request, "development/overview.html", context)


@action_required("view", APP, subtree=True)
def plans(request: AuthenticatedHttpRequest) -> HttpResponse:
    """发展党员计划 of a year against the 预备党员 admitted; the organisation department sets them."""
    year = _year(request)
    user = request.user
    can_set = can_set_policy(user)
    if request.method == "POST" and not can_set:
        raise PermissionDenied("发展党员计划由组织部门（组织部/工委管理员）设定")
    form = PlanForm(posted(request), user=user, initial={"year": year}) if can_set else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_set(
                actor=user,
                organization=data["organization"],
                year=data["year"],
                planned=data["planned"],
                note=data["note"],
            )
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(
                request, f"已设定{plan.organization.name}{plan.year}年发展党员计划：{plan.planned}名"
            )
            return redirect(f"{reverse('development:plans')}?year={plan.year}")
    context = {"form": form, "rows": plan_rows(user=user, year=year), "year": year, "years": _years(year)}
    return render(request, "development/plans.html", context)


@action_required("view", APP, subtree=True)
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The timing rules set within the user's scope, and a way to an organisation's rules."""
    form = OrganizationPickForm(request.GET or None, user=request.user)
    if form.is_bound and form.is_valid():
        return redirect("development:rules_detail", pk=form.cleaned_data["organization"].pk)
    context = {
        "form": form,
        "policies": list(policy_list(user=request.user)),
        "first": organizations_in_scope(user=request.user).first(),
    }
    return render(request, "development/rules.html", context)


@action_required("view", APP, subtree=True)
def rules_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The rules that apply at an organisation and where they come from; the organisation
    department over it may set its own (for its whole subtree) or drop them."""
    user = request.user
    organization = organization_get(user=user, pk=pk)
    in_force = policy_in_force(user=user, organization=organization)
    can_set = can_set_policy(user, organization)
    if request.method == "POST" and not can_set:
        raise PermissionDenied("发展党员时限规则由组织部门（组织部/工委管理员）设定")
    initial = {name: getattr(in_force.policy, name) for name in PolicyForm.Meta.fields}
    form = PolicyForm(posted(request), initial=initial) if can_set else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.policy_set(actor=user, organization=organization, data=form.service_data())
        except ValidationError as exc:
            apply_rule_error(form, exc)
        else:
            messages.success(request, f"已保存{organization.name}的发展党员时限规则，对其全部下级组织生效")
            return redirect("development:rules_detail", pk=organization.pk)
    context = {"organization": organization, "in_force": in_force, "form": form, "can_set": can_set}
    return render(request, "development/rules_detail.html", context)


@action_required("view", APP, subtree=True)
def rules_reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Drop an organisation's own rules (those above it apply again): a page to confirm it."""
    user = request.user
    organization = organization_get(user=user, pk=pk)
    if not can_set_policy(user, organization):
        raise PermissionDenied("发展党员时限规则由组织部门（组织部/工委管理员）设定")
    in_force = policy_in_force(user=user, organization=organization)
    if not in_force.own:
        messages.info(request, f"{organization.name}没有自己设定的时限规则")
        return redirect("development:rules_detail", pk=organization.pk)
    if request.method == "POST":
        services.policy_reset(actor=user, organization=organization)
        messages.success(request, f"已删除{organization.name}的时限规则，恢复执行上级或默认规则")
        return redirect("development:rules_detail", pk=organization.pk)
    return render(request, "development/rules_reset.html", {"organization": organization})

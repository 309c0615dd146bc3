"""Member pages: filtered list, profile (masked, with an audited unmasked view for PII grant
holders), create/edit/transfer, and the spreadsheet import and export."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from partyedu.accounts.types import AuthenticatedHttpRequest
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.forms import apply_validation_error
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, has_action
from partyedu.core.views import ImportFlow, action_required, is_htmx_partial, paginate, posted, xlsx_response

from . import selectors, services
from .forms import MemberFilterForm, MemberForm, MemberTransferForm


@action_required("view", "members")
def member_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = MemberFilterForm(request.GET or None, user=user)
    filters = form.filters()
    page = paginate(
        request,
        selectors.member_list(user=user, filters=filters),
        count=selectors.member_list_stored_count(user=user, filters=filters),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page,
        "query": query.urlencode(),
        "can_add": has_action(user, "add", "members"),
        "can_import": has_action(user, "import", "members"),
        "can_export": has_action(user, "export", "members"),
    }
    template = "members/_table.html" if is_htmx_partial(request) else "members/list.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@action_required("view", "members")
def member_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get(user=request.user, pk=pk)
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        year = this_year
    year = min(max(year, this_year - 10), this_year)
    context = {
        "member": member,
        "year": year,
        "years": list(range(this_year, this_year - 3, -1)),
        # The member's record for the year from the apps above (exams: the year's exam results).
        "year_panels": [
            panel
            for found in hooks.call("members.detail_panels", user=request.user, member=member, year=year)
            for panel in found
        ],
        "transfers": selectors.member_transfers(user=request.user, member=member),
        "pii_allowed": selectors.member_pii_visible(user=request.user, member=member),
        "can_change": can(request.user, "change", member.organization, app_label="members"),
    }
    return render(request, "members/detail.html", context)


@never_cache
@action_required("view", "members")
def member_detail_pii(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The unmasked 身份证号 and 手机号, for holders of a PII grant covering the member; every view
    is written to the audit log."""
    member = selectors.member_get(user=request.user, pk=pk)
    if not selectors.member_pii_visible(user=request.user, member=member):
        raise PermissionDenied(_("您没有查看该党员敏感信息的授权"))
    audit_record(actor=request.user, action=AuditAction.VIEW_PII, obj=member, message="查看身份证号、手机号")
    template = "members/_pii.html" if is_htmx_partial(request) else "members/pii.html"
    return render(request, template, {"member": member, "unmasked": True})


@action_required("add", "members")
def member_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = MemberForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已登记党员“%(name)s”") % {"name": member.name})
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": None})


@action_required("change", "members")
def member_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get(user=request.user, pk=pk, action="change")
    form = MemberForm(posted(request), user=request.user, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_update(actor=request.user, member=member, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": member})


@action_required("change", "members")
def member_transfer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get(user=request.user, pk=pk, action="change")
    form = MemberTransferForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.member_transfer(actor=request.user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                _("已将“%(name)s”的组织关系转入“%(org)s”")
                % {"name": member.name, "org": transfer.to_organization},
            )
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/transfer.html", {"form": form, "member": member})


@never_cache
@action_required("export", "members")
def member_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The filtered list as xlsx; the export service masks personal data unless the user holds the
    grant and writes the audit row. A list longer than EXPORT_SYNC_MAX_ROWS (counted no further
    than that) is built by a background job instead, and the user is sent to its progress page."""
    from partyedu.core.export_jobs import export_row_count

    from .services import member_export as export_members

    form = MemberFilterForm(request.GET or None, user=request.user)
    queryset = selectors.member_list(user=request.user, filters=form.filters(), action="export")
    if export_row_count(queryset) > settings.EXPORT_SYNC_MAX_ROWS:
        from .jobs import member_export_enqueue

        job = member_export_enqueue(actor=request.user, query=request.GET.urlencode())
        return redirect("core:job_detail", pk=job.pk)
    return xlsx_response(export_members(actor=request.user, queryset=queryset), _("党员名单"))


@never_cache
@action_required("import", "members")
def member_import_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    from .services import member_import_template as make_template

    return xlsx_response(make_template(), _("党员导入模板"))


@never_cache
@action_required("import", "members")
def member_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    from .services import member_import as import_members

    flow = ImportFlow(
        kind="members",
        title=_("导入党员"),
        run=import_members,
        template_url=reverse("members:import_template"),
        done_url=reverse("members:list"),
        back_url=reverse("members:list"),
    )
    return flow(request)

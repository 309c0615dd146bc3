"""Pages of the organisation tree: a lazily expanded tree browser, detail, create/edit/move/
deactivate, and the spreadsheet import and export."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from partyedu.core.forms import apply_validation_error
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, has_action, scope_for
from partyedu.core.views import ImportFlow, action_required, is_htmx_partial, posted, xlsx_response

from . import selectors, services
from .choices import ALLOWED_CHILD_LEVELS, OrgLevel
from .forms import OrganizationDeactivateForm, OrganizationForm, OrganizationMoveForm, OrganizationSearchForm
from .models import Organization

SEARCH_LIMIT = 200
PICKER_LIMIT = 20


def _with_counts(nodes: list[Organization], child_counts: dict[int, int] | None = None) -> list[Organization]:
    """Attach the cumulative member count of each node (one grouped query for all of them) and,
    when given, the number of children of the nodes it covers."""
    counts = selectors.member_counts(nodes)
    for node in nodes:
        node.member_total = counts.get(node.pk, 0)
        if child_counts is not None and node.pk in child_counts:
            # The attribute ``organization_children`` annotates (so the model cannot declare it).
            node.child_count = child_counts[node.pk]  # type: ignore[attr-defined]
    return nodes


@action_required("view", "organizations")
def tree(request: HttpRequest) -> HttpResponse:
    form = OrganizationSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context: dict[str, Any] = {
        "form": form,
        "q": q,
        "can_import": has_action(request.user, "import", "organizations"),
        "can_export": has_action(request.user, "export", "organizations"),
    }
    if q:
        results = list(
            selectors.organization_list(user=request.user, filters={"q": q}).order_by("path")[:SEARCH_LIMIT]
        )
        context.update(results=_with_counts(results), limit=SEARCH_LIMIT)
    else:
        roots = selectors.organization_roots(user=request.user)
        kids = selectors.organization_children(user=request.user, parent=roots[0]) if len(roots) == 1 else []
        _with_counts([*roots, *kids], selectors.child_counts(user=request.user, orgs=roots))
        if len(roots) == 1:
            # A single root (the usual case) is shown opened one level, without a second request.
            roots[0].inline_children = kids
        context["nodes"] = roots
    template = "organizations/_tree_body.html" if is_htmx_partial(request) else "organizations/tree.html"
    return render(request, template, context)


@action_required("view", "organizations")
def children(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX partial: the children of one node, each with its cumulative member count."""
    parent = selectors.organization_get(user=request.user, pk=pk)
    nodes = selectors.organization_children(user=request.user, parent=parent)
    response = render(
        request, "organizations/_children.html", {"nodes": _with_counts(nodes), "parent": parent}
    )
    response["Vary"] = "HX-Request"
    return response


@login_required
def picker(request: HttpRequest) -> HttpResponse:
    """HTMX partial: suggestions of an organisation picker (``organizations.picker.OrganizationPicker``).

    The scope parameters (``action``, ``app_label``, ``levels``) come in plainly from the widget
    and are only checked for form: the suggestions are always ``organization_choices`` of *this*
    user, so a changed parameter can only ask which organisations the user themself may act on,
    never widen that. A user without such a scope gets an empty list."""
    action = request.GET.get("action", "view")
    app_label = request.GET.get("app_label", "organizations")
    levels = [level for level in request.GET.get("levels", "").split(",") if level]
    if (
        not action.isidentifier()
        or len(action) > 32
        or app_label not in {config.label for config in apps.get_app_configs()}
        or not set(levels) <= set(OrgLevel.values)
    ):
        return HttpResponseBadRequest(_("参数无效"))
    q = request.GET.get("q", "").strip()[:100]
    orgs = selectors.organization_picker_options(
        user=request.user, q=q, action=action, app_label=app_label, levels=levels, limit=PICKER_LIMIT + 1
    )
    context = {"orgs": orgs[:PICKER_LIMIT], "more": len(orgs) > PICKER_LIMIT, "limit": PICKER_LIMIT, "q": q}
    response = render(request, "organizations/_picker_results.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("view", "organizations")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    org = selectors.organization_get(user=user, pk=pk)
    can_change = org.is_active and can(user, "change", org, app_label="organizations")
    visible = scope_for(user, "view", "organizations")
    ancestors = list(selectors.organization_ancestors(user=user, org=org))
    for ancestor in ancestors:
        ancestor.visible = visible.covers(ancestor.path)
    nodes = selectors.organization_children(user=user, parent=org)
    counts = selectors.member_counts([org, *nodes])
    for node in nodes:
        node.member_total = counts.get(node.pk, 0)
    context = {
        "org": org,
        "ancestors": ancestors,
        "nodes": nodes,
        "member_total": counts.get(org.pk, 0),
        # Advice from the apps above (members: the branch sizing rules), never errors.
        "warnings": [
            w for found in hooks.call("organizations.warnings", user=user, organization=org) for w in found
        ],
        "can_add": org.is_active
        and can(user, "add", org, app_label="organizations")
        and bool(ALLOWED_CHILD_LEVELS.get(org.level)),
        "can_change": can_change,
        # 移动 only where there is somewhere to move to (a parent of a fitting level in scope).
        "can_move": can_change and selectors.organization_move_targets(user=user, org=org).exists(),
        "can_delete": org.is_active
        and can(user, "delete", org, app_label="organizations")
        and org.parent_id is not None,
        "can_view_members": has_action(user, "view", "members"),
        "can_export": has_action(user, "export", "organizations"),
    }
    return render(request, "organizations/detail.html", context)


@action_required("add", "organizations")
def create(request: HttpRequest) -> HttpResponse:
    parent = selectors.organization_get(
        user=request.user, pk=request.POST.get("parent") or request.GET.get("parent"), action="add"
    )
    form = OrganizationForm(posted(request), parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(actor=request.user, parent=parent, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已新建“%(name)s”") % {"name": org.name})
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/form.html", {"form": form, "parent": parent, "org": None})


@action_required("change", "organizations")
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get(user=request.user, pk=pk, action="change")
    form = OrganizationForm(posted(request), initial=OrganizationForm.initial_from(org), parent=org.parent)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_update(actor=request.user, org=org, data=form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/form.html", {"form": form, "parent": org.parent, "org": org})


@action_required("change", "organizations")
def move(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get(user=request.user, pk=pk, action="change")
    form = OrganizationMoveForm(posted(request), user=request.user, initial={"parent": org.parent_id})
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_move(
                actor=request.user, org=org, new_parent=form.cleaned_data["parent"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request, _("已将“%(name)s”移到“%(parent)s”之下") % {"name": org.name, "parent": org.parent}
            )
            return redirect("organizations:detail", pk=org.pk)
    return render(request, "organizations/move.html", {"form": form, "org": org})


@action_required("delete", "organizations")
def deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get(user=request.user, pk=pk, action="delete")
    form = OrganizationDeactivateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_deactivate(actor=request.user, org=org)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已撤销“%(name)s”及其下级组织") % {"name": org.name})
            return redirect("organizations:tree")
    member_total = selectors.member_counts([org]).get(org.pk, 0)
    return render(
        request, "organizations/deactivate.html", {"form": form, "org": org, "member_total": member_total}
    )


@never_cache
@action_required("export", "organizations")
def export(request: HttpRequest) -> HttpResponse:
    """The organisations in the user's export scope (optionally a search and a subtree) as xlsx;
    more than EXPORT_SYNC_MAX_ROWS of them (counted no further) are built by a background job,
    and the user is sent to its page."""
    from partyedu.core.export_jobs import export_row_count

    from .jobs import organization_export_filters, organization_export_job_or_none
    from .services import organization_export

    q = request.GET.get("q", "")
    within = None
    if request.GET.get("within"):
        within = selectors.organization_get(user=request.user, pk=request.GET["within"])
    filters = organization_export_filters(q=q, within=within)
    queryset = selectors.organization_list(user=request.user, filters=filters, action="export").order_by(
        "path"
    )
    job = organization_export_job_or_none(
        actor=request.user, q=q, within=within, rows=export_row_count(queryset)
    )
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    return xlsx_response(organization_export(actor=request.user, queryset=queryset), _("党组织名单"))


@never_cache
@action_required("import", "organizations")
def import_template(request: HttpRequest) -> HttpResponse:
    from . import services as org_services

    make_template = getattr(org_services, "organization_import_template", None)
    if make_template is not None:
        content = make_template()
    else:  # the headers of an empty export are the import headers
        content = org_services.organization_export(actor=request.user, queryset=Organization.objects.none())
    return xlsx_response(content, _("党组织导入模板"))


@never_cache
@action_required("import", "organizations")
def import_(request: HttpRequest) -> HttpResponse:
    from .services import organization_import

    flow = ImportFlow(
        kind="organizations",
        title=_("导入党组织"),
        run=organization_import,
        template_url=reverse("organizations:import_template"),
        done_url=reverse("organizations:tree"),
        back_url=reverse("organizations:tree"),
    )
    return flow(request)

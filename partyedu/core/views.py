"""Home page, audit log, and the view plumbing every app shares: permission decorator, pagination,
xlsx download and the two-step (dry run → confirm) spreadsheet import."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_safe

from partyedu.core.hooks import hooks
from partyedu.core.scope import require_anywhere, scope_for

from . import selectors
from .audit_display import AuditEntry, audit_changes, audit_object, related_references
from .forms import AuditFilterForm, ImportUploadForm
from .pagination import BoundedCountPaginator, KnownCountPaginator
from .todo import todo_sections, todos_for

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

T = TypeVar("T")
PAGE_SIZE = 50
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_IMPORTS = "pending_imports"


def action_required(
    action: str, app_label: str, *, subtree: bool = False
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Anonymous → login page; a user whose roles grant the action nowhere → 403
    (``scope.require_anywhere``). ``subtree=True`` is for pages that manage an organisation's data:
    the action must be held over a subtree, not only on the user's own rows (党员, 讲师) or
    assignments (评委). Whether a given row is within scope is the selector's business (404)."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            message = _("您没有执行此操作的权限")
            if subtree:
                if not scope_for(request.user, action, app_label).paths:
                    raise PermissionDenied(message)
            else:
                require_anywhere(request.user, action, app_label=app_label, message=message)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator


def posted(request: HttpRequest) -> Any:
    """The POST data of a POST request (even an empty one, so an unticked checkbox still binds the
    form), else None."""
    return request.POST if request.method == "POST" else None


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE, *, count: int | None = None
) -> Page:
    """The page of ``?page=`` (the first or last page for a number out of range). ``count``: the
    list's length when summary rows already know it; otherwise the list is counted only up to a
    bound well past the page (``pagination.BoundedCountPaginator``), never all of it."""
    number = request.GET.get("page")
    paginator: Paginator
    if count is not None:
        paginator = KnownCountPaginator(queryset, per_page, count=count)
    else:
        paginator = BoundedCountPaginator.for_page(queryset, per_page, number)
    return paginator.get_page(number)


def is_htmx_partial(request: HttpRequest) -> bool:
    """An HTMX request that wants a fragment (not a history restore, which needs the whole page)."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def htmx_or_page(request: HttpRequest, partial: str, page: str, context: dict[str, Any]) -> HttpResponse:
    """The partial for an HTMX request (a filter or a pager), the whole page otherwise."""
    response = render(request, partial if is_htmx_partial(request) else page, context)
    response["Vary"] = "HX-Request"
    return response


def form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[], T],
    *,
    message: Callable[[T], str],
    then: Callable[[T], str],
    template: str,
    context: dict[str, Any] | None = None,
    field_map: dict[str, str] | None = None,
) -> HttpResponse:
    """The shape of every create and edit page: a valid POST calls the service (``save``, in one
    transaction); its ``ValidationError`` goes on the form's fields (nothing was written), else the
    success ``message`` is shown and the user goes on to ``then(obj)``. A GET, or a POST with
    errors, shows the form."""
    from .forms import apply_validation_error

    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                obj = save()
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map)
        else:
            messages.success(request, message(obj))
            return redirect(then(obj))
    return render(request, template, {"form": form, **(context or {})})


def xlsx_response(content: bytes, basename: str) -> HttpResponse:
    """An xlsx download named ``<basename>_YYYYMMDD.xlsx``."""
    filename = f"{basename}_{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    response["Cache-Control"] = "no-store"
    return response


FAVICON = "img/favicon.svg"


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and tools ask for whatever a page links: public, a temporary
    redirect (the static name is hashed in production) to the site icon, cached for a day."""
    response = redirect(static(FAVICON))
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # What the apps above show there (members: the user's own record) comes through the hook.
    context: dict[str, Any] = {
        "todo_sections": todo_sections(todos_for(user=request.user)),
        "today": timezone.localdate(),
    }
    panels: list[dict[str, Any]] = []
    for extra in hooks.call("core.home", user=request.user):
        # Panels from several apps add up; the rest of the context is each app's own keys.
        panels += extra.pop("home_panels", [])
        context.update(extra)
    context["home_panels"] = panels
    return render(request, "core/home.html", context)


@require_GET
@action_required("view_audit", "core")
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(request, selectors.audit_list(user=request.user, filters=filters))
    # Named from the row itself and the app registry: no query per row.
    entries = [
        AuditEntry(
            row=row,
            object=audit_object(row.object_type, row.object_id, row.object_repr),
            changes=audit_changes(row.object_type, row.changes),
        )
        for row in page
    ]
    template = "core/_audit_table.html" if is_htmx_partial(request) else "core/audit_list.html"
    return render(request, template, {"form": form, "page_obj": page, "entries": entries})


@require_GET
@action_required("view_audit", "core")
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.audit_get(user=request.user, pk=pk)
    refs = related_references(row.object_type, row.changes)
    names = selectors.audit_names(user=request.user, refs=refs, at=row.created_at) if refs else {}
    entry = AuditEntry(
        row=row,
        object=audit_object(row.object_type, row.object_id, row.object_repr),
        changes=audit_changes(row.object_type, row.changes, names=names),
    )
    return render(request, "core/audit_detail.html", {"entry": entry})


# --- Spreadsheet import: upload → dry run report → confirm → real run ---------------------------------


class ImportFlow:
    """The import page of one kind of data. The uploaded bytes are kept under
    ``MEDIA_ROOT/imports/<random token>.<ext>`` between the dry run and the confirmation; the token is
    bound to the uploader's session and user, and the file is deleted after the real run."""

    def __init__(
        self,
        *,
        kind: str,
        title: str,
        run: Callable[..., Any],
        template_url: str,
        done_url: str,
        back_url: str,
        run_params: dict[str, Any] | None = None,
    ) -> None:
        # ``run`` is a module-level function (a background job finds it by its dotted path);
        # ``run_params``, JSON values, are the keyword arguments it needs beyond the file, e.g. the
        # question bank's id of an import into one bank.
        self.kind = kind
        self.title = title
        self.run = run
        self.run_params = dict(run_params or {})
        self.template_url = template_url
        self.done_url = done_url
        self.back_url = back_url

    # session bookkeeping -------------------------------------------------------------------------
    def _pending(self, request: HttpRequest) -> dict[str, dict[str, Any]]:
        return request.session.get(PENDING_IMPORTS, {})

    def _remember(self, request: HttpRequest, token: str, entry: dict[str, Any]) -> None:
        pending = self._pending(request)
        # One pending upload per kind and user: a new upload replaces (and deletes) the previous one.
        for old_token, old in list(pending.items()):
            if old.get("kind") == self.kind:
                default_storage.delete(old["name"])
                del pending[old_token]
        pending[token] = entry
        request.session[PENDING_IMPORTS] = pending

    def _take(self, request: HttpRequest, token: str) -> dict[str, Any] | None:
        entry = self._pending(request).get(token)
        if not entry or entry.get("kind") != self.kind or entry.get("user") != request.user.pk:
            return None
        return entry

    def _forget(self, request: HttpRequest, token: str) -> None:
        pending = self._pending(request)
        entry = pending.pop(token, None)
        if entry:
            default_storage.delete(entry["name"])
        request.session[PENDING_IMPORTS] = pending

    # the page ------------------------------------------------------------------------------------
    def _render(self, request: HttpRequest, form: ImportUploadForm, **extra: Any) -> HttpResponse:
        context = {
            "title": self.title,
            "form": form,
            "template_url": self.template_url,
            "back_url": self.back_url,
            **extra,
        }
        return render(request, "core/import.html", context)

    def _enqueue(self, request: HttpRequest, entry: dict[str, Any], token: str, *, kind: str) -> Any:
        from .jobs import job_enqueue

        verb = "检查" if kind == "core.import_check" else "导入"
        return job_enqueue(
            actor=request.user,
            kind=kind,
            label=f"{self.title}：{verb}“{entry['filename']}”",
            key=f"{kind}:{token}",
            params={
                "runner": f"{self.run.__module__}.{self.run.__qualname__}",
                "runner_params": self.run_params,
                "name": entry["name"],
                "filename": entry["filename"],
                "token": token,
                "import_url": request.path,
                "done_url": self.done_url,
                "back_url": self.back_url,
            },
        )

    def _run(self, request: HttpRequest, entry: dict[str, Any], *, dry_run: bool) -> Any:
        with default_storage.open(entry["name"], "rb") as handle:
            return self.run(
                actor=request.user,
                file=handle,
                filename=entry["filename"],
                dry_run=dry_run,
                **self.run_params,
            )

    def __call__(self, request: HttpRequest) -> HttpResponse:  # noqa: PLR0911 - one answer per step of the import dialogue
        from partyedu.core.importing import ImportFileError, estimate_rows

        if request.method != "POST":
            return self._render(request, ImportUploadForm())

        token = request.POST.get("token", "")
        if token:
            entry = self._take(request, token)
            if entry is None:
                messages.error(request, _("待导入的文件已失效，请重新上传"))
                return redirect(request.path)
            if "cancel" in request.POST:
                self._forget(request, token)
                messages.info(request, _("已取消导入"))
                return redirect(request.path)
            if entry.get("large"):
                # The file stays for the job, which deletes it when done.
                pending = self._pending(request)
                pending.pop(token, None)
                request.session[PENDING_IMPORTS] = pending
                job = self._enqueue(request, entry, token, kind="core.import_commit")
                return redirect("core:job_detail", pk=job.pk)
            try:
                report = self._run(request, entry, dry_run=False)
            except ImportFileError as exc:
                self._forget(request, token)
                form = ImportUploadForm()
                form.add_error(None, str(exc))
                return self._render(request, form)
            self._forget(request, token)
            if report.ok:
                messages.success(
                    request,
                    _("导入完成：共%(total)d行，新增%(created)d条，更新%(updated)d条")
                    % {"total": report.total_rows, "created": report.created, "updated": report.updated},
                )
                return redirect(self.done_url)
            # The real run is all-or-nothing: nothing was written.
            return self._render(request, ImportUploadForm(), report=report, committed_failed=True)

        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form)
        upload = form.cleaned_data["file"]
        extension = PurePath(upload.name).suffix.lower().lstrip(".")
        token = secrets.token_urlsafe(24)
        content = upload.read()
        name = default_storage.save(f"imports/{token}.{extension}", ContentFile(content))
        entry = {"kind": self.kind, "name": name, "filename": upload.name, "user": request.user.pk}
        if estimate_rows(content, upload.name) > settings.IMPORT_JOB_MIN_ROWS:
            # A large file is checked in the background; its page offers the confirmation.
            entry["large"] = True
            self._remember(request, token, entry)
            job = self._enqueue(request, entry, token, kind="core.import_check")
            return redirect("core:job_detail", pk=job.pk)
        try:
            report = self._run(request, entry, dry_run=True)
        except ImportFileError as exc:
            default_storage.delete(name)
            form.add_error("file", str(exc))
            return self._render(request, form)
        if not report.ok:
            default_storage.delete(name)
            return self._render(request, ImportUploadForm(), report=report)
        self._remember(request, token, entry)
        return self._render(request, ImportUploadForm(), report=report, token=token, filename=upload.name)


# --- Background jobs ----------------------------------------------------------------------------------


@require_GET
@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.job_list(user=request.user), per_page=20)
    return render(request, "core/job_list.html", {"page_obj": page})


@require_GET
@login_required
def job_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    """The progress page; while the job runs, HTMX asks for the progress fragment every second."""
    from .jobs import registered_kinds

    job = selectors.job_get(user=request.user, pk=pk)
    kind = registered_kinds().get(job.kind)
    context = {
        "job": job,
        "back_url": job.params.get("back_url", ""),
        "result_template": kind.result_template if kind else "",
    }
    template = "core/_job_progress.html" if is_htmx_partial(request) else "core/job_detail.html"
    return render(request, template, context)


@require_GET
@login_required
def job_download(request: HttpRequest, pk: Any) -> FileResponse:
    from django.http import Http404

    job = selectors.job_get(user=request.user, pk=pk)
    if not job.finished or not job.result_file:
        raise Http404
    response = FileResponse(
        job.result_file.open("rb"), as_attachment=True, filename=PurePath(job.result_file.name).name
    )
    response["Cache-Control"] = "no-store"
    return response

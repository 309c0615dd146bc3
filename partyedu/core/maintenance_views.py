"""系统维护 pages: the registered rebuilds with their latest run, and starting one as 检查 (dry
run) or 修复 (apply) in the background. For the 系统管理员 only (``maintenance.can_maintain``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .maintenance import can_maintain, rebuild_enqueue, rebuild_get, rebuild_latest, registered_rebuilds

MODES = {"check": False, "apply": True}


def maintenance_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → login page; anyone but a 系统管理员 → 403."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_maintain(request.user):
            raise PermissionDenied(_("只有系统管理员可以使用系统维护"))
        return view(request, *args, **kwargs)

    return login_required(checked)


@require_GET
@maintenance_required
def maintenance(request: HttpRequest) -> HttpResponse:
    rebuilds = registered_rebuilds()
    latest = rebuild_latest([rebuild.name for rebuild in rebuilds])
    rows = [{"rebuild": rebuild, "job": latest.get(rebuild.name)} for rebuild in rebuilds]
    return render(request, "core/maintenance.html", {"rows": rows})


@require_POST
@maintenance_required
def maintenance_start(request: HttpRequest, name: str) -> HttpResponse:
    """Start a rebuild (``mode`` = check | apply); while one of the same rebuild is unfinished,
    that one is shown instead (its page, when it is the user's own)."""
    rebuild = rebuild_get(name)
    if rebuild is None:
        raise Http404
    mode = request.POST.get("mode", "")
    if mode not in MODES:
        messages.error(request, _("请选择“检查”或“修复”"))
        return redirect("core:maintenance")
    job, new = rebuild_enqueue(actor=request.user, rebuild=rebuild, apply=MODES[mode])
    if new:
        return redirect("core:job_detail", pk=job.pk)
    if job.created_by_id == request.user.pk:
        messages.info(request, _("“%(label)s”尚未结束，请等它完成后再发起") % {"label": job.label})
        return redirect("core:job_detail", pk=job.pk)
    messages.warning(
        request,
        _("%(who)s于%(time)s发起的“%(label)s”尚未结束，请等它完成后再发起")
        % {
            "who": job.created_by or _("系统"),
            "time": f"{timezone.localtime(job.created_at):%H:%M}",
            "label": job.label,
        },
    )
    return redirect("core:maintenance")

"""The notification centre: the signed-in user's own notifications (another user's is a 404),
marking them read one by one or all at once (HTMX swaps the row and the navbar's count, and
every form works without JavaScript), and the user's outbound-channel preference."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import notifications as service
from .choices import NotificationChannel
from .views import is_htmx_partial, paginate


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = paginate(
        request, service.notification_list(user=request.user, unread_only=unread_only), per_page=20
    )
    context = {
        "page_obj": page,
        "unread_only": unread_only,
        "unread_count": service.notification_unread_count(user=request.user),
        "channel": service.notification_preference_get(user=request.user),
        "channels": NotificationChannel.choices,
        "hx_target": "#notification-items",
    }
    template = "core/_notification_items.html" if is_htmx_partial(request) else "core/notification_list.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


@require_GET
@login_required
def notification_count(request: HttpRequest) -> HttpResponse:
    """The navbar's unread badges, asked for by HTMX once a page has loaded (one indexed count),
    so that rendering a page costs no query for them."""
    context = {"unread_count": service.notification_unread_count(user=request.user)}
    # Without the request: the badges need no context processor (the menu would load the roles).
    response = HttpResponse(render_to_string("core/_notification_count.html", context))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read. ``open=1``: then go to the page it links to (the item's main button)."""
    notification = service.notification_mark_read(user=request.user, pk=pk)
    if request.POST.get("open") == "1" and notification.url:
        target = notification.url
        if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
    if is_htmx_partial(request):
        context = {"n": notification, "unread_count": service.notification_unread_count(user=request.user)}
        return render(request, "core/_notification_read.html", context)
    return redirect("core:notification_list")


@require_POST
@login_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = service.notification_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": count})
    return redirect("core:notification_list")


@require_POST
@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    try:
        service.notification_preference_set(user=request.user, channel=request.POST.get("channel", ""))
    except ValidationError as exc:
        for error in exc.message_dict.get("channel", exc.messages):
            messages.error(request, error)
    else:
        messages.success(request, _("通知外发方式已保存"))
    return redirect("core:notification_list")

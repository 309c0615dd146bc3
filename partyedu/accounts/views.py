"""Sign-in (password, then the one-time code where the user has a device), the user's own
security pages (password, two-factor sign-in, API tokens), and account administration (三员分立:
the 系统管理员 creates and (de)activates accounts, the 安全管理员 assigns roles and personal-data
grants and resets second factors)."""

from __future__ import annotations

from typing import Any

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.middleware import is_verified
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import has_action, has_role
from partyedu.core.views import action_required, paginate, posted

from . import otp, selectors, services, throttle
from .choices import RoleCode
from .forms import (
    LoginForm,
    OtpCodeForm,
    OtpDisableForm,
    PasswordChangeForm,
    PiiGrantForm,
    RecoveryCodeForm,
    RoleAssignForm,
    UserCreateForm,
    UserSearchForm,
)
from .models import User
from .types import AuthenticatedHttpRequest


class LoginView(auth_views.LoginView):
    """Sign in by user name or mobile number. ``AuthenticationForm`` passes the request to
    ``authenticate`` so that django-axes can count failures per account. A user with a second
    factor is not signed in yet: the session waits for the code (``otp_verify``)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if otp.otp_enrolled(user):
            otp.pending_start(self.request, user, self.get_success_url())
            return redirect("accounts:otp_verify")
        # Signed in; a user whose role requires a device is sent on to enrolment by the middleware,
        # which decides afresh for this sign-in.
        response = super().form_valid(form)
        self.request.session.pop(otp.EXEMPT_SESSION_KEY, None)
        return response


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def lockout_response(
    request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this (AXES_LOCKOUT_CALLABLE) when an account is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=403)


# --- Two-factor sign-in -----------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return str(resolve_url(settings.LOGIN_REDIRECT_URL))


def _session_verified(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_authenticated
        and (
            is_verified(user)  # what OTPMiddleware installs as ``user.is_verified()``
            or request.session.get(BACKEND_SESSION_KEY) in settings.OTP_VERIFIED_SESSION_BACKENDS
        )
    )


def _end_sign_in(request: HttpRequest) -> None:
    otp.pending_clear(request)
    if request.user.is_authenticated:
        logout(request)


@sensitive_post_parameters()
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a sign-in: a code of the authenticator, or a recovery code. Serves the
    session waiting after a right password (``otp.pending``) and a signed-in session that has
    not passed the second factor yet."""
    waiting = otp.pending(request)
    user: User
    backend: str | None
    if waiting is not None:
        user, backend, next_url = waiting
    elif request.user.is_authenticated and not _session_verified(request) and otp.otp_enrolled(request.user):
        user, backend, next_url = request.user, None, request.GET.get("next", "")
    else:
        return redirect("accounts:login")
    use_recovery = "recovery-token" in request.POST
    code_form = OtpCodeForm(request.POST if request.method == "POST" and not use_recovery else None)
    recovery_form = RecoveryCodeForm(request.POST if use_recovery else None)
    form = recovery_form if use_recovery else code_form
    if request.method == "POST" and form.is_valid():
        username = user.get_username()
        token = form.cleaned_data["token"]
        if not AxesProxyHandler.is_allowed(request, {"username": username}):
            _end_sign_in(request)
            return lockout_response(request)
        refusal = throttle.check(request, username)
        wait = 0 if refusal else otp.wait_seconds(user, token)
        if refusal is not None:
            form.add_error("token", refusal.message)
        elif wait:
            form.add_error("token", _("尝试过于频繁，请等待%(seconds)s秒后再试") % {"seconds": wait})
        else:
            device = otp.otp_check(user, token)
            if device is None:
                otp.failure_signal(request, user)
                if getattr(request, "axes_locked_out", False):
                    _end_sign_in(request)  # the axes middleware answers with the lockout page
                    return lockout_response(request)
                form.add_error("token", _("动态验证码或恢复码不正确"))
            else:
                otp.pending_clear(request)
                if not request.user.is_authenticated:
                    login(request, user, backend)
                django_otp.login(request, device)
                if isinstance(device, StaticDevice):
                    left = StaticToken.objects.filter(device__user=user).count()
                    messages.warning(
                        request,
                        _(
                            "您使用了恢复码登录，还剩%(left)s个。手机不在身边时，请尽快在“双因素认证”页重新绑定。"
                        )
                        % {"left": left},
                    )
                return redirect(_safe_next(request, next_url))
    context = {"code_form": code_form, "recovery_form": recovery_form, "use_recovery": use_recovery}
    return render(request, "accounts/otp_verify.html", context)


@sensitive_post_parameters()
@never_cache
@login_required
def otp_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Bind an authenticator app: scan the QR code (or type the secret), confirm with a code,
    then see the ten recovery codes once. Replacing a device needs a verified session."""
    user = request.user
    if otp.otp_enrolled(user) and not _session_verified(request):
        return redirect("accounts:otp_verify")
    device = services.otp_device_begin(user=user)
    form = OtpCodeForm(posted(request))
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.otp_device_confirm(
                actor=user, user=user, device=device, token=form.cleaned_data["token"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            django_otp.login(request, device)
            request.session.pop(otp.EXEMPT_SESSION_KEY, None)
            return _recovery_codes_page(request, codes, next_url=_safe_next(request, next_url), enrolled=True)
    context = {
        "form": form,
        "qr_svg": otp.qr_svg(device),
        "secret": otp.secret_text(device),
        "required": otp.otp_required(user),
        "replacing": otp.otp_enrolled(user),
        "next": next_url,
    }
    return render(request, "accounts/otp_enrol.html", context)


def _recovery_codes_page(
    request: HttpRequest, codes: list[str], *, next_url: str, enrolled: bool = False
) -> HttpResponse:
    context = {
        "codes": [otp.recovery_code_display(c) for c in codes],
        "next": next_url,
        "enrolled": enrolled,
    }
    response = render(request, "accounts/otp_recovery_codes.html", context)
    add_never_cache_headers(response)  # the codes are shown once and must not stay in a cache
    return response


@never_cache
@login_required
def otp_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's two-factor page: whether it is on, required, how many recovery codes are left."""
    user = request.user
    enrolled = otp.otp_enrolled(user)
    required = otp.otp_required(user)
    context = {
        "enrolled": enrolled,
        "required": required,
        "recovery_left": StaticToken.objects.filter(device__user=user).count() if enrolled else 0,
        "disable_form": OtpDisableForm() if enrolled and not required else None,
    }
    return render(request, "accounts/otp_settings.html", context)


@require_POST
@login_required
def otp_recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        codes = services.otp_recovery_codes_regenerate(actor=request.user, user=request.user)
    except ValidationError:
        messages.error(request, _("尚未启用双因素认证"))
        return redirect("accounts:otp_settings")
    return _recovery_codes_page(request, codes, next_url=resolve_url("accounts:otp_settings"))


@sensitive_post_parameters()
@require_POST
@login_required
def otp_disable(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = OtpDisableForm(request.POST)
    if form.is_valid():
        try:
            services.otp_disable(actor=user, user=user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            request.session[otp.EXEMPT_SESSION_KEY] = user.pk
            messages.success(request, _("已关闭双因素认证"))
            return redirect("accounts:otp_settings")
    context = {
        "enrolled": True,
        "required": False,
        "recovery_left": StaticToken.objects.filter(device__user=user).count(),
        "disable_form": form,
    }
    return render(request, "accounts/otp_settings.html", context, status=400)


@require_POST
@action_required("manage_roles", "accounts")
def otp_reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The 安全管理员 removes another user's authenticator and recovery codes."""
    target = selectors.user_get(user=request.user, pk=pk)
    services.otp_reset(actor=request.user, user=target)
    messages.success(request, _("已重置该账号的双因素认证，其下次登录须重新绑定（如其角色要求）"))
    return redirect("accounts:user_detail", pk=target.pk)


# --- API tokens ----------------------------------------------------------------------------------------


@login_required
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """我的登录令牌: the user's own API tokens that still work, and revoking them."""
    tokens = selectors.api_token_list(user=request.user)
    return render(request, "accounts/token_list.html", {"tokens": tokens})


@require_POST
@login_required
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_get(user=request.user, pk=pk)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("已撤销令牌 %(prefix)s…") % {"prefix": token.prefix})
    return redirect("accounts:token_list")


@require_POST
@login_required
def token_revoke_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = services.api_tokens_revoke_all(actor=request.user, user=request.user)
    messages.success(request, _("已撤销全部%(count)s个令牌") % {"count": count})
    return redirect("accounts:token_list")


@sensitive_post_parameters()
@login_required
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.user, user=request.user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("密码已修改"))
            return redirect("core:home")
    context = {
        "form": form,
        "expired": request.GET.get("expired") == "1",
        "rules": password_validators_help_texts(),
        "max_age_days": getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0),
    }
    return render(request, "accounts/password_change.html", context)


@action_required("view", "accounts")
def user_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = paginate(request, selectors.user_list_with_roles(user=request.user, q=q))
    context = {
        "form": form,
        "page_obj": page,
        "can_manage_users": has_action(request.user, "manage_users", "accounts"),
    }
    return render(request, "accounts/user_list.html", context)


def _user_detail(
    request: HttpRequest,
    target: User,
    *,
    role_form: RoleAssignForm | None = None,
    pii_form: PiiGrantForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_manage_roles = has_action(user, "manage_roles", "accounts")
    can_grant_pii = has_action(user, "grant_pii", "accounts")
    context = {
        "target": target,
        "target_otp_enrolled": otp.otp_enrolled(target),
        "target_otp_required": otp.otp_required(target),
        "can_reset_otp": can_manage_roles and has_role(user, RoleCode.SECADMIN) and target.pk != user.pk,
        "assignments": selectors.user_role_assignments(user=user, target=target),
        "pii_grants": selectors.pii_grant_list(user=user, target=target),
        "can_manage_roles": can_manage_roles,
        "can_grant_pii": can_grant_pii,
        "can_manage_users": has_action(user, "manage_users", "accounts"),
        "role_form": role_form or (RoleAssignForm(user=user) if can_manage_roles else None),
        "pii_form": pii_form or (PiiGrantForm(user=user) if can_grant_pii else None),
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@action_required("view", "accounts")
def user_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _user_detail(request, selectors.user_get(user=request.user, pk=pk))


@sensitive_post_parameters()
@action_required("manage_users", "accounts")
def user_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
                mobile=data["mobile"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, {"password": "password1"})
        else:
            messages.success(
                request, _("已创建账号“%(name)s”，请由安全管理员分配角色") % {"name": created.username}
            )
            return redirect("accounts:user_detail", pk=created.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@require_POST
@action_required("manage_users", "accounts")
def user_set_active(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    is_active = request.POST.get("is_active") == "1"
    if target.pk == request.user.pk and not is_active:
        raise PermissionDenied(_("不能停用自己的账号"))
    services.user_set_active(actor=request.user, user=target, is_active=is_active)
    messages.success(request, _("账号已启用") if is_active else _("账号已停用"))
    return redirect("accounts:user_detail", pk=target.pk)


@require_POST
@action_required("manage_roles", "accounts")
def role_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    form = RoleAssignForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.role_assign(
                actor=request.user,
                user=target,
                role_code=form.cleaned_data["role"],
                organization=form.cleaned_data["organization"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已分配角色"))
            return redirect("accounts:user_detail", pk=target.pk)
    return _user_detail(request, target, role_form=form)


@require_POST
@action_required("manage_roles", "accounts")
def role_revoke(request: AuthenticatedHttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    assignment = get_object_or_404(
        selectors.user_role_assignments(user=request.user, target=target), pk=assignment_pk
    )
    services.role_revoke(actor=request.user, assignment=assignment)
    messages.success(request, _("已撤销角色"))
    return redirect("accounts:user_detail", pk=target.pk)


@require_POST
@action_required("grant_pii", "accounts")
def pii_grant(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    form = PiiGrantForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.pii_grant_create(
                actor=request.user,
                user=target,
                organization=form.cleaned_data["organization"],
                reason=form.cleaned_data["reason"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("已授予敏感信息查看权限"))
            return redirect("accounts:user_detail", pk=target.pk)
    return _user_detail(request, target, pii_form=form)


@require_POST
@action_required("grant_pii", "accounts")
def pii_revoke(request: AuthenticatedHttpRequest, pk: int, grant_pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    grant = get_object_or_404(
        selectors.pii_grant_list(user=request.user, target=target).filter(revoked_at__isnull=True),
        pk=grant_pk,
    )
    services.pii_grant_revoke(actor=request.user, grant=grant)
    messages.success(request, _("已撤销敏感信息查看权限"))
    return redirect("accounts:user_detail", pk=target.pk)

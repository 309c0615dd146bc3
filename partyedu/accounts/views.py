"""Sign-in, password change, and account administration (三员分立: the 系统管理员 creates and
(de)activates accounts, the 安全管理员 assigns roles and personal-data grants)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from partyedu.core.forms import apply_validation_error
from partyedu.core.scope import has_action
from partyedu.core.views import action_required, paginate, posted

from . import selectors, services
from .forms import LoginForm, PasswordChangeForm, PiiGrantForm, RoleAssignForm, UserCreateForm, UserSearchForm
from .models import User


class LoginView(auth_views.LoginView):
    """Sign in by user name or mobile number. ``AuthenticationForm`` passes the request to
    ``authenticate`` so that django-axes can count failures per account."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def lockout_response(
    request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this (AXES_LOCKOUT_CALLABLE) when an account is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=403)


@sensitive_post_parameters()
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
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
def user_list(request: HttpRequest) -> HttpResponse:
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
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_detail(request, selectors.user_get(user=request.user, pk=pk))


@sensitive_post_parameters()
@action_required("manage_users", "accounts")
def user_create(request: HttpRequest) -> HttpResponse:
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
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    is_active = request.POST.get("is_active") == "1"
    if target.pk == request.user.pk and not is_active:
        raise PermissionDenied(_("不能停用自己的账号"))
    services.user_set_active(actor=request.user, user=target, is_active=is_active)
    messages.success(request, _("账号已启用") if is_active else _("账号已停用"))
    return redirect("accounts:user_detail", pk=target.pk)


@require_POST
@action_required("manage_roles", "accounts")
def role_assign(request: HttpRequest, pk: int) -> HttpResponse:
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
def role_revoke(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    assignment = get_object_or_404(
        selectors.user_role_assignments(user=request.user, target=target), pk=assignment_pk
    )
    services.role_revoke(actor=request.user, assignment=assignment)
    messages.success(request, _("已撤销角色"))
    return redirect("accounts:user_detail", pk=target.pk)


@require_POST
@action_required("grant_pii", "accounts")
def pii_grant(request: HttpRequest, pk: int) -> HttpResponse:
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
def pii_revoke(request: HttpRequest, pk: int, grant_pk: int) -> HttpResponse:
    target = selectors.user_get(user=request.user, pk=pk)
    grant = get_object_or_404(
        selectors.pii_grant_list(user=request.user, target=target).filter(revoked_at__isnull=True),
        pk=grant_pk,
    )
    services.pii_grant_revoke(actor=request.user, grant=grant)
    messages.success(request, _("已撤销敏感信息查看权限"))
    return redirect("accounts:user_detail", pk=target.pk)

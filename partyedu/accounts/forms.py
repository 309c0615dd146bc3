"""Forms of the account pages. They only parse input; the services validate and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from partyedu.core.forms import DateInput
from partyedu.organizations.picker import OrganizationChoiceField

from . import otp, throttle
from .choices import RoleCode
from .types import User, Viewer


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或手机号"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("用户名（或手机号）或密码不正确。请注意密码区分大小写。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def clean(self) -> dict[str, Any]:
        # The progressive delay and the address limit refuse an attempt before the password is
        # even checked (and the refusal is not counted as a failure).
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            refusal = throttle.check(self.request, username)
            if refusal is not None:
                raise forms.ValidationError(refusal.message, code="throttled")
        return super().clean()


class OtpCodeForm(forms.Form):
    """The 6-digit code of an authenticator app (sign-in step, enrolment)."""

    token = forms.CharField(
        label=_("动态验证码"),
        max_length=12,
        help_text=_("打开手机上的验证器应用，输入本平台当前显示的6位数字"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = otp.normalize(self.cleaned_data["token"])
        if not otp.is_totp_code(token):
            raise forms.ValidationError(_("请输入6位数字"))
        return token


class RecoveryCodeForm(forms.Form):
    """One of the ten recovery codes, when the phone is not at hand."""

    prefix = "recovery"
    token = forms.CharField(
        label=_("恢复码"),
        max_length=20,
        help_text=_("启用双因素认证时保存的10个恢复码之一，形如 abcd-efgh，每个只能使用一次"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean_token(self) -> str:
        return otp.normalize(self.cleaned_data["token"])


class OtpDisableForm(forms.Form):
    prefix = "disable"
    token = forms.CharField(
        label=_("动态验证码或恢复码"),
        max_length=20,
        help_text=_("为确认是您本人操作，请输入验证器当前显示的6位数字或一个恢复码"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    # The rules are listed above the form (see the template), not repeated under the field.
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self) -> str:
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("原密码不正确"))
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        new1, new2 = data.get("new_password1"), data.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error("new_password2", _("两次输入的新密码不一致"))
        if new1 and data.get("old_password") and new1 == data["old_password"]:
            self.add_error("new_password1", _("新密码不能与原密码相同"))
        return data


class UserSearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("用户名或姓名")}),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150, help_text=_("登录用，建议用拼音或工号"))
    display_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    mobile = forms.CharField(label=_("手机号"), max_length=11, required=False, help_text=_("可用手机号登录"))
    password1 = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_mobile(self) -> str:
        mobile = self.cleaned_data["mobile"].strip()
        if mobile and not (mobile.isdigit() and len(mobile) == 11 and mobile.startswith("1")):
            raise forms.ValidationError(_("手机号应为1开头的11位数字"))
        return mobile

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


class RoleAssignForm(forms.Form):
    prefix = "role"
    role = forms.ChoiceField(label=_("角色"), choices=RoleCode.choices)
    organization = OrganizationChoiceField(
        label=_("所在组织"), queryset=None, help_text=_("角色覆盖该组织及其全部下级")
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="manage_roles", app_label="accounts"
        )


class PiiGrantForm(forms.Form):
    prefix = "pii"
    organization = OrganizationChoiceField(label=_("授权范围（组织）"), queryset=None)
    reason = forms.CharField(label=_("授权事由"), max_length=200)
    valid_until = forms.DateField(
        label=_("有效期至"), required=False, widget=DateInput(), help_text=_("留空表示长期有效")
    )

    def __init__(self, *args: Any, user: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(OrganizationChoiceField, self.fields["organization"]).restrict_to(
            user=user, action="grant_pii", app_label="accounts"
        )

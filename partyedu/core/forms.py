"""Form helpers shared by every app, and the forms of the core pages (audit log filter, uploads)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction
from .selectors import audit_object_types

IMPORT_EXTENSIONS = ("xlsx", "csv")


class DateInput(forms.DateInput):
    """A native date picker (large and familiar on phones)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CheckboxGroup(forms.CheckboxSelectMultiple):
    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs={"class": "form-check-input", **(attrs or {})}, choices=choices)


def apply_validation_error(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's ``ValidationError({field: [msg]})`` on the matching form fields; messages
    for fields the form does not have go to the top of the form."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for field, errors in exc.message_dict.items():
        target = field_map.get(field, field)
        for message in errors:
            form.add_error(target if target in form.fields else None, message)


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("用户名"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("事件类型"), required=False)
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", _("全部")), *AuditAction.choices]
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [("", _("全部")), *audit_object_types()]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("选择文件"),
        help_text=_("支持 .xlsx 或 .csv 文件，第一行为中文表头"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
        if extension not in IMPORT_EXTENSIONS:
            raise ValidationError(_("只能上传 .xlsx 或 .csv 文件"))
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(_("文件过大，不能超过 %(mb)d MB") % {"mb": limit // (1024 * 1024)})
        if upload.size == 0:
            raise ValidationError(_("文件是空的"))
        return upload

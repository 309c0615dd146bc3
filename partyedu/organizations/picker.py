"""Choosing an organisation in a form: ``OrganizationChoiceField`` (a scoped queryset, limited with
``restrict_to``) and its searchable ``OrganizationPicker`` widget, which asks the
``organizations:picker`` view for suggestions. Every app's forms use them; they live here, not in
core, because they read the organisation tree (``selectors.organization_choices``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from partyedu.core.types import BaseViewer

from .selectors import organization_choices


def organization_label(org: Any) -> str:
    """A choice label that shows the position in the tree by indentation."""
    return f"{'　' * getattr(org, 'depth', 0)}{org.name}"


class OrganizationQuery(str):
    """Text typed into an organisation picker without an organisation picked from the suggestions
    (no JavaScript, or typed and submitted): the field resolves it by code or exact name."""


class OrganizationPicker(forms.Widget):
    """A searchable organisation picker: a hidden input with the id, a visible search box (named
    ``<name>__q``) and a suggestion list filled by HTMX from ``organizations:picker``
    (``static/js/org-picker.js`` does the picking). It never iterates its queryset: the scope is
    the field's business, and the suggestions come from the same ``organization_choices`` selector
    with the scope parameters in ``self.scope``. At most one query, for the selected name."""

    template_name = "widgets/organization_picker.html"
    text_suffix = "__q"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.queryset: Any = None
        self.scope: dict[str, Any] = {}
        self.selected: Any = None  # the organisation the field resolved (saves the label query)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = data.get(name)
        if value not in (None, ""):
            return value
        text = (data.get(name + self.text_suffix) or "").strip()
        return OrganizationQuery(text) if text else None

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and name + self.text_suffix not in data

    def selected_organization(self, value: Any) -> Any:
        """The organisation of ``value`` (an instance or a pk) if it is in the queryset, else None."""
        if value in (None, "") or isinstance(value, OrganizationQuery):
            return None
        if hasattr(value, "_meta"):
            return value
        if self.selected is not None and str(self.selected.pk) == str(value):
            return self.selected
        if self.queryset is None:
            return None
        try:
            return self.queryset.filter(pk=value).only("pk", "name").first()
        except (ValueError, TypeError, ValidationError):
            return None

    def search_url(self) -> str:
        from django.urls import reverse
        from django.utils.http import urlencode

        params = {
            "action": self.scope.get("action", "view"),
            "app_label": self.scope.get("app_label", "organizations"),
        }
        if self.scope.get("levels"):
            params["levels"] = ",".join(sorted(self.scope["levels"]))
        return f"{reverse('organizations:picker')}?{urlencode(params)}"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        org = self.selected_organization(value)
        widget = context["widget"]
        widget["value"] = str(org.pk) if org is not None else ""
        widget["label"] = org.name if org is not None else ""  # the picked organisation's name
        widget["text"] = str(value) if isinstance(value, OrganizationQuery) else widget["label"]
        widget["text_name"] = name + self.text_suffix
        widget["url"] = self.search_url()
        widget["attrs"].setdefault("class", "form-control form-control-lg")
        widget["attrs"].setdefault("placeholder", _("输入名称、拼音首字母或代码"))
        return context


class OrganizationChoiceField(forms.ModelChoiceField):
    """An organisation in a scoped queryset (``restrict_to``), chosen with ``OrganizationPicker``.

    Only organisations in the queryset validate. Without JavaScript the visible box is submitted
    alone; the text is then resolved to the one organisation whose code (any case) or exact
    name it is."""

    widget = OrganizationPicker
    default_error_messages = {
        "invalid_choice": _("所选组织不存在或不在您的权限范围内，请重新选择"),
        "not_found": _("未找到“%(text)s”，请输入完整的组织名称或组织代码，或从下拉建议中选择"),
        "ambiguous": _("有多个名为“%(text)s”的组织，请输入组织代码，或从下拉建议中选择"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", _("请选择党组织"))
        super().__init__(*args, **kwargs)
        if not self.required and self.empty_label and isinstance(self.widget, OrganizationPicker):
            # An empty optional picker means "all": say so where a select showed its empty label.
            self.widget.attrs.setdefault(
                "placeholder",
                format_lazy("{}{}", self.empty_label, _("，可输入名称或拼音首字母")),
            )

    # django-stubs declares ``queryset`` as a plain attribute, without Django's accessors.
    def _set_queryset(self, queryset: Any) -> None:
        super()._set_queryset(queryset)  # type: ignore[misc]
        if isinstance(self.widget, OrganizationPicker):
            self.widget.queryset = self._queryset

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)  # type: ignore[attr-defined]

    def restrict_to(
        self, *, user: BaseViewer, action: str = "view", app_label: str = "organizations", levels: Any = None
    ) -> None:
        """Limit the choices to ``organization_choices(...)`` and let the picker search the same."""
        self.queryset = organization_choices(user=user, action=action, app_label=app_label, levels=levels)
        if isinstance(self.widget, OrganizationPicker):
            self.widget.scope = {"action": action, "app_label": app_label, "levels": levels}

    def label_from_instance(self, obj: Any) -> str:
        return organization_label(obj)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, OrganizationQuery):
            org = self.resolve_text(str(value))
        else:
            org = super().to_python(value)
        if org is not None and isinstance(self.widget, OrganizationPicker):
            self.widget.selected = org
        return org

    def resolve_text(self, text: str) -> Any:
        """The one organisation in the queryset with this code (any case), or else this exact name."""
        from django.db.models import Case, IntegerField, Q, Value, When

        by_code = When(code__iexact=text, then=Value(0))
        matches = list(
            self.queryset.filter(Q(code__iexact=text) | Q(name=text))
            .annotate(code_match=Case(by_code, default=Value(1), output_field=IntegerField()))
            .order_by("code_match", "path")[:2]
        )
        if matches and (len(matches) == 1 or matches[0].code_match == 0):
            return matches[0]
        key = "ambiguous" if matches else "not_found"
        raise ValidationError(self.error_messages[key], code=key, params={"text": text})

"""Small presentation helpers shared by every page: Bootstrap widget classes, ages. Labels of an
app's own codes live in that app's library (``accounts_ui``: role names, ``members_ui``: member
categories, ``organizations_ui``: level badges)."""

from __future__ import annotations

from datetime import date

from django import forms, template
from django.utils import timezone
from django.utils.safestring import SafeString

from partyedu.core.scope import has_action
from partyedu.core.types import BaseViewer

register = template.Library()


def widget_class(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select form-select-lg"
    else:
        css = "form-control form-control-lg"
    if field.errors:
        css += " is-invalid"
    return css


@register.filter
def bs(field: forms.BoundField) -> SafeString:
    """Render a form field's widget with Bootstrap classes (and ``is-invalid`` when it has errors)."""
    attrs: dict[str, str | bool] = {"class": widget_class(field)}
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_errors"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_multi_choice(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect)


@register.filter
def age(birth: date | None) -> int | str:
    if not birth:
        return ""
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@register.filter
def startswith(value: str, prefix: str) -> bool:
    return bool(prefix) and str(value).startswith(str(prefix))


@register.simple_tag
def can_anywhere(user: BaseViewer, action: str, app_label: str) -> bool:
    """``{% can_anywhere user "view" "development" as shown %}``: whether the user's roles grant
    the action somewhere (a tab or a link to another app's pages; no query once the roles are
    loaded for the menu)."""
    return has_action(user, action, app_label)

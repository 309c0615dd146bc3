"""Small presentation helpers shared by every page: Bootstrap widget classes, Chinese labels for
stored codes, ages, role names."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms, template
from django.utils import timezone
from django.utils.safestring import SafeString

from partyedu.accounts.choices import RoleCode
from partyedu.core.scope import user_grants
from partyedu.members.choices import MemberCategory
from partyedu.organizations.choices import OrgLevel

register = template.Library()

LEVEL_BADGES = {
    OrgLevel.COMMITTEE: "text-bg-danger",
    OrgLevel.WORKING_COMMITTEE: "text-bg-danger",
    OrgLevel.LEADING_GROUP: "text-bg-danger",
    OrgLevel.GENERAL_BRANCH: "text-bg-warning",
    OrgLevel.BRANCH: "text-bg-primary",
    OrgLevel.GROUP: "text-bg-secondary",
}


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
    attrs = {"class": widget_class(field)}
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
def category_labels(codes: list[str] | None) -> str:
    labels = dict(MemberCategory.choices)
    return "、".join(str(labels.get(code, code)) for code in codes or [])


@register.filter
def age(birth: date | None) -> int | str:
    if not birth:
        return ""
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@register.filter
def level_badge(level: str) -> str:
    return LEVEL_BADGES.get(level, "text-bg-light")


@register.filter
def role_label(code: str) -> str:
    try:
        return str(RoleCode(code).label)
    except ValueError:
        return code


@register.simple_tag
def role_labels(user: Any) -> list[str]:
    """The distinct role names the user holds, in the order of the role list."""
    held = {grant.role for grant in user_grants(user)}
    return [str(label) for code, label in RoleCode.choices if code in held]


@register.filter
def startswith(value: str, prefix: str) -> bool:
    return bool(prefix) and str(value).startswith(str(prefix))

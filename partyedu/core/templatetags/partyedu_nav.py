"""Section tabs and breadcrumbs: a template lists its items, one partial draws them.

    {% subnav _("学习教育") current=tab %}
      {% subnav_item "activities" _("学习活动") "study:activity_list" %}
    {% endsubnav %}

    {% breadcrumb %}
      {% crumb _("学习活动") "study:activity_list" %}
      {% crumb activity.topic|truncatechars:20 %}
    {% endbreadcrumb %}

Items may sit inside ``{% if %}`` and ``{% for %}``. A URL is given like ``{% url %}``'s: a route
name and its positional arguments; a crumb's keyword arguments become its query string. The last
crumb is the current page; a crumb without a route name is drawn as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()

SUBNAV_TEMPLATE = "partials/subnav.html"
BREADCRUMB_TEMPLATE = "partials/breadcrumb.html"
# Where the enclosing block tag collects the items its body declares.
ITEMS = "_partyedu_nav_items"


@dataclass(frozen=True)
class Link:
    label: Any
    url: str = ""
    key: str = ""


def _split(parser: Parser, bits: list[str]) -> tuple[list[FilterExpression], dict[str, FilterExpression]]:
    args: list[FilterExpression] = []
    kwargs: dict[str, FilterExpression] = {}
    for bit in bits:
        name, sep, value = bit.partition("=")
        if sep and name.isidentifier():
            kwargs[name] = parser.compile_filter(value)
        elif kwargs:
            raise template.TemplateSyntaxError(f"positional argument {bit!r} after a keyword argument")
        else:
            args.append(parser.compile_filter(bit))
    return args, kwargs


def _url(
    route: FilterExpression | None, args: list[FilterExpression], query: dict[str, Any], context: Context
) -> str:
    if route is None:
        return ""
    url = reverse(route.resolve(context), args=[arg.resolve(context) for arg in args])
    return f"{url}?{urlencode(query)}" if query else url


def _collector(context: Context, tag: str) -> list[Link]:
    try:
        return context[ITEMS]
    except KeyError:
        raise template.TemplateSyntaxError(f"{{% {tag} %}} belongs inside its block tag") from None


class LinkListNode(template.Node):
    """Renders its body only to collect the links declared in it, then draws them with a partial."""

    def __init__(self, nodelist: NodeList, template_name: str, extra: dict[str, FilterExpression]) -> None:
        self.nodelist = nodelist
        self.template_name = template_name
        self.extra = extra

    def render(self, context: Context) -> str:
        items: list[Link] = []
        with context.push({ITEMS: items}):
            self.nodelist.render(context)
        values = {name: value.resolve(context) for name, value in self.extra.items()}
        assert context.template is not None  # always set while a template renders
        partial = context.template.engine.get_template(self.template_name)
        return partial.render(context.new({**values, "items": items}))


class SubnavItemNode(template.Node):
    def __init__(
        self,
        key: FilterExpression,
        label: FilterExpression,
        route: FilterExpression,
        args: list[FilterExpression],
        query: dict[str, FilterExpression] | None = None,
    ) -> None:
        self.key, self.label, self.route, self.args = key, label, route, args
        self.query = query or {}

    def render(self, context: Context) -> str:
        query = {name: value.resolve(context) for name, value in self.query.items()}
        link = Link(
            label=self.label.resolve(context),
            url=_url(self.route, self.args, query, context),
            key=str(self.key.resolve(context)),
        )
        _collector(context, "subnav_item").append(link)
        return ""


class CrumbNode(template.Node):
    def __init__(
        self,
        label: FilterExpression,
        route: FilterExpression | None,
        args: list[FilterExpression],
        query: dict[str, FilterExpression],
    ) -> None:
        self.label, self.route, self.args, self.query = label, route, args, query

    def render(self, context: Context) -> str:
        query = {name: value.resolve(context) for name, value in self.query.items()}
        link = Link(label=self.label.resolve(context), url=_url(self.route, self.args, query, context))
        _collector(context, "crumb").append(link)
        return ""


@register.tag
def subnav(parser: Parser, token: Token) -> LinkListNode:
    """``{% subnav label current=tab %}…{% endsubnav %}``: the tabs of one section; the item whose key
    equals ``current`` is marked as the current page."""
    bits = token.split_contents()
    args, kwargs = _split(parser, bits[1:])
    if len(args) != 1 or set(kwargs) - {"current"}:
        raise template.TemplateSyntaxError("usage: {% subnav label current=tab %}")
    nodelist = parser.parse(("endsubnav",))
    parser.delete_first_token()
    current = kwargs.get("current", parser.compile_filter('""'))
    return LinkListNode(nodelist, SUBNAV_TEMPLATE, {"label": args[0], "current": current})


@register.tag
def subnav_item(parser: Parser, token: Token) -> SubnavItemNode:
    """``{% subnav_item key label "app:route" arg… [name=value…] %}`` (``name=value``: the query
    string, e.g. a list's tab)."""
    args, kwargs = _split(parser, token.split_contents()[1:])
    if len(args) < 3:
        raise template.TemplateSyntaxError(
            'usage: {% subnav_item key label "app:route" arg… [name=value…] %}'
        )
    return SubnavItemNode(args[0], args[1], args[2], args[3:], kwargs)


@register.tag
def breadcrumb(parser: Parser, token: Token) -> LinkListNode:
    """``{% breadcrumb %}…{% endbreadcrumb %}``: the trail from a section down to this page."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% breadcrumb %} takes no arguments")
    nodelist = parser.parse(("endbreadcrumb",))
    parser.delete_first_token()
    return LinkListNode(nodelist, BREADCRUMB_TEMPLATE, {})


@register.tag
def crumb(parser: Parser, token: Token) -> CrumbNode:
    """``{% crumb label ["app:route" arg… [name=value…]] %}``"""
    args, kwargs = _split(parser, token.split_contents()[1:])
    if not args or (kwargs and len(args) < 2):
        raise template.TemplateSyntaxError('usage: {% crumb label ["app:route" arg… [name=value…]] %}')
    return CrumbNode(args[0], args[1] if len(args) > 1 else None, args[2:], kwargs)

"""Reads of members. Every function starts from ``restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from partyedu.accounts.selectors import can_see_pii
from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for
from partyedu.core.search import SearchHit, SearchSource
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from .choices import MemberCategory, MemberStatus
from .idnumber import normalize_id_number
from .models import Member, MemberTransfer
from .pii_index import id_number_index


def has_category_q(category: str) -> Q:
    """Members holding a category. PostgreSQL answers with jsonb containment; elsewhere the JSON
    text is matched, which is exact because category codes are quoted words."""
    if connection.vendor == "postgresql":
        return Q(categories__contains=[category])
    return Q(categories__icontains=f'"{category}"')


def search_q(text: str, *, by_id_number: bool = True) -> Q:
    """Name, pinyin initials (``zs`` → 张三) or, with ``by_id_number``, a whole ID number (by its
    blind index; the site search never matches one)."""
    text = text.strip()
    condition = Q(name__contains=text)
    if text.isascii() and text.isalpha():
        condition |= Q(name_initials__contains=" " + text.lower())
    normalized = normalize_id_number(text) if by_id_number else ""
    if len(normalized) == 18:
        condition |= Q(id_number_hash=id_number_index(normalized))
    return condition


def member_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Member]:
    filters = filters or {}
    qs = Member.objects.restrict(user, action).select_related("organization")
    if not filters.get("include_inactive"):
        qs = qs.filter(is_active=True)
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("org_path"))
    if filters.get("q"):
        qs = qs.filter(search_q(filters["q"]))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("category"):
        qs = qs.filter(has_category_q(filters["category"]))
    if filters.get("gender"):
        qs = qs.filter(gender=filters["gender"])
    if filters.get("is_exempt") in (True, False):
        qs = qs.filter(is_exempt=filters["is_exempt"])
    return qs.order_by("org_path", "name", "id")


def member_get(*, user: Viewer, pk: Any, action: str = "view") -> Member:
    try:
        return Member.objects.restrict(user, action).select_related("organization", "user").get(pk=pk)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404("党员不存在") from None


def member_transfers(*, user: Viewer, member: Member) -> QuerySet[MemberTransfer]:
    """Every transfer of a member the user sees (those into and out of other organisations too:
    they are the member's history); none for a member outside the user's scope."""
    visible = Member.objects.restrict(user, "view").filter(pk=member.pk)
    return MemberTransfer.objects.filter(member__in=visible).select_related(
        "from_organization", "to_organization", "operator"
    )


def member_pii_visible(*, user: Viewer, member: Member) -> bool:
    return can_see_pii(user, member.organization.path)


def member_of_user(*, user: Viewer) -> Member | None:
    """The member profile linked to the user's own account, if any (a member's 我的档案)."""
    if not user.is_authenticated:
        return None
    return Member.objects.restrict(user, "view").filter(user=user).select_related("organization").first()


def default_organization(user: Viewer, action: str, app_label: str) -> Organization | None:
    """The organisation a form starts with: the one where the user's ``app_label.action`` role
    applies when there is one, else the user's own branch if it lies in that scope."""
    scope = scope_for(user, action, app_label)
    if len(scope.paths) == 1:
        return Organization.objects.filter(path=scope.paths[0], is_active=True).first()
    member = member_of_user(user=user)
    if member is not None and scope.covers(member.org_path):
        return member.organization
    return None


def member_count_paths(*, user: Viewer, organization: Organization | None = None) -> tuple[str, ...] | None:
    """The few organisations at the top of the user's member scope (optionally within one
    organisation's subtree) whose cumulative member counts add up to how many active members the
    user sees there. Only valid for a list narrowed by scope and subtree alone; None when the scope
    also includes the user's own record (self-scoped roles), where it does not apply."""
    scope = scope_for(user, "view", "members")
    if scope.own or not scope.paths:
        return None
    tops = list(scope.paths)
    if organization is not None:
        inside = [p for p in tops if organization.path.startswith(p)]
        tops = [organization.path] if inside else [p for p in tops if p.startswith(organization.path)]
    return tuple(tops)


def member_count_expression(paths: tuple[str, ...]) -> RawSQL:
    """The sum of these organisations' cumulative member counts as a scalar subquery, so that a
    list can read its count with its page in one statement (``member_count_paths``)."""
    if not paths:
        return RawSQL("SELECT 0", (), output_field=IntegerField())
    qn = connection.ops.quote_name
    count = qn(Organization._meta.get_field("member_count").column)
    path = qn(Organization._meta.get_field("path").column)
    return RawSQL(
        f"SELECT COALESCE(SUM({count}), 0) FROM {qn(Organization._meta.db_table)} "
        f"WHERE {path} IN ({', '.join(['%s'] * len(paths))})",
        paths,
        output_field=IntegerField(),
    )


def member_list_stored_count(*, user: Viewer, filters: dict[str, Any]) -> int | None:
    """How many members ``member_list(user=user, filters=filters)`` holds, read from the stored
    cumulative member counts (one small query) when only scope and subtree narrow the list; None
    when another filter applies or the scope includes the user's own record (then the list must
    be counted)."""
    if set(filters) - {"organization"}:
        return None
    org = filters.get("organization")
    paths = member_count_paths(user=user, organization=org if isinstance(org, Organization) else None)
    if paths is None:
        return None
    if not paths:
        return 0
    return int(Organization.objects.filter(path__in=paths).aggregate(n=Sum("member_count", default=0))["n"])


def member_filter_organization(*, user: Viewer, org_id: Any) -> Organization | None:
    """The organisation a member list is narrowed to, if it lies inside the user's member scope;
    None for an unknown or out-of-scope id (the list is then empty, not 404, so the filter cannot
    probe which ids exist)."""
    try:
        pk = int(org_id)
    except (TypeError, ValueError):
        return None
    return Organization.objects.filter(scope_for(user, "view", "members").q("path"), pk=pk).first()


def sizing_warnings(*, user: Viewer, org: Organization) -> list[str]:
    """Branch sizing advice from 支部条例: warnings only, never hard errors. Shown on the
    organisation's page through the ``organizations.warnings`` hook, to whoever sees the
    organisation: its members are counted under the organisations right (whoever sees a branch
    sees its size); an organisation outside that scope has no advice."""
    if org.level != OrgLevel.BRANCH or not scope_for(user, "view", "organizations").covers(org.path):
        return []
    members = Member.objects.restrict(user, "view", app_label="organizations")
    stats = members.filter(org.subtree_q("org_path"), is_active=True).aggregate(
        total=Count("id"), full=Count("id", filter=Q(status=MemberStatus.FULL))
    )
    warnings = []
    if stats["full"] < 3:
        warnings.append(f"正式党员{stats['full']}名，少于3名，按规定应与邻近单位联合成立党支部")
    if stats["total"] > 50:
        warnings.append(f"党员{stats['total']}名，超过50名，可考虑分设党支部或成立党总支")
    if (
        stats["full"] >= 7
        and not members.filter(organization=org, is_active=True)
        .filter(has_category_q(MemberCategory.COMMITTEE))
        .exists()
    ):
        warnings.append(f"正式党员{stats['full']}名，7名以上应设立支部委员会，目前未登记支部委员")
    return warnings


# What a search hit shows: no encrypted column is read (nor decrypted) for a results list.
SEARCH_FIELDS = ("id", "name", "status", "org_path", "organization__id", "organization__name")


def member_search_source(*, user: Viewer) -> SearchSource | None:
    """``core.search``: members on the roll whom the user sees (a 党员: their own record), by
    name or pinyin initials, in the list's order; "查看全部" is the members list (``?q=``)."""
    if scope_for(user, "view", "members").empty:
        return None

    def find(text: str) -> QuerySet[Member]:
        return (
            Member.objects.restrict(user, "view")
            .filter(search_q(text, by_id_number=False), is_active=True)
            .select_related("organization")
            .only(*SEARCH_FIELDS)
            .order_by("org_path", "name", "id")
        )

    def hit(member: Member) -> SearchHit:
        return SearchHit(
            title=member.name,
            url=reverse("members:detail", args=[member.pk]),
            detail=member.organization.name,
            badge=member.get_status_display(),
        )

    return SearchSource(
        kind="members",
        label=_("党员"),
        icon="people",
        find=find,
        hit=hit,
        list_url=lambda text: f"{reverse('members:list')}?{urlencode({'q': text})}",
    )

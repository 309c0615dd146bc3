"""Reads of the table of which activities credit learning hours (DOMAIN_RULES 学时 "Activities
that credit hours"): the rule in force for an activity type at an organisation is the nearest
``ActivityCreditRule`` up the tree, else ``conversion.DEFAULT_CREDIT_MODES``.

The ledger resolves the rule of every activity it reads inside the query that reads the
activities (``credit_mode_subquery``: a correlated subquery on the small rule table, no query per
row or per activity), so the rebuild of millions of attendance rows costs no extra round trip.
The pages read the table of one organisation (``credit_rule_table``) in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404

from partyedu.accounts.types import Viewer
from partyedu.core.scope import can_set_policy, scope_for, subtree_q
from partyedu.organizations.models import SEGMENT_WIDTH, Organization, ancestor_paths
from partyedu.study.choices import ActivityType

from .choices import CreditMode
from .conversion import default_credit_mode
from .models import ActivityCreditRule

APP = "learning"


def credit_mode_subquery(*, type_ref: str, path_ref: str) -> Subquery:
    """The mode of the nearest rule up the tree for the outer row's activity type (field
    ``type_ref``) and organisation path (``path_ref``), or NULL where none is set (then the
    default of the type applies). Reads nothing itself: an expression for the caller's query."""
    rules = (
        ActivityCreditRule.objects.filter(
            activity_type=OuterRef(type_ref),
            organization__path=Substr(OuterRef(path_ref), 1, Length("organization__path")),
        )
        .order_by(Length("organization__path").desc())
        .values("mode")[:1]
    )
    return Subquery(rules)


@dataclass(frozen=True)
class CreditRuleRow:
    """How one activity type credits hours at an organisation, and where that comes from:
    ``source`` "own" (set at the organisation: ``rule_id``), "inherited" (set at
    ``set_at``, an organisation above) or "default" (DOMAIN_RULES)."""

    activity_type: str
    mode: str
    source: str
    default_mode: str
    set_at: str = ""
    rule_id: int | None = None

    @property
    def type_label(self) -> str:
        return str(ActivityType(self.activity_type).label)

    @property
    def mode_label(self) -> str:
        return str(CreditMode(self.mode).label)

    @property
    def default_label(self) -> str:
        return str(CreditMode(self.default_mode).label)


def _table_at(path: str) -> list[CreditRuleRow]:
    """The table in force at ``path``, one row per activity type, in one query."""
    found: dict[str, dict[str, Any]] = {}
    rows = (
        ActivityCreditRule.objects.filter(organization__path__in=ancestor_paths(path))
        .order_by("organization__path")
        .values("id", "activity_type", "mode", "organization__path", "organization__name")
    )
    for values in rows:  # root first: the nearest rule overwrites those above it
        found[values["activity_type"]] = dict(values)
    table = []
    for code in ActivityType.values:
        default = str(default_credit_mode(code))
        rule = found.get(code)
        if rule is None:
            table.append(CreditRuleRow(code, default, "default", default))
        elif rule["organization__path"] == path:
            table.append(
                CreditRuleRow(code, rule["mode"], "own", default, rule["organization__name"], rule["id"])
            )
        else:
            table.append(CreditRuleRow(code, rule["mode"], "inherited", default, rule["organization__name"]))
    return table


def credit_rule_table(*, user: Viewer, organization: Organization) -> list[CreditRuleRow]:
    """The table in force at an organisation within the user's learning scope (rules set above
    the scope are shown for reference, as the hour requirements are); else 404."""
    if not scope_for(user, "view", APP).covers(organization.path):
        raise Http404("党组织不存在")
    return _table_at(organization.path)


def credit_rule_row(*, user: Viewer, organization: Organization, activity_type: str) -> CreditRuleRow:
    """One type's row of ``credit_rule_table``; an unknown type is a 404."""
    if activity_type not in ActivityType.values:
        raise Http404("活动类型不存在")
    rows = credit_rule_table(user=user, organization=organization)
    return next(row for row in rows if row.activity_type == activity_type)


def credit_rule_inherited(*, user: Viewer, organization: Organization, activity_type: str) -> CreditRuleRow:
    """What applies to the type at the organisation without a rule of its own: the nearest rule
    above it (wherever it is set: shown for reference), or the default."""
    credit_rule_row(user=user, organization=organization, activity_type=activity_type)
    parent = organization.path[:-SEGMENT_WIDTH]
    if not parent:
        default = str(default_credit_mode(activity_type))
        return CreditRuleRow(activity_type, default, "default", default)
    row = next(row for row in _table_at(parent) if row.activity_type == activity_type)
    return row if row.source == "default" else replace(row, source="inherited", rule_id=None)


def credit_rule_get(*, user: Viewer, pk: Any, action: str = "view") -> ActivityCreditRule:
    """An organisation's own rule within the user's learning scope for ``action``; else 404."""
    try:
        return ActivityCreditRule.objects.restrict(user, action).select_related("organization").get(pk=pk)
    except (ActivityCreditRule.DoesNotExist, ValueError, TypeError):
        raise Http404("学时认定规则不存在") from None


def credit_rules_below(*, user: Viewer, organization: Organization) -> QuerySet[ActivityCreditRule]:
    """The rules set inside the organisation's subtree (below it) that the user may see: where
    the table differs from the one shown for the organisation."""
    return (
        ActivityCreditRule.objects.restrict(user, "view")
        .filter(subtree_q("organization__path", [organization.path]))
        .exclude(organization=organization)
        .select_related("organization")
        .order_by("organization__path", "activity_type")
    )


def credit_rule_changeable(*, user: Viewer, organization: Organization) -> bool:
    """Whether the user may change the table at the organisation: the learning change right
    there, and policy (organisation departments) over it."""
    return scope_for(user, "change", APP).covers(organization.path) and can_set_policy(user, organization)


def credit_modes_at(path: str | None) -> dict[str, str]:
    """Policy: the mode of every activity type in force at an organisation path (None: the
    defaults) — what the activity form and page say about an activity; no people's data."""
    if not path:
        return {code: str(default_credit_mode(code)) for code in ActivityType.values}
    return {row.activity_type: row.mode for row in _table_at(path)}

"""The timing rules that apply to a branch: the nearest ``DevelopmentPolicy`` up the tree, or the
defaults of DOMAIN_RULES (an unsaved policy) when no organisation above has set one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]  # no stubs in the index

from partyedu.organizations.models import ancestor_paths

from .models import DevelopmentPolicy


def default_policy() -> DevelopmentPolicy:
    """The rules of DOMAIN_RULES "Development of members" (the model's defaults)."""
    return DevelopmentPolicy()


def policies_for_paths(paths: Iterable[str]) -> dict[str, DevelopmentPolicy]:
    """For each organisation path, the policy of the nearest organisation at or above it, in one
    query."""
    paths = set(paths)
    prefixes = sorted({prefix for path in paths for prefix in ancestor_paths(path)})
    found: dict[str, DevelopmentPolicy] = {}
    if prefixes:
        for row in DevelopmentPolicy.objects.filter(organization__path__in=prefixes).select_related(
            "organization"
        ):
            found[row.organization.path] = row
    default = default_policy()
    result: dict[str, DevelopmentPolicy] = {}
    for path in paths:
        policy = default
        for prefix in ancestor_paths(path):
            policy = found.get(prefix, policy)
        result[path] = policy
    return result


def policy_for_path(path: str) -> DevelopmentPolicy:
    return policies_for_paths([path])[path]


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; the 31st of a shorter month is its last day (so one month
    after 31 January is 28/29 February)."""
    result: date = day + relativedelta(months=months)
    return result


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day`` (a birthday on 29 February counts on 28 February in common
    years)."""
    return relativedelta(day, birth_date).years

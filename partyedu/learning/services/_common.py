"""Helpers and field lists shared by the learning services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import Q

from partyedu.accounts.types import Actor, User

from ..choices import RequirementGroup
from ..selectors import KIND_FIELDS

APP = "learning"
CHUNK = 500
# What a scope check says by default when the actor may not manage an organisation's learning.
SCOPE_MESSAGE = "您无权管理该组织的学习"

YEAR_FIELDS = ("total", *KIND_FIELDS.values())
COUNT_FIELDS = ("members", "general", "cadre", "candidate", "exempt", "not_required")
# The groups whose yearly completion the organisation summaries count (``REQUIRED_GROUPS``).
COMPLETION_FIELDS = ("general", "cadre")
GROUP_FIELD = {
    RequirementGroup.GENERAL: "general",
    RequirementGroup.CADRE: "cadre",
    RequirementGroup.CANDIDATE: "candidate",
    RequirementGroup.EXEMPT: "exempt",
    RequirementGroup.NONE: "not_required",
}


def _actor_user(actor: Actor) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _hours_text(hours: Decimal) -> str:
    return f"{Decimal(hours).normalize():f}"


def _ids_q(field_name: str, ids: Sequence[int]) -> Q:
    """``field IN (ids)``, or for a ``range`` of consecutive ids (the rebuild's steps) a range
    condition, which spares the database and the ORM a list of thousands of parameters."""
    if isinstance(ids, range) and ids.step == 1:
        return Q(**{f"{field_name}__gte": ids.start, f"{field_name}__lt": ids.stop})
    return Q(**{f"{field_name}__in": list(ids)})


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]

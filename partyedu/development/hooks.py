"""What the development app answers through the hook registry for the apps below it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .choices import Stage
from .models import DevelopmentCase

# The member record's fields that follow the confirmed steps of a development case.
MANAGED_FIELDS = frozenset({"status", "candidate_on", "joined_on", "full_member_on"})


def managed_fields(*, members: Iterable[Any]) -> dict[int, set[str]]:
    """``members.managed_fields``: members whose development case is on record (and not closed)
    change status and those dates only through its steps. One query."""
    ids = [m.pk for m in members if m.pk is not None]
    if not ids:
        return {}
    open_cases = (
        DevelopmentCase.objects.filter(member_id__in=ids)
        .exclude(stage=Stage.CLOSED)
        .values_list("member_id", flat=True)
    )
    return {member_id: set(MANAGED_FIELDS) for member_id in open_cases}

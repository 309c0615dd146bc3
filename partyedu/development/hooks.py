"""What the development app answers through the hook registry for the apps below it."""

from __future__ import annotations

from typing import Any

from .choices import Stage
from .models import DevelopmentCase

# The member record's fields that follow the confirmed steps of a development case.
MANAGED_FIELDS = frozenset({"status", "candidate_on", "joined_on", "full_member_on"})


def managed_fields(*, member: Any) -> set[str]:
    """``members.managed_fields``: a member whose development case is on record (and not closed)
    changes status and those dates only through its steps."""
    if member.pk is None:
        return set()
    if DevelopmentCase.objects.filter(member_id=member.pk).exclude(stage=Stage.CLOSED).exists():
        return set(MANAGED_FIELDS)
    return set()

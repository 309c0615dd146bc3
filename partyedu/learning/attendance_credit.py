"""What the ledger credits for a member's own attendance rows, for the study app's 我的活动 page
(the hook ``study.attendance_hours``: study is below learning and cannot read the ledger)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from partyedu.accounts.types import Viewer

from .choices import SourceType
from .models import LearningHourEntry


def own_attendance_hours(*, user: Viewer, attendance_ids: list[int]) -> dict[int, Decimal]:
    """The net hours (every kind and year, corrections included) that the ledger credits for each
    of ``attendance_ids`` that is the user's own — the ledger's self scope
    (``LearningHourEntry.scope_self``); other members' rows are left out. One query."""
    if not attendance_ids or not user.is_authenticated:
        return {}
    rows = (
        LearningHourEntry.objects.filter(
            member__user=user, source_type=SourceType.ATTENDANCE, source_id__in=attendance_ids
        )
        .order_by()
        .values("source_id")
        .annotate(hours=Sum("hours"))
    )
    return {int(row["source_id"]): row["hours"] or Decimal("0") for row in rows}

"""Writes of the points app, by subsystem: schemes, the ledger's sync, manual records, the rebuild."""

from .ledger import (
    points_sync_attendance,
    points_sync_exam_results,
    points_sync_member_changes,
    points_sync_member_years,
    points_sync_members,
    points_sync_scheme,
)
from .manual import manual_items_for, points_manual_record
from .rebuild import PointsRebuildReport, points_rebuild
from .schemes import FORBIDDEN_MESSAGE, clean_items, rewards_formalism, scheme_create, scheme_update

__all__ = [
    "FORBIDDEN_MESSAGE",
    "PointsRebuildReport",
    "clean_items",
    "manual_items_for",
    "points_manual_record",
    "points_rebuild",
    "points_sync_attendance",
    "points_sync_exam_results",
    "points_sync_member_changes",
    "points_sync_member_years",
    "points_sync_members",
    "points_sync_scheme",
    "rewards_formalism",
    "scheme_create",
    "scheme_update",
]

"""Writes of the points app, by subsystem: schemes, the ledger's sync, manual records, the rebuild,
publication (公示) and objections (异议), the veto (一票否决) and the ranking switch."""

from .ledger import (
    points_sync_attendance,
    points_sync_exam_results,
    points_sync_member_changes,
    points_sync_member_years,
    points_sync_members,
    points_sync_scheme,
)
from .manual import manual_items_for, points_manual_record
from .objections import objection_answer, objection_items, objection_raise
from .publication import publication_create, publication_withdraw
from .ranking import ranking_set
from .rebuild import PointsRebuildReport, points_rebuild
from .schemes import FORBIDDEN_MESSAGE, clean_items, rewards_formalism, scheme_create, scheme_update
from .veto import veto_lift, veto_record

__all__ = [
    "FORBIDDEN_MESSAGE",
    "PointsRebuildReport",
    "clean_items",
    "manual_items_for",
    "objection_answer",
    "objection_items",
    "objection_raise",
    "points_manual_record",
    "points_rebuild",
    "points_sync_attendance",
    "points_sync_exam_results",
    "points_sync_member_changes",
    "points_sync_member_years",
    "points_sync_members",
    "points_sync_scheme",
    "publication_create",
    "publication_withdraw",
    "ranking_set",
    "rewards_formalism",
    "scheme_create",
    "scheme_update",
    "veto_lift",
    "veto_record",
]

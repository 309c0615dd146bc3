"""The hooks this app registers: attendance changes and member changes re-derive the points
they concern (inside the caller's transaction, as the hours ledger does). Lectures, exam results
and online resources have no change hook yet: their points follow at the nightly recount
(``points_recount``, the rebuild applied) or ``manage.py points_rebuild --apply``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from partyedu.core.hooks import hooks


def attendance_changed(
    *, attendance_ids: Iterable[int], actor: Any = None, member_ids: Iterable[int] | None = None
) -> int:
    from .services import points_sync_attendance

    return points_sync_attendance(attendance_ids=attendance_ids, actor=actor, member_ids=member_ids)


def members_changed(*, member_ids: Iterable[int]) -> int:
    from .services import points_sync_member_changes

    return points_sync_member_changes(member_ids=member_ids)


def recount_step() -> int:
    from .services import points_rebuild

    return points_rebuild(apply=True).rows_appended


def register() -> None:
    """Called once from ``PointsConfig.ready``."""
    from partyedu.core.housekeeping import housekeeping_step

    hooks.register("study.attendance_changed", attendance_changed)
    hooks.register("members.changed", members_changed)
    housekeeping_step("points_recount")(recount_step)

"""The hooks this app registers: every source of points re-derives the points it concerns
inside the caller's transaction (as the hours ledger does) — attendance changes, member changes,
lectures given (``lectures.lectures_changed``), exam results (``exams.results_changed``),
online resources completed (``learning.resources_completed``) and service records confirmed or
rejected (``service.hours_changed``). Each returns after one EXISTS at
most on a deployment without schemes. The nightly recount (``points_recount``, the rebuild
applied) stays as the safety net."""

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


def lectures_changed(*, lecture_ids: Iterable[int], member_ids: Iterable[int], years: Iterable[int]) -> int:
    from .services import points_sync_member_years

    return points_sync_member_years(member_ids=member_ids, years=years)


def resources_completed(
    *, progress_ids: Iterable[int], member_ids: Iterable[int], years: Iterable[int]
) -> int:
    from .services import points_sync_member_years

    return points_sync_member_years(member_ids=member_ids, years=years)


def service_hours_changed(*, member_ids: Iterable[int], years: Iterable[int], actor: Any = None) -> int:
    from .services import points_sync_member_years

    return points_sync_member_years(member_ids=member_ids, years=years, actor=actor)


def exam_results_changed(*, exam_ids: Iterable[int], member_ids: Iterable[int], actor: Any = None) -> int:
    from .services import points_sync_exam_results

    return points_sync_exam_results(exam_ids=exam_ids, member_ids=member_ids, actor=actor)


def organization_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    from .services.ledger import points_org_moved

    points_org_moved(
        organization=organization,
        old_path=old_path,
        old_parent_id=old_parent_id,
        old_parent_path=old_parent_path,
        new_parent_path=new_parent_path,
    )


def recount_step() -> int:
    from .services import points_rebuild

    return points_rebuild(apply=True).rows_appended


def register() -> None:
    """Called once from ``PointsConfig.ready``."""
    from partyedu.core.housekeeping import housekeeping_step

    from .todo import points_todos

    hooks.register("study.attendance_changed", attendance_changed)
    hooks.register("members.changed", members_changed)
    hooks.register("organizations.moved", organization_moved)
    hooks.register("lectures.lectures_changed", lectures_changed)
    hooks.register("exams.results_changed", exam_results_changed)
    hooks.register("learning.resources_completed", resources_completed)
    hooks.register("service.hours_changed", service_hours_changed)
    housekeeping_step("points_recount")(recount_step)
    hooks.register("core.todo", points_todos)

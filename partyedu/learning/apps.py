from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    # Annotations only: the app registry imports this module before any model can be.
    from partyedu.accounts.types import Actor


def study_attendance_changed(
    *, attendance_ids: list[int], actor: Actor, member_ids: Iterable[int] | None = None
) -> None:
    """``study.attendance_changed``: correct the hours the attendance rows credit. The service is
    looked up when called, so that it can be replaced (a test's spy) after start-up."""
    from . import services

    services.learning_hours_sync_attendance(attendance_ids=attendance_ids, actor=actor, member_ids=member_ids)


def study_credit_modes(*, organization: Any) -> dict[str, str]:
    """``study.credit_modes``: how each activity type credits hours at the organisation."""
    from .credit_selectors import credit_modes_at

    return credit_modes_at(getattr(organization, "path", None))


def organization_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's requirement counts leave the old ancestors and
    join the new ones."""
    from . import services

    services.learning_org_moved(
        organization=organization, old_parent_path=old_parent_path, new_parent_path=new_parent_path
    )


def study_attendance_hours(*, user: Any, attendance_ids: list[int]) -> dict[int, Any]:
    """``study.attendance_hours``: what the ledger credits for the user's own attendance rows."""
    from .attendance_credit import own_attendance_hours

    return own_attendance_hours(user=user, attendance_ids=attendance_ids)


def credit_org_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's activities follow the credit rules of their
    new ancestors (which activities credit hours)."""
    from . import services

    services.activity_credit_org_moved(
        organization=organization, old_parent_path=old_parent_path, new_parent_path=new_parent_path
    )


def members_changed(*, member_ids: Any) -> None:
    """``members.changed``: the members' hour requirements follow their status, categories,
    exemption and organisation."""
    from . import services

    services.learning_members_changed(member_ids=member_ids)


class LearningConfig(AppConfig):
    name = "partyedu.learning"
    label = "learning"
    verbose_name = _("学时与网上学习")

    def ready(self) -> None:
        # Background job kinds (the recount after an hour requirement changed) and the rebuild
        # on the 系统维护 page.
        from partyedu.core.hooks import hooks

        from . import jobs, maintenance, selectors, todo  # noqa: F401

        # Attendance credits hours: the study app calls this after every change to attendance.
        hooks.register("study.attendance_changed", study_attendance_changed)
        # A member's 我的活动 page shows what each of their attendances credited.
        hooks.register("study.attendance_hours", study_attendance_hours)
        # The activity form and page say how a type credits hours (the credit table).
        hooks.register("study.credit_modes", study_credit_modes)
        # Requirement summaries follow members and the organisation tree.
        hooks.register("members.changed", members_changed)
        hooks.register("organizations.moved", organization_moved)
        hooks.register("organizations.moved", credit_org_moved)
        hooks.register("core.search", selectors.resource_search_source)
        hooks.register("core.todo", todo.learning_todos)

"""Hook registrations of the service app's registration area (called from ``ServiceConfig.ready``):
the community side's service records to confirm on the workbench (``core.todo``), and the kept
figures of service records following a member's change (``members.changed``)."""

from typing import Any

from partyedu.core.hooks import hooks


def members_changed(*, member_ids: Any) -> None:
    """``members.changed``: a transferred member's confirmed records count for their new
    organisation in the kept figures (``services.figures.records_refresh``)."""
    from .services.figures import records_refresh

    records_refresh(member_ids)


def register() -> None:
    """Register this area's hooks."""
    from . import maintenance  # noqa: F401  (the 系统维护 rebuild of the kept record figures)
    from .todo_registration import registration_todos

    hooks.register("core.todo", registration_todos)
    hooks.register("members.changed", members_changed)

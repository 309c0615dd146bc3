"""Hook registrations of the service app's registration area (called from ``ServiceConfig.ready``):
the community side's service records to confirm on the workbench (``core.todo``)."""

from partyedu.core.hooks import hooks


def register() -> None:
    """Register this area's hooks."""
    from .todo_registration import registration_todos

    hooks.register("core.todo", registration_todos)

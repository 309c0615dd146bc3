"""Hook registrations of the service app's community area (called from ``ServiceConfig.ready``):
the workbench items of pledges and bookings (``core.todo``)."""

from partyedu.core.hooks import hooks


def register() -> None:
    """Register this area's hooks."""
    from .todo_community import community_todos

    hooks.register("core.todo", community_todos)

"""The registration area's items on the workbench (``core.todo``):

- the community side: the service records waiting for its confirmation (服务记录：N 条待确认),
  within the communities (or, for records without one in the tree, the members' organisations)
  where the user may change service data;
- a member: nothing to do is invented (no quota, no streak): the member's own pages are in the
  menu.
"""

from __future__ import annotations

from django.urls import reverse

from partyedu.accounts.types import Viewer
from partyedu.core.todo import TodoItem

from .selectors_registration import records_to_confirm_count

SECTION = "双报到"


def registration_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for 双报到: see the module's docstring."""
    if user is None or not user.is_authenticated:
        return []
    pending = records_to_confirm_count(user=user)
    if not pending:
        return []
    return [
        TodoItem(
            key="service.records_to_confirm",
            section=SECTION,
            title=f"服务记录：{pending} 条待确认",
            detail="在本社区报到的党员登记的服务，请核实后确认",
            url=reverse("service:record_list"),
            count=pending,
            priority=2,
            icon="check2-square",
        )
    ]

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def organization_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: a party group's activities count for its branch in the cadence
    report's monthly counts, so a group moved to another branch takes them along; the subtree's
    cumulative activity figures leave the old ancestors and join the new ones."""
    from . import services

    services.activity_counts_org_moved(organization=organization, old_parent_id=old_parent_id)
    services.activity_figures_org_moved(
        organization=organization, old_parent_path=old_parent_path, new_parent_path=new_parent_path
    )


class StudyConfig(AppConfig):
    name = "partyedu.study"
    label = "study"
    verbose_name = _("学习活动")

    def ready(self) -> None:
        # The rebuild of the cadence report's monthly counts on the 系统维护 page.
        from partyedu.core.hooks import hooks

        from . import maintenance, selectors, todo  # noqa: F401

        hooks.register("organizations.moved", organization_moved)
        hooks.register("core.search", selectors.activity_search_source)
        hooks.register("core.todo", todo.study_todos)

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def organization_moved(
    *, organization: Any, old_path: str, old_parent_id: Any, old_parent_path: str, new_parent_path: str
) -> None:
    """``organizations.moved``: the moved subtree's statistics leave the old ancestors and join the
    new ones."""
    from .summaries import figures_org_moved

    figures_org_moved(
        organization=organization, old_parent_path=old_parent_path, new_parent_path=new_parent_path
    )


class LecturesConfig(AppConfig):
    name = "partyedu.lectures"
    label = "lectures"
    verbose_name = _("我来讲党课")

    def ready(self) -> None:
        # Background job kinds (the long duty list and statistics exports), and the rebuild of the
        # statistics' summary rows on the 系统维护 page.
        from partyedu.core.hooks import hooks

        from . import jobs, maintenance, selectors, todo  # noqa: F401
        from .summaries import duty_members_sync, lectures_activities_changed

        # A 党课 is counted by its activity's date: follow the study app's date changes and deletions.
        hooks.register("study.activities_changed", lectures_activities_changed)
        # The duty list (secretaries, leading cadres) follows members; the statistics the tree.
        hooks.register("members.changed", duty_members_sync)
        hooks.register("organizations.moved", organization_moved)
        hooks.register("core.search", selectors.lecture_search_source)
        hooks.register("core.todo", todo.lectures_todos)

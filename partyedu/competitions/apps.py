from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionsConfig(AppConfig):
    name = "partyedu.competitions"
    label = "competitions"
    verbose_name = _("党课评选")

    def ready(self) -> None:
        from partyedu.core.hooks import hooks
        from partyedu.lectures.selectors import COMPETITION_FIGURES_HOOK, LECTURER_AWARDS_HOOK

        # Background job kinds (下载全部证书).
        from . import jobs, selectors, todo  # noqa: F401

        # The lecture statistics and a lecturer's record show competition figures; lectures, below
        # this app, ask for them through these hooks.
        hooks.register(COMPETITION_FIGURES_HOOK, selectors.lecture_stats_figures)
        hooks.register(LECTURER_AWARDS_HOOK, selectors.lecturer_awards)
        hooks.register("core.todo", todo.competitions_todos)

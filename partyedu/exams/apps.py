from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExamsConfig(AppConfig):
    """考试测评: question banks shared down the tree, papers fixed or drawn by rule, timed exams,
    grading with item analysis, practice sets (应知应会) and knowledge contests (知识竞赛)."""

    name = "partyedu.exams"
    label = "exams"
    verbose_name = _("考试测评")

    def ready(self) -> None:
        from . import hooks, jobs  # noqa: F401  (jobs registers the regrade job kind)
        from .services import contest_export, results_export  # noqa: F401  (register the export job kinds)

        hooks.register()

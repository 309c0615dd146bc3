from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "partyedu.learning"
    label = "learning"
    verbose_name = _("学时与网上学习")

    def ready(self) -> None:
        # Background job kinds (the recount after an hour requirement changed) and the rebuild
        # on the 系统维护 page.
        from . import jobs, maintenance  # noqa: F401

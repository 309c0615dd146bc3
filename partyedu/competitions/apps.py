from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionsConfig(AppConfig):
    name = "partyedu.competitions"
    label = "competitions"
    verbose_name = _("党课评选")

    def ready(self) -> None:
        # Background job kinds (下载全部证书).
        from . import jobs  # noqa: F401

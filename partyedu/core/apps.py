from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "partyedu.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from . import housekeeping, import_jobs, partitions  # noqa: F401  (nightly steps, job kinds)
        from .lookups import register

        register()  # field__any=[…] (core.lookups)

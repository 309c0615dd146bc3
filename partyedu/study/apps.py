from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyConfig(AppConfig):
    name = "partyedu.study"
    label = "study"
    verbose_name = _("学习活动")

    def ready(self) -> None:
        # The rebuild of the cadence report's monthly counts on the 系统维护 page.
        from . import maintenance  # noqa: F401

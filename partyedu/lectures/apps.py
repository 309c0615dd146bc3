from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LecturesConfig(AppConfig):
    name = "partyedu.lectures"
    label = "lectures"
    verbose_name = _("我来讲党课")

    def ready(self) -> None:
        # Background job kinds (the long duty list and statistics exports), and the rebuild of the
        # statistics' summary rows on the 系统维护 page.
        from . import jobs, maintenance  # noqa: F401

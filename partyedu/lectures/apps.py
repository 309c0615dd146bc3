from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LecturesConfig(AppConfig):
    name = "partyedu.lectures"
    label = "lectures"
    verbose_name = _("我来讲党课")

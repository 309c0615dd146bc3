from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "partyedu.members"
    label = "members"
    verbose_name = _("党员")

    def ready(self) -> None:
        # Background job kinds (the long member list export).
        from . import jobs  # noqa: F401

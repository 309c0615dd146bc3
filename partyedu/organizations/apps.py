from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "partyedu.organizations"
    label = "organizations"
    verbose_name = _("党组织")

    def ready(self) -> None:
        # Background job kinds (the long organisation list export) and the rebuild on the
        # 系统维护 page.
        from . import jobs, maintenance  # noqa: F401

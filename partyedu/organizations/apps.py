from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "partyedu.organizations"
    label = "organizations"
    verbose_name = _("党组织")

    def ready(self) -> None:
        # Background job kinds (the long organisation list export). The rebuild of organisation
        # paths on the 系统维护 page is registered by the members app (members/maintenance.py).
        from partyedu.core.hooks import hooks

        from . import jobs  # noqa: F401
        from .selectors import organization_search_source

        hooks.register("core.search", organization_search_source)

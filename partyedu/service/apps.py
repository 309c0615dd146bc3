from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """服务与关怀: 双报到 with the three lists, 我为群众办实事 pledges, volunteer service, the 联户
    grid and residents' requests, 谈心谈话 coverage, care for members in difficulty, political
    birthdays and the booking of party service centres."""

    name = "partyedu.service"
    label = "service"
    verbose_name = _("服务与关怀")

    def ready(self) -> None:
        from . import hooks_care, hooks_community, hooks_registration

        hooks_registration.register()
        hooks_care.register()
        hooks_community.register()

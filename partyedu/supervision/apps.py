from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    """督导考评: what the platform gives back to those who steer — dashboards, the monthly report
    (党建活动月报) derived from the records, dispatch and feedback (调度/反馈), guidance teams and
    inspections (巡回指导、调研督导、党课巡听), the annual assessment (年度考评) and the 大屏."""

    name = "partyedu.supervision"
    label = "supervision"
    verbose_name = _("督导考评")

    def ready(self) -> None:
        # Each area registers its hooks (to-do items, notifications, search) in its own module.
        from . import hooks

        hooks.register_all()

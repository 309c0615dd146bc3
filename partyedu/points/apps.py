from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    """积分: schemes configured per organisation subtree and year, and an append-only ledger of
    points derived from the records (attendance, 补学, lectures given, exams passed, online
    resources completed) and from a secretary's manual awards and deductions."""

    name = "partyedu.points"
    label = "points"
    verbose_name = _("积分管理")

    def ready(self) -> None:
        from . import hooks, jobs  # noqa: F401  (jobs registers the scheme re-derivation job kind)

        hooks.register()

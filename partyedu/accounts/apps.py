from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "partyedu.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from partyedu.core.hooks import hooks
        from partyedu.core.scope import ACCESS_LOADER

        from . import housekeeping, selectors, signals  # noqa: F401  (nightly cleaning, login audit hooks)

        hooks.register(ACCESS_LOADER, selectors.access_rows)

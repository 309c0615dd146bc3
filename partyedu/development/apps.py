from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevelopmentConfig(AppConfig):
    """发展党员: one case per person from the application (申请入党) to full membership (正式党员),
    every step with its date, people, meeting and papers, checked against the timing rules of the
    subtree, with alerts before deadlines."""

    name = "partyedu.development"
    label = "development"
    verbose_name = _("发展党员")

    def ready(self) -> None:
        from partyedu.core.hooks import hooks

        from . import exports, panels, todo  # noqa: F401  (exports registers the export job kind)
        from . import hooks as development_hooks

        hooks.register("members.managed_fields", development_hooks.managed_fields)
        hooks.register("members.detail_panels", panels.member_panels)
        hooks.register("core.todo", todo.development_todos)

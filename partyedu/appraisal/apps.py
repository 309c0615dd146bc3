from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    """民主评议党员: the annual democratic appraisal of a branch's members in five steps (自我评价,
    党员互评, 民主测评投票, 支部委员会研究决定, 上报), grounded in the year's record, with anonymous
    ballots and the follow-up of members rated 不合格."""

    name = "partyedu.appraisal"
    label = "appraisal"
    verbose_name = _("民主评议党员")

    def ready(self) -> None:
        from partyedu.core.hooks import hooks

        from . import panels, todo

        hooks.register("core.todo", todo.appraisal_todos)
        hooks.register("study.activity_panels", panels.activity_panels)

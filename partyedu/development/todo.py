"""The development app's items on the workbench (``core.todo``), as counts (one item per kind of
work, never one per case):

- a secretary (``development.change``): applicants to talk with whose month is ending or over
  (谈话), activists whose six-monthly assessment is due or over (培养考察), 预备党员 whose probation
  ends within the policy's ``warn_days`` (申请转正、讨论转正), applicants and activists with no step
  for longer than ``applicant_wait_days`` (长时间没有进展);
- the party committee above a branch (an org_admin at a strict ancestor): 预审, 审批 and 转正审批
  waiting for it, the overdue ones first (priority 0).

Three queries at most: the policies of the user's subtrees, one aggregate for the branch work and
one for the work above."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from partyedu.accounts.types import Viewer
from partyedu.core.scope import has_action, has_role
from partyedu.core.todo import TodoItem

from .selectors_overview import above_alert_counts, branch_alert_counts

SECTION = "发展党员"
APP = "development"


def _url(alert: str) -> str:
    return f"{reverse('development:index')}?{urlencode({'alert': alert})}"


def development_todos(*, user: Viewer) -> list[TodoItem]:
    """``core.todo`` for member development: see the module's docstring."""
    if user is None or not user.is_authenticated or not has_action(user, "change", APP):
        return []
    items = _branch_items(user)
    if has_role(user, "org_admin"):
        items += _above_items(user)
    return items


def _branch_items(user: Viewer) -> list[TodoItem]:
    counts = branch_alert_counts(user=user)
    items: list[TodoItem] = []
    if counts.talk:
        overdue = f"，其中{counts.talk_overdue}名已逾期" if counts.talk_overdue else ""
        items.append(
            TodoItem(
                key="development.talk",
                section=SECTION,
                title=f"发展党员：{counts.talk} 名入党申请人待派人谈话{overdue}",
                detail="收到入党申请后应在规定期限内派人谈话",
                url=_url("talk"),
                count=counts.talk,
                priority=0 if counts.talk_overdue else 1,
                icon="chat-dots",
            )
        )
    if counts.assessment:
        overdue = f"，其中{counts.assessment_overdue}名已逾期" if counts.assessment_overdue else ""
        items.append(
            TodoItem(
                key="development.assessment",
                section=SECTION,
                title=f"发展党员：{counts.assessment} 名入党积极分子待培养考察{overdue}",
                detail="入党积极分子应定期进行培养教育考察并记录",
                url=_url("assessment"),
                count=counts.assessment,
                priority=0 if counts.assessment_overdue else 1,
                icon="clipboard-check",
            )
        )
    if counts.probation:
        items.append(
            TodoItem(
                key="development.probation",
                section=SECTION,
                title=f"发展党员：{counts.probation} 名预备党员预备期将满",
                detail="请提醒本人提出转正申请，预备期满后及时召开支部党员大会讨论转正",
                url=_url("probation"),
                count=counts.probation,
                priority=1,
                icon="hourglass-split",
            )
        )
    if counts.waiting:
        items.append(
            TodoItem(
                key="development.waiting",
                section=SECTION,
                title=f"发展党员：{counts.waiting} 名申请人或积极分子长时间没有进展",
                detail="超过规定天数没有任何步骤，请了解情况并推进或终止",
                url=_url("waiting"),
                count=counts.waiting,
                priority=2,
                icon="pause-circle",
            )
        )
    return items


def _above_items(user: Viewer) -> list[TodoItem]:
    counts = above_alert_counts(user=user)
    items: list[TodoItem] = []
    for alert, count, overdue, title in (
        ("approval", counts.approval, counts.approval_overdue, "名发展对象待审批接收为预备党员"),
        (
            "conversion_approval",
            counts.conversion_approval,
            counts.conversion_approval_overdue,
            "名预备党员待审批转正",
        ),
        ("pre_review", counts.pre_review, 0, "名发展对象待上级党委预审"),
    ):
        if not count:
            continue
        late = f"，其中{overdue}名已超过审批期限" if overdue else ""
        items.append(
            TodoItem(
                key=f"development.above.{alert}",
                section=SECTION,
                title=f"发展党员：{count} {title}{late}",
                detail="由上级党委办理：下级支部已完成前置步骤",
                url=_url(alert),
                count=count,
                priority=0 if overdue else 1,
                icon="building-check",
            )
        )
    return items

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleCode(models.TextChoices):
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")
    ORG_ADMIN = "org_admin", _("组织部/工委管理员")
    BRANCH_ADMIN = "branch_admin", _("党务工作者/支部书记")
    MEMBER = "member", _("党员")
    LECTURER = "lecturer", _("讲师")
    REVIEWER = "reviewer", _("评委")
    INSPECTOR = "inspector", _("督导员")
    EXAMINER = "examiner", _("出题人")


class RoleScope(models.TextChoices):
    SUBTREE = "subtree", _("所在组织及下级")
    SELF = "self", _("本人")
    ASSIGNED = "assigned", _("指派对象")


# Default actions per role. Patterns are "<app_label>.<verb>" with "*" for any app. These are the
# lawful defaults written by the roles migration; the rows can be tuned per deployment.
ROLE_DEFAULTS: dict[str, tuple[str, list[str]]] = {
    RoleCode.SYSADMIN: (RoleScope.SUBTREE, ["organizations.view", "accounts.view", "accounts.manage_users"]),
    RoleCode.SECADMIN: (
        RoleScope.SUBTREE,
        ["organizations.view", "accounts.view", "accounts.manage_roles", "accounts.grant_pii"],
    ),
    RoleCode.AUDITOR: (RoleScope.SUBTREE, ["core.view_audit"]),
    RoleCode.ORG_ADMIN: (
        RoleScope.SUBTREE,
        ["*.view", "*.add", "*.change", "*.delete", "*.import", "*.export", "accounts.view", "service.care"],
    ),
    # ``service.care``: the care records of members in difficulty and the private notes of talks,
    # which no wildcard reaches (issue 16).
    RoleCode.BRANCH_ADMIN: (RoleScope.SUBTREE, ["*.view", "*.add", "*.change", "*.export", "service.care"]),
    RoleCode.MEMBER: (
        RoleScope.SELF,
        [
            "members.view",
            "lectures.view",
            "exams.view",
            "exams.take",
            "points.view",
            "service.view",
            "service.add",
        ],
    ),
    RoleCode.LECTURER: (RoleScope.SELF, ["members.view", "lectures.view"]),
    # A reviewer reaches only the reviews assigned to them (Review.scope_assigned).
    RoleCode.REVIEWER: (RoleScope.ASSIGNED, ["competitions.view", "competitions.change"]),
    # A 督导员 reads the activities, reports and figures of the organisations assigned to them (held
    # at each organisation a guidance team covers) and nothing else: no member records, no writes.
    RoleCode.INSPECTOR: (
        RoleScope.SUBTREE,
        ["organizations.view", "study.view", "learning.view", "lectures.view", "supervision.view"],
    ),
    # A 出题人 delegated by an organisation keeps its question banks and papers (issue 13): banks,
    # questions, their import and export, and papers over the subtree where the role is held.
    # Exams themselves share the "exams" actions, so the role's holder can also reach the exam pages.
    RoleCode.EXAMINER: (
        RoleScope.SUBTREE,
        ["organizations.view", "exams.view", "exams.add", "exams.change", "exams.import", "exams.export"],
    ),
}

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgLevel(models.TextChoices):
    COMMITTEE = "committee", _("党委")
    WORKING_COMMITTEE = "working_committee", _("党工委")
    LEADING_GROUP = "leading_group", _("党组")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    GROUP = "group", _("党小组")


class OrgType(models.TextChoices):
    ORGAN = "organ", _("机关")
    INSTITUTION = "institution", _("事业单位")
    SOE = "soe", _("国有企业")
    PRIVATE = "private", _("非公企业")
    SOCIAL = "social", _("社会组织")
    RURAL = "rural", _("农村")
    COMMUNITY = "community", _("社区")
    SCHOOL = "school", _("学校")
    OTHER = "other", _("其他")


# Which levels may sit under which: committees anywhere above, groups only under branches.
UPPER_LEVELS = {OrgLevel.COMMITTEE, OrgLevel.WORKING_COMMITTEE, OrgLevel.LEADING_GROUP}
ALLOWED_CHILD_LEVELS: dict[str, set[str]] = {
    OrgLevel.COMMITTEE: {*UPPER_LEVELS, OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH},
    OrgLevel.WORKING_COMMITTEE: {*UPPER_LEVELS, OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH},
    OrgLevel.LEADING_GROUP: {*UPPER_LEVELS, OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH},
    OrgLevel.GENERAL_BRANCH: {OrgLevel.BRANCH},
    OrgLevel.BRANCH: {OrgLevel.GROUP},
    OrgLevel.GROUP: set(),
}


def parent_levels_for(level: str) -> set[str]:
    """The levels of organisation under which an organisation of ``level`` may stand."""
    return {str(parent) for parent, children in ALLOWED_CHILD_LEVELS.items() if level in children}


# Levels a member can belong to (条例 第二十五条: exactly one branch or group).
MEMBER_LEVELS = {OrgLevel.BRANCH, OrgLevel.GROUP}

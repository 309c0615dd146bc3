"""Who is expected at an activity when the secretary names nobody: the default roster of each
meeting type (DOMAIN_RULES; 支部条例; issue "Rosters by meeting type").

- 支委会: the branch committee — active members of the branch holding the 基层党组织书记 or 支部委员
  category.
- 党小组会: the party group's own 正式 and 预备党员 (the activity is held by the 党小组); the group's
  入党积极分子 and 发展对象 are offered as 列席, unticked.
- 支部党员大会, 党课, 主题党日 and every other type: the 正式 and 预备党员 of the organisation's subtree;
  its active 入党积极分子 and 发展对象 are offered as 列席 — ticked for 党课 and 主题党日 (they take
  part in the branch's education), unticked for the others (at a 党员大会 they do not vote).
- 中心组学习: the standing 中心组 list of the 党委/党组/党工委 (``CentralGroupMembership``): 组长, 副组长
  and 成员 on the roster, its 列席 offered as 列席 (ticked). No list yet: the organisation's active
  party members, with the notice "中心组成员名单未设置".
- 送学上门: nobody — the secretary names the member visited.

Both the recording service (``services.activities``: the system's view, every member) and the
roster preview of the activity form (``selectors.activity_roster_preview``: ``members`` restricted
to the user's scope) build on ``default_roster``. The offered 列席 join an activity only when asked
for: ticked on the form, or ``invite_suggested`` given to ``activity_record``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from partyedu.members.choices import PARTY_STATUSES, MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.members.selectors import has_category_q
from partyedu.organizations.choices import UPPER_LEVELS, OrgLevel
from partyedu.organizations.models import Organization

from .choices import CENTRAL_GROUP_ROSTER_ROLES, ActivityType, CentralGroupRole

CANDIDATE_STATUSES = (MemberStatus.ACTIVIST, MemberStatus.CANDIDATE)
# The organisations that keep a 理论学习中心组: 党委, 党组, 党工委.
CENTRAL_GROUP_LEVELS = frozenset(UPPER_LEVELS)
# Types whose offered 列席 (入党积极分子、发展对象) start ticked on the form.
INVITEES_TICKED_TYPES = (ActivityType.PARTY_LECTURE, ActivityType.THEME_DAY)

PARTY_MEMBERS = "正式党员和预备党员"
CANDIDATES = "入党积极分子和发展对象"
CENTRAL_GROUP_UNSET = "中心组成员名单未设置，默认为本组织在册党员"


@dataclass(frozen=True)
class DefaultRoster:
    """The default roster of one type at one organisation: where it comes from (``source``, shown
    as "默认名单：支委会成员 5 人"), its members, the 列席 it offers and whether they start ticked,
    and a notice when the default is a fallback or empty."""

    source: str
    members: QuerySet[Member]
    invitee_source: str = ""
    invitees: QuerySet[Member] | None = None
    invitees_ticked: bool = False
    notice: str = ""
    # 中心组学习 at an organisation whose 中心组 list is still empty (the form links to the list).
    central_group_unset: bool = False

    @property
    def offers_invitees(self) -> bool:
        return self.invitees is not None


def central_group_role_order() -> Case:
    """组长, 副组长, 成员, 列席 — the order a 中心组 list is read in."""
    return Case(
        *(When(role=role, then=Value(n)) for n, role in enumerate(CentralGroupRole.values)),
        default=Value(len(CentralGroupRole.values)),
        output_field=IntegerField(),
    )


def _in_central_group(org: Organization, roles: tuple[str, ...]) -> Q:
    return Q(
        central_group_memberships__organization=org,
        central_group_memberships__role__in=roles,
    )


def default_roster(
    organization: Organization, activity_type: str, *, members: QuerySet[Member] | None = None
) -> DefaultRoster:
    """The default roster of ``activity_type`` at ``organization``, drawn from ``members`` (all
    members when None; a page passes those the user may see). Only members on the roll."""
    base = (Member.objects.all() if members is None else members).filter(is_active=True)
    subtree = base.filter(organization.subtree_q("org_path"))
    party = subtree.filter(status__in=PARTY_STATUSES)
    candidates = subtree.filter(status__in=CANDIDATE_STATUSES)

    if activity_type == ActivityType.HOME_DELIVERY:
        return DefaultRoster(
            source="无（送学上门由书记指定党员）",
            members=base.none(),
            notice="送学上门请在“应到人员”中填写上门看望的党员",
        )
    if activity_type == ActivityType.BRANCH_COMMITTEE:
        if organization.level != OrgLevel.BRANCH:
            return DefaultRoster(
                source="支委会成员",
                members=base.none(),
                notice="支委会由党支部召开；请选择党支部，或在“应到人员”中填写参会人员",
            )
        committee = party.filter(
            has_category_q(MemberCategory.SECRETARY) | has_category_q(MemberCategory.COMMITTEE)
        )
        return DefaultRoster(
            source="支委会成员",
            members=committee,
            notice=""
            if committee.exists()
            else "本支部未登记书记或支部委员（在党员信息的“党员类别”中设置），请在“应到人员”中填写参会人员",
        )
    if activity_type == ActivityType.GROUP_MEETING:
        if organization.level == OrgLevel.GROUP:
            return DefaultRoster(
                source="本党小组党员",
                members=party,
                invitee_source=CANDIDATES,
                invitees=candidates,
            )
        return DefaultRoster(
            source=PARTY_MEMBERS,
            members=party,
            invitee_source=CANDIDATES,
            invitees=candidates,
            notice="党小组会请在“组织”中选择该党小组，默认名单即为本组党员",
        )
    if activity_type == ActivityType.CENTRAL_GROUP_STUDY:
        if organization.level in CENTRAL_GROUP_LEVELS:
            # Members anywhere in the subtree (a leader is registered in the branch of their
            # office); one who has since moved out of it is no longer expected.
            listed = subtree.filter(_in_central_group(organization, CENTRAL_GROUP_ROSTER_ROLES))
            if listed.exists():
                return DefaultRoster(
                    source="中心组成员",
                    members=listed,
                    invitee_source="中心组列席人员",
                    invitees=subtree.filter(_in_central_group(organization, (CentralGroupRole.ATTENDEE,))),
                    invitees_ticked=True,
                )
        return DefaultRoster(
            source=PARTY_MEMBERS,
            members=party,
            notice=CENTRAL_GROUP_UNSET,
            central_group_unset=organization.level in CENTRAL_GROUP_LEVELS,
        )
    # 支部党员大会, 党课, 主题党日 and every other type.
    return DefaultRoster(
        source=PARTY_MEMBERS,
        members=party,
        invitee_source=CANDIDATES,
        invitees=candidates,
        invitees_ticked=activity_type in INVITEES_TICKED_TYPES,
    )

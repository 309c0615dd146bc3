"""Reads of the appraisal app.

Two kinds of access: the organisation roles read appraisals through
``Appraisal.objects.restrict(user, action)`` (the branch's secretary and committee, the levels
above); a member reads the appraisals they take part in through their membership
(``appraisals_for_participant``) — anything else is 404. Votes are only ever read as counts, and
only after the vote closed; the overview for the level above holds counts of decided grades and
follow-ups, never a vote or a comment."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from partyedu.core.scope import can
from partyedu.core.types import BaseViewer
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from .choices import TIE_PREFERENCE, AppraisalStatus, FollowUpStatus, Grade, StepCode
from .evidence import MemberEvidence, branch_evidence
from .models import Appraisal, AppraisalStep, BallotReceipt, FollowUp, Participant, PeerComment, Vote
from .services import branch_members, excellent_limit

APP = "appraisal"
NOT_FOUND = "民主评议不存在"


# --- organisation roles -------------------------------------------------------------------------


def appraisal_list(*, user: BaseViewer, action: str = "view") -> QuerySet[Appraisal]:
    """The appraisals of the organisations where the user holds ``appraisal.<action>``."""
    return (
        Appraisal.objects.restrict(user, action)
        .select_related("organization")
        .order_by("-year", "organization__path", "id")
    )


def appraisal_get(*, user: BaseViewer, pk: Any, action: str = "view") -> Appraisal:
    appraisal = appraisal_list(user=user, action=action).select_related("meeting").filter(pk=pk).first()
    if appraisal is None:
        raise Http404(NOT_FOUND)
    return appraisal


def addable_members(appraisal: Appraisal) -> list[Member]:
    """Members of the branch who are not participants (joined after the snapshot)."""
    return list(
        branch_members(appraisal.organization)
        .exclude(appraisal_participations__appraisal=appraisal)
        .only("id", "name")
        .order_by("name", "id")
    )


# --- steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepState:
    """Where an appraisal stands: the step open now, or else the next one to open."""

    code: str
    label: str
    is_open: bool

    @property
    def text(self) -> str:
        return f"{self.label}（{'进行中' if self.is_open else '待开启'}）"


def current_step(steps: list[AppraisalStep]) -> StepState | None:
    """The open step, else the first step not yet opened; None when every step closed."""
    ordered = sorted(steps, key=lambda s: s.position)
    for step in ordered:
        if step.is_open:
            return StepState(step.code, step.get_code_display(), True)
    for step in ordered:
        if step.opened_at is None:
            return StepState(step.code, step.get_code_display(), False)
    return None


def step_of(steps: list[AppraisalStep], code: str) -> AppraisalStep:
    return next(s for s in steps if s.code == code)


def vote_closed(steps: list[AppraisalStep]) -> bool:
    return step_of(steps, StepCode.VOTE).is_closed


# --- tallies -------------------------------------------------------------------------------------


@dataclass
class Tally:
    """The count of each grade one appraisee received."""

    member_id: int
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, grade: str) -> int:
        return self.counts.get(grade, 0)

    @property
    def excellent(self) -> int:
        return self.count(Grade.EXCELLENT)

    @property
    def qualified(self) -> int:
        return self.count(Grade.QUALIFIED)

    @property
    def basically_qualified(self) -> int:
        return self.count(Grade.BASICALLY_QUALIFIED)

    @property
    def unqualified(self) -> int:
        return self.count(Grade.UNQUALIFIED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def most_voted(self) -> str:
        """The grade with most votes (ties to the more moderate grade; 合格 without votes)."""
        if not self.counts:
            return Grade.QUALIFIED
        return max(self.counts, key=lambda g: (self.counts[g], TIE_PREFERENCE.get(g, 0)))


def tallies(appraisal: Appraisal, steps: list[AppraisalStep]) -> dict[int, Tally] | None:
    """Counts per grade per appraisee, or None while the vote has not closed. One query."""
    if not vote_closed(steps):
        return None
    found: dict[int, Tally] = {}
    rows = (
        Vote.objects.filter(appraisal=appraisal)
        .values("appraisee_id", "grade")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        found.setdefault(row["appraisee_id"], Tally(row["appraisee_id"])).counts[row["grade"]] = row["n"]
    return found


@dataclass(frozen=True)
class Turnout:
    voted: int
    voters: int

    @property
    def percent(self) -> int:
        return round(100 * self.voted / self.voters) if self.voters else 0


def turnout(appraisal: Appraisal, participants: list[Participant]) -> Turnout:
    return Turnout(
        BallotReceipt.objects.filter(appraisal=appraisal).count(), sum(1 for p in participants if p.is_voter)
    )


# --- the detail of an appraisal ------------------------------------------------------------------


@dataclass
class ParticipantRow:
    participant: Participant
    evidence: MemberEvidence | None
    tally: Tally | None
    comments: list[str] = field(default_factory=list)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.evidence.lines) if self.evidence is not None else ()

    @property
    def proposed_grade(self) -> str:
        """What the decide form starts with: the decided grade, else the tally's most-voted."""
        if self.participant.grade:
            return self.participant.grade
        return self.tally.most_voted if self.tally is not None else Grade.QUALIFIED


@dataclass
class AppraisalDetail:
    appraisal: Appraisal
    steps: list[AppraisalStep]
    rows: list[ParticipantRow]
    turnout: Turnout
    self_evaluations: int
    tallies_visible: bool
    follow_ups: list[FollowUp]
    can_change: bool
    comments_visible: bool

    @property
    def current(self) -> StepState | None:
        return current_step(self.steps)

    @property
    def participants(self) -> list[Participant]:
        return [r.participant for r in self.rows]

    @property
    def excellent_limit(self) -> int:
        return excellent_limit(self.appraisal.excellent_share, len(self.rows))

    @property
    def excellent_percent(self) -> str:
        return f"{(self.appraisal.excellent_share * 100).quantize(1)}"

    @property
    def decided(self) -> int:
        return sum(1 for r in self.rows if r.participant.grade)

    @property
    def decided_counts(self) -> dict[str, int]:
        counts = Counter(r.participant.grade for r in self.rows if r.participant.grade)
        return {g: counts.get(g, 0) for g in Grade.values}

    def step(self, code: str) -> AppraisalStep:
        return step_of(self.steps, code)


def _participants(appraisal: Appraisal) -> list[Participant]:
    return list(
        Participant.objects.filter(appraisal=appraisal)
        .select_related("member")
        .order_by("member__name", "member_id")
    )


def appraisal_detail(*, user: BaseViewer, appraisal: Appraisal, evidence: bool = True) -> AppraisalDetail:
    """An appraisal as its branch's committee (and the levels above) see it: steps, participants
    with the year's evidence, self-evaluations written, turnout, and — after the vote closed —
    the tallies; peer comments for those who may decide. A fixed number of queries."""
    steps = list(AppraisalStep.objects.filter(appraisal=appraisal).order_by("position"))
    participants = _participants(appraisal)
    found = (
        branch_evidence(
            organization=appraisal.organization,
            year=appraisal.year,
            member_ids=[p.member_id for p in participants],
        )
        if evidence and participants
        else {}
    )
    counts = tallies(appraisal, steps)
    can_change = can(user, "change", appraisal.organization, app_label=APP)
    comments: dict[int, list[str]] = defaultdict(list)
    if can_change:
        for appraisee_id, text in (
            PeerComment.objects.filter(appraisal=appraisal)
            .order_by("appraisee_id", "text")
            .values_list("appraisee_id", "text")
        ):
            comments[appraisee_id].append(text)
    rows = [
        ParticipantRow(
            participant=p,
            evidence=found.get(p.member_id),
            tally=(counts.get(p.member_id) or Tally(p.member_id)) if counts is not None else None,
            comments=comments.get(p.member_id, []),
        )
        for p in participants
    ]
    follow_ups = list(
        FollowUp.objects.filter(appraisal=appraisal)
        .select_related("member")
        .order_by("status", "deadline", "id")
    )
    return AppraisalDetail(
        appraisal=appraisal,
        steps=steps,
        rows=rows,
        turnout=turnout(appraisal, participants),
        self_evaluations=sum(1 for p in participants if p.self_evaluation),
        tallies_visible=counts is not None,
        follow_ups=follow_ups,
        can_change=can_change,
        comments_visible=can_change,
    )


# --- members: through their membership -----------------------------------------------------------


def _uid(user: BaseViewer) -> int:
    """The id of a signed-in user (0, which no account has, for anyone else)."""
    return int(user.pk) if user.is_authenticated and user.pk is not None else 0


def member_of_user(*, user: BaseViewer) -> Member | None:
    """The user's own member record, if any."""
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user_id=user.pk).first()


def appraisals_for_participant(*, user: BaseViewer) -> QuerySet[Appraisal]:
    """The appraisals whose participants include the user's own member record."""
    if not user.is_authenticated:
        return Appraisal.objects.none()
    return (
        Appraisal.objects.filter(
            Exists(Participant.objects.filter(appraisal=OuterRef("pk"), member__user_id=_uid(user)))
        )
        .select_related("organization")
        .order_by("-year", "id")
    )


def participation_get(*, user: BaseViewer, pk: Any) -> tuple[Appraisal, Participant]:
    """An appraisal the user takes part in, with their participation; else 404."""
    appraisal = appraisals_for_participant(user=user).filter(pk=pk).first()
    if appraisal is None:
        raise Http404(NOT_FOUND)
    participant = (
        Participant.objects.filter(appraisal=appraisal, member__user_id=_uid(user))
        .select_related("member")
        .get()
    )
    return appraisal, participant


@dataclass
class MyAppraisal:
    """One appraisal as a participant sees it on their phone."""

    appraisal: Appraisal
    participant: Participant
    steps: list[AppraisalStep]
    voted: bool
    comments_written: int = 0

    @property
    def current(self) -> StepState | None:
        return current_step(self.steps)

    def step(self, code: str) -> AppraisalStep:
        return step_of(self.steps, code)

    @property
    def self_step(self) -> AppraisalStep:
        return self.step(StepCode.SELF)

    @property
    def vote_step(self) -> AppraisalStep:
        return self.step(StepCode.VOTE)

    @property
    def self_open(self) -> bool:
        return self.step(StepCode.SELF).is_open

    @property
    def peer_open(self) -> bool:
        return self.step(StepCode.PEER).is_open

    @property
    def vote_open(self) -> bool:
        return self.step(StepCode.VOTE).is_open

    @property
    def todo(self) -> str:
        """What the participant should do now, if anything."""
        if self.self_open and not self.participant.self_evaluation:
            return "请完成自我评价"
        if self.vote_open and self.participant.is_voter and not self.voted:
            return "请参加民主测评"
        return ""


def my_appraisals(*, user: BaseViewer) -> list[MyAppraisal]:
    """The appraisals the user takes part in, newest first, with their steps and whether they
    voted. Four queries."""
    appraisals = list(appraisals_for_participant(user=user)[:20])
    if not appraisals:
        return []
    ids = [a.pk for a in appraisals]
    mine = {
        p.appraisal_id: p
        for p in Participant.objects.filter(appraisal_id__in=ids, member__user_id=_uid(user)).select_related(
            "member"
        )
    }
    steps: dict[int, list[AppraisalStep]] = defaultdict(list)
    for step in AppraisalStep.objects.filter(appraisal_id__in=ids).order_by("position"):
        steps[step.appraisal_id].append(step)
    voted = set(
        BallotReceipt.objects.filter(appraisal_id__in=ids, voter__user_id=_uid(user)).values_list(
            "appraisal_id", flat=True
        )
    )
    return [MyAppraisal(a, mine[a.pk], steps[a.pk], a.pk in voted) for a in appraisals]


def my_appraisal(*, user: BaseViewer, pk: Any) -> MyAppraisal:
    appraisal, participant = participation_get(user=user, pk=pk)
    steps = list(AppraisalStep.objects.filter(appraisal=appraisal).order_by("position"))
    voted = BallotReceipt.objects.filter(appraisal=appraisal, voter_id=participant.member_id).exists()
    return MyAppraisal(appraisal, participant, steps, voted)


def peers(appraisal: Appraisal, participant: Participant) -> list[Participant]:
    """The other participants, by name, with their self-evaluations (shown in the peer step)."""
    return [p for p in _participants(appraisal) if p.member_id != participant.member_id]


def my_comments(appraisal: Appraisal, participant: Participant) -> dict[int, str]:
    """The participant's own peer comments by appraisee (found by their key, never stored)."""
    from .anonymity import comment_keys

    return dict(
        PeerComment.objects.filter(
            appraisal=appraisal, author_key__in=comment_keys(appraisal.pk, participant.member_id)
        ).values_list("appraisee_id", "text")
    )


def my_ballot(appraisal: Appraisal, participant: Participant) -> dict[int, str]:
    """The participant's own ballot by appraisee, for their form while the vote is open: found
    by recomputing their key in their own request."""
    from .anonymity import ballot_keys

    return dict(
        Vote.objects.filter(
            appraisal=appraisal, ballot_key__in=ballot_keys(appraisal.pk, participant.member_id)
        ).values_list("appraisee_id", "grade")
    )


# --- the level above: completion per branch -----------------------------------------------------


@dataclass
class BranchCompletion:
    """One branch in the overview: its appraisal of the year (or none), where it stands, how
    many take part, the decided grades and the open follow-ups. Counts only."""

    organization: Organization
    appraisal: Appraisal | None
    state: StepState | None = None
    participants: int = 0
    decided: dict[str, int] = field(default_factory=dict)
    open_follow_ups: int = 0

    @property
    def status_label(self) -> str:
        if self.appraisal is None:
            return "未开展"
        if self.appraisal.status == AppraisalStatus.REPORTED:
            return "已上报"
        if self.state is None:
            return str(self.appraisal.get_status_display())
        return self.state.text


@dataclass
class Overview:
    organization: Organization
    year: int
    rows: list[BranchCompletion]
    started: int
    reported: int


def overview_branches(*, user: BaseViewer, organization: Organization) -> QuerySet[Organization]:
    """The branches in ``organization``'s subtree within the user's appraisal view scope (党支部,
    and any other organisation that holds an appraisal), by path: the list a page shows."""
    scoped = Organization.objects.restrict(user, "view", app_label=APP)
    return (
        scoped.filter(organization.subtree_q("path"), is_active=True)
        .filter(Q(level=OrgLevel.BRANCH) | Q(Exists(Appraisal.objects.filter(organization=OuterRef("pk")))))
        .order_by("path")
    )


def overview(
    *, user: BaseViewer, organization: Organization, year: int, branches: list[Organization]
) -> Overview:
    """Completion of ``year``'s appraisal for one page of ``branches`` (from
    ``overview_branches``, so already within scope), and the totals of the whole subtree. A fixed
    number of queries whatever the page holds; no vote and no comment is read."""
    scoped = Appraisal.objects.restrict(user, "view").filter(
        organization.subtree_q("organization__path"), year=year
    )
    totals = scoped.aggregate(
        started=Count("id", filter=~Q(status=AppraisalStatus.PLANNED)),
        reported=Count("id", filter=Q(status=AppraisalStatus.REPORTED)),
    )
    appraisals = {
        a.organization_id: a
        for a in scoped.filter(organization__in=[b.pk for b in branches]).annotate(
            n_participants=Count("participants", distinct=True)
        )
    }
    ids = [a.pk for a in appraisals.values()]
    steps: dict[int, list[AppraisalStep]] = defaultdict(list)
    decided: dict[int, dict[str, int]] = defaultdict(dict)
    open_follow_ups: dict[int, int] = {}
    if ids:
        for step in AppraisalStep.objects.filter(appraisal_id__in=ids).order_by("position"):
            steps[step.appraisal_id].append(step)
        for row in (
            Participant.objects.filter(appraisal_id__in=ids)
            .exclude(grade="")
            .values("appraisal_id", "grade")
            .annotate(n=Count("id"))
            .order_by()
        ):
            decided[row["appraisal_id"]][row["grade"]] = row["n"]
        open_follow_ups = dict(
            FollowUp.objects.filter(appraisal_id__in=ids, status=FollowUpStatus.OPEN)
            .values("appraisal_id")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("appraisal_id", "n")
        )
    rows = []
    for branch in branches:
        appraisal = appraisals.get(branch.pk)
        if appraisal is None:
            rows.append(BranchCompletion(branch, None))
            continue
        rows.append(
            BranchCompletion(
                organization=branch,
                appraisal=appraisal,
                state=current_step(steps[appraisal.pk]),
                participants=getattr(appraisal, "n_participants", 0),
                decided={g: decided[appraisal.pk].get(g, 0) for g in Grade.values},
                open_follow_ups=open_follow_ups.get(appraisal.pk, 0),
            )
        )
    return Overview(
        organization=organization,
        year=year,
        rows=rows,
        started=totals["started"] or 0,
        reported=totals["reported"] or 0,
    )


# --- follow-ups ----------------------------------------------------------------------------------


def follow_up_list(*, user: BaseViewer, action: str = "view", status: str = "") -> QuerySet[FollowUp]:
    """The follow-ups of appraisals in the user's scope, open ones first by deadline."""
    qs = FollowUp.objects.restrict(user, action).select_related("member", "appraisal__organization")
    if status in FollowUpStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("status", "deadline", "id")


def follow_up_get(*, user: BaseViewer, pk: Any, action: str = "view") -> FollowUp:
    follow_up = follow_up_list(user=user, action=action).filter(pk=pk).first()
    if follow_up is None:
        raise Http404("跟进事项不存在")
    return follow_up


# --- the API's view of an appraisal --------------------------------------------------------------


def appraisal_data(*, user: BaseViewer, appraisal: Appraisal) -> dict[str, Any]:
    """The API's body of an appraisal (``AppraisalOutSerializer``). The committee and the levels
    above (``appraisal.view`` at the branch) get the tallies once the vote closed, the decisions
    and the reason; a participant who is only a participant gets the steps, the participants and
    the turnout (what their ballot needs), never a tally or a decision."""
    committee = can(user, "view", appraisal.organization, app_label=APP)
    detail = appraisal_detail(user=user, appraisal=appraisal)
    state = detail.current
    tallies_out = None
    if committee and detail.tallies_visible:
        tallies_out = [
            {
                "member": r.participant.member_id,
                "excellent": r.tally.excellent if r.tally else 0,
                "qualified": r.tally.qualified if r.tally else 0,
                "basically_qualified": r.tally.basically_qualified if r.tally else 0,
                "unqualified": r.tally.unqualified if r.tally else 0,
            }
            for r in detail.rows
        ]
    return {
        "id": appraisal.pk,
        "organization": appraisal.organization_id,
        "year": appraisal.year,
        "status": appraisal.status,
        "current_step": state.code if state is not None else None,
        "excellent_share": appraisal.excellent_share,
        "steps": [
            {
                "code": s.code,
                "name": s.get_code_display(),
                "planned_start": s.planned_start,
                "planned_end": s.planned_end,
                "opened_at": s.opened_at,
                "closed_at": s.closed_at,
            }
            for s in detail.steps
        ],
        "participants": [
            {
                "member": r.participant.member_id,
                "name": r.participant.member.name,
                "is_voter": r.participant.is_voter,
                "exempt": r.participant.exempt,
                "evidence": list(r.lines),
            }
            for r in detail.rows
        ],
        "voters": detail.turnout.voters,
        "turnout": detail.turnout.voted,
        "tallies": tallies_out,
        "decisions": [
            {"member": p.member_id, "grade": p.grade, "decided_at": p.decided_at}
            for p in detail.participants
            if committee and p.grade
        ],
        "reason": appraisal.reason if committee else "",
    }


def api_appraisals(*, user: BaseViewer) -> QuerySet[Appraisal]:
    """What the API lists and shows: appraisals in the user's ``appraisal.view`` scope and those
    the user takes part in."""
    scoped = Appraisal.objects.restrict(user, "view").values("pk")
    mine = (
        Participant.objects.filter(appraisal=OuterRef("pk"), member__user_id=_uid(user))
        if user.is_authenticated
        else None
    )
    condition = Q(pk__in=scoped)
    if mine is not None:
        condition |= Q(Exists(mine))
    return Appraisal.objects.filter(condition).select_related("organization").order_by("-year", "id")


# --- for the monthly report ---------------------------------------------------------------------


def appraisals_reported(*, organization_ids: list[int], start: Any, end: Any) -> list[dict[str, Any]]:
    """The appraisals of the given organisations reported to the level above in ``[start, end)``,
    with their decided grades counted and their open follow-ups: what the branch's monthly report
    (党建活动月报) shows of its 民主评议. A system read for the report's derivation, which has
    checked scope already; counts only, never a vote or a comment. Two queries."""
    appraisals = list(
        Appraisal.objects.filter(
            organization_id__in=organization_ids, reported_at__gte=start, reported_at__lt=end
        )
        .select_related("organization")
        .annotate(
            open_follow_ups=Count(
                "follow_ups", filter=Q(follow_ups__status=FollowUpStatus.OPEN), distinct=True
            )
        )
        .order_by("reported_at", "id")
    )
    if not appraisals:
        return []
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for appraisal_id, grade, n in (
        Participant.objects.filter(appraisal__in=appraisals)
        .values("appraisal_id", "grade")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("appraisal_id", "grade", "n")
    ):
        counts[appraisal_id][grade or ""] += n
    labels = dict(Grade.choices)
    return [
        {
            "id": a.pk,
            "organization": a.organization.name,
            "year": a.year,
            "reported": a.reported_at.date().isoformat() if a.reported_at else "",
            "participants": sum(counts[a.pk].values()),
            "grades": [
                {"grade": code, "label": str(labels[code]), "count": counts[a.pk].get(code, 0)}
                for code in Grade.values
            ],
            "open_follow_ups": a.open_follow_ups,
        }
        for a in appraisals
    ]

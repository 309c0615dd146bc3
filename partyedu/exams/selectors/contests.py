"""Reads of contests (知识竞赛): the contests an organiser holds, each member's contest score (the
sum over rounds of the attempt that counts under the round's grading), the organisations'
participation rate and mean score of participants (never raw totals, so a small branch is not
outnumbered), the members proposed to advance from a tiered round, and the live sessions.

Who sees what: the organiser's scope (``restrict``) sees everything of a contest held in it;
once ``results_published`` a member or an admin whose organisation lies in the contest's subtree
sees the organisations' table and the winners (and a member their own score), never the
member ranking."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from partyedu.accounts.types import User, Viewer
from partyedu.core.scope import can, is_system, path_in, scope_for
from partyedu.members.models import Member
from partyedu.organizations.models import SEGMENT_WIDTH, Organization

from ..choices import AdvanceUnit, ExamKind
from ..models import Attempt, Contest, ContestAward, ContestRound, Exam, LiveAnswer, LiveSession
from ..targets import counted_attempts, exam_target_members
from . import taker_member

APP = "exams"
PLACES = Decimal("0.01")


# --- contests ----------------------------------------------------------------------------------


def contest_list(*, user: Viewer, action: str = "view") -> QuerySet[Contest]:
    return Contest.objects.restrict(user, action).select_related("organization").order_by("-starts_on", "-id")


def contest_get(*, user: Viewer, pk: Any, action: str = "view") -> Contest:
    contest = contest_list(user=user, action=action).filter(pk=pk).first()
    if contest is None:
        raise Http404("竞赛不存在")
    return contest


def contest_delete_refusal(*, user: Viewer | None, contest: Contest) -> str:
    """Why the contest cannot be deleted ("" when it can): once anything has been taken — an
    attempt at a round, an answer entered in a live session — or awards were granted, it is a
    record. 404 for a contest outside the user's scope (``user=None``: the system, for the
    service that has checked the actor)."""
    if not _in_scope(user, contest):
        raise Http404("竞赛不存在")
    if Attempt.objects.filter(exam__contest_round__contest=contest).exists():
        return "竞赛已有党员答题，不能删除"
    if LiveAnswer.objects.filter(team__session__contest=contest).exists():
        return "现场竞赛已录入答题，不能删除"
    if contest.competition_id is not None or contest.awards.exists():
        return "竞赛已评定奖项，不能删除"
    return ""


def round_attempted(*, user: Viewer | None, round_: ContestRound) -> bool:
    """Whether anyone has started the round (then only its name and closing time may change,
    and it cannot be deleted). 404 for a round outside the user's scope."""
    if not _in_scope(user, round_.contest):
        raise Http404("竞赛轮次不存在")
    return Attempt.objects.filter(exam_id=round_.exam_id).exists()


def round_delete_refusal(*, user: Viewer | None, round_: ContestRound) -> str:
    """Why the round cannot be deleted ("" when it can): it has attempts, or it is not the last
    round of a tiered contest (a later round is for the members advanced from the one before,
    and the first is for everyone, so a tiered contest loses its rounds from the end)."""
    if round_attempted(user=user, round_=round_):
        return "本轮已有党员答题，不能删除"
    later = ContestRound.objects.filter(contest_id=round_.contest_id, sequence__gt=round_.sequence)
    if round_.contest.tiered and later.exists():
        return "逐级晋级的竞赛只能删除最后一轮，请先删除后面的轮次"
    return ""


def _in_scope(user: Viewer | None, contest: Contest) -> bool:
    """Whether the contest lies in the user's "view" scope (the system, ``user=None``, sees all)."""
    return is_system(user) or can(user, "view", contest.organization, app_label=APP)


def _rounds(user: Viewer | None) -> QuerySet[ContestRound]:
    return ContestRound.objects.all() if is_system(user) else ContestRound.objects.restrict(user, "view")


def contest_rounds(*, user: Viewer, contest: Contest) -> list[ContestRound]:
    """The contest's rounds in order (none for a contest outside the user's scope)."""
    return _contest_rounds(_rounds(user), contest)


def _contest_rounds(rounds: QuerySet[ContestRound], contest: Contest) -> list[ContestRound]:
    """Each round says whether anyone has started it (``attempted``)."""
    return list(
        rounds.filter(contest=contest)
        .select_related("exam")
        .annotate(attempted=Exists(Attempt.objects.filter(exam_id=OuterRef("exam_id"))))
        .order_by("sequence")
    )


def round_get(*, user: Viewer, pk: Any, action: str = "view") -> ContestRound:
    found = (
        ContestRound.objects.restrict(user, action)
        .select_related("contest__organization", "exam")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("竞赛轮次不存在")
    return found


def open_rounds_for_member(*, user: Viewer) -> list[Exam]:
    """The open contest rounds the signed-in member is given (for the member's exam list)."""
    from django.utils import timezone

    member = taker_member(user)
    if member is None:
        return []
    now = timezone.now()
    exams = Exam.objects.filter(kind=ExamKind.CONTEST, opens_at__lte=now, closes_at__gt=now).select_related(
        "organization", "contest_round__contest"
    )
    return [e for e in exams if exam_target_members(e).filter(pk=member.pk).exists()]


# --- scores --------------------------------------------------------------------------------------


@dataclass
class MemberScore:
    member_id: int
    name: str
    organization: str
    unit_path: str
    total: Decimal
    rounds: dict[int, Decimal] = field(default_factory=dict)
    rank: int = 0


@dataclass
class UnitScore:
    path: str
    name: str
    targets: int
    participants: int
    mean: Decimal | None

    @property
    def rate(self) -> float:
        return round(100 * self.participants / self.targets, 1) if self.targets else 0.0


@dataclass
class ContestResults:
    contest: Contest
    rounds: list[ContestRound]
    members: list[MemberScore]
    units: list[UnitScore]
    targets: int
    participants: int
    organiser: bool
    # The contest's awards (the winners), shown with the results.
    awards: list[ContestAward] = field(default_factory=list)


def _unit_path(contest_path: str, member_path: str) -> str:
    """The unit one level below the organiser a member belongs to (the organiser itself for
    members registered at it)."""
    width = len(contest_path) + SEGMENT_WIDTH
    return member_path[:width] if len(member_path) >= width else contest_path


def _round_scores(round_: ContestRound) -> dict[int, Decimal]:
    return {
        member_id: score or Decimal(0)
        for member_id, score in counted_attempts(round_.exam).values_list("member_id", "score")
    }


def _rank_members(scores: list[MemberScore]) -> list[MemberScore]:
    """Best first; equal totals share a rank (1, 1, 3)."""
    ordered = sorted(scores, key=lambda s: (-s.total, s.member_id))
    previous: Decimal | None = None
    for index, score in enumerate(ordered, start=1):
        score.rank = ordered[index - 2].rank if previous is not None and score.total == previous else index
        previous = score.total
    return ordered


def _results(contest: Contest, paths: tuple[str, ...] | None, organiser: bool) -> ContestResults:
    rounds = _contest_rounds(ContestRound.objects.all(), contest)
    per_round = {r.pk: _round_scores(r) for r in rounds}
    targets = exam_target_members(rounds[0].exam) if rounds else Member.objects.none()
    participant_ids = {m for scores in per_round.values() for m in scores}
    members = Member.objects.filter(pk__in=participant_ids) | targets
    rows = list(members.distinct().values_list("pk", "name", "org_path", "organization__name"))
    target_ids = set(targets.values_list("pk", flat=True))
    if paths is not None:
        rows = [r for r in rows if path_in(r[2], paths)]
    org_path = contest.organization.path
    scores: list[MemberScore] = []
    unit_targets: dict[str, int] = {}
    for pk, name, path, org_name in rows:
        unit = _unit_path(org_path, path)
        if pk in target_ids:
            unit_targets[unit] = unit_targets.get(unit, 0) + 1
        if pk not in participant_ids:
            continue
        by_round = {r: s[pk] for r, s in per_round.items() if pk in s}
        scores.append(MemberScore(pk, name, org_name, unit, sum(by_round.values(), Decimal(0)), by_round))
    ranked = _rank_members(scores)
    names = dict(
        Organization.objects.filter(path__in=set(unit_targets) | {s.unit_path for s in ranked}).values_list(
            "path", "name"
        )
    )
    units: dict[str, list[Decimal]] = {}
    for s in ranked:
        units.setdefault(s.unit_path, []).append(s.total)
    table = []
    for path in sorted(set(unit_targets) | set(units)):
        totals = units.get(path, [])
        mean = (sum(totals, Decimal(0)) / len(totals)).quantize(PLACES) if totals else None
        table.append(UnitScore(path, names.get(path, ""), unit_targets.get(path, 0), len(totals), mean))
    # Ordered by participation rate, then mean: both are fair to small units.
    table.sort(key=lambda u: (-u.rate, -(u.mean or Decimal(-1)), u.path))
    return ContestResults(
        contest=contest,
        rounds=rounds,
        members=ranked,
        units=table,
        targets=sum(unit_targets.values()),
        participants=len(ranked),
        organiser=organiser,
    )


def contest_export_results(*, user: Viewer, contest: Contest) -> ContestResults:
    """The organiser's results for the xlsx export: the members (and so the units' figures) of
    the user's "export" scope only, so a participant who has since moved out of it is left out.
    404 for a contest outside that scope."""
    scope = scope_for(user, "export", APP)
    if not scope.covers(contest.organization.path):
        raise Http404("竞赛不存在")
    return _results(contest, scope.paths, organiser=True)


def contest_participants(*, user: Viewer, contest: Contest) -> QuerySet[Any]:
    """The members of the user's "export" scope who have submitted an attempt at one of the
    contest's rounds: the rows of the export's first sheet, counted to choose between a
    download and a background job."""
    return (
        Member.objects.restrict(user, "export", app_label=APP)
        .filter(
            exam_attempts__exam__contest_round__contest=contest,
            exam_attempts__submitted_at__isnull=False,
        )
        .values("pk")
        .distinct()
    )


def contest_scores(*, user: Viewer | None, contest: Contest) -> ContestResults:
    """The whole results of a contest, for the organiser and for services (``user=None``, the
    system, after their own check); 404 for a contest outside the user's scope."""
    if not _in_scope(user, contest):
        raise Http404("竞赛不存在")
    return _results(contest, None, organiser=True)


def _viewer_paths(user: Viewer) -> list[str]:
    """Where the viewer stands: their scope's organisations and their own member record's."""
    paths = list(scope_for(user, "view", APP).paths)
    member = taker_member(user)
    if member is not None:
        paths.append(member.org_path)
    return paths


def contest_results(*, user: Viewer, pk: Any) -> ContestResults:
    """The results as the viewer may see them: everything for the organiser's scope; when the
    results are published, the organisations' table and the winners for anyone whose
    organisation lies in the contest's subtree (no member ranking); else 404."""
    contest = Contest.objects.restrict(user, "view").select_related("organization").filter(pk=pk).first()
    if contest is not None:
        results = _results(contest, None, organiser=True)
        results.awards = _contest_awards(contest)
        return results
    contest = Contest.objects.select_related("organization").filter(pk=pk, results_published=True).first()
    if contest is None or not isinstance(user, User):
        raise Http404("竞赛不存在")
    if not any(path.startswith(contest.organization.path) for path in _viewer_paths(user)):
        raise Http404("竞赛不存在")
    results = _results(contest, None, organiser=False)
    # An award whose certificate was revoked is no longer shown to the subtree as a winner.
    results.awards = [a for a in _contest_awards(contest) if not _revoked(a)]
    member = taker_member(user)
    own = [s for s in results.members if member is not None and s.member_id == member.pk]
    results.members = own
    return results


def _revoked(award: ContestAward) -> bool:
    certificate = getattr(award.award, "certificate", None) if award.award is not None else None
    return certificate is not None and certificate.revoked_at is not None


def contest_awards(*, user: Viewer, contest: Contest) -> list[ContestAward]:
    """The contest's awards for the organiser's pages (none for a contest outside the user's
    scope; the published results carry their own, ``ContestResults.awards``)."""
    return _awards(ContestAward.objects.restrict(user, "view").filter(contest=contest))


def _contest_awards(contest: Contest) -> list[ContestAward]:
    return _awards(ContestAward.objects.filter(contest=contest))


def _awards(awards: QuerySet[ContestAward]) -> list[ContestAward]:
    return list(awards.select_related("member__organization", "award__certificate").order_by("rank", "pk"))


def contest_award_get(*, user: Viewer, pk: Any, action: str = "view") -> ContestAward:
    found = (
        ContestAward.objects.restrict(user, action)
        .select_related(
            "contest__organization", "member", "award__certificate", "award__competition__organization"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None or found.award is None:
        raise Http404("奖项不存在")
    return found


# --- tiers ---------------------------------------------------------------------------------------


@dataclass
class Advancer:
    member_id: int
    name: str
    organization: str
    unit_path: str
    unit_name: str
    score: Decimal
    unit_rank: int


def advance_proposal(*, user: Viewer | None, round_: ContestRound) -> list[Advancer]:
    """The members the round's results send to the next round: in each unit one level below the
    organiser, the best ``advance_value`` participants (or the best ``advance_value`` per cent,
    at least one), ties at the cut all included. None for a round outside the user's scope
    (``user=None``: the system, for a service that has checked the actor)."""
    value = round_.advance_value or 0
    contest = round_.contest
    if value <= 0 or not _in_scope(user, contest):
        return []
    scores = _round_scores(round_)
    rows = Member.objects.filter(pk__in=list(scores)).values_list(
        "pk", "name", "org_path", "organization__name"
    )
    by_unit: dict[str, list[tuple[Decimal, int, str, str]]] = {}
    for pk, name, path, org_name in rows:
        by_unit.setdefault(_unit_path(contest.organization.path, path), []).append(
            (scores[pk], pk, name, org_name)
        )
    names = dict(Organization.objects.filter(path__in=list(by_unit)).values_list("path", "name"))
    chosen: list[Advancer] = []
    for path in sorted(by_unit):
        entries = sorted(by_unit[path], key=lambda e: (-e[0], e[1]))
        if round_.advance_by == AdvanceUnit.SHARE:
            quota = max(1, math.ceil(len(entries) * min(value, 100) / 100))
        else:
            quota = value
        cut = entries[min(quota, len(entries)) - 1][0]
        rank = 0
        for index, (score, pk, name, org_name) in enumerate(entries, start=1):
            if index > quota and score < cut:
                break
            if (index > quota and score == cut) or index <= quota:
                rank = index if index == 1 or score != entries[index - 2][0] else rank
                chosen.append(Advancer(pk, name, org_name, path, names.get(path, ""), score, rank))
    return chosen


def next_round(*, user: Viewer | None, round_: ContestRound) -> ContestRound | None:
    """The round after ``round_`` (None when it is the last, or outside the user's scope;
    ``user=None``: the system, for a service that has checked the actor)."""
    return (
        _rounds(user)
        .filter(contest_id=round_.contest_id, sequence__gt=round_.sequence)
        .select_related("exam")
        .order_by("sequence")
        .first()
    )


# --- live ----------------------------------------------------------------------------------------


def live_get(*, user: Viewer, pk: Any, action: str = "view") -> LiveSession:
    found = (
        LiveSession.objects.restrict(user, action)
        .select_related("contest__organization")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("现场竞赛不存在")
    return found


def live_list(*, user: Viewer, contest: Contest) -> list[LiveSession]:
    """The contest's live sessions, newest first (none for a contest outside the user's scope)."""
    return list(LiveSession.objects.restrict(user, "view").filter(contest=contest).order_by("-id"))


@dataclass
class LiveTeamRow:
    pk: int
    name: str
    total: Decimal
    answered: bool
    correct: bool | None


@dataclass
class LiveState:
    session: LiveSession
    count: int
    question: dict[str, Any] | None
    remaining: int | None
    teams: list[LiveTeamRow]


def live_state(*, user: Viewer, session: LiveSession) -> LiveState:
    """What the screen and the control page show now: the current question (its key only once
    revealed), the seconds left of its countdown, and each team's running total. Four queries.
    404 for a session outside the user's scope."""
    from django.db.models import Sum
    from django.utils import timezone

    from ..keys import LETTERS, key_display
    from ..models import LiveAnswer, QuestionVersion

    if not _in_scope(user, session.contest):
        raise Http404("现场竞赛不存在")
    question = None
    remaining = None
    if session.current and session.status in ("question", "reveal"):
        version = QuestionVersion.objects.select_related("question").get(
            pk=session.versions[session.current - 1]
        )
        revealed = session.status == "reveal"
        question = {
            "number": session.current,
            "qtype": version.question.qtype,
            "qtype_label": version.question.get_qtype_display(),
            "stem": version.stem,
            "options": [(LETTERS[i], text) for i, text in enumerate(version.options or [])],
            "score": session.scores[session.current - 1],
            "key": key_display(version.question.qtype, version.answer) if revealed else "",
            "explanation": version.explanation if revealed else "",
        }
        if session.status == "question" and session.question_started_at is not None:
            elapsed = (timezone.now() - session.question_started_at).total_seconds()
            remaining = max(0, session.seconds_per_question - int(elapsed))
    totals = dict(
        LiveAnswer.objects.filter(team__session=session)
        .values("team_id")
        .annotate(t=Sum("points"))
        .values_list("team_id", "t")
    )
    current = dict(
        LiveAnswer.objects.filter(team__session=session, position=session.current).values_list(
            "team_id", "is_correct"
        )
    )
    teams = [
        LiveTeamRow(t.pk, t.name, totals.get(t.pk) or Decimal(0), t.pk in current, current.get(t.pk))
        for t in session.teams.order_by("position")
    ]
    return LiveState(session, len(session.versions), question, remaining, teams)

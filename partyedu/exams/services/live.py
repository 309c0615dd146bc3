"""Writes of a live contest in a meeting room (现场知识竞赛): the host makes a session from a
contest round's paper (one seeded draw, fixed for the session) with its teams (the units one
level below the organiser, or named teams), moves it on question by question, reveals the
answer, and enters each team's answer or only right/wrong. Everything is stored, so the screen
and the control page resume after a reload; the screen only reads.

Each service locks the session's row, so two control devices pressing 下一题 at once move it one
question, not two (the control page posts the question it shows; a stale one is refused)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.organizations.models import Organization

from .. import keys
from ..choices import LiveStatus
from ..drawing import draw, new_seed
from ..models import ContestRound, LiveAnswer, LiveSession, LiveTeam, QuestionVersion
from . import _text

APP = "exams"
MAX_TEAMS = 30
MAX_QUESTIONS = 100


def _lock(session: LiveSession, actor: Actor) -> LiveSession:
    locked = (
        LiveSession.objects.select_for_update(of=("self",))
        .select_related("contest__organization")
        .get(pk=session.pk)
    )
    require(actor, "change", locked.contest.organization, app_label=APP, message="您无权主持该现场竞赛")
    return locked


@transaction.atomic
def live_create(
    *,
    actor: Actor,
    round_: ContestRound,
    title: str = "",
    seconds_per_question: int = 30,
    team_names: list[str] | None = None,
    question_count: int | None = None,
) -> LiveSession:
    """A live session over the questions of ``round_``'s paper (essay questions left out: the
    host marks right or wrong only what has a key). Teams are ``team_names`` or, when none are
    given, the organisations one level below the organiser."""
    contest = round_.contest
    require(actor, "change", contest.organization, app_label=APP, message="您无权主持该竞赛")
    title = _text({"title": title}, "title", "现场竞赛名称", max_length=200) or f"{contest.title}（现场赛）"
    if not isinstance(seconds_per_question, int) or not 5 <= seconds_per_question <= 600:
        raise ValidationError({"seconds_per_question": ["每题限时应在5到600秒之间"]})
    drawn = [item for item in draw(round_.exam.paper, new_seed()).items if item.qtype != "essay"]
    if question_count:
        drawn = drawn[:question_count]
    if not drawn:
        raise ValidationError({"round": ["该轮试卷没有可用于现场竞赛的客观题"]})
    if len(drawn) > MAX_QUESTIONS:
        drawn = drawn[:MAX_QUESTIONS]
    names = [n.strip() for n in (team_names or []) if n and n.strip()]
    organizations: list[Organization | None]
    if names:
        if len(set(names)) != len(names):
            raise ValidationError({"teams": ["队名不能重复"]})
        if any(len(n) > 100 for n in names):
            raise ValidationError({"teams": ["队名不能超过100个字符"]})
        organizations = [None] * len(names)
    else:
        children = list(contest.organization.children.filter(is_active=True).order_by("path"))
        if not children:
            raise ValidationError({"teams": ["请填写参赛队（每行一个队名）"]})
        names = [c.short_name or c.name for c in children]
        organizations = list(children)
    if len(names) < 2:
        raise ValidationError({"teams": ["至少需要两支参赛队"]})
    if len(names) > MAX_TEAMS:
        raise ValidationError({"teams": [f"参赛队最多{MAX_TEAMS}支"]})
    session = LiveSession.objects.create(
        contest=contest,
        title=title,
        seconds_per_question=seconds_per_question,
        versions=[item.version_id for item in drawn],
        scores=[str(item.score) for item in drawn],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    LiveTeam.objects.bulk_create(
        LiveTeam(session=session, name=name, organization=org, position=i)
        for i, (name, org) in enumerate(zip(names, organizations, strict=True), start=1)
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=session, changes={"questions": len(drawn)})
    return session


def _expect(session: LiveSession, current: Any) -> None:
    """Refuse a press made on a page showing another question (a second device moved on)."""
    if current is not None and str(current) != str(session.current):
        raise ValidationError({"current": ["页面已过期，请刷新后再操作"]})


@transaction.atomic
def live_next(*, actor: Actor, session: LiveSession, current: Any = None) -> LiveSession:
    """Show the next question (its countdown starts now), or finish after the last one."""
    session = _lock(session, actor)
    _expect(session, current)
    if session.status == LiveStatus.FINISHED:
        raise ValidationError({"status": ["现场竞赛已结束"]})
    if session.current >= len(session.versions):
        session.status = LiveStatus.FINISHED
        session.question_started_at = None
    else:
        session.current += 1
        session.status = LiveStatus.QUESTION
        session.question_started_at = timezone.now()
    session.save(update_fields=["current", "status", "question_started_at", "updated_at"])
    return session


@transaction.atomic
def live_reveal(*, actor: Actor, session: LiveSession, current: Any = None) -> LiveSession:
    """Show the current question's answer and explanation on the screen."""
    session = _lock(session, actor)
    _expect(session, current)
    if session.status != LiveStatus.QUESTION:
        raise ValidationError({"status": ["当前没有正在作答的题目"]})
    session.status = LiveStatus.REVEAL
    session.save(update_fields=["status", "updated_at"])
    return session


@transaction.atomic
def live_finish(*, actor: Actor, session: LiveSession) -> LiveSession:
    session = _lock(session, actor)
    session.status = LiveStatus.FINISHED
    session.question_started_at = None
    session.save(update_fields=["status", "question_started_at", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=session, changes={"finished": True})
    return session


@transaction.atomic
def live_answer(
    *,
    actor: Actor,
    session: LiveSession,
    team: Any,
    current: Any = None,
    correct: bool | None = None,
    response: Any = None,
) -> LiveAnswer:
    """Enter a team's answer to the current question: right/wrong as the host judged it
    (``correct``), or the answer given (``response``: option letters, 对/错, or text), marked
    against the key. Entering again replaces it."""
    session = _lock(session, actor)
    _expect(session, current)
    if session.status not in (LiveStatus.QUESTION, LiveStatus.REVEAL):
        raise ValidationError({"team": ["当前没有正在作答的题目"]})
    team_pk = team if isinstance(team, int) else getattr(team, "pk", None)
    live_team = LiveTeam.objects.filter(session=session, pk=team_pk).first() if team_pk is not None else None
    if live_team is None:
        raise ValidationError({"team": ["参赛队不存在"]})
    index = session.current - 1
    score = Decimal(session.scores[index])
    if correct is None:
        version = QuestionVersion.objects.select_related("question").get(pk=session.versions[index])
        qtype = version.question.qtype
        if response in (None, "", []):
            raise ValidationError({"response": ["请填写该队的答案，或直接判定对错"]})
        cleaned = keys.clean_response(qtype, len(version.options or []), response)
        marked = keys.mark(qtype, version.answer, cleaned, [], score)
        if marked is None:
            raise ValidationError({"response": ["该题需人工判定对错"]})
        correct, points = marked
        response = cleaned
    else:
        points = score if correct else Decimal(0)
    answer, _created = LiveAnswer.objects.update_or_create(
        team=live_team,
        position=session.current,
        defaults={"response": response, "is_correct": bool(correct), "points": points},
    )
    return answer

"""Writes of contests (知识竞赛): a contest and its rounds (each an exam of kind "contest", whose
``attempts_allowed`` is the cap per member and round), editing them, deleting them while
nothing has been taken, publishing the results, advancing the best of each unit to the next
round of a tiered contest (the organiser confirms the list the results propose), and granting
awards with certificates (and revoking one).

Certificates reuse the competitions app's machinery: a contest's awards are ``competitions.Award``
rows of one competition record made for the contest (``Contest.competition``), each with a
``competitions.Certificate`` whose code the public page /verify/<code>/ checks and whose PDF
``competitions.certificates.certificate_pdf`` draws. The award rows name no organisation and no
entry, so the lecture statistics and a lecturer's record (which count awards by the
organisation or the entry) leave them out.

Every service runs in one transaction, checks the actor's scope on the contest's organisation
(``PermissionDenied``) and raises ``ValidationError({field: [中文]})`` before writing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.competitions.choices import AwardKind, CompetitionKind, CompetitionStatus, GradeSet
from partyedu.competitions.models import Award, Certificate, Competition
from partyedu.competitions.services import certificate_issue, certificate_revoke
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..choices import AdvanceUnit, ContestGrade, ExamKind, TargetKind
from ..models import Contest, ContestAward, ContestRound, Exam, ExamTarget, Paper
from ..selectors.contests import (
    advance_proposal,
    contest_delete_refusal,
    contest_scores,
    next_round,
    round_attempted,
    round_delete_refusal,
)
from . import _text, exam_create, exam_update

APP = "exams"
# The certificate code's alphabet: that of the competitions app (no 0/O, 1/I/L).
GRADE_ORDER = list(ContestGrade.values)
CONTEST_FIELDS = ("title", "description", "starts_on", "ends_on", "tiered")
# What a round's edit passes on to its exam.
ROUND_EXAM_FIELDS = ("opens_at", "closes_at", "time_limit_minutes", "attempts_allowed", "grading")
ROUND_LOCKED = "本轮已有党员答题，只能修改轮次名称和截止时间"


def _require_organiser(actor: Actor, contest: Contest) -> None:
    require(actor, "change", contest.organization, app_label=APP, message="您无权管理该竞赛")


@transaction.atomic
def contest_create(*, actor: Actor, organization: Organization, data: dict[str, Any]) -> Contest:
    """A contest of ``organization`` over its subtree: title, description, starts_on, ends_on, tiered."""
    require(actor, "add", organization, app_label=APP, message="您无权在该组织举办竞赛")
    dates: dict[str, Any] = {"starts_on": data.get("starts_on"), "ends_on": data.get("ends_on")}
    contest = Contest(
        organization=organization,
        title=_text(data, "title", "竞赛名称", required=True, max_length=200),
        description=_text(data, "description", "说明"),
        **dates,  # full_clean names a missing date
        tiered=bool(data.get("tiered", False)),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    contest.full_clean(exclude=["competition"])
    if contest.ends_on < contest.starts_on:
        raise ValidationError({"ends_on": ["结束日期不能早于开始日期"]})
    contest.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=contest)
    return contest


def _advance_rule(data: dict[str, Any]) -> tuple[str, int | None]:
    """The advance rule of a round (``advance_by``, ``advance_value``), checked."""
    advance_by = data.get("advance_by") or AdvanceUnit.COUNT
    if advance_by not in AdvanceUnit.values:
        raise ValidationError({"advance_by": ["晋级方式无效"]})
    advance_value = data.get("advance_value")
    if advance_value is not None and (not isinstance(advance_value, int) or advance_value < 1):
        raise ValidationError({"advance_value": ["晋级名额应为正整数"]})
    if advance_by == AdvanceUnit.SHARE and advance_value is not None and advance_value > 100:
        raise ValidationError({"advance_value": ["晋级比例应在1到100之间"]})
    return advance_by, advance_value


@transaction.atomic
def contest_round_add(*, actor: Actor, contest: Contest, data: dict[str, Any]) -> ContestRound:
    """Add the next round: its exam (kind "contest") over ``paper`` (or ``questions``/``rules``)
    with the window, time limit, ``attempts_allowed`` (the cap per member), grading and display
    of ``data``, and for a tiered contest the advance rule (``advance_by``, ``advance_value``).
    The first round of a contest is for its organisation's subtree; a later round of a tiered
    contest is for the members advanced into it (none until the organiser confirms them)."""
    contest = (
        Contest.objects.select_for_update(of=("self",)).select_related("organization").get(pk=contest.pk)
    )
    _require_organiser(actor, contest)
    name = _text(data, "name", "轮次名称", required=True, max_length=100)
    advance_by, advance_value = _advance_rule(data)
    sequence = (contest.rounds.aggregate(n=Max("sequence"))["n"] or 0) + 1
    exam_data = {k: v for k, v in data.items() if k not in ("name", "advance_by", "advance_value")}
    exam_data["title"] = f"{contest.title} · {name}"
    exam_data["kind"] = ExamKind.CONTEST
    for key, value in round_grading_default().items():
        exam_data.setdefault(key, value)
    exam_data.pop("target_members", None)
    exam_data.pop("training_class", None)
    exam = exam_create(actor=actor, organization=contest.organization, data=exam_data)
    if contest.tiered and sequence > 1:
        exam.target_kind = TargetKind.MEMBERS
        exam.save(update_fields=["target_kind", "updated_at"])
    round_ = ContestRound.objects.create(
        contest=contest,
        sequence=sequence,
        name=name,
        exam=exam,
        advance_by=advance_by,
        advance_value=advance_value if contest.tiered else None,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=round_, changes={"exam": exam.pk})
    return round_


def _lock(contest: Contest) -> Contest:
    return Contest.objects.select_for_update(of=("self",)).select_related("organization").get(pk=contest.pk)


def _round_title(contest_title: str, round_name: str) -> str:
    """The title of a round's exam, as the member's exam list shows it."""
    return f"{contest_title} · {round_name}"[: Exam._meta.get_field("title").max_length]


@transaction.atomic
def contest_update(*, actor: Actor, contest: Contest, data: dict[str, Any]) -> Contest:
    """Change a contest's title, description, dates, or whether it is tiered — the last only
    before its first round is added, since a tiered contest's later rounds are for the advanced
    members only. Keys absent from ``data`` stay; the organisation never changes (the rounds'
    exams and their targets hang on it). The rounds' exams take the new title; certificates
    already issued keep the title they were issued under."""
    contest = _lock(contest)
    _require_organiser(actor, contest)
    before = {name: getattr(contest, name) for name in CONTEST_FIELDS}
    if "title" in data:
        contest.title = _text(data, "title", "竞赛名称", required=True, max_length=200)
    if "description" in data:
        contest.description = _text(data, "description", "说明")
    for name in ("starts_on", "ends_on"):
        if name in data:
            setattr(contest, name, data[name])
    if "tiered" in data:
        tiered = bool(data["tiered"])
        if tiered != contest.tiered and contest.rounds.exists():
            raise ValidationError({"tiered": ["竞赛已有轮次，不能再更改是否逐级晋级"]})
        contest.tiered = tiered
    contest.full_clean(exclude=["competition"])  # names a missing date
    if contest.ends_on < contest.starts_on:
        raise ValidationError({"ends_on": ["结束日期不能早于开始日期"]})
    changes = {
        name: [str(before[name]), str(getattr(contest, name))]
        for name in CONTEST_FIELDS
        if before[name] != getattr(contest, name)
    }
    if not changes:
        return contest
    contest.save()
    if "title" in changes:
        now = timezone.now()
        for exam_id, name in contest.rounds.values_list("exam_id", "name"):
            Exam.objects.filter(pk=exam_id).update(title=_round_title(contest.title, name), updated_at=now)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=contest, changes=changes)
    return contest


@transaction.atomic
def contest_delete(*, actor: Actor, contest: Contest) -> None:
    """Delete a contest nobody has taken part in (``contest_delete_refusal`` says why not), with
    its rounds, their exams and the members named for them, and its live sessions. The papers
    stay in the paper list for another use."""
    contest = _lock(contest)
    require(actor, "delete", contest.organization, app_label=APP, message="您无权删除该竞赛")
    refusal = contest_delete_refusal(user=None, contest=contest)
    if refusal:
        raise ValidationError({"contest": [refusal]})
    rounds = list(contest.rounds.values_list("pk", "exam_id", "exam__paper_id"))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=contest,
        changes={
            "before": {name: str(getattr(contest, name)) for name in CONTEST_FIELDS},
            "organization": contest.organization_id,
            "rounds": [pk for pk, _exam, _paper in rounds],
            "exams": [exam for _pk, exam, _paper in rounds],
            "papers_kept": sorted({paper for _pk, _exam, paper in rounds}),
        },
        message=f"删除竞赛“{contest.title}”",
    )
    ContestRound.objects.filter(contest=contest).delete()
    Exam.objects.filter(pk__in=[exam for _pk, exam, _paper in rounds]).delete()
    contest.delete()


def _paper_of(contest: Contest, value: Any) -> Paper:
    paper = value if isinstance(value, Paper) else Paper.objects.filter(pk=value).first()
    if paper is None or paper.organization_id != contest.organization_id:
        raise ValidationError({"paper": ["试卷应属于主办组织"]})
    return paper


@transaction.atomic
def contest_round_update(*, actor: Actor, round_: ContestRound, data: dict[str, Any]) -> ContestRound:
    """Change a round: its name, paper, window, time limit, cap, grading and (tiered contests)
    advance rule, with the keys of ``data`` (a key absent stays; ``time_limit_minutes`` None is
    no limit). Once anyone has started the round only its name and closing time may change —
    members' attempts were drawn from its paper under its rules — and any other change is
    refused naming the field."""
    round_ = (
        ContestRound.objects.select_for_update(of=("self",))
        .select_related("contest__organization", "exam")
        .get(pk=round_.pk)
    )
    contest, exam = round_.contest, round_.exam
    _require_organiser(actor, contest)
    name = _text(data, "name", "轮次名称", required=True, max_length=100) if "name" in data else round_.name
    current: dict[str, Any] = {
        "paper": exam.paper_id,
        "opens_at": exam.opens_at,
        "time_limit_minutes": exam.time_limit_minutes,
        "attempts_allowed": exam.attempts_allowed,
        "grading": exam.grading,
    }
    wanted: dict[str, Any] = {k: data[k] for k in current if k in data}
    if "paper" in wanted:
        wanted["paper"] = getattr(wanted["paper"], "pk", wanted["paper"])
    advance_by, advance_value = round_.advance_by, round_.advance_value
    if contest.tiered:
        current.update(advance_by=advance_by, advance_value=advance_value)
        advance_by, advance_value = _advance_rule(
            {
                "advance_by": data.get("advance_by", advance_by),
                "advance_value": data.get("advance_value", advance_value),
            }
        )
        wanted.update(advance_by=advance_by, advance_value=advance_value)
    changed = [k for k, v in wanted.items() if v != current[k]]
    if changed and round_attempted(user=None, round_=round_):
        raise ValidationError({k: [ROUND_LOCKED] for k in changed})
    paper = _paper_of(contest, wanted["paper"]) if "paper" in changed else None
    exam_data = {k: data[k] for k in ROUND_EXAM_FIELDS if k in data}
    exam_data["title"] = _round_title(contest.title, name)
    exam = exam_update(actor=actor, exam=exam, data=exam_data)
    if paper is not None:
        exam.paper = paper
        exam.save(update_fields=["paper", "updated_at"])
    changes: dict[str, Any] = {k: [str(current[k]), str(wanted[k])] for k in changed}
    if name != round_.name:
        changes["name"] = [round_.name, name]
    round_.name = name
    round_.advance_by, round_.advance_value = advance_by, advance_value
    round_.full_clean(exclude=["contest", "exam"])
    round_.save()
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=round_, changes=changes)
    return round_


@transaction.atomic
def contest_round_delete(*, actor: Actor, round_: ContestRound) -> None:
    """Delete a round nobody has started (``round_delete_refusal`` says why not), with its exam
    and the members named for it; its paper stays. The rounds after it move up one place; in a
    tiered contest (only its last round can go) the round before it no longer has a confirmed
    list of advancing members."""
    contest = _lock(round_.contest)  # serialises the renumbering with round_add
    round_ = ContestRound.objects.select_related("exam", "contest__organization").get(pk=round_.pk)
    require(actor, "delete", contest.organization, app_label=APP, message="您无权删除该竞赛轮次")
    refusal = round_delete_refusal(user=None, round_=round_)
    if refusal:
        raise ValidationError({"round": [refusal]})
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=round_,
        changes={
            "contest": contest.pk,
            "sequence": round_.sequence,
            "exam": round_.exam_id,
            "paper_kept": round_.exam.paper_id,
        },
        message=f"删除竞赛轮次“{round_.name}”",
    )
    sequence, exam = round_.sequence, round_.exam
    round_.delete()
    exam.delete()
    for later in contest.rounds.filter(sequence__gt=sequence).order_by("sequence"):
        later.sequence -= 1
        later.save(update_fields=["sequence", "updated_at"])
    if contest.tiered:
        contest.rounds.filter(sequence=sequence - 1, advanced_at__isnull=False).update(
            advanced_at=None, updated_at=timezone.now()
        )


@transaction.atomic
def contest_publish(*, actor: Actor, contest: Contest, published: bool) -> Contest:
    """Publish (or withdraw) the results: the organisations' table and the winners become visible
    to the contest's subtree."""
    contest = (
        Contest.objects.select_for_update(of=("self",)).select_related("organization").get(pk=contest.pk)
    )
    _require_organiser(actor, contest)
    if contest.results_published != published:
        contest.results_published = published
        contest.save(update_fields=["results_published", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=contest,
            changes={"results_published": [not published, published]},
            message="公布竞赛成绩" if published else "撤回竞赛成绩",
        )
    return contest


@transaction.atomic
def contest_advance(*, actor: Actor, round_: ContestRound, member_ids: list[int]) -> list[int]:
    """Name the members of ``member_ids`` (the organiser's confirmation of the proposal, which
    they may shorten) as the targets of the next round. Refused once the next round has been
    attempted; confirming again before that replaces the list."""
    round_ = (
        ContestRound.objects.select_for_update(of=("self",))
        .select_related("contest__organization", "exam")
        .get(pk=round_.pk)
    )
    contest = round_.contest
    _require_organiser(actor, contest)
    if not contest.tiered:
        raise ValidationError({"members": ["该竞赛不分级，无需确定晋级名单"]})
    target = next_round(user=actor, round_=round_)
    if target is None:
        raise ValidationError({"members": ["请先添加下一轮"]})
    if target.exam.attempts.exists():
        raise ValidationError({"members": ["下一轮已有人答题，不能再修改晋级名单"]})
    ids = list(dict.fromkeys(int(m) for m in member_ids))
    if not ids:
        raise ValidationError({"members": ["请至少选择一名晋级党员"]})
    proposed = {a.member_id for a in advance_proposal(user=actor, round_=round_)}
    stray = [m for m in ids if m not in proposed]
    if stray:
        raise ValidationError({"members": ["所选党员不在本轮的晋级建议名单中"]})
    ExamTarget.objects.filter(exam=target.exam).delete()
    ExamTarget.objects.bulk_create(ExamTarget(exam=target.exam, member_id=m) for m in ids)
    round_.advanced_at = timezone.now()
    round_.save(update_fields=["advanced_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=round_,
        changes={"advanced": len(ids), "next_round": target.pk},
        message="确定晋级名单",
    )
    return ids


def _record(contest: Contest, actor: Actor) -> Competition:
    """The competition record that holds the contest's awards and certificates (made once)."""
    if contest.competition_id is not None:
        return Competition.objects.get(pk=contest.competition_id)
    competition = Competition.objects.create(
        organization=contest.organization,
        kind=CompetitionKind.CONTEST,
        title=contest.title,
        year=contest.ends_on.year,
        description=f"知识竞赛“{contest.title}”的获奖证书",
        status=CompetitionStatus.FINISHED,
        grade_set=GradeSet.CUSTOM,
        grades=[str(label) for label in ContestGrade.labels],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    contest.competition = competition
    contest.save(update_fields=["competition", "updated_at"])
    return competition


@transaction.atomic
def contest_awards_grant(
    *, actor: Actor, contest: Contest, grades: dict[int, str], awarded_on: date | None = None
) -> list[ContestAward]:
    """Grant the grades the organiser chose from the ranked results (member id → grade) and issue
    each award's certificate. Once per contest; only members with a contest score."""
    contest = (
        Contest.objects.select_for_update(of=("self",)).select_related("organization").get(pk=contest.pk)
    )
    _require_organiser(actor, contest)
    if contest.awards.exists():
        raise ValidationError({"grades": ["本次竞赛已评定奖项"]})
    chosen = {int(m): g for m, g in grades.items() if g}
    if not chosen:
        raise ValidationError({"grades": ["请至少为一名党员选择奖项等次"]})
    if any(g not in ContestGrade.values for g in chosen.values()):
        raise ValidationError({"grades": ["奖项等次无效"]})
    ranked = {s.member_id: s for s in contest_scores(user=actor, contest=contest).members}
    missing = [m for m in chosen if m not in ranked]
    if missing:
        raise ValidationError({"grades": ["获奖党员应为参加本次竞赛并有成绩的党员"]})
    day = awarded_on or timezone.localdate()
    competition = _record(contest, actor)
    members = Member.objects.in_bulk(list(chosen))
    awards: list[ContestAward] = []
    for member_id in sorted(chosen, key=lambda m: (GRADE_ORDER.index(chosen[m]), ranked[m].rank, m)):
        score = ranked[member_id]
        label = str(ContestGrade(chosen[member_id]).label)
        award = Award.objects.create(
            competition=competition,
            kind=AwardKind.LECTURER,
            recipient=members[member_id].name,
            basis=f"竞赛总分{score.total}分，名列第{score.rank}名",
            awarded_on=day,
            title=label,
            grade=label,
            rank=score.rank,
        )
        certificate_issue(award)
        awards.append(
            ContestAward.objects.create(
                contest=contest,
                member_id=member_id,
                grade=chosen[member_id],
                score=score.total,
                rank=score.rank,
                award=award,
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=contest,
        changes={"awards": len(awards), "competition": competition.pk},
        message="评定竞赛奖项并颁发证书",
    )
    return awards


@transaction.atomic
def contest_award_revoke(*, actor: Actor, award: ContestAward, reason: str) -> Certificate:
    """Revoke a contest award's certificate, with a reason, through the competitions app's
    ``certificate_revoke`` (its checks, its audit row, and the ``revoked_at`` the public page
    /verify/<code>/ reads: it then says the certificate was revoked). The award row stays, so
    the organiser's pages show it as revoked; the published results no longer list it.

    The actor must be the contest's organiser and, as ``certificate_revoke`` checks, hold
    "competitions.change" at the organiser (an organisation or branch administrator; a 出题人
    does not)."""
    award = (
        ContestAward.objects.select_for_update(of=("self",))
        .select_related("contest__organization", "award__certificate")
        .get(pk=award.pk)
    )
    _require_organiser(actor, award.contest)
    certificate = getattr(award.award, "certificate", None) if award.award is not None else None
    if certificate is None:
        raise ValidationError({"certificate": ["该奖项没有证书"]})
    return certificate_revoke(actor=actor, certificate=certificate, reason=reason)


def round_grading_default() -> dict[str, Any]:
    """What a contest round is given unless the organiser says otherwise."""
    return {"attempts_allowed": 1, "pass_score": Decimal(0), "show_answers": "after_close"}

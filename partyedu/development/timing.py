"""The order of the steps and their timing rules, as pure functions of a case, its confirmed steps
and the policy that applies (no writes, no queries): what may be confirmed next, from when and by
when. The step service checks a confirmation against them; the pages, the API's ``next`` and the
alerts read the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from .choices import CANDIDATE_SEQUENCE, ConversionOutcome, Stage, Step
from .models import DevelopmentPolicy
from .policy import add_months


class StepLike(Protocol):
    step: str
    date: date
    outcome: str


class CaseLike(Protocol):
    stage: str
    applied_on: date
    activist_on: date | None
    candidate_on: date | None
    admitted_on: date | None
    probation_end: date | None
    extension_months: int


@dataclass(frozen=True)
class NextStep:
    """A step that may be confirmed now (or from ``earliest``), and the day it is due by."""

    step: str
    due: date | None = None
    earliest: date | None = None

    @property
    def label(self) -> str:
        return str(Step(self.step).label)


def _last(steps: Sequence[StepLike], step: str) -> StepLike | None:
    found = [s for s in steps if s.step == step]
    return found[-1] if found else None


def _steps_since(steps: Sequence[StepLike], step: str) -> list[StepLike]:
    """The steps confirmed after the last ``step`` (all of them when there is none)."""
    for at in range(len(steps) - 1, -1, -1):
        if steps[at].step == step:
            return list(steps[at + 1 :])
    return list(steps)


def last_assessment_on(case: CaseLike, steps: Sequence[StepLike]) -> date | None:
    last = _last(steps, Step.ASSESSMENT)
    return last.date if last else None


def next_steps(  # noqa: PLR0911 - one return per stage
    case: CaseLike, steps: Sequence[StepLike], policy: DevelopmentPolicy
) -> list[NextStep]:
    """What may be confirmed next on the case, in the order a secretary would take it."""
    stage = case.stage
    if stage == Stage.APPLIED:
        return [NextStep(Step.TALK, due=add_months(case.applied_on, policy.talk_within_months))]
    if stage == Stage.TALKED:
        return [NextStep(Step.ACTIVIST)]
    if stage == Stage.ACTIVIST:
        assert case.activist_on is not None
        assessed = last_assessment_on(case, steps) or case.activist_on
        return [
            NextStep(Step.ASSESSMENT, due=add_months(assessed, policy.assessment_interval_months)),
            NextStep(Step.CANDIDATE, earliest=add_months(case.activist_on, policy.activist_min_months)),
        ]
    if stage == Stage.CANDIDATE:
        done = {s.step for s in _steps_since(steps, Step.CANDIDATE)}
        for step in CANDIDATE_SEQUENCE:
            if step not in done:
                return [NextStep(step)]
        return []
    if stage == Stage.ADMISSION_VOTED:
        vote = _last(steps, Step.ADMISSION_VOTE)
        assert vote is not None
        return [NextStep(Step.APPROVAL, due=add_months(vote.date, policy.approval_within_months))]
    if stage == Stage.PROBATIONARY:
        result = []
        if _last(steps, Step.OATH) is None:
            result.append(NextStep(Step.OATH))
        assert case.probation_end is not None
        result.append(NextStep(Step.ASSESSMENT))
        if _last(steps, Step.OATH) is not None:
            result.append(NextStep(Step.CONVERSION_VOTE, due=case.probation_end, earliest=case.probation_end))
        return result
    if stage == Stage.CONVERSION_VOTED:
        vote = _last(steps, Step.CONVERSION_VOTE)
        assert vote is not None
        return [NextStep(Step.CONVERSION_APPROVAL, due=add_months(vote.date, policy.approval_within_months))]
    return []


@dataclass(frozen=True)
class Violation:
    """A rule the confirmation breaks: ``rule`` is its code (the API names it), ``field`` the input
    it concerns, ``message`` says it in Chinese. An org_admin of a higher level may set aside an
    ``overridable`` one with a written reason; the order of the steps, the age, the quorum and the
    vote are never set aside."""

    rule: str
    field: str
    message: str
    overridable: bool = True


def _fmt(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def timing_violations(
    case: CaseLike, steps: Sequence[StepLike], policy: DevelopmentPolicy, step: str, day: date
) -> list[Violation]:
    """The timing rules that confirming ``step`` on ``day`` breaks (the order is checked apart)."""
    found: list[Violation] = []
    if step == Step.TALK:
        due = add_months(case.applied_on, policy.talk_within_months)
        if day > due:
            found.append(
                Violation(
                    "talk_within",
                    "date",
                    f"收到入党申请后应在{policy.talk_within_months}个月内派人谈话（应不晚于{_fmt(due)}）",
                )
            )
    elif step == Step.CANDIDATE:
        assert case.activist_on is not None
        earliest = add_months(case.activist_on, policy.activist_min_months)
        if day < earliest:
            found.append(
                Violation(
                    "activist_min_period",
                    "date",
                    f"入党积极分子经过{policy.activist_min_months}个月以上培养教育和考察方可确定为发展对象"
                    f"（最早{_fmt(earliest)}）",
                )
            )
        assessed = last_assessment_on(case, steps)
        if assessed is None:
            found.append(Violation("assessment_interval", "date", "尚无培养教育考察记录，请先记录考察"))
        elif day > add_months(assessed, policy.assessment_interval_months):
            found.append(
                Violation(
                    "assessment_interval",
                    "date",
                    f"入党积极分子每{policy.assessment_interval_months}个月应考察一次，最近一次考察为"
                    f"{_fmt(assessed)}，请先记录新的考察",
                )
            )
    elif step == Step.APPROVAL:
        vote = _last(steps, Step.ADMISSION_VOTE)
        assert vote is not None
        due = add_months(vote.date, policy.approval_within_months)
        if day > due:
            found.append(
                Violation(
                    "approval_within",
                    "date",
                    f"上级党委应在支部党员大会通过后{policy.approval_within_months}个月内审批"
                    f"（应不晚于{_fmt(due)}）",
                )
            )
    elif step == Step.CONVERSION_VOTE:
        assert case.probation_end is not None
        if day < case.probation_end:
            found.append(
                Violation(
                    "probation_period",
                    "date",
                    f"预备期满（{_fmt(case.probation_end)}）后方可讨论转正",
                )
            )
    elif step == Step.CONVERSION_APPROVAL:
        vote = _last(steps, Step.CONVERSION_VOTE)
        assert vote is not None
        due = add_months(vote.date, policy.approval_within_months)
        if day > due:
            found.append(
                Violation(
                    "approval_within",
                    "date",
                    f"上级党委应在支部党员大会讨论转正后{policy.approval_within_months}个月内审批"
                    f"（应不晚于{_fmt(due)}）",
                )
            )
    return found


def extension_used(steps: Sequence[StepLike]) -> bool:
    """Whether the probation was already extended once (a confirmed extension approval)."""
    approvals = [s for s in steps if s.step == Step.CONVERSION_APPROVAL]
    return any(s.outcome == ConversionOutcome.EXTEND for s in approvals)

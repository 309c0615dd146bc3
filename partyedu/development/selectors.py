"""Reads of the development app, each within the user's ``development`` scope (404 outside it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.organizations.models import Organization

from .choices import STEP_DOCUMENTS, DocumentKind, Stage, Step
from .models import CaseDocument, CaseStep, DevelopmentCase, DevelopmentPolicy
from .policy import policy_for_path
from .timing import NextStep, next_steps

APP = "development"


def case_list(*, user: Viewer, filters: dict[str, Any] | None = None) -> QuerySet[DevelopmentCase]:
    """The cases the user may see, filtered by organisation (its subtree), stage, year of
    application and name; in tree order, oldest application first."""
    filters = filters or {}
    qs = DevelopmentCase.objects.restrict(user, "view").select_related("organization", "member")
    org = filters.get("organization")
    if isinstance(org, Organization):
        qs = qs.filter(org.subtree_q("organization__path"))
    stage = filters.get("stage")
    if stage:
        qs = qs.filter(stage=stage)
    year = filters.get("year")
    if year:
        qs = qs.filter(applied_on__year=int(year))
    name = (filters.get("q") or "").strip()
    if name:
        qs = qs.filter(name__contains=name)
    if filters.get("overdue"):
        qs = qs.filter(next_due__lt=timezone.localdate())
    return qs.order_by("organization__path", "applied_on", "id")


def case_get(*, user: Viewer, pk: Any, action: str = "view") -> DevelopmentCase:
    """One case in the user's scope for ``action``; anything else is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("发展党员记录不存在") from None
    case = (
        DevelopmentCase.objects.restrict(user, action)
        .select_related("organization", "member")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("发展党员记录不存在")
    return case


def case_steps(*, case: DevelopmentCase) -> list[CaseStep]:
    """The confirmed steps of a case the caller already holds (read through ``case_get``)."""
    return list(case.steps.select_related("meeting", "confirmed_by").order_by("seq"))


def case_next(*, case: DevelopmentCase, steps: list[CaseStep] | None = None) -> list[NextStep]:
    """What may be confirmed next on a case the caller holds, with due and earliest dates."""
    steps = case_steps(case=case) if steps is None else steps
    return next_steps(case, steps, policy_for_path(case.organization.path))


def case_policy(*, case: DevelopmentCase) -> DevelopmentPolicy:
    return policy_for_path(case.organization.path)


@dataclass(frozen=True)
class ChecklistItem:
    """One line of a dossier checklist: a confirmed step and the papers it expects."""

    step: str
    label: str
    confirmed_on: date | None
    documents: tuple[tuple[str, str, bool], ...]  # (kind, label, filed)

    @property
    def complete(self) -> bool:
        return self.confirmed_on is not None and all(filed for _, _, filed in self.documents)


def case_checklist(*, case: DevelopmentCase, steps: list[CaseStep] | None = None) -> list[ChecklistItem]:
    """The dossier checklist of a case the caller holds: the application, then each step reached
    so far (confirmed or next), with the papers it expects and whether each is filed."""
    steps = case_steps(case=case) if steps is None else steps
    filed = set(CaseDocument.objects.filter(case=case).values_list("kind", flat=True))
    items = [
        ChecklistItem(
            step="application",
            label="申请入党",
            confirmed_on=case.applied_on,
            documents=(
                (
                    DocumentKind.APPLICATION,
                    str(DocumentKind.APPLICATION.label),
                    DocumentKind.APPLICATION in filed,
                ),
            ),
        )
    ]
    confirmed: dict[str, date] = {}
    for row in steps:
        confirmed[row.step] = row.date
    pending = [n.step for n in case_next(case=case, steps=steps)] if case.stage != Stage.CLOSED else []
    for code in Step.values:
        if code not in confirmed and code not in pending:
            continue
        kinds = STEP_DOCUMENTS.get(code, ())
        items.append(
            ChecklistItem(
                step=code,
                label=str(Step(code).label),
                confirmed_on=confirmed.get(code),
                documents=tuple((k, str(DocumentKind(k).label), k in filed) for k in kinds),
            )
        )
    return items

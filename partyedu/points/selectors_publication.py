"""Reads of publications (公示), objections (异议), vetoes (一票否决) and the ranking switch.

Who sees a publication: organisation roles through their points scope (``restrict``), and the
members it was published to — a member's row in it is their membership (a 党员's points right is
over themself only, so the row, not the organisation, decides). Objections and vetoes follow the
member (``scope_self``) and the organisation's scope. Anything else is 404."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from partyedu.core.scope import can, policy_paths, scope_for, subtree_q
from partyedu.core.types import BaseViewer
from partyedu.members.models import Member

from .choices import ObjectionStatus
from .models import (
    PointsEntry,
    PointsObjection,
    PointsPublication,
    PointsPublicationRow,
    PointsRankingSetting,
    PointsVeto,
)
from .selectors import member_of_user
from .services.figures import PeriodFigure, period_figures
from .services.ranking import competition_ranks, ranking_enabled

APP = "points"


def publication_list(*, user: BaseViewer) -> QuerySet[PointsPublication]:
    """The publications the user sees: those of organisations in their points view scope, and
    (a 党员) those published to them. Newest first."""
    scope = scope_for(user, "view", APP)
    condition = scope.q("organization__path")
    if scope.own and user.is_authenticated:
        own = PointsPublicationRow.objects.filter(member__user_id=user.pk).values("publication_id")
        condition |= Q(pk__in=own)
    return (
        PointsPublication.objects.filter(condition)
        .select_related("organization")
        .order_by("-starts_on", "-id")
    )


def publication_get(*, user: BaseViewer, pk: Any) -> PointsPublication:
    publication = publication_list(user=user).filter(pk=pk).first()
    if publication is None:
        raise Http404("积分公示不存在")
    return publication


def publication_for_change(*, user: BaseViewer, pk: Any) -> PointsPublication:
    """A publication the user may manage (withdraw, answer its objections), else 404."""
    publication = (
        PointsPublication.objects.restrict(user, "change")
        .filter(pk=pk)
        .select_related("organization")
        .first()
    )
    if publication is None:
        raise Http404("积分公示不存在")
    return publication


@dataclass
class PublishedRow:
    """A published row, with the figure now (``current``) where the ledger or a veto changed it
    since (已更正), and the rank when the branch's ranking is on."""

    row: PointsPublicationRow
    current: PeriodFigure | None
    rank: int | None = None
    own: bool = False

    @property
    def corrected(self) -> bool:
        return self.current is not None and (
            self.current.total != self.row.total or self.current.vetoed != self.row.vetoed
        )


@dataclass
class PublicationPage:
    publication: PointsPublication
    rows: list[PublishedRow]
    running: bool
    ranking: bool
    manager: bool  # may withdraw it and answer its objections
    own_row: PublishedRow | None = None
    objections: list[PointsObjection] = field(default_factory=list)
    open_objections: int = 0


def publication_page(
    *, user: BaseViewer, publication: PointsPublication, today: date | None = None
) -> PublicationPage:
    """The publication as published, by name (not ranked), each row with the current figure
    beside a changed one, the rank when the branch's ranking is on, the user's own row, and the
    objections the user sees (a manager: all; a member: their own). Nine queries whatever the
    number of rows."""
    today = today or timezone.localdate()
    rows = list(publication.rows.order_by("name", "member_id"))
    current = period_figures([r.member_id for r in rows], publication.year, publication.period)
    ranking = ranking_enabled(organization=publication.organization)
    ranks = competition_ranks({r.member_id: r.total for r in rows if not r.vetoed}) if ranking else {}
    me = member_of_user(user=user)
    published = [
        PublishedRow(
            r, current.get(r.member_id), ranks.get(r.member_id), me is not None and me.pk == r.member_id
        )
        for r in rows
    ]
    manager = can(user, "change", publication.organization, app_label=APP)
    objections = list(
        objection_list(user=user).filter(publication=publication).select_related("member", "item", "entry")
    )
    return PublicationPage(
        publication=publication,
        rows=published,
        running=publication.is_running(today),
        ranking=ranking,
        manager=manager,
        own_row=next((p for p in published if p.own), None),
        objections=objections,
        open_objections=sum(1 for o in objections if o.status == ObjectionStatus.OPEN),
    )


def own_member_in(*, user: BaseViewer, publication: PointsPublication) -> Member:
    """The user's own member record, if it is among the publication's rows (else 404): who may
    object to it."""
    member = member_of_user(user=user)
    if member is None or not publication.rows.filter(member_id=member.pk).exists():
        raise Http404("积分公示不存在")
    return member


def objection_entries(
    *, user: BaseViewer, publication: PointsPublication, member: Member
) -> list[PointsEntry]:
    """The member's own lines of the publication's period (the lines they may object to)."""
    return list(
        PointsEntry.objects.restrict(user, "view")
        .filter(member=member, year=publication.year, source_date__lte=publication.period_end)
        .select_related("item")
        .order_by("source_date", "id")
    )


OPEN_FIRST = Case(
    When(status=ObjectionStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def objection_list(*, user: BaseViewer, action: str = "view") -> QuerySet[PointsObjection]:
    """Objections the user sees: a member their own, a secretary those of publications in
    their scope. Open ones first, then newest."""
    return (
        PointsObjection.objects.restrict(user, action)
        .select_related("publication__organization", "member", "item")
        .order_by(OPEN_FIRST, "-created_at", "-id")
    )


def objection_get(*, user: BaseViewer, pk: Any, action: str = "view") -> PointsObjection:
    objection = (
        objection_list(user=user, action=action).select_related("entry", "answered_by").filter(pk=pk).first()
    )
    if objection is None:
        raise Http404("异议不存在")
    return objection


def veto_get(*, user: BaseViewer, pk: Any, action: str = "view") -> PointsVeto:
    veto = PointsVeto.objects.restrict(user, action).select_related("member").filter(pk=pk).first()
    if veto is None:
        raise Http404("一票否决记录不存在")
    return veto


def veto_list(*, user: BaseViewer) -> QuerySet[PointsVeto]:
    return (
        PointsVeto.objects.restrict(user, "view")
        .select_related("member", "recorded_by", "lifted_by")
        .order_by("-year", "-created_at", "-id")
    )


def ranking_settings(*, user: BaseViewer) -> QuerySet[PointsRankingSetting]:
    """The branches with ranking on, where the user sets policy (an org_admin's subtree)."""
    return (
        PointsRankingSetting.objects.filter(subtree_q("organization__path", policy_paths(user)), enabled=True)
        .select_related("organization", "enabled_by")
        .order_by("organization__path")
    )

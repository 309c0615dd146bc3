"""Publication (公示): a branch publishes the first half-year's or the year's points of its members
to those members for a set number of days. The figures are frozen at publication (one row per
member on the roll, by item), so what was published stays readable whatever the ledger does
later; the page shows the current figure beside a changed one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.notifications import notify
from partyedu.core.scope import require
from partyedu.core.years import YEAR_MIN
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..choices import (
    AUDIENCE_STATUSES,
    PUBLICATION_DAYS_DEFAULT,
    PUBLICATION_DAYS_MAX,
    PUBLICATION_DAYS_MIN,
    Audience,
    PublicationPeriod,
)
from ..models import PointsPublication, PointsPublicationRow
from .figures import period_figures

# Who publishes to their members: a branch, or a general branch for the members of its subtree.
PUBLISHING_LEVELS = (OrgLevel.BRANCH, OrgLevel.GENERAL_BRANCH)
NOTIFY_KIND = "points.publication"


def _actor_or_none(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def publication_members(organization: Organization) -> list[Member]:
    """The members the publication is for: party members (预备党员, 正式党员) on the roll of the
    organisation's subtree, by name. Candidates are scored apart (积分择优) and not published."""
    return list(
        Member.objects.filter(
            organization.subtree_q("org_path"),
            is_active=True,
            status__in=AUDIENCE_STATUSES[Audience.MEMBERS],
        )
        .only("id", "name", "user_id")
        .order_by("name", "id")
    )


def running_publication(
    organization: Organization, year: int, period: str, today: Any = None
) -> PointsPublication | None:
    today = today or timezone.localdate()
    return (
        PointsPublication.objects.filter(
            organization=organization,
            year=year,
            period=period,
            withdrawn_at__isnull=True,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .order_by("-starts_on")
        .first()
    )


def _int(value: Any, field: str, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: message}) from None


@transaction.atomic
def publication_create(
    *,
    actor: Actor,
    organization: Organization | None,
    year: Any,
    period: str,
    days: Any = PUBLICATION_DAYS_DEFAULT,
    note: str = "",
) -> PointsPublication:
    """Publish the year's first half (``h1``) or whole year (``year``) of the organisation's members
    from today for ``days`` days (1–30, default 7): the figures frozen now, one row per member,
    audited, each member notified. A publication of the same organisation, year and period that
    is still running is refused (withdraw it first)."""
    if organization is None:
        raise ValidationError({"organization": "公示组织不能为空"})
    require(actor, "change", organization, app_label="points", message="您无权发布该组织的积分公示")
    today = timezone.localdate()
    year = _int(year, "year", "年度须为整数")
    if not YEAR_MIN <= year <= today.year:
        raise ValidationError({"year": f"年度须在{YEAR_MIN}到{today.year}之间（不能公示未来年度）"})
    if period not in PublicationPeriod.values:
        raise ValidationError({"period": "公示范围须为 h1（上半年）或 year（全年）"})
    days = _int(days, "days", "公示天数须为整数")
    if not PUBLICATION_DAYS_MIN <= days <= PUBLICATION_DAYS_MAX:
        raise ValidationError({"days": f"公示天数须在{PUBLICATION_DAYS_MIN}到{PUBLICATION_DAYS_MAX}天之间"})
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": "说明最多200字"})
    # The organisation's row serialises two publications of it at once (the running check).
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.level not in PUBLISHING_LEVELS:
        raise ValidationError(
            {"organization": "积分公示由党支部或党总支向本组织党员发布，请选择党支部或党总支"}
        )
    label = PublicationPeriod(period).label
    running = running_publication(organization, year, period, today)
    if running is not None:
        raise ValidationError(
            {
                "period": f"{organization.name}{year}年{label}积分正在公示（至{running.ends_on:%Y-%m-%d}），"
                "不能重复发布；如需更正，请先撤回"
            }
        )
    members = publication_members(organization)
    if not members:
        raise ValidationError({"organization": "该组织没有在册党员，无需公示"})
    publication = PointsPublication(
        organization=organization,
        year=year,
        period=period,
        starts_on=today,
        ends_on=today + timedelta(days=days - 1),
        note=note,
        published_by=_actor_or_none(actor),
        published_at=timezone.now(),
    )
    publication.full_clean()
    publication.save()
    figures = period_figures([m.pk for m in members], year, period)
    PointsPublicationRow.objects.bulk_create(
        [
            PointsPublicationRow(
                publication=publication,
                member_id=m.pk,
                name=m.name[:50],
                base=f.base,
                earned=f.earned,
                deducted=f.deducted,
                total=f.total,
                exempt=f.exempt,
                vetoed=f.vetoed,
                veto_reason=(f.veto_reason or "")[:255],
                items=f.items,
            )
            for m in members
            if (f := figures.get(m.pk)) is not None
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=publication,
        object_repr=f"{organization.name} {publication}",
        changes={
            "organization": organization.pk,
            "year": year,
            "period": period,
            "starts_on": publication.starts_on.isoformat(),
            "ends_on": publication.ends_on.isoformat(),
            "members": len(members),
        },
    )
    notify(
        users=[m.user for m in members if m.user_id],
        kind=NOTIFY_KIND,
        title=f"积分公示：{organization.name}{year}年{label}积分（至{publication.ends_on:%m月%d日}）",
        body="如对本人的积分有异议，可在公示期内提出。",
        url=reverse("points:publication_detail", args=[publication.pk]),
        key=f"{NOTIFY_KIND}:{publication.pk}",
    )
    return publication


@transaction.atomic
def publication_withdraw(*, actor: Actor, publication: PointsPublication, reason: str) -> PointsPublication:
    """Withdraw a publication (a mistake, a correction to publish again): it stays on record as
    withdrawn; no objection can be raised any more, those raised are still answered."""
    publication = (
        PointsPublication.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=publication.pk)
    )
    require(actor, "change", publication.organization, app_label="points", message="您无权撤回该积分公示")
    if publication.withdrawn_at is not None:
        raise ValidationError({"publication": "该公示已撤回"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "撤回原因不能为空"})
    if len(reason) > 255:
        raise ValidationError({"reason": "撤回原因最多255字"})
    publication.withdrawn_at = timezone.now()
    publication.withdrawn_by = _actor_or_none(actor)
    publication.withdraw_reason = reason
    publication.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=publication,
        object_repr=f"{publication.organization.name} {publication}",
        changes={"withdrawn": [False, True], "reason": reason},
    )
    return publication

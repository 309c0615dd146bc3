"""The service summary of an organisation's subtree (服务工作统计): units and in-service members
registered (双报到), services and service hours, pledges planned and done (我为群众办实事) and the
residents' requests solved (联户解难) — the Kunming and Changsha figures, counted from the records.

One definition serves every reader. ``summary_sources`` are the queries, not yet restricted to a
subtree: the supervision dashboards group them by path prefix (``partyedu.supervision.figures``)
and the summary page's children table by the children's prefix. ``service_summary`` (the API and
the page's totals) takes the 双报到 and service figures from the registration area's coverage
(``selectors_registration.service_figures``: the same rules, and an organisation inside a unit
counts that unit) and adds the pledges and requests. Definitions, for a period [first day, last
day]:

- ``units_total``: the units that should register with a community — the registration area's
  rule (``selectors_registration.unit_q``: the 机关 / 事业单位 / 国有企业 party organisation that
  heads its unit); ``units_registered``: those of them where the unit or an organisation inside it
  holds a 共驻共建 agreement in force at some time in the period (signed on or before its last
  day, not ended before its first).
- ``members_expected``: the registration area's rule (``selectors_registration.expected_members``:
  active 预备/正式党员 of the category 在职 whose own organisation is of one of those types);
  ``members_registered``: those of them with a registration (报到) in force at some
  time in the period.
- ``services``: services done by the subtree's members — service records confirmed by the
  community side, dated in the period, plus their attendances (出席/迟到) at volunteer activities
  (志愿服务) held in the period; ``service_hours``: the records' hours plus the clock hours of those
  activities (a volunteer activity's hours come from its attendance, never from a record).
- ``pledges_planned``: pledges (organisations' and members' of the subtree) due in the period;
  ``pledges_done``: of them, those completed (办结, confirmed or awaiting confirmation);
  ``pledges_confirmed``: of them, those confirmed by the level or community that benefits.
- ``requests_solved`` / ``households_benefited``: residents' requests of the subtree's 联户 grids
  resolved in the period, and the households they benefited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from partyedu.accounts.types import Viewer
from partyedu.core.scope import scope_for, subtree_of_outer_q, subtree_q
from partyedu.members.models import Member
from partyedu.organizations.models import Organization
from partyedu.study.choices import ATTENDED_STATUSES, ActivityType
from partyedu.study.models import Attendance

from .choices import PledgeStatus, RecordStatus, RequestStatus
from .models import Agreement, Pledge, Registration, ResidentRequest, ServiceRecord
from .selectors_registration import expected_members, service_figures, unit_q

APP = "service"

DONE_STATUSES: tuple[str, ...] = (PledgeStatus.COMPLETED, PledgeStatus.CONFIRMED)

# The keys of the summary, in the order the page and the API give them.
SUMMARY_KEYS: tuple[str, ...] = (
    "units_registered",
    "units_total",
    "members_registered",
    "members_expected",
    "services",
    "service_hours",
    "pledges_planned",
    "pledges_done",
    "pledges_confirmed",
    "requests_solved",
    "households_benefited",
)
SUMMARY_LABELS: dict[str, str] = {
    "units_registered": "已报到单位",
    "units_total": "应报到单位",
    "members_registered": "已报到在职党员",
    "members_expected": "应报到在职党员",
    "services": "服务次数",
    "service_hours": "服务时长（小时）",
    "pledges_planned": "承诺实事",
    "pledges_done": "已办结实事",
    "pledges_confirmed": "已确认办结",
    "requests_solved": "解决群众诉求",
    "households_benefited": "受益户数",
}


def units_expected_q() -> Q:
    """The organisations that should register with a community (双报到): the registration area's
    rule, ``selectors_registration.unit_q`` (the 机关 / 事业单位 / 国有企业 organisation heading its
    unit). Every reader of "units" goes through this one function. A Q builder: it reads nothing."""
    return unit_q()


@dataclass(frozen=True)
class SummarySource:
    """One query of the summary: rows of ``queryset`` reach their organisation through
    ``path_field``; ``aggregates`` are counts and sums, which add up across organisations
    (``summary_from_rows`` turns their merged values into the summary's figures)."""

    name: str
    queryset: QuerySet[Any]
    path_field: str
    aggregates: dict[str, Any]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# The sources of stocks (units, members) and of flows (what was done in the period).
STOCK_SOURCES = ("units", "members")
FLOW_SOURCES = ("records", "volunteer", "pledges", "requests")


def summary_sources(
    *, first_day: date, last_day: date, names: tuple[str, ...] = (*STOCK_SOURCES, *FLOW_SOURCES)
) -> list[SummarySource]:
    """The queries of the summary over the period [first_day, last_day] (see the module
    docstring), not yet restricted to any subtree; ``names`` picks some of them. SYSTEM-LEVEL: the
    caller decides which organisations the user may see and filters by their paths
    (``service_summary``, the supervision figures and monthly report)."""
    start, end = _day_start(first_day), _day_start(last_day + timedelta(days=1))
    agreements = Agreement.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=first_day),
        subtree_of_outer_q("organization__path", "path"),
        signed_on__lte=last_day,
    )
    registrations = Registration.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=first_day),
        member=OuterRef("pk"),
        registered_on__lte=last_day,
    )
    duration = ExpressionWrapper(F("activity__end") - F("activity__start"), output_field=DurationField())
    sources = [
        SummarySource(
            "units",
            Organization.objects.filter(units_expected_q()),
            "path",
            {"units_total": Count("id"), "units_registered": Count("id", filter=Q(Exists(agreements)))},
        ),
        SummarySource(
            "members",
            expected_members(Member.objects.all()),
            "org_path",
            {
                "members_expected": Count("id"),
                "members_registered": Count("id", filter=Q(Exists(registrations))),
            },
        ),
        SummarySource(
            "records",
            ServiceRecord.objects.filter(
                status=RecordStatus.CONFIRMED, date__gte=first_day, date__lte=last_day
            ),
            "member__org_path",
            {"records": Count("id"), "record_hours": Sum("hours")},
        ),
        SummarySource(
            "volunteer",
            Attendance.objects.filter(
                status__in=ATTENDED_STATUSES,
                activity__activity_type=ActivityType.VOLUNTEER_SERVICE,
                activity__start__gte=start,
                activity__start__lt=end,
            ),
            "member__org_path",
            {"volunteer": Count("id"), "volunteer_time": Sum(duration)},
        ),
        SummarySource(
            "pledges",
            Pledge.objects.filter(due__gte=first_day, due__lte=last_day),
            "organization__path",
            {
                "pledges_planned": Count("id"),
                "pledges_done": Count("id", filter=Q(status__in=DONE_STATUSES)),
                "pledges_confirmed": Count("id", filter=Q(status=PledgeStatus.CONFIRMED)),
            },
        ),
        SummarySource(
            "requests",
            ResidentRequest.objects.filter(
                status=RequestStatus.RESOLVED, resolved_on__gte=first_day, resolved_on__lte=last_day
            ),
            "unit__community__path",
            {"requests_solved": Count("id"), "households_benefited": Sum("households_benefited")},
        ),
    ]
    return [source for source in sources if source.name in names]


def hours_of(value: Any) -> Decimal:
    """Hours (one decimal) from a summed duration or a summed number of hours (None: 0)."""
    if value is None:
        return Decimal("0")
    if isinstance(value, timedelta):
        return (Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1"))
    return Decimal(value).quantize(Decimal("0.1"))


def summary_from_rows(row: dict[str, Any]) -> dict[str, Any]:
    """The summary's figures from the merged aggregates of every source (missing ones are 0)."""
    services = int(row.get("records") or 0) + int(row.get("volunteer") or 0)
    hours = hours_of(row.get("record_hours")) + hours_of(row.get("volunteer_time"))
    out: dict[str, Any] = {key: int(row.get(key) or 0) for key in SUMMARY_KEYS}
    out["services"] = services
    out["service_hours"] = hours
    return out


def service_summary(*, user: Viewer, organization: Organization, year: int) -> dict[str, Any]:
    """The summary of ``organization``'s subtree for ``year`` (see the module docstring); an
    organisation outside the user's ``service.view`` scope has none (the caller answers 404 —
    ``summary_organization``). The registration area's six coverage queries and two more."""
    if not scope_for(user, "view", APP).covers(organization.path):
        return summary_from_rows({})
    merged: dict[str, Any] = {}
    sources = summary_sources(
        first_day=date(year, 1, 1), last_day=date(year, 12, 31), names=("pledges", "requests")
    )
    for source in sources:
        merged.update(
            source.queryset.filter(subtree_q(source.path_field, [organization.path])).aggregate(
                **source.aggregates
            )
        )
    out = summary_from_rows(merged)
    out.update(service_figures(user=user, organization=organization, year=year))
    out["service_hours"] = hours_of(out["service_hours"])
    return out


def summary_organization(*, user: Viewer, pk: Any) -> Organization | None:
    """The organisation whose summary the user asks for, within their ``service.view`` scope
    (None when it is outside or does not exist)."""
    if not str(pk).isdigit() or int(pk) >= 2**62:
        return None
    return Organization.objects.restrict(user, "view", app_label=APP).filter(pk=int(pk)).first()


def summary_roots(*, user: Viewer) -> list[Organization]:
    """The top organisations of the user's ``service.view`` scope (the summary page's choices)."""
    paths = scope_for(user, "view", APP).paths
    return list(Organization.objects.filter(path__in=paths).order_by("path")) if paths else []


def summary_children(*, user: Viewer, organization: Organization, year: int) -> list[dict[str, Any]]:
    """The summary of each active child of ``organization`` (within the user's scope): six
    grouped queries for all of them (grouped by the children's path prefix)."""
    from django.db.models.functions import Substr

    scope = scope_for(user, "view", APP)
    if not scope.covers(organization.path):
        return []
    children = list(
        Organization.objects.filter(parent=organization, is_active=True).order_by("sort_order", "path")
    )
    if not children:
        return []
    width = len(children[0].path)
    rows: dict[str, dict[str, Any]] = {child.path: {} for child in children}
    for source in summary_sources(first_day=date(year, 1, 1), last_day=date(year, 12, 31)):
        grouped = (
            source.queryset.filter(subtree_q(source.path_field, [organization.path]))
            .annotate(_prefix=Substr(source.path_field, 1, width))
            .values("_prefix")
            .annotate(**source.aggregates)
            .order_by()
        )
        for row in grouped:
            if row["_prefix"] in rows:
                rows[row["_prefix"]].update({k: v for k, v in row.items() if k != "_prefix"})
    return [{"organization": child, **summary_from_rows(rows[child.path])} for child in children]

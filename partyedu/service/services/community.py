"""Writes of the service app's community area: 我为群众办实事 pledges, the 联户 grid with the
residents' requests it solves, and the rooms of party service centres with their bookings.

Who may do what (every right is ``service.<action>`` read through ``partyedu.core.scope``):

- **Pledges.** An organisation's pledge is made and completed by whoever holds ``add`` / ``change``
  over the organisation (its secretary, the levels above); a member's pledge by the member
  themself (their account) or by whoever holds the right over the member's organisation. A pledge
  is completed once, with a note and up to ``PHOTOS_MAX`` photos (light evidence). It is confirmed
  by the level that benefits: for an organisation's pledge, whoever holds ``change`` over the
  organisation's PARENT; for a member's pledge, whoever holds ``change`` over the member's
  organisation (the branch above the member); and in both cases whoever holds ``change`` over the
  benefiting community named on the pledge (``Pledge.community``), unless that community is the
  pledging organisation itself or above it (then the parent rule already says who confirms).
- **联户 grid.** The cells of a community organisation (社区/村) are kept by whoever holds ``add`` /
  ``change`` over it. A resident's request is logged by that secretary or by the party member who
  is the contact of the cell (or of a cell above it) and resolved the same way; residents appear
  only as a household label.
- **Centres.** A centre and its rooms are kept by its organisation (``add`` / ``change``). Any unit
  books a room for itself (``add`` over the booking organisation); the Room row is locked, so two
  bookings of one slot are serialised and the second is refused naming the first. The centre's
  organisation (``change``) approves or rejects where the centre requires approval; the unit or the
  centre cancels; the unit links an approved booking to its activity, whose place then becomes the
  room.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.images import get_image_dimensions
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from partyedu.accounts.types import Actor
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import can, is_system, require, scope_for
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgType
from partyedu.organizations.models import Organization
from partyedu.study.models import Activity

from ..choices import HOLDING_STATUSES, BookingStatus, GridRole, PledgeStatus, RequestStatus
from ..models import (
    NOTE_MAX,
    Agreement,
    Booking,
    Centre,
    GridUnit,
    Pledge,
    PledgePhoto,
    Registration,
    ResidentRequest,
    Room,
)
from .figures import pledges_refresh

APP = "service"
PHOTOS_MAX = 3
PHOTO_BYTES_MAX = 10 * 1024 * 1024
PROGRESS_LINE_MAX = 200
HOUSEHOLDS_MAX = 100_000
# The organisation types that keep a 联户 grid: urban communities and villages.
GRID_ORG_TYPES: tuple[str, ...] = (OrgType.COMMUNITY, OrgType.RURAL)
# 片 → 组 → 楼: a cell sits under a cell of a wider rank.
GRID_RANK = {GridRole.AREA: 0, GridRole.GROUP: 1, GridRole.BUILDING: 2}
# A run of digits as long as a mobile number or an ID number: no resident's personal data here.
PERSONAL_NUMBER = re.compile(r"\d{11,}|\d{17}[\dXx]")

NO_PLEDGE_RIGHT = "您无权办理该项实事"
NO_GRID_RIGHT = "您无权管理该社区的联户网格"
NO_CENTRE_RIGHT = "您无权管理该服务中心"


# --- helpers ----------------------------------------------------------------------------------------


def _user(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _text(
    value: Any, *, field: str, label: str, limit: int, required: bool = False, line: bool = True
) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: [f"请填写{label}"]})
    if len(text) > limit:
        raise ValidationError({field: [f"{label}最多{limit}个字"]})
    try:
        (control_chars.check_line if line else control_chars.check_text)(text)
    except ValidationError as exc:
        raise ValidationError({field: [f"{label}{m}" for m in exc.messages]}) from None
    return text


def _date(value: Any, *, field: str, label: str, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: [f"请填写{label}"]})
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        parsed: date | None = value
    else:
        try:
            parsed = parse_date(str(value))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({field: [f"{label}须为日期，如2026-06-30"]})
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise ValidationError({field: [f"{label}的年份须在{YEAR_MIN}到{YEAR_MAX}之间"]})
    return parsed


def _count(value: Any, *, field: str, label: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: [f"{label}须为整数"]}) from None
    if not low <= number <= high:
        raise ValidationError({field: [f"{label}须在{low}到{high}之间"]})
    return number


def _no_personal_numbers(text: str, *, field: str, label: str) -> None:
    if PERSONAL_NUMBER.search(text.replace(" ", "")):
        raise ValidationError({field: [f"{label}不要填写手机号、身份证号等居民个人信息，只写门牌等住户标识"]})


def _is_self(actor: Actor, member: Member | None) -> bool:
    return (
        actor is not None and member is not None and member.user_id is not None and member.user_id == actor.pk
    )


# --- 我为群众办实事 ---------------------------------------------------------------------------------


def _member_right(actor: Actor, member: Member, action: str) -> bool:
    """Whether ``actor`` may ``action`` a member's pledge: the member themself (their own scope
    grants the action, as the 党员 role grants ``add``; completing one's own pledge needs no more)
    or a holder of the action over the member's organisation."""
    if is_system(actor):
        return True
    if _is_self(actor, member) and (action != "add" or scope_for(actor, "add", APP).own):
        return True
    return can(actor, action, member.org_path, app_label=APP)


def pledge_may_update(actor: Actor, pledge: Pledge) -> bool:
    """Whether ``actor`` may write progress on and complete ``pledge`` (see the module docstring)."""
    if pledge.member_id is not None and pledge.member is not None:
        return _member_right(actor, pledge.member, "change")
    return is_system(actor) or can(actor, "change", pledge.organization, app_label=APP)


def pledge_may_confirm(actor: Actor, pledge: Pledge) -> bool:
    """Whether ``actor`` confirms ``pledge`` (see the module docstring)."""
    if is_system(actor):
        return True
    org = pledge.organization
    if pledge.member_id is not None:
        if not _is_self(actor, pledge.member) and can(actor, "change", org, app_label=APP):
            return True
    elif (
        org.parent_id is not None
        and org.parent is not None
        and can(actor, "change", org.parent, app_label=APP)
    ):
        return True
    community = pledge.community
    return (
        community is not None
        and not org.path.startswith(community.path)
        and can(actor, "change", community, app_label=APP)
    )


def _pledge_community(actor: Actor, value: Any, *, organization: Organization, member: Member | None) -> Any:
    """The benefiting community named on a pledge: an active 社区/村 organisation that is within
    the actor's own view scope, or that the pledging unit has a 共驻共建 agreement with, or where
    the pledging member is registered (报到)."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Organization) else value
    if not str(pk).isdigit() or int(pk) >= 2**62:
        raise ValidationError({"community": ["受益社区须为社区党组织的编号"]})
    community = Organization.objects.filter(pk=int(pk), is_active=True, org_type__in=GRID_ORG_TYPES).first()
    if community is None:
        raise ValidationError({"community": ["受益社区党组织不存在，或不是社区（村）党组织"]})
    if is_system(actor) or can(actor, "view", community, app_label=APP):
        return community
    linked = Agreement.objects.filter(organization=organization, community=community).exists()
    if not linked and member is not None:
        linked = Registration.objects.filter(
            member=member, community=community, ended_on__isnull=True
        ).exists()
    if not linked:
        raise ValidationError(
            {"community": ["受益社区须是本单位共驻共建的社区、本人报到的社区，或在您管理范围内的社区"]}
        )
    return community


@transaction.atomic
def pledge_create(
    *,
    actor: Actor,
    title: Any,
    due: Any,
    organization: Organization | None = None,
    member: Member | None = None,
    beneficiary: Any = "",
    community: Any = None,
) -> Pledge:
    """A pledge (我为群众办实事) of an organisation or of a member: what, for whom, by when."""
    if (organization is None) == (member is None):
        raise ValidationError({"organization": ["请指明承诺的党组织或党员（二者选一）"]})
    if member is not None:
        member = Member.objects.select_related("organization").get(pk=member.pk)
        if not _member_right(actor, member, "add"):
            raise ValidationError({"member": ["党员不存在或不在您的权限范围内"]})
        if not member.is_active:
            raise ValidationError({"member": ["该党员已不在册，不能登记承诺"]})
        organization = member.organization
    assert organization is not None
    if member is None:
        require(actor, "add", organization, app_label=APP, message="您无权为该组织登记实事")
        if not organization.is_active:
            raise ValidationError({"organization": ["该党组织已撤销，不能登记实事"]})
    clean_title = _text(title, field="title", label="实事内容", limit=200, required=True)
    clean_beneficiary = _text(beneficiary, field="beneficiary", label="服务对象", limit=100)
    due_day = _date(due, field="due", label="承诺完成时间")
    assert due_day is not None
    if due_day.year < timezone.localdate().year:
        raise ValidationError({"due": ["承诺完成时间不能早于今年"]})
    pledge = Pledge(
        organization=organization,
        member=member,
        title=clean_title,
        beneficiary=clean_beneficiary,
        community=_pledge_community(actor, community, organization=organization, member=member),
        due=due_day,
        year=due_day.year,
        created_by=_user(actor),
    )
    pledge.full_clean()
    pledge.save()
    pledges_refresh([pledge.pk])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=pledge,
        changes={
            "organization": organization.pk,
            "member": member.pk if member else None,
            "title": clean_title,
            "due": due_day.isoformat(),
            "community": pledge.community_id,
        },
    )
    return pledge


def _lock_pledge(pledge: Pledge) -> Pledge:
    return (
        Pledge.objects.select_for_update(of=("self",))
        .select_related("organization__parent", "member", "community")
        .get(pk=pledge.pk)
    )


@transaction.atomic
def pledge_progress(*, actor: Actor, pledge: Pledge, note: Any) -> Pledge:
    """Add a dated line of progress to an open pledge."""
    pledge = _lock_pledge(pledge)
    if not pledge_may_update(actor, pledge):
        raise PermissionDenied(NO_PLEDGE_RIGHT)
    if pledge.status != PledgeStatus.OPEN:
        raise ValidationError({"note": ["该实事已经办结，不能再填写进展"]})
    line = _text(note, field="note", label="进展", limit=PROGRESS_LINE_MAX, required=True)
    progress = f"{pledge.progress}\n{timezone.localdate():%Y-%m-%d} {line}".strip()
    if len(progress) > NOTE_MAX:
        raise ValidationError({"note": [f"进展记录已满{NOTE_MAX}字，请在办结说明中写明后续情况"]})
    pledge.progress = progress
    pledge.save(update_fields=["progress", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=pledge, changes={"progress": line})
    return pledge


def _check_photos(photos: Sequence[Any]) -> None:
    if len(photos) > PHOTOS_MAX:
        raise ValidationError({"photos": [f"办结照片最多{PHOTOS_MAX}张"]})
    for upload in photos:
        name = getattr(upload, "name", "") or ""
        if (getattr(upload, "size", 0) or 0) > PHOTO_BYTES_MAX:
            raise ValidationError(
                {"photos": [f"“{name}”超过 {PHOTO_BYTES_MAX // (1024 * 1024)} MB，请压缩后再上传"]}
            )
        width, _height = get_image_dimensions(upload)
        if not width:
            raise ValidationError({"photos": [f"“{name}”不是有效的图片文件，请上传照片（JPG、PNG 等格式）"]})


@transaction.atomic
def pledge_complete(
    *, actor: Actor, pledge: Pledge, note: Any, photos: Sequence[Any] = (), completed_on: Any = None
) -> Pledge:
    """Complete a pledge once, with a note and up to ``PHOTOS_MAX`` photos; completing it again
    is refused (the row is locked, so two submissions at once complete it once)."""
    pledge = _lock_pledge(pledge)
    if not pledge_may_update(actor, pledge):
        raise PermissionDenied(NO_PLEDGE_RIGHT)
    if pledge.status != PledgeStatus.OPEN:
        raise ValidationError({"status": ["该实事已经办结，不能重复办结"]})
    clean_note = _text(note, field="note", label="办结说明", limit=NOTE_MAX, required=True, line=False)
    today = timezone.localdate()
    done_on = _date(completed_on, field="completed_on", label="办结日期", required=False) or today
    if done_on > today:
        raise ValidationError({"completed_on": ["办结日期不能晚于今天"]})
    photos = list(photos)
    _check_photos(photos)
    pledge.status = PledgeStatus.COMPLETED
    pledge.completion_note = clean_note
    pledge.completed_on = done_on
    pledge.save(update_fields=["status", "completion_note", "completed_on", "updated_at"])
    pledges_refresh([pledge.pk])
    for upload in photos:
        photo = PledgePhoto(pledge=pledge, image=upload)
        photo.full_clean(exclude=["pledge"])
        photo.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=pledge,
        changes={
            "status": [PledgeStatus.OPEN, PledgeStatus.COMPLETED],
            "completed_on": done_on.isoformat(),
            "photos": len(photos),
        },
    )
    return pledge


@transaction.atomic
def pledge_confirm(*, actor: Actor, pledge: Pledge) -> Pledge:
    """The level or community that benefits confirms a completed pledge."""
    pledge = _lock_pledge(pledge)
    if not pledge_may_confirm(actor, pledge):
        raise PermissionDenied("只有上级党组织或受益社区可以确认办结")
    if pledge.status == PledgeStatus.CONFIRMED:
        raise ValidationError({"status": ["该实事已经确认办结"]})
    if pledge.status != PledgeStatus.COMPLETED:
        raise ValidationError({"status": ["该实事尚未办结，不能确认"]})
    pledge.status = PledgeStatus.CONFIRMED
    pledge.confirmed_by = _user(actor)
    pledge.confirmed_at = timezone.now()
    pledge.save(update_fields=["status", "confirmed_by", "confirmed_at", "updated_at"])
    pledges_refresh([pledge.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=pledge,
        changes={"status": [PledgeStatus.COMPLETED, PledgeStatus.CONFIRMED]},
    )
    return pledge


# --- 联户 grid -------------------------------------------------------------------------------------


def _grid_community(actor: Actor, community: Organization, action: str) -> Organization:
    require(actor, action, community, app_label=APP, message=NO_GRID_RIGHT)
    if community.org_type not in GRID_ORG_TYPES:
        raise ValidationError({"community": ["联户网格只能建在社区或村的党组织下"]})
    if not community.is_active:
        raise ValidationError({"community": ["该党组织已撤销"]})
    return community


def _grid_contact(value: Any, community: Organization) -> Member | None:
    """The party member who is a cell's contact: a member of the community's subtree, or one
    registered (报到) with the community (an in-service member living there)."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Member) else value
    if not str(pk).isdigit() or int(pk) >= 2**62:
        raise ValidationError({"contact": ["联系党员须为党员编号"]})
    member = Member.objects.filter(pk=int(pk), is_active=True).first()
    if member is None:
        raise ValidationError({"contact": ["联系党员不存在或已不在册"]})
    if (
        not member.org_path.startswith(community.path)
        and not Registration.objects.filter(
            member=member, community=community, ended_on__isnull=True
        ).exists()
    ):
        raise ValidationError({"contact": ["联系党员须是本社区的党员，或已到本社区报到的在职党员"]})
    return member


def _grid_fields(unit: GridUnit, *, label: Any, contact: Any, households: Any) -> None:
    unit.label = _text(label, field="label", label="网格名称", limit=50, required=True)
    _no_personal_numbers(unit.label, field="label", label="网格名称")
    unit.contact = _grid_contact(contact, unit.community)
    unit.households = _count(
        households or 0, field="households", label="联系户数", low=0, high=HOUSEHOLDS_MAX
    )
    clash = GridUnit.objects.filter(community=unit.community, parent=unit.parent, label=unit.label)
    if unit.pk:
        clash = clash.exclude(pk=unit.pk)
    if clash.exists():
        raise ValidationError({"label": [f"同一上级网格下已有“{unit.label}”"]})


@transaction.atomic
def grid_unit_create(
    *,
    actor: Actor,
    community: Organization,
    role: Any,
    label: Any,
    parent: GridUnit | None = None,
    contact: Any = None,
    households: Any = 0,
) -> GridUnit:
    """A cell of the community's grid (片/组/楼) with its contact and households."""
    community = Organization.objects.select_for_update().get(pk=community.pk)
    _grid_community(actor, community, "add")
    if role not in GridRole.values:
        raise ValidationError({"role": ["网格层级须为片长、组长或楼长"]})
    if parent is not None:
        parent = GridUnit.objects.filter(pk=parent.pk, community=community).first()
        if parent is None:
            raise ValidationError({"parent": ["上级网格须是本社区的网格"]})
        if GRID_RANK[GridRole(parent.role)] >= GRID_RANK[GridRole(role)]:
            raise ValidationError({"parent": ["上级网格的层级须高于本网格（片 → 组 → 楼）"]})
    unit = GridUnit(community=community, parent=parent, role=role)
    _grid_fields(unit, label=label, contact=contact, households=households)
    unit.full_clean()
    unit.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=unit,
        changes={
            "community": community.pk,
            "role": role,
            "parent": parent.pk if parent else None,
            "contact": unit.contact_id,
            "households": unit.households,
        },
    )
    return unit


@transaction.atomic
def grid_unit_update(*, actor: Actor, unit: GridUnit, label: Any, contact: Any, households: Any) -> GridUnit:
    """Change a cell's name, contact or households (its place in the grid stays)."""
    community = Organization.objects.select_for_update().get(pk=unit.community_id)
    _grid_community(actor, community, "change")
    unit = GridUnit.objects.select_for_update().get(pk=unit.pk)
    before = {"label": unit.label, "contact": unit.contact_id, "households": unit.households}
    _grid_fields(unit, label=label, contact=contact, households=households)
    unit.full_clean()
    unit.save()
    after = {"label": unit.label, "contact": unit.contact_id, "households": unit.households}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=unit, changes=changes)
    return unit


def grid_contact_of(actor: Actor, unit: GridUnit) -> bool:
    """Whether ``actor`` is the party member who is the contact of ``unit`` or of a cell above it."""
    if actor is None or not actor.is_authenticated:
        return False
    seen: set[int] = set()
    cell: GridUnit | None = unit
    while cell is not None and cell.pk not in seen:
        seen.add(cell.pk)
        if cell.contact_id is not None and Member.objects.filter(pk=cell.contact_id, user=actor).exists():
            return True
        cell = cell.parent
    return False


def request_may_handle(actor: Actor, unit: GridUnit, action: str) -> bool:
    """Whether ``actor`` may log (``add``) or follow (``change``) the requests of ``unit``."""
    return (
        is_system(actor) or can(actor, action, unit.community, app_label=APP) or grid_contact_of(actor, unit)
    )


@transaction.atomic
def resident_request_log(
    *, actor: Actor, unit: GridUnit, household: Any, summary: Any, logged_on: Any = None, handler: Any = ""
) -> ResidentRequest:
    """Log a resident's request (关键小事) on a cell of the grid."""
    unit = GridUnit.objects.select_related("community", "parent").get(pk=unit.pk)
    if not request_may_handle(actor, unit, "add"):
        raise PermissionDenied("您不是该网格的联系党员，也无权管理该社区的联户网格")
    clean_household = _text(household, field="household", label="住户", limit=50, required=True)
    _no_personal_numbers(clean_household, field="household", label="住户")
    clean_summary = _text(summary, field="summary", label="诉求", limit=200, required=True)
    _no_personal_numbers(clean_summary, field="summary", label="诉求")
    today = timezone.localdate()
    day = _date(logged_on, field="logged_on", label="受理日期", required=False) or today
    if day > today:
        raise ValidationError({"logged_on": ["受理日期不能晚于今天"]})
    request = ResidentRequest(
        unit=unit,
        household=clean_household,
        summary=clean_summary,
        logged_on=day,
        handler=_text(handler, field="handler", label="办理人", limit=50),
    )
    request.full_clean()
    request.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=request,
        changes={"unit": unit.pk, "household": clean_household, "logged_on": day.isoformat()},
    )
    return request


def _lock_request(request: ResidentRequest) -> ResidentRequest:
    return (
        ResidentRequest.objects.select_for_update(of=("self",))
        .select_related("unit__community", "unit__parent")
        .get(pk=request.pk)
    )


@transaction.atomic
def resident_request_start(*, actor: Actor, request: ResidentRequest, handler: Any = "") -> ResidentRequest:
    """Mark a request as being handled (办理中), naming who handles it."""
    request = _lock_request(request)
    if not request_may_handle(actor, request.unit, "change"):
        raise PermissionDenied("您无权办理该诉求")
    if request.status != RequestStatus.OPEN:
        raise ValidationError({"status": ["该诉求已在办理或已解决"]})
    request.status = RequestStatus.IN_PROGRESS
    request.handler = _text(handler, field="handler", label="办理人", limit=50) or request.handler
    request.save(update_fields=["status", "handler", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=request,
        changes={"status": [RequestStatus.OPEN, RequestStatus.IN_PROGRESS], "handler": request.handler},
    )
    return request


@transaction.atomic
def resident_request_resolve(
    *,
    actor: Actor,
    request: ResidentRequest,
    resolution: Any,
    households_benefited: Any = 1,
    resolved_on: Any = None,
) -> ResidentRequest:
    """Resolve a request once: what was done, on which day, how many households it benefited."""
    request = _lock_request(request)
    if not request_may_handle(actor, request.unit, "change"):
        raise PermissionDenied("您无权办理该诉求")
    if request.status == RequestStatus.RESOLVED:
        raise ValidationError({"status": ["该诉求已经解决，不能重复办结"]})
    clean = _text(resolution, field="resolution", label="办理结果", limit=200, required=True)
    _no_personal_numbers(clean, field="resolution", label="办理结果")
    today = timezone.localdate()
    day = _date(resolved_on, field="resolved_on", label="解决日期", required=False) or today
    if day > today:
        raise ValidationError({"resolved_on": ["解决日期不能晚于今天"]})
    if day < request.logged_on:
        raise ValidationError({"resolved_on": ["解决日期不能早于受理日期"]})
    households = _count(
        households_benefited, field="households_benefited", label="受益户数", low=1, high=HOUSEHOLDS_MAX
    )
    before = request.status
    request.status = RequestStatus.RESOLVED
    request.resolution = clean
    request.resolved_on = day
    request.households_benefited = households
    request.save(update_fields=["status", "resolution", "resolved_on", "households_benefited", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=request,
        changes={
            "status": [before, RequestStatus.RESOLVED],
            "resolved_on": day.isoformat(),
            "households_benefited": households,
        },
    )
    return request


# --- centres and rooms ------------------------------------------------------------------------------


def _centre_fields(centre: Centre, *, name: Any, address: Any, requires_approval: Any) -> None:
    centre.name = _text(name, field="name", label="名称", limit=100, required=True)
    centre.address = _text(address, field="address", label="地址", limit=200)
    centre.requires_approval = bool(requires_approval)


@transaction.atomic
def centre_create(
    *, actor: Actor, organization: Organization, name: Any, address: Any = "", requires_approval: Any = True
) -> Centre:
    """A party service centre (党群服务中心) or teaching site managed by ``organization``."""
    require(actor, "add", organization, app_label=APP, message="您无权为该组织设立服务中心")
    if not organization.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})
    centre = Centre(organization=organization)
    _centre_fields(centre, name=name, address=address, requires_approval=requires_approval)
    centre.full_clean()
    centre.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=centre,
        changes={"organization": organization.pk, "requires_approval": centre.requires_approval},
    )
    return centre


@transaction.atomic
def centre_update(
    *, actor: Actor, centre: Centre, name: Any, address: Any, requires_approval: Any, is_active: Any = True
) -> Centre:
    centre = Centre.objects.select_for_update(of=("self",)).select_related("organization").get(pk=centre.pk)
    require(actor, "change", centre.organization, app_label=APP, message=NO_CENTRE_RIGHT)
    before = {"name": centre.name, "address": centre.address, "requires_approval": centre.requires_approval}
    before["is_active"] = centre.is_active
    _centre_fields(centre, name=name, address=address, requires_approval=requires_approval)
    centre.is_active = bool(is_active)
    centre.full_clean()
    centre.save()
    after = {
        "name": centre.name,
        "address": centre.address,
        "requires_approval": centre.requires_approval,
        "is_active": centre.is_active,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=centre, changes=changes)
    return centre


@transaction.atomic
def room_create(*, actor: Actor, centre: Centre, name: Any, capacity: Any) -> Room:
    centre = Centre.objects.select_related("organization").get(pk=centre.pk)
    require(actor, "change", centre.organization, app_label=APP, message=NO_CENTRE_RIGHT)
    room = Room(
        centre=centre,
        name=_text(name, field="name", label="名称", limit=100, required=True),
        capacity=_count(capacity, field="capacity", label="容纳人数", low=1, high=10_000),
    )
    if Room.objects.filter(centre=centre, name=room.name).exists():
        raise ValidationError({"name": [f"{centre.name}已有名为“{room.name}”的活动室"]})
    room.full_clean()
    room.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=room,
        changes={"centre": centre.pk, "capacity": room.capacity},
    )
    return room


@transaction.atomic
def room_update(*, actor: Actor, room: Room, name: Any, capacity: Any, is_active: Any = True) -> Room:
    room = Room.objects.select_for_update(of=("self",)).select_related("centre__organization").get(pk=room.pk)
    require(actor, "change", room.centre.organization, app_label=APP, message=NO_CENTRE_RIGHT)
    before = {"name": room.name, "capacity": room.capacity, "is_active": room.is_active}
    room.name = _text(name, field="name", label="名称", limit=100, required=True)
    room.capacity = _count(capacity, field="capacity", label="容纳人数", low=1, high=10_000)
    room.is_active = bool(is_active)
    if Room.objects.filter(centre=room.centre, name=room.name).exclude(pk=room.pk).exists():
        raise ValidationError({"name": [f"{room.centre.name}已有名为“{room.name}”的活动室"]})
    room.full_clean()
    room.save()
    after = {"name": room.name, "capacity": room.capacity, "is_active": room.is_active}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=room, changes=changes)
    return room


# --- bookings ---------------------------------------------------------------------------------------


def _moment(value: Any, *, field: str, label: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(str(value or ""))
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError({field: [f"请填写正确的{label}，如2026-06-30 14:00"]})
        moment = parsed
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if not YEAR_MIN <= moment.year <= YEAR_MAX:
        raise ValidationError({field: [f"{label}的年份须在{YEAR_MIN}到{YEAR_MAX}之间"]})
    return moment


def slot_text(start: datetime, end: datetime) -> str:
    """A slot as people read it: 2026-06-30 14:00–16:00."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def booking_conflict(
    room: Room, start: datetime, end: datetime, *, exclude: int | None = None
) -> Booking | None:
    """The first booking holding ``room`` (pending or approved) that overlaps [start, end)."""
    clash = Booking.objects.filter(room=room, status__in=HOLDING_STATUSES, start__lt=end, end__gt=start)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    return clash.select_related("organization").order_by("start", "id").first()


@transaction.atomic
def booking_create(
    *,
    actor: Actor,
    room: Room,
    organization: Organization,
    start: Any,
    end: Any,
    attendees: Any,
    purpose: Any,
) -> Booking:
    """A unit books a room for a slot. The room's row is locked first, so bookings of one room are
    made one after the other: one overlapping a booking that holds the room (pending or approved)
    is refused naming it; more attendees than the room holds, an end not after the start, a slot
    in the past or across midnight are refused too. Pending until the centre approves where it
    requires approval, else approved at once."""
    require(actor, "add", organization, app_label=APP, message="您无权为该组织预约场地")
    if not organization.is_active:
        raise ValidationError({"organization": ["该党组织已撤销"]})
    room = Room.objects.select_for_update(of=("self",)).select_related("centre").get(pk=room.pk)
    if not room.is_active or not room.centre.is_active:
        raise ValidationError({"room": [f"{room.centre.name}{room.name}暂停开放预约"]})
    begin = _moment(start, field="start", label="开始时间")
    finish = _moment(end, field="end", label="结束时间")
    if finish <= begin:
        raise ValidationError({"end": ["结束时间应晚于开始时间"]})
    if begin < timezone.now():
        raise ValidationError({"start": ["不能预约已经过去的时间"]})
    day_end = timezone.make_aware(
        datetime.combine(timezone.localtime(begin).date() + timedelta(days=1), time.min)
    )
    if finish > day_end:
        raise ValidationError({"end": ["预约须在同一天内结束，跨天的活动请分天预约"]})
    people = _count(attendees, field="attendees", label="人数", low=1, high=100_000)
    if people > room.capacity:
        raise ValidationError({"attendees": [f"人数{people}人超过{room.name}的容纳人数{room.capacity}人"]})
    clean_purpose = _text(purpose, field="purpose", label="用途", limit=200, required=True)
    clash = booking_conflict(room, begin, finish)
    if clash is not None:
        raise ValidationError(
            {
                "start": [
                    f"该时段与{clash.organization.name}的预约冲突（{slot_text(clash.start, clash.end)}，"
                    f"{clash.get_status_display()}），请另选时间或活动室"
                ]
            }
        )
    now = timezone.now()
    booking = Booking(
        room=room,
        organization=organization,
        start=begin,
        end=finish,
        attendees=people,
        purpose=clean_purpose,
        booked_by=_user(actor),
        status=BookingStatus.PENDING if room.centre.requires_approval else BookingStatus.APPROVED,
        decided_at=None if room.centre.requires_approval else now,
    )
    booking.full_clean()
    booking.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=booking,
        changes={
            "room": room.pk,
            "organization": organization.pk,
            "start": begin.isoformat(),
            "end": finish.isoformat(),
            "attendees": people,
            "status": booking.status,
        },
    )
    return booking


def _lock_booking(booking: Booking) -> Booking:
    # The room first (as booking_create), then the booking: one order of locks for every writer.
    Room.objects.select_for_update().filter(pk=booking.room_id).first()
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("room__centre__organization", "organization", "activity")
        .get(pk=booking.pk)
    )


@transaction.atomic
def booking_decide(*, actor: Actor, booking: Booking, approve: bool, reason: Any = "") -> Booking:
    """The centre's organisation approves or rejects (with a reason) a pending booking."""
    booking = _lock_booking(booking)
    require(
        actor,
        "change",
        booking.room.centre.organization,
        app_label=APP,
        message="只有服务中心的管理组织可以审核预约",
    )
    if booking.status != BookingStatus.PENDING:
        raise ValidationError({"status": [f"该预约{booking.get_status_display()}，不需要审核"]})
    clean_reason = _text(reason, field="reason", label="说明", limit=200, required=not approve)
    booking.status = BookingStatus.APPROVED if approve else BookingStatus.REJECTED
    booking.reason = clean_reason
    booking.decided_by = _user(actor)
    booking.decided_at = timezone.now()
    booking.save(update_fields=["status", "reason", "decided_by", "decided_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=booking,
        changes={"status": [BookingStatus.PENDING, booking.status], "reason": clean_reason},
    )
    return booking


def booking_may_cancel(actor: Actor, booking: Booking) -> bool:
    return (
        is_system(actor)
        or can(actor, "change", booking.organization, app_label=APP)
        or can(actor, "change", booking.room.centre.organization, app_label=APP)
    )


@transaction.atomic
def booking_cancel(*, actor: Actor, booking: Booking, reason: Any = "") -> Booking:
    """The booking unit or the centre cancels a booking that holds its room; the slot is free
    again. A linked activity keeps its place text but loses the link."""
    booking = _lock_booking(booking)
    if not booking_may_cancel(actor, booking):
        raise PermissionDenied("您无权取消该预约")
    if booking.status not in HOLDING_STATUSES:
        raise ValidationError({"status": [f"该预约{booking.get_status_display()}，不能取消"]})
    before = booking.status
    booking.status = BookingStatus.CANCELLED
    booking.reason = _text(reason, field="reason", label="说明", limit=200) or booking.reason
    booking.activity = None
    booking.save(update_fields=["status", "reason", "activity", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=booking,
        changes={"status": [before, BookingStatus.CANCELLED], "reason": booking.reason},
    )
    return booking


def booking_place(booking: Booking) -> str:
    """The place an activity held in the booked room gets: "中心 房间"."""
    return f"{booking.room.centre.name} {booking.room.name}"[:200]


@transaction.atomic
def booking_link_activity(*, actor: Actor, booking: Booking, activity: Activity) -> Booking:
    """Make an approved booking the place of the unit's activity held in its slot: the booking
    names the activity and the activity's place becomes "中心 房间" (through the study service,
    which checks the actor's right over the activity)."""
    from partyedu.study.services import activity_update

    booking = _lock_booking(booking)
    require(actor, "change", booking.organization, app_label=APP, message="您无权修改该预约")
    if booking.status != BookingStatus.APPROVED:
        raise ValidationError({"activity": ["预约通过审核后才能用作活动地点"]})
    activity = Activity.objects.select_related("organization").get(pk=activity.pk)
    if not activity.organization.path.startswith(booking.organization.path):
        raise ValidationError({"activity": ["只能关联本单位（含下级）的活动"]})
    if not (activity.start < booking.end and activity.end > booking.start):
        raise ValidationError(
            {"activity": [f"活动时间与预约时段（{slot_text(booking.start, booking.end)}）不符"]}
        )
    if booking.activity_id == activity.pk:
        return booking
    if booking.activity_id is not None:
        raise ValidationError({"activity": ["该预约已关联其他活动"]})
    if Booking.objects.filter(activity=activity).exclude(pk=booking.pk).exists():
        raise ValidationError({"activity": ["该活动已关联其他场地预约"]})
    activity_update(actor=actor, activity=activity, data={"place": booking_place(booking)})
    booking.activity = activity
    booking.save(update_fields=["activity", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=booking, changes={"activity": [None, activity.pk]}
    )
    return booking


__all__ = [
    "PHOTOS_MAX",
    "booking_cancel",
    "booking_conflict",
    "booking_create",
    "booking_decide",
    "booking_link_activity",
    "booking_may_cancel",
    "booking_place",
    "centre_create",
    "centre_update",
    "grid_contact_of",
    "grid_unit_create",
    "grid_unit_update",
    "pledge_complete",
    "pledge_confirm",
    "pledge_create",
    "pledge_may_confirm",
    "pledge_may_update",
    "pledge_progress",
    "request_may_handle",
    "resident_request_log",
    "resident_request_resolve",
    "resident_request_start",
    "room_create",
    "room_update",
    "slot_text",
]

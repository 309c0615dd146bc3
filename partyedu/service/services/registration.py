"""Writes of 双报到 and volunteer service (the registration area of the service app).

- **Agreements (共驻共建协议)** and their three lists (需求、资源、项目清单) are kept by the unit's
  party organisation: ``service.add`` / ``service.change`` at the unit.
- **Registration (报到)**: an in-service member (在职) registers with the community where they
  live, by themself (the 党员 role's ``service.add`` over their own record) or through their
  secretary (``service.add`` over the member's organisation). A member outside the actor's reach
  is not found (404). One registration is in force per member; registering with another community
  ends the old one only when asked to (``replace``).
- **Service records**: recorded by the member (or the secretary), at most 24 hours a day per
  member in all; confirmed or rejected by the community side — whoever holds ``service.change``
  over the community organisation of the record's registration, or over the member's own
  organisation when the community is not in the tree (an outside community confirms through the
  unit) or there is no registration.
- **Volunteer activities**: a study activity of the type 志愿服务 (recorded by the study services,
  so that attendance, QR check-in and the activity figures work as for any activity) with its
  ``VolunteerActivity`` row; members sign up onto its roster until the deadline, within capacity.

Confirmed service hours feed points: every write that changes them calls the
``service.hours_changed`` hook (the points app re-derives); volunteer hours follow the activity's
attendance through ``study.attendance_changed`` as any attendance does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core import control_chars
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.exporting import ExportColumn, XlsxExport
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, is_system, require
from partyedu.members.choices import MemberCategory, MemberStatus
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgType
from partyedu.organizations.models import Organization
from partyedu.study.choices import ActivityType, AttendanceStatus
from partyedu.study.models import Activity, Attendance
from partyedu.study.services import activity_record, activity_roster_add, activity_roster_remove

from ..choices import ItemStatus, ListKind, RecordStatus, ServiceKind
from ..models import (
    DAY_HOURS_MAX,
    NOTE_MAX,
    Agreement,
    AgreementItem,
    Registration,
    ServiceRecord,
    VolunteerActivity,
)
from ..selectors_registration import coverage, coverage_members, member_rows
from .figures import records_refresh, records_uncount

APP = "service"
HOURS_MIN = Decimal("0.5")
# Party members register and serve; 入党积极分子 and 发展对象 are not yet members.
MEMBER_STATUSES = (MemberStatus.PROBATIONARY, MemberStatus.FULL)
NOT_FOUND = "党员不存在或不在您的权限范围内"

__all__ = [
    "agreement_create",
    "agreement_item_save",
    "agreement_update",
    "confirming_organization",
    "coverage_export",
    "registration_create",
    "registration_end",
    "service_record_confirm",
    "service_record_create",
    "service_record_delete",
    "service_record_reject",
    "volunteer_activity_create",
    "volunteer_signup",
    "volunteer_withdraw",
]


# --- helpers ---------------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _text(value: Any, *, field: str, label: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationError({field: f"{label}最多{limit}个字（现有{len(text)}个字）"})
    try:
        control_chars.check_text(text)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return text


def _date(value: Any, *, field: str, label: str, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: f"请填写{label}"})
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: f"{label}格式有误，应为“年-月-日”，如 2026-03-05"}) from None


def _pk(value: Any, field: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    raw = getattr(value, "pk", value)
    if isinstance(raw, bool):
        raise ValidationError({field: f"{label}编号有误"})
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({field: f"{label}编号有误"}) from None
    if not 0 < number < 2**63:
        raise ValidationError({field: f"{label}编号有误"})
    return number


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _user_of(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def member_for(actor: Actor, member: Any, action: str = "add", *, lock: bool = False) -> Member:
    """The member a write is for, as the actor reaches them with ``service.<action>``: their own
    record (the 党员 role) or one within their subtree; anyone else is not found (404)."""
    pk = _pk(member, "member", "党员")
    if pk is None:
        raise ValidationError({"member": "请选择党员"})
    qs = Member.objects.all() if is_system(actor) else Member.objects.restrict(actor, action, app_label=APP)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.select_related("organization").filter(pk=pk).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def _check_party_member(member: Member) -> None:
    if not member.is_active:
        raise ValidationError({"member": f"{member.name}已不在册"})
    if member.status not in MEMBER_STATUSES:
        raise ValidationError(
            {"member": f"{member.name}还不是党员（{member.get_status_display()}），不办理报到和服务记录"}
        )


def check_in_service(member: Member) -> None:
    """双报到 is for in-service members (在职): a retiree (离退休) is refused by name, so is a
    member whose record does not say 在职."""
    categories = set(member.categories or ())
    if MemberCategory.EMPLOYED in categories:
        return
    if MemberCategory.RETIRED in categories:
        raise ValidationError(
            {
                "member": f"{member.name}是离退休党员，不属于在职党员，不能办理在职党员社区报到（离退休党员在居住地党组织参加组织生活）"
            }
        )
    raise ValidationError({"member": f"{member.name}的党员档案中没有“在职”类别，在职党员才办理社区报到"})


def _community(value: Any, name: Any, *, required: bool = True) -> tuple[Organization | None, str]:
    """A community in the tree (a 社区 organisation, by instance or id) or one outside it by
    name: exactly one of the two."""
    text = _text(name, field="community", label="社区名称", limit=100)
    pk = _pk(value, "community", "社区党组织")
    if pk is not None and text:
        raise ValidationError({"community": "请选择系统中的社区党组织，或填写系统外的社区名称，二者只填其一"})
    if pk is None:
        if not text and required:
            raise ValidationError({"community": "请选择社区党组织或填写社区名称"})
        return None, text
    org = Organization.objects.filter(pk=pk, is_active=True).first()
    if org is None:
        raise ValidationError({"community": "所选社区党组织不存在或已撤销"})
    if org.org_type != OrgType.COMMUNITY:
        raise ValidationError({"community": f"“{org.name}”不是社区党组织，请选择社区党组织或填写社区名称"})
    return org, ""


def _hours(value: Any) -> Decimal:
    if value in (None, ""):
        raise ValidationError({"hours": "请填写服务时长"})
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"hours": "服务时长须为数字（小时），如 2 或 1.5"}) from None
    if not hours.is_finite():
        raise ValidationError({"hours": "服务时长须为数字（小时），如 2 或 1.5"})
    if hours < HOURS_MIN:
        raise ValidationError({"hours": "服务时长至少0.5小时"})
    if hours > DAY_HOURS_MAX:
        raise ValidationError({"hours": "服务时长不能超过24小时"})
    if (hours * 2) % 1:
        raise ValidationError({"hours": "服务时长以半小时计，如 1、1.5、2"})
    return hours.quantize(Decimal("0.1"))


def _hours_changed(actor: Actor, records: list[ServiceRecord]) -> None:
    if records:
        hooks.call(
            "service.hours_changed",
            member_ids=sorted({r.member_id for r in records}),
            years=sorted({r.date.year for r in records}),
            actor=actor,
        )


# --- agreements ----------------------------------------------------------------------------------


def _agreement_data(agreement: Agreement, data: dict[str, Any]) -> None:
    if "community" in data or "community_name" in data:
        agreement.community, agreement.community_name = _community(
            data.get("community"), data.get("community_name")
        )
    if agreement.community_id and agreement.community_id == agreement.organization_id:
        raise ValidationError({"community": "不能与本组织自己签订共驻共建协议"})
    if "signed_on" in data:
        agreement.signed_on = _date(data["signed_on"], field="signed_on", label="签订日期")  # type: ignore[assignment]
    if "ends_on" in data:
        agreement.ends_on = _date(data["ends_on"], field="ends_on", label="有效期", required=False)
    if "note" in data:
        agreement.note = _text(data["note"], field="note", label="说明", limit=NOTE_MAX)
    if agreement.signed_on and agreement.signed_on > _today():
        raise ValidationError({"signed_on": "签订日期不能晚于今天"})
    if agreement.ends_on and agreement.signed_on and agreement.ends_on < agreement.signed_on:
        raise ValidationError({"ends_on": "有效期不能早于签订日期"})


AGREEMENT_FIELDS = ("community", "community_name", "signed_on", "ends_on", "note")


@transaction.atomic
def agreement_create(*, actor: Actor, organization: Organization, data: dict[str, Any]) -> Agreement:
    """A unit's 共驻共建 agreement with a community (in the tree or by name)."""
    unknown = sorted(set(data) - set(AGREEMENT_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "未知字段"))
    require(actor, "add", organization, app_label=APP, message="您无权为该组织签订共驻共建协议")
    if not organization.is_active:
        raise ValidationError({"organization": "该党组织已撤销"})
    agreement = Agreement(organization=organization)
    _agreement_data(agreement, {"community": None, "community_name": "", **data})
    agreement.full_clean()
    agreement.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=agreement,
        changes={"community": agreement.community_id, "community_name": agreement.community_name},
    )
    return agreement


@transaction.atomic
def agreement_update(*, actor: Actor, agreement: Agreement, data: dict[str, Any]) -> Agreement:
    agreement = Agreement.objects.select_for_update().select_related("organization").get(pk=agreement.pk)
    require(actor, "change", agreement.organization, app_label=APP, message="您无权修改该协议")
    unknown = sorted(set(data) - set(AGREEMENT_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "未知字段"))
    before = {
        f: str(getattr(agreement, f)) for f in ("community_id", "community_name", "signed_on", "ends_on")
    }
    _agreement_data(agreement, data)
    agreement.full_clean()
    agreement.save()
    after = {f: str(getattr(agreement, f)) for f in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=agreement, changes=changes)
    return agreement


ITEM_FIELDS = ("kind", "title", "detail", "owner", "due", "status")


@transaction.atomic
def agreement_item_save(
    *, actor: Actor, agreement: Agreement, data: dict[str, Any], item: AgreementItem | None = None
) -> AgreementItem:
    """Add a line to one of the agreement's three lists, or change one. Project lines carry an
    owner, a due date and progress (未开始 → 进行中 → 已完成, the day it was done kept)."""
    agreement = Agreement.objects.select_for_update().select_related("organization").get(pk=agreement.pk)
    require(actor, "change", agreement.organization, app_label=APP, message="您无权修改该协议")
    unknown = sorted(set(data) - set(ITEM_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "未知字段"))
    created = item is None
    if item is None:
        item = AgreementItem(agreement=agreement)
    elif item.agreement_id != agreement.pk:
        raise Http404("清单事项不存在")
    if "kind" in data or created:
        if data.get("kind") not in ListKind.values:
            raise ValidationError({"kind": "请选择需求清单、资源清单或项目清单"})
        item.kind = data["kind"]
    if "title" in data or created:
        item.title = _text(data.get("title"), field="title", label="事项", limit=200, required=True)
    if "detail" in data:
        item.detail = _text(data["detail"], field="detail", label="内容", limit=NOTE_MAX)
    if "owner" in data:
        item.owner = _text(data["owner"], field="owner", label="负责人", limit=50)
    if "due" in data:
        item.due = _date(data["due"], field="due", label="完成时限", required=False)
    if "status" in data and data["status"] not in (None, ""):
        if data["status"] not in ItemStatus.values:
            raise ValidationError({"status": "进度须为未开始、进行中或已完成"})
        if data["status"] == ItemStatus.DONE and item.status != ItemStatus.DONE:
            item.done_on = _today()
        elif data["status"] != ItemStatus.DONE:
            item.done_on = None
        item.status = data["status"]
    if item.kind != ListKind.PROJECT:
        # Needs and resources are lines of a list; only projects are followed to completion.
        item.owner, item.due, item.status, item.done_on = "", None, ItemStatus.PLANNED, None
    item.full_clean()
    item.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=item,
        changes={"agreement": agreement.pk, "kind": item.kind, "status": item.status},
    )
    return item


# --- registration --------------------------------------------------------------------------------


def _project_item(value: Any, member: Member) -> AgreementItem | None:
    pk = _pk(value, "agreement_item", "认领项目")
    if pk is None:
        return None
    item = (
        AgreementItem.objects.select_related("agreement__organization", "agreement__community")
        .filter(pk=pk, kind=ListKind.PROJECT)
        .first()
    )
    # Only the projects of the member's own unit (an agreement made at their organisation or above).
    if item is None or not member.org_path.startswith(item.agreement.organization.path):
        raise ValidationError({"agreement_item": "认领项目不存在，或不是本单位共驻共建协议中的项目"})
    if item.agreement.ends_on and item.agreement.ends_on < _today():
        raise ValidationError({"agreement_item": "该项目所属的共驻共建协议已到期"})
    return item


@transaction.atomic
def registration_create(
    *,
    actor: Actor,
    member: Any,
    community: Any = None,
    community_name: str = "",
    post: str = "",
    agreement_item: Any = None,
    registered_on: Any = None,
    replace: bool = False,
) -> Registration:
    """An in-service member's 报到 with the community where they live: a community in the tree
    or by name (or the community of the project chosen), and a post or a project. One is in
    force per member: with one already in force this is refused unless ``replace`` — then the
    old one ends the day the new one starts. The member's row is locked, so two registrations
    at once cannot both be in force (the partial unique constraint is the backstop)."""
    target = member_for(actor, member, "add", lock=True)
    _check_party_member(target)
    check_in_service(target)
    item = _project_item(agreement_item, target)
    org, name = _community(community, community_name, required=item is None)
    if item is not None:
        agreement = item.agreement
        if org is None and not name:
            org, name = agreement.community, agreement.community_name
        elif (org is not None and org.pk != agreement.community_id) or (
            name and name != agreement.community_name
        ):
            raise ValidationError({"agreement_item": "认领项目不属于与所选社区签订的共驻共建协议"})
    post_text = _text(post, field="post", label="服务岗位", limit=100)
    if not post_text and item is None:
        raise ValidationError({"post": "请填写服务岗位或选择认领项目"})
    on = _date(registered_on, field="registered_on", label="报到日期", required=False) or _today()
    if on > _today():
        raise ValidationError({"registered_on": "报到日期不能晚于今天"})
    current = (
        Registration.objects.filter(member=target, ended_on__isnull=True).select_related("community").first()
    )
    if current is not None:
        if not replace:
            raise ValidationError(
                {
                    "member": f"{target.name}已于{current.registered_on:%Y-%m-%d}在{current.community_label}报到；"
                    "如需变更，请选择“变更报到”，原报到将同时结束"
                }
            )
        if current.registered_on > on:
            raise ValidationError({"registered_on": "新的报到日期不能早于原报到日期"})
        current.ended_on = on
        current.save(update_fields=["ended_on", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=current,
            changes={"ended_on": on.isoformat(), "replaced": True},
        )
    registration = Registration(
        member=target,
        community=org,
        community_name=name,
        agreement_item=item,
        post=post_text,
        registered_on=on,
        registered_by=_user_of(actor),
    )
    registration.full_clean(exclude=["member"])
    registration.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=registration,
        changes={
            "member": target.pk,
            "community": org.pk if org else None,
            "community_name": name,
            "agreement_item": item.pk if item else None,
            "registered_on": on.isoformat(),
        },
    )
    return registration


@transaction.atomic
def registration_end(*, actor: Actor, registration: Registration, ended_on: Any = None) -> Registration:
    """End a registration in force (the member moved, or stopped): by the member themself or
    their secretary (``service.change`` at the member's organisation)."""
    registration = (
        Registration.objects.select_for_update(of=("self",)).select_related("member").get(pk=registration.pk)
    )
    own = _user_of(actor) is not None and registration.member.user_id == actor.pk  # type: ignore[union-attr]
    if not (is_system(actor) or own or can(actor, "change", registration.member.org_path, app_label=APP)):
        raise PermissionDenied("您无权结束该报到")
    if registration.ended_on is not None:
        return registration
    on = _date(ended_on, field="ended_on", label="结束日期", required=False) or _today()
    if on < registration.registered_on:
        raise ValidationError({"ended_on": "结束日期不能早于报到日期"})
    if on > _today():
        raise ValidationError({"ended_on": "结束日期不能晚于今天"})
    registration.ended_on = on
    registration.save(update_fields=["ended_on", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=registration, changes={"ended_on": on.isoformat()}
    )
    return registration


# --- service records -----------------------------------------------------------------------------


def confirming_organization(record: ServiceRecord) -> Organization:
    """Who confirms a record: the community organisation of its registration when that community
    is in the tree, else the member's own organisation."""
    registration = record.registration
    if registration is not None and registration.community_id and registration.community is not None:
        return registration.community
    return record.member.organization


def _day_total(member: Member, on: date, *, exclude: int | None = None) -> Decimal:
    qs = ServiceRecord.objects.filter(member=member, date=on).exclude(status=RecordStatus.REJECTED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.aggregate(s=Sum("hours"))["s"] or Decimal("0")


def _check_day(member: Member, on: date, hours: Decimal, *, exclude: int | None = None) -> None:
    done = _day_total(member, on, exclude=exclude)
    if done + hours > DAY_HOURS_MAX:
        raise ValidationError(
            {
                "hours": f"{on:%Y-%m-%d}当天已登记服务{done.normalize():f}小时，加上本次{hours.normalize():f}小时"
                f"超过每天24小时"
            }
        )


@transaction.atomic
def service_record_create(
    *,
    actor: Actor,
    member: Any,
    date: Any,
    hours: Any,
    kind: Any,
    description: Any = "",
    registration: Any = None,
) -> ServiceRecord:
    """A service the member did, waiting for the community side to confirm it. The day may not
    be in the future, and the member's records of one day (all but rejected ones) add up to at
    most 24 hours: the member's row is locked while the day's hours are summed, so two records
    sent at once cannot both pass."""
    target = member_for(actor, member, "add", lock=True)
    _check_party_member(target)
    on = _date(date, field="date", label="服务日期")
    assert on is not None
    if on > _today():
        raise ValidationError({"date": "服务日期不能晚于今天"})
    amount = _hours(hours)
    if kind not in ServiceKind.values:
        raise ValidationError({"kind": "请选择服务类型"})
    text = _text(description, field="description", label="服务内容", limit=200)
    reg = None
    reg_pk = _pk(registration, "registration", "社区报到")
    if reg_pk is not None:
        reg = Registration.objects.filter(pk=reg_pk, member=target).select_related("community").first()
        if reg is None:
            raise ValidationError({"registration": "该社区报到不存在，或不是该党员的报到"})
        if reg.registered_on > on or (reg.ended_on is not None and reg.ended_on < on):
            raise ValidationError({"registration": "服务日期不在该报到的有效期内"})
    _check_day(target, on, amount)
    record = ServiceRecord(
        member=target,
        registration=reg,
        date=on,
        hours=amount,
        kind=kind,
        description=text,
        recorded_by=_user_of(actor),
    )
    record.full_clean(exclude=["member", "registration"])
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        changes={"member": target.pk, "date": on.isoformat(), "hours": str(amount), "kind": kind},
    )
    return record


def _locked_record(record: ServiceRecord | int) -> ServiceRecord:
    pk = record.pk if isinstance(record, ServiceRecord) else record
    return (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("member__organization", "registration__community")
        .get(pk=pk)
    )


def _require_confirmer(actor: Actor, record: ServiceRecord) -> None:
    require(
        actor,
        "change",
        confirming_organization(record),
        app_label=APP,
        message="服务记录由报到社区确认，您无权确认该记录",
    )


@transaction.atomic
def service_record_confirm(*, actor: Actor, record: ServiceRecord | int) -> ServiceRecord:
    """The community side confirms a record (a rejected one too, when it was rejected by
    mistake). Confirming a confirmed record changes nothing (a retry)."""
    record = _locked_record(record)
    _require_confirmer(actor, record)
    if record.status == RecordStatus.CONFIRMED:
        return record
    if record.status == RecordStatus.REJECTED:
        Member.objects.select_for_update().filter(pk=record.member_id).first()
        _check_day(record.member, record.date, record.hours, exclude=record.pk)
    before = record.status
    record.status = RecordStatus.CONFIRMED
    record.confirmed_by = _user_of(actor)
    record.confirmed_at = timezone.now()
    record.reject_reason = ""
    record.save(update_fields=["status", "confirmed_by", "confirmed_at", "reject_reason", "updated_at"])
    records_refresh([record.member_id])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=record, changes={"status": [before, record.status]}
    )
    _hours_changed(actor, [record])
    return record


@transaction.atomic
def service_record_reject(*, actor: Actor, record: ServiceRecord | int, reason: Any) -> ServiceRecord:
    """The community side does not confirm a record, saying why (a confirmed one too: its hours
    and the points they gave are taken back)."""
    record = _locked_record(record)
    _require_confirmer(actor, record)
    text = _text(reason, field="reason", label="未确认原因", limit=200, required=True)
    if record.status == RecordStatus.REJECTED and record.reject_reason == text:
        return record
    before = record.status
    record.status = RecordStatus.REJECTED
    record.confirmed_by = _user_of(actor)
    record.confirmed_at = timezone.now()
    record.reject_reason = text
    record.save(update_fields=["status", "confirmed_by", "confirmed_at", "reject_reason", "updated_at"])
    records_refresh([record.member_id])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=record,
        changes={"status": [before, record.status], "reason": text},
    )
    if before == RecordStatus.CONFIRMED:
        _hours_changed(actor, [record])
    return record


@transaction.atomic
def service_record_delete(*, actor: Actor, record: ServiceRecord | int) -> None:
    """Remove a record: the member their own one not yet confirmed; an administrator with
    ``service.delete`` at the member's organisation any (its hours are taken back)."""
    record = _locked_record(record)
    own = _user_of(actor) is not None and record.member.user_id == actor.pk  # type: ignore[union-attr]
    if not is_system(actor) and not can(actor, "delete", record.member.org_path, app_label=APP):
        if not own:
            raise Http404("服务记录不存在")
        if record.status == RecordStatus.CONFIRMED:
            raise ValidationError({"record": "社区已确认的服务记录不能自行删除，如有错误请联系所在党支部"})
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=record,
        changes={"member": record.member_id, "date": record.date.isoformat(), "hours": str(record.hours)},
    )
    confirmed = record.status == RecordStatus.CONFIRMED
    snapshot = ServiceRecord(member_id=record.member_id, date=record.date)
    records_uncount(record)
    record.delete()
    if confirmed:
        _hours_changed(actor, [snapshot])


# --- volunteer activities ------------------------------------------------------------------------


@transaction.atomic
def volunteer_activity_create(
    *,
    actor: Actor,
    organization: Organization,
    topic: Any,
    start: datetime,
    end: datetime,
    kind: Any,
    place: Any = "",
    capacity: int | None = None,
    signup_until: datetime | None = None,
    open_to_subtree: bool = True,
) -> VolunteerActivity:
    """A volunteer activity: a study activity of the type 志愿服务 held by the organisation, with
    an empty roster that members fill by signing up, and its volunteer row (service kind,
    capacity, sign-up deadline). Attendance is then recorded as for any activity (the roster page
    or QR check-in); it credits no learning hours unless the organisation's credit table says so."""
    require(actor, "add", organization, app_label=APP, message="您无权为该组织发布志愿服务活动")
    if kind not in ServiceKind.values:
        raise ValidationError({"kind": "请选择服务类型"})
    if capacity is not None and (isinstance(capacity, bool) or int(capacity) < 1 or int(capacity) > 10000):
        raise ValidationError({"capacity": "招募人数须为1到10000之间的整数，不限人数请留空"})
    start, end = _aware(start), _aware(end)
    signup_until = _aware(signup_until)
    if signup_until is not None and end is not None and signup_until > end:
        raise ValidationError({"signup_until": "报名截止时间不能晚于活动结束时间"})
    activity = activity_record(
        actor=actor,
        data={
            "organization": organization,
            "activity_type": ActivityType.VOLUNTEER_SERVICE,
            "topic": _text(topic, field="topic", label="活动主题", limit=200, required=True),
            "start": start,
            "end": end,
            "place": _text(place, field="place", label="地点", limit=200),
            "roster": [],
        },
    )
    volunteer = VolunteerActivity(
        activity=activity,
        kind=kind,
        capacity=int(capacity) if capacity is not None else None,
        signup_until=signup_until,
        open_to_subtree=bool(open_to_subtree),
    )
    volunteer.full_clean(exclude=["activity"])
    volunteer.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=volunteer,
        changes={"activity": activity.pk, "kind": kind, "capacity": volunteer.capacity},
    )
    return volunteer


def signup_closes(volunteer: VolunteerActivity) -> datetime:
    """When sign-up closes: the deadline set, else the activity's start."""
    return volunteer.signup_until or volunteer.activity.start


def may_sign_up(volunteer: VolunteerActivity, member: Member) -> bool:
    """Whether the member belongs where the activity recruits: the organisation's subtree, or
    (not open to the subtree) the organisation itself and its party groups."""
    org = volunteer.activity.organization
    if volunteer.open_to_subtree:
        return member.org_path.startswith(org.path)
    return member.organization_id == org.pk or member.organization.parent_id == org.pk


@dataclass(frozen=True)
class Signup:
    member: Member
    created: bool  # False: the member was on the roster already (a retry changes nothing)


@transaction.atomic
def volunteer_signup(*, actor: Actor, volunteer: VolunteerActivity | int, member: Any) -> Signup:
    """Sign a member up (the member themself, or their secretary) onto the activity's roster,
    until sign-up closes and while places remain. The activity's row is locked while places are
    counted, so the last place cannot be taken twice; signing up again changes nothing."""
    pk = volunteer.pk if isinstance(volunteer, VolunteerActivity) else volunteer
    target = member_for(actor, member, "add")
    _check_party_member(target)
    # The activity first (every roster writer locks it), then the volunteer row with it.
    activity = Activity.objects.select_for_update().get(volunteer__pk=pk)
    found = VolunteerActivity.objects.select_related("activity__organization").get(pk=pk)
    if not may_sign_up(found, target):
        raise ValidationError({"member": f"该志愿服务活动只接受{found.activity.organization.name}的党员报名"})
    if Attendance.objects.filter(activity=activity, member=target).exists():
        return Signup(target, False)
    if timezone.now() > signup_closes(found):
        raise ValidationError({"activity": "报名已截止"})
    if found.capacity is not None:
        taken = Attendance.objects.filter(activity=activity, is_invitee=False).count()
        if taken >= found.capacity:
            raise ValidationError({"activity": f"报名人数已满（招募{found.capacity}人）"})
    # Study adds the row as the system: the sign-up rules were checked here.
    activity_roster_add(actor=None, activity=activity, member_ids=[target.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=found,
        changes={"signup": target.pk},
        message=f"{target.name}报名志愿服务",
    )
    return Signup(target, True)


@transaction.atomic
def volunteer_withdraw(*, actor: Actor, volunteer: VolunteerActivity | int, member: Any) -> bool:
    """Take back a sign-up before sign-up closes (a recorded attendance stays). Returns whether
    the member was on the roster."""
    pk = volunteer.pk if isinstance(volunteer, VolunteerActivity) else volunteer
    target = member_for(actor, member, "add")
    activity = Activity.objects.select_for_update().get(volunteer__pk=pk)
    found = VolunteerActivity.objects.select_related("activity").get(pk=pk)
    row = Attendance.objects.filter(activity=activity, member=target, is_invitee=False).first()
    if row is None:
        return False
    if row.status != AttendanceStatus.UNMARKED:
        raise ValidationError({"activity": "已登记出勤，不能取消报名"})
    if timezone.now() > signup_closes(found):
        raise ValidationError({"activity": "报名已截止，不能取消报名，如不能参加请向组织者请假"})
    activity_roster_remove(actor=None, activity=activity, member_ids=[target.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=found,
        changes={"withdraw": target.pk},
        message=f"{target.name}取消报名志愿服务",
    )
    return True


# --- export --------------------------------------------------------------------------------------

COVERAGE_UNIT_COLUMNS = (
    ExportColumn("单位党组织", 36),
    ExportColumn("是否报到", 10),
    ExportColumn("协议数", 8),
    ExportColumn("应报到在职党员", 14),
    ExportColumn("已报到", 10),
    ExportColumn("未报到", 10),
    ExportColumn("党员服务次数", 12),
    ExportColumn("服务时长（小时）", 14),
    ExportColumn("组织志愿服务活动", 14),
)
COVERAGE_MEMBER_COLUMNS = (
    ExportColumn("姓名", 12),
    ExportColumn("所在党组织", 36),
    ExportColumn("是否报到", 10),
    ExportColumn("报到社区", 30),
    ExportColumn("服务岗位", 20),
    ExportColumn("服务记录（已确认）", 16),
    ExportColumn("志愿服务活动", 12),
    ExportColumn("服务时长（小时）", 14),
)
EXPORT_CHUNK = 2000


def coverage_export(*, actor: Actor, organization: Organization, year: int) -> bytes:
    """The coverage of the subtree in the year as xlsx: the summary, each unit, and every
    in-service member expected to register (names and figures only, no personal data); one
    audit row."""
    require(actor, "export", organization, app_label=APP, message="您无权导出该组织的双报到统计")
    viewer: Any = actor
    found = coverage(user=viewer, organization=organization, year=year)
    book = XlsxExport()
    summary = book.sheet("汇总", [ExportColumn("项目", 24), ExportColumn("数值", 14)])
    totals = found.totals
    for label, value in (
        ("党组织", organization.name),
        ("年度", year),
        ("应报到单位", found.units_total),
        ("已报到单位", found.units_registered),
        ("应报到在职党员", totals.members_expected),
        ("已报到在职党员", totals.members_registered),
        ("党员服务次数", totals.services),
        ("其中服务记录（社区已确认）", totals.records),
        ("其中参加志愿服务活动", totals.volunteer),
        ("服务时长（小时）", totals.hours),
        ("组织开展志愿服务活动", totals.activities),
    ):
        summary.append([label, value])
    units = book.sheet("单位", COVERAGE_UNIT_COLUMNS)
    for row in found.units:
        f = row.figures
        units.append(
            [
                row.organization.name,
                "已报到" if row.registered else "未报到",
                row.agreements,
                f.members_expected,
                f.members_registered,
                f.members_unregistered,
                f.services,
                f.hours,
                f.activities,
            ]
        )
    people = book.sheet("在职党员", COVERAGE_MEMBER_COLUMNS)
    members = coverage_members(user=viewer, organization=organization, year=year)
    chunk: list[Member] = []
    for member in members.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(member)
        if len(chunk) >= EXPORT_CHUNK:
            _member_lines(people, member_rows(user=viewer, members=chunk, year=year))
            chunk = []
    _member_lines(people, member_rows(user=viewer, members=chunk, year=year))
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=Registration._meta.label_lower,
        object_repr=f"{organization.name} {year}年双报到统计"[:255],
        changes={"organization": organization.pk, "year": year, "members": people.rows},
        message=f"导出双报到统计（在职党员{people.rows}人）",
    )
    return book.to_bytes()


def _member_lines(sheet: Any, rows: list[Any]) -> None:
    for row in rows:
        reg = row.registration
        sheet.append(
            [
                row.member.name,
                row.member.organization.name,
                "已报到" if reg is not None else "未报到",
                reg.community_label if reg is not None else "",
                (reg.post or (reg.agreement_item.title if reg.agreement_item_id else ""))
                if reg is not None
                else "",
                row.figures.records,
                row.figures.volunteer,
                row.figures.hours,
            ]
        )

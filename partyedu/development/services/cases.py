"""Opening and closing development cases, their people, their papers, the timing rules of a subtree
and the yearly plan."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from partyedu.accounts.types import Actor
from partyedu.core import pii
from partyedu.core.audit import audit_record, diff, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.scope import is_system, require, require_policy
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.members.choices import PARTY_STATUSES, MemberStatus
from partyedu.members.idnumber import parse_id_number
from partyedu.members.models import Member
from partyedu.members.pii_index import id_number_index
from partyedu.members.services import member_leave_roll
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import Organization

from ..choices import OPEN_STAGES, DocumentKind, Stage
from ..models import CaseDocument, CaseStep, DevelopmentCase, DevelopmentPlan, DevelopmentPolicy
from ..policy import age_on, policy_for_path
from ..timing import next_steps
from .steps import APP, NOT_YOURS, _locked_case, _members

POLICY_ONLY = "发展党员时限规则由组织部门（组织部/工委管理员）设定"
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DOCUMENT_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".wps", ".ofd"})
POLICY_FIELDS = (
    "min_age",
    "talk_within_months",
    "assessment_interval_months",
    "activist_min_months",
    "sponsors_required",
    "mentors_max",
    "publicity_days",
    "approval_within_months",
    "probation_months",
    "extension_min_months",
    "extension_max_months",
    "applicant_wait_days",
    "warn_days",
)


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        raise ValidationError({field: ["请填写日期（YYYY-MM-DD）"]}) from None


@transaction.atomic
def case_create(*, actor: Actor, data: dict[str, Any]) -> DevelopmentCase:
    """Register an application (申请入党) with a branch: the applicant's name, ID number and the
    day the application was received. The applicant must be of age on that day (DOMAIN_RULES: ≥ 18,
    by the ID number's birth date); one case in progress per person."""
    unknown = sorted(set(data) - {"organization", "name", "id_number", "applied_on"})
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})
    org = data.get("organization")
    if not isinstance(org, Organization):
        org = Organization.objects.filter(pk=int(str(org))).first() if str(org or "").isdigit() else None
    if org is None:
        raise ValidationError({"organization": ["请选择党支部"]})
    require(actor, "add", org, app_label=APP, message=NOT_YOURS)
    if org.level != OrgLevel.BRANCH or not org.is_active:
        raise ValidationError({"organization": ["入党申请由党支部受理，请选择一个党支部"]})
    name = str(data.get("name") or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["请填写姓名"]
    elif len(name) > 50:
        errors["name"] = ["姓名不能超过50字"]
    try:
        info = parse_id_number(str(data.get("id_number") or ""))
    except ValidationError as exc:
        errors["id_number"] = exc.messages
        info = None
    applied_on = None
    try:
        applied_on = _date(data.get("applied_on"), "applied_on")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if applied_on and applied_on > timezone.localdate():
        errors["applied_on"] = ["申请入党日期不能晚于今天"]
    if errors:
        raise ValidationError(errors)
    assert info is not None and applied_on is not None
    rules = policy_for_path(org.path)
    age = age_on(info.birth_date, applied_on)
    if applied_on < info.birth_date or age < rules.min_age:
        raise ValidationError(
            {
                "id_number": [f"申请入党须年满{rules.min_age}岁：按身份证号，申请时为{max(age, 0)}岁"],
                "applied_on": [f"申请入党日期时未满{rules.min_age}岁"],
                "rule": ["min_age"],
            }
        )
    id_hash = id_number_index(info.number)
    member = Member.objects.filter(id_number_hash=id_hash).first()
    if member is not None and member.status in (*PARTY_STATUSES, MemberStatus.SUSPENDED):
        raise ValidationError({"id_number": [f"该身份证号已登记为{member.get_status_display()}"]})
    if DevelopmentCase.objects.filter(id_number_hash=id_hash).exclude(stage=Stage.CLOSED).exists():
        raise ValidationError({"id_number": ["该身份证号已有正在办理的发展党员记录"]})
    case = DevelopmentCase(
        organization=org,
        name=name,
        gender=info.gender,
        birth_date=info.birth_date,
        id_number=info.number,
        id_number_hash=id_hash,
        id_number_masked=pii.mask_id_number(info.number),
        applied_on=applied_on,
        last_step_on=applied_on,
    )
    case.next_due = min((n.due for n in next_steps(case, [], rules) if n.due), default=None)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise ValidationError({"id_number": ["该身份证号已有正在办理的发展党员记录"]}) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=case,
        changes={"after": {"organization": org.pk, "name": name, "applied_on": str(applied_on)}},
    )
    return case


@transaction.atomic
def case_close(
    *, actor: Actor, case: DevelopmentCase, reason: str, day: date | None = None
) -> DevelopmentCase:
    """Close a case before admission (the applicant withdrew, was not selected, moved away …) with
    a reason; an activist's or candidate's member record leaves the roll with it. An admitted
    预备党员's case ends only through the conversion decision."""
    case = _locked_case(case)
    require(actor, "change", case.organization, app_label=APP, message=NOT_YOURS)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写终止原因"]})
    if len(reason) > 200:
        raise ValidationError({"reason": ["终止原因不能超过200字"]})
    if case.stage not in (Stage.APPLIED, Stage.TALKED, Stage.ACTIVIST, Stage.CANDIDATE):
        raise ValidationError({"stage": [f"{case.get_stage_display()}不能终止；预备党员通过转正讨论决定"]})
    day = day or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"day": ["终止日期不能晚于今天"]})
    if day < case.last_step_on:
        raise ValidationError({"day": [f"终止日期不能早于最近步骤日期 {case.last_step_on:%Y-%m-%d}"]})
    before = case.stage
    case.stage = Stage.CLOSED
    case.closed_on = day
    case.closed_reason = reason
    case.next_due = None
    case.save()
    if case.member is not None and case.member.is_active:
        member_leave_roll(actor=None, member=case.member, reason=f"发展党员终止：{reason}")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        changes={"stage": [before, case.stage]},
        message=reason,
    )
    return case


@transaction.atomic
def case_people_set(
    *,
    actor: Actor,
    case: DevelopmentCase,
    mentors: list[Any] | None = None,
    sponsors: list[Any] | None = None,
) -> DevelopmentCase:
    """Change the 培养联系人 (1 to the policy's maximum, while an activist or candidate) or the
    入党介绍人 (the policy's number, from becoming 发展对象 until admission): full members only."""
    case = _locked_case(case)
    require(actor, "change", case.organization, app_label=APP, message=NOT_YOURS)
    rules = policy_for_path(case.organization.path)
    changes: dict[str, Any] = {}
    if mentors is not None:
        if case.stage not in (Stage.ACTIVIST, Stage.CANDIDATE):
            raise ValidationError({"mentors": ["确定为入党积极分子后、接收为预备党员前可调整培养联系人"]})
        people = _members(case, mentors, "mentors") or []
        _full_only(people, "mentors", "培养联系人")
        if not 1 <= len(people) <= rules.mentors_max:
            raise ValidationError({"mentors": [f"请指定1至{rules.mentors_max}名培养联系人"]})
        changes["mentors"] = [sorted(case.mentors.values_list("pk", flat=True)), sorted(p.pk for p in people)]
        case.mentors.set(people)
    if sponsors is not None:
        if case.stage != Stage.CANDIDATE:
            raise ValidationError({"sponsors": ["确定为发展对象后、支部大会讨论前可确定入党介绍人"]})
        people = _members(case, sponsors, "sponsors") or []
        _full_only(people, "sponsors", "入党介绍人")
        if len(people) > rules.sponsors_required:
            raise ValidationError({"sponsors": [f"入党介绍人为{rules.sponsors_required}名"]})
        changes["sponsors"] = [
            sorted(case.sponsors.values_list("pk", flat=True)),
            sorted(p.pk for p in people),
        ]
        case.sponsors.set(people)
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, changes=changes)
    return case


def _full_only(people: list[Member], field: str, label: str) -> None:
    not_full = [m.name for m in people if m.status != MemberStatus.FULL]
    if not_full:
        raise ValidationError({field: [f"{label}应为正式党员：{'、'.join(not_full)}不是正式党员"]})


@transaction.atomic
def document_add(
    *, actor: Actor, case: DevelopmentCase, kind: str, file: UploadedFile, step: CaseStep | None = None
) -> CaseDocument:
    """File a scan of the dossier under its kind (PDF, image, Word/WPS/OFD; at most 20 MB)."""
    case = _locked_case(case)
    require(actor, "change", case.organization, app_label=APP, message=NOT_YOURS)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": ["请选择材料类型"]})
    name = PurePath(getattr(file, "name", "") or "").name
    if PurePath(name).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise ValidationError({"file": ["请上传 PDF、JPG、PNG、Word、WPS 或 OFD 文件"]})
    if (getattr(file, "size", 0) or 0) > DOCUMENT_MAX_BYTES:
        raise ValidationError({"file": ["文件不能超过20MB"]})
    if step is not None and step.case_id != case.pk:
        raise ValidationError({"step": ["步骤不属于该发展党员"]})
    doc = CaseDocument(
        case=case,
        step=step,
        kind=kind,
        file=file,
        name=name[:200],
        uploaded_by=None if is_system(actor) else actor,
    )
    doc.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=doc, changes={"after": {"kind": kind, "name": doc.name}}
    )
    return doc


@transaction.atomic
def document_remove(*, actor: Actor, document: CaseDocument) -> None:
    case = _locked_case(document.case)
    require(actor, "change", case.organization, app_label=APP, message=NOT_YOURS)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=document,
        changes={"before": {"kind": document.kind, "name": document.name}},
    )
    document.file.delete(save=False)
    document.delete()


@transaction.atomic
def policy_set(*, actor: Actor, organization: Organization, data: dict[str, Any]) -> DevelopmentPolicy:
    """Set the timing rules of member development over ``organization``'s subtree (org_admin)."""
    require_policy(actor, organization, POLICY_ONLY)
    policy = DevelopmentPolicy.objects.select_for_update().filter(organization=organization).first()
    creating = policy is None
    policy = policy or DevelopmentPolicy(organization=organization)
    before = snapshot(policy, POLICY_FIELDS)
    unknown = sorted(set(data) - set(POLICY_FIELDS))
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})
    for field, value in data.items():
        setattr(policy, field, value)
    policy.full_clean(exclude=["organization"])
    if policy.extension_min_months > policy.extension_max_months:
        raise ValidationError({"extension_min_months": ["延长预备期最短月数不能大于最长月数"]})
    policy.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        obj=policy,
        changes=diff(before, snapshot(policy, POLICY_FIELDS)),
    )
    return policy


@transaction.atomic
def policy_reset(*, actor: Actor, organization: Organization) -> None:
    """Drop the subtree's own rules: the rules above it (or the defaults) apply again."""
    require_policy(actor, organization, POLICY_ONLY)
    policy = DevelopmentPolicy.objects.filter(organization=organization).first()
    if policy is None:
        return
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=policy,
        changes={"before": snapshot(policy, POLICY_FIELDS)},
    )
    policy.delete()


@transaction.atomic
def plan_set(
    *, actor: Actor, organization: Organization, year: int, planned: int, note: str = ""
) -> DevelopmentPlan:
    """Set an organisation's development plan for a year (发展党员计划): the org_admin over it."""
    require_policy(actor, organization, "发展党员计划由组织部门（组织部/工委管理员）设定")
    if not YEAR_MIN <= int(year) <= YEAR_MAX:
        raise ValidationError({"year": [f"年度应在{YEAR_MIN}至{YEAR_MAX}之间"]})
    if int(planned) < 0:
        raise ValidationError({"planned": ["计划人数不能为负数"]})
    plan, created = DevelopmentPlan.objects.select_for_update().get_or_create(
        organization=organization,
        year=int(year),
        defaults={"planned": int(planned), "note": note.strip()[:200]},
    )
    before = {"planned": plan.planned, "note": plan.note}
    if not created:
        plan.planned = int(planned)
        plan.note = note.strip()[:200]
        plan.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=plan,
        changes={"after": {"planned": plan.planned}}
        if created
        else diff(before, {"planned": plan.planned, "note": plan.note}),
    )
    return plan


__all__ = ["OPEN_STAGES"]

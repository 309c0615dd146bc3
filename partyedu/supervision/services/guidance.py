"""Writes of the guidance area: guidance teams (and the 督导员 roles they confer), inspection
visits, rectification items (raised, closed with evidence, reopened) and 党课巡听 scores.

Each service runs in one transaction, checks the actor's scope, validates before writing and
writes its audit row. Teams are set up by the organisation departments (org_admin holding
``supervision.change`` at the owning organisation); a team member gets the inspector role at
each organisation the team covers through the accounts services (audited, grants cache reset),
and loses only the assignments a team created once no active team needs them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.accounts.models import Role, RoleAssignment, User
from partyedu.accounts.services import role_assign, role_revoke
from partyedu.core.audit import audit_record, snapshot
from partyedu.core.choices import AuditAction
from partyedu.core.notifications import notify
from partyedu.core.scope import require, require_policy
from partyedu.core.types import BaseActor
from partyedu.lectures.models import Lecture
from partyedu.organizations.models import Organization, ancestor_paths

from ..models.guidance import (
    GuidanceCoverage,
    GuidanceRoleGrant,
    GuidanceTeam,
    GuidanceTeamMember,
    Inspection,
    InspectionKind,
    LectureInspection,
    RectificationEvent,
    RectificationEventKind,
    RectificationItem,
    RectificationStatus,
)
from ..selectors.guidance import can_inspect, may_reopen

APP = "supervision"
TEAM_POLICY = "巡回指导组由组织部门设立和调整"
NOT_INSPECTOR = "您不是负责该组织的督导人员"
TEAM_FIELDS = ("organization", "name", "year", "is_active", "leader", "description")
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _user(actor: BaseActor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _require_team_admin(actor: BaseActor, organization: Organization, action: str = "change") -> None:
    require(actor, action, organization, app_label=APP, message=TEAM_POLICY)
    require_policy(actor, organization, TEAM_POLICY)


# --- the inspector roles a team confers ---------------------------------------------------------------


def _inspector_role() -> Role:
    role = Role.objects.filter(code=RoleCode.INSPECTOR).first()
    if role is None:
        raise ValidationError({"__all__": ["系统中没有督导员角色，请联系安全管理员"]})
    return role


def inspector_roles_sync(*, user_ids: Iterable[int]) -> tuple[int, int]:
    """Bring the 督导员 role assignments of these users in step with the active teams they belong
    to: assign the role at each covered organisation where they lack it (remembering that a team
    created it), and revoke the team-created assignments no active team needs any more. Returns
    (assigned, revoked). Run inside the team service's transaction; acts as the system, since the
    department's own right to set up the team was checked by the caller."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0, 0
    role = _inspector_role()
    needed = set(
        GuidanceCoverage.objects.filter(team__is_active=True, team__members__user_id__in=ids).values_list(
            "team__members__user_id", "organization_id"
        )
    )
    existing = {
        (a.user_id, a.organization_id): a
        for a in RoleAssignment.objects.filter(user_id__in=ids, role=role).select_related(
            "guidance_grant", "user", "organization"
        )
    }
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in={org for _, org in needed})}
    assigned = revoked = 0
    for user_id, org_id in sorted(needed - set(existing)):
        assignment = role_assign(
            actor=None, user=users[user_id], role_code=RoleCode.INSPECTOR, organization=orgs[org_id]
        )
        GuidanceRoleGrant.objects.get_or_create(assignment=assignment)
        assigned += 1
    for key, assignment in existing.items():
        if key in needed:
            continue
        if getattr(assignment, "guidance_grant", None) is None:
            continue  # given by the security administrator, not by a team: never removed here
        role_revoke(actor=None, assignment=assignment)
        revoked += 1
    return assigned, revoked


# --- teams ------------------------------------------------------------------------------------------


def _clean_team(team: GuidanceTeam) -> None:
    errors: dict[str, list[str]] = {}
    if not (team.name or "").strip():
        errors["name"] = ["请填写指导组名称"]
    if not team.year or not 2000 <= int(team.year) <= 2100:
        errors["year"] = ["年度应为 2000–2100 之间的年份"]
    if errors:
        raise ValidationError(errors)
    team.name = team.name.strip()
    dup = GuidanceTeam.objects.filter(organization=team.organization, year=team.year, name=team.name)
    if team.pk:
        dup = dup.exclude(pk=team.pk)
    if dup.exists():
        raise ValidationError({"name": ["本单位该年度已有同名指导组"]})
    team.full_clean()


@transaction.atomic
def guidance_team_create(
    *,
    actor: BaseActor,
    organization: Organization,
    name: str,
    year: int,
    leader: User | None = None,
    members: Iterable[User] = (),
    description: str = "",
) -> GuidanceTeam:
    """A new team owned by ``organization``; the leader is one of its members."""
    _require_team_admin(actor, organization, "add")
    team = GuidanceTeam(
        organization=organization,
        name=name,
        year=year,
        leader=leader,
        description=description.strip(),
        created_by=_user(actor),
    )
    _clean_team(team)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": ["本单位该年度已有同名指导组"]}) from None
    people = {u.pk: u for u in members}
    if leader is not None:
        people.setdefault(leader.pk, leader)
    GuidanceTeamMember.objects.bulk_create([GuidanceTeamMember(team=team, user=u) for u in people.values()])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=team,
        changes={"after": {**snapshot(team, TEAM_FIELDS), "members": sorted(people)}},
    )
    return team


@transaction.atomic
def guidance_team_update(*, actor: BaseActor, team: GuidanceTeam, data: dict[str, Any]) -> GuidanceTeam:
    """Change name, year, leader, description or the active flag; deactivating removes the
    inspector roles the team conferred (unless another active team needs them)."""
    team = GuidanceTeam.objects.select_for_update().get(pk=team.pk)
    _require_team_admin(actor, team.organization)
    before = snapshot(team, TEAM_FIELDS)
    for field in ("name", "year", "leader", "description", "is_active"):
        if field in data:
            setattr(team, field, data[field])
    _clean_team(team)
    team.save()
    if team.leader_id:
        GuidanceTeamMember.objects.get_or_create(team=team, user_id=team.leader_id)
    if before["is_active"] != team.is_active or before["leader"] != team.leader_id:
        inspector_roles_sync(user_ids=team.members.values_list("user_id", flat=True))
    changes = {k: [before.get(k), v] for k, v in snapshot(team, TEAM_FIELDS).items() if before.get(k) != v}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=team, changes=changes)
    return team


@transaction.atomic
def guidance_member_add(*, actor: BaseActor, team: GuidanceTeam, user: User) -> GuidanceTeamMember:
    """Add a 督导员 to the team (idempotent); they get the inspector role where the team covers."""
    _require_team_admin(actor, team.organization)
    if not user.is_active:
        raise ValidationError({"user": ["该账号已停用"]})
    member, created = GuidanceTeamMember.objects.get_or_create(team=team, user=user)
    if created:
        inspector_roles_sync(user_ids=[user.pk])
        audit_record(actor=actor, action=AuditAction.CREATE, obj=member, changes={"user": user.username})
    return member


@transaction.atomic
def guidance_member_remove(*, actor: BaseActor, member: GuidanceTeamMember) -> None:
    team = member.team
    _require_team_admin(actor, team.organization)
    if team.leader_id == member.user_id:
        raise ValidationError({"user": ["组长不能移出，请先更换组长"]})
    user_id = member.user_id
    audit_record(actor=actor, action=AuditAction.DELETE, obj=member, changes={"user": member.user.username})
    GuidanceCoverage.objects.filter(team=team, contact_id=user_id).update(contact=None)
    member.delete()
    inspector_roles_sync(user_ids=[user_id])


@transaction.atomic
def guidance_coverage_add(
    *, actor: BaseActor, team: GuidanceTeam, organization: Organization, contact: User | None = None
) -> GuidanceCoverage:
    """The team covers ``organization`` (and its subtree), with ``contact`` (a team member) as the
    named contact; adding again changes the contact."""
    _require_team_admin(actor, team.organization)
    if not organization.path.startswith(team.organization.path):
        raise ValidationError({"organization": ["联系组织须在指导组组建单位的下级范围内"]})
    if not organization.is_active:
        raise ValidationError({"organization": ["该组织已撤销"]})
    if contact is not None and not GuidanceTeamMember.objects.filter(team=team, user=contact).exists():
        raise ValidationError({"contact": ["联系人须为本指导组成员"]})
    coverage, created = GuidanceCoverage.objects.get_or_create(
        team=team, organization=organization, defaults={"contact": contact}
    )
    if not created and coverage.contact_id != (contact.pk if contact else None):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=coverage,
            changes={"contact": [coverage.contact_id, contact.pk if contact else None]},
        )
        coverage.contact = contact
        coverage.save(update_fields=["contact", "updated_at"])
    if created:
        inspector_roles_sync(user_ids=team.members.values_list("user_id", flat=True))
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=coverage,
            changes={"organization": organization.code, "contact": contact.pk if contact else None},
        )
    return coverage


@transaction.atomic
def guidance_coverage_remove(*, actor: BaseActor, coverage: GuidanceCoverage) -> None:
    team = coverage.team
    _require_team_admin(actor, team.organization)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=coverage,
        changes={"organization": coverage.organization.code},
    )
    coverage.delete()
    inspector_roles_sync(user_ids=team.members.values_list("user_id", flat=True))


# --- inspections and rectification items --------------------------------------------------------------


def _secretaries(organization: Organization) -> list[User]:
    """Who answers for an organisation's rectification: its branch secretaries (branch_admin held
    at the organisation itself), else the org_admins held there."""
    for code in (RoleCode.BRANCH_ADMIN, RoleCode.ORG_ADMIN):
        users = list(
            User.objects.filter(
                role_assignments__organization=organization, role_assignments__role__code=code, is_active=True
            ).distinct()
        )
        if users:
            return users
    return []


def _item_url(item: RectificationItem) -> str:
    return reverse("supervision:rectification_detail", args=[item.pk])


@transaction.atomic
def inspection_record(
    *,
    actor: BaseActor,
    organization: Organization,
    kind: str,
    visited_on: date,
    findings: str,
    team: GuidanceTeam | None = None,
    inspectors: Iterable[User] | None = None,
    items: Iterable[dict[str, Any]] = (),
    today: date | None = None,
) -> Inspection:
    """Record a visit to ``organization`` by a member of a team covering it (or the level above),
    with its rectification items (``description``, ``due_on``, optional ``organization`` in the
    visited subtree)."""
    today = today or timezone.localdate()
    if not can_inspect(actor, organization):
        raise PermissionDenied(NOT_INSPECTOR)
    errors: dict[str, list[str]] = {}
    if kind not in InspectionKind.values:
        errors["kind"] = ["请选择类型（调研、督导或巡回指导）"]
    if visited_on is None or visited_on > today:
        errors["visited_on"] = ["日期不能晚于今天"]
    if not (findings or "").strip():
        errors["findings"] = ["请填写发现的问题和情况"]
    if (
        team is not None
        and not GuidanceCoverage.objects.filter(
            team=team, organization__path__in=ancestor_paths(organization.path)
        ).exists()
    ):
        errors["team"] = ["该指导组不联系这个组织"]
    if errors:
        raise ValidationError(errors)
    inspection = Inspection(
        organization=organization,
        team=team,
        kind=kind,
        visited_on=visited_on,
        findings=findings.strip(),
        created_by=_user(actor),
    )
    inspection.full_clean()
    inspection.save()
    actor_user = _user(actor)
    people: list[Any] = list(inspectors) if inspectors is not None else ([actor_user] if actor_user else [])
    inspection.inspectors.set(people)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=inspection,
        changes={"after": snapshot(inspection, ("organization", "team", "kind", "visited_on"))},
    )
    for index, data in enumerate(items):
        try:
            rectification_item_create(
                actor=actor,
                inspection=inspection,
                description=data.get("description", ""),
                due_on=data.get("due_on"),
                organization=data.get("organization"),
            )
        except ValidationError as exc:
            raise ValidationError(
                {
                    f"items.{index}.{field}": [f"第{index + 1}项整改事项：{m}" for m in msgs]
                    for field, msgs in exc.message_dict.items()
                }
            ) from None
    return inspection


@transaction.atomic
def rectification_item_create(
    *,
    actor: BaseActor,
    inspection: Inspection,
    description: str,
    due_on: date | None,
    organization: Organization | None = None,
) -> RectificationItem:
    """A rectification item of an inspection, for the visited organisation or one below it; its
    secretaries are notified."""
    organization = organization or inspection.organization
    actor_user = _user(actor)
    if not (
        can_inspect(actor, inspection.organization)
        or (actor_user is not None and inspection.created_by_id == actor_user.pk)
    ):
        raise PermissionDenied(NOT_INSPECTOR)
    errors: dict[str, list[str]] = {}
    if not (description or "").strip():
        errors["description"] = ["请填写整改事项"]
    if due_on is None:
        errors["due_on"] = ["请填写整改期限"]
    elif due_on < inspection.visited_on:
        errors["due_on"] = ["整改期限不能早于调研督导日期"]
    if not organization.path.startswith(inspection.organization.path):
        errors["organization"] = ["整改组织须为被检查组织或其下级"]
    if errors or due_on is None:
        raise ValidationError(errors)
    item = RectificationItem(
        inspection=inspection,
        organization=organization,
        description=description.strip(),
        due_on=due_on,
        created_by=_user(actor),
    )
    item.full_clean()
    item.save()
    RectificationEvent.objects.create(item=item, kind=RectificationEventKind.CREATED, actor=_user(actor))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=item,
        changes={"after": snapshot(item, ("inspection", "organization", "due_on", "status"))},
    )
    notify(
        users=_secretaries(organization),
        kind="rectification",
        title=f"新的整改事项：{item.description[:30]}",
        url=_item_url(item),
        body=f"{organization.name}，整改期限 {due_on:%Y-%m-%d}",
        key=f"supervision.rectification:{item.pk}:created",
    )
    return item


def _locked(item: RectificationItem) -> RectificationItem:
    return RectificationItem.objects.select_for_update().select_related("organization").get(pk=item.pk)


@transaction.atomic
def rectification_item_close(
    *, actor: BaseActor, item: RectificationItem, note: str, file: UploadedFile | None = None
) -> RectificationItem:
    """The organisation closes an item (销号) with a note of what was done and optional evidence."""
    require(actor, "change", item.organization, app_label=APP, message="只有整改组织可以销号")
    item = _locked(item)
    errors: dict[str, list[str]] = {}
    if item.status != RectificationStatus.OPEN:
        errors["status"] = ["该整改事项已销号"]
    if not (note or "").strip():
        errors["note"] = ["请填写整改情况说明"]
    if file is not None and file.size and file.size > MAX_EVIDENCE_BYTES:
        errors["file"] = ["佐证材料不能超过20MB"]
    if errors:
        raise ValidationError(errors)
    item.status = RectificationStatus.CLOSED
    item.evidence_note = note.strip()
    if file is not None:
        item.evidence_file = file
    item.closed_by = _user(actor)
    item.closed_at = timezone.now()
    item.full_clean()
    item.save()
    RectificationEvent.objects.create(
        item=item, kind=RectificationEventKind.CLOSED, actor=_user(actor), note=item.evidence_note
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=item,
        changes={"status": [RectificationStatus.OPEN, RectificationStatus.CLOSED]},
        message=item.evidence_note,
    )
    return item


@transaction.atomic
def rectification_item_reopen(*, actor: BaseActor, item: RectificationItem, reason: str) -> RectificationItem:
    """The issuer sends a closed item back with a reason; the organisation is notified."""
    item = RectificationItem.objects.select_related(
        "inspection__team__organization", "inspection__organization"
    ).get(pk=item.pk)
    if not may_reopen(actor, item):
        raise PermissionDenied("只有提出整改的督导人员或组织部门可以退回")
    item = _locked(item)
    errors: dict[str, list[str]] = {}
    if item.status != RectificationStatus.CLOSED:
        errors["status"] = ["该整改事项尚未销号"]
    if not (reason or "").strip():
        errors["reason"] = ["请填写退回原因"]
    if errors:
        raise ValidationError(errors)
    item.status = RectificationStatus.OPEN
    item.closed_at = None
    item.closed_by = None
    item.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
    event = RectificationEvent.objects.create(
        item=item, kind=RectificationEventKind.REOPENED, actor=_user(actor), note=reason.strip()
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=item,
        changes={"status": [RectificationStatus.CLOSED, RectificationStatus.OPEN]},
        message=reason.strip(),
    )
    notify(
        users=_secretaries(item.organization),
        kind="rectification",
        title=f"整改事项被退回：{item.description[:30]}",
        url=_item_url(item),
        body=reason.strip(),
        key=f"supervision.rectification:{item.pk}:reopened:{event.pk}",
    )
    return item


def rectification_due_notify(*, today: date | None = None) -> int:
    """Notify the secretaries of each open item that has reached its due date, once per item
    (the key makes a rerun add nothing); run nightly by the housekeeping."""
    today = today or timezone.localdate()
    sent = 0
    items = RectificationItem.objects.filter(
        status=RectificationStatus.OPEN, due_on__lte=today
    ).select_related("organization")
    for item in items.iterator(chunk_size=500):
        with transaction.atomic():
            sent += notify(
                users=_secretaries(item.organization),
                kind="rectification",
                title=f"整改事项到期：{item.description[:30]}",
                url=_item_url(item),
                body=f"{item.organization.name}，整改期限 {item.due_on:%Y-%m-%d}",
                key=f"supervision.rectification:{item.pk}:due",
            )
    return sent


# --- 党课巡听 -----------------------------------------------------------------------------------------


SCORE_LABELS = {
    "content_score": "内容准确",
    "relevance_score": "联系实际",
    "delivery_score": "讲授效果",
    "order_score": "时间与秩序",
}


@transaction.atomic
def lecture_inspection_record(
    *, actor: BaseActor, lecture: Lecture, scores: dict[str, Any], comment: str = ""
) -> LectureInspection:
    """An inspector's 党课巡听 score of a lecture (1–5 on each rubric item); scoring again changes
    their own. Only a lecture already given may be scored."""
    user = _user(actor)
    if user is None:
        raise PermissionDenied(NOT_INSPECTOR)
    organization = Organization.objects.get(pk=lecture.organization_id)
    if not can_inspect(actor, organization):
        raise PermissionDenied(NOT_INSPECTOR)
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for field, label in SCORE_LABELS.items():
        raw = scores.get(field)
        try:
            value = int(str(raw))
        except (TypeError, ValueError):
            errors[field] = [f"请为“{label}”打分（1–5分）"]
            continue
        if not 1 <= value <= 5:
            errors[field] = [f"“{label}”应为1–5分"]
        values[field] = value
    if lecture.start > timezone.now():
        errors["__all__"] = ["党课尚未开讲，不能巡听评分"]
    if errors:
        raise ValidationError(errors)
    row, created = LectureInspection.objects.select_for_update().get_or_create(
        lecture=lecture, inspector=user, defaults={**values, "comment": comment.strip()}
    )
    before = snapshot(row, (*SCORE_LABELS, "comment"))
    if not created:
        for field, value in values.items():
            setattr(row, field, value)
        row.comment = comment.strip()
    row.full_clean()
    row.save()
    after = snapshot(row, (*SCORE_LABELS, "comment"))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=row,
        changes={"after": after}
        if created
        else {k: [before[k], v] for k, v in after.items() if before[k] != v},
    )
    return row


@transaction.atomic
def guidance_team_set(
    *,
    actor: BaseActor,
    team: GuidanceTeam,
    members: Iterable[User],
    coverage: Iterable[tuple[Organization, str]],
) -> GuidanceTeam:
    """Make the team's members and covered organisations exactly these (the leader stays a member;
    a contact is given by user name and must be a member). Roles follow in the same transaction."""
    _require_team_admin(actor, team.organization)
    wanted = {u.pk: u for u in members}
    if team.leader_id:
        wanted.setdefault(team.leader_id, User.objects.get(pk=team.leader_id))
    current = {m.user_id: m for m in team.members.select_related("user")}
    for user_id, user in wanted.items():
        if user_id not in current:
            guidance_member_add(actor=actor, team=team, user=user)
    by_name = {u.username: u for u in wanted.values()}
    rows = list(coverage)
    unknown = [name for _org, name in rows if name and name not in by_name]
    if unknown:
        raise ValidationError({"coverage": [f"联系人须为本指导组成员：{'、'.join(unknown)}"]})
    wanted_orgs = {org.pk for org, _name in rows}
    for existing in list(team.coverage.select_related("organization")):
        if existing.organization_id not in wanted_orgs:
            guidance_coverage_remove(actor=actor, coverage=existing)
    for org, name in rows:
        guidance_coverage_add(
            actor=actor, team=team, organization=org, contact=by_name.get(name) if name else None
        )
    for user_id, member in current.items():
        if user_id not in wanted:
            guidance_member_remove(actor=actor, member=member)
    return team

"""The demo's 双报到 and volunteer service (issue 16), written after the study year and before the
points:

- **Agreements.** Most of the city's 机关 units (the units of ``selectors_registration.unit_q`` of
  the type 机关: bureaus under the 机关工委, street and township offices) have signed a 共驻共建
  agreement last spring with a community of their own district, with its three lists — needs,
  resources, and projects with an owner, a due date and progress. About one unit in seven has not
  (the coverage page lists them).
- **Registrations.** Most in-service members expected to register (正式/预备党员, 在职, of a 机关,
  事业单位 or 国有企业 party organisation) have registered — in the community their unit signed
  with, another community of the district, or an outside one by name — with a post, some taking on
  a project of their unit; some have not. member1 (branch_sec's branch) is left unregistered, so a
  visitor registers as them on the phone.
- **Service records.** Registered members have served a few times in the last twelve months
  (1–4 hours a day, one record a day at most): older records mostly confirmed by the community side,
  a few not (with the reason), the last fortnight's still waiting — so the community side's
  workbench has records to confirm.
- **Volunteer activities.** A few, through the services: two held by branch_sec's branch and two by
  a 机关 unit in the past months with their sign-ups and attendance (出席, 迟到, a few 缺席), one
  coming up in branch_sec's branch with places left (member1 not signed up) and one coming up at the
  unit.

Agreements, items, registrations and records are written in bulk (as the services would leave
them; one audit row for the lot), the volunteer activities through the services. Deterministic for
a seed (``random.Random(f"{seed}-service-registration")``) and a day; seeding again adds nothing
(it stops when any agreement exists)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from partyedu.accounts.models import RoleAssignment, User
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgType
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.service.choices import ItemStatus, ListKind, RecordStatus, ServiceKind
from partyedu.service.models import Agreement, AgreementItem, Registration, ServiceRecord
from partyedu.service.selectors_registration import expected_members, unit_q
from partyedu.service.services.figures import records_rebuild
from partyedu.service.services.registration import volunteer_activity_create
from partyedu.study.services import activity_roster_add, attendance_mark

BATCH = 2000
UNSIGNED_SHARE = 1 / 7
NEEDS = (
    "老旧小区加装电梯政策宣传",
    "独居老人定期探访",
    "小区环境卫生整治",
    "青少年暑期课业辅导",
    "疫苗接种现场秩序维护",
    "反诈防骗知识宣传",
    "社区文化活动场地",
    "垃圾分类宣传引导",
)
RESOURCES = (
    "机关志愿服务队",
    "法律政策咨询",
    "党员先锋岗",
    "业务骨干结对帮扶",
    "会议室和活动场地开放",
    "健康义诊",
    "科普讲座",
)
PROJECTS = (
    "科普进社区",
    "“周末卫生日”环境整治",
    "老年人智能手机培训",
    "困难家庭结对帮扶",
    "社区议事会共商",
    "楼道文明劝导",
    "文明城市创建志愿服务",
)
POSTS = (
    "政策宣传员",
    "楼栋联络员",
    "文明劝导员",
    "环境卫生监督员",
    "平安巡逻员",
    "助老服务员",
    "文化活动辅导员",
)
OUTSIDE_COMMUNITIES = ("外县老家村社区", "邻市居住地社区", "市外社区")
KINDS = (
    (ServiceKind.POLICY, 24),
    (ServiceKind.ELDERLY, 18),
    (ServiceKind.ENVIRONMENT, 22),
    (ServiceKind.VACCINATION, 8),
    (ServiceKind.SAFETY, 12),
    (ServiceKind.CULTURE, 10),
    (ServiceKind.OTHER, 6),
)
DESCRIPTIONS = {
    ServiceKind.POLICY: ("入户宣传惠民政策", "社区政策宣讲", "反诈宣传进楼栋"),
    ServiceKind.ELDERLY: ("探访独居老人", "帮老人代购生活用品", "陪同老人就医"),
    ServiceKind.ENVIRONMENT: ("清理楼道杂物", "小区卫生整治", "垃圾分类引导"),
    ServiceKind.VACCINATION: ("协助疫苗接种登记", "接种点秩序维护"),
    ServiceKind.SAFETY: ("夜间平安巡逻", "消防安全检查"),
    ServiceKind.CULTURE: ("组织社区文艺活动", "文明实践站值守"),
    ServiceKind.OTHER: ("协助社区开展活动",),
}
HOURS = (Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("2"), Decimal("2.5"), Decimal("3"), Decimal("4"))
REJECT_REASONS = ("当天社区未安排此项服务", "时长与登记不符，请核实后重新登记")


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _home_branch() -> Organization | None:
    found = RoleAssignment.objects.filter(user__username="branch_sec").select_related("organization").first()
    return found.organization if found is not None else None


def _district_of(path: str) -> str:
    return path[: 2 * SEGMENT_WIDTH]


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _w in pairs], weights=[w for _v, w in pairs])[0]


def _communities() -> dict[str, list[Organization]]:
    """The head organisation of each community, by district path."""
    from partyedu.organizations.choices import OrgLevel

    levels = (OrgLevel.COMMITTEE, OrgLevel.GENERAL_BRANCH, OrgLevel.BRANCH)
    found: dict[str, list[Organization]] = {}
    for org in (
        Organization.objects.filter(org_type=OrgType.COMMUNITY, level__in=levels, is_active=True)
        .exclude(parent__org_type=OrgType.COMMUNITY, parent__level__in=levels)
        .only("pk", "name", "path")
        .order_by("path")
    ):
        found.setdefault(_district_of(org.path), []).append(org)
    return found


def _agreements(
    rng: random.Random, today: date, communities: dict[str, list[Organization]]
) -> tuple[list[Organization], dict[int, Agreement], list[AgreementItem]]:
    """Agreements of most 机关 units with a community of their district, signed last spring."""
    units = list(Organization.objects.filter(unit_q(), org_type=OrgType.ORGAN).order_by("path"))
    # About one unit in seven has not signed (at least one, when there are two or more).
    unsigned = (
        {u.pk for u in rng.sample(units, max(1, round(len(units) * UNSIGNED_SHARE)))}
        if len(units) > 1
        else set()
    )
    signed: dict[int, Agreement] = {}
    rows: list[Agreement] = []
    for unit in units:
        nearby = communities.get(_district_of(unit.path)) or [c for cs in communities.values() for c in cs]
        if not nearby or unit.pk in unsigned:
            continue
        community = rng.choice(nearby)
        agreement = Agreement(
            organization=unit,
            community=community,
            signed_on=date(today.year - 1, rng.randint(2, 5), rng.randint(1, 28)),
            note="共驻共建，资源共享，优势互补",
        )
        rows.append(agreement)
        signed[unit.pk] = agreement
    Agreement.objects.bulk_create(rows, batch_size=BATCH)
    items: list[AgreementItem] = []
    for agreement in signed.values():
        owner = _owner(agreement.organization)
        for title in rng.sample(NEEDS, 2):
            items.append(AgreementItem(agreement=agreement, kind=ListKind.NEED, title=title))
        for title in rng.sample(RESOURCES, 2):
            items.append(AgreementItem(agreement=agreement, kind=ListKind.RESOURCE, title=title))
        for title in rng.sample(PROJECTS, 2):
            status = rng.choice(
                (ItemStatus.DONE, ItemStatus.IN_PROGRESS, ItemStatus.IN_PROGRESS, ItemStatus.PLANNED)
            )
            due = date(today.year, rng.randint(6, 12), 28)
            items.append(
                AgreementItem(
                    agreement=agreement,
                    kind=ListKind.PROJECT,
                    title=title,
                    owner=owner,
                    due=due,
                    status=status,
                    done_on=min(today, due) - timedelta(days=rng.randint(0, 60))
                    if status == ItemStatus.DONE
                    else None,
                )
            )
    AgreementItem.objects.bulk_create(items, batch_size=BATCH)
    return units, signed, items


def _owner(unit: Organization) -> str:
    """A project's owner: the first member of the unit (a unit has a few dozen at most)."""
    name = (
        Member.objects.filter(org_path__startswith=unit.path, is_active=True)
        .order_by("org_path", "pk")
        .values_list("name", flat=True)
        .first()
    )
    return name or f"{unit.name}书记"


def _unit_of(path: str, unit_paths: dict[str, int]) -> int | None:
    for end in range(len(path), 0, -SEGMENT_WIDTH):
        found = unit_paths.get(path[:end])
        if found is not None:
            return found
    return None


def _registrations(
    rng: random.Random,
    today: date,
    units: list[Organization],
    signed: dict[int, Agreement],
    items: list[AgreementItem],
    communities: dict[str, list[Organization]],
    member1: Member | None,
) -> list[Registration]:
    unit_paths = {u.path: u.pk for u in units}
    projects: dict[int, list[AgreementItem]] = {}
    for line in items:
        if line.kind == ListKind.PROJECT:
            projects.setdefault(line.agreement.organization_id, []).append(line)
    expected = expected_members(Member.objects.all()).order_by("pk").values_list("pk", "org_path")
    rows = []
    start = date(today.year - 1, 3, 1)
    span = max((today - start).days, 1)
    for pk, org_path in expected:
        if member1 is not None and pk == member1.pk:
            continue
        unit = _unit_of(org_path, unit_paths)
        agreement = signed.get(unit) if unit is not None else None
        if rng.random() > (0.88 if agreement is not None else 0.45):
            continue  # not registered (yet)
        nearby = communities.get(_district_of(org_path)) or []
        u = rng.random()
        community: Organization | None = None
        name = ""
        item: AgreementItem | None = None
        if agreement is not None and u < 0.7:
            community = agreement.community
            if rng.random() < 0.3 and projects.get(agreement.organization_id):
                item = rng.choice(projects[agreement.organization_id])
        elif nearby and u < 0.92:
            community = rng.choice(nearby)
        else:
            name = rng.choice(OUTSIDE_COMMUNITIES)
        rows.append(
            Registration(
                member_id=pk,
                community=community,
                community_name=name,
                agreement_item=item,
                post="" if item is not None and rng.random() < 0.5 else rng.choice(POSTS),
                registered_on=start + timedelta(days=rng.randrange(span)),
            )
        )
    Registration.objects.bulk_create(rows, batch_size=BATCH)
    return rows


def _records(rng: random.Random, today: date, registrations: list[Registration]) -> list[ServiceRecord]:
    users = dict(
        Member.objects.filter(pk__in=[r.member_id for r in registrations], user__isnull=False).values_list(
            "pk", "user_id"
        )
    )
    rows = []
    zone = timezone.get_current_timezone()
    for registration in registrations:
        if rng.random() < 0.12:
            continue  # registered, not served yet
        first = max(registration.registered_on, today - timedelta(days=365))
        span = (today - first).days
        if span < 1:
            continue
        days = sorted(rng.sample(range(span + 1), min(span + 1, rng.randint(1, 6))))
        for offset in days:
            on = first + timedelta(days=offset)
            kind = _weighted(rng, KINDS)
            age = (today - on).days
            if age <= 14:
                status = RecordStatus.PENDING
            else:
                status = _weighted(
                    rng, ((RecordStatus.CONFIRMED, 90), (RecordStatus.REJECTED, 4), (RecordStatus.PENDING, 6))
                )
            decided = status != RecordStatus.PENDING
            rows.append(
                ServiceRecord(
                    member_id=registration.member_id,
                    registration=registration,
                    date=on,
                    hours=rng.choice(HOURS),
                    kind=kind,
                    description=rng.choice(DESCRIPTIONS[kind]),
                    status=status,
                    recorded_by_id=users.get(registration.member_id),
                    confirmed_at=datetime.combine(on + timedelta(days=2), datetime.min.time(), zone).replace(
                        hour=10
                    )
                    if decided
                    else None,
                    reject_reason=rng.choice(REJECT_REASONS) if status == RecordStatus.REJECTED else "",
                )
            )
    ServiceRecord.objects.bulk_create(rows, batch_size=BATCH)
    # Written in bulk, not through the record services: the kept figures are counted once here.
    records_rebuild(apply=True)
    return rows


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), timezone.get_current_timezone()).replace(hour=hour)


def _volunteering(
    rng: random.Random,
    today: date,
    home: Organization | None,
    unit: Organization | None,
    member1: Member | None,
) -> tuple[int, int]:
    """Volunteer activities through the services: held ones with attendance, coming ones with
    sign-ups. Returns (activities, attendances marked)."""
    plans: list[tuple[Organization, int, str, str, int | None]] = []
    if home is not None:
        plans += [
            (home, -40, "重温入党誓词·社区环境整治", ServiceKind.ENVIRONMENT, None),
            (home, -12, "反诈宣传进小区", ServiceKind.POLICY, None),
            (home, 6, "重阳敬老志愿服务", ServiceKind.ELDERLY, 12),
        ]
    if unit is not None:
        plans += [
            (unit, -25, "机关党员进社区·政策宣传", ServiceKind.POLICY, 20),
            (unit, 9, "“周末卫生日”志愿服务", ServiceKind.ENVIRONMENT, 15),
        ]
    activities = marked = 0
    for org, offset, topic, kind, capacity in plans:
        day = today + timedelta(days=offset)
        start = _at(day, 9)
        members = list(
            Member.objects.filter(
                org_path__startswith=org.path, is_active=True, status__in=("probationary", "full")
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        found = volunteer_activity_create(
            actor=None,
            organization=org,
            topic=topic,
            start=start,
            end=start + timedelta(hours=rng.choice((2, 2, 3))),
            kind=kind,
            place="社区党群服务站",
            capacity=capacity,
            signup_until=start - timedelta(days=1),
        )
        activities += 1
        pool = [pk for pk in members if member1 is None or pk != member1.pk or offset < 0]
        size = min(len(pool), capacity - 3 if capacity else max(4, len(pool) * 2 // 3))
        chosen = sorted(rng.sample(pool, size)) if size > 0 else []
        if offset < 0 and member1 is not None and member1.pk in members and member1.pk not in chosen:
            chosen.append(member1.pk)
        if chosen:
            activity_roster_add(actor=None, activity=found.activity, member_ids=chosen)
        if offset < 0 and chosen:
            records = [
                {"member": pk, "status": _weighted(rng, (("present", 82), ("late", 8), ("absent", 10)))}
                for pk in chosen
            ]
            attendance_mark(actor=None, activity=found.activity, records=records)
            marked += len(records)
    return activities, marked


def seed_service_registration(*, seed: int, today: date, say: Callable[[str], None]) -> list[str]:
    """Seed 双报到 and volunteer service in the demo city (see the module docstring); return the
    lines the seed command prints (none when an agreement exists already)."""
    if Agreement.objects.exists() or not Organization.objects.exists():
        return []
    started = time.perf_counter()
    rng = random.Random(f"{seed}-service-registration")
    home = _home_branch()
    member1 = Member.objects.filter(user__username="member1").first()
    with transaction.atomic():
        communities = _communities()
        units, signed, items = _agreements(rng, today, communities)
        registrations = _registrations(rng, today, units, signed, items, communities, member1)
        records = _records(rng, today, registrations)
        unit = next((u for u in units if u.pk in signed), None)
        activities, marked = _volunteering(rng, today, home, unit, member1)
        expected = expected_members(Member.objects.all()).count()
        confirmed = [r for r in records if r.status == RecordStatus.CONFIRMED]
        hours = sum((r.hours for r in confirmed), Decimal("0"))
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            object_type="service.registration",
            object_repr="演示数据：双报到",
            changes={
                "agreements": len(signed),
                "items": len(items),
                "registrations": len(registrations),
                "records": len(records),
                "volunteer_activities": activities,
            },
            message="生成演示数据：双报到和志愿服务",
        )
    pending = sum(1 for r in records if r.status == RecordStatus.PENDING)
    say(
        f"双报到：共驻共建协议 {len(signed)} 份、在职党员报到 {len(registrations)} 名、服务记录 {len(records)} 条"
        f"（{time.perf_counter() - started:.1f} 秒）"
    )
    return [
        f"双报到：{len(units)}个机关单位中{len(signed)}个与社区签订共驻共建协议（三张清单共{len(items)}项）；"
        f"在职党员报到{len(registrations)}/{expected}名",
        f"社区服务记录{len(records)}条（已确认{len(confirmed)}条、{hours.normalize():f}小时，待确认{pending}条）；"
        f"志愿服务活动{activities}次、出勤登记{marked}人次",
    ]

"""The demo's community area (issue 16): 我为群众办实事, a community's 联户 grid, and a party service
centre with its bookings — after the registration and care areas, before the points.

- **Pledges** of this year: most organisations of the city (every one but the party groups) pledge
  one or two 实事 and about a third of the members one; due dates spread over the year; about half
  are done (办结), most of those confirmed by the level above. branch_sec's branch has one done and
  waiting for district_admin's confirmation and one open; member1 has one confirmed and one open.
  A unit with a 共驻共建 agreement (the registration area's) names its community on some pledges.
  Bulk-written as the services leave them (no photos: light evidence is optional).
- **联户 grid** of branch_sec's community (its branch when that is a 社区/村 branch, else the nearest
  one in the district): two 片, each with two 组 and two or three 楼, the contacts being the
  branch's members (member1 is a 楼长 when it is their branch); residents' requests of the year logged and mostly resolved
  through the services (households benefited counted), a few still open.
- **Centre**: district_admin's district runs a 党群活动服务中心 with four rooms that requires
  approval; over the last twelve months the district's units booked it about fifty times
  (approved and held — the Kunming "50 余次", derived), one booking of branch_sec's branch is the
  place of one of its 主题党日; a few upcoming bookings wait for district_admin's approval, one
  was rejected, one cancelled. Bookings never overlap in a room.

Deterministic for a seed (``random.Random(f"{seed}-service-community")``) and a day; seeding again
adds nothing (it stops when any pledge, grid cell or centre exists)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from partyedu.accounts.models import User
from partyedu.members.choices import PARTY_STATUSES
from partyedu.members.models import Member
from partyedu.organizations.choices import OrgLevel
from partyedu.organizations.models import SEGMENT_WIDTH, Organization
from partyedu.service.choices import BookingStatus, PledgeStatus
from partyedu.service.models import Agreement, Booking, Centre, GridUnit, Pledge, Room
from partyedu.service.selectors_community import centre_usage, grid_households, grid_tree, request_stats
from partyedu.service.services.community import (
    GRID_ORG_TYPES,
    centre_create,
    grid_unit_create,
    resident_request_log,
    resident_request_resolve,
    resident_request_start,
    room_create,
)
from partyedu.service.services.figures import pledges_rebuild
from partyedu.study.choices import ActivityType
from partyedu.study.models import Activity

ORG_TITLES = (
    ("老旧小区路灯维修", "小区居民"),
    ("为辖区老人开展义诊", "辖区老年人"),
    ("整治楼道堆物和飞线充电", "小区居民"),
    ("加装无障碍坡道", "行动不便的居民"),
    ("政策宣讲进社区", "社区居民"),
    ("帮扶困难家庭子女就学", "困难家庭"),
    ("建设社区电动车充电棚", "小区居民"),
    ("疏通背街小巷排水管网", "沿街居民"),
    ("开设“四点半课堂”", "双职工家庭的孩子"),
    ("为独居老人安装紧急呼叫器", "独居老人"),
    ("修缮社区健身设施", "社区居民"),
    ("开展反诈宣传进万家", "辖区群众"),
)
MEMBER_TITLES = (
    ("帮独居老人买菜送药", "邻居老人"),
    ("为邻居讲解医保政策", "楼里的老年人"),
    ("辅导社区孩子作业", "社区孩子"),
    ("清理楼道小广告", "本楼居民"),
    ("陪孤寡老人聊天", "孤寡老人"),
    ("帮助邻居网上办理社保认证", "行动不便的老人"),
    ("义务修理小区自行车", "小区居民"),
    ("为环卫工人送清凉", "环卫工人"),
)
PROGRESS = ("已联系相关部门", "已实地查看，制定了方案", "材料已到位，正在施工", "已完成一半")
DONE_NOTES = ("已办结，群众满意", "按期完成，居民反映良好", "已完成，并建立了长效机制")
REQUESTS = (
    ("楼道飞线充电，存在安全隐患", "建设集中充电点，劝导居民规范充电", 36),
    ("路口台阶太高，轮椅推不过去", "道路降坡改造完成", 120),
    ("楼道灯损坏", "已更换声控灯", 18),
    ("下水道堵塞返味", "联系市政疏通", 24),
    ("单元门禁故障", "物业已维修", 30),
    ("健身器材松动", "已加固并张贴使用提示", 60),
    ("垃圾分类点异味大", "增加清运频次", 48),
    ("小区路面坑洼积水", "已修补路面", 80),
    ("楼顶漏水", "协调维修基金完成防水", 12),
    ("外墙空调架锈蚀", "通知住户并协助更换", 6),
)
# (name, capacity) of the centre's rooms.
ROOMS = (("一楼多功能厅", 120), ("二楼党员活动室", 40), ("三楼会议室", 20), ("党课教室", 60))
PURPOSES = ("主题党日活动", "专题党课", "支部党员大会", "党建联席会议", "党员培训", "志愿服务培训")
HELD_BOOKINGS = 54


@dataclass
class Result:
    org_planned: int = 0
    org_done: int = 0
    member_planned: int = 0
    member_done: int = 0


def _home() -> tuple[Organization | None, dict[str, User]]:
    users = {
        u.username: u
        for u in User.objects.filter(username__in=("city_admin", "district_admin", "branch_sec", "member1"))
    }
    secretary = Member.objects.filter(user__username="branch_sec").select_related("organization").first()
    return (secretary.organization if secretary else None), users


def _aware(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


# --- pledges -------------------------------------------------------------------------------------------


def _pledge(
    rng: random.Random,
    today: date,
    *,
    organization_id: int,
    member_id: int | None,
    title: tuple[str, str],
    done: bool,
    confirm: bool,
    confirmer: User | None,
    community_id: int | None = None,
    due: date | None = None,
) -> Pledge:
    start = date(today.year, 1, 1)
    span = (date(today.year, 12, 31) - start).days
    due = due or start + timedelta(days=rng.randrange(span + 1))
    pledge = Pledge(
        organization_id=organization_id,
        member_id=member_id,
        title=title[0],
        beneficiary=title[1],
        community_id=community_id,
        due=due,
        year=due.year,
    )
    if done:
        latest = min(due, today)
        pledge.completed_on = max(start, latest - timedelta(days=rng.randrange(0, 20)))
        pledge.completion_note = rng.choice(DONE_NOTES)
        pledge.status = PledgeStatus.COMPLETED
        if confirm:
            pledge.status = PledgeStatus.CONFIRMED
            pledge.confirmed_by = confirmer
            pledge.confirmed_at = _aware(
                min(today, pledge.completed_on + timedelta(days=rng.randrange(1, 8))), 10
            )
    elif rng.random() < 0.5:
        pledge.progress = f"{min(today, start + timedelta(days=rng.randrange(span // 2 + 1))):%Y-%m-%d} {rng.choice(PROGRESS)}"
    return pledge


def _pledges(seed: int, today: date, home: Organization, users: dict[str, User]) -> Result:
    """Each organisation's and member's draws come from a generator of their own (the seed and
    their id), so that the pledges of one do not depend on how many others there are."""
    home_rng = random.Random(f"{seed}-pledges-home")
    result = Result()
    district_path = home.path[: 2 * SEGMENT_WIDTH]
    orgs = list(
        Organization.objects.filter(is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .exclude(pk=home.pk)
        .values_list("pk", "path")
        .order_by("path")
    )
    communities = dict(
        Agreement.objects.filter(community__isnull=False)
        .order_by("organization_id", "id")
        .values_list("organization_id", "community_id")
    )
    rows: list[Pledge] = []

    def confirmer(path: str) -> User | None:
        return users.get("district_admin") if path.startswith(district_path) else users.get("city_admin")

    for pk, path in orgs:
        org_rng = random.Random(f"{seed}-pledges-org-{pk}")
        if len(path) == SEGMENT_WIDTH or org_rng.random() < 0.15:
            continue  # the city committee itself, and a few organisations without a pledge
        for _ in range(1 + (org_rng.random() < 0.3)):
            done = org_rng.random() < 0.5
            community = communities.get(pk) if org_rng.random() < 0.5 else None
            rows.append(
                _pledge(
                    org_rng,
                    today,
                    organization_id=pk,
                    member_id=None,
                    title=org_rng.choice(ORG_TITLES),
                    done=done,
                    confirm=done and org_rng.random() < 0.75,
                    confirmer=confirmer(path),
                    community_id=community,
                )
            )
    # branch_sec's branch: one done, waiting for district_admin; one open, due next month.
    rows.append(
        _pledge(
            home_rng,
            today,
            organization_id=home.pk,
            member_id=None,
            title=ORG_TITLES[0],
            done=True,
            confirm=False,
            confirmer=None,
        )
    )
    rows.append(
        _pledge(
            home_rng,
            today,
            organization_id=home.pk,
            member_id=None,
            title=ORG_TITLES[2],
            done=False,
            confirm=False,
            confirmer=None,
            due=min(today + timedelta(days=20), date(today.year, 12, 31)),
        )
    )
    member1 = Member.objects.filter(user__username="member1").values_list("pk", flat=True).first()
    members = list(
        Member.objects.filter(is_active=True, status__in=PARTY_STATUSES)
        .exclude(user__username="member1")
        .values_list("pk", "organization_id")
        .order_by("pk")
    )
    for pk, org_id in members:
        member_rng = random.Random(f"{seed}-pledges-member-{pk}")
        if member_rng.random() >= 0.33:
            continue
        done = member_rng.random() < 0.5
        rows.append(
            _pledge(
                member_rng,
                today,
                organization_id=org_id,
                member_id=pk,
                title=member_rng.choice(MEMBER_TITLES),
                done=done,
                # a member's pledge is confirmed by the branch (the secretary)
                confirm=done and member_rng.random() < 0.7,
                confirmer=users.get("branch_sec") if org_id == home.pk else None,
            )
        )
    if member1 is not None:
        rows.append(
            _pledge(
                home_rng,
                today,
                organization_id=home.pk,
                member_id=member1,
                title=MEMBER_TITLES[0],
                done=True,
                confirm=True,
                confirmer=users.get("branch_sec"),
                due=min(today, date(today.year, 3, 31)),
            )
        )
        rows.append(
            _pledge(
                home_rng,
                today,
                organization_id=home.pk,
                member_id=member1,
                title=MEMBER_TITLES[2],
                done=False,
                confirm=False,
                confirmer=None,
                due=date(today.year, 12, 31),
            )
        )
    Pledge.objects.bulk_create(rows, batch_size=1000)
    # Written in bulk, not through the pledge services: the kept figures are counted once here.
    pledges_rebuild(apply=True)
    for row in rows:
        done = row.status != PledgeStatus.OPEN
        if row.member_id is None:
            result.org_planned += 1
            result.org_done += done
        else:
            result.member_planned += 1
            result.member_done += done
    return result


# --- the 联户 grid ---------------------------------------------------------------------------------------


def _community(home: Organization) -> Organization | None:
    """branch_sec's branch when it is a community (or village) branch, else its parent if that is
    one, else the first one of the district."""
    if home.org_type in GRID_ORG_TYPES:
        return home
    if home.parent is not None and home.parent.org_type in GRID_ORG_TYPES:
        return home.parent
    return (
        Organization.objects.filter(
            path__startswith=home.path[: 2 * SEGMENT_WIDTH], org_type__in=GRID_ORG_TYPES, is_active=True
        )
        .exclude(level=OrgLevel.GROUP)
        .order_by("path")
        .first()
    )


def _grid(
    rng: random.Random, today: date, community: Organization, home: Organization, users: dict[str, User]
) -> int:
    # branch_sec keeps the grid of their own branch; another community's is written as the system.
    actor = users.get("branch_sec") if community.pk == home.pk else None
    people = list(
        Member.objects.filter(org_path__startswith=community.path, is_active=True, status__in=PARTY_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # member1 is a 楼长 when the community is (or holds) their branch.
    member1 = next(
        iter(
            Member.objects.filter(user__username="member1", org_path__startswith=community.path).values_list(
                "pk", flat=True
            )
        ),
        None,
    )
    others = [pk for pk in people if pk != member1]
    contacts = iter(others * 3)
    buildings: list[GridUnit] = []
    number = 1
    for area_no, area_name in enumerate(("第一片区", "第二片区")):
        area = grid_unit_create(
            actor=actor, community=community, role="area", label=area_name, contact=next(contacts, None)
        )
        for group_no in range(2):
            group = grid_unit_create(
                actor=actor,
                community=community,
                role="group",
                label=f"{area_name[1]}片{group_no + 1}组",
                parent=area,
                contact=next(contacts, None),
            )
            for _ in range(2 + (rng.random() < 0.5)):
                contact = (
                    member1
                    if member1 is not None and area_no == 0 and group_no == 0 and not buildings
                    else next(contacts, None)
                )
                buildings.append(
                    grid_unit_create(
                        actor=actor,
                        community=community,
                        role="building",
                        label=f"{number}号楼",
                        parent=group,
                        contact=contact,
                        households=rng.randrange(18, 49),
                    )
                )
                number += 1
    # residents' requests of the year: most resolved
    start = date(today.year, 1, 1)
    span = max(0, (today - start).days)
    logged = 0
    member1_user = users.get("member1")
    for index in range(min(30, 6 + span // 10)):
        unit = buildings[index % len(buildings)]
        summary, resolution, households = REQUESTS[index % len(REQUESTS)]
        by = member1_user if unit.contact_id == member1 and member1_user is not None else actor
        # the first one came in today: still open
        day = today if index == 0 else start + timedelta(days=rng.randrange(span + 1))
        item = resident_request_log(
            actor=by,
            unit=unit,
            household=f"{unit.label}{rng.randrange(1, 4)}单元{rng.randrange(1, 7)}0{rng.randrange(1, 4)}",
            summary=summary,
            logged_on=day,
        )
        logged += 1
        if (today - day).days >= 3 and rng.random() < 0.85:
            resident_request_resolve(
                actor=by,
                request=item,
                resolution=resolution,
                households_benefited=min(households, unit.households) if households < 60 else households,
                resolved_on=min(today, day + timedelta(days=rng.randrange(1, 15))),
            )
        elif rng.random() < 0.5:
            resident_request_start(actor=by, request=item, handler="社区两委")
    return logged


# --- the centre ------------------------------------------------------------------------------------------


def _centre(
    rng: random.Random, today: date, home: Organization, users: dict[str, User]
) -> tuple[Centre, int]:
    district = Organization.objects.filter(path=home.path[: 2 * SEGMENT_WIDTH]).first() or home
    label = (district.short_name or district.name).removesuffix("委")
    centre = centre_create(
        actor=None,
        organization=district,
        name=f"{label}党群活动服务中心",
        address=f"{label}政务服务中心四楼",
        requires_approval=True,
    )
    rooms = [room_create(actor=None, centre=centre, name=name, capacity=capacity) for name, capacity in ROOMS]
    units = list(
        Organization.objects.filter(path__startswith=district.path, is_active=True)
        .exclude(level=OrgLevel.GROUP)
        .exclude(pk=district.pk)
        .order_by("path")
        .values_list("pk", flat=True)
    ) or [home.pk]
    manager = users.get("district_admin")
    taken: set[tuple[int, date, int]] = set()
    bookings: list[Booking] = []
    now = timezone.now()

    def add(room: Room, org: int, day: date, hour: int, status: str, **extra: Any) -> Booking | None:
        if (room.pk, day, hour) in taken:
            return None
        taken.add((room.pk, day, hour))
        start = _aware(day, hour)
        booking = Booking(
            room=room,
            organization_id=org,
            start=start,
            end=start + timedelta(hours=2),
            attendees=rng.randrange(10, room.capacity + 1),
            purpose=rng.choice(PURPOSES),
            status=status,
            decided_by=manager if status in (BookingStatus.APPROVED, BookingStatus.REJECTED) else None,
            decided_at=min(now, start - timedelta(days=2)) if status != BookingStatus.PENDING else None,
            **extra,
        )
        bookings.append(booking)
        return booking

    # one of branch_sec's branch's 主题党日 held in the 党员活动室: the booking is its place
    activity = (
        Activity.objects.filter(
            organization=home,
            activity_type=ActivityType.THEME_DAY,
            start__lt=now,
            start__gte=now - timedelta(days=300),
        )
        .order_by("-start")
        .first()
    )
    if activity is not None:
        room = rooms[1]
        day = timezone.localtime(activity.start).date()
        start, end = activity.start, activity.end
        if end <= start or timezone.localtime(end).date() != day:
            end = start + timedelta(hours=2)
        taken.add((room.pk, day, timezone.localtime(start).hour))
        bookings.append(
            Booking(
                room=room,
                organization=home,
                start=start,
                end=end,
                attendees=min(room.capacity, 30),
                purpose=activity.topic[:200],
                status=BookingStatus.APPROVED,
                decided_by=manager,
                decided_at=start - timedelta(days=3),
                activity=activity,
            )
        )
        Activity.objects.filter(pk=activity.pk).update(place=f"{centre.name} {room.name}")
    # about fifty held over the last twelve months (weekdays, 9:00 or 14:00)
    held = 0
    while held < HELD_BOOKINGS:
        day = today - timedelta(days=rng.randrange(1, 365))
        if day.weekday() >= 5:
            continue
        if (
            add(rng.choice(rooms), rng.choice(units), day, rng.choice((9, 14)), BookingStatus.APPROVED)
            is not None
        ):
            held += 1
    # upcoming: three waiting for approval, one approved for branch_sec's branch, one rejected, one cancelled
    upcoming = [today + timedelta(days=d) for d in (2, 3, 5, 6, 9, 12)]
    upcoming = [d + timedelta(days=2) if d.weekday() >= 5 else d for d in upcoming]
    for index, (day, status) in enumerate(
        zip(
            upcoming,
            (
                BookingStatus.PENDING,
                BookingStatus.PENDING,
                BookingStatus.APPROVED,
                BookingStatus.PENDING,
                BookingStatus.REJECTED,
                BookingStatus.CANCELLED,
            ),
            strict=True,
        )
    ):
        org = home.pk if index == 2 else rng.choice(units)
        extra = {"reason": "该时段中心有全区会议"} if status == BookingStatus.REJECTED else {}
        if status == BookingStatus.CANCELLED:
            extra = {"reason": "活动改期"}
        add(rooms[index % len(rooms)], org, day, 9, status, **extra)
    Booking.objects.bulk_create(bookings)
    return centre, sum(1 for b in bookings if b.status == BookingStatus.PENDING)


def seed_service_community(*, seed: int, today: date, say: Callable[[str], None]) -> list[str]:
    """Seed this area of the demo city; return the lines the seed command prints."""
    if Pledge.objects.exists() or GridUnit.objects.exists() or Centre.objects.exists():
        return []
    home, users = _home()
    if home is None:
        return []
    with transaction.atomic():
        pledges = _pledges(seed, today, home, users)
        community = _community(home)
        grid_rng = random.Random(f"{seed}-service-community-grid")
        requests = _grid(grid_rng, today, community, home, users) if community is not None else 0
        centre, pending = _centre(random.Random(f"{seed}-service-community-centre"), today, home, users)
    lines = [
        f"为群众办实事（{today.year}年）：组织承诺{pledges.org_planned}件、已办结{pledges.org_done}件；"
        f"党员承诺{pledges.member_planned}件、已办结{pledges.member_done}件",
    ]
    if community is not None:
        admin = users.get("city_admin")
        cells = grid_tree(user=admin, community=community) if admin is not None else []
        stats = (
            request_stats(user=admin, organization=community, year=today.year) if admin is not None else []
        )
        solved = stats[0].solved if stats else 0
        benefited = stats[0].households if stats else 0
        lines.append(
            f"联户解难：{community.name}网格{len(cells)}个、联系{grid_households(cells)}户；"
            f"今年受理群众诉求{requests}件、解决{solved}件、受益{benefited}户"
        )
    admin = users.get("district_admin")
    usage = centre_usage(user=admin, centre=centre, year=today.year) if admin is not None else None
    held = Booking.objects.filter(
        room__centre=centre, status=BookingStatus.APPROVED, start__lt=timezone.now()
    ).count()
    lines.append(
        f"党群服务中心：{centre.name}活动室{len(ROOMS)}间，近一年承接活动{held}次"
        + (f"（今年{usage.total}次）" if usage is not None else "")
        + f"，{pending}项预约待审核"
    )
    for line in lines:
        say(line)
    return lines


__all__ = ["seed_service_community"]

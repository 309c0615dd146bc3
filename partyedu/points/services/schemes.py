"""Writing schemes: create and edit, with the refusal of sources that reward time online,
logins or check-in streaks (DESIGN.md §3.5)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from partyedu.accounts.types import Actor
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.scope import require
from partyedu.core.years import YEAR_MAX, YEAR_MIN
from partyedu.organizations.models import Organization, ancestor_paths
from partyedu.study.choices import ActivityType, AttendanceStatus

from ..choices import FORBIDDEN_SOURCES, FORBIDDEN_WORDS, Audience, CapPeriod, ItemKind, ItemSource
from ..models import PointsEntry, PointsItem, PointsScheme
from .derive import points_text
from .ledger import points_sync_scheme, schemes_exist_note

FORBIDDEN_MESSAGE = (
    "不得设置奖励在线时长、登录次数或连续签到打卡的积分项目（中央关于整治“指尖上的形式主义”的要求）"
)
ITEM_FIELDS = (
    "code",
    "name",
    "kind",
    "source",
    "activity_types",
    "statuses",
    "points",
    "cap",
    "cap_period",
    "locked",
)
# What a lower level must keep unchanged of an upper scheme's locked item.
LOCKED_FIELDS = ("kind", "source", "activity_types", "statuses", "points", "cap", "cap_period")


def rewards_formalism(item: dict[str, Any]) -> bool:
    """Whether an item's source, code or name names online time, logins or check-in streaks."""
    words = " ".join(str(item.get(f) or "") for f in ("source", "code", "name")).lower()
    return any(bad in words for bad in FORBIDDEN_SOURCES) or any(bad in words for bad in FORBIDDEN_WORDS)


def _decimal(value: Any, field: str, label: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: f"{label}不能为空"})
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{label}须为数字"}) from None
    if not number.is_finite() or number < 0 or number > Decimal("9999"):
        raise ValidationError({field: f"{label}须在0到9999之间"})
    return number.quantize(Decimal("0.1"))


def clean_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the items as given (API or formset); raise ``ValidationError`` on the ``items``
    field naming the item and the problem."""
    if not items:
        raise ValidationError({"items": "积分项目：至少设置一项"})
    cleaned = []
    codes: set[str] = set()
    sources = set(ItemSource.values)
    types = set(ActivityType.values)
    statuses = set(AttendanceStatus.values) - {""}
    for n, raw in enumerate(items, start=1):
        where = f"积分项目第{n}项"
        if rewards_formalism(raw):
            raise ValidationError({"items": f"{where}：{FORBIDDEN_MESSAGE}"})
        code = str(raw.get("code") or "").strip()
        name = str(raw.get("name") or "").strip()
        if not code or not name:
            raise ValidationError({"items": f"{where}：代码和名称不能为空"})
        if len(code) > 40 or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
            raise ValidationError({"items": f"{where}：代码只能由字母、数字、下划线组成，最长40个字符"})
        if code in codes:
            raise ValidationError({"items": f"{where}：代码“{code}”重复"})
        codes.add(code)
        kind = raw.get("kind") or ItemKind.EARN
        if kind not in ItemKind.values:
            raise ValidationError({"items": f"{where}：加分/扣分须为 earn 或 deduct"})
        source = raw.get("source")
        if source not in sources:
            raise ValidationError(
                {"items": f"{where}：积分来源“{source}”不可用，可选：{'、'.join(sorted(sources))}"}
            )
        activity_types = list(raw.get("activity_types") or [])
        if any(t not in types for t in activity_types):
            raise ValidationError({"items": f"{where}：活动类型有误"})
        item_statuses = list(raw.get("statuses") or [])
        if any(s not in statuses for s in item_statuses):
            raise ValidationError({"items": f"{where}：出勤状态有误"})
        cap_period = raw.get("cap_period") or CapPeriod.YEAR
        if cap_period not in CapPeriod.values:
            raise ValidationError({"items": f"{where}：上限周期须为 month、quarter 或 year"})
        try:
            points = _decimal(raw.get("points"), "items", f"{where}：每次分值")
            cap = _decimal(raw.get("cap"), "items", f"{where}：上限", required=False)
        except ValidationError:
            raise
        if source != ItemSource.MANUAL and not points:
            raise ValidationError({"items": f"{where}：每次分值须大于0"})
        cleaned.append(
            {
                "code": code,
                "name": name[:100],
                "kind": kind,
                "source": source,
                "activity_types": activity_types,
                "statuses": item_statuses,
                "points": points or Decimal("0"),
                "cap": cap,
                "cap_period": cap_period,
                "locked": bool(raw.get("locked")),
            }
        )
    return cleaned


def upper_scheme(organization: Organization, year: int, audience: str) -> PointsScheme | None:
    """The scheme a scheme of ``organization`` refines: the nearest one up the tree (not its
    own) for the same year and audience, with its items."""
    paths = [p for p in ancestor_paths(organization.path) if p != organization.path]
    if not paths:
        return None
    found = (
        PointsScheme.objects.filter(organization__path__in=paths, year=year, audience=audience)
        .select_related("organization")
        .prefetch_related("items")
        .order_by("-organization__path")
        .first()
    )
    return found


def check_refinement(
    organization: Organization, year: int, audience: str, base: Decimal, items: list[dict[str, Any]]
) -> None:
    """A lower level refines the upper scheme within what it allows: refining must be allowed,
    the base is the upper scheme's, and every item the upper level locked is kept as it is."""
    upper = upper_scheme(organization, year, audience)
    if upper is None:
        return
    where = f"上级方案“{upper.organization.name}{upper.name}”"
    if not upper.allow_refine:
        raise ValidationError({"organization": f"{where}不允许下级细化，本组织执行上级方案"})
    if base != upper.base:
        raise ValidationError({"base": f"基础分须与{where}一致（{points_text(upper.base)}分）"})
    mine = {i["code"]: i for i in items}
    for locked in upper.items.all():
        if not locked.locked:
            continue
        kept = mine.get(locked.code)
        if kept is None:
            raise ValidationError(
                {"items": f"{where}锁定的项目“{locked.name}（{locked.code}）”须保留，不得删除"}
            )
        changed = [
            str(getattr(PointsItem._meta.get_field(f), "verbose_name", f))
            for f in LOCKED_FIELDS
            if _comparable(kept.get(f)) != _comparable(getattr(locked, f))
        ]
        if changed:
            raise ValidationError(
                {"items": f"{where}锁定的项目“{locked.name}”不得改动：{'、'.join(changed)}与上级不一致"}
            )


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.1"))
    return value


def _check_header(organization: Organization | None, year: Any, base: Any) -> tuple[int, Decimal]:
    if organization is None:
        raise ValidationError({"organization": "制定组织不能为空"})
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "年度须为整数"}) from None
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError({"year": f"年度须在{YEAR_MIN}到{YEAR_MAX}之间"})
    number = _decimal(base, "base", "基础分")
    assert number is not None
    return year, number


@transaction.atomic
def scheme_create(
    *,
    actor: Actor,
    organization: Organization,
    year: int,
    base: Any,
    items: list[dict[str, Any]],
    name: str = "",
    audience: str = Audience.MEMBERS,
    allow_refine: bool = True,
    background: bool = True,
) -> PointsScheme:
    """Define the scheme of ``organization``'s subtree for ``year`` (for its party members, or
    for its candidates) and derive the year's points of those it scores."""
    require(actor, "add", organization, app_label="points", message="您无权为该组织制定积分方案")
    year, base_value = _check_header(organization, year, base)
    if audience not in Audience.values:
        raise ValidationError(
            {"audience": "适用对象须为 members（党员）或 candidates（入党积极分子和发展对象）"}
        )
    cleaned = clean_items(items)
    check_refinement(organization, year, audience, base_value, cleaned)
    if PointsScheme.objects.filter(organization=organization, year=year, audience=audience).exists():
        raise ValidationError(
            {"year": f"{organization.name}已有{year}年度的{Audience(audience).label}积分方案，请修改该方案"}
        )
    default_name = f"{organization.name}{year}年度{'积极分子和发展对象' if audience == Audience.CANDIDATES else ''}积分方案"
    scheme = PointsScheme(
        organization=organization,
        year=year,
        base=base_value,
        audience=audience,
        allow_refine=bool(allow_refine),
        name=(name or default_name)[:100],
    )
    scheme.full_clean()
    scheme.save()
    # Set before commit: a "yes" left by a rolled-back scheme only costs the syncs a query.
    schemes_exist_note()
    for position, data in enumerate(cleaned):
        PointsItem.objects.create(scheme=scheme, position=position, **data)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=scheme,
        changes={"base": str(base_value), "audience": audience, "items": [i["code"] for i in cleaned]},
    )
    points_sync_scheme(scheme=scheme, actor=actor, background=background)
    return scheme


@transaction.atomic
def scheme_update(
    *,
    actor: Actor,
    scheme: PointsScheme,
    base: Any,
    items: list[dict[str, Any]],
    name: str = "",
    allow_refine: bool | None = None,
    background: bool = True,
) -> PointsScheme:
    """Change a scheme's base and items (matched by code): a changed item is rewritten, a new
    one added, one left out removed unless the ledger names it (then refused). The year's points
    are re-derived through correcting lines."""
    scheme = PointsScheme.objects.select_for_update().select_related("organization").get(pk=scheme.pk)
    require(actor, "change", scheme.organization, app_label="points", message="您无权修改该积分方案")
    _year, base_value = _check_header(scheme.organization, scheme.year, base)
    cleaned = clean_items(items)
    check_refinement(scheme.organization, scheme.year, scheme.audience, base_value, cleaned)
    existing = {item.code: item for item in scheme.items.all()}
    removed = [item for code, item in existing.items() if code not in {c["code"] for c in cleaned}]
    used = set(PointsEntry.objects.filter(item__in=removed).values_list("item__code", flat=True))
    if used:
        raise ValidationError(
            {"items": f"积分项目“{'、'.join(sorted(used))}”已有积分记录，不能删除，可将分值改为0"}
        )
    for item in removed:
        item.delete()
    for position, data in enumerate(cleaned):
        kept = existing.get(data["code"])
        if kept is None:
            PointsItem.objects.create(scheme=scheme, position=position, **data)
            continue
        for field in ITEM_FIELDS:
            setattr(kept, field, data[field])
        kept.position = position
        kept.save()
    scheme.base = base_value
    if allow_refine is not None:
        scheme.allow_refine = bool(allow_refine)
    if name:
        scheme.name = name[:100]
    scheme.full_clean()
    scheme.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=scheme,
        changes={"base": str(base_value), "items": [i["code"] for i in cleaned]},
    )
    points_sync_scheme(scheme=scheme, actor=actor, background=background)
    return scheme

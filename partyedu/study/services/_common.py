"""Helpers shared by the study services: resolving and checking input, members within scope, the
activity lock, and the hooks through which the apps above follow attendance and activity changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from partyedu.accounts.types import Actor, User
from partyedu.core.hooks import hooks
from partyedu.core.scope import can, is_system
from partyedu.members.models import Member
from partyedu.organizations.models import Organization

from ..models import Activity, Attendance

APP = "study"
WRITE_BATCH = 1000

M = TypeVar("M", bound=models.Model)


def _user(actor: Actor) -> User | None:
    """The actor as a value for a user foreign key (None for the system or an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _is_ancestor_or_self(ancestor_path: str, path: str) -> bool:
    return path.startswith(ancestor_path)


def _reachable(actor: Actor, owner: Organization, org: Organization) -> bool:
    """Whether a place, plan or material owned by ``owner`` may be used by ``org``'s activity: it
    belongs to the organisation itself or to one above it (a district's party school, a city's
    education base), or it lies within the actor's own view scope."""
    if _is_ancestor_or_self(owner.path, org.path):
        return True
    return is_system(actor) or can(actor, "view", owner, app_label=APP)


def _resolve(model: type[M], value: Any, field_name: str, label: str) -> M | None:
    """An instance given as itself or by primary key; a missing one is a field error."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        return model._default_manager.get(pk=value)
    # django-stubs: ``DoesNotExist`` is made for each concrete model, not known on ``type[M]``.
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise ValidationError({field_name: [f"{label}不存在或不在您的管理范围内"]}) from None


def _member_ids(values: Iterable[Any] | None, field_name: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        pk = value.pk if isinstance(value, Member) else value
        try:
            out.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError({field_name: [f"无效的党员编号：{value}"]}) from None
    return list(dict.fromkeys(out))


def _members_in_scope(actor: Actor, ids: Sequence[int], field_name: str) -> list[int]:
    """The given members, all of whom must be on the roll and visible to the actor; otherwise a
    field error naming them (by id when out of scope, so a name outside scope is never revealed)."""
    if not ids:
        return []
    qs = Member.objects.all() if actor is None else Member.objects.restrict(actor, "view")
    found = {
        pk: (active, name)
        for pk, active, name in qs.filter(pk__in=ids).values_list("pk", "is_active", "name")
    }
    errors = []
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        errors.append(f"以下党员不存在或不在您的管理范围内：ID {'、'.join(unknown)}")
    inactive = [found[pk][1] for pk in ids if pk in found and not found[pk][0]]
    if inactive:
        errors.append(f"以下党员已离册：{'、'.join(inactive)}")
    if errors:
        raise ValidationError({field_name: errors})
    return list(ids)


def _check_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})


def _clean_strings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def sync_attendance_hours(
    *,
    attendance_ids: Iterable[int],
    actor: Actor,
    member_ids: Iterable[int] | None = None,
    activity_ids: Iterable[int] | None = None,
) -> None:
    """Have the learning ledger recompute what each attendance credits (0 for a row that no longer
    exists) and append correcting rows, through the ``study.attendance_changed`` hook (the
    learning app registers it), then bring the activities' figures (``ActivityFigures``) in step.
    Call inside the transaction that changed the rows, after the change. ``member_ids``: the
    rows' members when at hand (spares the ledger looking them up); ``activity_ids``: their
    activities — required when rows were deleted (they are looked up from the rows otherwise)."""
    from .counts import activity_figures_sync

    ids = sorted(set(attendance_ids))
    if not ids:
        return
    hooks.call(
        "study.attendance_changed",
        attendance_ids=ids,
        actor=actor,
        member_ids=None if member_ids is None else sorted(set(member_ids)),
    )
    if activity_ids is None:
        activity_ids = Attendance.objects.filter(pk__in=ids).values_list("activity_id", flat=True).distinct()
    activity_figures_sync(activity_ids)


def sync_class_hours(*, training_class_id: int | None, actor: Actor) -> None:
    """A training class's completion (结业: sessions attended against all its sessions, by its
    ratio, in the year it ends) counts as the "≥ 1 concentrated training" of secretaries and
    committee members, so it changes for every enrolled member when a session is added or
    deleted, or the class's ratio or end date changes: have the ledger re-check every attendance
    row of the class's sessions (nothing is appended where nothing changed)."""
    if training_class_id is None:
        return
    rows = list(
        Attendance.objects.filter(activity__training_class_id=training_class_id)
        .order_by()
        .values_list("pk", "member_id")
    )
    sync_attendance_hours(
        attendance_ids=[pk for pk, _ in rows], actor=actor, member_ids=[member for _, member in rows]
    )


def _activities_changed(activity_ids: list[int]) -> None:
    """The lecture statistics count a 党课 by its activity's year; keep their summary rows in step
    when an activity's date changed or it was deleted (with its lecture), in the same transaction
    (the ``study.activities_changed`` hook, registered by the lectures app)."""
    hooks.call("study.activities_changed", activity_ids=activity_ids)


def _lock_activity(activity: Activity | int) -> Activity:
    pk = activity.pk if isinstance(activity, Activity) else activity
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("organization", "training_class")
        .get(pk=pk)
    )


def _same_pk(value: Any, current: int | None) -> bool:
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return (None if pk in (None, "") else int(pk)) == current
    except (TypeError, ValueError):
        return False

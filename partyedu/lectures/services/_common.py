"""What every lectures service shares: the app label its rights are read from, and the handling
of ids and field data that arrive from forms and the API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models

from partyedu.accounts.types import Actor, User

APP = "lectures"
M = TypeVar("M", bound=models.Model)


def _user(actor: Actor) -> User | None:
    """The actor as a value for a user foreign key (None for the system or an anonymous caller)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _resolve(qs: models.QuerySet[M], value: Any, field_name: str, label: str) -> M | None:
    """An instance of ``qs`` given as itself or by primary key; anything else (unknown, or outside
    what the actor may use) is the same field error, so ids cannot be probed."""
    if value is None or value == "":
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return qs.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise ValidationError({field_name: [f"{label}不存在或不在您的管理范围内"]}) from None


def _ids(values: Iterable[Any] | None, field_name: str, label: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        pk = value.pk if isinstance(value, models.Model) else value
        try:
            out.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationError({field_name: [f"无效的{label}编号：{value}"]}) from None
    return list(dict.fromkeys(out))


def _check_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = [name for name in data if name not in allowed]
    if unknown:
        raise ValidationError({name: ["未知字段"] for name in unknown})


def _clean_strings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _same_pk(value: Any, current: int | None) -> bool:
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return (None if pk in (None, "") else int(pk)) == current
    except (TypeError, ValueError):
        return False


def _lock(model: type[M], pk: Any) -> M:
    return model._default_manager.select_for_update(of=("self",)).get(pk=pk)

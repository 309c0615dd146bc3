"""Serializer fields shared by the API's input serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from partyedu.core.filters import ID_MAX


class IdField(serializers.IntegerField):
    """The id of a row given in a request body (a member on a roster, a judge, an organisation).
    Bounded like every primary key, so a number the database cannot hold is a 400 on the field
    instead of an overflow inside an ``IN (…)`` query."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

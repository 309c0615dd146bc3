from __future__ import annotations

from typing import Any

from django.db import models

from . import pii


class EncryptedTextField(models.TextField):
    """Text stored encrypted (Fernet). It can be read and written like text but not searched:
    pair it with a blind-index column for equality lookups."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return pii.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return pii.encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

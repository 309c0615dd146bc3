"""Helpers for the one error shape services raise: Django's ValidationError keyed by field."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})

"""The demo's service and care (issue 16): each area seeds its part — 双报到, records and
volunteer service (``service_registration``); talks, care and political birthdays
(``service_care``); pledges, the 联户 grid and centre bookings (``service_community``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date


def clear_service() -> None:
    """Remove every service row (children before parents; the ORM's collector orders the rest)."""
    from django.apps import apps

    for model in reversed(list(apps.get_app_config("service").get_models())):
        model._default_manager.all().delete()


def seed_service(*, seed: int, today: date, say: Callable[[str], None]) -> list[str]:
    """Seed the three areas in turn; each returns the lines the seed command prints."""
    from partyedu.demo.service_care import seed_service_care
    from partyedu.demo.service_community import seed_service_community
    from partyedu.demo.service_registration import seed_service_registration

    lines = seed_service_registration(seed=seed, today=today, say=say)
    lines += seed_service_care(seed=seed, today=today, say=say)
    lines += seed_service_community(seed=seed, today=today, say=say)
    return lines

"""The demo stays usable with two-factor sign-in: the accounts whose role requires it share a
documented demo authenticator, and ``demo_accounts`` says how to get a code."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from partyedu.demo.seed import DEMO_OTP_SECRET, DEMO_PASSWORD
from partyedu.demo.testing import on_standard_demo

pytestmark = [pytest.mark.django_db, pytest.mark.standard_demo]

REQUIRED = ["city_admin", "sysadmin", "secadmin", "auditor"]


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The standard demo, seeded once for consecutive modules (``partyedu.demo.testing``)."""
    with on_standard_demo(django_db_blocker) as (output, _):
        yield output


@pytest.fixture
def seeded(seeded_demo: str, db: None) -> str:
    """What the seed printed; the demo itself is seen from this test's own transaction."""
    return seeded_demo


def demo_accounts(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_accounts", *args, stdout=out)
    return out.getvalue()


def test_accounts_that_must_use_a_second_factor_get_the_demo_authenticator_and_no_others(seeded: str) -> None:
    with_device = set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True))
    assert with_device == set(REQUIRED)


def test_the_seed_and_demo_accounts_print_the_demo_secret(seeded: str) -> None:
    assert DEMO_OTP_SECRET in seeded
    text = demo_accounts()
    assert DEMO_OTP_SECRET in text and "city_admin、sysadmin、secadmin、auditor" in text


def test_the_code_printed_by_demo_accounts_signs_in(seeded: str, client: Any) -> None:
    codes = dict(
        line.split() for line in demo_accounts("--otp").splitlines() if line.startswith(tuple(REQUIRED))
    )
    assert set(codes) == set(REQUIRED)
    client.post(reverse("accounts:login"), {"username": "secadmin", "password": DEMO_PASSWORD})
    response = client.post(reverse("accounts:otp_verify"), {"token": codes["secadmin"]})
    assert response.status_code == 302 and response["Location"] == reverse("core:home")


def test_codes_are_not_shown_outside_a_demo(seeded: str, settings: Any) -> None:
    settings.ALLOW_DEMO_SEED = False
    with pytest.raises(CommandError):
        demo_accounts("--otp")

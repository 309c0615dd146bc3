"""Every URL of the project has a permission test, or a written reason why it needs none.

A URL is covered when a test class built on ``partyedu.core.testing.ScopedEndpointTests`` (or one
of its variants) declares its namespaced view name in ``url_name`` / ``url_names``; the mixin's
``test_url_is_the_declared_view`` proves each declaration against the URL the class really
requests. A URL that serves no organisational data — public pages, pages of the user's own
account, redirects — is on ``ALLOWED`` with a one-line reason instead. A new page without either
fails here, naming itself.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

import partyedu
from partyedu.core.testing import ScopedEndpointTests

ALLOWED: dict[str, str] = {
    # Public: no sign-in, no organisational data.
    "health": "public: the load balancer's health check",
    "core:favicon": "public: redirects /favicon.ico to the site icon under static/, no data",
    "accounts:login": "public: the sign-in page",
    "accounts:logout": "ends the caller's own session",
    "accounts:otp_verify": "the second step of the caller's own sign-in",
    "verify:form": "public: certificate verification form",
    "verify:certificate": "public: verifies one certificate by its code, by design",
    "api:auth-token": "public: exchanges the caller's own credentials for a token",
    "api:schema": "public: the OpenAPI schema, no data",
    "api:docs": "public: Swagger UI over the schema, no data",
    "api:redoc": "public: ReDoc over the schema, no data",
    "api:root": "the API's index of links, no data",
    "api:ping": "tells a token holder the token works, no data",
    # The caller's own account.
    "accounts:password_change": "self-only: the caller's own password",
    "accounts:otp_settings": "self-only: the caller's own two-factor settings",
    "accounts:otp_enrol": "self-only: binds an authenticator to the caller's own account",
    "accounts:otp_recovery_codes": "self-only: the caller's own recovery codes",
    "accounts:otp_disable": "self-only: removes the caller's own authenticator",
    "accounts:token_list": "self-only: the caller's own API tokens",
    "accounts:token_revoke": "self-only: a token of the caller's own (another's is 404)",
    "accounts:token_revoke_all": "self-only: revokes the caller's own tokens",
    "api:auth-token-list": "self-only: the caller's own API tokens",
    "api:auth-token-detail": "self-only: one of the caller's own API tokens",
    "core:home": "the start page: menus and the caller's own member record",
    "supervision:index": "redirects to supervision:dashboard (tested there), no data",
    "exams:index": "redirects to exams:exam_list (tested there), no data",
    "service:index": "the service home page: links to each area the caller may reach, no rows",
    "service:my_pledge_create": "self-only: the caller's own pledge form (service/tests/test_community_views.py)",
    "exams:my": "self-only: the caller's own exams and attempts (exams/tests/test_views_take.py)",
    "exams:attempt_start": "self-only: starts the caller's own attempt; an exam not given to them is 404",
    "exams:attempt_take": "self-only: the caller's own attempt (another's is 404, test_views_take.py)",
    "exams:attempt_answer": "self-only: saves into the caller's own attempt (another's is 404)",
    "exams:attempt_submit": "self-only: submits the caller's own attempt (another's is 404)",
    "exams:attempt_result": "self-only: the caller's own result (another's is 404)",
    "exams:practice_check": "self-only: checks an answer in the caller's own practice round (test_views_practice.py)",
    "exams:wrong_answers": "self-only: the caller's own wrong-answer book (test_views_practice.py)",
    "exams:wrong_retry": "self-only: a practice round of the caller's own wrong questions",
    "core:guide": "使用指南: help text for each role, no organisational data (test_guide.py)",
    "core:job_list": "self-only: background jobs the caller started",
    "core:job_detail": "self-only: a job the caller started (another's is 404)",
    "core:job_download": "self-only: the file of a job the caller started",
    "core:notification_list": "self-only: the caller's own notifications (test_notifications.py)",
    "core:notification_count": "self-only: the caller's own unread count (the navbar's badge)",
    "core:notification_read": "self-only: marks one of the caller's own notifications read (another's is 404)",
    "core:notification_read_all": "self-only: marks the caller's own notifications read",
    "core:notification_preferences": "self-only: the caller's own outbound-channel preference",
    "study:checkin": "self-only: checks the caller in with a scanned code",
    "study:scan": "self-only: how to scan, and the caller's own attendance",
    "api:checkin": "self-only: checks the caller in with a scanned code",
    "learning:my_hours": "self-only: the caller's own learning hours",
    # Redirects to a covered page.
    "study:index": "redirects to study:activity_list",
    "learning:index": "redirects to learning:summary",
    # No organisational data.
    "accounts:user_create": (
        "a new account has no organisation or role (roles are given on the user's page, covered); "
        "manage_users is checked by test_secadmin_cannot_create_users"
    ),
    # Blank spreadsheets: the import action is checked by test_import_needs_the_import_action.
    "organizations:import_template": "a blank import template, no organisational data",
    "members:import_template": "a blank import template, no organisational data",
    "exams:question_template": "a blank import template, no organisational data (403 without exams.import)",
}


def _patterns(resolver: URLResolver, namespaces: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(namespaced view name, route) of every URL pattern under the resolver."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from ((name, str(pattern.pattern) + route) for name, route in _patterns(pattern, inner))
        elif isinstance(pattern, URLPattern):
            name = ":".join((*namespaces, pattern.name)) if pattern.name else ""
            yield name, str(pattern.pattern)


def url_names() -> set[str]:
    return {name for name, _ in _patterns(get_resolver())}


def permission_test_classes() -> set[type[ScopedEndpointTests]]:
    """The permission test classes pytest collects: ``Test*`` classes in the ``test_*`` modules
    of every app's tests package."""
    found: set[type[ScopedEndpointTests]] = set()
    for tests_dir in sorted(Path(partyedu.__file__).parent.glob("*/tests")):
        package = f"partyedu.{tests_dir.parent.name}.tests"
        for module_info in pkgutil.iter_modules([str(tests_dir)]):
            if not module_info.name.startswith("test_"):
                continue
            module = importlib.import_module(f"{package}.{module_info.name}")
            for name, obj in vars(module).items():
                if inspect.isclass(obj) and issubclass(obj, ScopedEndpointTests) and name.startswith("Test"):
                    found.add(obj)
    return found


def covered_names() -> set[str]:
    return {name for cls in permission_test_classes() for name in cls.declared_url_names()}


def test_every_url_has_a_name() -> None:
    unnamed = sorted(route for name, route in _patterns(get_resolver()) if not name)
    assert not unnamed, f"URL patterns without a name cannot be covered: {unnamed}"


def test_every_url_has_a_permission_test_or_a_reason() -> None:
    uncovered = sorted(url_names() - covered_names() - set(ALLOWED))
    assert not uncovered, (
        f"{len(uncovered)} URL(s) have neither a permission test class (a ScopedEndpointTests "
        f"subclass declaring url_name) nor an entry in ALLOWED: {', '.join(uncovered)}"
    )


def test_every_permission_test_declares_its_url() -> None:
    silent = sorted(cls.__qualname__ for cls in permission_test_classes() if not cls.declared_url_names())
    assert not silent, f"permission test classes without url_name: {silent}"


def test_the_allow_list_is_current_and_minimal() -> None:
    names = url_names()
    assert sorted(set(ALLOWED) - names) == [], "ALLOWED names URLs that no longer exist"
    assert sorted(set(ALLOWED) & covered_names()) == [], "a covered URL needs no ALLOWED entry"
    assert all(reason.strip() for reason in ALLOWED.values())

#!/usr/bin/env python
"""Every HTML page an administrator opens, timed against the cost of a minimal page (issue 9:
"every page a city admin uses ≤ 20× the floor at 100,000 members").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyedu_pages_bench .venv/bin/python bench/pages.py
    … bench/pages.py --reps 5 --users city_admin --only /learning/

The database must already hold the demo city (``seed_demo``; a copy of it, because some pages
write — a ``view_pii`` audit row, a begun authenticator on the enrolment page). Nothing is seeded
or deleted here. Settings are ``config.settings.dev`` with ``DEBUG=0``; requests go through
Django's test ``Client`` in process, signed in by session (``force_login``), so every middleware
runs as in production.

Sign-in and the second factor. ``force_login`` opens a session the way a password sign-in does;
the production ``OtpRequiredMiddleware`` then sends a user who has an authenticator to the code
step. A real sign-in ends with ``django_otp.login(request, device)``, which stores the device's
persistent id in the session; the benchmark stores the same id, so every request pays the same
device check as a real one (``OTP_VERIFIED_SESSION_BACKENDS`` of the test settings would skip it).

The pages. The URL conf is walked (``django.urls.get_resolver()``); each pattern's parameters are
filled with objects of the city that the user may see (``FILL``), preferring those of the demo
branch (branch_sec's), then the demo district (district_admin's); typical query strings and the
HTMX fragments the pages load are added as variants (``VARIANTS``). Each variant is probed once:
a 200 with HTML is measured, anything else (a POST-only URL's 405, a redirect, a 403 or 404, a
download) is listed as not measured, with the reason. URLs that would end the session, start an
export or download a file are never requested (``NEVER``).

The floor. ``GET /`` (the home page) for the same user, one request after each timed page
request: it renders the whole layout (base template, navigation from the user's roles, messages)
through every middleware (session, user, second factor, password age, CSP) and does no data
work of its own for an administrator, so it is the fixed cost every page pays. ``/healthz/``
(no session, JSON) is reported beside it for reference. A page's ratio is its median over the
floor's median for the same user in the same run.

Output: a table sorted by ratio (worst first) and ``bench/out/pages.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "pages.json"
GOAL_RATIO = 20.0
USERS = ("city_admin", "district_admin", "branch_sec")
FLOOR_PATH = "/"
# Never requested: ending the session, exports and downloads (a large export starts a job),
# static files.
NEVER = ("logout", "export", "download", "_file", "import_template", "certificate_download")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="PartyEdu page latencies against the floor")
    parser.add_argument("--reps", type=int, default=15, help="timed requests per page (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument(
        "--users",
        default=",".join(USERS),
        help=f"comma-separated demo accounts (default {','.join(USERS)})",
    )
    parser.add_argument("--only", default="", help="measure only URLs or URL names containing this")
    parser.add_argument(
        "--year", type=int, default=None, help="the year of the query strings (default: this year)"
    )
    parser.add_argument("--json", type=Path, default=OUT, help="where to write the results")
    return parser.parse_args(argv)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("DATABASE_URL"):
        sys.exit("bench/pages.py: set DATABASE_URL to a copy of the seeded demo city (PostgreSQL)")
    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    # The probes meet 403s and 404s on purpose; Django would log each with a traceback.
    for name in ("django.request", "django.security"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


# --- whose pages: the demo accounts, their organisations, the objects pages are opened on -----------


@dataclass
class Context:
    """One demo account and the organisations its pages are opened on."""

    user: Any
    top: Any  # the organisation where the user's role is held (the top of their scope)
    root: Any
    district: Any
    branch: Any
    year: int
    cache: dict[str, Any] = field(default_factory=dict)


class Skip(Exception):
    """A parameter that cannot be filled with an object the user may see."""


def role_org(username: str) -> Any:
    from partyedu.accounts.models import RoleAssignment

    assignment = (
        RoleAssignment.objects.select_related("organization")
        .filter(user__username=username)
        .order_by("organization__path")
        .first()
    )
    if assignment is None:
        raise SystemExit(f"bench/pages.py: no demo account {username!r} with a role in this database")
    return assignment.organization


def make_context(username: str, year: int) -> Context:
    from partyedu.accounts.models import User

    return Context(
        user=User.objects.get(username=username),
        top=role_org(username),
        root=role_org("city_admin"),
        district=role_org("district_admin"),
        branch=role_org("branch_sec"),
        year=year,
    )


def pick(ctx: Context, label: str, *, action: str = "view", order: str = "-pk", **filters: Any) -> Any:
    """An object of the model the user may see: in the demo branch if there is one, else in the
    demo district, else anywhere in the user's scope."""
    from django.apps import apps

    model = apps.get_model(label)
    key = f"{label}:{action}:{order}:{sorted(filters.items())}"
    if key in ctx.cache:
        return ctx.cache[key]
    qs = model.objects.all()
    if hasattr(qs, "restrict"):
        qs = qs.restrict(ctx.user, action)
    qs = qs.filter(**filters).order_by(order)
    scope_path = getattr(model, "scope_path", None)
    found = None
    if scope_path:
        for anchor in (ctx.branch, ctx.district):
            found = qs.filter(**{f"{scope_path}__startswith": anchor.path}).first()
            if found is not None:
                break
    if found is None:
        found = qs.first()
    if found is None:
        raise Skip(f"no {label} the user may see" + (f" ({filters})" if filters else ""))
    ctx.cache[key] = found
    return found


def _member(ctx: Context) -> Any:
    from partyedu.members.models import Member

    found = (
        Member.objects.restrict(ctx.user, "view")
        .filter(organization=ctx.branch, is_active=True)
        .order_by("pk")
        .first()
    )
    if found is None:
        raise Skip("no member of the demo branch the user may see")
    return found


def _activity(ctx: Context) -> Any:
    return pick(ctx, "study.Activity", order="-start", organization=ctx.branch)


def _lecture_activity(ctx: Context) -> Any:
    return pick(ctx, "lectures.Lecture", order="-pk").activity


def _user_in_scope(ctx: Context) -> Any:
    from partyedu.accounts.models import User

    found = User.objects.filter(username="branch_sec").first()
    if found is None:
        raise Skip("no user to open")
    return found


def _one(name: str, obj: Callable[[Context], Any]) -> Callable[[Context], dict[str, Any]]:
    return lambda ctx: {name: obj(ctx).pk}


def _pk(label: str, **filters: Any) -> Callable[[Context], dict[str, Any]]:
    return lambda ctx: {"pk": pick(ctx, label, **filters).pk}


def _listed(selector: str) -> Callable[[Context], dict[str, Any]]:
    """The first object of a list page's selector (``"study.study_plan_list"``): for what a user
    sees beyond their own subtree (plans, materials and resources issued from above)."""

    def fill(ctx: Context) -> dict[str, Any]:
        from importlib import import_module

        app, name = selector.split(".")
        found = getattr(import_module(f"partyedu.{app}.selectors"), name)(user=ctx.user).first()
        if found is None:
            raise Skip(f"{selector} lists nothing for the user")
        return {"pk": found.pk}

    return fill


def _attendance(ctx: Context) -> dict[str, Any]:
    activity = _activity(ctx)
    attendance = activity.attendances.order_by("pk").first()
    if attendance is None:
        raise Skip("the activity has no attendance")
    return {"pk": activity.pk, "attendance_pk": attendance.pk}


def _manual_entry(ctx: Context) -> dict[str, Any]:
    entry = pick(ctx, "learning.LearningHourEntry", source_type="manual", version=1)
    return {"pk": entry.member_id, "entry_pk": entry.pk}


def _enrollee(ctx: Context) -> dict[str, Any]:
    enrollment = pick(ctx, "study.ClassEnrollment")
    return {"pk": enrollment.training_class_id, "member_pk": enrollment.member_id}


def _role_assignment(ctx: Context) -> dict[str, Any]:
    from partyedu.accounts.models import RoleAssignment

    user = _user_in_scope(ctx)
    assignment = RoleAssignment.objects.filter(user=user).first()
    if assignment is None:
        raise Skip("the user has no role")
    return {"pk": user.pk, "assignment_pk": assignment.pk}


def _pii_grant(ctx: Context) -> dict[str, Any]:
    grant = pick(ctx, "accounts.PiiGrant")
    return {"pk": grant.user_id, "grant_pk": grant.pk}


def _slot(ctx: Context) -> dict[str, Any]:
    slot = pick(ctx, "lectures.RotationSlot")
    return {"pk": slot.rotation_id, "slot_pk": slot.pk}


def _lecture_file(ctx: Context) -> dict[str, Any]:
    from partyedu.lectures.models import LectureFile

    found = LectureFile.objects.order_by("-pk").first()
    if found is None:
        raise Skip("no lecture file")
    return {"pk": found.lecture_id, "file_pk": found.pk}


def _certificate(ctx: Context) -> dict[str, Any]:
    from partyedu.competitions.models import Certificate

    found = Certificate.objects.filter(revoked_at=None).order_by("pk").first()
    if found is None:
        raise Skip("no certificate")
    return {"code": found.code}


def _job(ctx: Context) -> dict[str, Any]:
    from partyedu.core.models import Job

    found = Job.objects.filter(created_by=ctx.user).order_by("-pk").first()
    if found is None:
        raise Skip("the user has started no background job")
    return {"pk": found.pk}


# URL name → the path parameters, from objects of the city the user may see.
FILL: dict[str, Callable[[Context], dict[str, Any]]] = {
    "accounts:user_detail": _one("pk", _user_in_scope),
    "accounts:user_set_active": _one("pk", _user_in_scope),
    "accounts:otp_reset": _one("pk", _user_in_scope),
    "accounts:role_assign": _one("pk", _user_in_scope),
    "accounts:role_revoke": _role_assignment,
    "accounts:pii_grant": _one("pk", _user_in_scope),
    "accounts:pii_revoke": _pii_grant,
    "accounts:token_revoke": _pk("accounts.ApiToken"),
    "core:job_detail": _job,
    "organizations:detail": lambda ctx: {"pk": ctx.top.pk},
    "organizations:children": lambda ctx: {"pk": ctx.top.pk},
    "organizations:edit": lambda ctx: {"pk": ctx.top.pk},
    "organizations:move": lambda ctx: {"pk": ctx.branch.pk},
    "organizations:deactivate": lambda ctx: {"pk": ctx.branch.pk},
    "members:detail": _one("pk", _member),
    "members:detail_pii": _one("pk", _member),
    "members:edit": _one("pk", _member),
    "members:transfer": _one("pk", _member),
    "study:activity_detail": _one("pk", _activity),
    "study:activity_edit": _one("pk", _activity),
    "study:activity_delete": _one("pk", _activity),
    "study:attendance": _one("pk", _activity),
    "study:attendance_makeup": _attendance,
    "study:activity_qr": _one("pk", _activity),
    "study:plan_detail": _listed("study.study_plan_list"),
    "study:plan_edit": _listed("study.study_plan_list"),
    "study:class_detail": _listed("study.training_class_list"),
    "study:class_edit": _listed("study.training_class_list"),
    "study:class_enroll": _listed("study.training_class_list"),
    "study:class_unenroll": _enrollee,
    "study:class_session_create": _listed("study.training_class_list"),
    "study:site_edit": _listed("study.teaching_site_list"),
    "study:base_detail": _listed("study.education_base_list"),
    "study:base_edit": _listed("study.education_base_list"),
    "study:cadence_rule_delete": _pk("study.CadenceRule"),
    "study:material_detail": _listed("study.material_list"),
    "study:material_edit": _listed("study.material_list"),
    "study:material_distribute": _listed("study.material_list"),
    "learning:member_hours": _one("pk", _member),
    "learning:manual_record": _one("pk", _member),
    "learning:manual_reverse": _manual_entry,
    "learning:requirement_delete": _pk("learning.HourRequirement"),
    "learning:resource_detail": _listed("learning.resource_list"),
    "learning:resource_heartbeat": _pk("learning.OnlineResource"),
    "learning:resource_edit": _listed("learning.resource_list"),
    "learning:resource_delete": _listed("learning.resource_list"),
    "learning:resource_publish": _pk("learning.OnlineResource"),
    "lectures:lecturer_detail": _pk("lectures.Lecturer"),
    "lectures:lecturer_edit": _pk("lectures.Lecturer"),
    "lectures:lecturer_toggle": _pk("lectures.Lecturer"),
    "lectures:lecture_detail": _pk("lectures.Lecture"),
    "lectures:lecture_rate": _pk("lectures.Lecture"),
    "lectures:lecture_delete": _pk("lectures.Lecture"),
    "lectures:lecture_file": _lecture_file,
    "lectures:activity_lecture": _one("activity_pk", _lecture_activity),
    "lectures:rotation_detail": _pk("lectures.Rotation"),
    "lectures:rotation_regenerate": _pk("lectures.Rotation"),
    "lectures:rotation_delete": _pk("lectures.Rotation"),
    "lectures:rotation_slot": _slot,
    "lectures:call_detail": _pk("lectures.TopicCall"),
    "lectures:call_submit": _pk("lectures.TopicCall"),
    "lectures:call_close": _pk("lectures.TopicCall"),
    "lectures:proposal_key": _pk("lectures.TopicProposal"),
    "lectures:proposal_assign": _pk("lectures.TopicProposal"),
    "lectures:task_decline": _pk("lectures.TopicTask"),
    "lectures:library_item_edit": _pk("lectures.LibraryItem"),
    "lectures:library_item_toggle": _pk("lectures.LibraryItem"),
    "lectures:series_detail": _pk("lectures.LectureSeries"),
    "lectures:series_edit": _pk("lectures.LectureSeries"),
    "competitions:competition_detail": _pk("competitions.Competition"),
    "competitions:round_create": _pk("competitions.Competition"),
    "competitions:entry_create": _pk("competitions.Competition"),
    "competitions:award_list": _pk("competitions.Competition"),
    "competitions:award_grant": _pk("competitions.Competition"),
    "competitions:round_detail": _pk("competitions.Round"),
    "competitions:round_edit": _pk("competitions.Round"),
    "competitions:round_panel": _pk("competitions.Round"),
    "competitions:round_assign": _pk("competitions.Round"),
    "competitions:round_reassign": _pk("competitions.Round"),
    "competitions:round_finish": _pk("competitions.Round"),
    "competitions:entry_endorse": _pk("competitions.Entry"),
    "competitions:entry_withdraw": _pk("competitions.Entry"),
    "competitions:review_detail": _pk("competitions.Review"),
    "competitions:nominate": _pk("competitions.Round"),
    "competitions:certificate_revoke": _pk("competitions.Award"),
    "competitions:award_publish": _pk("competitions.Award"),
    "verify:certificate": _certificate,
}


@dataclass(frozen=True)
class Variant:
    """A query string (with ``{top}``, ``{root}``, ``{district}``, ``{branch}``, ``{year}``)
    and whether it is asked for as an HTMX fragment."""

    query: str = ""
    htmx: bool = False


ORG_YEAR = "organization={top}&year={year}"
# URL name → the variants measured besides (or, with a leading None, instead of) the bare URL:
# the query strings the pages offer and the fragments they load.
VARIANTS: dict[str, list[Variant]] = {
    "core:audit_list": [Variant("page=2", htmx=True)],
    "organizations:tree": [Variant("q=第一党支部", htmx=True)],
    "organizations:children": [Variant(htmx=True)],
    "organizations:picker": [Variant("q=明湖", htmx=True)],
    "organizations:create": [Variant("parent={top}")],
    "learning:requirement_set": [Variant("organization={top}")],
    "members:list": [Variant(htmx=True), Variant("q=王", htmx=True)],
    "members:detail_pii": [Variant(htmx=True)],
    "study:activity_list": [Variant("year={year}"), Variant("organization={top}&year={year}", htmx=True)],
    "study:class_list": [Variant("year={year}")],
    "study:activity_qr": [Variant(htmx=True)],
    "study:cadence": [Variant(ORG_YEAR), Variant(ORG_YEAR + "&missing=1")],
    "study:material_list": [Variant(ORG_YEAR)],
    "learning:my_hours": [Variant("year={year}")],
    "learning:member_hours": [Variant("year={year}")],
    "learning:summary": [Variant(ORG_YEAR), Variant(ORG_YEAR + "&page=2")],
    "learning:summary_categories": [Variant(ORG_YEAR, htmx=True)],
    "lectures:lecture_list": [Variant("year={year}", htmx=True)],
    "lectures:lecturer_list": [Variant(htmx=True)],
    "lectures:duty": [Variant(ORG_YEAR), Variant(ORG_YEAR + "&show=no")],
    "lectures:stats": [Variant(ORG_YEAR)],
}
# Organisation pages are also opened on the levels below the user's own.
LEVEL_PAGES = ("organizations:detail", "organizations:children")


# --- the URL conf ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: Any  # the resolver's pattern objects from the root down
    params: tuple[str, ...]


def walk(patterns: Any, prefix: tuple[Any, ...] = (), namespace: str = "") -> Iterator[Route]:
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            inner = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from walk(entry.url_patterns, (*prefix, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            if not entry.name:
                continue
            chain = (*prefix, entry.pattern)
            params = tuple(p for part in chain for p in part.regex.groupindex)
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, pattern=chain, params=params)


def html_routes() -> list[Route]:
    """Every named URL outside the API and its documentation."""
    from django.urls import get_resolver

    return [
        route
        for route in walk(get_resolver().url_patterns)
        if not route.name.startswith("api:") and route.name != "health"
    ]


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Result:
    user: str
    name: str
    url: str
    htmx: bool
    median_ms: float = 0.0
    queries: int = 0
    sql_ms: float = 0.0
    ratio: float = 0.0
    verdict: str = ""
    bytes: int = 0


@dataclass
class NotMeasured:
    user: str
    name: str
    url: str
    reason: str


def signed_in_client(user: Any) -> Any:
    """A test client with the session a completed password + authenticator sign-in leaves."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # A page that fails answers 500 and is listed as not measured, instead of ending the run.
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="partyedu.accounts.backends.UsernameOrMobileBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    assert not settings.OTP_VERIFIED_SESSION_BACKENDS, "production-like settings expected"
    return client


def get(client: Any, url: str, htmx: bool) -> tuple[float, Any]:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    start = time.perf_counter()
    response = client.get(url, **headers)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return time.perf_counter() - start, response


def is_html(response: Any) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


def probe_reason(response: Any) -> str:
    status = response.status_code
    if status == 405:
        return "405: POST only"
    if status in (301, 302, 303):
        return f"{status}: redirects to {response.get('Location', '')}"
    if status == 200:
        return f"not HTML ({response.get('Content-Type', '')})"
    return f"{status}"


def queries_of(client: Any, url: str, htmx: bool) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get(client, url, htmx)
    return len(captured.captured_queries), round(
        sum(float(q.get("time") or 0) for q in captured.captured_queries) * 1000, 2
    )


def targets(
    ctx: Context, routes: list[Route], only: str
) -> tuple[list[tuple[str, str, bool]], list[NotMeasured]]:
    """(name, url, htmx) of every variant to probe, and the routes that could not be filled."""
    from django.urls import reverse

    username = ctx.user.username
    out: list[tuple[str, str, bool]] = []
    skipped: list[NotMeasured] = []
    fmt = {
        "top": ctx.top.pk,
        "root": ctx.root.pk,
        "district": ctx.district.pk,
        "branch": ctx.branch.pk,
        "year": ctx.year,
    }
    for route in routes:
        if any(word in route.name for word in NEVER):
            skipped.append(
                NotMeasured(username, route.name, "", "never requested (download, export, sign-out)")
            )
            continue
        kwargs: list[dict[str, Any]] = [{}]
        if route.params:
            fill = FILL.get(route.name)
            if fill is None:
                skipped.append(
                    NotMeasured(username, route.name, "", f"cannot fill {', '.join(route.params)}")
                )
                continue
            try:
                kwargs = [fill(ctx)]
            except Skip as exc:
                skipped.append(NotMeasured(username, route.name, "", f"cannot fill: {exc}"))
                continue
            except Exception as exc:  # a schema this code does not match (unapplied migrations)
                skipped.append(NotMeasured(username, route.name, "", f"cannot fill: {exc!r}"[:200]))
                continue
            if route.name in LEVEL_PAGES:
                for org in (ctx.district, ctx.branch):
                    if org.path.startswith(ctx.top.path) and org.pk != ctx.top.pk:
                        kwargs.append({"pk": org.pk})
        for kw in kwargs:
            base = reverse(route.name, kwargs=kw)
            variants = [Variant(), *VARIANTS.get(route.name, [])]
            for variant in variants:
                url = f"{base}?{variant.query.format(**fmt)}" if variant.query else base
                if only and only not in url and only not in route.name:
                    continue
                out.append((route.name, url, variant.htmx))
    return out, skipped


def measure_user(ctx: Context, routes: list[Route], args: argparse.Namespace) -> dict[str, Any]:
    username = ctx.user.username
    client = signed_in_client(ctx.user)
    floor_client = signed_in_client(ctx.user)
    for _ in range(max(args.warmup, 3)):
        get(floor_client, FLOOR_PATH, False)
    _, home = get(floor_client, FLOOR_PATH, False)
    if not is_html(home):
        raise SystemExit(
            f"bench/pages.py: the floor page {FLOOR_PATH} answers {probe_reason(home)} for {username}"
        )
    todo, skipped = targets(ctx, routes, args.only)
    floor: list[float] = []
    samples: dict[tuple[str, str, bool], list[float]] = {}
    results: list[Result] = []
    for name, url, htmx in todo:
        _, response = get(client, url, htmx)
        if not is_html(response):
            skipped.append(
                NotMeasured(username, name, url + (" [HTMX]" if htmx else ""), probe_reason(response))
            )
            continue
        for _ in range(args.warmup):
            get(client, url, htmx)
        times = []
        for _ in range(args.reps):
            elapsed, _ = get(client, url, htmx)
            times.append(elapsed)
            floor.append(get(floor_client, FLOOR_PATH, False)[0])
        queries, sql_ms = queries_of(client, url, htmx)
        samples[(name, url, htmx)] = times
        results.append(
            Result(
                user=username,
                name=name,
                url=url,
                htmx=htmx,
                median_ms=median_ms(times),
                queries=queries,
                sql_ms=sql_ms,
                bytes=len(response.content),
            )
        )
        print(
            f"  {username:<15} {median_ms(times):>9.1f} ms  {queries:>3} q  {url}{' [HTMX]' if htmx else ''}",
            flush=True,
        )
    floor_ms = median_ms(floor) if floor else 0.0
    floor_queries, _ = queries_of(floor_client, FLOOR_PATH, False)
    for result in results:
        result.ratio = round(result.median_ms / floor_ms, 2) if floor_ms else 0.0
        result.verdict = "PASS" if result.ratio <= GOAL_RATIO else "MISS"
    health = [get(client, "/healthz/", False)[0] for _ in range(args.reps)]
    return {
        "user": username,
        "organization": ctx.top.name,
        "floor": {"path": FLOOR_PATH, "median_ms": floor_ms, "samples": len(floor), "queries": floor_queries},
        "healthz_ms": median_ms(health),
        "pages": [asdict(r) for r in results],
        "not_measured": [asdict(s) for s in skipped],
    }


def environment() -> dict[str, Any]:
    import django
    from django.db import connection

    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "commit": commit,
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "database_name": connection.settings_dict.get("NAME"),
        "cpus": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()),
    }


def print_table(users: list[dict[str, Any]]) -> None:
    rows = sorted((p for u in users for p in u["pages"]), key=lambda p: -p["ratio"])
    print()
    print(f"{'ratio':>7} {'verdict':<7} {'ms':>8} {'q':>4} {'sql ms':>7}  {'user':<15} url")
    for p in rows:
        htmx = " [HTMX]" if p["htmx"] else ""
        print(
            f"{p['ratio']:>6.1f}× {p['verdict']:<7} {p['median_ms']:>8.1f} {p['queries']:>4} {p['sql_ms']:>7.1f}"
            f"  {p['user']:<15} {p['url']}{htmx}"
        )
    print()
    for u in users:
        print(
            f"floor {u['user']}: GET {u['floor']['path']} {u['floor']['median_ms']} ms median of "
            f"{u['floor']['samples']} ({u['floor']['queries']} queries); /healthz/ {u['healthz_ms']} ms"
        )
    misses = sum(1 for p in rows if p["verdict"] == "MISS")
    print(f"{len(rows)} pages measured, {misses} above {GOAL_RATIO:g}× the floor")
    print("not measured:")
    seen = set()
    for u in users:
        for s in u["not_measured"]:
            key = (s["name"], s["reason"])
            if key in seen:
                continue
            seen.add(key)
            where = f" {s['url']}" if s["url"] else ""
            print(f"  {s['name']}{where}: {s['reason']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.utils import timezone

    year = args.year or timezone.localdate().year
    routes = html_routes()
    started = datetime.now(UTC)
    env = environment()
    users = []
    for username in [u.strip() for u in args.users.split(",") if u.strip()]:
        print(f"{username}:", flush=True)
        users.append(measure_user(make_context(username, year), routes, args))
    env["loadavg_end"] = list(os.getloadavg())
    print_table(users)
    print(f"load average: start {env['loadavg_start']}, end {env['loadavg_end']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "started": started.isoformat(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "goal_ratio": GOAL_RATIO,
        "environment": env,
        "users": users,
    }
    args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

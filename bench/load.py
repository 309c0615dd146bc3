#!/usr/bin/env python
"""Load run (issue 9): the production server (gunicorn with ``config/gunicorn.conf.py``) on
PostgreSQL and Redis at city scale, driven over HTTP by closed-loop virtual users at several
concurrency levels, then the 500-member check-in burst of ``bench/checkin_burst.py``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyedu_load_bench \\
        .venv/bin/python bench/load.py

Setup, in this process: migrations; a demo city (``seed_demo --members N``, with a year of study and
the demo accounts) when the database holds no organisations; API tokens for ``city_admin`` and
``branch_sec`` issued directly (``api_token_issue``: city_admin's real sign-in needs a one-time
code, and sign-in is not what is measured); an account with the member role for each of
``--member-users`` members spread over the demo city, each with an API token and a signed-in
session (cookie), so that every virtual user is a different member.

Then gunicorn is started from this file's code tree with the production configuration
(``gunicorn -c config/gunicorn.conf.py config.wsgi``: its default worker model and count for this
machine unless ``--workers``/``--threads`` or ``WEB_CONCURRENCY``/``GUNICORN_THREADS`` say
otherwise), settings ``config.settings.dev`` with ``DEBUG=0`` as ``make run`` serves, on a free port
of 127.0.0.1. For each concurrency level and endpoint, ``--clients`` processes (forked here) run the
virtual users as threads, each with a keep-alive ``http.client`` connection, issuing requests back
to back: ``--warmup`` seconds unmeasured, then ``--duration`` seconds measured (requests completed
in that window). Levels run one after another, and within a level the endpoints, ping first, so
that each endpoint's ratio is to the ping floor measured moments before.

A benchmark, not a test: it prints a table with the goals and PASS/MISS, writes
``bench/out/load.json`` and exits non-zero only when it could not run or the check-in burst broke
exactly-once (a member with other than one attendance row or ledger line).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import runpy
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import checkin_burst as cb

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
LOAD_PREFIX = "bench_load_"
FLOOR_AGAIN = "ping_again"  # the floor measured once more at the end of each level

# Goals of issue 9 on a 2-core machine.
GOAL_ERRORS = 0
GOAL_LIST_SHARE = 1 / 3  # members list requests/s ≥ ⅓ of the ping floor's at the same level
GOAL_BURST_P99 = cb.GOAL_P99_SECONDS
GOAL_BURST_TOTAL = cb.GOAL_TOTAL_SECONDS


# --- setup ------------------------------------------------------------------------------------------


@dataclass
class Credentials:
    """What the virtual users send: API token keys and session cookies, made in setup."""

    city_admin: str
    branch_sec: str
    member_ids: list[int]
    member_keys: list[str]
    member_sessions: list[str]
    session_cookie: str


def seed_if_empty(members: int, seed: int) -> None:
    from django.core.management import call_command

    from partyedu.demo.seed import has_data

    call_command("migrate", verbosity=0, interactive=False)
    if has_data():
        return
    print(f"Seeding a demo city of {members:,} members with a year of study (seed {seed}) …", flush=True)
    began = time.perf_counter()
    call_command("seed_demo", members=members, seed=seed, no_accounts=True, verbosity=0)
    print(f"seeded in {time.perf_counter() - began:,.0f} s", flush=True)


def prepare_credentials(count: int) -> Credentials:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db.models import Q
    from django.test import Client
    from django.utils import timezone
    from run import demo_root

    from partyedu.accounts.models import User
    from partyedu.accounts.services import api_token_issue, role_assign
    from partyedu.members.models import Member

    root = demo_root()
    city_admin = User.objects.get(username="city_admin")
    branch_sec = User.objects.get(username="branch_sec")
    # Members spread evenly over the demo city (every k-th by id), without a demo account.
    pool = list(
        Member.objects.filter(org_path__startswith=root.path, is_active=True)
        .filter(Q(user__isnull=True) | Q(user__username__startswith=LOAD_PREFIX))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(pool) < count:
        sys.exit(f"the demo city has only {len(pool)} members without an account (need {count})")
    step = len(pool) // count
    chosen = pool[::step][:count]
    now = timezone.now()
    password = make_password(None)  # nobody signs in with it: sign-in is not measured
    members = {m.pk: m for m in Member.objects.filter(pk__in=chosen).select_related("user", "organization")}
    client = Client()
    keys, sessions = [], []
    for pk in chosen:
        member = members[pk]
        user = member.user
        if user is None:
            user, _ = User.objects.get_or_create(
                username=f"{LOAD_PREFIX}{pk}",
                defaults={"display_name": member.name[:50], "password": password, "password_changed_at": now},
            )
            Member.objects.filter(pk=pk).update(user=user)
        role_assign(actor=None, user=user, role_code="member", organization=member.organization)
        keys.append(api_token_issue(user=user, name="load bench")[1])
        client.cookies.clear()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return Credentials(
        city_admin=api_token_issue(user=city_admin, name="load bench")[1],
        branch_sec=api_token_issue(user=branch_sec, name="load bench")[1],
        member_ids=chosen,
        member_keys=keys,
        member_sessions=sessions,
        session_cookie=settings.SESSION_COOKIE_NAME,
    )


# --- endpoints --------------------------------------------------------------------------------------

Recipe = tuple[str, dict[str, str]]  # path, headers of one virtual user's requests


def api_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}", "Accept": "application/json"}


@dataclass
class Endpoint:
    name: str
    label: str
    recipes: list[Recipe]  # one per distinct user; virtual user i takes recipes[i % len]
    is_list: bool = False


def endpoints(creds: Credentials) -> list[Endpoint]:
    members = list(zip(creds.member_ids, creds.member_keys, creds.member_sessions, strict=True))
    return [
        Endpoint(
            "ping",
            "GET /api/v1/ping/ (a member; the floor)",
            [("/api/v1/ping/", api_headers(k)) for _, k, _ in members],
        ),
        Endpoint(
            "members_city",
            "GET /api/v1/members/ (city_admin)",
            [("/api/v1/members/", api_headers(creds.city_admin))],
            True,
        ),
        Endpoint(
            "members_branch",
            "GET /api/v1/members/ (branch_sec)",
            [("/api/v1/members/", api_headers(creds.branch_sec))],
            True,
        ),
        Endpoint(
            "hours",
            "GET /api/v1/members/{id}/learning-hours/ (the member)",
            [(f"/api/v1/members/{pk}/learning-hours/", api_headers(k)) for pk, k, _ in members],
        ),
        Endpoint(
            "home",
            "GET / (member home page, session cookie)",
            [("/", {"Cookie": f"{creds.session_cookie}={s}", "Accept": "text/html"}) for _, _, s in members],
        ),
    ]


def smoke(port: int, points: list[Endpoint]) -> None:
    """Every user's request answers 200 before anything is measured (a 302 to the sign-in page
    would otherwise count as a success)."""
    for point in points:
        for path, headers in point.recipes:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            finally:
                connection.close()
            if response.status != 200:
                sys.exit(f"{point.name}: {path} answered {response.status}: {body[:300]!r}")


# --- the load generator -----------------------------------------------------------------------------


def virtual_user(
    port: int, recipe: Recipe, measure_from: float, end: float, samples: list[tuple[float, int]]
) -> None:
    """Requests back to back on one keep-alive connection (reopened when the server closes it, as a
    sync worker does after each response) until ``end``; keeps those completed in the window."""
    path, headers = recipe
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        started = time.monotonic()
        if started >= end:
            break
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
        finished = time.monotonic()
        if measure_from <= finished <= end:
            samples.append((finished - started, status))
    connection.close()


def client_process(port: int, recipes: list[Recipe], measure_from: float, end: float, results: Any) -> None:
    """One client process: its share of the virtual users as threads."""
    per_user: list[list[tuple[float, int]]] = [[] for _ in recipes]
    threads = [
        threading.Thread(target=virtual_user, args=(port, recipe, measure_from, end, samples), daemon=True)
        for recipe, samples in zip(recipes, per_user, strict=True)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_began = time.process_time()
    time.sleep(max(0.0, end - time.monotonic()))
    cpu = time.process_time() - cpu_began
    for thread in threads:
        thread.join()
    results.put(([s for samples in per_user for s in samples], cpu))


@dataclass
class Level:
    """One endpoint at one concurrency level."""

    endpoint: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    p50: float
    p99: float
    client_cpu: float  # CPU seconds of the client processes in the window
    server_cpu: dict[str, float]  # … of the gunicorn workers and the database's backends
    first_error: int | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def measure(port: int, point: Endpoint, concurrency: int, args: argparse.Namespace, server_pid: int) -> Level:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = min(concurrency, args.clients)
    recipes = [point.recipes[i % len(point.recipes)] for i in range(concurrency)]
    start = time.monotonic() + 0.3  # the forks are up by then
    measure_from = start + args.warmup
    end = measure_from + args.duration
    workers = [
        context.Process(target=client_process, args=(port, recipes[i::processes], measure_from, end, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_before = cb.cpu_snapshot(server_pid)
    time.sleep(max(0.0, end - time.monotonic()))
    server_cpu = cb.cpu_used(cpu_before, cb.cpu_snapshot(server_pid))
    samples: list[tuple[float, int]] = []
    client_cpu = 0.0
    for _ in workers:
        part, cpu = results.get(timeout=300)
        samples.extend(part)
        client_cpu += cpu
    for worker in workers:
        worker.join()
    failed = [status for _, status in samples if not 200 <= status < 400]
    latencies = [seconds for seconds, _ in samples]
    return Level(
        endpoint=point.name,
        concurrency=concurrency,
        seconds=args.duration,
        requests=len(samples),
        errors=len(failed),
        p50=cb.percentile(latencies, 0.5),
        p99=cb.percentile(latencies, 0.99),
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        first_error=failed[0] if failed else None,
    )


# --- the check-in burst -----------------------------------------------------------------------------


@dataclass
class Burst:
    runs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_in_burst(args: argparse.Namespace, port: int, server_pid: int, slots: int) -> Burst:
    """bench/checkin_burst.py's burst against the server already running: ``--burst-runs`` bursts,
    each for a new activity of the smallest organisation with enough members."""
    burst_args = argparse.Namespace(
        members=args.burst_members,
        concurrency=args.burst_concurrency,
        workers=slots,  # sizes the warm-up: every worker (thread) past its first request
        city=args.members,
        seed=args.seed,
        double=0,
        floor_pings=args.floor_pings,
        migrate=False,  # done at the start
    )
    result = Burst()
    for number in range(args.burst_runs):
        setup = cb.prepare(burst_args)
        run = cb.burst(burst_args, port, setup, server_pid)
        ping_calls = [c.seconds for c in run.pings]
        summary: dict[str, Any] = {
            "organization": setup.organization,
            "checkins": len(run.calls),
            "wall": run.wall,
            "p50": cb.percentile(run.latencies, 0.5),
            "p99": cb.percentile(run.latencies, 0.99),
            "max": max(run.latencies),
            "refused": sum(c.status != 200 for c in run.calls),
            "floor_p50": run.floor_p50,
            "ping_p50": run.ping_p50,
            "ping_p99": cb.percentile(ping_calls, 0.99),
            "pings": len(ping_calls),
            "exactly_once": not run.problems,
            "server_cpu_per_checkin": run.cpu_per_checkin,
        }
        result.runs.append(summary)
        result.problems.extend(f"burst {number + 1}: {p}" for p in run.problems)
        print(
            f"burst {number + 1}: {summary['checkins']} check-ins in {run.wall:.2f} s, "
            f"p50 {cb.ms(summary['p50'])}, p99 {cb.ms(summary['p99'])}, refused {summary['refused']}, "
            f"ping {cb.ms(run.ping_p50)} (floor {cb.ms(run.floor_p50)}), "
            f"exactly once: {'yes' if not run.problems else 'NO'}",
            flush=True,
        )
    return result


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members to seed into an empty database")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the demo data")
    parser.add_argument("--levels", default="1,16,64", help="concurrency levels (comma-separated)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="measured seconds per endpoint and level"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--clients", type=int, default=4, help="client processes (at most one per user)")
    parser.add_argument("--member-users", type=int, default=64, help="distinct members signed in")
    parser.add_argument("--only", default="", help="endpoints to run (comma-separated names; default all)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn processes (default: the config's, WEB_CONCURRENCY)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per process (default: the config's, GUNICORN_THREADS)"
    )
    parser.add_argument(
        "--burst-members", type=int, default=500, help="members checking in at once (0: no burst)"
    )
    parser.add_argument("--burst-concurrency", type=int, default=64, help="check-ins in flight at once")
    parser.add_argument("--burst-runs", type=int, default=3, help="bursts (medians reported)")
    parser.add_argument("--floor-pings", type=int, default=40, help="sequential pings for the burst's floor")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/6")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "load.json", help="where to write the results")
    return parser.parse_args(argv)


def server_model(args: argparse.Namespace) -> dict[str, Any]:
    """Workers and threads as the configuration file computes them (it reads the environment that
    the server inherits)."""
    if args.workers:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        os.environ["GUNICORN_THREADS"] = str(args.threads)
    conf = runpy.run_path(str(GUNICORN_CONF))
    return {
        "workers": conf["workers"],
        "threads": conf["threads"],
        "worker_class": conf["worker_class"],
        "pool_max_size": next(
            (e.split("=", 1)[1] for e in conf["raw_env"] if e.startswith("DB_POOL_MAX_SIZE=")),
            os.environ.get("DB_POOL_MAX_SIZE", "(settings default)"),
        ),
    }


def start_server(args: argparse.Namespace, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **cb.server_env(args.redis),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_LOG_LEVEL": "warning",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "-c", str(GUNICORN_CONF), "--chdir", str(ROOT), "config.wsgi"]
    log = log_path.open("wb")  # the access log too, as production writes it
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def describe_threads(model: dict[str, Any]) -> str:
    return f" ({model['threads']} threads each)" if model["threads"] > 1 else ""


def goal(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(levels: list[Level], burst: Burst | None, model: dict[str, Any], cores: int) -> dict[str, Any]:
    ping: dict[int, float] = {}
    for lv in levels:
        if lv.endpoint in ("ping", FLOOR_AGAIN):
            ping[lv.concurrency] = max(ping.get(lv.concurrency, 0.0), lv.rate)
    print()
    print(
        f"gunicorn {model['workers']} × {model['worker_class']}"
        f"{describe_threads(model)}; "
        f"load average {os.getloadavg()[0]:.1f} on {cores} cores at the end"
    )
    print()
    print(
        "| endpoint | users | requests/s | ÷ ping (the better of its two runs) | p50 | p99 | errors | "
        "server CPU/request | client CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for lv in levels:
        share = lv.rate / ping[lv.concurrency] if lv.concurrency in ping else float("nan")
        server = (lv.server_cpu["workers"] + lv.server_cpu["database"]) / max(lv.requests, 1)
        print(
            f"| {lv.endpoint} | {lv.concurrency} | {lv.rate:,.0f} | {share:.2f} | {cb.ms(lv.p50)} | "
            f"{cb.ms(lv.p99)} | {lv.errors}{f' (first: {lv.first_error})' if lv.errors else ''} | "
            f"{cb.ms(server)} | {lv.client_cpu / (lv.seconds * cores):.0%} |"
        )
    print()
    print("| goal | result | | |")
    print("|---|---|---|---|")
    errors = sum(lv.errors for lv in levels)
    goals: dict[str, bool] = {"errors": errors == GOAL_ERRORS}
    print(f"| 0 errors at every level | {errors} | 0 | {goal(errors == GOAL_ERRORS)} |")
    for lv in levels:
        if lv.endpoint.startswith("members") and lv.concurrency in ping:
            share = lv.rate / ping[lv.concurrency]
            ok = share >= GOAL_LIST_SHARE
            goals[f"{lv.endpoint}@{lv.concurrency}"] = ok
            print(
                f"| {lv.endpoint} at {lv.concurrency}: requests/s ÷ ping's | {share:.3f} | ≥ 0.333 | {goal(ok)} |"
            )
    summary: dict[str, Any] = {}
    if burst is not None and burst.runs:

        def med(key: str) -> float:
            return statistics.median(r[key] for r in burst.runs)

        once = not burst.problems
        refused = sum(r["refused"] for r in burst.runs)
        summary = {
            key: med(key) for key in ("wall", "p50", "p99", "max", "floor_p50", "ping_p50", "ping_p99")
        }
        summary.update(refused=refused, exactly_once=once, runs=burst.runs, problems=burst.problems)
        cpu = {
            kind: statistics.median(r["server_cpu_per_checkin"][kind] for r in burst.runs)
            for kind in ("workers", "database")
        }
        goals.update(
            burst_p99=summary["p99"] <= GOAL_BURST_P99,
            burst_wall=summary["wall"] <= GOAL_BURST_TOTAL,
            burst_refused=refused == 0,
            exactly_once=once,
        )
        n = burst.runs[0]["checkins"]
        print(
            f"| check-in burst ({n} members, median of {len(burst.runs)}): wall time | "
            f"{summary['wall']:.2f} s | ≤ {GOAL_BURST_TOTAL:.0f} s | {goal(goals['burst_wall'])} |"
        )
        print(
            f"| check-in p50 / p99 | {cb.ms(summary['p50'])} / {cb.ms(summary['p99'])} | "
            f"p99 ≤ {GOAL_BURST_P99:.0f} s | {goal(goals['burst_p99'])} |"
        )
        print(f"| check-ins refused, all bursts | {refused} | 0 | {goal(refused == 0)} |")
        print(
            f"| unrelated ping during the burst p50 / p99 (floor p50) | {cb.ms(summary['ping_p50'])} / "
            f"{cb.ms(summary['ping_p99'])} ({cb.ms(summary['floor_p50'])}, "
            f"{summary['ping_p50'] / summary['floor_p50']:.1f}×) | reported | |"
        )
        print(
            f"| server CPU per check-in: gunicorn + PostgreSQL | {cb.ms(cpu['workers'])} + "
            f"{cb.ms(cpu['database'])} | reported | |"
        )
        print(
            f"| one attendance row and one ledger line per member, all bursts | "
            f"{'yes' if once else 'NO'} | yes | {goal(once)} |"
        )
        for problem in burst.problems:
            print(f"  {problem}")
    return {"goals": goals, "burst": summary}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    levels_wanted = [int(x) for x in args.levels.split(",") if x.strip()]
    os.environ["REDIS_URL"] = args.redis  # sessions made here must reach the server's cache
    cb.setup_django()  # refuses anything but PostgreSQL
    model = server_model(args)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

    seed_if_empty(args.members, args.seed)
    creds = prepare_credentials(args.member_users)
    points = endpoints(creds)
    if args.only:
        names = set(args.only.split(","))
        points = [p for p in points if p.name in names]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    port = cb.free_port()
    log_path = OUT_DIR / "load_gunicorn.log"
    print(
        f"gunicorn {model['workers']} × {model['worker_class']}"
        f"{describe_threads(model)} on 127.0.0.1:{port}; "
        f"levels {levels_wanted}, {args.duration:.0f} s each (+{args.warmup:.0f} s warm-up), "
        f"{args.clients} client processes at most",
        flush=True,
    )
    from django.db import connections

    server = start_server(args, port, log_path)
    levels: list[Level] = []
    burst: Burst | None = None
    try:
        cb.wait_ready(port, creds.member_keys[0], server, log_path)
        smoke(port, points)
        connections.close_all()  # the client processes are forked from here
        # Within a level, ping first and again last: the floor is the better of the two, so that a
        # burst of other load during one ping window does not flatter the ratios.
        order = points
        if len(points) > 1 and points[0].name == "ping":
            order = [*points, Endpoint(FLOOR_AGAIN, "GET /api/v1/ping/ again", points[0].recipes)]
        for concurrency in levels_wanted:
            for point in order:
                level = measure(port, point, concurrency, args, server.pid)
                levels.append(level)
                print(
                    f"{point.name:>15} × {concurrency:>3}: {level.rate:8,.1f}/s  p50 {cb.ms(level.p50):>9}  "
                    f"p99 {cb.ms(level.p99):>9}  errors {level.errors}",
                    flush=True,
                )
        if args.burst_members:
            burst = check_in_burst(args, port, server.pid, model["workers"] * model["threads"])
    finally:
        cb.stop_server(server)
    outcome = report(levels, burst, model, cores)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "environment": {
                    "cores": cores,
                    "load_average": os.getloadavg(),
                    "python": platform.python_version(),
                    "server": model,
                    "commit": subprocess.run(
                        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
                    ).stdout.strip(),
                },
                "levels": [{**asdict(lv), "rate": lv.rate} for lv in levels],
                **outcome,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {args.json}")
    return 0 if burst is None or not burst.problems else 1


if __name__ == "__main__":
    sys.exit(main())

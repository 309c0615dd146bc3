#!/usr/bin/env python
"""Check-in burst: N members scanning one activity's QR code at once, over HTTP, against gunicorn
with several sync workers on PostgreSQL — throughput and latency of the check-ins, and meanwhile the
latency of an unrelated user's request (``GET /api/v1/ping/``) against its floor measured in the
same run. Afterwards every member must have exactly one attendance row and one ledger line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyedu_checkin_bench \\
        .venv/bin/python bench/checkin_burst.py --members 500

Setup, in this process: migrations; a demo city (``seed_demo --members 3000 --seed 2026``) when
the database holds no organisations; a new 主题党日 starting now at the smallest organisation with
enough members (its whole subtree is the roster); a user account for each of the first N members
(and a few more to warm the workers up) and an API token each (``api_token_issue``, as a tool
would: the members' sign-in is not what is measured); one more user for the pings.

Then gunicorn is started from this file's code tree (``gunicorn -w W config.wsgi``, settings
``config.settings.dev`` with ``DEBUG=0``, this process's keys, Redis for the cache) on a free port
of 127.0.0.1; the ping floor is measured (sequential pings, median); the N check-ins
(``POST /api/v1/checkin/`` with the current QR token, each with its member's token, one connection
each as phones would) are fired from a pool of ``--concurrency`` threads while one more thread pings
in a loop. A benchmark, not a test: it prints the figures and the goals and exits non-zero only
when it could not run or the exactly-once check failed.

To measure older code, check it out beside (``git worktree add /tmp/before HEAD``), copy this file
into its ``bench/`` and run it from there: the server runs the code of the tree the file is in.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
GOAL_TOTAL_SECONDS = 5.0
GOAL_P99_SECONDS = 1.0
BENCH_PREFIX = "bench_checkin_"
WARM_UP_MEMBERS = 8


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "0"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database of its own (the burst needs row locks)")
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# --- setup ------------------------------------------------------------------------------------------


@dataclass
class Setup:
    activity_id: int
    organization: str
    roster: int
    members: list[tuple[int, str]]  # (member id, API token key) of the burst
    warm_up: list[tuple[int, str]]
    ping_key: str


def prepare(args: argparse.Namespace) -> Setup:
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from partyedu.accounts.models import User
    from partyedu.accounts.services import api_token_issue
    from partyedu.demo.seed import has_data
    from partyedu.members.models import Member
    from partyedu.organizations.models import Organization
    from partyedu.study.services import activity_record

    if getattr(args, "migrate", True):  # a caller that has migrated already may say so
        call_command("migrate", verbosity=0, interactive=False)
    if not has_data():
        print(f"Seeding a demo city of {args.city:,} members (seed {args.seed}) …", flush=True)
        call_command("seed_demo", members=args.city, seed=args.seed, no_accounts=True, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    needed = args.members + WARM_UP_MEMBERS
    org = (
        Organization.objects.filter(member_count__gte=needed, is_active=True)
        .order_by("member_count", "path")
        .first()
    )
    if org is None:
        sys.exit(f"no organisation has {needed} members: seed a larger city (--city)")
    now = timezone.now()
    activity = activity_record(
        actor=None,
        data={
            "organization": org,
            "activity_type": "theme_day",
            "topic": f"扫码签到压力测试 {timezone.localtime(now):%m-%d %H:%M:%S}",
            "start": now,
            "end": now + timedelta(hours=2),
        },
    )
    chosen = list(
        activity.attendances.filter(member__is_active=True)
        .order_by("member_id")
        .values_list("member_id", flat=True)[:needed]
    )
    # One account per member that has none (all with one password hash: the sign-in is not measured).
    password = make_password(None)
    without = list(Member.objects.filter(pk__in=chosen, user__isnull=True).values_list("pk", "name"))
    User.objects.bulk_create(
        [
            User(
                username=f"{BENCH_PREFIX}{pk}",
                display_name=name[:50],
                password=password,
                password_changed_at=now,
            )
            for pk, name in without
        ],
        ignore_conflicts=True,
    )
    users = dict(
        User.objects.filter(username__in=[f"{BENCH_PREFIX}{pk}" for pk, _ in without]).values_list(
            "username", "pk"
        )
    )
    for pk, _ in without:
        Member.objects.filter(pk=pk).update(user_id=users[f"{BENCH_PREFIX}{pk}"])
    keys = {}
    for member in Member.objects.filter(pk__in=chosen).select_related("user"):
        keys[member.pk] = api_token_issue(user=member.user, name="checkin bench")[1]
    pinger, _ = User.objects.get_or_create(
        username=f"{BENCH_PREFIX}ping", defaults={"display_name": "压测旁观者", "password": password}
    )
    ping_key = api_token_issue(user=pinger, name="checkin bench")[1]
    pairs = [(pk, keys[pk]) for pk in chosen]
    return Setup(
        activity_id=activity.pk,
        organization=org.name,
        roster=activity.attendances.count(),
        members=pairs[WARM_UP_MEMBERS:],
        warm_up=pairs[:WARM_UP_MEMBERS],
        ping_key=ping_key,
    )


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(redis: str) -> dict[str, str]:
    """The environment of a production-style server on this database: the settings of ``make run``
    with ``DEBUG=0``, this process's keys (so tokens and sessions issued here are valid there), and
    Redis for the cache."""
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "REDIS_URL": redis,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def start_server(args: argparse.Namespace, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = server_env(args.redis)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
        "--timeout",
        "120",
        "config.wsgi",
    ]
    log = log_path.open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- HTTP -------------------------------------------------------------------------------------------


@dataclass
class Call:
    started: float
    seconds: float
    status: int
    body: bytes = b""


def request(port: int, method: str, path: str, key: str, payload: dict[str, Any] | None = None) -> Call:
    """One request on a connection of its own (a phone does not share one with another)."""
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        status = response.status
    except OSError as exc:
        data, status = str(exc).encode(), 0
    finally:
        connection.close()
    return Call(started, time.perf_counter() - started, status, data)


def ping(port: int, key: str) -> Call:
    return request(port, "GET", "/api/v1/ping/", key)


def wait_ready(port: int, key: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode}); see {log_path}")
        if ping(port, key).status == 200:
            return
        time.sleep(0.3)
    sys.exit(f"gunicorn did not answer within 90 s; see {log_path}")


@dataclass
class Pinger:
    port: int
    key: str
    calls: list[Call] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            self.calls.append(ping(self.port, self.key))


# --- CPU accounting ---------------------------------------------------------------------------------
# The machine may be shared: besides wall times, what the server spends per check-in in CPU (its
# gunicorn workers and the PostgreSQL backends of this database) says what it would do alone.

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def _backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def cpu_snapshot(server_pid: int) -> dict[str, dict[int, float]]:
    return {
        "workers": {pid: _cpu_of(pid) for pid in _children(server_pid)},
        "database": {pid: _cpu_of(pid) for pid in _backends()},
    }


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {kind: sum(after[kind][pid] - before[kind].get(pid, 0.0) for pid in after[kind]) for kind in after}


# --- verification -----------------------------------------------------------------------------------


def verify(activity_id: int, member_ids: list[int]) -> list[str]:
    """Problems found: members without exactly one attended row, rows without exactly one ledger
    line."""
    from django.db.models import Count

    from partyedu.learning.models import LearningHourEntry
    from partyedu.study.choices import ATTENDED_STATUSES
    from partyedu.study.models import Attendance

    problems = []
    rows = list(
        Attendance.objects.filter(activity_id=activity_id, member_id__in=member_ids).values_list(
            "pk", "member_id", "status"
        )
    )
    per_member: dict[int, int] = {}
    for _pk, member_id, _status in rows:
        per_member[member_id] = per_member.get(member_id, 0) + 1
    wrong = [pk for pk in member_ids if per_member.get(pk) != 1]
    if wrong:
        problems.append(f"{len(wrong)} members without exactly one attendance row (e.g. {wrong[:5]})")
    absent = [member_id for _pk, member_id, status in rows if status not in ATTENDED_STATUSES]
    if absent:
        problems.append(f"{len(absent)} members not checked in (e.g. {absent[:5]})")
    lines = dict(
        LearningHourEntry.objects.filter(source_type="attendance", source_id__in=[r[0] for r in rows])
        .values("source_id", "member_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    not_once = [pk for pk, _m, _s in rows if lines.get(pk) != 1]
    if not_once:
        problems.append(
            f"{len(not_once)} attendance rows without exactly one ledger line (e.g. {not_once[:5]})"
        )
    return problems


def verify_rebuild() -> int:
    from partyedu.learning.services import learning_hours_rebuild

    return learning_hours_rebuild(apply=False).differences


# --- main -------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


@dataclass
class Run:
    """One burst: its check-ins, the pings sent while check-ins were still being submitted, and the
    ping floor measured just before."""

    activity_id: int
    members: list[int]
    wall: float
    calls: list[Call]
    pings: list[Call]
    floor: list[float]
    problems: list[str]
    client_cpu: float  # CPU seconds this process (the clients) used during the burst
    server_cpu: dict[str, float]  # … and the gunicorn workers and the database's backends

    @property
    def cpu_per_checkin(self) -> dict[str, float]:
        # the pings' share is small (a few dozen against hundreds of check-ins) and left in
        return {kind: seconds / len(self.calls) for kind, seconds in self.server_cpu.items()}

    @property
    def latencies(self) -> list[float]:
        return [c.seconds for c in self.calls]

    @property
    def floor_p50(self) -> float:
        return statistics.median(self.floor)

    @property
    def ping_p50(self) -> float:
        return statistics.median([c.seconds for c in self.pings]) if self.pings else float("nan")


def burst(args: argparse.Namespace, port: int, setup: Setup, server_pid: int) -> Run:
    from partyedu.study.checkin import checkin_token
    from partyedu.study.models import Activity

    activity = Activity.objects.get(pk=setup.activity_id)
    token, _ = checkin_token(activity)
    # Every worker past its first request, on both endpoints.
    with ThreadPoolExecutor(args.workers * 2) as pool:
        list(pool.map(lambda _: ping(port, setup.ping_key), range(args.workers * 8)))
        warm = list(
            pool.map(
                lambda pair: request(port, "POST", "/api/v1/checkin/", pair[1], {"token": token}),
                setup.warm_up,
            )
        )
    if any(call.status != 200 for call in warm):
        bad = next(call for call in warm if call.status != 200)
        sys.exit(f"a warm-up check-in failed: {bad.status} {bad.body[:300]!r}")
    floor = [ping(port, setup.ping_key).seconds for _ in range(args.floor_pings)]

    token, _ = checkin_token(activity)
    submissions = list(setup.members)
    for pair in setup.members[: args.double]:
        submissions.insert(submissions.index(pair) + 1, pair)
    pinger = Pinger(port, setup.ping_key)
    ping_thread = threading.Thread(target=pinger.run, daemon=True)
    ping_thread.start()
    time.sleep(0.2)
    cpu_before = cpu_snapshot(server_pid)
    began = time.perf_counter()
    cpu_began = time.process_time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        calls = list(
            pool.map(
                lambda pair: request(port, "POST", "/api/v1/checkin/", pair[1], {"token": token}),
                submissions,
            )
        )
    ended = time.perf_counter()
    client_cpu = time.process_time() - cpu_began
    pinger.stop.set()
    ping_thread.join()
    server_cpu = cpu_used(cpu_before, cpu_snapshot(server_pid))
    # The pings that met the burst: sent before the last check-in was (after it the queue drains).
    last_sent = max(c.started for c in calls)
    pings = [c for c in pinger.calls if began <= c.started <= last_sent]
    members = [pk for pk, _ in setup.members + setup.warm_up]
    problems = verify(setup.activity_id, members)
    return Run(
        setup.activity_id, members, ended - began, calls, pings, floor, problems, client_cpu, server_cpu
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=500, help="members checking in at once")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker (above 1: gunicorn's gthread workers)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="bursts, each for a new activity (medians reported)"
    )
    parser.add_argument(
        "--city", type=int, default=3000, help="members of the demo city seeded when the database is empty"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--double", type=int, default=0, help="members among them who submit twice at once")
    parser.add_argument("--floor-pings", type=int, default=40, help="sequential pings for the floor")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the whole-ledger check at the end")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args()

    setup_django()
    setup = prepare(args)
    print(
        f"{setup.organization} (roster {setup.roster}): {len(setup.members)} members check in, "
        f"{args.concurrency} at a time, {args.workers} gunicorn workers"
        f"{f' × {args.threads} threads' if args.threads > 1 else ''}, {args.runs} runs",
        flush=True,
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = OUT_DIR / "checkin_burst_gunicorn.log"
    server = start_server(args, port, log_path)
    runs: list[Run] = []
    try:
        wait_ready(port, setup.ping_key, server, log_path)
        for number in range(args.runs):
            if number:
                setup = prepare(args)
            run = burst(args, port, setup, server.pid)
            runs.append(run)
            print(
                f"run {number + 1}: {run.wall:.2f} s, {len(run.calls) / run.wall:,.0f}/s, "
                f"p50 {ms(percentile(run.latencies, 0.5))}, p99 {ms(percentile(run.latencies, 0.99))}, "
                f"ping {ms(run.ping_p50)} (floor {ms(run.floor_p50)}), "
                f"refused {sum(c.status != 200 for c in run.calls)}, "
                f"CPU per check-in: gunicorn {ms(run.cpu_per_checkin['workers'])}, "
                f"PostgreSQL {ms(run.cpu_per_checkin['database'])}, clients {ms(run.client_cpu / len(run.calls))}; "
                f"exactly once: {'yes' if not run.problems else 'NO'}",
                flush=True,
            )
    finally:
        stop_server(server)
    differences = None if args.no_rebuild else verify_rebuild()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def goal(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    wall = med([r.wall for r in runs])
    rate = med([len(r.calls) / r.wall for r in runs])
    p50 = med([percentile(r.latencies, 0.5) for r in runs])
    p90 = med([percentile(r.latencies, 0.9) for r in runs])
    p99 = med([percentile(r.latencies, 0.99) for r in runs])
    worst = med([max(r.latencies) for r in runs])
    floor = med([r.floor_p50 for r in runs])
    ping_p50 = med([r.ping_p50 for r in runs])
    ping_p99 = med([percentile([c.seconds for c in r.pings], 0.99) for r in runs])
    refused = sum(c.status != 200 for r in runs for c in r.calls)
    cpu_web = med([r.cpu_per_checkin["workers"] for r in runs])
    cpu_db = med([r.cpu_per_checkin["database"] for r in runs])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0]
    once = all(not r.problems for r in runs)
    calls = len(runs[0].calls)

    print()
    print(f"Medians of {len(runs)} runs (load average {load:.1f} on {cores} cores at the end):")
    print()
    print("| measure | result | goal | |")
    print("|---|---|---|---|")
    print(
        f"| {calls} check-ins (POST /api/v1/checkin/), wall time | {wall:.2f} s | "
        f"≤ {GOAL_TOTAL_SECONDS:.0f} s | {goal(wall <= GOAL_TOTAL_SECONDS)} |"
    )
    print(f"| throughput | {rate:,.0f} check-ins/s | | |")
    print(f"| check-in p50 / p90 | {ms(p50)} / {ms(p90)} | | |")
    print(
        f"| check-in p99 / max | {ms(p99)} / {ms(worst)} | p99 ≤ {GOAL_P99_SECONDS:.0f} s | "
        f"{goal(p99 <= GOAL_P99_SECONDS)} |"
    )
    print(f"| refused (not 200), all runs | {refused} | 0 | {goal(not refused)} |")
    print(f"| ping floor p50 (before each burst, {args.floor_pings} sequential) | {ms(floor)} | | |")
    print(f"| ping during the burst p50 / p99 | {ms(ping_p50)} / {ms(ping_p99)} | | |")
    print(f"| ping during the burst / floor (p50) | {ping_p50 / floor:,.1f}× | | |")
    print(f"| check-in p50 / ping floor | {p50 / floor:,.1f}× | | |")
    print(f"| server CPU per check-in: gunicorn workers + PostgreSQL | {ms(cpu_web)} + {ms(cpu_db)} | | |")
    print(
        f"| CPU-bound capacity: {cores} cores ÷ CPU per check-in (the machine to itself) | "
        f"{cores / (cpu_web + cpu_db):,.0f} check-ins/s | | |"
    )
    print(
        f"| exactly one attendance row and one ledger line per member, all runs | "
        f"{'yes' if once else 'NO'} | yes | {goal(once)} |"
    )
    if differences is not None:
        print(
            f"| whole ledger and summaries vs rebuild | {differences} differences | 0 | {goal(differences == 0)} |"
        )
    for number, run in enumerate(runs, start=1):
        for problem in run.problems:
            print(f"  run {number} problem: {problem}")
        failed = [c for c in run.calls if c.status != 200]
        if failed:
            print(
                f"  run {number} first refusal: {failed[0].status} {failed[0].body[:300].decode(errors='replace')}"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "runs": [
                        {
                            "activity": r.activity_id,
                            "wall": r.wall,
                            "checkins": [(c.seconds, c.status) for c in r.calls],
                            "pings": [c.seconds for c in r.pings],
                            "floor": r.floor,
                        }
                        for r in runs
                    ],
                }
            )
        )
    return 0 if once and differences in (None, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
